"""The temp dir (contract §5): files in from variables, `out/<scope>/` back to variables."""

from __future__ import annotations

import base64
import io
import os
import random
import tarfile
from pathlib import Path

import pytest

from dirigent.errors import WorkflowError
from dirigent.functions import FunctionCaller
from dirigent.functions.tempdir import collect_outputs
from dirigent.spec.functions import FunctionFile
from dirigent.store.memory import MemoryStore
from dirigent.store.records import Scope, Variable, VariableRef
from tests.fixtures.functions.runner import RunningFunction
from tests.functions.support import OWNER, STATE, function_call, leftovers

FILES_ERROR = "direktiv.function.files"


def make_tar(entries: dict[str, bytes | None], *, gz: bool = False) -> bytes:
    """A tar archive of files (bytes) and directories (None)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def special_tar(kind: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("entry")
        if kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            info.type, info.linkname = tarfile.LNKTYPE, "other"
        elif kind == "chardev":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        elif kind == "blockdev":
            info.type = tarfile.BLKTYPE
        elif kind == "fifo":
            info.type = tarfile.FIFOTYPE
        archive.addfile(info)
    return buffer.getvalue()


def entry(key: str, **fields: str) -> FunctionFile:
    return FunctionFile.model_validate({"key": key, **fields})


async def put(store: MemoryStore, scope: Scope, key: str, data: bytes) -> None:
    await store.set_variable(VariableRef.of(scope, key, OWNER), Variable(data))


# Files in


async def test_files_are_written_from_variables_of_each_scope_and_type(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    await put(store, "instance", "plain", b"plain text")
    await put(store, "workflow", "encoded", base64.encodebytes(b"decoded \x00 bytes"))
    await put(store, "namespace", "archive", make_tar({"a.txt": b"A", "sub": None}))
    await put(store, "instance", "zipped", make_tar({"d/b.txt": b"B"}, gz=True))
    files = (
        entry("plain"),
        entry("encoded", scope="workflow", type="base64", **{"as": "decoded.bin"}),
        entry("archive", scope="namespace", type="tar"),
        entry("zipped", type="tar.gz", **{"as": "nested/unzipped"}),
        entry("missing"),
        entry("missingtar", type="tar.gz"),
    )
    answer = await caller.call(function_call(vars_function.url, files=files))
    assert answer["files"] == {
        "plain": "plain text",
        "decoded.bin": "decoded \x00 bytes",
        "archive/a.txt": "A",
        "nested/unzipped/d/b.txt": "B",
        "missing": "",
    }


async def test_extracted_archives_keep_directories(
    caller: FunctionCaller, echo: RunningFunction, store: MemoryStore
) -> None:
    await put(store, "instance", "tree", make_tar({"./top": None, "./top/empty": None}))
    await put(store, "instance", "none", b"")
    files = (entry("tree", type="tar"), entry("none", type="tar"))
    listing = (await caller.call(function_call(echo.url, files=files)))["tempdir_listing"]
    assert {"tree/top", "tree/top/empty", "none"} <= set(listing)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (make_tar({"../escape": b"x"}), "tar"),
        (make_tar({"ok/../../escape": b"x"}), "tar"),
        (make_tar({"/etc/evil": b"x"}), "tar"),
        (make_tar({"../escape": b"x"}, gz=True), "tar.gz"),
        (special_tar("symlink"), "tar"),
        (special_tar("hardlink"), "tar"),
        (special_tar("chardev"), "tar"),
        (special_tar("blockdev"), "tar"),
        (special_tar("fifo"), "tar"),
        (b"not an archive at all", "tar"),
        (b"not gzip", "tar.gz"),
        (make_tar({"a": random.Random(1).randbytes(5000)}, gz=True)[:1000], "tar.gz"),
    ],
    ids=[
        "dotdot",
        "inner-dotdot",
        "absolute",
        "gz-dotdot",
        "symlink",
        "hardlink",
        "chardev",
        "blockdev",
        "fifo",
        "not-tar",
        "not-gzip",
        "truncated",
    ],
)
async def test_malicious_or_broken_archives_fail_before_the_call(
    caller: FunctionCaller,
    echo: RunningFunction,
    store: MemoryStore,
    temp_root: Path,
    data: bytes,
    kind: str,
) -> None:
    await put(store, "instance", "bad", data)
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(echo.url, files=(entry("bad", type=kind),)))
    assert (raised.value.code, raised.value.catchable) == (FILES_ERROR, True)
    assert "'bad'" in raised.value.message
    assert os.listdir(temp_root) == []  # nothing left behind
    assert caller._http is None  # and the function was never called
    assert not (temp_root.parent / "escape").exists()


async def test_bad_base64_fails_before_the_call(
    caller: FunctionCaller, echo: RunningFunction, store: MemoryStore
) -> None:
    await put(store, "instance", "b64", b"not*base64")
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(echo.url, files=(entry("b64", type="base64"),)))
    assert raised.value.code == FILES_ERROR


@pytest.mark.parametrize("name", ["../outside", "/abs/path", "a/../../b"])
async def test_as_names_that_leave_the_temp_dir_fail(
    caller: FunctionCaller, echo: RunningFunction, name: str
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(echo.url, files=(entry("k", **{"as": name}),)))
    assert raised.value.code == FILES_ERROR


# Files out


async def test_out_files_become_variables_of_their_scope(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    out = {
        "instance/result": "instance file",
        "workflow/counter": "7",
        "namespace/report/summary.txt": "sum",
        "namespace/report/deep/detail.txt": "detail",
    }
    call = function_call(vars_function.url, {"out": out})
    await caller.call(call)

    variables = store.variables()
    assert variables[VariableRef.of("instance", "result", OWNER)] == Variable(
        b"instance file", "application/octet-stream"
    )
    assert variables[VariableRef.of("workflow", "counter", OWNER)] == Variable(
        b"7", "application/octet-stream"
    )
    report = variables[VariableRef.of("namespace", "report", OWNER)]
    assert report.mime_type == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(report.data), mode="r:gz") as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert set(members) == {"deep", "deep/detail.txt", "summary.txt"}
        assert all(m.uid == 0 and m.uname == "" for m in members.values())
        detail = archive.extractfile(members["deep/detail.txt"])
        assert detail is not None
        assert detail.read() == b"detail"


async def test_a_directory_variable_round_trips_through_files(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    await caller.call(function_call(vars_function.url, {"out": {"instance/tree/a/b.txt": "B"}}))
    files = (entry("tree", type="tar.gz"),)
    answer = await caller.call(function_call(vars_function.url, files=files))
    assert answer["files"] == {"tree/a/b.txt": "B"}


async def test_out_entries_that_are_not_variable_keys_are_skipped_with_a_log_line(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    out = {"instance/good": "g", "instance/bad.name": "b", "workflow/_under": "u"}
    call = function_call(vars_function.url, {"out": out})
    await caller.call(call)
    assert set(store.variables()) == {VariableRef.of("instance", "good", OWNER)}
    logs = store.logs(OWNER.instance_id)
    assert [e.message for e in logs] == [
        "function output out/instance/bad.name was not stored: "
        "its name is not a valid variable key",
        "function output out/workflow/_under was not stored: its name is not a valid variable key",
    ]
    assert all((e.state, e.action_id) == (STATE, call.action_id) for e in logs)


async def test_oversized_out_files_are_skipped(
    store: MemoryStore, vars_function: RunningFunction, temp_root: Path
) -> None:
    caller = FunctionCaller(store, temp_root=temp_root, max_variable=10)
    try:
        out = {
            "instance/small": "0123456789",
            "instance/large": "01234567890",
            "instance/largedir/a": "0123456789" * 100,
        }
        await caller.call(function_call(vars_function.url, {"out": out}))
    finally:
        await caller.aclose()
    assert set(store.variables()) == {VariableRef.of("instance", "small", OWNER)}
    assert [e.message for e in store.logs(OWNER.instance_id)] == [
        "function output out/instance/large was not stored: "
        "it is larger than the limit of 10 bytes",
        "function output out/instance/largedir was not stored: "
        "its archive is larger than the limit of 10 bytes",
    ]


async def test_out_files_are_stored_even_when_the_function_reports_an_error(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    value = {"out": {"instance/partial": "p"}, "error": {"code": "app.x", "message": "m"}}
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(vars_function.url, value))
    assert raised.value == WorkflowError("app.x", "m")
    assert set(store.variables()) == {VariableRef.of("instance", "partial", OWNER)}


async def test_out_links_and_special_files_are_skipped(store: MemoryStore, tmp_path: Path) -> None:
    attempt = tmp_path / "attempt"
    for scope in ("instance", "workflow", "namespace"):
        (attempt / "out" / scope).mkdir(parents=True)
    kept = attempt / "out" / "instance" / "kept"
    kept.write_bytes(b"k")
    (attempt / "out" / "instance" / "link").symlink_to(kept)
    (attempt / "out" / "instance" / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(attempt / "out" / "workflow" / "fifo")
    (attempt / "out" / "namespace" / "tree").mkdir()
    (attempt / "out" / "namespace" / "tree" / "inner").symlink_to("/etc/passwd")
    (attempt / "out" / "namespace" / "tree" / "file").write_bytes(b"f")

    await collect_outputs(
        attempt, store, owner=OWNER, state=STATE, action_id="a", max_variable=1000
    )

    variables = store.variables()
    assert set(variables) == {
        VariableRef.of("instance", "kept", OWNER),
        VariableRef.of("namespace", "tree", OWNER),
    }
    tree = variables[VariableRef.of("namespace", "tree", OWNER)].data
    with tarfile.open(fileobj=io.BytesIO(tree), mode="r:gz") as archive:
        assert archive.getnames() == ["file"]  # the link inside was left out
    assert [e.message for e in store.logs(OWNER.instance_id)] == [
        "function output out/instance/dirlink was not stored: it is a link",
        "function output out/instance/link was not stored: it is a link",
        "function output out/workflow/fifo was not stored: it is neither a file nor a directory",
    ]


async def test_links_in_place_of_out_or_its_scopes_lead_nowhere(
    store: MemoryStore, tmp_path: Path
) -> None:
    # Outside the attempt: a file the engine may read and an empty directory it may remove.
    outside = tmp_path / "outside"
    for scope in ("instance", "workflow", "namespace"):
        (outside / scope).mkdir(parents=True)
    (outside / "instance" / "secret").write_bytes(b"s")
    scope_links = tmp_path / "scope-links"
    (scope_links / "out").mkdir(parents=True)
    (scope_links / "out" / "instance").symlink_to(outside / "instance")
    (scope_links / "out" / "workflow").symlink_to(outside / "workflow")
    out_link = tmp_path / "out-link"
    out_link.mkdir()
    (out_link / "out").symlink_to(outside)

    for attempt in (scope_links, out_link):
        await collect_outputs(
            attempt, store, owner=OWNER, state=STATE, action_id="a", max_variable=1000
        )

    assert store.variables() == {}
    assert [e.message for e in store.logs(OWNER.instance_id)] == [
        "function output out/instance was not read: it is not a directory",
        "function output out/workflow was not read: it is not a directory",
        "function output out/ was not read: it is not a directory",
    ]
    assert sorted(p.name for p in outside.iterdir()) == ["instance", "namespace", "workflow"]
    assert (outside / "instance" / "secret").read_bytes() == b"s"


async def test_temp_dir_is_removed_after_success_and_failure(
    caller: FunctionCaller, vars_function: RunningFunction, temp_root: Path
) -> None:
    await caller.call(function_call(vars_function.url, {"out": {"instance/x": "1"}}))
    value = {"out": {"instance/y": "2"}, "error": {"code": "e", "message": "m"}}
    with pytest.raises(WorkflowError):
        await caller.call(function_call(vars_function.url, value))
    await caller.wait_removed()
    assert leftovers(temp_root) == []  # both dirs held an out file


@pytest.mark.parametrize(
    "files",
    [
        (entry("k", **{"as": "out"}),),  # collides with the out directory
        (entry("k", **{"as": "a"}), entry("j", **{"as": "a/b"})),  # "a" is already a file
    ],
    ids=["as-out", "file-as-directory"],
)
async def test_files_that_cannot_be_written_fail_before_the_call(
    caller: FunctionCaller, echo: RunningFunction, temp_root: Path, files: tuple[FunctionFile]
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(echo.url, files=files))
    assert (raised.value.code, raised.value.catchable) == (FILES_ERROR, True)
    assert os.listdir(temp_root) == []


async def test_a_file_member_without_a_name_is_refused(
    caller: FunctionCaller, echo: RunningFunction, store: MemoryStore
) -> None:
    await put(store, "instance", "nameless", make_tar({".": b"x"}))
    with pytest.raises(WorkflowError, match="has no name"):
        await caller.call(function_call(echo.url, files=(entry("nameless", type="tar"),)))


async def test_out_directories_the_function_removed_are_ignored(
    store: MemoryStore, tmp_path: Path
) -> None:
    (tmp_path / "out" / "namespace").mkdir(parents=True)
    (tmp_path / "out" / "namespace" / "left").write_bytes(b"l")
    await collect_outputs(tmp_path, store, owner=OWNER, state=STATE, action_id="a", max_variable=9)
    assert set(store.variables()) == {VariableRef.of("namespace", "left", OWNER)}
    await collect_outputs(
        tmp_path / "gone", store, owner=OWNER, state=STATE, action_id="a", max_variable=9
    )
    assert store.logs(OWNER.instance_id) == []


async def test_a_directory_whose_archive_is_over_the_limit_is_skipped(
    store: MemoryStore, tmp_path: Path
) -> None:
    (tmp_path / "out" / "instance" / "tree").mkdir(parents=True)
    (tmp_path / "out" / "instance" / "tree" / "small").write_bytes(b"0123456789" * 5)
    await collect_outputs(
        tmp_path, store, owner=OWNER, state=STATE, action_id="a", max_variable=100
    )
    assert store.variables() == {}
    assert [e.message for e in store.logs(OWNER.instance_id)] == [
        "function output out/instance/tree was not stored: "
        "its archive is larger than the limit of 100 bytes"
    ]

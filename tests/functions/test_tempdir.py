"""The temp dirs of a caller's attempts (contract §5): fresh for each, spares made ahead."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dirigent.functions import FunctionCaller
from dirigent.functions import tempdir as tempdirs
from dirigent.functions.tempdir import MAX_SPARES, TempDirs, collect_outputs
from dirigent.store.memory import MemoryStore
from dirigent.store.records import Variable, VariableRef
from tests.fixtures.functions.runner import RunningFunction
from tests.functions.support import (
    OWNER,
    SKELETON,
    STATE,
    exists,
    function_call,
    leftovers,
    listing,
)

#: A process left behind by a function, its working directory in the temp dir: it writes
#: `out/instance/late` (relative to that directory) when told to, and says how that went.
LATE_WRITER = """
import sys
sys.stdin.readline()
try:
    with open("out/instance/late", "w") as late:
        late.write("late")
except OSError as exc:
    print(type(exc).__name__, flush=True)
else:
    print("written", flush=True)
"""


@pytest.fixture
async def dirs(temp_root: Path) -> AsyncIterator[TempDirs]:
    made = TempDirs(temp_root)
    yield made
    await made.aclose()


async def finish(dirs: TempDirs, path: str, store: MemoryStore) -> None:
    """What the caller does after an answer: collect the outputs, hand the dir back."""
    await collect_outputs(path, store, owner=OWNER, state=STATE, action_id="a", max_variable=99)
    dirs.release(path)


async def test_each_attempt_gets_an_empty_skeleton_at_a_path_never_used_before(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    seen: list[str] = []
    for _ in range(3):
        path = dirs.take()
        assert Path(path).parent == temp_root
        assert listing(Path(path)) == SKELETON
        seen.append(path)
        await finish(dirs, path, store)
        await dirs.wait_removed()
        assert not exists(Path(path))
    assert len(set(seen)) == 3
    # The only entry left is the spare made for the next call, which no call had.
    [spare] = os.listdir(temp_root)
    assert str(temp_root / spare) not in seen
    assert leftovers(temp_root) == []


async def test_a_late_writer_with_a_descriptor_never_reaches_a_later_attempt(
    dirs: TempDirs, store: MemoryStore
) -> None:
    first = dirs.take()
    # A function that keeps its temp dir and `out/instance` open after answering.
    held = [
        os.open(first, os.O_RDONLY | os.O_DIRECTORY),
        os.open(f"{first}/out/instance", os.O_RDONLY | os.O_DIRECTORY),
    ]
    try:
        await finish(dirs, first, store)
        await dirs.wait_removed()
        second = dirs.take()  # the spare made when the first was removed
        # The writes go nowhere: the first attempt's directories are gone, not handed on.
        for fd, name in zip(held, ("out/instance/late", "late"), strict=True):
            with pytest.raises(FileNotFoundError):
                os.open(name, os.O_CREAT | os.O_WRONLY, dir_fd=fd)
        with pytest.raises(FileNotFoundError):
            os.mkdir("out", dir_fd=held[0])
        assert listing(Path(second)) == SKELETON
        await finish(dirs, second, store)
    finally:
        for fd in held:
            os.close(fd)
    assert store.variables() == {}


async def test_a_late_writer_in_the_working_directory_never_reaches_a_later_attempt(
    dirs: TempDirs, store: MemoryStore
) -> None:
    first = dirs.take()
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LATE_WRITER,
        cwd=first,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await finish(dirs, first, store)
        await dirs.wait_removed()
        second = dirs.take()
        said, _ = await writer.communicate(b"now\n")  # it writes while the second attempt runs
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
    assert said == b"FileNotFoundError\n"
    assert listing(Path(second)) == SKELETON
    await finish(dirs, second, store)
    assert store.variables() == {}


async def test_what_a_late_writer_leaves_before_the_removal_goes_with_its_dir(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    first = dirs.take()
    held = os.open(first, os.O_RDONLY | os.O_DIRECTORY)
    try:
        await collect_outputs(first, store, owner=OWNER, state=STATE, action_id="a", max_variable=9)
        # After the outputs were looked for, before the dir is removed.
        os.mkdir("out/instance", dir_fd=held)
        fd = os.open("out/instance/late", os.O_CREAT | os.O_WRONLY, dir_fd=held)
        os.close(fd)
        dirs.release(first)
        await dirs.wait_removed()
    finally:
        os.close(held)
    assert not exists(Path(first))
    second = dirs.take()
    assert listing(Path(second)) == SKELETON
    assert store.variables() == {}
    assert os.listdir(temp_root) == [os.path.basename(second)]


async def test_outputs_are_collected_and_the_next_attempt_starts_empty(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    first = dirs.take()
    fd = os.open(f"{first}/out/workflow/result", os.O_CREAT | os.O_WRONLY)
    os.write(fd, b"42")
    os.close(fd)
    await finish(dirs, first, store)
    await dirs.wait_removed()
    assert store.variables() == {
        VariableRef.of("workflow", "result", OWNER): Variable(b"42", "application/octet-stream")
    }
    assert not exists(Path(first))
    second = dirs.take()  # the spare made when the first was removed
    assert listing(Path(second)) == SKELETON
    assert os.listdir(temp_root) == [os.path.basename(second)]


async def test_spares_are_as_many_as_attempts_were_in_flight_at_most(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    paths = [dirs.take() for _ in range(3)]
    for path in paths:
        await finish(dirs, path, store)
    await dirs.wait_removed()
    spares = sorted(os.listdir(temp_root))
    assert len(spares) == 3
    assert leftovers(temp_root) == []
    assert not {str(temp_root / spare) for spare in spares} & set(paths)
    # One attempt at a time from now on: it takes a spare, its removal makes one.
    await finish(dirs, dirs.take(), store)
    await dirs.wait_removed()
    assert len(os.listdir(temp_root)) == 3


async def test_spares_are_capped(dirs: TempDirs, temp_root: Path) -> None:
    paths = [dirs.take() for _ in range(MAX_SPARES + 3)]
    for path in paths:
        dirs.release(path)
    await dirs.wait_removed()
    assert len(os.listdir(temp_root)) == MAX_SPARES
    assert leftovers(temp_root) == []


async def test_a_spare_someone_removed_is_not_handed_out(
    dirs: TempDirs, store: MemoryStore, temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await finish(dirs, dirs.take(), store)
    await dirs.wait_removed()
    monkeypatch.setattr(tempdirs, "SPARE_TRUSTED", 0.0)  # the spare is old: checked first
    shutil.rmtree(temp_root)  # e.g. a cleaner of old temp files
    path = dirs.take()
    assert listing(Path(path)) == SKELETON
    await finish(dirs, path, store)
    await dirs.wait_removed()
    assert leftovers(temp_root) == []


async def test_close_removes_the_spares_and_leaves_a_given_root_empty(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    paths = [dirs.take() for _ in range(2)]
    for path in paths:
        await finish(dirs, path, store)
    await dirs.aclose()
    assert os.listdir(temp_root) == []


async def test_a_call_that_ends_after_close_leaves_nothing_behind(
    dirs: TempDirs, store: MemoryStore, temp_root: Path
) -> None:
    path = dirs.take()
    await dirs.aclose()
    await finish(dirs, path, store)
    await dirs.wait_removed()
    assert os.listdir(temp_root) == []  # its dir is removed, and no spare is made for it


async def test_close_removes_a_root_made_on_first_use(store: MemoryStore) -> None:
    dirs = TempDirs()
    path = dirs.take()
    root = dirs.root
    assert Path(path).parent == root
    assert root.name.startswith("dirigent-")
    await finish(dirs, path, store)
    await dirs.aclose()
    assert not exists(root)


async def test_calls_after_a_call_with_outputs_get_empty_dirs(
    caller: FunctionCaller,
    vars_function: RunningFunction,
    echo: RunningFunction,
    store: MemoryStore,
    temp_root: Path,
) -> None:
    await caller.call(function_call(vars_function.url, {"out": {"instance/x": "1"}}))
    await caller.wait_removed()
    seen = await caller.call(function_call(echo.url))
    assert seen["tempdir_listing"] == SKELETON
    assert set(store.variables()) == {VariableRef.of("instance", "x", OWNER)}
    await caller.wait_removed()
    assert leftovers(temp_root) == []

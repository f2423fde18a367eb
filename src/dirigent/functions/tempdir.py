"""The temp dir of one call attempt (function-contract.md §5).

Before the call, `prepare_tempdir` makes a fresh directory, writes the function definition's
`files` into it from variables and creates `out/instance`, `out/workflow` and `out/namespace`.
After the call, `collect_outputs` turns what the function left in `out/<scope>/` into variables of
that scope: a file as it is (MIME `application/octet-stream`), a directory as a tar.gz archive
(MIME `application/gzip`). `TempDirs` gives a caller's attempts their dirs and removes them after.

Disk work runs in a worker thread unless there is nothing to read or write, which keeps the common
call (no files, no outputs) off the thread pool. That common call's temp dir is made ahead (a spare
of `TempDirs`), checked with three `rmdir`s after the answer and removed in a loop callback, with
plain `os` calls on string paths: `pathlib` and `tempfile.mkdtemp`'s random names cost more than
the system calls themselves on a memory-backed root. Each system call on the loop's thread also
lets the store's writer thread take the GIL, which the loop then waits for: the fewer a call makes
on its way, the better.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import itertools
import os
import secrets
import shutil
import stat
import tarfile
import tempfile
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from dirigent.errors import WorkflowError
from dirigent.functions.base import FILES_ERROR, VARIABLE_KEY, FunctionStore
from dirigent.store.base import VariableStore
from dirigent.store.records import InstanceRef, LogEntry, Scope, Variable, VariableRef

if TYPE_CHECKING:  # a type only: no import-time dependency on the definition models
    from dirigent.spec.functions import FunctionFile

SCOPES: tuple[Scope, ...] = ("instance", "workflow", "namespace")
#: MIME type of a variable made from a file in `out/<scope>/`.
FILE_MIME = "application/octet-stream"
#: MIME type of a variable made from a directory in `out/<scope>/` (a tar.gz archive).
DIRECTORY_MIME = "application/gzip"
#: Spares a `TempDirs` keeps at most, whatever the peak of attempts in flight.
MAX_SPARES = 64
#: Seconds a spare is handed out without checking that it is still there.
SPARE_TRUSTED = 1.0
#: A call dir is `call-<random of this process>-<counter>`: unique among processes sharing a root.
_PROCESS = secrets.token_hex(4)
_NAMES = itertools.count()


def make_temp_root() -> Path:
    """A fresh `dirigent-*` directory (in /dev/shm when usable, else the system temp dir), owner-only."""
    # Prefer memory-backed /dev/shm: five mkdirs and a removal per call cost ~0.8 ms on a disk, ~0.1 ms there.
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return Path(tempfile.mkdtemp(prefix="dirigent-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="dirigent-"))


async def prepare_tempdir(
    root: Path, files: Sequence[FunctionFile], owner: InstanceRef, store: VariableStore
) -> Path:
    """Make the temp dir of one attempt under `root`, with `files` written and `out/` made.

    A missing variable gives an empty file (an empty directory for `tar` and `tar.gz`). A file
    that cannot be written, including an archive with absolute paths, `..`, links or devices,
    raises the catchable `direktiv.function.files`; nothing is left behind then.
    """
    contents: list[tuple[FunctionFile, bytes]] = []
    for file in files:
        variable = await store.get_variable(VariableRef.of(file.scope, file.key, owner))
        contents.append((file, variable.data if variable is not None else b""))
    if not contents:
        return _make_tempdir(root, contents)
    return await asyncio.to_thread(_make_tempdir, root, contents)


async def collect_outputs(
    path: str | Path,
    store: FunctionStore,
    *,
    owner: InstanceRef,
    state: str,
    action_id: str,
    max_variable: int,
) -> None:
    """Store each entry of `path/out/<scope>/` as a variable of that scope named after it.

    Entries that cannot become variables (names that are not variable keys, links, special
    files, more than `max_variable` bytes) are skipped with an instance log line saying why.
    The empty `out/<scope>` directories are removed: an rmdir is the cheapest test of emptiness,
    and the call is over.
    """
    if not _outputs_left(path):
        return
    outputs, skipped = await asyncio.to_thread(_read_outputs, Path(path), max_variable)
    for scope, name, variable in outputs:
        await store.set_variable(VariableRef.of(scope, name, owner), variable)
    for message in skipped:
        entry = LogEntry(
            owner.instance_id, datetime.now(UTC), message, state=state, action_id=action_id
        )
        await store.append_log(entry)


class TempDirs:
    """The temp dirs of one caller's attempts, under one root (made on first use if not given).

    `take` gives an attempt without `files` a fresh empty skeleton, `prepare` one with its
    `files`, each at a path no attempt had before; `release` hands it back after the call, to be
    removed off the call's path (`wait_removed` waits for that).

    Removing a finished attempt's dir also makes a *spare* for a later `take`: the next call's
    skeleton, made while no call waits for it, so that the call itself makes no directory.
    A spare is shown to no function before it is taken, so each attempt still gets directories
    no one had before. Handing on a finished attempt's (empty) directories instead would let a
    function that keeps a descriptor or its working directory in its temp dir after answering
    write into a later attempt's, and checking them for emptiness when they are handed on cannot
    rule out a write just after the check. At most as many spares are kept as attempts were in
    flight at once, and no more than `MAX_SPARES`. Once `wait_removed` returns, the root holds
    nothing but the dirs of attempts in flight and spares (empty skeletons no call had);
    `aclose` removes the spares, and the root if it was made here.
    """

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._owns_root = root is None
        self._spares: list[tuple[str, float]] = []  # (path, `time.monotonic()` when made)
        self._in_flight = 0
        self._peak = 0
        self._released: list[str] = []
        self._sweeping: asyncio.Handle | None = None
        self._removals: set[asyncio.Future[None]] = set()

    @property
    def root(self) -> Path:
        """Where the dirs are: the root given, else a `make_temp_root` made on first use."""
        if self._root is None:
            self._root = make_temp_root()
        return self._root

    def take(self) -> str:
        """A fresh empty skeleton for one attempt without `files`; `release` it after the call."""
        path = self._take_spare() or _make_skeleton(self.root)
        self._taken()
        return path

    async def prepare(
        self, files: Sequence[FunctionFile], owner: InstanceRef, store: VariableStore
    ) -> str:
        """`prepare_tempdir` under the root; `release` the dir after the call."""
        path = await prepare_tempdir(self.root, files, owner, store)
        self._taken()
        return str(path)

    def release(self, path: str) -> None:
        """Hand back the dir of a finished attempt: it is removed soon, off the caller's path."""
        self._in_flight -= 1
        self._released.append(path)
        if self._sweeping is None:
            # One callback for all the dirs released meanwhile: cheaper than a task per call.
            self._sweeping = asyncio.get_running_loop().call_soon(self._sweep)

    async def wait_removed(self) -> None:
        """Wait until the dirs of released attempts are removed."""
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweep()
        while self._removals:
            await asyncio.wait(set(self._removals))

    async def aclose(self) -> None:
        """Remove the released dirs and the spares, and the root if it was made here."""
        await self.wait_removed()
        # No spares for a call that ends after this (it would make the root again), nor for
        # calls after it before they are in flight.
        self._peak = 0
        spares = [path for path, _ in self._spares]
        self._spares = []
        if self._owns_root and self._root is not None:
            root, self._root = self._root, None
            await asyncio.to_thread(shutil.rmtree, root, ignore_errors=True)
        elif spares:
            await asyncio.to_thread(_remove_all, spares)

    def _taken(self) -> None:
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)

    def _take_spare(self) -> str | None:
        # No system call for a spare made just now: even one costs the loop the GIL when the
        # store's thread holds it. An older one is first checked: someone may have cleaned up.
        while self._spares:
            path, made = self._spares.pop()
            if time.monotonic() - made < SPARE_TRUSTED or os.path.isdir(f"{path}/out/namespace"):
                return path
            self._released.append(path)  # whatever is left of it goes with the next sweep
        return None

    def _sweep(self) -> None:
        self._sweeping = None
        released, self._released = self._released, []
        for path in released:
            if not _remove_skeleton(path):
                removal = asyncio.get_running_loop().run_in_executor(None, _remove_tree, path)
                self._removals.add(removal)
                removal.add_done_callback(self._removals.discard)
            if len(self._spares) < min(self._peak, MAX_SPARES):
                # A full disk or a removed root: no spare, and `take` says why when it makes one.
                with contextlib.suppress(OSError):
                    self._spares.append((_make_skeleton(self.root), time.monotonic()))


def _remove_all(paths: list[str]) -> None:
    for path in paths:
        _remove_tree(path)


def _remove_tree(path: str) -> None:
    """Delete a dir and everything in it (links are not followed)."""
    if not _remove_skeleton(path):
        shutil.rmtree(path, ignore_errors=True)


def _remove_skeleton(path: str) -> bool:
    """Remove a temp dir that holds only its empty `out/` directories, without a thread.

    Most calls leave nothing behind; a few rmdir calls then cost microseconds, while a worker
    thread contends for the GIL with the event loop.
    """
    out = f"{path}/out"
    try:
        try:
            os.rmdir(out)  # the common case: `collect_outputs` removed the empty scopes
        except OSError:  # the call did not get that far, or left outputs (or a link in its place)
            directory = _open_directory(out)
            try:
                for scope in SCOPES:
                    os.rmdir(scope, dir_fd=directory)
            finally:
                os.close(directory)
            os.rmdir(out)
        os.rmdir(path)
    except OSError:
        return False
    return True


# Before the call


def _make_tempdir(root: Path, contents: list[tuple[FunctionFile, bytes]]) -> Path:
    path = Path(_make_skeleton(root))
    try:
        for file, data in contents:
            _write_file(path, file, data)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def _make_skeleton(root: Path) -> str:
    """A new owner-only dir under `root` (made if missing) with its empty `out/` directories."""
    try:
        path = _new_dir(root)
    except FileNotFoundError:  # first use, or someone removed it: make it, once
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = _new_dir(root)
    try:
        # Each mkdir costs tens of microseconds on a disk: make exactly the five directories.
        out = f"{path}/out"
        os.mkdir(out)
        for scope in SCOPES:
            os.mkdir(f"{out}/{scope}")
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def _new_dir(root: Path) -> str:
    """A new owner-only directory under `root` with a name never used before."""
    while True:
        path = f"{root}/call-{_PROCESS}-{next(_NAMES)}"
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # a forked process goes on with the same names
            continue
        return path


def _write_file(path: Path, file: FunctionFile, data: bytes) -> None:
    name = file.file_name
    target = path.joinpath(*_relative_parts(name, f"files entry {file.key!r}: `as` {name!r}"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.type == "plain":
            target.write_bytes(data)
        elif file.type == "base64":
            target.write_bytes(_decode_base64(data, file.key))
        else:
            _extract(data, target, gzipped=file.type == "tar.gz", key=file.key)
    except OSError as exc:
        raise WorkflowError(
            FILES_ERROR, f"cannot write {name!r} from variable {file.key!r}: {exc}"
        ) from None


def _relative_parts(name: str, what: str) -> tuple[str, ...]:
    """The parts of a relative path that stays inside its directory; raises otherwise."""
    if name.startswith("/"):
        raise WorkflowError(FILES_ERROR, f"{what} is an absolute path")
    parts = tuple(part for part in PurePosixPath(name).parts if part != ".")
    if ".." in parts:
        raise WorkflowError(FILES_ERROR, f"{what} leaves its directory with '..'")
    return parts


def _decode_base64(data: bytes, key: str) -> bytes:
    # Go's base64 decoder skips line breaks; nothing else outside the alphabet is accepted.
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except binascii.Error as exc:
        raise WorkflowError(FILES_ERROR, f"variable {key!r} is not base64: {exc}") from None


def _extract(data: bytes, target: Path, *, gzipped: bool, key: str) -> None:
    """Extract a tar archive into `target` after checking every member; empty data: empty dir.

    Members are written one by one rather than with `TarFile.extractall`, so only regular files
    and directories can ever be created, whatever the archive claims.
    """
    target.mkdir(parents=True, exist_ok=True)
    if not data:
        return
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz" if gzipped else "r:") as archive:
            checked = [(member, _member_parts(member, key)) for member in archive.getmembers()]
            for member, parts in checked:
                destination = target.joinpath(*parts)
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:  # pragma: no cover - regular members always have content
                    raise WorkflowError(FILES_ERROR, f"variable {key!r}: bad {member.name!r}")
                with source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                destination.chmod(0o644 | (member.mode & 0o111))
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise WorkflowError(
            FILES_ERROR, f"variable {key!r} is not a readable archive: {exc}"
        ) from None


def _member_parts(member: tarfile.TarInfo, key: str) -> tuple[str, ...]:
    what = f"variable {key!r}: archive member {member.name!r}"
    if not (member.isreg() or member.isdir()):
        kind = "a link" if member.issym() or member.islnk() else "a device or special file"
        raise WorkflowError(
            FILES_ERROR, f"{what} is {kind}; only files and directories are allowed"
        )
    parts = _relative_parts(member.name, what)
    if not parts and not member.isdir():
        raise WorkflowError(FILES_ERROR, f"{what} has no name")
    return parts


# After the call


class _Skip(Exception):
    """An out entry that cannot become a variable; the message says why."""


def _outputs_left(path: str | Path) -> bool:
    """Whether any `out/<scope>` holds something; those that are empty are removed."""
    try:
        out = _open_directory(f"{path}/out")
    except FileNotFoundError:  # the function removed it: nothing to collect
        return False
    except OSError:  # a link or a file in its place: `_read_outputs` says so
        return True
    left = False
    try:
        for scope in SCOPES:
            try:
                os.rmdir(scope, dir_fd=out)
            except FileNotFoundError:  # the function removed it: nothing to collect
                pass
            except OSError:  # not empty (or not a directory: `_read_outputs` skips it)
                left = True
    finally:
        os.close(out)
    return left


def _open_directory(name: str, dir_fd: int | None = None) -> int:
    """An fd of the directory `name`, refusing a link in its place: what is in a temp dir is the
    function's, and a link there must not lead the engine to read or remove anything outside it."""
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)


def _read_outputs(
    path: Path, max_variable: int
) -> tuple[list[tuple[Scope, str, Variable]], list[str]]:
    outputs: list[tuple[Scope, str, Variable]] = []
    skipped: list[str] = []
    try:
        out = _open_directory(str(path / "out"))
    except FileNotFoundError:
        return outputs, skipped
    except OSError:
        return outputs, ["function output out/ was not read: it is not a directory"]
    try:
        for scope in SCOPES:
            try:
                directory = _open_directory(scope, out)
            except FileNotFoundError:
                continue  # the function removed the directory: nothing to collect
            except OSError:
                skipped.append(f"function output out/{scope} was not read: it is not a directory")
                continue
            try:
                _read_scope(directory, scope, max_variable, outputs, skipped)
            finally:
                os.close(directory)
    finally:
        os.close(out)
    return outputs, skipped


def _read_scope(
    directory: int,
    scope: Scope,
    max_variable: int,
    outputs: list[tuple[Scope, str, Variable]],
    skipped: list[str],
) -> None:
    # Entries are reached through the directory's fd (Linux's /proc/self/fd), so a link put in
    # place of `out/<scope>` after it was opened changes nothing.
    base = Path(f"/proc/self/fd/{directory}")
    with os.scandir(directory) as found:
        names = sorted(entry.name for entry in found)
    for name in names:
        where = f"function output out/{scope}/{name}"
        if not VARIABLE_KEY.match(name):
            skipped.append(f"{where} was not stored: its name is not a valid variable key")
            continue
        try:
            variable = _read_entry(base / name, max_variable)
        except _Skip as skip:
            skipped.append(f"{where} was not stored: {skip}")
            continue
        except OSError as exc:
            skipped.append(f"{where} was not stored: {exc.strerror or exc}")
            continue
        outputs.append((scope, name, variable))


def _read_entry(path: Path, max_variable: int) -> Variable:
    info = path.lstat()
    if stat.S_ISREG(info.st_mode):
        return Variable(_read_file(path, max_variable), FILE_MIME)
    if stat.S_ISDIR(info.st_mode):
        return Variable(_tar_directory(path, max_variable), DIRECTORY_MIME)
    if stat.S_ISLNK(info.st_mode):
        raise _Skip("it is a link")
    raise _Skip("it is neither a file nor a directory")


def _read_file(path: Path, max_variable: int) -> bytes:
    # O_NOFOLLOW: the function could swap the file for a link after the check.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as source:
        data = source.read(max_variable + 1)
    if len(data) > max_variable:
        raise _Skip(f"it is larger than the limit of {max_variable} bytes")
    return data


def _tar_directory(path: Path, max_variable: int) -> bytes:
    """A tar.gz of the files and directories under `path`, named relative to it; no links."""
    too_large = _Skip(f"its archive is larger than the limit of {max_variable} bytes")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        for directory, dirnames, filenames in os.walk(path):
            dirnames.sort()
            base = Path(directory)
            for name in [*dirnames, *sorted(filenames)]:
                full = base / name
                mode = full.lstat().st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    continue
                member = archive.gettarinfo(str(full), arcname=full.relative_to(path).as_posix())
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                if member.isdir():
                    archive.addfile(member)
                    continue
                if member.size > max_variable:
                    raise too_large
                fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as source:
                    archive.addfile(member, source)
                if buffer.tell() > max_variable:
                    raise too_large
    if buffer.tell() > max_variable:
        raise too_large
    return buffer.getvalue()

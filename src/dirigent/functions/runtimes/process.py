"""The `process` runtime: pods are local processes, each in a network namespace of its own.

The program runs through `nsenter --net=…` in a namespace the engine made (so it has its own
`localhost:8080` and `localhost:8889`), in its own process group (so stopping a pod stops what it
started), in a cgroup with the `size` limits where one can be made, with a clean environment (the
server's own variables, which may hold its secret key, never reach functions). Outbound network comes
from `pasta` (Debian/Fedora package `passt`) when it is installed: it gives the pod the host's addresses
and routes, NATed in user space, with no way back into the host's loopback; without it pods have a
loopback only, and the runtime says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

from dirigent.functions.pods.limits import Cgroup, ResourceLimits
from dirigent.functions.pods.netns import NetworkNamespace
from dirigent.functions.pods.pod import Pod, PodSpec
from dirigent.functions.runtimes.programs import Program, ProgramMap
from dirigent.functions.sidecar import Sidecar

log = logging.getLogger("dirigent.pods")

#: Seconds a program gets to exit after SIGTERM before it is killed.
STOP_GRACE = 2.0
#: Seconds pasta gets to give a new pod its network.
PASTA_READY_SECONDS = 2.0
#: Variables passed from the server's environment to functions; nothing else is.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")

_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def function_environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a local function starts with."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


class ProcessPod(Pod):
    """A pod whose program is a local process."""

    def __init__(self, spec: PodSpec, sidecar: Sidecar, program: Program) -> None:
        super().__init__(spec, sidecar)
        self._program = program
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._cgroup: Cgroup | None = None
        self._home: Path | None = None
        self._pasta: asyncio.subprocess.Process | None = None

    async def _launch(self) -> NetworkNamespace:
        namespace = await asyncio.to_thread(NetworkNamespace.create)
        try:
            await self._connect_outside(namespace)
            self._home = Path(tempfile.mkdtemp(prefix="dirigent-pod-"))
            self._process = await asyncio.create_subprocess_exec(
                *orphan_proof(
                    "nsenter", f"--net={namespace.path_for_child()}", "--", *self._program.argv
                ),
                cwd=self._program.cwd,
                env=function_environment(self._home),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(namespace.fd,),
                start_new_session=True,
            )
        except BaseException:
            namespace.close()
            raise
        self._cgroup = limit_process(self._process.pid, self.spec.size)
        self._reader = asyncio.create_task(self._read_output(self._process))
        return namespace

    async def _wait_exit(self) -> int | None:
        if self._process is None:
            return None
        status = await self._process.wait()
        if self._reader is not None:
            await self._reader
        return status

    async def _terminate(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()

    async def _release(self) -> None:
        if self._process is not None and self._process.returncode is None:
            _signal_group(self._process.pid, signal.SIGKILL)
            await self._process.wait()
        # What the program left running in its group goes too.
        if self._process is not None:
            _signal_group(self._process.pid, signal.SIGKILL)
        if self._pasta is not None:
            with contextlib.suppress(ProcessLookupError):
                self._pasta.kill()
            await self._pasta.wait()
            self._pasta = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._home is not None:
            await asyncio.to_thread(shutil.rmtree, self._home, True)
            self._home = None

    async def _connect_outside(self, namespace: NetworkNamespace) -> None:
        pasta = shutil.which("pasta")
        if pasta is None:
            _warn_once(
                "pasta",
                "pods have no outbound network: install 'passt' (it provides pasta) to give them one",
            )
            return
        self._pasta = await asyncio.create_subprocess_exec(
            *orphan_proof(
                pasta,
                "--foreground",
                "--config-net",
                "--quiet",
                "--runas",
                str(os.getuid()),
                "--no-map-gw",  # pods must not reach the host's loopback (the API, the sidecar)
                *("-t", "none", "-u", "none", "-T", "none", "-U", "none"),
                "--netns",
                namespace.path_for_child(),
            ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(namespace.fd,),
        )
        if not await namespace.wait_interfaces(2, PASTA_READY_SECONDS):
            errors = b""
            if self._pasta.returncode is not None and self._pasta.stderr is not None:
                errors = await self._pasta.stderr.read()
            _warn_once("pasta-failed", f"pasta failed, pods have no outbound network: {errors!r}")

    async def _read_output(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None  # piped above
        while line := await process.stdout.readline():
            self.output(line.decode("utf-8", errors="replace").rstrip("\r\n"))


def limit_process(pid: int, size: str) -> Cgroup | None:
    """Put process `pid` (and what it starts) in a new cgroup with the limits of `size`; None, and
    a warning once, where no cgroup can be made."""
    cgroup = Cgroup.make(f"dirigent-{pid}", ResourceLimits.for_size(size))
    if cgroup is None:
        _warn_once("cgroup", "no cgroup can be made here: functions run without memory/CPU limits")
    else:
        cgroup.add(pid)
    return cgroup


def orphan_proof(*command: str) -> tuple[str, ...]:
    """`command`, killed by the kernel if the server dies without stopping it (`setpriv
    --pdeathsig`, util-linux), so that a crashed server leaves no pods behind."""
    setpriv = shutil.which("setpriv")
    return (setpriv, "--pdeathsig", "KILL", "--", *command) if setpriv else command


def _signal_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)


class ProcessLauncher:
    """Makes process pods for images mapped in a `ProgramMap`."""

    name = "process"

    def __init__(self, programs: ProgramMap) -> None:
        self.programs = programs

    def pod(self, spec: PodSpec, sidecar: Sidecar) -> Pod:
        return ProcessPod(spec, sidecar, self.programs.program_for(spec.image, spec.cmd))

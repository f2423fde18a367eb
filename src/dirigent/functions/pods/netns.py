"""Network namespaces for pods: each pod gets its own `localhost`, so every pod has its own 8080 and 8889.

The engine never runs a process of its own in a pod. It opens the sockets it needs *inside* the pod's
namespace: a socket belongs to the namespace it was created in, for its whole life, wherever it is used
later. Linux switches namespaces per thread, so each namespace has one thread of the engine that lives in
it (it moved there when the namespace was made or opened, and never leaves) and makes its sockets; the event
loop and every other thread stay in the host's namespace. A thread need not come back, which matters:
leaving for another namespace takes CAP_SYS_ADMIN there, and without root the host's is out of reach.

Making namespaces takes CAP_SYS_ADMIN: root, or a user namespace of one's own (`dirigent server` and
`dirigent run` re-start themselves in one when not root; see `userns`). `NamespaceUnavailable` says what is
missing when neither works.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import fcntl
import os
import socket
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from dirigent.errors import Unavailable

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


class NamespaceUnavailable(Unavailable):
    """Network namespaces cannot be made or entered here."""


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.EPERM, errno.EACCES):
            raise NamespaceUnavailable(
                f"cannot {what}: pods need network namespaces of their own, which take root or an "
                "unprivileged user namespace (enable them with sysctl kernel.unprivileged_userns_clone=1 "
                "or, on Ubuntu, kernel.apparmor_restrict_unprivileged_userns=0); otherwise use the "
                "docker runtime or reach functions at URLs with --service NAME=URL"
            )
        raise NamespaceUnavailable(f"cannot {what}: {os.strerror(code)}")


class NetworkNamespace:
    """A network namespace and the engine's thread inside it, until `close`.

    Made fresh (`create`: only a loopback interface, up) or found (`of_process`, e.g. a
    container's). The namespace itself lives on while a process is in it. `fd` refers to it, for
    child processes (`path_for_child`).
    """

    def __init__(self, enter: Callable[[], None]) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="netns")
        try:
            self.fd = self._thread.submit(_enter_and_open, enter).result()
        except BaseException:
            self._thread.shutdown(wait=False)
            raise

    @classmethod
    def create(cls) -> NetworkNamespace:
        """A new namespace with only a loopback interface, already up."""

        def enter() -> None:
            _check(_libc.unshare(CLONE_NEWNET), "create a network namespace")
            _bring_loopback_up()

        return cls(enter)

    @classmethod
    def of_process(cls, pid: int) -> NetworkNamespace:
        """The namespace process `pid` is in."""

        def enter() -> None:
            try:
                fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            except OSError as error:
                raise NamespaceUnavailable(
                    f"cannot open the network namespace of process {pid}: {error}"
                ) from None
            try:
                _check(_libc.setns(fd, CLONE_NEWNET), f"enter the network namespace of {pid}")
            finally:
                os.close(fd)

        return cls(enter)

    async def new_socket(self) -> socket.socket:
        """A new non-blocking TCP socket inside this namespace."""
        return await self._socket(_new_socket)

    async def listen(self, host: str, port: int) -> socket.socket:
        """A listening socket on `host:port` inside this namespace."""
        return await self._socket(lambda: _listen(host, port))

    async def wait_interfaces(self, count: int, seconds: float) -> bool:
        """Whether the namespace has `count` network interfaces within `seconds` (e.g. once a
        helper such as pasta has given it one besides the loopback)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(await self._run(socket.if_nameindex)) < count:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def path_for_child(self) -> str:
        """A path a child process started with `pass_fds=(self.fd,)` can enter: for `nsenter --net=`."""
        return f"/proc/self/fd/{self.fd}"

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            self._thread.shutdown(wait=False)

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def _socket(self, make: Callable[[], socket.socket]) -> socket.socket:
        """A socket made by `make` in this namespace's thread; if the caller is cancelled meanwhile,
        the socket is closed when it arrives rather than left to the garbage collector."""
        made = asyncio.get_running_loop().run_in_executor(self._thread, make)
        try:
            return await asyncio.shield(made)
        except asyncio.CancelledError:
            made.add_done_callback(_close_result)
            raise


def _close_result(made: asyncio.Future[socket.socket]) -> None:
    if not made.cancelled() and made.exception() is None:
        made.result().close()


def _enter_and_open(enter: Callable[[], None]) -> int:
    enter()
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def _new_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def _listen(host: str, port: int) -> socket.socket:
    sock = _new_socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _bring_loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))

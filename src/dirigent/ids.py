"""Random ids (action ids, instance ids) drawn from a buffer of the system's random bytes.

`secrets.token_hex` asks the kernel (`getrandom`) for every id. On the event loop's thread each of
those system calls also lets another thread (SQLite's writer) take the GIL, which then has to be won
back; reading the same kind of bytes a page at a time keeps ids exactly as unguessable for one system
call per 256 ids of 16 bytes.
"""

from __future__ import annotations

import os
import threading

_PAGE = 4096
_lock = threading.Lock()
_buffer = b""
_used = 0


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes from the operating system's CSPRNG, as hex (like `secrets.token_hex`)."""
    global _buffer, _used
    with _lock:
        if _used + nbytes > len(_buffer):
            _buffer, _used = os.urandom(max(_PAGE, nbytes)), 0
        start, _used = _used, _used + nbytes
        return _buffer[start:_used].hex()


def _forget() -> None:
    """A forked child must not hand out the ids its parent will (a process exec'd after fork has no
    buffer anyway)."""
    global _buffer, _used
    _buffer, _used = b"", 0


os.register_at_fork(after_in_child=_forget)

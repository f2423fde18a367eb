"""Random ids: unguessable bytes as hex, never repeated, also not by a forked child."""

from __future__ import annotations

import os

from dirigent.ids import random_hex


def test_ids_are_hex_of_the_asked_length_and_never_repeat() -> None:
    ids = [random_hex(16) for _ in range(5000)]  # several refills of the buffer
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == len(ids)
    assert len(random_hex(5000)) == 10000  # more than a buffer's worth at once


def test_a_forked_child_does_not_hand_out_its_parents_next_ids() -> None:
    random_hex(16)  # the parent has a buffer with ids left in it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, random_hex(16).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    childs = os.read(read, 64).decode()
    os.close(read)
    assert len(childs) == 32
    assert childs != random_hex(16)

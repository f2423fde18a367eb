"""The test-function runner that other suites reuse."""

from __future__ import annotations

import pytest

from tests.fixtures.functions.runner import NAMES, start_function


async def test_started_functions_listen_print_and_stop() -> None:
    async with start_function("slow") as slow:
        assert slow.url == f"http://127.0.0.1:{slow.port}/"
        assert slow.process.returncode is None
    assert slow.process.returncode is not None


async def test_every_test_function_starts() -> None:
    for name in NAMES:
        async with start_function(name) as function:
            assert function.output() == []  # they print nothing unless asked


async def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="no test function 'nope'"):
        async with start_function("nope"):
            pass  # pragma: no cover


async def test_a_function_that_cannot_start_is_reported_with_its_output() -> None:
    with pytest.raises(RuntimeError, match="exited at start") as raised:
        async with start_function("logger", DIRIGENT_SIDECAR_PORT="not-a-port"):
            pass  # pragma: no cover
    assert "ValueError" in str(raised.value)

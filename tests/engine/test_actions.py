"""Action, parallel and foreach states against real function processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dirigent.engine import Status
from tests.engine.harness import open_harness
from tests.fixtures.functions.runner import RunningFunction, start_function

FUNCTIONS = """
functions:
  - id: greeter
    image: direktiv/greeter:v1
  - id: echo
    type: knative-namespace
    service: echo-service
  - id: fail
    type: reusable
    image: test/fail
  - id: slow
    type: reusable
    image: test/slow
"""


@pytest.fixture
async def functions() -> AsyncIterator[dict[str, RunningFunction]]:
    async with (
        start_function("greeter") as greeter,
        start_function("echo") as echo,
        start_function("fail") as fail,
        start_function("slow") as slow,
    ):
        yield {"greeter": greeter, "echo": echo, "fail": fail, "slow": slow}


def services(running: dict[str, RunningFunction]) -> dict[str, str]:
    # By image for two of them, by service name and by function id for the others: all three ways.
    return {
        "direktiv/greeter:v1": running["greeter"].url,
        "echo-service": running["echo"].url,
        "fail": running["fail"].url,
        "test/slow": running["slow"].url,
    }


def flow(name: str, states: str) -> str:
    return f"id: {name}\n{FUNCTIONS}states:\n{states}"


GREET = flow(
    "greet",
    """
  - id: hello
    type: action
    action:
      function: greeter
      input: 'jq({name: .who})'
    transform: 'jq({said: .return.greeting})'
""",
)


async def test_action_result_is_stored_at_return(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(GREET, services=services(functions)) as h:
        instance = await h.run("greet", {"who": "Ada"})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"said": "Hello, Ada!"}


async def test_action_input_defaults_to_data_and_secrets_stay_out(
    functions: dict[str, RunningFunction],
) -> None:
    text = flow(
        "secret",
        """
  - id: call
    type: action
    action:
      function: echo
      secrets: [token]
""",
    )
    async with open_harness(text, services=services(functions), secrets={"token": "s3cr3t"}) as h:
        instance = await h.run("secret", {"a": 1})
        assert instance.status is Status.COMPLETE
        seen = instance.output["return"]
        assert seen["input"] == {"a": 1, "secrets": {"token": "s3cr3t"}}
        assert "secrets" not in {k for k in instance.output if k != "return"}
        assert "s3cr3t" not in " ".join(h.log(instance.id))
        stored = await h.store.load_instance(instance.id)
        assert stored is not None
        assert b"s3cr3t" in stored.record  # only inside .return, which the function echoed back
        assert seen["headers"]["content-type"] == "application/json"


async def test_missing_secret_is_not_catchable(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "nosecret",
        """
  - id: call
    type: action
    action:
      function: echo
      secrets: [absent]
    catch:
      - error: '*'
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("nosecret", {})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.secrets.notFound"


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("code", Status.FAILED, "fail.code"),
        ("message-only", Status.CRASHED, "direktiv.internal.error"),
        ("status500", Status.FAILED, "direktiv.function.failed"),
    ],
)
async def test_function_error_styles(
    functions: dict[str, RunningFunction], mode: str, status: Status, code: str
) -> None:
    text = flow(
        "styles",
        """
  - id: call
    type: action
    action:
      function: fail
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("styles", {"mode": mode})
        assert instance.status is status
        assert instance.error is not None
        assert (
            instance.error.code.startswith(code) if mode == "code" else instance.error.code == code
        )

"""The states an instance went through, read from its log and record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dirigent.engine import Instance
from dirigent.engine.instance import Status
from dirigent.errors import WorkflowError
from dirigent.store.records import LogEntry
from dirigent.ui.visits import Data, instance_visits

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ID = "ns/wf/abc"


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def line(ms: int, message: str, state: str | None, action: str | None = None) -> LogEntry:
    return LogEntry(ID, at(ms), message, state=state, action_id=action)


def instance(**changes: object) -> Instance:
    record = Instance(
        id=ID,
        namespace="ns",
        workflow="wf",
        revision=0,
        input={"a": 1},
        data={"a": 1, "now": True},
        created_at=T0,
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


LOG = [
    line(1, "entering state 'first' (noop)", "first"),
    line(1, "entering state 'call' (action)", "call"),
    line(5, "from the function", "call", "aid1"),
    line(9, "caught fn.err: it broke", "call"),
    line(9, "entering state 'call' (action)", "call"),
    line(30, "entering state 'done' (noop)", "done"),
]


def test_visits_follow_the_entering_lines_with_their_times() -> None:
    visits = instance_visits(instance(state="done", status=Status.COMPLETE, ended_at=at(31)), LOG)
    assert [(v.state, v.type) for v in visits] == [
        ("first", "noop"),
        ("call", "action"),
        ("call", "action"),
        ("done", "noop"),
    ]
    assert [v.entered_at for v in visits] == [at(1), at(1), at(9), at(30)]
    assert [v.left_at for v in visits] == [at(1), at(9), at(30), at(31)]
    assert [v.lines for v in visits] == [[0], [1, 2, 3], [4], [5]]


def test_a_caught_error_belongs_to_its_visit() -> None:
    visits = instance_visits(instance(state="done", status=Status.COMPLETE, ended_at=at(31)), LOG)
    caught = visits[1]
    assert caught.caught
    assert caught.error == WorkflowError("fn.err", "it broke")
    assert visits[2].error is None


def test_the_first_input_and_the_final_output_are_known() -> None:
    ended = instance(state="done", status=Status.COMPLETE, ended_at=at(31), output={"out": 2})
    visits = instance_visits(ended, LOG)
    assert visits[0].input == Data({"a": 1})
    assert visits[-1].output == Data({"out": 2})
    assert all(v.input is None for v in visits[1:])
    assert all(v.output is None for v in visits[:-1])


def test_inputs_kept_in_the_entering_lines_give_every_visits_input_and_output() -> None:
    def entering(ms: int, state: str, data: str | None) -> LogEntry:
        extra = {"input": data} if data is not None else {}
        return LogEntry(ID, at(ms), f"entering state '{state}' (noop)", state=state, extra=extra)

    log = [entering(1, "a", '{"n":1}'), entering(2, "b", '{"n":2}'), entering(3, "c", None)]
    ended = instance(state="c", status=Status.COMPLETE, ended_at=at(4), output={"n": 3})
    visits = instance_visits(ended, log)
    assert [v.input for v in visits] == [Data({"n": 1}), Data({"n": 2}), None]
    # A state's output is the next state's input; an input too large to keep is unknown.
    assert [v.output for v in visits] == [Data({"n": 2}), None, Data({"n": 3})]


def test_the_current_visit_of_a_running_instance_has_the_data_now() -> None:
    running = instance(state="call")
    visits = instance_visits(running, LOG[:5])
    assert visits[-1].state == "call"
    assert visits[-1].left_at is None
    assert visits[-1].input == Data({"a": 1, "now": True})
    assert visits[-1].output is None


def test_the_error_an_instance_ended_with_is_on_its_last_visit() -> None:
    error = WorkflowError("direktiv.cancels.api", "cancelled")
    cancelled = instance(
        state="call", status=Status.CANCELLED, ended_at=at(12), error=error, output={"a": 1}
    )
    visits = instance_visits(cancelled, LOG[:5])
    assert visits[-1].error == error
    assert not visits[-1].caught
    assert visits[-1].left_at == at(12)


def test_late_function_lines_go_to_their_states_latest_visit() -> None:
    log = [*LOG, line(35, "late line", "call", "aid2"), line(36, "no state", None)]
    visits = instance_visits(instance(state="done", status=Status.COMPLETE, ended_at=at(40)), log)
    assert visits[2].lines == [4, 6]  # the second visit of `call`
    assert visits[3].lines == [5, 7]  # a line of no state goes to the visit of the moment


def test_a_log_ahead_of_the_record_leaves_the_last_visit_unknown() -> None:
    # The record says `call` still runs; the log already holds the step into `done`.
    visits = instance_visits(instance(state="call"), LOG)
    assert visits[-1].state == "done"
    assert visits[-1].input is None
    assert visits[-1].left_at is None


def test_the_end_is_never_before_the_last_entry() -> None:
    ended = instance(state="done", status=Status.COMPLETE, ended_at=at(29))
    assert instance_visits(ended, LOG)[-1].left_at == at(30)


def test_no_log_no_visits() -> None:
    assert instance_visits(instance(), []) == []
    other = [line(1, "entering state 'x' (noop)", "y")]  # not attributed to x: not an entry
    assert instance_visits(instance(), other) == []

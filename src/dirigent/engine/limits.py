"""Engine settings that bound instances: depths, default timeouts, the platform's function time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 5
    #: Default `timeout` of action, parallel, foreach and the event-waiting states.
    state_timeout: timedelta = timedelta(minutes=15)
    #: The platform's maximum function time, separate from workflow timeouts (the seed's "pull the plug").
    max_function_time: timedelta = timedelta(minutes=15)
    interrupt: timedelta = timedelta(minutes=15)
    #: Kill after `interrupt` + this grace unless the workflow sets `timeouts.kill`.
    kill_grace: timedelta = timedelta(minutes=5)
    retry_delay: timedelta = timedelta(seconds=5)
    #: The largest state input kept in the log line of the state's entry (for the UI); 0: none.
    logged_input_bytes: int = 64 * 1024
    #: States entered in one go without waiting for anything before the engine yields to others.
    states_per_turn: int = 1000

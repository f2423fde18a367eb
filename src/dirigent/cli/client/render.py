"""How client commands show answers: tables for people, JSON for scripts, errors, progress, log lines.

Results go to stdout: tables without borders (one row a line, columns padded: easy to read and to
`grep`), JSON, or a one-line confirmation (`created namespace demo`). Progress, hints and errors go
to stderr, so that stdout holds only the result.

rich is imported where it draws, not here: the server process imports every command (and so this
module) and would keep rich's 2 MB for nothing.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dirigent.types import JSON

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text


class Output(enum.StrEnum):
    """`--output`: `table` for people, `json` for scripts."""

    TABLE = "table"
    JSON = "json"


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal: never wrap rows, so that each row stays on one line for grep and scripts.
    width = None if stream.isatty() else 100_000
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(value: JSON) -> None:
    """Indented JSON on stdout (key order kept as the server sent it)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(value: JSON) -> None:
    """Compact JSON, one value a line (for streams: logs)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str) -> None:
    """A borderless table; `empty` on stderr when there are no rows."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=True)
    count = 0
    for row in rows:
        table.add_row(*row)
        count += 1
    if count == 0:
        note(empty)
        return
    _console().print(table)


def print_fields(fields: Iterable[tuple[str, str]]) -> None:
    """`name: value` lines, names aligned; values may have several lines."""
    pairs = list(fields)
    width = max((len(name) for name, _ in pairs), default=0) + 1
    for name, value in pairs:
        lines = value.splitlines() or [""]
        sys.stdout.write(f"{name + ':':<{width}} {lines[0]}\n")
        for line in lines[1:]:
            sys.stdout.write(f"{'':<{width}} {line}\n")
    sys.stdout.flush()


def done(message: str) -> None:
    """A confirmation on stdout, for commands whose result is just that they worked."""
    print(message, flush=True)


def note(message: str) -> None:
    """A hint for people on stderr ("no workflows in namespace default")."""
    print(message, file=sys.stderr, flush=True)


def print_error(message: str) -> None:
    """`error: <message>` on stderr (later lines of a long message indented under the first)."""
    lines = message.splitlines() or [""]
    print(f"error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line}", file=sys.stderr)
    sys.stderr.flush()


def timestamp(value: JSON) -> datetime | None:
    """A 2021 API time (`{"seconds", "nanos"}`, seconds possibly as a string) or an ISO text."""
    if isinstance(value, dict) and "seconds" in value:
        try:
            seconds = int(value["seconds"]) + int(value.get("nanos") or 0) / 1e9
        except (TypeError, ValueError):
            return None
        return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def when(value: JSON) -> str:
    """A time in the local zone, to the second; "-" when unknown."""
    moment = timestamp(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def took(begin: JSON, end: JSON) -> str:
    """The time between two API times, `1.234s` or `2m03s`; "-" unless both are known."""
    start, stop = timestamp(begin), timestamp(end)
    if start is None or stop is None:
        return "-"
    return seconds((stop - start).total_seconds())


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.3f}s" if value < 10 else f"{value:.1f}s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes}m{rest:02d}s"


def decode_data(value: JSON) -> bytes:
    """A base64 byte field of the API (instance input/output, workflow YAML) as bytes."""
    if not isinstance(value, str):
        return b"" if value is None else json.dumps(value).encode()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode()


def show_data(raw: bytes) -> str:
    """Instance data for people: indented JSON when it is JSON, else the text."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw.decode("utf-8", "replace")


def print_log_entry(entry: JSON) -> None:
    """One log line on stdout: `HH:MM:SS.mmm [state] message` (the state when the entry has one)."""
    if not isinstance(entry, dict):
        print(str(entry), flush=True)
        return
    moment = timestamp(entry.get("timestamp", entry.get("time", entry.get("t"))))
    stamp = moment.astimezone().strftime("%H:%M:%S.%f")[:-3] if moment else "--:--:--.---"
    message = str(entry.get("message", entry.get("msg", "")))
    context = entry.get("context")
    state = entry.get("state") or (context.get("state") if isinstance(context, dict) else None)
    prefix = f"{stamp} [{state}] " if state else f"{stamp} "
    lines = message.splitlines() or [""]
    print(prefix + lines[0])
    for line in lines[1:]:
        print(" " * len(prefix) + line)
    sys.stdout.flush()


class Progress:
    """A live progress line on stderr while waiting for an instance.

    On a terminal: one spinner line redrawn in place. Elsewhere (CI logs, tests): one line each time
    the status or the state changes, so that logs show the path without flooding them."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.started = time.monotonic()
        self._console = _console(stderr=True)
        self._live = sys.stderr.isatty()
        self._status: Status | None = None
        self._last: tuple[str, str] | None = None

    def __enter__(self) -> Progress:
        if self._live:
            self._status = self._console.status(self._text("starting", ""))
            self._status.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()
            if self._last is not None:  # leave the last state of the line on the screen
                self._console.print(self._text(*self._last))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, status: str, state: str) -> None:
        """The instance is in `status` (pending, …) at `state` ("" when unknown)."""
        if self._status is not None:
            self._status.update(self._text(status, state))
        elif (status, state) != self._last:
            self._console.print(self._text(status, state))
        self._last = (status, state)

    def refresh(self) -> None:
        """Redraw the elapsed time (terminals only)."""
        if self._status is not None and self._last is not None:
            self._status.update(self._text(*self._last))

    def _text(self, status: str, state: str) -> Text:
        from rich.text import Text

        where = f", state {state}" if state else ""
        return Text(f"{self.instance_id}: {status}{where} ({seconds(self.elapsed())})")


def row(*values: Any) -> list[str]:
    """Table cells from values: None as "-", everything else as text."""
    return ["-" if value is None or value == "" else str(value) for value in values]

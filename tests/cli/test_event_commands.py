"""`dirigent event send|list` and the next runs of `dirigent workflow get`, against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dirigent.cli.main import app
from tests.api.support import RunningServer, push, start_server

WAITER = """\
id: on-ping
start:
  type: event
  event: {type: ping, filters: {region: "eu-*"}}
states:
  - id: only
    type: noop
"""

TICKER = """\
id: hourly
start:
  type: scheduled
  cron: "@hourly"
states:
  - id: only
    type: noop
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("events-cli"))
    try:
        with httpx.Client(base_url=running.url) as client:
            push(client, "default", WAITER)
            push(client, "default", TICKER)
        yield running
    finally:
        running.stop()


def dirigent(server: RunningServer, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--server", server.url], input=stdin)
    return result.exit_code, result.output


def test_send_builds_an_event_and_says_what_it_did(server: RunningServer) -> None:
    code, out = dirigent(
        server, "event", "send", "--type", "ping", "--id", "cli-1", "--ext", "region=eu-1"
    )
    assert code == 0, out
    assert "sent event cli-1 (ping): reached 1; started 1" in out
    assert "started default/on-ping/" in out
    code, out = dirigent(
        server, "event", "send", "--type", "ping", "--id", "cli-1", "--ext", "region=eu-1"
    )
    assert code == 0, out
    assert "a duplicate" in out


def test_send_a_file_or_stdin_as_json(server: RunningServer, tmp_path: Path) -> None:
    events = [
        {"specversion": "1.0", "id": "f1", "source": "file", "type": "ping", "region": "eu-2"},
        {"specversion": "1.0", "id": "f2", "source": "file", "type": "other"},
    ]
    file = tmp_path / "events.json"
    file.write_text(json.dumps(events))
    code, out = dirigent(server, "event", "send", str(file), "-o", "json")
    assert code == 0, out
    receipts = json.loads(out)
    assert [(r["id"], len(r["started"])) for r in receipts] == [("f1", 1), ("f2", 0)]
    code, out = dirigent(server, "event", "send", "-", stdin=json.dumps({**events[1], "id": "s1"}))
    assert code == 0, out
    assert "sent event s1 (other): reached 0; started 0" in out


def test_bad_events_and_usage_are_errors(server: RunningServer, tmp_path: Path) -> None:
    code, out = dirigent(server, "event", "send")
    assert code == 1
    assert "give either FILE or --type" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"specversion": "1.0", "id": "x", "type": "t"}))
    code, out = dirigent(server, "event", "send", str(bad))
    assert code == 1
    assert "error: source: a CloudEvent needs" in out
    bad.write_text("{not json")
    code, out = dirigent(server, "event", "send", str(bad))
    assert code == 1
    assert "not JSON" in out


def test_list_shows_the_events_received(server: RunningServer) -> None:
    dirigent(server, "event", "send", "--type", "listed", "--id", "l-1", "--data", "hello")
    code, out = dirigent(server, "event", "list", "--limit", "5")
    assert code == 0, out
    assert "listed" in out
    assert "l-1" in out
    code, out = dirigent(server, "event", "list", "-o", "json")
    found = next(e for e in json.loads(out) if e["id"] == "l-1")
    assert found["event"]["datacontenttype"] == "text/plain"
    assert found["event"]["data"] == "hello"


def test_workflow_get_shows_next_runs(server: RunningServer) -> None:
    code, out = dirigent(server, "workflow", "get", "hourly")
    assert code == 0, out
    (line,) = [line for line in out.splitlines() if "next runs" in line]
    assert line.count(":00:00") == 5  # five hourly ticks
    code, out = dirigent(server, "workflow", "get", "on-ping")
    (line,) = [line for line in out.splitlines() if "next runs" in line]
    assert line.split()[-1] == "-"

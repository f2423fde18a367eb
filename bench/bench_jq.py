"""Micro-benchmark of jq templates: `.venv/bin/python bench/bench_jq.py [--runs N]`.

Prints p50 and p99 in microseconds, per call, for a raw libjq run and for `Template.evaluate` on
a few template shapes, on small instance data and on medium data (a 50-element list), and the time
to compile a template whose query is not cached yet. No assertions: numbers to compare, not tests.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable

import jq
import orjson

from dirigent.jq import Template
from timing import measure

SMALL = {"a": 1, "user": {"name": "Ada", "roles": ["admin", "dev"]}, "count": 3, "ok": True}
MEDIUM = {
    **SMALL,
    "items": [
        {"id": i, "name": f"item-{i}", "tags": ["x", "y"], "price": i * 1.5} for i in range(50)
    ],
}


def report(name: str, call: Callable[[], object], runs: int) -> None:
    p50, p99 = measure(call, runs, unit=1e3)
    print(f"{name:<52} {p50:>9.2f} {p99:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20_000, help="timed calls per line")
    runs = parser.parse_args().runs

    raw = jq.compile(".a")
    exact = Template.compile("jq(.a)")
    three = Template.compile({"id": "jq(.a)", "who": "jq(.user.name)", "n": "jq(.count)", "k": 1})
    text = Template.compile("user jq(.user.name) has roles jq(.user.roles) (count jq(.count))")
    static = Template.compile({"kind": "static", "list": [1, 2, 3], "nested": {"a": "b"}})

    print(f"{'µs per call':<52} {'p50':>9} {'p99':>9}")
    for label, data in (("small", SMALL), ("medium", MEDIUM)):
        report(
            f"[{label}] raw libjq .a, input_value", lambda d=data: raw.input_value(d).all(), runs
        )
        report(
            f"[{label}] raw libjq .a, input_text(orjson)",
            lambda d=data: raw.input_text(orjson.dumps(d).decode()).all(),
            runs,
        )
        report(f"[{label}] Template jq(.a)", lambda d=data: exact.evaluate(d), runs)
        report(f"[{label}] Template map with 3 jq values", lambda d=data: three.evaluate(d), runs)
        report(
            f"[{label}] Template interpolated string (3 jq)", lambda d=data: text.evaluate(d), runs
        )
        report(f"[{label}] Template static map (copy)", lambda d=data: static.evaluate(d), runs)

    fresh = itertools.count()
    report(
        "Template.compile, new query (libjq compile)",
        lambda: Template.compile(f"jq(.a + {next(fresh)})"),
        max(runs // 20, 200),
    )
    report("Template.compile, cached query", lambda: Template.compile("jq(.a)"), runs)


if __name__ == "__main__":
    main()

"""Summarise a py-spy profile of a benchmark: where the engine's time goes.

    py-spy record --rate 1000 --format raw -o stacks.txt -- .venv/bin/python -m bench run --only action --store sqlite
    .venv/bin/python -m bench.profile stacks.txt [--top 25]

Reads py-spy's raw (collapsed) stacks and keeps the engine's: stacks with a frame of Dirigent's code
(`dirigent/`), none of the floor's (`bench/floor.py`), no import and no loading of a definition, in any thread (SQLite's writer
thread included). Prints, as shares of those samples, the functions by inclusive time (the function and what
it calls) and by self time (the innermost frame), and the share of the libraries the time ends in.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: `function (path:line)` or `function (path)`, as py-spy writes a frame.
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>[^():]+)(?::\d+)?\)$")
#: Where a frame's file is, to name its part: the first of these found in its path.
_PARTS = (
    ("dirigent/", "dirigent"),
    ("/jq/", "jq"),
    ("sqlite3", "sqlite3"),
    ("sqlalchemy", "sqlalchemy"),
    ("asyncpg", "asyncpg"),
    ("aiohttp", "aiohttp"),
    ("asyncio", "asyncio"),
    ("uvloop", "uvloop"),
    ("pydantic", "pydantic"),
)


#: Stacks that are not the engine at work: the floor's, modules being imported, definitions loaded.
_NOT_ENGINE = ("bench/floor.py", "<frozen importlib", "dirigent/spec/loader.py")


def frame_name(frame: str) -> tuple[str, str]:
    """(`function (short path)`, part) of one py-spy frame."""
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip(), "other"
    path = found["path"]
    short = path.split("site-packages/")[-1].split("/src/")[-1]
    part = next((name for marker, name in _PARTS if marker in path), "other")
    if part == "dirigent":
        part = "dirigent." + short.split("/")[1] if short.count("/") > 1 else "dirigent"
    return f"{found['function']} ({short})", part


def summarise(lines: list[str], top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("dirigent/" in f for f in frames) or any(
            marker in f for f in frames for marker in _NOT_ENGINE
        ):
            continue
        n = int(count)
        total += n
        names = [frame_name(f) for f in frames if "(" in f]
        for name in {name for name, part in names if part.startswith("dirigent")}:
            inclusive[name] += n
        if names:
            leaf, part = names[-1]
            own[leaf] += n
            parts[part] += n
    if not total:
        return "no samples of the engine in this profile"
    out = [
        f"{total} samples of the engine",
        "",
        "inclusive, Dirigent's functions (with what they call):",
    ]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    out += ["", "self (the innermost frame):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    out += ["", "self time by part:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in parts.most_common()]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("stacks", type=Path, help="py-spy's output with --format raw")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    try:
        lines = args.stacks.read_text().splitlines()
    except OSError as error:
        parser.exit(1, f"error: cannot read {args.stacks}: {error.strerror}\n")
    print(summarise(lines, args.top))


if __name__ == "__main__":
    main()

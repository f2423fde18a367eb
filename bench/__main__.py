"""`python -m bench run|peers`: the benchmarks of docs/benchmarks.md (run from the repository root)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvloop
from rich.console import Console

from bench.context import BenchError
from bench.databases import KINDS
from bench.processes import ProcessFailed
from bench.run import GROUPS, Options, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "every figure of Dirigent and its floor (see docs/benchmarks.md)"),
        ("peers", "the same 3-step workflow on Dirigent, DBOS and Restate"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--quick", action="store_true", help="small counts: a smoke run")
        command.add_argument(
            "--store",
            action="append",
            choices=KINDS,
            help="database to measure on (repeatable; default: sqlite and postgres)",
        )
        command.add_argument(
            "--out", type=Path, help="write the JSON here (default: bench/results/)"
        )
        if name == "run":
            command.add_argument(
                "--only",
                action="append",
                choices=sorted(GROUPS),
                help="run only this group of figures (repeatable)",
            )
    return parser


def main() -> None:
    args = _parser().parse_args()
    console = Console()
    if not console.is_terminal:
        console.width = 160  # a file or a pipe: no need to fold the table
    stores = tuple(args.store or ("sqlite", "postgres"))
    try:
        if args.command == "run":
            groups = tuple(name for name in GROUPS if name in (args.only or GROUPS))
            uvloop.run(run(Options(stores, groups, args.quick, args.out), console))
        else:
            from bench.peers.run import PeerOptions, run_peers

            uvloop.run(run_peers(PeerOptions(stores, args.quick, args.out), console))
    except (BenchError, ProcessFailed) as error:
        console.print(f"[red]error:[/red] {error}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

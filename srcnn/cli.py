"""``srcnn``: the command line of the succinct-rcnn verification suite.

Each subcommand lives in its own module (``srcnn/<name>_cmd.py``) with ``add_parser(sub)``;
this file only assembles them and runs one. Every subcommand reports bad input as one line
``srcnn <cmd>: error: ...`` on stderr with exit code 2; no traceback reaches the user for
input errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from srcnn.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Parser, UsageError

__all__ = ["EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


# --------------------------------------------------------------------------- verify
def cmd_verify(args: argparse.Namespace) -> int:
    from proofs_check.runner import run_checks
    from sweeps import SweepError

    try:
        return run_checks(
            mode="thorough" if args.thorough else "quick",
            json_path=args.json, markdown_path=args.markdown, seed=args.seed,
            scheduler=args.scheduler, workers=args.workers,
        )
    except SweepError as e:
        raise UsageError(str(e)) from None


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="run every executable check of the paper's claims and report",
        description="Run the checks in proofs_check/, print a table, exit 0 iff all pass.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the fast profile (default)")
    mode.add_argument("--thorough", action="store_true", help="more examples, longer runs")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="write a Markdown report here")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="--thorough: run the checks on this Dask scheduler (docs/sweeps.md)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="--thorough: processes of the embedded Dask cluster (default: cores)")
    p.set_defaults(func=cmd_verify)


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="srcnn",
        description=(
            "Verification suite for 'Recurrent Convolutional Neural Networks Learn Succinct "
            "Learning Algorithms' (Goel, Kakade, Kalai, Zhang, NeurIPS 2022): hand-compiled "
            "RCNNs checked exactly against reference simulators."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    from srcnn import (
        certify_cmd,
        circuit_cmd,
        compile_cmd,
        explain_cmd,
        figures_cmd,
        learn_cmd,
        simulate_cmd,
        sweep_cmd,
    )

    simulate_cmd.add_parser(sub)
    compile_cmd.add_parser(sub)
    _add_verify(sub)
    for module in (circuit_cmd, learn_cmd, figures_cmd, sweep_cmd, certify_cmd):
        module.add_parser(sub)
    explain_cmd.add_parser(sub)
    return parser


def _machine_strings_last(argv: list[str]) -> list[str]:
    """Move tokens starting with ``---`` (bbchallenge strings whose first transition is
    undefined; never an option) behind ``--`` so argparse reads them as positionals."""
    if "--" in argv:
        return argv
    dashed = [a for a in argv if a.startswith("---")]
    if not dashed:
        return argv
    return [a for a in argv if not a.startswith("---")] + ["--", *dashed]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_machine_strings_last(list(sys.argv[1:] if argv is None else argv)))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        print(f"srcnn {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"srcnn {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`srcnn explain bb2 | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""``srcnn figures``: regenerate the figures (PDF + PNG, data and provenance sidecars).

    srcnn figures [--quick | --full] [--out DIR] [--seed N] [--only NAME ...]

Progress goes to stderr; the written paths are printed to stdout, one a line. Bad input is
one line ``srcnn figures: error: ...`` on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulators.inputs import printable, shown
from srcnn.common import EXIT_OK, UsageError, output_dir

DEFAULT_OUT = Path("figures/out")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``figures`` on the ``srcnn`` subcommand parsers."""
    from figures.build import FIGURES

    p = subparsers.add_parser(
        "figures",
        help="regenerate the figures (architecture, space-time, parameters, precision)",
        description=(
            "Compute the results behind each figure, write them (JSON/CSV) with a provenance "
            "sidecar (seed, parameters, package versions), then draw every figure as a vector "
            f"PDF and a PNG. Figures: {', '.join(FIGURES)}."
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="smaller sweeps, about half a minute (default)")
    mode.add_argument("--full", action="store_true",
                      help="larger sweeps (precision to s = 64, bigger built modules)")
    p.add_argument("--out", type=output_dir, default=DEFAULT_OUT, metavar="DIR",
                   help=f"output directory, created if missing (default {DEFAULT_OUT}; "
                        "checked writable before any figure is computed)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help=f"build only these figures ({', '.join(FIGURES)})")
    p.set_defaults(func=run)
    return p


def _progress(line: str) -> None:
    print(f"srcnn figures: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``srcnn figures``; returns 0; bad input raises :class:`UsageError` (exit 2)."""
    from figures.build import FIGURES, build_all

    only = args.only
    if only is not None:
        unknown = [n.removeprefix("fig_") for n in only
                   if n.removeprefix("fig_") not in FIGURES]
        if unknown:
            raise UsageError(f"unknown figure {shown(unknown[0])}; choose from "
                             f"{', '.join(FIGURES)}")
        only = [n.removeprefix("fig_") for n in only]
    try:
        paths = build_all(args.out, quick=not args.full, seed=args.seed, only=only,
                          progress=_progress)
    except OSError as e:  # the directory was checked; a full disk or a race still lands here
        raise UsageError(f"cannot write to {printable(str(args.out))}: "
                         f"{e.strerror or e}") from None
    for path in paths:
        print(printable(str(path)))
    return EXIT_OK

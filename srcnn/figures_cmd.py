"""``srcnn figures``: regenerate the figures (PDF + PNG, data and provenance sidecars).

    srcnn figures [--quick | --full] [--out DIR] [--seed N] [--only NAME ...] [--train CSV]

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
QUICK_MINUTES = 5
"""Wall time of ``srcnn figures --quick`` (all figures, nothing saved to reuse) on an idle
2-core machine; on one shared with other jobs (load 7-12) it took 14.4 minutes."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``figures`` on the ``srcnn`` subcommand parsers."""
    from figures.build import FIGURES, SLOW_FIGURES, TAKES_TRAIN

    p = subparsers.add_parser(
        "figures",
        help=f"regenerate the {len(FIGURES)} figures ({', '.join(FIGURES)})",
        description=(
            "Compute the results behind each figure, write them (JSON/CSV) with a provenance "
            "sidecar (caption, seed, parameters, package versions), then draw every figure as "
            f"a vector PDF and a PNG. Figures: {', '.join(FIGURES)}."
        ),
        epilog=(
            f"Saved results: {', '.join(SLOW_FIGURES)} train networks by SGD (minutes each). "
            "They reuse saved results made with the same settings and seed, looked for in "
            "DIR/<name>/, then <repository>/results/<name>/, then ./results/<name>/ (where "
            "`python -m training.<name> --out results/<name>` writes them); otherwise they "
            "train again."
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help=f"smaller sweeps (default): all {len(FIGURES)} figures take about "
                           f"{QUICK_MINUTES} minutes on an idle 2-core machine (longer when "
                           f"it is shared), most of it training the SGD experiments "
                           f"({', '.join(SLOW_FIGURES)}); the others take seconds")
    mode.add_argument("--full", action="store_true",
                      help="larger sweeps (precision to s = 64, bigger built modules)")
    p.add_argument("--out", type=output_dir, default=DEFAULT_OUT, metavar="DIR",
                   help=f"output directory, created if missing (default {DEFAULT_OUT}; "
                        "checked writable before any figure is computed)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help=f"build only these figures ({', '.join(FIGURES)})")
    p.add_argument("--train", type=Path, metavar="FILE.csv",
                   help=f"draw the {', '.join(TAKES_TRAIN)} figure from this training set "
                        "(one example per line: d values in {-1,1}, then the label) instead "
                        "of a random one; use with --only memory")
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
    if args.train is not None:
        from figures.build import TAKES_TRAIN
        from simulators.datasets import DatasetError, read_train

        chosen = only if only is not None else list(FIGURES)
        if any(n not in TAKES_TRAIN for n in chosen):
            raise UsageError(f"--train draws the {', '.join(TAKES_TRAIN)} figure from your "
                             f"data; use it with --only {' '.join(TAKES_TRAIN)}")
        try:
            read_train(args.train)
        except DatasetError as e:
            raise UsageError(str(e)) from None
    try:
        paths = build_all(args.out, quick=not args.full, seed=args.seed, only=only,
                          progress=_progress, train=args.train)
    except OSError as e:  # the directory was checked; a full disk or a race still lands here
        raise UsageError(f"cannot write to {printable(str(args.out))}: "
                         f"{e.strerror or e}") from None
    for path in paths:
        print(printable(str(path)))
    return EXIT_OK

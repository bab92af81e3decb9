"""``srcnn sweep``: check every machine of a class on Dask (embedded or on a cluster).

    srcnn sweep machines --class 3x2 --out FILE [--json] [--sample N --seed S]
                         [--scheduler tcp://HOST:PORT] [--workers N] [--chunk C]
                         [--time-limit SECONDS] [--check NAME] [--literal]

Machines are numbered (``simulators.sampling.machine_at``), so a chunk is an index range
and the results file (JSON lines, see docs/sweeps.md) records which ranges are done: running
the same command again resumes where a Ctrl-C, a crash or ``--time-limit`` stopped.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys

from srcnn.common import EXIT_FAIL, EXIT_OK, UsageError, output_file

DEFAULT_CHUNK = 2000
"""Machines per task: about 0.3 s of work on the fast path, so the scheduling overhead
(about a millisecond per task, docs/sweeps.md) stays well under 1%."""
MAX_LISTED_FAILURES = 20
EXIT_INTERRUPTED = 130


def _positive(name: str):
    def parse(text: str) -> int:
        try:
            n = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") \
                from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {n}")
        return n
    return parse


def run_machines(args: argparse.Namespace) -> int:
    from proofs_check.class_sweep import MACHINE_CHECKS, parse_class
    from sweeps import Journal, SweepError, cluster, run_ranges

    try:
        cls = parse_class(args.machine_class)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.check not in MACHINE_CHECKS:
        raise UsageError(f"unknown check {args.check!r}; choose from {sorted(MACHINE_CHECKS)}")
    if args.sample is not None and args.sample > cls.size:
        raise UsageError(f"--sample {args.sample:,} is more than the {cls.size:,} tables of "
                         f"class {cls.name}")
    sample = None if args.sample is None else (args.sample, args.seed)
    total = cls.size if sample is None else args.sample
    params = {"sweep": "machines", "class": cls.name, "moves": "LR", "check": args.check,
              "sample": None if sample is None else {"n": sample[0], "seed": sample[1]}}
    journal = Journal(args.out, params, total)
    task = functools.partial(_chunk, cls.s, cls.k, args.check, sample, args.literal)
    try:
        already = journal.open()
        report = None
        try:
            if not already:
                with cluster(args.scheduler, args.workers, args.timeout) as client:
                    report = run_ranges(client, task, total, args.chunk, journal,
                                        desc=f"sweep {cls.name}", unit="machine",
                                        time_limit=args.time_limit)
            records = [r for r in journal.records if r["kind"] == "chunk"]
            checked = sum(r["checked"] for r in records)
            failures = [f for r in records for f in r["failed"]]
            complete = already or report.complete
            if report is not None and complete:
                journal.complete({"checked": checked, "failed": len(failures)})
        finally:
            journal.close()
    except SweepError as e:
        raise UsageError(str(e)) from None
    except KeyboardInterrupt:
        done = sum(r["stop"] - r["start"] for r in journal.records if r["kind"] == "chunk")
        print(f"srcnn sweep: interrupted with {done:,} of {total:,} tables recorded in "
              f"{journal.partial}; run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    summary = {
        "class": cls.name, "tables": cls.size, "check": args.check,
        "sample": params["sample"], "checked": checked, "failed": len(failures),
        "failures": failures[:MAX_LISTED_FAILURES], "complete": complete,
        "task_errors": [] if report is None else report.errors,
        "out": str(args.out if complete else journal.partial),
        "workers": None, "seconds": None, "checked_this_run": 0, "machines_per_second": None,
    }
    if report is not None:
        summary.update(workers=report.workers, seconds=round(report.seconds, 3),
                       checked_this_run=report.done_now,
                       machines_per_second=round(report.done_now / report.seconds, 1)
                       if report.seconds > 0 else None)
    _print(summary, args.json)
    bad = summary["failed"] or summary["task_errors"]
    return EXIT_FAIL if bad else EXIT_OK


def _chunk(s: int, k: int, check: str, sample, literal: bool, start: int, stop: int) -> dict:
    from proofs_check.class_sweep import check_chunk

    return check_chunk(s, k, start, stop, check=check, sample=sample, literal=literal)


def _print(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary))
        return
    what = ("all" if summary["sample"] is None
            else f"a sample of {summary['sample']['n']:,}, seed {summary['sample']['seed']}")
    print(f"class {summary['class']}: {summary['tables']:,} transition tables ({what}), "
          f"check {summary['check']}")
    print(f"checked {summary['checked']:,} tables, {summary['failed']:,} failed")
    for f in summary["failures"]:
        print(f"  FAIL #{f['index']} {f['machine']}: {f['reason']}")
    for e in summary["task_errors"]:
        print(f"  TASK ERROR [{e['start']}, {e['stop']}): {e['error']}")
    if summary["seconds"] is not None:
        rate = summary["machines_per_second"]
        print(f"this run: {summary['checked_this_run']:,} tables in {summary['seconds']:.1f} s"
              f" on {summary['workers']} worker(s)"
              + (f", {rate:,.0f} tables/s" if rate else ""))
    if summary["complete"]:
        print(f"results: {summary['out']} (complete)")
    else:
        print(f"results so far: {summary['out']} (incomplete: run the same command to "
              "continue)")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep",
        help="check every machine of a class on Dask (embedded or on a cluster), resumable",
        description="Sweeps over whole classes of machines, spread over Dask workers, with "
                    "results streamed to a resumable JSON-lines file (docs/sweeps.md).",
    )
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    m = what.add_parser(
        "machines",
        help="check every transition table of a class (or a seeded sample)",
        description=(
            "Check every s-state k-symbol transition table (each entry one of the 4(s+1) "
            "write/move/next triples or '---', so (1 + 4(s+1))^(sk) tables: 28,561 for 2x2, "
            "24,137,569 for 3x2): the compiled patch network must give the reference's next "
            "cell on every valid local view, which proves every rollout of that machine "
            "right. Prints how many tables were checked and how many failed (each failure "
            "with its index, machine and reason). Runs on an embedded Dask cluster of one "
            "process per core unless --scheduler names one. Results stream to --out as "
            "chunks finish; the same command resumes an interrupted sweep."),
    )
    m.add_argument("--class", dest="machine_class", required=True, metavar="SxK",
                   help="the class, states x symbols, e.g. 2x2 or 3x2")
    m.add_argument("--out", type=output_file, required=True, metavar="FILE",
                   help="results file (JSON lines); FILE.partial while incomplete")
    m.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    m.add_argument("--sample", type=_positive("--sample"), metavar="N",
                   help="check N tables drawn without replacement (seeded) instead of all")
    m.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    m.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on this Dask scheduler instead of an embedded cluster")
    m.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="how long to try to reach --scheduler (default 10)")
    m.add_argument("--workers", type=_positive("--workers"),
                   help="processes of the embedded cluster (default: one per core)")
    m.add_argument("--chunk", type=_positive("--chunk"), default=DEFAULT_CHUNK,
                   help=f"machines per task (default {DEFAULT_CHUNK})")
    m.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="start no new task after this many seconds (resume later)")
    m.add_argument("--check", default="certificate",
                   help="per-machine check: certificate (default; docs/certificates.md) or "
                        "local-views")
    m.add_argument("--literal", action="store_true",
                   help="use the literal compile_tm path instead of the fast path (~100x "
                        "slower; the same answers)")
    m.set_defaults(func=run_machines)
    return p

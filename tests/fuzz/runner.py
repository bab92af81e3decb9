"""Run the fuzz suite and print its table.

    python -m tests.fuzz.runner [--profile ci|thorough] [--cases N] [--seed S]
                                [--timeout SECONDS] [--memory-gib G] [--json FILE]
                                [--failures DIR] [--only REGEX]

Runs in a process of its own: the address space is limited (``RLIMIT_AS``, default 6 GiB;
torch reserves about 0.7 GiB of address space at import and its threads more, a machine's
hostile input must not come near the rest) and every case has an alarm: 60 s of CPU time by
default (far above any accepted case, whatever the machine's load), 5x that in wall time
for a case that blocks. Mutation targets draw their cases from one seeded
``random.Random``; hypothesis targets run their strategies for their share of the cases.
The exit code is 0 only if every case kept the contract (``tests/fuzz/contract.py``); each
failing case is written to ``--failures`` as JSON (argv or target, and the files) to replay.

Profiles: ``ci`` runs 2,500 cases (about a minute on a 2-core machine);
``thorough`` runs 100,000.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

PROFILES = {"ci": 2_500, "thorough": 100_000}
HYPOTHESIS_SHARE = 0.15
"""Share of the cases drawn by hypothesis strategies (the rest are mutations)."""


def _limit_memory(gib: float) -> None:
    soft = int(gib * 2**30)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _warm_up() -> None:
    """Import everything a case may import, so the first cases are not charged for it."""
    import constructions.circuit  # noqa: F401
    import constructions.engine  # noqa: F401
    import constructions.learner  # noqa: F401
    import proofs_check.runner  # noqa: F401
    import srcnn.cli  # noqa: F401
    from tests.fuzz.cases import seeds

    for kind in ("yaml", "json", "bb", "tm", "learner-tm", "bristol", "aiger", "train",
                 "test", "weights"):
        seeds(kind)


FUZZ_WORK_BUDGET = 10**8
"""Cell updates allowed to one network run under fuzzing (the CLI's budgets are 2-4 x 10^9).

A case inside the CLI's budget may legitimately run for minutes (all 65,536 assignments of a
16-input circuit through the network: 1.8 x 10^9 cell updates, 331 s of CPU), which the
per-case alarm would call a hang. The runner lowers the work budgets to this value, so an
accepted case finishes well within the alarm and every larger one goes through the same
refusal path as it would above the real budget; a case that still trips the alarm is then a
real hang."""


def _lower_work_budgets() -> None:
    """Lower the work budgets of the network commands to :data:`FUZZ_WORK_BUDGET`."""
    from srcnn import circuit_cmd, learn_cmd, simulate_cmd

    circuit_cmd.MAX_CELL_UPDATES = min(circuit_cmd.MAX_CELL_UPDATES, FUZZ_WORK_BUDGET)
    learn_cmd.MAX_CELL_UPDATES = min(learn_cmd.MAX_CELL_UPDATES, FUZZ_WORK_BUDGET)
    simulate_cmd.MAX_RCNN_CELL_UPDATES = min(simulate_cmd.MAX_RCNN_CELL_UPDATES,
                                             FUZZ_WORK_BUDGET)


class Tally:
    """Counts of outcomes per target, time per target, and the failing cases."""

    def __init__(self) -> None:
        self.counts: dict[str, collections.Counter] = collections.defaultdict(
            collections.Counter)
        self.seconds: collections.Counter = collections.Counter()
        self.slowest: dict[str, float] = collections.defaultdict(float)
        self.failures: list[dict] = []

    def add(self, case, result, failures_dir: Path | None) -> None:
        from tests.fuzz.cases import describe
        from tests.fuzz.contract import BAD

        self.counts[case.target][result.outcome] += 1
        self.seconds[case.target] += result.seconds
        self.slowest[case.target] = max(self.slowest[case.target], result.seconds)
        if result.outcome in BAD:
            record = {**describe(case), "outcome": result.outcome, "detail": result.detail}
            self.failures.append(record)
            if failures_dir is not None:
                failures_dir.mkdir(parents=True, exist_ok=True)
                name = f"{len(self.failures):05d}-{result.outcome}.json"
                (failures_dir / name).write_text(json.dumps(record, indent=1))

    @property
    def total(self) -> int:
        from tests.fuzz.contract import BAD, GOOD

        return sum(c[k] for c in self.counts.values() for k in GOOD + BAD)

    def table(self) -> str:
        from tests.fuzz.contract import BAD, GOOD

        seen = collections.Counter()
        for c in self.counts.values():
            seen.update(c)
        cols = list(GOOD) + ["bad"] + [b for b in BAD if seen[b]]
        for c in self.counts.values():
            c["bad"] = sum(c[b] for b in BAD)
        head = f"| {'target':<22} | {'cases':>7} | " + " | ".join(f"{c:>9}" for c in cols) + \
            f" | {'ms/case':>7} | {'max s':>6} |"
        rule = "|" + "|".join("-" * (len(part)) for part in head.split("|")[1:-1]) + "|"
        rows = [head, rule]
        for target in sorted(self.counts):
            c = self.counts[target]
            n = sum(c[k] for k in GOOD + BAD)
            rows.append(f"| {target:<22} | {n:>7,} | " + " | ".join(f"{c[k]:>9,}" for k in cols)
                        + f" | {1000 * self.seconds[target] / n:>7.1f} |"
                          f" {self.slowest[target]:>6.1f} |")
        all_c = collections.Counter()
        for c in self.counts.values():
            all_c.update(c)
        rows.append(f"| {'total':<22} | {self.total:>7,} | "
                    + " | ".join(f"{all_c[k]:>9,}" for k in cols)
                    + f" | {1000 * sum(self.seconds.values()) / max(self.total, 1):>7.1f} |"
                      f" {max(self.slowest.values(), default=0):>6.1f} |")
        return "\n".join(rows)

    def as_json(self) -> dict:
        return {"cases": self.total,
                "targets": {t: {k: v for k, v in c.items() if k != "bad"}
                            for t, c in sorted(self.counts.items())},
                "target_seconds": {t: round(s, 3) for t, s in sorted(self.seconds.items())},
                "failures": self.failures}


def run(profile: str, cases: int | None, seed: int, timeout: float, only: str | None,
        failures_dir: Path | None, progress: bool) -> Tally:
    """Run the suite; returns the tally."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed

    from tests.fuzz.cases import targets
    from tests.fuzz.contract import run_case
    from tests.fuzz.strategies import STRATEGIES

    _lower_work_budgets()
    total = cases if cases is not None else PROFILES[profile]
    rng = random.Random(seed)
    table = {k: v for k, v in targets().items() if only is None or re.search(only, k)}
    hyp = {k: v for k, v in STRATEGIES.items() if only is None or re.search(only, k)}
    n_hyp = round(total * HYPOTHESIS_SHARE) if hyp else 0
    n_mut = total - n_hyp if table else 0
    names = list(table)
    weights = [table[k][0] for k in names]
    tally = Tally()
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="srcnn-fuzz-") as tmp:
        where = Path(tmp)
        for i in range(n_mut):
            name = rng.choices(names, weights)[0]
            case = table[name][1](random.Random(rng.getrandbits(64)))
            tally.add(case, run_case(case, where, timeout), failures_dir)
            if progress and (i + 1) % 1000 == 0:
                print(f"  {i + 1:,} mutation cases, {time.time() - start:,.0f} s",
                      file=sys.stderr, flush=True)
        for k, (name, strategy) in enumerate(hyp.items()):
            share = n_hyp // len(hyp) + (k < n_hyp % len(hyp))

            @hyp_seed(seed + k)
            @settings(max_examples=share, database=None, deadline=None, derandomize=False,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(strategy)
            def one(case):
                tally.add(case, run_case(case, where, timeout), failures_dir)

            if share:
                one()
                if progress:
                    print(f"  {name}: {share:,} cases, {time.time() - start:,.0f} s",
                          file=sys.stderr, flush=True)
    return tally


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz.runner", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=tuple(PROFILES), default="ci")
    p.add_argument("--cases", type=int, help="number of cases (default: the profile's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0,
                   help="alarm per case, seconds of CPU time (wall time: 5x)")
    p.add_argument("--memory-gib", type=float, default=6.0, help="address-space limit")
    p.add_argument("--json", type=Path, help="write counts and failures here")
    p.add_argument("--failures", type=Path, help="write each failing case here as JSON")
    p.add_argument("--only", help="run only targets whose name matches this regex")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")
    _limit_memory(args.memory_gib)
    _warm_up()
    t0 = time.time()
    tally = run(args.profile, args.cases, args.seed, args.timeout, args.only, args.failures,
                not args.quiet)
    seconds = time.time() - t0
    print(tally.table())
    bad = len(tally.failures)
    load = os.getloadavg()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(f"{tally.total:,} cases in {seconds:,.0f} s (load {load:.1f}, peak memory "
          f"{peak:.2f} GiB under a {args.memory_gib:g} GiB address-space limit); "
          f"{bad} broke the contract")
    for f in tally.failures[:20]:
        print(f"  {f['outcome']}: {f['target']} {f['argv'] or ''} -- {f['detail'][:200]}")
    if args.json is not None:
        record = {**tally.as_json(), "profile": args.profile, "seed": args.seed,
                  "seconds": round(seconds, 1), "load": load, "peak_gib": round(peak, 3),
                  "memory_gib": args.memory_gib, "timeout": args.timeout}
        args.json.write_text(json.dumps(record, indent=1))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

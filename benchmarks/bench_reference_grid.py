"""Benchmark: the reference grid simulator in place (``simulators.turing.run``) against the
literal path that copies the tape at every step (``simulators.turing.trace``, what ``run``
did before #15), in one run so the ratios are meaningful on a busy machine.

``1DA1DA`` writes a new cell and moves down at every step: the copying path costs
O(steps²) (each step copies a tape of ``steps`` cells), the in-place path O(steps). The
final configurations are checked equal, bit for bit, at every size. ``1DB1DB_0UA0UA``
(up and down between two cells for ever) shows a machine whose tape stays small, where the
two paths should cost about the same.

Run: ``make bench`` or ``python benchmarks/bench_reference_grid.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import deque

from simulators.formats import load_machine
from simulators.turing import run, trace


def seconds(f) -> tuple[float, object]:
    t = time.perf_counter()
    value = f()
    return time.perf_counter() - t, value


def literal(machine, steps: int):
    return deque(trace(machine, steps), maxlen=1)[0]  # one copy of the tape per step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller sizes")
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()
    sizes = (1_000, 4_000, 16_000) if args.quick else (1_000, 4_000, 16_000, 32_000)
    machines = {name: load_machine(name) for name in ("1DA1DA", "1DB1DB_0UA0UA")}
    rows = []
    print(f"load {os.getloadavg()[0]:.1f}")
    print(f"{'machine':<14} {'steps':>8} {'copying s':>10} {'in place s':>11} {'ratio':>8} "
          f"{'in place steps/s':>17}")
    for name, machine in machines.items():
        for n in sizes:
            t_old, a = seconds(lambda m=machine, n=n: literal(m, n))
            t_new, b = seconds(lambda m=machine, n=n: run(m, n))
            assert a == b, f"{name}, {n} steps: the two paths disagree"
            rows.append({"machine": name, "steps": n, "copying_s": t_old, "in_place_s": t_new,
                         "ratio": t_old / t_new, "in_place_steps_per_s": b.steps / t_new})
            print(f"{name:<14} {b.steps:>8,} {t_old:>10.3f} {t_new:>11.4f} "
                  f"{t_old / t_new:>7.0f}x {b.steps / t_new:>17,.0f}")
    n = 10**6 if args.quick else 3 * 10**6  # (the tape budget is 4 * 10**6 cells)
    t_big, big = seconds(lambda: run(machines["1DA1DA"], n))
    print(f"1DA1DA {big.steps:,} steps in place: {t_big:.2f} s "
          f"({big.steps / t_big:,.0f} steps/s, {len(big.tape):,} cells)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "long_run": {"steps": big.steps, "seconds": t_big},
                       "load": os.getloadavg()[0]}, f, indent=1)


if __name__ == "__main__":
    main()

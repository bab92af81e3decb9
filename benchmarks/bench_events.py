"""The event-driven executor at scale: BB(5), BB(2,4) and parity learned through the network.

    python benchmarks/bench_events.py [--part simulate|parity|all] [--dims 4 8 12 16 24 32]
                                      [--tests 32] [--dense-max-d 4] [--json FILE]

Part ``simulate``: ``run_events`` on BB(5) (47,176,870 steps) and BB(2,4)
``1RB2LA1RA1RA_1LB1LA3RB1RZ`` (3,932,964 steps) against the reference simulator
(``simulators.fast.run_fast``) timed in the same run, with the patch evaluations, the
equivalent dense cell-updates and nodes; and the dense torch executor on a BB(4) rollout
with one torch thread and with the default, to show the thread-count effect.

Part ``parity``: for each ``d``, ``m = 2d`` examples of a random parity with a full-rank
training set (``k = d / 2``), Algorithm 1 then the Gaussian-elimination machine on ``--tests``
test points, all through the network on the events engine (``learn(engine="events")``),
each ``d`` in a fresh subprocess (its own peak memory); the predictions are compared with
the true parity and with the reference learner. The dense executor runs the same problem
for ``d <= --dense-max-d``.

Every figure is printed next to the baseline measured in the same invocation, with the
machine load; ``--json`` writes everything (results/events/bench.json is what
figures/fig_parity_cost.py reads).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BB24 = "1RB2LA1RA1RA_1LB1LA3RB1RZ"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- simulate
def simulate_rows() -> list[dict]:
    import torch

    from constructions.events_tm import run_events
    from constructions.tm import compile_tm
    from simulators.fast import run_fast
    from simulators.formats import load_machine, summarize

    rows = []
    for name, steps in (("bb5", 50_000_000), (BB24, 5_000_000)):
        machine = load_machine(name)
        ctm = compile_tm(machine)
        t0 = time.perf_counter()
        ref = run_fast(machine, steps)
        t_ref = time.perf_counter() - t0
        run_events(ctm, 200)  # compile the kernel outside the timing
        t0 = time.perf_counter()
        run = run_events(ctm, steps)
        t_ev = time.perf_counter() - t0
        s_ref, s_ev = summarize(machine, ref), summarize(machine, run.config)
        rows.append({"machine": "bb5" if name == "bb5" else name, "steps": s_ev["steps"],
                     "halted": s_ev["halted"], "ones": s_ev["ones"],
                     "equal_to_reference": s_ref == s_ev, "events_seconds": t_ev,
                     "reference_seconds": t_ref, "ratio_to_reference": t_ev / t_ref,
                     **run.stats.as_dict(), "torch_threads": torch.get_num_threads()})
    return rows


def dense_thread_rows() -> list[dict]:
    """The dense executor on BB(4)'s 107 steps, one torch thread against the default."""
    import torch

    from constructions.engine import run_network
    from constructions.tm import compile_tm
    from simulators.formats import load_machine

    ctm = compile_tm(load_machine("bb4"))
    default = torch.get_num_threads()
    rows = []
    for threads in sorted({1, default}):
        torch.set_num_threads(threads)
        run_network(ctm, 107)
        t0 = time.perf_counter()
        cfg = run_network(ctm, 107)
        secs = time.perf_counter() - t0
        rows.append({"threads": threads, "steps": cfg.steps, "seconds": secs})
    torch.set_num_threads(default)
    return rows


# --------------------------------------------------------------------------- parity
def _in_child(args: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def parity_rows(dims: list[int], n_tests: int, dense_max_d: int, seed: int) -> list[dict]:
    rows = []
    for d in dims:
        for engine in ("events", "dense") if d <= dense_max_d else ("events",):
            row = _in_child([str(d), str(2 * d), str(n_tests), engine, str(seed)])
            row["load"] = _load()
            rows.append(row)
            print(f"  parity d={d:>3} m={2 * d:>3} {engine:>6}: {row['seconds']:8.1f} s, "
                  f"L = {row['layers']:,}, peak {row['peak_rss_mib']:.0f} MiB, "
                  f"evaluations {row.get('patch_evaluations', '-')}, correct "
                  f"{row['correct']}, = reference {row['equal_to_reference_learner']} "
                  f"(load {row['load']})", flush=True)
    return rows


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("simulate", "parity", "all"), default="all")
    p.add_argument("--dims", type=int, nargs="+", default=[4, 8, 12, 16, 24, 32])
    p.add_argument("--tests", type=int, default=32, help="test points per d (default 32)")
    p.add_argument("--dense-max-d", type=int, default=4,
                   help="run the dense executor too for d up to this (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="write every measurement to this file")
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        d, m, n, engine, seed = args.child
        sys.path.insert(0, str(ROOT))
        from figures.fig_parity_cost import measure

        print(json.dumps(measure(int(d), int(m), int(n), engine, int(seed))))
        return 0
    from constructions.events import have_kernel

    record: dict = {"platform": platform.platform(), "python": platform.python_version(),
                    "kernel": "numba" if have_kernel() else "torch reference (slow)",
                    "cpus": os.cpu_count(), "load_start": _load(), "seed": args.seed}
    print(f"events benchmark ({record['kernel']}; load {record['load_start']})")
    if args.part in ("simulate", "all"):
        record["simulate"] = simulate_rows()
        for r in record["simulate"]:
            print(f"  {r['machine']:<26} {r['steps']:>11,} steps, halted {r['halted']}, "
                  f"{r['ones']} ones: events {r['events_seconds']:6.1f} s, reference "
                  f"{r['reference_seconds']:5.1f} s (x{r['ratio_to_reference']:.1f}); "
                  f"{r['patch_evaluations']:,} patch evaluations for "
                  f"{r['dense_cell_updates']:.2e} dense cell-updates "
                  f"({r['dense_nodes']:.2e} nodes); same as reference "
                  f"{r['equal_to_reference']}")
        record["dense_threads"] = dense_thread_rows()
        for r in record["dense_threads"]:
            print(f"  dense bb4 rollout, {r['threads']} torch thread(s): {r['seconds']:.2f} s")
    if args.part in ("parity", "all"):
        record["parity"] = parity_rows(args.dims, args.tests, args.dense_max_d, args.seed)
    record["load_end"] = _load()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

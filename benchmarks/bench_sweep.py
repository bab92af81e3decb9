"""Sweeps over machine classes on Dask: what a machine costs, what a task costs, 1 vs 2 workers.

Run: ``python benchmarks/bench_sweep.py [--quick] [--json FILE]``. Every number is measured
in this run, and every ratio is against a baseline of this run, so they stay comparable on
a busy machine (the load average is printed with them):

1. per-machine cost of the check in this process: the literal path (``compile_tm`` in
   Fractions, the torch network, ``expected_centres``) against the fast path (cached
   per-class pieces, numpy; bit for bit the same answers);
2. scheduling overhead per task (empty tasks on one worker) and the throughput of the real
   check against chunk size, relative to the in-process rate;
3. machines/s on 1 and 2 local workers over the same 3x2 index range;
4. all 28,561 2x2 machines end to end (cluster start, journal, summary);
5. the extrapolated cost of the 3x2 class (24,137,569 tables) here and on N workers.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

from proofs_check.class_sweep import check_chunk
from simulators.sampling import n_machines
from sweeps import Journal, cluster, run_ranges

OFFSET = 12_000_000
"""Every 3x2 measurement checks machines OFFSET, OFFSET + 1, ...: the same machines, so the
rates compare (index 0 upwards would be machines whose state A is entirely undefined)."""


def _check_3x2(start: int, stop: int) -> dict:
    return check_chunk(3, 2, OFFSET + start, OFFSET + stop)


def _noop(start: int, stop: int) -> dict:
    return {"checked": stop - start, "failed": []}


def _rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def in_process(quick: bool) -> dict:
    start = OFFSET
    check_chunk(3, 2, start, start + 50)  # build the per-class caches
    check_chunk(3, 2, start, start + 2, literal=True)
    n_lit, n_fast = (30, 2000) if quick else (200, 10_000)
    lit = _rate(lambda: check_chunk(3, 2, start, start + n_lit, literal=True), n_lit)
    fast = _rate(lambda: check_chunk(3, 2, start, start + n_fast), n_fast)
    return {"literal_per_s": round(lit, 1), "fast_per_s": round(fast, 1),
            "speedup": round(fast / lit, 1)}


def overhead(quick: bool, fast_rate: float) -> dict:
    """Per-task cost of an empty task, and the real check's rate against chunk size."""
    out = {}
    with cluster(workers=1) as client:
        n = 200 if quick else 1000
        run_ranges(client, _noop, 50, 1, progress=False)  # warm up
        rep = run_ranges(client, _noop, n, 1, progress=False)
        out["empty_task_ms"] = round(1000 * rep.seconds / n, 3)
        total = 10_000 if quick else 40_000
        task = _check_3x2
        rows = []
        for size in (10, 100, 1000, 5000):
            if size * 2 > total:
                continue
            rep = run_ranges(client, task, total, size, progress=False)
            rate = total / rep.seconds
            rows.append({"chunk": size, "tasks": -(-total // size),
                         "machines_per_s": round(rate, 1),
                         "vs_in_process": round(rate / fast_rate, 3)})
        out["chunk_sizes"] = rows
    return out


def workers_1_vs_2(quick: bool) -> dict:
    total = 20_000 if quick else 100_000
    task = _check_3x2
    out = {"machines": total}
    for w in (1, 2):
        with cluster(workers=w) as client:
            run_ranges(client, task, 4 * w * 200, 200, progress=False)  # warm the caches
            rep = run_ranges(client, task, total, 2000, progress=False)
        out[f"workers_{w}_per_s"] = round(total / rep.seconds, 1)
    out["speedup_2_vs_1"] = round(out["workers_2_per_s"] / out["workers_1_per_s"], 2)
    return out


def all_2x2() -> dict:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        j = Journal(Path(d) / "2x2.jsonl", {"class": "2x2"}, n_machines(2, 2))
        j.open()
        with cluster(workers=2) as client:
            rep = run_ranges(client, functools.partial(check_chunk, 2, 2), n_machines(2, 2),
                             2000, j, progress=False)
        failed = sum(len(r["failed"]) for r in rep.records)
        j.complete({"failed": failed})
        wall = time.perf_counter() - t0
    return {"machines": n_machines(2, 2), "failed": failed, "sweep_s": round(rep.seconds, 2),
            "wall_s_with_cluster_start": round(wall, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller samples (CI smoke run)")
    p.add_argument("--json", type=Path, help="also write the numbers here")
    args = p.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    res: dict = {"load_before": [round(v, 2) for v in load]}
    res["in_process"] = ip = in_process(args.quick)
    print(f"per machine, in process (3x2): literal {ip['literal_per_s']:,.0f}/s, fast "
          f"{ip['fast_per_s']:,.0f}/s: fast path {ip['speedup']}x")
    res["overhead"] = ov = overhead(args.quick, ip["fast_per_s"])
    print(f"empty task on 1 worker: {ov['empty_task_ms']} ms per task")
    for r in ov["chunk_sizes"]:
        print(f"  chunk {r['chunk']:>5}: {r['machines_per_s']:>9,.0f} machines/s on 1 worker "
              f"= {r['vs_in_process']:.2f} x in process")
    res["workers"] = wk = workers_1_vs_2(args.quick)
    print(f"3x2, {wk['machines']:,} machines, chunk 2000: 1 worker {wk['workers_1_per_s']:,.0f}/s,"
          f" 2 workers {wk['workers_2_per_s']:,.0f}/s ({wk['speedup_2_vs_1']}x)")
    res["all_2x2"] = a = all_2x2()
    print(f"all {a['machines']:,} 2x2 machines on 2 workers: {a['sweep_s']} s "
          f"({a['wall_s_with_cluster_start']} s with cluster start), {a['failed']} failed")
    size = n_machines(3, 2)
    per_worker = wk["workers_1_per_s"]
    res["extrapolation_3x2"] = ex = {
        "tables": size,
        "hours_here_2_workers": round(size / wk["workers_2_per_s"] / 3600, 2),
        "hours_on_N_workers": {str(n): round(size / (n * per_worker) / 3600, 2)
                               for n in (1, 2, 8, 32, 128)},
    }
    print(f"3x2 class, {size:,} tables: {ex['hours_here_2_workers']} h here on 2 workers; "
          + ", ".join(f"{h} h on {n}" for n, h in ex["hours_on_N_workers"].items())
          + " workers at this run's per-worker rate")
    res["load_after"] = [round(v, 2) for v in os.getloadavg()]
    print(f"load average after: {res['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()

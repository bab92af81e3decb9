"""Time and peak memory of one Algorithm 1 SGD step (forward + ``loss.backward()`` through
all ``L`` layers) against ``L``, with and without activation checkpointing.

    python benchmarks/bench_algorithm1.py [--learner nearest] [--m 8] [--d 6]
                                          [--layers 50 200 800 3200] [--json FILE]

Each configuration runs in a fresh subprocess so its peak resident memory (``ru_maxrss``)
is its own; the reported memory is the growth of the peak during the measured steps over
the peak after building the network. Without checkpointing autograd keeps every layer's
patches and hidden activations, ``O(L x cells x (h1 + h2))``; with it (every
``ceil(sqrt(L))`` layers, the default of ``CompiledLearner.rcnn``) only the segment
boundaries and one segment, ``O(sqrt(L) x cells x (h1 + h2))``, for about one extra
forward pass. (``CompiledLearner.rcnn`` turns it on when the saved activations would exceed
512 MiB.) Times are ratios against the unchecked run measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(learner: str, m: int, d: int, layers: int, checkpoint: bool, repeats: int) -> dict:
    import numpy as np
    import torch

    from constructions.learner import compile_library_learner

    torch.set_num_threads(1)
    compiled = compile_library_learner(learner)
    model = compiled.rcnn(m, d, torch.float32, layers=layers)
    model.checkpoint_every = math.isqrt(layers - 1) + 1 if checkpoint else 0
    rng = np.random.default_rng(0)
    z = torch.tensor(np.append(rng.choice([-1, 1], size=d), 1), dtype=torch.float32)[None]
    with torch.no_grad():  # half-full memory: a carrier row in the middle of the grid
        model.W[: (m + 1) // 2] = 1 / 3
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(repeats):
        model.W.grad = None
        start = time.perf_counter()
        y_hat = model(z)[0]
        (0.5 * (1.0 - y_hat) ** 2).backward()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"learner": learner, "m": m, "d": d, "layers": layers, "checkpoint": checkpoint,
            "segment": model.checkpoint_every, "seconds_per_step": min(times),
            "peak_growth_mib": (peak - base) / 1024,
            "hidden": list(compiled.patch.hidden), "cells": (m + 1) * (d + 1 + compiled.l)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learner", default="nearest")
    p.add_argument("--m", type=int, default=8)
    p.add_argument("--d", type=int, default=6)
    p.add_argument("--layers", type=int, nargs="+", default=[50, 200, 800, 3200])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        learner, m, d, L, ck, reps = args.child
        print(json.dumps(_child(learner, int(m), int(d), int(L), ck == "1", int(reps))))
        return
    rows = []
    print(f"{'L':>6} {'checkpoint':>10} {'s/step':>9} {'ratio':>6} {'peak MiB':>9}")
    for L in args.layers:
        pair = {}
        for ck in (False, True):
            out = subprocess.run(
                [sys.executable, __file__, "--child", args.learner, str(args.m), str(args.d),
                 str(L), "1" if ck else "0", str(args.repeats)],
                capture_output=True, text=True, check=True, cwd=ROOT,
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
            r = json.loads(out.stdout)
            pair[ck] = r
            rows.append(r)
        for ck in (False, True):
            r = pair[ck]
            ratio = r["seconds_per_step"] / pair[False]["seconds_per_step"]
            print(f"{L:>6} {('every ' + str(r['segment'])) if ck else 'off':>10} "
                  f"{r['seconds_per_step']:>9.3f} {ratio:>6.2f} {r['peak_growth_mib']:>9.1f}")
    if args.json:
        import torch

        args.json.write_text(json.dumps({
            "results": rows, "python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine()}, indent=1))


if __name__ == "__main__":
    main()

"""Benchmark: RCNN rollout throughput against the reference simulator and the GEMM ceiling.

Measured in one run, so the ratios are meaningful on a noisy machine:

* GEMM FLOP/s: float32 square matmuls of the size of the patch network's biggest layer and a
  large one (the machine's ceiling);
* RCNN rollout: a batch of compiled busy-beaver machines (float32), cell-updates per second and
  the FLOP/s it reaches (FLOPs per cell-update from the patch network's dense shapes);
* reference: steps per second of ``simulators.fast.run_fast`` and ``simulators.turing.run``.

Small patch networks are memory-bound: next to the large-GEMM ceiling we report the ceiling
for GEMMs of exactly the patch network's shapes.

Run: ``make bench`` or ``python benchmarks/bench_rcnn.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from constructions.engine import network_model
from constructions.tm import compile_tm
from simulators.fast import run_fast
from simulators.formats import builtin_machines
from simulators.turing import Configuration, run


def best_of(f, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def gemm_flops(n: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return 2 * n**3 / best_of(lambda: a @ b)


def shaped_gemm_flops(h1: int, h2: int, cells: int = 1 << 14) -> float:
    """FLOP/s of the patch network's own GEMM chain (cells x 9 x h1, cells x h1 x h2):
    the ceiling for matrices of exactly these shapes."""
    x, a1, a2 = torch.randn(cells, 9), torch.randn(9, h1), torch.randn(h1, h2)
    h = torch.randn(cells, h1)

    def chain():
        x @ a1
        h @ a2
    chain()
    return 2 * cells * (9 * h1 + h1 * h2) / best_of(chain)


def machine_named(name: str):
    if name.startswith("random"):
        import random

        from simulators.sampling import random_machine
        s, k = (int(v) for v in name[len("random"):].split("x"))
        return random_machine(random.Random(0), s, k, p_undefined=0.0)
    return builtin_machines()[name]


def rollout_rate(name: str, batch: int, width: int, layers: int) -> dict:
    ctm = compile_tm(machine_named(name))
    model = network_model(ctm, "float32")
    grid = torch.tensor(ctm.encode(Configuration(), (1, width), (0, width // 2)),
                        dtype=torch.float32).expand(batch, 1, width).contiguous()
    with torch.no_grad():
        model.rollout(grid, 2)
        t = best_of(lambda: model.rollout(grid, layers), repeat=2)
    updates = batch * width * layers
    flops = ctm.patch.flops_per_cell()
    return {"machine": name, "batch": batch, "grid": [1, width], "layers": layers,
            "hidden": list(ctm.patch.hidden), "flops_per_cell_update": flops,
            "cell_updates_per_s": updates / t, "flops_per_s": updates * flops / t,
            "same_shape_gemm_flops_per_s": shaped_gemm_flops(*ctm.patch.hidden)}


def reference_rate(name: str, steps: int) -> dict:
    machine = builtin_machines()[name]
    t_fast = best_of(lambda: run_fast(machine, steps), repeat=2)
    t_ref = best_of(lambda: run(machine, min(steps, 200_000)), repeat=2)
    return {"machine": name, "fast_steps_per_s": steps / t_fast,
            "reference_steps_per_s": min(steps, 200_000) / t_ref}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 20 s)")
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args(argv)
    threads = torch.get_num_threads()
    batch, width, layers = (64, 512, 20) if args.quick else (256, 1024, 40)
    gemm = {n: gemm_flops(n) for n in (45, 256, 1024 if args.quick else 2048)}
    ceiling = max(gemm.values())
    out = {"threads": threads, "gemm_flops_per_s": {str(k): v for k, v in gemm.items()},
           "rcnn": [rollout_rate(n, batch, width, layers)
                    for n in ("bb2", "bb4", "random6x3", "random10x4")],
           "reference": reference_rate("bb5", 2_000_000 if args.quick else 47_176_870)}
    print(f"torch threads {threads}; GEMM ceiling {ceiling / 1e9:.1f} GFLOP/s "
          + " ".join(f"(n={k}: {v / 1e9:.1f})" for k, v in gemm.items()))
    for r in out["rcnn"]:
        frac = r["flops_per_s"] / ceiling
        r["fraction_of_gemm"] = frac
        print(f"rcnn {r['machine']:>4} batch {r['batch']} x {r['grid']} x {r['layers']} layers, "
              f"hidden {r['hidden']}, {r['flops_per_cell_update']} FLOPs/cell-update: "
              f"{r['cell_updates_per_s'] / 1e6:.2f} M cell-updates/s, "
              f"{r['flops_per_s'] / 1e9:.2f} GFLOP/s = {frac:.1%} of large GEMM, "
              f"{r['flops_per_s'] / r['same_shape_gemm_flops_per_s']:.0%} of same-shape GEMM")
    ref = out["reference"]
    print(f"reference bb5: fast runner {ref['fast_steps_per_s'] / 1e6:.2f} M steps/s, "
          f"dict simulator {ref['reference_steps_per_s'] / 1e6:.3f} M steps/s")
    best = max(out["rcnn"], key=lambda r: r["cell_updates_per_s"])
    ratio = ref["fast_steps_per_s"] / best["cell_updates_per_s"]
    print(f"ratio: one rcnn cell-update costs the time of {ratio:.2f} reference steps")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

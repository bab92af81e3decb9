"""Benchmark: the 64-bit ripple-carry adder through the universal circuit RCNN.

    PYTHONPATH=. python benchmarks/bench_circuit.py [--batch 32] [--dtype float32] [--json]

Compiles ``simulators/library/circuits/adder64.bristol``, runs a batch of random input
assignments through ``layers`` applications of the shared patch network (``RCNN.rollout``
over the whole grid, as Definition 5 does), checks every output against the reference
evaluator, and reports the time per evaluation and the throughput in cell updates
(grid cells x layers) per second. Also usable under pytest-benchmark:
``pytest benchmarks/bench_circuit.py --benchmark-only`` (not part of the test suite).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from constructions.circuit import compile_circuit, run_circuit_batch  # noqa: E402
from simulators.bristol import load_bristol  # noqa: E402
from simulators.circuit_library import LIBRARY_DIR  # noqa: E402
from simulators.circuits import evaluate  # noqa: E402

ADDER64 = LIBRARY_DIR / "adder64.bristol"


def bench_adder64(batch: int = 32, dtype: str = "float32", seed: int = 0) -> dict:
    """Compile, run ``batch`` random assignments once, verify, and time it."""
    circuit = load_bristol(ADDER64)
    t0 = time.perf_counter()
    compiled = compile_circuit(circuit)
    compile_s = time.perf_counter() - t0
    bits = np.random.default_rng(seed).integers(0, 2, size=(batch, circuit.n_inputs))
    run_circuit_batch(compiled, bits[:1], engine=dtype)  # build the model, warm up torch
    t0 = time.perf_counter()
    got = run_circuit_batch(compiled, bits, engine=dtype)
    run_s = time.perf_counter() - t0
    want = np.array([evaluate(circuit, list(map(int, row))) for row in bits], dtype=np.uint8)
    meta = compiled.metadata()
    updates = batch * meta["cell_updates"]
    return {
        "circuit": "adder64",
        "gates": meta["gates"],
        "depth": meta["depth"],
        "grid": meta["grid"],
        "layers": meta["layers"],
        "dtype": dtype,
        "batch": batch,
        "correct": bool(np.array_equal(got, want)),
        "compile_seconds": round(compile_s, 4),
        "seconds": round(run_s, 3),
        "seconds_per_evaluation": round(run_s / batch, 4),
        "cell_updates_per_evaluation": meta["cell_updates"],
        "cell_updates_per_second": round(updates / run_s),
        "flops_per_cell": meta["flops_per_cell"],
        "shared_parameters": meta["shared_parameters"],
    }


def test_adder64_rcnn(benchmark) -> None:  # pytest-benchmark entry point
    circuit = load_bristol(ADDER64)
    compiled = compile_circuit(circuit)
    bits = np.random.default_rng(0).integers(0, 2, size=(8, circuit.n_inputs))
    got = benchmark(run_circuit_batch, compiled, bits, "float32")
    assert np.array_equal(got, [evaluate(circuit, list(map(int, r))) for r in bits])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="assignments per run (default 32)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = bench_adder64(args.batch, args.dtype, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"adder64 ({result['gates']} gates, depth {result['depth']}): grid "
              f"{result['grid'][0]} x {result['grid'][1]}, {result['layers']} layers, {args.dtype}")
        print(f"  compile        {result['compile_seconds']:.3f} s")
        print(f"  batch of {args.batch:<5} {result['seconds']:.2f} s "
              f"({result['seconds_per_evaluation'] * 1e3:.1f} ms per evaluation)")
        print(f"  throughput     {result['cell_updates_per_second'] / 1e6:.2f} M cell updates/s "
              f"({result['cell_updates_per_evaluation']:,} per evaluation, "
              f"{result['flops_per_cell']} FLOPs per cell)")
        print(f"  correct        {result['correct']}")
    return 0 if result["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())

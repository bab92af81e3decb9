"""``srcnn circuit``: evaluate a Boolean circuit file through the universal circuit RCNN.

    srcnn circuit FILE [--inputs BITS] [--engine reference|rcnn] [--dtype float32|float64]
                       [--format bristol|aiger] [--json]

With ``--inputs`` (all input wires in wire order, as a 0/1 string) it prints the outputs (in
output order) computed by the chosen engine; ``--json`` prints ``{"outputs", "gates", "depth",
"grid", "layers"}``. Without ``--inputs`` it checks every input assignment (at most 20 inputs,
and at most :data:`MAX_CELL_UPDATES` network cell updates in all) on both engines and exits 1
on any disagreement. A network run whose size is over budget is refused before the layout is
computed (from a lower bound), and again exactly after it; long layouts and runs show a
progress bar on a terminal. Bad input is one line ``srcnn circuit: error: ...``, exit 2.
"""

from __future__ import annotations

import argparse
import json

from simulators.inputs import printable, shown, source_label
from srcnn.common import EXIT_FAIL, EXIT_OK, UsageError, progress_bar

MAX_CHECK_INPUTS = 20
"""The exhaustive check enumerates 2**n assignments; refuse circuits with more inputs."""
MAX_CELL_UPDATES = 4 * 10**9
"""Refuse network runs (all assignments, or one) whose work (cells x layers) exceeds this."""
BATCH = 4096
"""Assignments run through the network per batch in the exhaustive check."""
PROGRESS_MIN_WORK = 10**7
"""Show progress bars for layouts and runs of at least this many cell updates."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``circuit`` on the ``srcnn`` subcommand parsers."""
    p = subparsers.add_parser(
        "circuit",
        help="evaluate a Bristol/AIGER circuit through the universal circuit RCNN",
        description=(
            "Compile FILE (Bristol Fashion or AIGER ASCII) into a program for the universal "
            "circuit RCNN (one set of shared weights for every circuit; one circuit column per "
            "application of the 3x3 patch network) and evaluate it. With --inputs BITS (every "
            "input wire in wire order, e.g. 0110) print the outputs; without, check every input "
            "assignment against the reference evaluator and exit 1 on any disagreement."
        ),
    )
    p.add_argument("file", metavar="FILE", help="circuit file (.bristol or AIGER .aag)")
    p.add_argument("--inputs", metavar="BITS",
                   help="input bits in wire order, a string of 0 and 1")
    p.add_argument("--engine", choices=("reference", "rcnn"), default="rcnn",
                   help="reference evaluator or the compiled network (default rcnn)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point type of the rcnn engine (default float32)")
    p.add_argument("--format", choices=("bristol", "aiger"),
                   help="file format (default: from the suffix .aag/.bristol, else the content)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p


def _load(path: str, fmt: str | None):
    from simulators.circuit_files import load_circuit
    from simulators.circuits import CircuitError

    try:
        return load_circuit(path, fmt)[0]
    except CircuitError as e:
        raise UsageError(str(e)) from None


def _bits(text: str, n: int) -> list[int]:
    if any(ch not in "01" for ch in text):
        bad = next(ch for ch in text if ch not in "01")
        raise UsageError(f"--inputs must be a string of 0 and 1, got {shown(bad)} in "
                         f"{shown(text)}")
    if len(text) != n:
        raise UsageError(f"--inputs has {len(text)} bits but the circuit has {n} inputs")
    return [int(ch) for ch in text]


def _shape(compiled) -> dict:
    from simulators.circuits import depth

    c = compiled.circuit
    return {"gates": len(c.gates), "depth": depth(c), "grid": list(compiled.grid_shape),
            "layers": compiled.layers}


def _budget(label: str, runs: int, per_run: int, exact: bool) -> None:
    """Refuse ``runs`` network runs of ``per_run`` cell updates each (``exact``: the
    compiled size; else a lower bound from the schedule) beyond :data:`MAX_CELL_UPDATES`."""
    work = runs * per_run
    if work > MAX_CELL_UPDATES:
        what = f"all {runs:,} assignments" if runs > 1 else "this input"
        raise UsageError(f"{label}: evaluating {what} through the network needs "
                         f"{'' if exact else 'at least '}{work:,} cell updates (limit "
                         f"{MAX_CELL_UPDATES:,}); use --engine reference"
                         + ("" if runs == 1 else " with --inputs BITS"))


def _compile(circuit, runs: int, label: str):
    """The compiled circuit, refused up front when ``runs`` network runs are over budget."""
    from constructions.circuit import CompileError, cell_updates_lower_bound, compile_circuit

    lower = cell_updates_lower_bound(circuit)
    _budget(label, runs, lower, exact=False)
    bar = progress_bar(None, "layout", "stage") if lower >= PROGRESS_MIN_WORK else None

    def on_stage(k: int, stages: int) -> None:
        if bar is not None:
            bar.total = stages
            bar.update(1)

    try:
        compiled = compile_circuit(circuit, on_stage)
    except CompileError as e:
        raise UsageError(f"{label}: {e}") from None
    finally:
        if bar is not None:
            bar.close()
    _budget(label, runs, compiled.metadata()["cell_updates"], exact=True)
    return compiled


def _layer_bar(compiled, runs: int):
    """A progress bar over the layers of ``runs`` network runs (None if short or no tty)."""
    if runs * compiled.metadata()["cell_updates"] < PROGRESS_MIN_WORK:
        return None
    batches = -(-runs // BATCH)
    return progress_bar(batches * compiled.layers, "network", "layer")


def _evaluate_one(args: argparse.Namespace, circuit) -> int:
    from constructions.circuit import run_circuit
    from simulators.circuits import evaluate

    bits = _bits(args.inputs, circuit.n_inputs)
    # the reference engine still reports the compiled shape (grid, layers), but runs nothing
    compiled = _compile(circuit, 1 if args.engine == "rcnn" else 0, source_label(args.file))
    if args.engine == "reference":
        outputs = evaluate(circuit, bits)
    else:
        bar = _layer_bar(compiled, 1)
        try:
            outputs = run_circuit(compiled, bits, engine=args.dtype,
                                  on_layer=None if bar is None else lambda: bar.update(1))
        finally:
            if bar is not None:
                bar.close()
    text = "".join(str(b) for b in outputs)
    shape = _shape(compiled)
    if args.json:
        print(json.dumps({"outputs": text, **shape}))
    else:
        print(f"circuit  {printable(args.file)}  ({circuit.n_inputs} inputs, "
              f"{circuit.n_outputs} outputs, {shape['gates']} gates, depth {shape['depth']})")
        print(f"engine   {args.engine}" + ("" if args.engine == "reference"
                                           else f" ({args.dtype})"))
        print(f"grid     {shape['grid'][0]} x {shape['grid'][1]}, {shape['layers']} layers")
        print(f"inputs   {args.inputs}")
        print(f"outputs  {text}")
    return EXIT_OK


def _check_all(args: argparse.Namespace, circuit) -> int:
    import numpy as np

    from constructions.circuit import run_circuit_batch
    from simulators.circuits import evaluate_all

    n = circuit.n_inputs
    if n > MAX_CHECK_INPUTS:
        raise UsageError(f"{source_label(args.file)}: the circuit has {n} inputs; checking "
                         f"every assignment is limited to {MAX_CHECK_INPUTS} inputs (give "
                         "--inputs BITS to evaluate one)")
    total = 1 << n
    compiled = _compile(circuit, total, source_label(args.file))
    want = evaluate_all(circuit)
    index = np.arange(total, dtype=np.int64)
    agree = 0
    first_bad: str | None = None
    bar = _layer_bar(compiled, total)
    try:
        for start in range(0, total, BATCH):
            a = index[start:start + BATCH]
            bits = ((a[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int64)
            got = run_circuit_batch(compiled, bits, engine=args.dtype,
                                    on_layer=None if bar is None else lambda: bar.update(1))
            same = (got == want[start:start + BATCH]).all(axis=1)
            agree += int(same.sum())
            if first_bad is None and not same.all():
                row = int(np.flatnonzero(~same)[0])
                first_bad = "".join(str(int(b)) for b in bits[row])
    finally:
        if bar is not None:
            bar.close()
    ok = agree == total
    if args.json:
        print(json.dumps({"assignments": total, "agree": agree, "disagree": total - agree,
                          "first_disagreement": first_bad, "dtype": args.dtype,
                          **_shape(compiled)}))
    else:
        shape = _shape(compiled)
        print(f"circuit  {printable(args.file)}  ({n} inputs, {circuit.n_outputs} outputs, "
              f"{shape['gates']} gates, depth {shape['depth']})")
        print(f"grid     {shape['grid'][0]} x {shape['grid'][1]}, {shape['layers']} layers")
        print(f"checked  {total} assignments: reference vs rcnn ({args.dtype})")
        if ok:
            print(f"result   all {total} agree")
        else:
            print(f"result   {total - agree} DISAGREE (first at inputs {first_bad})")
    return EXIT_OK if ok else EXIT_FAIL


def run(args: argparse.Namespace) -> int:
    """Run ``srcnn circuit``; returns the exit code (0 ok, 1 disagreement); bad input raises
    :class:`UsageError` (exit 2)."""
    circuit = _load(args.file, args.format)
    if args.inputs is not None:
        _bits(args.inputs, circuit.n_inputs)  # report bad bits before compiling
        return _evaluate_one(args, circuit)
    return _check_all(args, circuit)

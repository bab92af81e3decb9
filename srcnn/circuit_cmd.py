"""``srcnn circuit``: evaluate a Boolean circuit file through the universal circuit RCNN.

    srcnn circuit FILE [--inputs BITS] [--engine reference|rcnn] [--dtype float32|float64]
                       [--format bristol|aiger] [--json]

With ``--inputs`` (all input wires in wire order, as a 0/1 string) it prints the outputs (in
output order) computed by the chosen engine; ``--json`` prints ``{"outputs", "gates", "depth",
"grid", "layers"}``. Without ``--inputs`` it checks every input assignment (at most 20 inputs,
and at most :data:`MAX_CELL_UPDATES` network cell updates in all) on both engines and exits 1
on any disagreement. Bad input is one line ``srcnn circuit: error: ...`` on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

MAX_CHECK_INPUTS = 20
"""The exhaustive check enumerates 2**n assignments; refuse circuits with more inputs."""
MAX_CELL_UPDATES = 4 * 10**9
"""Refuse exhaustive checks whose network work (assignments x cells x layers) exceeds this."""
BATCH = 4096
"""Assignments run through the network per batch in the exhaustive check."""


class _Usage(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


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
                   help="file format (default: detected from the content)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p


def _load(path: str, fmt: str | None):
    from simulators.aiger import parse_aiger
    from simulators.bristol import parse_bristol
    from simulators.circuits import CircuitError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _Usage(f"cannot read {path}: not a text file (binary AIGER is not supported; "
                     "use the ASCII 'aag' format)") from None
    except OSError as e:
        raise _Usage(f"cannot read {path}: {e.strerror or e}") from None
    if fmt is None:
        first = text.split(None, 1)[0] if text.strip() else ""
        fmt = "aiger" if first in ("aag", "aig") else "bristol"
    try:
        return parse_aiger(text, path) if fmt == "aiger" else parse_bristol(text, path)
    except CircuitError as e:
        raise _Usage(f"{fmt} parse error: {e}") from None


def _bits(text: str, n: int) -> list[int]:
    if any(ch not in "01" for ch in text):
        bad = next(ch for ch in text if ch not in "01")
        raise _Usage(f"--inputs must be a string of 0 and 1, got {bad!r} in {text!r}")
    if len(text) != n:
        raise _Usage(f"--inputs has {len(text)} bits but the circuit has {n} inputs")
    return [int(ch) for ch in text]


def _shape(compiled) -> dict:
    from simulators.circuits import depth

    c = compiled.circuit
    return {"gates": len(c.gates), "depth": depth(c), "grid": list(compiled.grid_shape),
            "layers": compiled.layers}


def _evaluate_one(args: argparse.Namespace, circuit, compiled) -> int:
    from constructions.circuit import run_circuit
    from simulators.circuits import evaluate

    bits = _bits(args.inputs, circuit.n_inputs)
    if args.engine == "reference":
        outputs = evaluate(circuit, bits)
    else:
        outputs = run_circuit(compiled, bits, engine=args.dtype)
    text = "".join(str(b) for b in outputs)
    if args.json:
        print(json.dumps({"outputs": text, **_shape(compiled)}))
    else:
        shape = _shape(compiled)
        print(f"circuit  {args.file}  ({circuit.n_inputs} inputs, {circuit.n_outputs} outputs, "
              f"{shape['gates']} gates, depth {shape['depth']})")
        print(f"engine   {args.engine}" + ("" if args.engine == "reference"
                                           else f" ({args.dtype})"))
        print(f"grid     {shape['grid'][0]} x {shape['grid'][1]}, {shape['layers']} layers")
        print(f"inputs   {args.inputs}")
        print(f"outputs  {text}")
    return EXIT_OK


def _check_all(args: argparse.Namespace, circuit, compiled) -> int:
    import numpy as np

    from constructions.circuit import run_circuit_batch
    from simulators.circuits import evaluate_all

    n = circuit.n_inputs
    if n > MAX_CHECK_INPUTS:
        raise _Usage(f"the circuit has {n} inputs; checking every assignment is limited to "
                     f"{MAX_CHECK_INPUTS} inputs (give --inputs BITS to evaluate one)")
    total = 1 << n
    work = total * compiled.metadata()["cell_updates"]
    if work > MAX_CELL_UPDATES:
        raise _Usage(f"checking all {total:,} assignments needs {work:,} network cell updates "
                     f"(limit {MAX_CELL_UPDATES:,}); give --inputs BITS to evaluate one")
    want = evaluate_all(circuit)
    index = np.arange(total, dtype=np.int64)
    agree = 0
    first_bad: str | None = None
    for start in range(0, total, BATCH):
        a = index[start:start + BATCH]
        bits = ((a[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int64)
        got = run_circuit_batch(compiled, bits, engine=args.dtype)
        same = (got == want[start:start + BATCH]).all(axis=1)
        agree += int(same.sum())
        if first_bad is None and not same.all():
            row = int(np.flatnonzero(~same)[0])
            first_bad = "".join(str(int(b)) for b in bits[row])
    ok = agree == total
    if args.json:
        print(json.dumps({"assignments": total, "agree": agree, "disagree": total - agree,
                          "first_disagreement": first_bad, "dtype": args.dtype,
                          **_shape(compiled)}))
    else:
        shape = _shape(compiled)
        print(f"circuit  {args.file}  ({n} inputs, {circuit.n_outputs} outputs, "
              f"{shape['gates']} gates, depth {shape['depth']})")
        print(f"grid     {shape['grid'][0]} x {shape['grid'][1]}, {shape['layers']} layers")
        print(f"checked  {total} assignments: reference vs rcnn ({args.dtype})")
        if ok:
            print(f"result   all {total} agree")
        else:
            print(f"result   {total - agree} DISAGREE (first at inputs {first_bad})")
    return EXIT_OK if ok else EXIT_FAIL


def run(args: argparse.Namespace) -> int:
    """Run ``srcnn circuit``; returns the exit code (0 ok, 1 disagreement, 2 bad input)."""
    from constructions.circuit import CompileError, compile_circuit

    try:
        circuit = _load(args.file, args.format)
        if args.inputs is not None:
            _bits(args.inputs, circuit.n_inputs)  # report bad bits before compiling
        try:
            compiled = compile_circuit(circuit)
        except CompileError as e:
            raise _Usage(str(e)) from None
        if args.inputs is not None:
            return _evaluate_one(args, circuit, compiled)
        return _check_all(args, circuit, compiled)
    except _Usage as e:
        print(f"srcnn circuit: error: {e}", file=sys.stderr)
        return EXIT_USAGE

"""``srcnn compile``: hand-set the shared weights of a machine or a learner network, print
what they are, and with ``-o`` write them as safetensors (metadata in the header) or, with
``--format onnx``, the whole network as ONNX (metadata in ``metadata_props``)."""

from __future__ import annotations

import argparse
import json

from simulators.inputs import printable
from srcnn.common import (
    EXIT_OK,
    UsageError,
    compile_learner_arg,
    load_machine_arg,
    naming,
    output_file,
)


def run(args: argparse.Namespace) -> int:
    from constructions.tm import CompileError, compile_tm

    if args.learner:
        return _compile_learner(args)
    machine = load_machine_arg(args.machine)
    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(args.dtype)
    except CompileError as e:
        raise UsageError(naming(args.machine, e)) from None
    meta = ctm.metadata()
    write_compiled(ctm, args)
    if args.json:
        print(json.dumps(meta))
    else:
        print(f"compiled {printable(machine.name or args.machine)}: s={meta['s']}, "
              f"k={meta['k']}")
        print("  encoding     code = " + " + ".join(
            f"{f['scale']}*{f['field']}" for f in meta["encoding"]) + f"  ({meta['codes']} codes)")
        print(f"  patch net    9 -> {meta['hidden'][0]} -> {meta['hidden'][1]} -> 1 (two ReLUs)")
        print(f"  head         1 -> {meta['d_head']} -> 1")
        print(f"  shared parameters {meta['shared_parameters']}, "
              f"|U_s| = {meta['weight_set_size']}")
        print(f"  bits needed  {meta['bits_needed']}  "
              f"(exact in: {', '.join(meta['exact_dtypes'])})")
        if args.output:
            print(f"  wrote        {printable(str(args.output))} ({output_format(args)}, "
                  f"{args.dtype})")
    return EXIT_OK


def write_compiled(compiled, args: argparse.Namespace) -> None:
    """With ``-o``, write the weights and metadata as safetensors, or with ``--format onnx``
    the whole network as ONNX (one-line error on I/O)."""
    from safetensors import SafetensorError

    from constructions.export import save_compiled

    if not args.output:
        return
    try:
        if output_format(args) == "onnx":
            _write_onnx(compiled, args)
        else:
            from constructions.onnx_export import write_atomically

            write_atomically(args.output, lambda tmp: save_compiled(
                compiled, tmp, args.dtype, source=args.machine))
    except (OSError, SafetensorError) as e:  # checked writable first; a full disk lands here
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UsageError(f"cannot write {printable(str(args.output))}: {reason}") from None


def output_format(args: argparse.Namespace) -> str:
    """``--format``, or else ``onnx`` for a ``.onnx`` output and ``safetensors`` otherwise."""
    if args.format:
        return args.format
    return "onnx" if args.output and args.output.suffix == ".onnx" else "safetensors"


def _write_onnx(compiled, args: argparse.Namespace) -> None:
    try:
        from constructions import onnx_export
    except ImportError as e:  # pragma: no cover - the [onnx] extra is missing
        raise UsageError(str(e)) from None
    build = onnx_export.learner_model if args.learner else onnx_export.machine_model
    try:
        model = build(compiled, args.dtype, source=args.machine)
    except ImportError as e:
        raise UsageError(str(e)) from None
    onnx_export.save_onnx(model, args.output)


def _compile_learner(args: argparse.Namespace) -> int:
    """``srcnn compile --learner NAME|FILE``: the Algorithm 1 network of a learner machine."""
    from constructions.tm import CompileError

    learner = compile_learner_arg(args.machine)
    try:
        learner.check_dtype(args.dtype)
    except CompileError as e:
        raise UsageError(naming(args.machine, e)) from None
    meta = learner.metadata()
    write_compiled(learner, args)
    if args.json:
        print(json.dumps(meta))
        return EXIT_OK
    print(f"compiled learner {printable(meta['learner'])}: s={meta['s']}, k={meta['k']}, "
          f"{meta['transitions']} transitions, {meta['work_columns']} work column(s)")
    print(f"  patch net    9 -> {meta['hidden'][0]} -> {meta['hidden'][1]} -> 1 (two ReLUs)")
    print(f"  head         1 -> {meta['d_head']} -> 1")
    print(f"  shared parameters {meta['shared_parameters']}, |U_s| = {meta['weight_set_size']}")
    print(f"  bits needed  {meta['bits_needed']}  (exact in: {', '.join(meta['exact_dtypes'])})")
    if learner.bound is not None:
        print(f"  depth        L = 1 + t(m, d), e.g. L = {learner.layers(8, 6)} at m = 8, d = 6")
    if args.output:
            print(f"  wrote        {printable(str(args.output))} ({output_format(args)}, "
                  f"{args.dtype})")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compile",
        help="hand-set the shared RCNN weights for a machine; write them as safetensors",
        description=(
            "Compile MACHINE into the shared weights of the Definition-5 RCNN (one layer = "
            "one step), print the encoding, sizes, |U_s| and precision needed, and with -o "
            "write the weights as safetensors with the metadata as JSON in the header."
        ),
    )
    p.add_argument("machine", help="bbchallenge string, machine file, or built-in name")
    p.add_argument("-o", "--output", type=output_file,
                   help="file to write: safetensors (default) or ONNX (--format onnx, or a "
                        ".onnx name); checked writable before compiling")
    p.add_argument("--format", choices=("safetensors", "onnx"),
                   help="safetensors: the shared weights and the metadata; onnx: the whole "
                        "Definition-5 network (memory layer for learners, the layers as a "
                        "Loop, head and sum) with the same metadata (docs/onnx.md)")
    p.add_argument("--learner", action="store_true",
                   help="MACHINE is a learner (majority, first_agree, nearest, parity, or a "
                        "learner machine .tm file): compile its Algorithm 1 network "
                        "(docs/algorithm1.md)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=run)
    return p

"""``srcnn compile``: hand-set the shared weights of a machine or a learner network, print
what they are, and with ``-o`` write them as safetensors (metadata in the header)."""

from __future__ import annotations

import argparse
import json

from simulators.inputs import printable, shown, source_label
from srcnn.common import EXIT_OK, UsageError, is_file, load_machine_arg, output_file


def run(args: argparse.Namespace) -> int:
    from constructions.tm import CompileError, compile_tm

    if args.learner:
        return _compile_learner(args)
    machine = load_machine_arg(args.machine)
    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(args.dtype)
    except CompileError as e:
        raise UsageError(_naming(args.machine, e)) from None
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
            print(f"  wrote        {printable(str(args.output))} ({args.dtype})")
    return EXIT_OK


def write_compiled(compiled, args: argparse.Namespace) -> None:
    """With ``-o``, write the weights and metadata as safetensors. The path was checked
    writable when the command line was read; a failure now (a full disk, a race) is still
    one line."""
    from safetensors import SafetensorError

    from constructions.export import save_compiled

    if args.output:
        try:
            save_compiled(compiled, args.output, args.dtype, source=args.machine)
        except (OSError, SafetensorError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise UsageError(f"cannot write {args.output}: {reason}") from None


def _naming(spec: str, error: Exception) -> str:
    """The error's message, starting with the machine argument it is about."""
    label = source_label(spec)
    message = str(error)
    return message if message.startswith(label) else f"{label}: {message}"


def _compile_learner(args: argparse.Namespace) -> int:
    """``srcnn compile --learner NAME|FILE``: the Algorithm 1 network of a learner machine."""
    from constructions.learner import LearnerError, compile_learner_file, compile_library_learner
    from constructions.tm import CompileError
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError

    try:
        if args.machine in LIBRARY_LEARNERS:
            learner = compile_library_learner(args.machine)
        elif is_file(args.machine):
            learner = compile_learner_file(args.machine)
        else:
            raise UsageError(f"unknown learner {shown(args.machine)}: not a library learner "
                             f"({', '.join(LIBRARY_LEARNERS)}) and no such file")
        learner.check_dtype(args.dtype)
    except (AssemblyError, LearnerTapeError, LearnerError, CompileError) as e:
        raise UsageError(_naming(args.machine, e)) from None
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
        print(f"  wrote        {printable(str(args.output))} ({args.dtype})")
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
                   help="safetensors file to write (checked writable before compiling)")
    p.add_argument("--learner", action="store_true",
                   help="MACHINE is a learner (majority, first_agree, nearest, parity, or a "
                        "learner machine .tm file): compile its Algorithm 1 network "
                        "(docs/algorithm1.md)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=run)
    return p

"""``srcnn``: the command line of the succinct-rcnn verification suite.

Every subcommand reports bad input as one line ``srcnn <cmd>: error: ...`` on stderr with
exit code 2; no traceback reaches the user for input errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

MAX_REFERENCE_STEPS = 10**9
"""Reference 1-D runs up to this many steps (BB(5)'s 47,176,870 takes seconds)."""
MAX_RCNN_STEPS = 10**6
"""Refuse network runs of more steps than this before starting."""
MAX_RCNN_CELL_UPDATES = 2 * 10**9
"""Stop network runs whose work (grid cells x layers) would exceed this (minutes of CPU)."""


class UsageError(Exception):
    """Bad input from the user: reported as one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _step_count(text: str) -> int:
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps must be an integer, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"--steps must be >= 0, got {n}")
    if n > MAX_REFERENCE_STEPS:
        raise argparse.ArgumentTypeError(
            f"--steps {n} is beyond the limit of {MAX_REFERENCE_STEPS:,} steps"
        )
    return n


def _load_machine(spec: str):
    from simulators.formats import load_machine
    from simulators.turing import MachineError

    try:
        return load_machine(spec)
    except MachineError as e:
        raise UsageError(str(e)) from None


# --------------------------------------------------------------------------- simulate
def _rcnn_budget(steps: int) -> None:
    if steps > MAX_RCNN_STEPS:
        side = 2 * steps + 1
        raise UsageError(
            f"--steps {steps:,} through the network is beyond the limit of {MAX_RCNN_STEPS:,} "
            f"(a 1-D run may need a {side:,}-cell grid for {steps:,} layers, up to "
            f"{side * steps:,} cell updates); use --engine reference or fewer steps"
        )


def _spacetime(machine, configs: list) -> str:
    """Text space-time diagram of row 0: one line per step, head cell in brackets."""
    cols = [c for cfg in configs for (r, c) in [*cfg.tape, cfg.head] if r == 0]
    lo, hi = (min(cols), max(cols)) if cols else (0, 0)
    lines = []
    for cfg in configs:
        cells = []
        for c in range(lo, hi + 1):
            sym = machine.symbol_names[cfg.tape.get((0, c), 0)]
            cells.append(f"[{sym}]" if cfg.head == (0, c) else f" {sym} ")
        state = machine.state_name(cfg.state)
        lines.append(f"{cfg.steps:>6} {state:>3} |{''.join(cells)}|")
    return "\n".join(lines)


def cmd_simulate(args: argparse.Namespace) -> int:
    from simulators.formats import summarize

    machine = _load_machine(args.machine)
    configs: list = []
    record = configs.append if args.show else None
    if args.engine == "reference":
        from simulators.turing import trace

        if args.show:
            for cfg in trace(machine, args.steps):
                configs.append(cfg)
            final = configs[-1]
        elif machine.is_one_dimensional:
            from simulators.fast import run_fast

            final = run_fast(machine, args.steps)
        else:
            from simulators.turing import run

            final = run(machine, args.steps)
    else:
        from constructions.engine import BudgetExceeded, run_network
        from constructions.tm import CompileError, compile_tm

        _rcnn_budget(args.steps)
        try:
            ctm = compile_tm(machine)
            ctm.check_dtype(args.dtype)
        except CompileError as e:
            raise UsageError(str(e)) from None
        engine = "exact" if args.engine == "exact" else args.dtype
        try:
            final = run_network(ctm, args.steps, engine=engine, on_step=record,
                                max_cell_updates=MAX_RCNN_CELL_UPDATES)
        except BudgetExceeded as e:
            raise UsageError(str(e)) from None
    summary = summarize(machine, final)
    if args.show:
        print(_spacetime(machine, configs))
    if args.json:
        print(json.dumps(summary))
    else:
        name = machine.name or args.machine
        print(f"machine  {name}  (s={machine.n_states}, k={machine.n_symbols})")
        dtype = "" if args.engine == "reference" else f" ({args.dtype})"
        print(f"engine   {args.engine}{dtype}")
        for key, value in summary.items():
            shown = value if key != "tape" or len(value) <= 80 else value[:77] + "..."
            print(f"{key:<8} {shown}")
    return EXIT_OK


# --------------------------------------------------------------------------- compile
def cmd_compile(args: argparse.Namespace) -> int:
    from constructions.tm import CompileError, compile_tm

    if args.learner:
        return _compile_learner(args)
    machine = _load_machine(args.machine)
    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(args.dtype)
    except CompileError as e:
        raise UsageError(str(e)) from None
    meta = ctm.metadata()
    _write_compiled(ctm, args)
    if args.json:
        print(json.dumps(meta))
    else:
        print(f"compiled {machine.name or args.machine}: s={meta['s']}, k={meta['k']}")
        print("  encoding     code = " + " + ".join(
            f"{f['scale']}*{f['field']}" for f in meta["encoding"]) + f"  ({meta['codes']} codes)")
        print(f"  patch net    9 -> {meta['hidden'][0]} -> {meta['hidden'][1]} -> 1 (two ReLUs)")
        print(f"  head         1 -> {meta['d_head']} -> 1")
        print(f"  shared parameters {meta['shared_parameters']}, "
              f"|U_s| = {meta['weight_set_size']}")
        print(f"  bits needed  {meta['bits_needed']}  "
              f"(exact in: {', '.join(meta['exact_dtypes'])})")
        if args.output:
            print(f"  wrote        {args.output} ({args.dtype})")
    return EXIT_OK


def _write_compiled(compiled, args: argparse.Namespace) -> None:
    """With ``-o``, write the weights and metadata as safetensors (one-line error on I/O)."""
    from constructions.export import save_compiled

    if args.output:
        try:
            save_compiled(compiled, args.output, args.dtype, source=args.machine)
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None


def _compile_learner(args: argparse.Namespace) -> int:
    """``srcnn compile --learner NAME|FILE``: the Algorithm 1 network of a learner machine."""
    from constructions.learner import LearnerError, compile_learner_file, compile_library_learner
    from constructions.tm import CompileError
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError

    try:
        if args.machine in LIBRARY_LEARNERS:
            learner = compile_library_learner(args.machine)
        elif Path(args.machine).is_file():
            learner = compile_learner_file(args.machine)
        else:
            raise UsageError(f"unknown learner {args.machine!r}: not a library learner "
                             f"({', '.join(LIBRARY_LEARNERS)}) and no such file")
        learner.check_dtype(args.dtype)
    except (AssemblyError, LearnerTapeError, LearnerError, CompileError) as e:
        raise UsageError(str(e)) from None
    meta = learner.metadata()
    _write_compiled(learner, args)
    if args.json:
        print(json.dumps(meta))
        return EXIT_OK
    print(f"compiled learner {meta['learner']}: s={meta['s']}, k={meta['k']}, "
          f"{meta['transitions']} transitions, {meta['work_columns']} work column(s)")
    print(f"  patch net    9 -> {meta['hidden'][0]} -> {meta['hidden'][1]} -> 1 (two ReLUs)")
    print(f"  head         1 -> {meta['d_head']} -> 1")
    print(f"  shared parameters {meta['shared_parameters']}, |U_s| = {meta['weight_set_size']}")
    print(f"  bits needed  {meta['bits_needed']}  (exact in: {', '.join(meta['exact_dtypes'])})")
    if learner.bound is not None:
        print(f"  depth        L = 1 + t(m, d), e.g. L = {learner.layers(8, 6)} at m = 8, d = 6")
    if args.output:
        print(f"  wrote        {args.output} ({args.dtype})")
    return EXIT_OK


# --------------------------------------------------------------------------- verify
def cmd_verify(args: argparse.Namespace) -> int:
    from proofs_check.runner import run_checks

    return run_checks(
        mode="thorough" if args.thorough else "quick",
        json_path=args.json, markdown_path=args.markdown, seed=args.seed,
    )


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="srcnn",
        description=(
            "Verification suite for 'Recurrent Convolutional Neural Networks Learn Succinct "
            "Learning Algorithms' (Goel, Kakade, Kalai, Zhang, NeurIPS 2022): hand-compiled "
            "RCNNs checked exactly against reference simulators."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "simulate",
        help="run a Turing machine on the reference simulator or through the compiled RCNN",
        description=(
            "Run MACHINE for at most --steps steps. MACHINE is a bbchallenge string "
            "(e.g. 1RB1LB_1LA1RZ), a machine file (.yaml/.json, or .tm grid assembly) or a "
            "built-in name (bb2, bb3, bb4, bb2x3, bb5, ...). With --engine rcnn every step is "
            "one application of the shared 3x3 patch network; the JSON record is identical "
            "to the reference engine's for every machine within the limits."
        ),
    )
    p.add_argument("machine", help="bbchallenge string, machine file, or built-in name")
    p.add_argument("--steps", type=_step_count, default=1000,
                   help="maximum number of steps (default 1000)")
    p.add_argument("--engine", choices=("reference", "rcnn", "exact"), default="reference",
                   help="reference simulator, float RCNN, or the RCNN in exact rational "
                        "arithmetic (slow; small runs only)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point type of the rcnn engine (default float32)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--show", action="store_true",
                   help="print the space-time diagram of row 0 (head in brackets, state left)")
    p.set_defaults(func=cmd_simulate)

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
    p.add_argument("-o", "--output", type=Path, help="safetensors file to write")
    p.add_argument("--learner", action="store_true",
                   help="MACHINE is a learner (majority, first_agree, nearest, parity, or a "
                        "learner machine .tm file): compile its Algorithm 1 network "
                        "(docs/algorithm1.md)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser(
        "verify",
        help="run every executable check of the paper's claims and report",
        description="Run the checks in proofs_check/, print a table, exit 0 iff all pass.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the fast profile (default)")
    mode.add_argument("--thorough", action="store_true", help="more examples, longer runs")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="write a Markdown report here")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.set_defaults(func=cmd_verify)

    from srcnn import circuit_cmd, figures_cmd, learn_cmd

    for module in (circuit_cmd, learn_cmd, figures_cmd):
        module.add_parser(sub)
    return parser


def _machine_strings_last(argv: list[str]) -> list[str]:
    """Move tokens starting with ``---`` (bbchallenge strings whose first transition is
    undefined; never an option) behind ``--`` so argparse reads them as positionals."""
    if "--" in argv:
        return argv
    dashed = [a for a in argv if a.startswith("---")]
    if not dashed:
        return argv
    return [a for a in argv if not a.startswith("---")] + ["--", *dashed]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_machine_strings_last(list(sys.argv[1:] if argv is None else argv)))
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        print(f"srcnn {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"srcnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

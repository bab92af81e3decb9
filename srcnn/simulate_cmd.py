"""``srcnn simulate``: run a Turing machine on one of several engines, same JSON from each.

    srcnn simulate MACHINE [--steps N] [--engine NAME] [--dtype float32|float64]
                           [--json] [--show]

Every engine is one entry of :data:`ENGINES`: a function ``(machine, steps, dtype, on_step)
-> final Configuration``. ``on_step`` (or ``None``) sees every configuration from the start
to the end, in order, so ``--show`` and step-by-step comparisons work the same for every
engine. A new executor is a new entry here, and nothing else in this file changes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from srcnn.common import EXIT_OK, UsageError, load_machine_arg, step_count

MAX_RCNN_STEPS = 10**6
"""Refuse network runs of more steps than this before starting."""
MAX_RCNN_CELL_UPDATES = 2 * 10**9
"""Stop network runs whose work (grid cells x layers) would exceed this (minutes of CPU)."""

Engine = Callable[..., object]


def _rcnn_budget(steps: int) -> None:
    if steps > MAX_RCNN_STEPS:
        side = 2 * steps + 1
        raise UsageError(
            f"--steps {steps:,} through the network is beyond the limit of {MAX_RCNN_STEPS:,} "
            f"(a 1-D run may need a {side:,}-cell grid for {steps:,} layers, up to "
            f"{side * steps:,} cell updates); use --engine reference or fewer steps"
        )


def _compiled(machine, dtype: str):
    from constructions.tm import CompileError, compile_tm

    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(dtype)
    except CompileError as e:
        raise UsageError(str(e)) from None
    return ctm


def run_reference(machine, steps: int, dtype: str, on_step=None):
    """The reference simulators (plain Python; the fast 1-D runner when nothing is shown)."""
    from simulators.turing import trace

    if on_step is not None:
        final = None
        for cfg in trace(machine, steps):
            on_step(cfg)
            final = cfg
        return final
    if machine.is_one_dimensional:
        from simulators.fast import run_fast

        return run_fast(machine, steps)
    from simulators.turing import run

    return run(machine, steps)


def _run_network(engine: str):
    def run(machine, steps: int, dtype: str, on_step=None):
        from constructions.engine import BudgetExceeded, run_network

        _rcnn_budget(steps)
        ctm = _compiled(machine, dtype)
        stepper = _onnx_stepper(ctm, dtype) if engine == "onnx" else None
        try:
            return run_network(ctm, steps, engine="exact" if engine == "exact" else dtype,
                               on_step=on_step, max_cell_updates=MAX_RCNN_CELL_UPDATES,
                               stepper=stepper)
        except BudgetExceeded as e:
            raise UsageError(str(e)) from None
    run.__doc__ = {"rcnn": "The dense torch network (every cell, every layer)",
                   "exact": "The network in exact rational arithmetic",
                   "onnx": "The exported ONNX network in onnxruntime"}[engine]
    return run


def _onnx_stepper(ctm, dtype: str):
    try:
        from constructions.onnx_export import onnx_stepper

        return onnx_stepper(ctm, dtype)
    except (ImportError, ValueError) as e:
        raise UsageError(str(e)) from None


def run_events_engine(machine, steps: int, dtype: str, on_step=None):
    """The same network, evaluated only where a cell's input changed (docs/events.md);
    limited by estimated work, not by a step cap; a progress bar on a terminal."""
    import sys

    from constructions.engine import BudgetExceeded
    from constructions.events import EventsError, warn_if_slow
    from constructions.events_tm import run_events

    ctm = _compiled(machine, dtype)
    warn_if_slow("auto")
    bar = None
    if sys.stderr.isatty() and on_step is None:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="events", unit="step", unit_scale=True, file=sys.stderr,
                   leave=False)
    try:
        return run_events(ctm, steps, dtype, on_step=on_step,
                          on_progress=bar.update if bar is not None else None).config
    except (BudgetExceeded, EventsError) as e:
        raise UsageError(str(e)) from None
    finally:
        if bar is not None:
            bar.close()


ENGINES: dict[str, Engine] = {
    "reference": run_reference,
    "rcnn": _run_network("rcnn"),
    "exact": _run_network("exact"),
    "onnx": _run_network("onnx"),
    "events": run_events_engine,
}
"""Engine name -> runner. Every runner prints the same JSON for the same machine."""

ENGINE_HELP = ("reference simulator, the float RCNN (dense torch), the RCNN in exact "
               "rational arithmetic (slow; small runs only), the exported ONNX network in "
               "onnxruntime (float32 only), or the float RCNN evaluated only where a cell's "
               "input changed (events: bit for bit the dense network, for long runs such as "
               "BB(5))")


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


def codes_printer(machine) -> Callable[[object], None]:
    """``--codes``: print each configuration as it arrives (streamed, nothing kept): the
    decoded cells beside the cell values the network holds for them, ``code = symbol +
    k*head + 2k*state`` (constructions/tm.py). For the network engines these are the raw
    grid values: the engine decodes a grid only if every cell holds exactly a valid code
    and there is one head, and encoding the decoded configuration gives that grid back."""
    from constructions.tm import _state_digit, tm_encoding

    enc = tm_encoding(machine.n_states, machine.n_symbols)
    k = machine.n_symbols
    print(f"  step state | decoded (head in brackets) | cell values, code = symbol + {k}*head "
          f"+ {2 * k}*state")

    def show(cfg) -> None:
        cells = [*cfg.tape, cfg.head]
        rows = range(min(r for r, _ in cells), max(r for r, _ in cells) + 1)
        lo, hi = min(c for _, c in cells), max(c for _, c in cells)
        state = machine.state_name(cfg.state)
        for i, r in enumerate(rows):
            sym, val = [], []
            for c in range(lo, hi + 1):
                a = cfg.tape.get((r, c), 0)
                here = (r, c) == cfg.head
                name = machine.symbol_names[a]
                sym.append(f"[{name}]" if here else f" {name} ")
                val.append(str(enc.encode(symbol=a, head=1, state=_state_digit(machine,
                                                                               cfg.state))
                               if here else enc.encode(symbol=a)))
            lead = f"{cfg.steps:>6} {state:>5}" if i == 0 else " " * 12
            where = "" if machine.is_one_dimensional else f"row {r:>3} "
            print(f"{lead} | {where}col {lo:>3}: {''.join(sym)} | {' '.join(val)}", flush=True)
    return show


def run(args: argparse.Namespace) -> int:
    from simulators.formats import summarize

    machine = load_machine_arg(args.machine)
    configs: list = []
    on_step = configs.append if args.show else None
    if args.codes:
        printer = codes_printer(machine)
        on_step = printer if on_step is None else (lambda c: (configs.append(c), printer(c)))
    final = ENGINES[args.engine](machine, args.steps, args.dtype, on_step)
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


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "simulate",
        help="run a Turing machine on the reference simulator or through the compiled RCNN",
        description=(
            "Run MACHINE for at most --steps steps. MACHINE is a bbchallenge string "
            "(e.g. 1RB1LB_1LA1RZ), a machine file (.yaml/.json, or .tm grid assembly) or a "
            "built-in name (bb2, bb3, bb4, bb2x3, bb5, ...). With a network engine every step "
            "is one application of the shared 3x3 patch network; the JSON record is identical "
            "to the reference engine's for every machine within the limits."
        ),
    )
    p.add_argument("machine", help="bbchallenge string, machine file, or built-in name")
    p.add_argument("--steps", type=step_count, default=1000,
                   help="maximum number of steps (default 1000)")
    p.add_argument("--engine", choices=tuple(ENGINES), default="reference", help=ENGINE_HELP)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point type of the network engines (default float32)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--show", action="store_true",
                   help="print the space-time diagram of row 0 (head in brackets, state left)")
    p.add_argument("--codes", action="store_true",
                   help="print every step as it happens: the decoded cells beside the cell "
                        "values the network holds (code = symbol + k*head + 2k*state; "
                        "`srcnn explain MACHINE` prints the whole table)")
    p.set_defaults(func=run)
    return p

"""``srcnn simulate``: run a Turing machine on one of several engines, same JSON from each.

    srcnn simulate MACHINE [--steps N] [--engine NAME] [--dtype float32|float64]
                           [--json] [--show]

Every engine is one entry of :data:`ENGINES`: a function ``(machine, steps, dtype, on_step)
-> final Configuration``. ``on_step`` (or ``None``) sees every configuration from the start
to the end, in order, so ``--show`` and step-by-step comparisons work the same for every
engine; it must not keep the configuration it is given (an engine may advance one object in
place), and copies it to keep it. A new executor is a new entry here, and nothing else in
this file changes. A per-step printer (such as ``--show``'s :class:`SpaceTime`) is a callable
on that same path: it prints each line as the step arrives, so nothing is held in memory.
Engines honour their budgets (a one-line refusal, exit 2) and show a progress bar on a
terminal for long runs; Ctrl-C stops them (exit 130).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from simulators.inputs import printable
from srcnn.common import EXIT_OK, UsageError, load_machine_arg, progress_bar, step_count

MAX_RCNN_STEPS = 10**6
"""Refuse network runs of more steps than this before starting."""
MAX_RCNN_CELL_UPDATES = 2 * 10**9
"""Stop network runs whose work (grid cells x layers) would exceed this (minutes of CPU)."""
MAX_EXACT_STEPS = 10**5
"""Refuse exact-arithmetic runs of more steps than this before starting."""
MAX_EXACT_CELL_UPDATES = 3 * 10**6
"""Stop exact-arithmetic runs whose work would exceed this (about a minute: exact rational
arithmetic evaluates some 10^4-10^5 cells a second)."""
MAX_SHOW_CELLS = 10**6
"""``--show`` prints at most this many cells (lines x width of the diagram, about 3 MB)."""
PROGRESS_MIN_STEPS = 1 << 22
"""Reference runs of at least this many steps show a progress bar (on a terminal)."""

Engine = Callable[..., object]


def _budget(steps: int, limit: int, what: str, alternative: str) -> None:
    if steps > limit:
        side = 2 * steps + 1
        raise UsageError(
            f"--steps {steps:,} {what} is beyond the limit of {limit:,} "
            f"(a 1-D run may need a {side:,}-cell grid for {steps:,} layers, up to "
            f"{side * steps:,} cell updates); {alternative}"
        )


def _compiled(machine, dtype: str, engine: str):
    from constructions.tm import CompileError, compile_tm

    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(dtype)
    except CompileError as e:
        raise UsageError(f"--engine {engine}: {e}") from None
    return ctm


def _tape_budget(run: Callable[[], object]):
    """``run()``, with the reference tape budget turned into a one-line refusal."""
    from simulators.turing import TapeBudgetExceeded

    try:
        return run()
    except TapeBudgetExceeded as e:
        raise UsageError(f"--engine reference: {e}") from None


def run_reference(machine, steps: int, dtype: str, on_step=None):
    """The reference simulators (plain Python, linear time; the fast 1-D runner when nothing
    is shown). With ``on_step`` the configuration is one object advanced in place."""
    from simulators.turing import run, walk

    if on_step is not None:
        def shown():
            final = None
            for cfg in walk(machine, steps):
                on_step(cfg)
                final = cfg
            return final
        return _tape_budget(shown)
    bar = progress_bar(steps, "reference", "step") if steps >= PROGRESS_MIN_STEPS else None

    def on_progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    try:
        if machine.is_one_dimensional:
            from simulators.fast import run_fast

            return _tape_budget(lambda: run_fast(machine, steps, on_progress=on_progress))
        return _tape_budget(lambda: run(machine, steps, on_progress=on_progress))
    finally:
        if bar is not None:
            bar.close()


def _run_network(engine: str):
    exact = engine == "exact"

    def run(machine, steps: int, dtype: str, on_step=None):
        from constructions.engine import BudgetExceeded, run_network

        max_steps = MAX_EXACT_STEPS if exact else MAX_RCNN_STEPS  # read now: tests lower them
        max_work = MAX_EXACT_CELL_UPDATES if exact else MAX_RCNN_CELL_UPDATES
        _budget(steps, max_steps, "through the exact network" if exact
                else "through the network",
                "use --engine rcnn or reference" if exact else
                "use --engine reference or fewer steps")
        ctm = _compiled(machine, dtype, engine)
        stepper = _onnx_stepper(ctm, dtype) if engine == "onnx" else None
        bar = progress_bar(steps, engine, "step") if exact or steps >= 10_000 else None

        def on_progress(done: int) -> None:
            if bar is not None:
                bar.update(done - bar.n)

        try:
            return run_network(ctm, steps, engine="exact" if exact else dtype,
                               on_step=on_step, max_cell_updates=max_work,
                               on_progress=on_progress, stepper=stepper)
        except BudgetExceeded as e:
            raise UsageError(f"--engine {engine}: {e}") from None
        finally:
            if bar is not None:
                bar.close()
    run.__doc__ = {"rcnn": "The dense torch network (every cell, every layer)",
                   "exact": "The network in exact rational arithmetic",
                   "onnx": "The exported ONNX network in onnxruntime"}[engine]
    return run


def _onnx_stepper(ctm, dtype: str):
    try:
        from constructions.onnx_export import onnx_stepper

        return onnx_stepper(ctm, dtype)
    except (ImportError, ValueError) as e:
        raise UsageError(f"--engine onnx: {e}") from None


def run_events_engine(machine, steps: int, dtype: str, on_step=None):
    """The same network, evaluated only where a cell's input changed (docs/events.md);
    limited by estimated work, not by a step cap; a progress bar on a terminal."""
    from constructions.engine import BudgetExceeded
    from constructions.events import EventsError, warn_if_slow
    from constructions.events_tm import run_events

    ctm = _compiled(machine, dtype, "events")
    warn_if_slow("auto")
    bar = progress_bar(steps, "events", "step") if on_step is None else None
    try:
        return run_events(ctm, steps, dtype, on_step=on_step,
                          on_progress=bar.update if bar is not None else None).config
    except (BudgetExceeded, EventsError) as e:
        raise UsageError(f"--engine events: {e}") from None
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


class SpaceTime:
    """``--show``: the space-time diagram of row 0, one line per step, printed as each step
    arrives (head cell in brackets, step and state on the left).

    The columns are fixed before the run: the columns row 0's head visits in the reference
    run (every non-blank cell of row 0 was written under the head), found by a first pass in
    place (no configuration kept). A diagram of more than :data:`MAX_SHOW_CELLS` cells is
    refused before anything is printed. An engine whose head leaves those columns disagrees
    with the reference: that is reported, exit 2, after the lines so far.
    """

    def __init__(self, machine, steps: int, out=None) -> None:
        from simulators.turing import walk

        self.machine, self.out = machine, out
        lo = hi = 0
        lines = 0
        for cfg in walk(machine, steps):
            lines += 1
            if cfg.head[0] == 0:
                lo, hi = min(lo, cfg.head[1]), max(hi, cfg.head[1])
            if lines * (hi - lo + 1) > MAX_SHOW_CELLS:
                raise UsageError(
                    f"--show: the diagram would have at least {lines:,} lines of "
                    f"{hi - lo + 1:,} cells, more than the limit of {MAX_SHOW_CELLS:,} cells; "
                    "ask for fewer --steps"
                )
        self.lo, self.hi = lo, hi

    def __call__(self, cfg) -> None:
        r, c = cfg.head
        if r == 0 and not self.lo <= c <= self.hi:
            raise UsageError(f"--show: at step {cfg.steps} the head is at column {c}, outside "
                             f"the reference run's columns {self.lo}..{self.hi}: the engine "
                             "disagrees with the reference simulator")
        names = self.machine.symbol_names
        cells = []
        for col in range(self.lo, self.hi + 1):
            sym = names[cfg.tape.get((0, col), 0)]
            cells.append(f"[{sym}]" if (r, c) == (0, col) else f" {sym} ")
        state = self.machine.state_name(cfg.state)
        print(printable(f"{cfg.steps:>6} {state:>3} |{''.join(cells)}|"),
              file=self.out or sys.stdout)


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
    show = SpaceTime(machine, args.steps) if args.show else None
    codes = codes_printer(machine) if args.codes else None
    printers = [f for f in (show, codes) if f is not None]
    on_step = None
    if printers:
        def on_step(cfg) -> None:
            for printer in printers:
                printer(cfg)
    final = ENGINES[args.engine](machine, args.steps, args.dtype, on_step)
    summary = summarize(machine, final)
    if args.json:
        print(json.dumps(summary))
    else:
        name = printable(machine.name or args.machine)
        print(f"machine  {name}  (s={machine.n_states}, k={machine.n_symbols})")
        dtype = "" if args.engine == "reference" else f" ({args.dtype})"
        print(f"engine   {args.engine}{dtype}")
        for key, value in summary.items():
            shown = value if key != "tape" or len(value) <= 80 else value[:77] + "..."
            print(f"{key:<8} {printable(str(shown))}")
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
            "to the reference engine's for every machine within the limits (docs/limits.md)."
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
                   help="print the space-time diagram of row 0 as the run goes (head in "
                        f"brackets, state left; at most {MAX_SHOW_CELLS:,} cells)")
    p.add_argument("--codes", action="store_true",
                   help="print every step as it happens: the decoded cells beside the cell "
                        "values the network holds (code = symbol + k*head + 2k*state; "
                        "`srcnn explain MACHINE` prints the whole table)")
    p.set_defaults(func=run)
    return p

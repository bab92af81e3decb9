"""``srcnn learn``: Algorithm 1 end to end, or the reference learner, on CSV data.

    srcnn learn LEARNER --train TRAIN.csv --test TEST.csv [--engine reference|rcnn]
                        [--dtype float32|float64] [--steps T] [--work-columns l] [--json]
                        [--trace [--trace-layers LIST] [--trace-point K]] [--trace-out PNG]

``--engine rcnn`` builds the learner's RCNN (constructions/learner.py) with
``L = 1 + t(m, d)`` layers, fills its memory layer by Algorithm 1 (plain SGD on ``W``, one
step per training example and the dummy example, gradients by ``loss.backward()`` through
all ``L`` layers) and then runs a forward pass per test point. ``--engine reference`` runs
the learner's plain-Python reference implementation (library learners) or the learner
machine on the reference grid simulator (machine files). Both print the same JSON.
``--trace`` (rcnn engine) shows the run from inside: ``W`` after every SGD step, the grid at
chosen layers, the predictions and, for parity, ``S`` (srcnn/learn_trace.py, docs/explain.md).
"""

from __future__ import annotations

import argparse
import json
import sys

from simulators.inputs import printable, shown, source_label
from srcnn.common import (
    EXIT_OK,
    UsageError,
    is_file,
    naming,
    output_file,
    progress_bar,
    step_count,
)

MAX_CELL_UPDATES = 2 * 10**9
"""Refuse runs whose network work (cells x layers, over memorisation and test passes)
exceeds this, before anything is allocated."""
MAX_WORK_COLUMNS = 1024
"""``--work-columns`` at most this (the tape has ``d + 1 + l`` columns)."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from simulators.learner_tape import LIBRARY_LEARNERS

    p = subparsers.add_parser(
        "learn",
        help="train by Algorithm 1 (SGD on the memory layer) and predict with a learner RCNN",
        description=(
            "Run a learning algorithm on TRAIN.csv and print its predictions on TEST.csv. "
            "With --engine rcnn the paper's construction does it: one RCNN whose shared "
            "weights are fixed; SGD (Algorithm 1) writes the training set into its memory "
            "layer W, then every test point goes through L = 1 + t(m, d) applications of the "
            "shared 3x3 patch network, which run the learner machine. With --engine "
            "reference the learner's plain-Python reference implementation answers. "
            "TRAIN.csv: one example per line, d values in {-1,1} then the label, no header; "
            "TEST.csv: d values per line."
        ),
        epilog=(f"library learners: {', '.join(LIBRARY_LEARNERS)} (ties and time bounds: "
                "docs/learner_tape.md). A learner machine file (.tm) needs --steps."),
    )
    p.add_argument("learner", metavar="LEARNER",
                   help="a library learner name or a learner machine file (.tm)")
    p.add_argument("--train", required=True, metavar="TRAIN.csv", help="training examples")
    p.add_argument("--test", required=True, metavar="TEST.csv", help="test points")
    p.add_argument("--engine", choices=("reference", "rcnn", "events"), default="rcnn",
                   help="the compiled network after Algorithm 1 (default), the same network "
                        "evaluated only where a cell's input changed (events: bit for bit the "
                        "same, limited by work rather than depth; docs/events.md), or the "
                        "reference")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="floating-point type of the rcnn engine (default float32)")
    p.add_argument("--steps", type=step_count, metavar="T",
                   help="machine steps to allow, L = 1 + T (default: the library learner's "
                        "proven bound t(m, d); required for machine files)")
    p.add_argument("--work-columns", type=int, default=None, metavar="l",
                   help="work columns of the learner tape for a machine file (default 1)")
    p.add_argument("--json", action="store_true",
                   help='print {"predictions", "m", "d", "layers", "grid", '
                        '"shared_parameters"} as one JSON object (with --trace, also "trace")')
    t = p.add_argument_group("trace (--engine rcnn): see inside the run")
    t.add_argument("--trace", action="store_true",
                   help="print W after every SGD step, the learner's grid at --trace-layers "
                        "for test point --trace-point (head in brackets), the prediction per "
                        "test point, and for parity the feature set S the network found")
    t.add_argument("--trace-layers", default="0,1,L", metavar="LIST",
                   help="layers to show, comma-separated, L = the last (default 0,1,L)")
    t.add_argument("--trace-point", type=int, default=1, metavar="K",
                   help="the test point whose grids are shown (1-based, default 1)")
    t.add_argument("--trace-out", type=output_file, metavar="FILE.png",
                   help="also draw W after every SGD step as an image (.png or .pdf)")
    p.set_defaults(func=run)
    return p


def _compile(args: argparse.Namespace):
    from constructions.learner import (
        LearnerError,
        compile_learner_file,
        compile_library_learner,
    )
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError

    name = args.learner
    if name in LIBRARY_LEARNERS:
        if args.work_columns is not None:
            raise UsageError("--work-columns applies to machine files only")
        return compile_library_learner(name), True
    if not is_file(name):
        raise UsageError(f"unknown learner {shown(name)}: not a library learner "
                         f"({', '.join(LIBRARY_LEARNERS)}) and no such file")
    l = 1 if args.work_columns is None else args.work_columns  # noqa: E741
    if not 1 <= l <= MAX_WORK_COLUMNS:
        raise UsageError(f"--work-columns must be between 1 and {MAX_WORK_COLUMNS}, got {l}")
    try:
        return compile_learner_file(name, l), False
    except (AssemblyError, LearnerTapeError, LearnerError, ValueError) as e:
        raise UsageError(naming(name, str(e))) from None


def _progress(total: int, desc: str):
    if total <= 1:
        return None
    return progress_bar(total, desc, "pt" if desc in ("evaluate", "reference") else "step")


def _reference(learner, library: bool, X, y, tests, steps: int | None, spec: str):
    import numpy as np

    from simulators.learner_tape import LearnerTapeError, run_learner
    from simulators.learners import predict
    from simulators.turing import HeadLeftGrid

    if library:
        return np.asarray(predict(learner.name, X, y, tests), dtype=np.int64)
    out = []
    bar = _progress(len(tests), "reference")
    try:
        for i, x in enumerate(tests):
            try:
                run = run_learner(learner.machine, X, y, x, l=learner.l, max_steps=steps)
            except (LearnerTapeError, HeadLeftGrid) as e:
                raise UsageError(naming(spec, f"test point {i + 1}: {e}")) from None
            out.append(run.prediction)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return np.asarray(out, dtype=np.int64)


def _trace(args: argparse.Namespace, learner, X, y, tests, result, Ws, outputs,
           trace_layers: list[int]) -> dict:
    """Build the --trace record and write the --trace-out image (one-line error on I/O)."""
    from srcnn.learn_trace import build_trace, write_trace_image

    if args.trace_out is not None:
        try:
            write_trace_image(args.trace_out, learner.name, X, y, result, Ws, outputs,
                              str(args.train))
        except (OSError, ValueError) as e:
            reason = getattr(e, "strerror", None) or e
            raise UsageError(f"cannot write {source_label(args.trace_out)}: {reason}") from None
        print(f"srcnn learn: wrote {printable(str(args.trace_out))}", file=sys.stderr)
    return build_trace(learner, X, y, tests, result, Ws, outputs, trace_layers,
                       args.trace_point)


def run(args: argparse.Namespace) -> int:
    """Run ``srcnn learn``; returns 0, bad input raises :class:`UsageError` (exit 2)."""
    import torch

    from constructions.learner import MAX_LAYERS, LearnerError, learn
    from simulators.datasets import DatasetError, read_train_test

    try:
        X, y, tests = read_train_test(args.train, args.test)
    except DatasetError as e:
        raise UsageError(str(e)) from None
    m, d = X.shape
    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    learner, library = _compile(args)
    if args.steps is None and not library:
        raise UsageError(f"learner machine file {source_label(args.learner)} has no proven "
                         "time bound: give --steps T (the network gets L = 1 + T layers)")
    layers = learner.layers(m, d, args.steps)
    if args.engine == "events":
        from constructions.events_learn import check_work

        try:
            check_work(learner, m, d, len(tests), layers)
        except LearnerError as e:
            raise UsageError(naming(args.learner, str(e))) from None
    elif layers > MAX_LAYERS:
        raise UsageError(naming(args.learner, f"depth L = {layers:,} for m = {m}, d = {d} "
                                              f"exceeds the limit {MAX_LAYERS:,}"))
    rows, cols = m + 1, d + 1 + learner.l
    work = layers * rows * cols * (4 * (m + 1) + len(tests))
    if args.engine == "rcnn" and work > MAX_CELL_UPDATES:
        raise UsageError(naming(args.learner, f"this run needs about {work:,} network cell "
                                              f"updates (L = {layers:,} layers on a {rows} x "
                                              f"{cols} grid, {m + 1} SGD steps and "
                                              f"{len(tests)} test points); the limit is "
                                              f"{MAX_CELL_UPDATES:,}"))
    tracing = args.trace or args.trace_out is not None
    if tracing:
        from srcnn.learn_trace import TraceError, parse_layers

        if args.engine != "rcnn":
            raise UsageError("--trace and --trace-out show the network: use --engine rcnn")
        if not 1 <= args.trace_point <= len(tests):
            raise UsageError(f"--trace-point {args.trace_point} is not a test point of "
                         f"{args.test} (it has {len(tests)})")
        try:
            trace_layers = parse_layers(args.trace_layers, layers)
        except TraceError as e:
            raise UsageError(str(e)) from None
    trace = None
    if args.engine == "reference":
        predictions = _reference(learner, library, X, y, tests, args.steps, args.learner)
    else:
        dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
        if args.engine == "events":
            from constructions.events import warn_if_slow

            warn_if_slow("auto")
        bar_m, bar_t = _progress(m + 1, "memorise"), None

        def on_step(i, y_hat, W):
            if bar_m is not None:
                bar_m.update(1)

        def on_batch(n):
            nonlocal bar_t
            if bar_t is None:
                bar_t = _progress(len(tests), "evaluate")
            if bar_t is not None:
                bar_t.update(n)

        try:
            engine = "events" if args.engine == "events" else "dense"
            if tracing:
                from constructions.explorer import learn_with_trace

                result, Ws, outputs = learn_with_trace(learner, X, y, tests, dtype,
                                                       steps=args.steps, on_step=on_step,
                                                       on_batch=on_batch, engine=engine)
            else:
                result = learn(learner, X, y, tests, dtype, steps=args.steps,
                               on_step=on_step, on_batch=on_batch, engine=engine)
        except LearnerError as e:
            raise UsageError(naming(args.learner, str(e))) from None
        except RuntimeError as e:  # constructions.events.EventsError
            if type(e).__name__ != "EventsError":
                raise
            raise UsageError(naming(args.learner, str(e))) from None
        finally:
            for bar in (bar_m, bar_t):
                if bar is not None:
                    bar.close()
        bad = [i for i, v in enumerate(result.train_outputs) if v != 0]
        if bad:
            print(f"srcnn learn: warning: SGD step {bad[0] + 1} saw output "
                  f"{result.train_outputs[bad[0]]!r}, not 0 (Lemma 1 (1) violated)",
                  file=sys.stderr)
        predictions = result.predictions
        if tracing:
            trace = _trace(args, learner, X, y, tests, result, Ws, outputs, trace_layers)
    record = {"predictions": [int(v) for v in predictions], "m": m, "d": d, "layers": layers,
              "grid": [rows, cols], "shared_parameters": learner.n_shared_parameters}
    if trace is not None and args.trace:
        record["trace"] = trace
    if args.json:
        print(json.dumps(record))
    else:
        if trace is not None and args.trace:
            from srcnn.learn_trace import trace_text

            print(trace_text(trace, d, tests))
            print()
        print(f"learner  {printable(learner.name)}  (engine {args.engine}"
              + (f", {args.dtype})" if args.engine != "reference" else ")"), file=sys.stderr)
        print(f"data     m = {m} examples, d = {d} features, {len(tests)} test points",
              file=sys.stderr)
        print(f"network  L = {layers} layers on a {rows} x {cols} grid, "
              f"{learner.n_shared_parameters:,} shared parameters", file=sys.stderr)
        for v in record["predictions"]:
            print(f"{v:+d}")
    return EXIT_OK

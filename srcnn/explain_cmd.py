"""``srcnn explain``: a compiled network in words, and an interactive page to step through it.

    srcnn explain MACHINE [--json] [--html OUT.html [--steps N]]
    srcnn explain LEARNER --train TRAIN.csv --test TEST.csv [--point K] [--json] [--html OUT]
    srcnn explain FILE.safetensors [--json] [--html OUT.html]

Prints the cell encoding (value -> symbol, head, state) and every hidden unit of the shared
patch network: when it fires and what it adds (constructions/explain.py). ``--html`` writes
one self-contained page (no server, no network; open it from disk) that steps the network
layer by layer (constructions/explorer.py computes every value shown, in Python, with the
real network). See docs/explain.md.
"""

from __future__ import annotations

import argparse
import html
import json
from importlib import resources
from pathlib import Path

from simulators.inputs import source_label
from srcnn.common import (
    EXIT_OK,
    UsageError,
    compile_learner_arg,
    load_machine_arg,
    naming,
    output_file,
)

DEFAULT_HTML_STEPS = 1000
"""Machine steps the page embeds unless --steps says otherwise (runs stop at the halt)."""
TEXT_CODES = 64
"""Rows of the code table printed as text (``--json`` lists every code)."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from simulators.learner_tape import LIBRARY_LEARNERS

    p = sub.add_parser(
        "explain",
        help="say what every unit of a compiled network does; --html: step through it",
        description=(
            "Explain the network compiled for MACHINE: its cell encoding (value -> symbol, "
            "head, state) and every hidden unit of the shared 3x3 patch network in words "
            "(when it fires and what it adds to the next cell value), then the pixel-wise "
            "head. MACHINE is a machine (bbchallenge string, file, built-in name), a learner "
            f"({', '.join(LIBRARY_LEARNERS)}, or a learner .tm file with --learner; needs "
            "--train and --test), or a .safetensors file written by `srcnn compile -o` (the "
            "machine in its metadata is recompiled; if the stored weights differ, the units "
            "are described from the stored weights alone, and the output says so). "
            "--html writes an interactive page that steps the network layer by layer."
        ),
        epilog="Every value on the page comes from the real network, computed when the page "
               "is written; the page itself needs no server and no network (docs/explain.md).",
    )
    p.add_argument("machine", metavar="MACHINE",
                   help="machine, learner name, or .safetensors file from srcnn compile -o")
    p.add_argument("--learner", action="store_true",
                   help="MACHINE is a learner machine file (.tm); library names need no flag")
    p.add_argument("--json", action="store_true",
                   help="print the explanation as one JSON object (every code, every unit)")
    p.add_argument("--html", type=output_file, metavar="OUT.html",
                   help="write the interactive explorer page here")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help=f"machine steps shown on the page (default: to the halt, at most "
                        f"{DEFAULT_HTML_STEPS}); for a learner: machine steps T (L = 1 + T; "
                        "default its proven bound)")
    p.add_argument("--train", metavar="TRAIN.csv",
                   help="learners: training examples (d values in {-1,1}, then the label)")
    p.add_argument("--test", metavar="TEST.csv", help="learners: test points (d values)")
    p.add_argument("--point", type=int, default=1, metavar="K",
                   help="learners: the test point the page runs (1-based, default 1)")
    p.set_defaults(func=run)
    return p


def _is_learner(args: argparse.Namespace) -> bool:
    from simulators.learner_tape import LIBRARY_LEARNERS

    return args.learner or args.machine in LIBRARY_LEARNERS


def run(args: argparse.Namespace) -> int:
    from constructions.explain import ExplainError

    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    try:
        if args.machine.endswith(".safetensors"):
            exp, rollout, title = _weight_file(args)
        elif _is_learner(args):
            exp, rollout, title = _learner(args)
        else:
            exp, rollout, title = _machine(args)
    except ExplainError as e:
        raise UsageError(naming(args.machine, e)) from None
    if args.html:
        _write_page(args.html, exp, rollout, title)
    if args.json:
        record = dict(exp)
        if rollout is not None and rollout["mode"] == "learner":
            record["run"] = _learner_summary(rollout)
        print(json.dumps(record))
    else:
        from constructions.explain import to_text

        print(to_text(exp, TEXT_CODES))
        if rollout is not None and rollout["mode"] == "learner":
            print()
            print(_learner_text(rollout))
        if args.html:
            print(f"\nwrote {args.html}: open it in a browser (no server needed)")
    return EXIT_OK


def _machine_steps(args: argparse.Namespace) -> int:
    return DEFAULT_HTML_STEPS if args.steps is None else args.steps


def _machine(args: argparse.Namespace):
    from constructions.explain import explain_machine
    from constructions.tm import CompileError, compile_tm

    machine = load_machine_arg(args.machine)
    try:
        ctm = compile_tm(machine)
    except CompileError as e:
        raise UsageError(naming(args.machine, e)) from None
    rollout = None
    if args.html:
        from constructions.explorer import machine_rollout

        rollout = machine_rollout(ctm, _machine_steps(args))
    return explain_machine(ctm), rollout, machine.name or args.machine


def _weight_file(args: argparse.Namespace):
    from constructions.explain_file import explain_weight_file, read_weight_file

    path = Path(args.machine)
    if not path.is_file():
        raise UsageError(f"{source_label(path)}: no such file")
    exp = explain_weight_file(str(path))
    rollout = None
    if args.html:
        wf = read_weight_file(str(path))
        if "learner" in wf.meta:
            raise UsageError(f"{path} holds a learner network: for its page, run "
                             f"`srcnn explain {wf.meta['learner']} --train ... --test ... "
                             f"--html OUT.html`")
        from constructions.explorer import machine_rollout

        rollout = machine_rollout(wf.compiled, _machine_steps(args), wf.patch, wf.head)
    return exp, rollout, path.name


def _learner(args: argparse.Namespace):
    import numpy as np

    from constructions.explain import explain_learner
    from constructions.explorer import learner_rollout
    from constructions.learner import LearnerError
    from simulators.datasets import DatasetError, read_train_test

    learner = compile_learner_arg(args.machine)
    if not args.train or not args.test:
        raise UsageError(f"learner {args.machine} needs data: give --train TRAIN.csv and "
                         f"--test TEST.csv (its explanation runs Algorithm 1 on them)")
    try:
        X, y, tests = read_train_test(args.train, args.test)
    except DatasetError as e:
        raise UsageError(str(e)) from None
    if not 1 <= args.point <= len(tests):
        raise UsageError(f"--point {args.point} is not a test point of {args.test} "
                         f"(it has {len(tests)})")
    if args.steps is None and learner.bound is None:
        raise UsageError(f"learner machine file {args.machine} has no proven time bound: "
                         f"give --steps T")
    try:
        rollout = learner_rollout(learner, X, y, np.asarray(tests[args.point - 1]), args.steps)
    except LearnerError as e:
        raise UsageError(str(e)) from None
    rollout["point"] = args.point
    return explain_learner(learner), rollout, learner.name


def _learner_summary(r: dict) -> dict:
    return {"point": r["point"], "x": r["x"], "prediction": r["prediction"],
            "layers": r["layers"], "W_thirds": r["W_steps"][-1]["W_thirds"],
            "outputs_during_memorisation": [s["output"] for s in r["W_steps"]],
            "every_layer_matches_reference": all(r["match"][1:])}


def _learner_text(r: dict) -> str:
    from constructions.explain import tape_text, w_table_text

    final = r["decoded"][-1]
    lines = [f"Algorithm 1 on the data (m = {r['m']}, d = {r['d']}): W after the last SGD "
             "step, in units of 1/3",
             w_table_text(r["W_steps"][-1]["W_thirds"], r["d"]),
             "", f"test point {r['point']} x = {r['x']}: learner tape after layer 1",
             tape_text(r["decoded"][1]),
             "", f"after layer {r['layers']} (the last)", tape_text(final),
             "", f"prediction {r['prediction']:+d}; every layer's decoded tape equals the "
             f"reference grid machine's: {'yes' if all(r['match'][1:]) else 'NO'}"]
    return "\n".join(lines)


def _write_page(path: Path, exp: dict, rollout: dict, title: str) -> None:
    data = {"explanation": exp, "rollout": rollout, "title": f"srcnn explorer: {title}"}
    if rollout["mode"] == "learner":
        data["subtitle"] = (f"Learner {title}: Algorithm 1 writes the {rollout['m']} "
                            f"examples into W (one SGD step each, plus the dummy), then the "
                            f"same network runs the learner machine on test point "
                            f"{rollout['point']} for L = {rollout['layers']} layers; "
                            f"prediction {rollout['prediction']:+d}.")
    else:
        n = len(rollout["grids"]) - 1
        data["subtitle"] = (f"Machine {title} (s = {exp['s']}, k = {exp['k']}): {n} "
                            f"layer(s) of the shared 3x3 patch network, one machine step "
                            f"each" + (", until it halts." if rollout["halted"] else "."))
    data["about"] = ("Written by `srcnn explain`. Every value on this page was computed by the "
                     "real network (float64) when the page was written and checked against "
                     "the rollout; the reference configurations come from the independent "
                     "simulator. Docs: docs/explain.md of succinct-rcnn.")
    template = resources.files("srcnn").joinpath("explorer.html").read_text(encoding="utf-8")
    try:
        payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise UsageError("the network's cell values overflow (inf or NaN): the weights do not "
                         "run this machine; no page written") from None
    payload = payload.replace("</", "<\\/")
    page = template.replace("__TITLE__", html.escape(title)).replace("__DATA__", payload)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None

"""Checks of the TM-step construction: one shared patch-network layer = one machine step.

Paper: §4.2 "Computation", the part of Lemma 1 (2) that runs the learner's machine.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from constructions.engine import network_model, run_network
from constructions.tm import compile_tm, tm_encoding
from proofs_check.certificates_files import certify_machine
from proofs_check.local_views import CORNERS, expected_centres, local_views
from proofs_check.registry import Result, check
from simulators.formats import builtin_expectations, builtin_machines, check_expectation
from simulators.sampling import ALL_MOVES, all_machines, random_machine
from simulators.turing import trace


def _agree_step_by_step(machine, steps: int, engine: str) -> tuple[bool, int]:
    ctm = compile_tm(machine)
    ref = list(trace(machine, steps))
    got = []
    run_network(ctm, steps, engine=engine, on_step=got.append, chunk=32)
    same = len(got) == len(ref) and all(
        (a.tape, a.head, a.state, a.steps) == (b.tape, b.head, b.state, b.steps)
        for a, b in zip(got, ref))
    return same, len(ref) - 1


@check("tm-step-library", "Lemma 1 (2) computation: one layer = one TM step",
       "exhaustive", "library machines: network = reference at every step, and certified",
       params=lambda mode: {"engines": ["float32", "float64", "exact"],
                            "bb5_steps": 300 if mode == "quick" else 3000})
def library(mode: str, seed: int) -> Result:
    expect = builtin_expectations()
    bb5_steps = 300 if mode == "quick" else 3000
    rows, ok = {}, True
    for name, machine in builtin_machines().items():
        steps = expect.get(name, {}).get("steps", 200)
        if name == "bb5":
            steps = bb5_steps
        steps = min(steps + 10, 2000 if name != "bb5" else bb5_steps)
        engines = ["float32", "float64"] + (["exact"] if steps <= 200 else [])
        for engine in engines:
            same, n = _agree_step_by_step(machine, steps, engine)
            rows[f"{name}/{engine}"] = n
            ok &= same
    # The recorded expectations (steps, halted, state, head, ones, tape), on the network.
    mismatches = {}
    for name, e in expect.items():
        if name == "bb5":
            continue
        machine = builtin_machines()[name]
        final = run_network(compile_tm(machine), e["steps"], engine="float32")
        problems = check_expectation(machine, e, final)
        if problems:
            mismatches[name] = problems
    ok &= not mismatches
    # Every machine certified on every valid view: after the halt and from any tape too.
    certified = {}
    for name, machine in builtin_machines().items():
        verdict = certify_machine(machine)
        certified[name] = {k: verdict[k] for k in ("proven", "views", "seconds")}
        ok &= verdict["proven"]
    return Result(ok, {"steps_compared": rows, "expectation_mismatches": mismatches,
                       "certificates": certified},
                  f"{len(rows)} runs, {sum(rows.values())} steps compared, "
                  f"{sum(c['proven'] for c in certified.values())}/{len(certified)} certified")


@check("tm-step-exhaustive-2x2", "Lemma 1 (2) computation: every 2-state 2-symbol machine",
       "exhaustive", "every local view of every 2x2 transition table",
       params=lambda mode: {"machines": "all 28561" if mode == "thorough" else "2000 sampled"})
def exhaustive(mode: str, seed: int) -> Result:
    enc = tm_encoding(2, 2)
    patches, keys = local_views(enc, 2, 2)
    tables = list(all_machines(2, 2))
    if mode == "quick":
        tables = random.Random(seed).sample(tables, 2000)
    x = torch.from_numpy(patches)
    bad = 0
    for machine in tables:
        ctm = compile_tm(machine)
        if ctm.patch.A1[:, list(CORNERS)].any():
            bad += 1
            continue
        with torch.no_grad():
            got = network_model(ctm, "float64").patch_network(x).numpy()
        bad += int(not np.array_equal(got, expected_centres(machine, enc, patches, keys)))
    return Result(bad == 0, {"machines": len(tables), "views_per_machine": len(patches),
                             "mismatching_machines": bad},
                  f"{len(tables)} machines x {len(patches)} views, {bad} mismatches")


@check("tm-step-random", "Lemma 1 (2) computation: random machines up to 6 states x 3 symbols",
       "property-based", "random 1-D and grid machines: rollouts compared, and certified",
       params=lambda mode: {"machines": 60 if mode == "quick" else 600, "steps": 100})
def random_rollouts(mode: str, seed: int) -> Result:
    rng = random.Random(seed)
    n = 60 if mode == "quick" else 600
    bad = uncertified = views = 0
    for i in range(n):
        moves = ALL_MOVES if i % 3 == 0 else ALL_MOVES[:2]
        machine = random_machine(rng, rng.randint(1, 6), rng.randint(2, 3), moves)
        same, _ = _agree_step_by_step(machine, 100, "float32" if i % 2 else "float64")
        bad += not same
        # and proven on every valid view (any tape, any state, after the halt)
        verdict = certify_machine(machine, "float32" if i % 2 else "float64")
        uncertified += not verdict["proven"]
        views += verdict.get("views", 0)
    return Result(bad == 0 and uncertified == 0,
                  {"machines": n, "steps": 100, "mismatches": bad, "uncertified": uncertified,
                   "views_certified": views},
                  f"{n} machines, {bad} mismatches, {n - uncertified} certified")

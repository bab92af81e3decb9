"""Checks of the pieces a learner's computation is built from (Lemma 1 (2)): classifier
circuits on the universal circuit RCNN, and the learner machines on the learner tape."""

from __future__ import annotations

import random

import numpy as np

from constructions.circuit import compile_circuit, run_circuit_batch
from proofs_check.registry import Result, check
from simulators.circuit_library import LIBRARY, load_library_circuit
from simulators.circuits import evaluate_all, random_circuit
from simulators.datasets import all_points, random_dataset, random_parity
from simulators.learner_tape import LIBRARY_LEARNERS, load_learner_machine, run_learner, time_bound
from simulators.learners import predict


def _all_inputs(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int64)


@check("circuit-universal", "Lemma 1 (2) classifier circuits on one universal RCNN",
       "exhaustive", "library and random circuits: network = reference on every input",
       params=lambda mode: {"random_circuits": 10 if mode == "quick" else 100,
                            "max_inputs": 8 if mode == "quick" else 10})
def circuits(mode: str, seed: int) -> Result:
    rng = random.Random(seed)
    cases = {name: load_library_circuit(name) for name in LIBRARY
             if load_library_circuit(name).n_inputs <= 10}
    n_random = 10 if mode == "quick" else 100
    max_inputs = 8 if mode == "quick" else 10
    for i in range(n_random):
        n = rng.randint(1, max_inputs)
        cases[f"random{i}"] = random_circuit(rng, n, rng.randint(1, 30), rng.randint(1, 4))
    bad, params, assignments = [], set(), 0
    for name, circuit in cases.items():
        compiled = compile_circuit(circuit)
        params.add(compiled.metadata()["shared_parameters"])
        inputs = _all_inputs(circuit.n_inputs)
        got = np.asarray(run_circuit_batch(compiled, inputs, engine="float32"))
        assignments += len(inputs)
        if not np.array_equal(got, evaluate_all(circuit)):
            bad.append(name)
    ok = not bad and len(params) == 1
    return Result(ok, {"circuits": len(cases), "assignments": assignments, "mismatches": bad,
                       "shared_parameters": sorted(params)},
                  f"{len(cases)} circuits, {assignments} inputs, {len(bad)} mismatches, "
                  f"{len(params)} weight set")


@check("learner-machines", "Lemma 1 (2) learner machines on the learner tape (reference grid)",
       "property-based",
       "majority, first_agree, nearest, parity as grid machines = reference learners",
       params=lambda mode: {"datasets_per_learner": 20 if mode == "quick" else 200,
                            "d": "1..6", "m": "0..8", "parity": "d 1..4, m 0..6, parity "
                            "labels with 20% noise on half the datasets",
                            "test_points": "all 2^d"})
def learner_machines(mode: str, seed: int) -> Result:
    rng = random.Random(seed)
    n = 20 if mode == "quick" else 200
    rows, ok = {}, True
    for name in LIBRARY_LEARNERS:
        machine = load_learner_machine(name)
        wrong, worst, runs = 0, 0.0, 0
        for i in range(n):
            if name == "parity":
                d, m = rng.randint(1, 4), rng.randint(0, 6)
                ds = random_parity(d, rng.randint(0, d), m, noise=0.2 * (i % 2),
                                   seed=rng.randrange(2**31))
                X, y = ds.X, ds.y
            else:
                d, m = rng.randint(1, 6), rng.randint(0, 8)
                X, y = random_dataset(d, m, seed=rng.randrange(2**31))
            test = all_points(d)
            expected = predict(name, X, y, test)
            bound = time_bound(name, m, d)
            for x, e in zip(test, expected):
                run = run_learner(machine, X, y, x)
                wrong += run.prediction != e
                worst = max(worst, run.steps / bound)
                runs += 1
        rows[name] = {"states": machine.n_states, "symbols": machine.n_symbols, "runs": runs,
                      "wrong": wrong, "max_steps_over_bound": round(worst, 3)}
        ok &= wrong == 0 and worst <= 1
    return Result(ok, rows, ", ".join(f"{k}: {v['runs']} runs" for k, v in rows.items()))

"""Lemma 1 end to end and Theorem 1's depth, on the compiled learner networks
(constructions/learner.py): Algorithm 1 memorises through the network, then the same
network computes each library learner."""

from __future__ import annotations

import functools
import math
import random

import numpy as np
import torch

from constructions.learner import (
    CARRIER,
    LEARNING_RATE,
    compile_library_learner,
    conversion_mismatches,
    conversion_patches,
    predict,
    single_thread,
)
from constructions.memorisation import memorisation_errors
from constructions.representation import gates_spec
from proofs_check.registry import Result, check
from simulators.datasets import all_points
from simulators.learner_tape import LIBRARY_LEARNERS, time_bound
from simulators.learners import predict as reference_predict

LR = float(LEARNING_RATE)
"""The SGD learning rate the checks use (tests set a wrong one to see them fail)."""


def layers_for(name: str, m: int, d: int) -> int:
    """Theorem 1's depth for library learner ``name`` (tests truncate it to break checks)."""
    return compile_library_learner(name).layers(m, d)


def _n_datasets(mode: str) -> int:
    return 6 if mode == "quick" else 40


MAX_SIZES = {"parity": (4, 5)}
"""Largest (d, m) drawn per learner (default (6, 8)); parity's machine runs ~3-15x longer
on a ~3x wider network, so its checks stay smaller (issue 4's tests go further)."""


@functools.cache
def _runs(mode: str, seed: int, lr: float, layer_fn) -> tuple[dict, ...]:
    """Algorithm 1 then every test point, for random datasets and every library learner,
    alternating float32 and float64; one record per run."""
    rng = random.Random(seed)
    out = []
    for name in LIBRARY_LEARNERS:
        learner = compile_library_learner(name)
        max_d, max_m = MAX_SIZES.get(name, (6, 8))
        for i in range(_n_datasets(mode)):
            d, m = rng.randint(1, max_d), rng.randint(0, max_m)
            X = np.array([[rng.choice((-1, 1)) for _ in range(d)] for _ in range(m)],
                         dtype=np.int64).reshape(m, d)
            y = np.array([rng.choice((-1, 1)) for _ in range(m)], dtype=np.int64)
            dtype = (torch.float32, torch.float64)[i % 2]
            model = learner.rcnn(m, d, dtype, layers=layer_fn(name, m, d))
            points = all_points(d)
            with single_thread():
                mem = memorisation_errors(model, X, y, lr=lr)
                y_hat = predict(model, points)
            want = reference_predict(name, X, y, points)
            wrong = int(np.sum(y_hat != want))
            out.append({"learner": name, "m": m, "d": d, "dtype": str(dtype)[6:],
                        "layers": model.layers, "sgd_steps": m + 1,
                        "memorisation_errors": mem[:1], "test_points": len(points),
                        "wrong_predictions": wrong})
    return tuple(out)


def _summary(runs, key: str) -> dict:
    return {name: {"runs": sum(r["learner"] == name for r in runs),
                   "failures": sum(bool(r[key]) for r in runs if r["learner"] == name)}
            for name in LIBRARY_LEARNERS}


@check("lemma1-learner-memorisation",
       "Lemma 1 (1) memorisation through the full learner network (Algorithm 1)",
       "property-based",
       "Algorithm 1 (torch.optim.SGD on W, loss.backward through L = 1 + t layers) on every "
       "library learner network: W after every step, output exactly 0",
       params=lambda mode: {"datasets_per_learner": _n_datasets(mode), "d": "1..6",
                            "m": "0..8", "parity": "d 1..4, m 0..5",
                            "learners": list(LIBRARY_LEARNERS), "lr": "1/3",
                            "dtypes": ["float32", "float64"]})
def learner_memorisation(mode: str, seed: int) -> Result:
    runs = _runs(mode, seed, LR, layers_for)
    bad = [r for r in runs if r["memorisation_errors"]]
    steps = sum(r["sgd_steps"] for r in runs)
    return Result(not bad, {"per_learner": _summary(runs, "memorisation_errors"),
                            "sgd_steps_checked": steps,
                            "max_layers": max(r["layers"] for r in runs),
                            "failures": bad[:5]},
                  f"{len(runs)} runs, {steps} SGD steps, {len(bad)} failures")


@check("lemma1-computation",
       "Lemma 1 (2) after memorisation the network returns A(S)[x] on every test point",
       "property-based",
       "every point of {-1,1}^d through the memorised network against the reference learner",
       params=lambda mode: {"datasets_per_learner": _n_datasets(mode), "d": "1..6",
                            "m": "0..8", "parity": "d 1..4, m 0..5", "test_points": "all 2^d",
                            "learners": list(LIBRARY_LEARNERS)})
def computation(mode: str, seed: int) -> Result:
    runs = _runs(mode, seed, LR, layers_for)
    bad = [r for r in runs if r["wrong_predictions"]]
    points = sum(r["test_points"] for r in runs)
    return Result(not bad, {"per_learner": _summary(runs, "wrong_predictions"),
                            "test_points": points, "failures": bad[:5]},
                  f"{points} test points over {len(runs)} runs, "
                  f"{sum(r['wrong_predictions'] for r in runs)} wrong")


@check("lemma1-phase-detection",
       "Lemma 1 (2) communication: the test phase is detected locally, 0 broadcast layers",
       "exhaustive",
       "every layer-1 patch (3,125, float32 and float64): exact value and Jacobian; a head "
       "is born only at the dummy label cell holding +1/3, and only the first empty row "
       "carries slope",
       params=lambda mode: {"learners": list(LIBRARY_LEARNERS), "patches": 5**5,
                            "dtypes": ["float32", "float64"]})
def phase_detection(mode: str, seed: int) -> Result:
    rows, ok = {}, True
    for name in LIBRARY_LEARNERS:
        learner = compile_library_learner(name)
        mismatches = sum(len(conversion_mismatches(learner, dt))
                         for dt in (torch.float32, torch.float64))
        k = learner.machine.n_symbols
        births, carriers = 0, 0
        pts = conversion_patches(torch.float64)
        exact = [tuple(_exact(v) for v in p) for p in pts]
        for p, (v, jac) in zip(exact, gates_spec(learner.gates, exact)):
            code = v - 2
            head = v >= 2 and (int(code) // k) % 2 == 1
            if head:
                births += 1
                # centre +1/3, east = work column (1), south = padding
                ok &= (p[4], p[5], p[7]) == (_exact(1 / 3), 1, -1)
            if any(jac):
                carriers += 1
                ok &= v == CARRIER and p[4] == 0 and p[1] != 0 and jac[4] == 1
        ok &= mismatches == 0
        # head-birth patterns: centre +1/3, east 1, south padding, north padding or a
        # memory value (-1/3, 0, +1/3; never the work value 1), west any of the 5 values
        ok &= births == 4 * 5
        rows[name] = {"float_mismatches": mismatches, "head_birth_patches": births,
                      "carrier_patches": carriers}
    return Result(ok, {"per_learner": rows, "broadcast_layers": 0,
                       "paper_broadcast_layers": "about d + m"},
                  "0 extra layers (paper: about d + m)")


def _exact(v: float):
    from fractions import Fraction

    return Fraction(1, 3) if v == 1 / 3 else Fraction(-1, 3) if v == -1 / 3 else Fraction(v)


@check("thm1-depth", "Theorem 1 depth L = c1 (t + m + d), measured", "exhaustive",
       "L = 1 + t(m, d) for each library learner; halting layer measured on random data",
       params=lambda mode: {"m": "0..16", "d": "1..8", "learners": list(LIBRARY_LEARNERS)})
def depth(mode: str, seed: int) -> Result:
    rows = {}
    ok = True
    for name in LIBRARY_LEARNERS:
        learner = compile_library_learner(name)
        ratios = [learner.layers(m, d) / (time_bound(name, m, d) + m + d)
                  for m in range(17) for d in range(1, 9)]
        c1 = max(ratios)
        ok &= c1 <= 1 and all(learner.layers(m, d) == 1 + time_bound(name, m, d)
                              for m in range(17) for d in range(1, 9))
        s = learner.machine.n_states
        rows[name] = {"c1": c1, "L(8,6)": learner.layers(8, 6), "t(8,6)": time_bound(name, 8, 6),
                      "s": s, "k": learner.machine.n_symbols, "bits": learner.bits,
                      "c3": learner.bits - math.ceil(math.log2(s)),
                      "weight_set": len(learner.weight_set),
                      "shared_parameters": learner.n_shared_parameters}
    c1 = max(r["c1"] for r in rows.values())
    return Result(ok, {"per_learner": rows, "c1": c1, "formula": "L = 1 + t(m, d)"},
                  f"c1 = {c1:g} (L = 1 + t <= t + m + d)")

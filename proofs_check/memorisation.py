"""Lemma 1 (1): Algorithm 1 run literally on the memorisation construction."""

from __future__ import annotations

import random

import numpy as np
import torch

from constructions.memorisation import memorisation_errors, memorisation_rcnn
from proofs_check.registry import Result, check


@check("lemma1-memorisation", "Lemma 1 (1) memorisation by SGD through L shared layers",
       "property-based",
       "Algorithm 1 with torch.optim.SGD on W alone: W after every step, output exactly 0",
       params=lambda mode: {"datasets": 20 if mode == "quick" else 200, "d": "1..6",
                            "m": "0..8", "layers": [1, 5, 30], "lr": "1/3",
                            "dtypes": ["float32", "float64"]})
def memorisation(mode: str, seed: int) -> Result:
    rng = random.Random(seed)
    n = 20 if mode == "quick" else 200
    failures, steps = [], 0
    for i in range(n):
        d, m = rng.randint(1, 6), rng.randint(0, 8)
        X = np.array([[rng.choice((-1, 1)) for _ in range(d)] for _ in range(m)],
                     dtype=np.int64).reshape(m, d)
        y = np.array([rng.choice((-1, 1)) for _ in range(m)], dtype=np.int64)
        layers = (1, 5, 30)[i % 3]
        dtype = (torch.float32, torch.float64)[i % 2]
        errors = memorisation_errors(memorisation_rcnn(d, m, layers, dtype=dtype), X, y)
        steps += m + 1
        if errors:
            failures.append({"d": d, "m": m, "layers": layers, "first": errors[0]})
    return Result(not failures, {"runs": n, "sgd_steps_checked": steps, "failures": failures},
                  f"{n} runs, {steps} SGD steps, {len(failures)} failures")

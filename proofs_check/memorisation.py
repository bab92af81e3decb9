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


def memorisation_update(d: int, m: int, i: int, eta, jac_scale=1):
    """Symbolic SGD step of Algorithm 1 at step ``i`` (0-based row) for a network that is
    locally ``ŷ = jac_scale * sum_b G_ib`` around the current grid (output 0 there, Jacobian
    ``jac_scale`` on row ``i``, 0 elsewhere). Returns (W before, W after, x, y) as sympy
    objects; ``W`` rows ``< i`` are free symbols, rows ``>= i`` are 0."""
    import sympy as sp

    x = sp.symbols(f"x0:{d}")
    y = sp.Symbol("y")
    z = [*x, sp.Integer(1)]
    W = sp.Matrix(m + 1, d + 1, lambda a, b: sp.Symbol(f"w{a}_{b}") if a < i else 0)
    V = sp.Matrix(m + 1, d + 1, lambda a, b: sp.Symbol(f"v{a}_{b}"))  # a point near W
    y_hat = jac_scale * sum(V[i, b] * z[b] for b in range(d + 1))  # G = V diag(z)
    loss = sp.Rational(1, 2) * (y - y_hat) ** 2
    grad = sp.Matrix(m + 1, d + 1, lambda a, b: sp.diff(loss, V[a, b]))
    grad_at_W = grad.subs({V[a, b]: W[a, b] for a in range(m + 1) for b in range(d + 1)})
    return W, W - eta * grad_at_W, x, y


@check("lemma1-memorisation-symbolic",
       "Lemma 1 (1) derivation: output 0 + Jacobian pattern gives W_i = y [x, 1] / 3",
       "symbolic", "sympy: one SGD step on ½(y - ŷ)² with the Lemma 1 Jacobian pattern",
       params=lambda mode: {"d": [1, 2, 3], "m": [1, 2, 3], "eta": "solved for"})
def memorisation_symbolic(mode: str, seed: int) -> Result:
    import sympy as sp

    rows, ok = [], True
    eta = sp.Symbol("eta")
    for d in (1, 2, 3):
        for m in (1, 2, 3):
            for i in range(m + 1):
                W, W_new, x, y = memorisation_update(d, m, i, eta)
                target = [y * xb / 3 for xb in x] + [y / 3]
                # rows other than i unchanged, whatever eta is
                others = all(sp.simplify(W_new[a, b] - W[a, b]) == 0
                             for a in range(m + 1) if a != i for b in range(d + 1))
                # the update writes y [x, 1] / 3 into row i iff eta = 1/3 (for y, x = ±1)
                etas = set(sp.solve(sp.Eq(W_new[i, 0], target[0]), eta))
                row_ok = all(sp.simplify(W_new[i, b].subs(eta, sp.Rational(1, 3)) - target[b])
                             == 0 for b in range(d + 1))
                good = others and row_ok and etas == {sp.Rational(1, 3)}
                ok &= good
                rows.append({"d": d, "m": m, "i": i + 1, "eta": [str(e) for e in etas],
                             "others_unchanged": others, "row_written": row_ok})
    # A network with a different slope writes the wrong row (the derivation can fail).
    W, W_new, x, y = memorisation_update(2, 1, 0, sp.Rational(1, 3), jac_scale=2)
    slope2 = sp.simplify(W_new[0, 0] - y * x[0] / 3) != 0
    ok &= slope2
    return Result(ok, {"cases": rows, "slope_2_writes_wrong_values": slope2},
                  f"{len(rows)} (d, m, i) cases: eta = 1/3 is the unique rate")

"""Experiment 3 (issue 7): Algorithm 1 with trainable shared weights.

Algorithm 1 moves only the memory layer ``W``; the shared patch network and head stay at the
hand-set construction. Here SGD is also allowed to move the shared weights during
memorisation: every shared parameter (``model.shared_parameters()``) gets
``requires_grad=True`` and joins the optimizer in a second parameter group with its own
learning rate ``eta_shared`` (``W`` keeps ``η = 1/3``). Everything else is Algorithm 1 as in
:func:`constructions.memorisation.algorithm1`: the dummy example ``(1_d, 1)`` appended,
``W = 0``, one ``torch.optim.SGD`` step per example on ``½(y - ŷ)²``, ``loss.backward()``
through all ``L`` layers.

Networks
--------
* a compiled learner network (:func:`constructions.learner.compile_library_learner`,
  ``L = 1 + t(m, d)``): memorisation, then the learner's computation on the test points;
* the memorisation-only network (:func:`constructions.memorisation.memorisation_rcnn`,
  ``memorisation_layers`` layers): memorisation only (it outputs 0 at test time, so no test
  accuracy is measured for it).

Measured per (network, eta_shared, seed); the dataset of seed ``s`` is
``random_dataset(d, m, seed=s)``:

* *memorisation survives*: at every step ``i`` the output is exactly 0 and, after the step,
  rows ``<= i`` of ``W`` equal ``y [x, 1] / 3`` (the dtype's ``1/3``, rounded once) exactly and
  later rows are exactly 0 (Lemma 1 (1));
* *what breaks first*: the first step and quantity that deviates (``output`` = ŷ ≠ 0,
  ``W row i`` = the row being written is not ``y [x, 1] / 3``, ``W rows < i`` = an earlier
  row moved, ``W rows > i`` = a later row became non-zero, ``non-finite``);
* *shared-weight drift* after the last step: max ``|θ - θ0|``, number of changed entries,
  number of entries outside the construction's weight set ``U``;
* *carrier deviation*: per step, max ``|v - CARRIER|`` over the row being written after the
  last layer (the construction passes the carrier code on unchanged with slope 1; when it
  leaves the carrier gate's linear piece the gradient to ``W`` is cut);
* *gradient support*: per step the number of shared entries with a non-zero gradient, and
  (for step 1) the hidden units active on the carrier path (the row being written, in every
  layer) against the units active anywhere and the units that receive a non-zero gradient;
* *test agreement* (learner networks): on all ``2^d`` points, against the reference learner
  (:func:`simulators.learners.predict`): the fraction where ``|ŷ - ref| < 1/2`` (``close``,
  the headline number), where ``sign(ŷ) = ref`` (``sign``; lenient: an output near 0 with
  the right sign counts) and where ``ŷ = ref`` exactly (``±1``, the construction's claim).

Outputs (under ``--out``, written before anything is plotted): ``trainable_shared.json``
(seed, seeds, settings, versions, every run with its per-step trace), ``runs.csv`` (one row
per run), ``summary.csv`` (one row per network and eta_shared).

Run: ``python -m training.trainable_shared --quick --seed 0 --out results/trainable_shared``.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training._common import now, run_grid, sized_settings, versions, write_csv, write_json

QUICK: dict[str, Any] = {
    "networks": ["majority", "memorisation"],
    "m": 3,
    "d": 3,
    "memorisation_layers": 8,
    "seeds": 3,
    "etas": [0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1 / 3],
    "dtype": "float64",
}
FULL: dict[str, Any] = {
    "networks": ["majority", "first_agree", "nearest", "memorisation"],
    "m": 5,
    "d": 4,
    "memorisation_layers": 16,
    "seeds": 10,
    "etas": [0.0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1 / 3],
    "dtype": "float64",
}
LR_W = 1 / 3
"""Algorithm 1's learning rate on ``W`` (the construction's η)."""
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def settings_for(quick: bool, **overrides: Any) -> dict[str, Any]:
    return sized_settings(quick, QUICK, FULL, overrides)


# ---------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------
def build_network(name: str, m: int, d: int, dtype: torch.dtype,
                  memorisation_layers: int) -> tuple[Any, set[float], float]:
    """The construction's RCNN for ``name`` (a library learner or ``"memorisation"``), with
    ``W = 0``, its weight set ``U`` as floats and its carrier code (the value the row being
    written holds after layer 1, passed on with slope 1)."""
    if name == "memorisation":
        from constructions.memorisation import CARRIER, memorisation_rcnn, memorisation_weights

        patch, head = memorisation_weights()
        model = memorisation_rcnn(d, m, memorisation_layers, dtype=dtype)
        U = patch.weight_values() | head.weight_values()
    else:
        from constructions.learner import CARRIER, compile_library_learner

        learner = compile_library_learner(name)
        model = learner.rcnn(m, d, dtype)
        U = learner.weight_set
    model.checkpoint_every = 0  # plain autograd: every shared weight sees its full gradient
    return model, {float(u) for u in U}, float(CARRIER)


def expected_memory(X: np.ndarray, y: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``y [x, 1] / 3`` row by row, the dummy row ``[1_d, 1] / 3`` last (``1/3`` rounded once
    to ``dtype``, as SGD with ``η = 1/3`` writes it)."""
    third = torch.tensor(1 / 3, dtype=dtype)
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    rows = np.vstack([np.hstack([X * y[:, None], y[:, None]]),
                      np.ones((1, X.shape[1] + 1), dtype=np.int64)])
    return third * torch.tensor(rows, dtype=dtype)


def _active_units(model: Any, patches: torch.Tensor) -> tuple[set[int], set[int]]:
    """Hidden units of the patch network (layer 1, layer 2) with a positive pre-activation
    on any of ``patches`` (N, 9)."""
    h1 = torch.relu(patches @ model.A1.T + model.b1)
    h2 = torch.relu(h1 @ model.A2.T + model.b2)
    return (set(torch.nonzero(h1.gt(0).any(0)).flatten().tolist()),
            set(torch.nonzero(h2.gt(0).any(0)).flatten().tolist()))


def carrier_analysis(model: Any, z: torch.Tensor, row: int) -> dict[str, Any]:
    """Which hidden units are active during one memorisation step: on the patches of the row
    being written (the carrier path, every layer) and on any patch of the grid."""
    cols = model.W.shape[1]  # data and label columns; the work columns never carry
    with torch.no_grad():
        grids = model.rollout(model.memory(z), keep=True)
        c1: set[int] = set()
        c2: set[int] = set()
        a1: set[int] = set()
        a2: set[int] = set()
        for g in grids[:-1]:
            p = model.patches(g)
            u1, u2 = _active_units(model, p[:, row, :cols].reshape(-1, 9))
            c1 |= u1
            c2 |= u2
            u1, u2 = _active_units(model, p.reshape(-1, 9))
            a1 |= u1
            a2 |= u2
        hh = torch.relu(grids[-1].unsqueeze(-1) @ model.U2.T + model.c2)
        head_carrier = set(torch.nonzero(hh[:, row, :cols].reshape(-1, hh.shape[-1]).gt(0)
                                         .any(0)).flatten().tolist())
        head_any = set(torch.nonzero(hh.reshape(-1, hh.shape[-1]).gt(0).any(0))
                       .flatten().tolist())
    return {"hidden1": int(model.A1.shape[0]), "hidden2": int(model.A2.shape[0]),
            "head_hidden": int(model.U2.shape[0]),
            "active1_carrier": len(c1), "active2_carrier": len(c2),
            "active1_any": len(a1), "active2_any": len(a2),
            "head_active_carrier": len(head_carrier), "head_active_any": len(head_any),
            "_sets": (c1, c2)}


# ---------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------
def run_one(name: str, eta: float, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Algorithm 1 with shared weights trained at ``eta`` on ``random_dataset(d, m, seed)``."""
    from simulators.datasets import all_points, random_dataset

    m, d = int(settings["m"]), int(settings["d"])
    dtype = DTYPES[settings["dtype"]]
    X, y = random_dataset(d, m, seed=seed)
    model, U, carrier = build_network(name, m, d, dtype, int(settings["memorisation_layers"]))
    shared = dict(model.shared_parameters())
    theta0 = {k: p.detach().clone() for k, p in shared.items()}
    n_shared = sum(p.numel() for p in shared.values())
    U_t = torch.tensor(sorted(U), dtype=dtype)
    initially_outside = sum(int((~torch.isin(p, U_t)).sum()) for p in shared.values())
    if initially_outside:
        raise AssertionError(f"{name}: {initially_outside} construction weights outside U")
    for p in shared.values():
        p.requires_grad_(True)
    opt = torch.optim.SGD([{"params": [model.W], "lr": LR_W},
                           {"params": list(shared.values()), "lr": float(eta)}])
    expected = expected_memory(X, y, dtype)
    Xd = np.vstack([X, np.ones((1, d), dtype=np.int64)])
    yd = np.append(y, 1)
    with torch.no_grad():
        model.W.zero_()

    steps: list[dict[str, Any]] = []
    first: dict[str, int | None] = {"output": None, "W row i": None, "W rows < i": None,
                                    "W rows > i": None, "non-finite": None,
                                    "shared weights leave U": None}
    analysis: dict[str, Any] | None = None
    for i, (x, label) in enumerate(zip(Xd, yd)):
        z = torch.tensor(np.append(x, 1), dtype=dtype)[None]
        if i == 0:
            analysis = carrier_analysis(model, z, 0)
        with torch.no_grad():
            last = model.rollout(model.memory(z))[0, i, :d + 1]
            carrier_dev = float((last - carrier).abs().max())
        opt.zero_grad()
        y_hat = model(z)[0]
        loss = 0.5 * (float(label) - y_hat) ** 2
        loss.backward()
        grad_nonzero = {k: int((p.grad != 0).sum()) for k, p in shared.items()}
        grad_max = max(float(p.grad.abs().max()) for p in shared.values())
        if i == 0 and analysis is not None:
            c1, c2 = analysis.pop("_sets")
            g1 = set(torch.nonzero(shared["b1"].grad).flatten().tolist()) | set(
                torch.nonzero(shared["A1"].grad.abs().sum(1)).flatten().tolist())
            g2 = set(torch.nonzero(shared["b2"].grad).flatten().tolist()) | set(
                torch.nonzero(shared["A2"].grad.abs().sum(1)).flatten().tolist())
            analysis.update({"grad_units1": len(g1), "grad_units2": len(g2),
                             "grad_units_within_carrier": g1 <= c1 and g2 <= c2,
                             "grad_nonzero": grad_nonzero,
                             "grad_nonzero_total": sum(grad_nonzero.values()),
                             "grad_max_abs": grad_max,
                             "shared_parameters": n_shared})
        opt.step()
        W = model.W.detach()
        step = i + 1
        yv = float(y_hat.detach())
        checks = {
            "output": yv != 0.0,
            "W row i": not torch.equal(W[i], expected[i]),
            "W rows < i": not torch.equal(W[:i], expected[:i]),
            "W rows > i": bool(W[i + 1:].abs().sum() != 0),
            "non-finite": not (math.isfinite(yv) and bool(torch.isfinite(W).all())),
        }
        drift, changed, outside = _drift(shared, theta0, U_t)
        checks["shared weights leave U"] = outside > 0
        for key, bad in checks.items():
            if bad and first[key] is None:
                first[key] = step
        steps.append({"step": step, "y_hat": yv, "label": int(label),
                      "carrier_deviation": carrier_dev,
                      "W_row_error": float((W[i] - expected[i]).abs().max()),
                      "W_row_entries_exact": int((W[i] == expected[i]).sum()),
                      "W_row_still_zero": bool((W[i] == 0).all()),
                      "W_other_rows_error": float(torch.cat([
                          (W[:i] - expected[:i]).flatten(), W[i + 1:].flatten()]).abs().max())
                      if W.shape[0] > 1 else 0.0,
                      "W_error": float((W - _partial(expected, i)).abs().max()),
                      "grad_nonzero_total": sum(grad_nonzero.values()),
                      "grad_max_abs": grad_max, "drift_max_abs": drift,
                      "n_changed": changed, "n_outside_U": outside, "W": W.tolist()})

    mem_keys = ("non-finite", "output", "W row i", "W rows < i", "W rows > i")
    broken = [(first[k], mem_keys.index(k), k) for k in mem_keys if first[k] is not None]
    first_break = min(broken) if broken else None
    drift, changed, outside = _drift(shared, theta0, U_t)
    rec: dict[str, Any] = {
        "network": name, "eta_shared": float(eta), "seed": int(seed), "m": m, "d": d,
        "layers": int(model.layers), "grid": [m + 1, d + 1 + model.l],
        "shared_parameters": n_shared,
        "memorisation_survives": first_break is None,
        "first_break_step": None if first_break is None else first_break[0],
        "first_break_quantity": None if first_break is None else first_break[2],
        "first_step": first,
        "final_W_error": float((model.W.detach() - expected).abs().max()),
        "drift_max_abs": drift, "n_changed": changed,
        "frac_changed": changed / n_shared, "n_outside_U": outside,
        "still_in_U": outside == 0,
        "steps": steps, "gradient_support": analysis,
    }
    if name != "memorisation":
        from simulators.learners import predict as reference_predict

        tests = all_points(d)
        ref = np.asarray(reference_predict(name, X, y, tests), dtype=np.float64)
        y_test = _predict(model, tests)
        finite = np.isfinite(y_test)
        rec.update({
            "test_points": int(len(tests)),
            "test_sign_agreement": float(np.mean(finite & (np.sign(y_test) == ref))),
            "test_close_agreement": float(np.mean(finite & (np.abs(y_test - ref) < 0.5))),
            "test_exact_agreement": float(np.mean(y_test == ref)),
            "test_max_abs_error": float(np.max(np.abs(y_test - ref))) if finite.all()
            else float("inf"),
            "test_nonfinite": int((~finite).sum()),
        })
    else:
        rec.update({"test_points": 0, "test_sign_agreement": None, "test_close_agreement": None,
                    "test_exact_agreement": None, "test_max_abs_error": None,
                    "test_nonfinite": None})
    return rec


def _partial(expected: torch.Tensor, i: int) -> torch.Tensor:
    out = expected.clone()
    out[i + 1:] = 0
    return out


def _drift(shared: dict[str, torch.Tensor], theta0: dict[str, torch.Tensor],
           U_t: torch.Tensor) -> tuple[float, int, int]:
    with torch.no_grad():
        diffs = [(p - theta0[k]).abs() for k, p in shared.items()]
        drift = max(float(torch.nan_to_num(dd, nan=math.inf).max()) for dd in diffs)
        changed = sum(int((p != theta0[k]).sum()) for k, p in shared.items())
        outside = sum(int((~torch.isin(p, U_t)).sum()) for p in shared.values())
    return drift, changed, outside


def _predict(model: Any, tests: np.ndarray) -> np.ndarray:
    """All ``L`` layers on every test point (no early exit), as float64."""
    from constructions.learner import memory_inputs

    with torch.no_grad():
        z = memory_inputs(tests, model.W.dtype)
        return model(z).to(torch.float64).numpy()


# ---------------------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------------------
def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (network, eta_shared): fractions and means over seeds."""
    rows = []
    keys = list(dict.fromkeys((r["network"], r["eta_shared"]) for r in runs))
    for net, eta in keys:
        rs = [r for r in runs if r["network"] == net and r["eta_shared"] == eta]
        breaks = [r["first_break_step"] for r in rs if r["first_break_step"] is not None]
        quantities = sorted({r["first_break_quantity"] for r in rs if r["first_break_quantity"]})
        row = {"network": net, "eta_shared": eta, "runs": len(rs),
               "survival_rate": float(np.mean([r["memorisation_survives"] for r in rs])),
               "first_break_step_min": min(breaks) if breaks else None,
               "first_break_quantities": "|".join(quantities),
               "drift_max_abs_mean": float(np.mean([r["drift_max_abs"] for r in rs])),
               "drift_max_abs_max": float(np.max([r["drift_max_abs"] for r in rs])),
               "n_changed_mean": float(np.mean([r["n_changed"] for r in rs])),
               "frac_changed_mean": float(np.mean([r["frac_changed"] for r in rs])),
               "still_in_U_rate": float(np.mean([r["still_in_U"] for r in rs])),
               "final_W_error_max": float(np.max([r["final_W_error"] for r in rs])),
               "shared_parameters": rs[0]["shared_parameters"], "layers": rs[0]["layers"]}
        if rs[0]["test_sign_agreement"] is not None:
            row["test_sign_agreement_mean"] = float(np.mean([r["test_sign_agreement"]
                                                             for r in rs]))
            row["test_sign_agreement_min"] = float(np.min([r["test_sign_agreement"]
                                                           for r in rs]))
            row["test_exact_agreement_mean"] = float(np.mean([r["test_exact_agreement"]
                                                              for r in rs]))
            row["test_close_agreement_mean"] = float(np.mean([r["test_close_agreement"]
                                                              for r in rs]))
        else:
            row.update({"test_sign_agreement_mean": None, "test_sign_agreement_min": None,
                        "test_exact_agreement_mean": None, "test_close_agreement_mean": None})
        rows.append(row)
    return rows


RUN_COLUMNS = ("network", "eta_shared", "seed", "m", "d", "layers", "shared_parameters",
               "memorisation_survives", "first_break_step", "first_break_quantity",
               "final_W_error", "drift_max_abs", "n_changed", "frac_changed", "n_outside_U",
               "still_in_U", "test_points", "test_sign_agreement", "test_close_agreement",
               "test_exact_agreement",
               "test_max_abs_error", "test_nonfinite")


def _timed_run(settings: dict[str, Any], job: tuple[str, float, int]) -> dict[str, Any]:
    """One grid point (network, eta_shared, seed), with its wall time."""
    t0 = time.perf_counter()
    r = run_one(*job, settings)
    r["seconds"] = time.perf_counter() - t0
    return r


def run(settings: dict[str, Any], seed: int, out: Path | None = None,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The whole sweep: networks x eta_shared x seeds ``seed .. seed + seeds - 1``; writes
    the JSON and CSV files into ``out`` (if given) and returns the record."""
    from constructions.learner import single_thread

    started = time.perf_counter()
    seeds = [seed + k for k in range(int(settings["seeds"]))]
    jobs = [(n, float(e), s) for n in settings["networks"] for e in settings["etas"]
            for s in seeds]
    runs: list[dict[str, Any]] = []
    with single_thread():
        timed = run_grid(functools.partial(_timed_run, settings), jobs, settings,
                         "trainable_shared")
        for (net, eta, s), r in zip(jobs, timed):
            runs.append(r)
            if log is not None:
                log(f"{net} eta={eta:g} seed {s}: survives={r['memorisation_survives']} "
                    f"first break {r['first_break_quantity']} at step {r['first_break_step']}, "
                    f"drift {r['drift_max_abs']:.3g}, changed {r['n_changed']}, "
                    f"test agreement {r['test_close_agreement']} "
                    f"({r['seconds']:.1f} s)")
    summary = summarise(runs)
    record = {
        "experiment": "trainable_shared",
        "seed": seed,
        "seeds": seeds,
        "settings": settings,
        "lr_W": LR_W,
        "layer2": "dense (every entry of A2 trainable, also the construction's zeros)",
        "versions": versions(),
        "created": now(),
        "seconds": time.perf_counter() - started,
        "summary": summary,
        "runs": runs,
    }
    if out is not None:
        out = Path(out)
        write_json(out / "trainable_shared.json", record)
        write_csv(out / "runs.csv", [{k: r[k] for k in RUN_COLUMNS} for r in runs],
                  RUN_COLUMNS)
        write_csv(out / "summary.csv", summary)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.trainable_shared",
        description="Experiment 3: run Algorithm 1 on the hand-set construction but let SGD "
                    "move the shared patch-network and head weights too (learning rate "
                    "eta_shared; W keeps 1/3). For each eta_shared and seed it measures "
                    "whether memorisation survives exactly (output 0, W rows y[x,1]/3), "
                    "what breaks first, how far the shared weights drift (and whether they "
                    "stay in the weight set U), and whether the final network still agrees "
                    "with the reference learner on all 2^d test points.",
        epilog="Results (trainable_shared.json with seed, versions and settings; runs.csv; "
               "summary.csv) go to --out before anything is plotted. "
               "Figure: figures/fig_trainable_shared.py.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="majority + memorisation-only networks, m = d = 3, 3 seeds, "
                           "10 learning rates (about a minute, one thread; default)")
    size.add_argument("--full", action="store_true",
                      help="majority, first_agree, nearest + memorisation-only, m = 5, d = 4, "
                           "10 seeds, 11 learning rates (hours: nearest has L = 160)")
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed: run k uses random_dataset(d, m, seed=SEED + k)")
    parser.add_argument("--out", type=Path, default=Path("results/trainable_shared"),
                        help="results directory (default results/trainable_shared/)")
    parser.add_argument("--networks", nargs="+",
                        help="override: library learner names and/or 'memorisation'")
    parser.add_argument("--etas", type=float, nargs="+", help="override the eta_shared values")
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("-m", type=int, help="override the number of training examples")
    parser.add_argument("-d", type=int, help="override the number of features")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per run")
    args = parser.parse_args(argv)
    settings = settings_for(not args.full, networks=args.networks, etas=args.etas,
                            seeds=args.seeds, m=args.m, d=args.d)
    log = (lambda s: print(s, file=sys.stderr)) if args.verbose else None
    rec = run(settings, args.seed, args.out, log)
    for row in rec["summary"]:
        agree = row["test_close_agreement_mean"]
        print(f"{row['network']:>12} eta_shared={row['eta_shared']:<9.3g} "
              f"survives {row['survival_rate']:.2f}  first break step "
              f"{row['first_break_step_min']} ({row['first_break_quantities'] or '-'})  "
              f"drift {row['drift_max_abs_max']:.3g}  changed {row['n_changed_mean']:.0f}/"
              f"{row['shared_parameters']}  in U {row['still_in_U_rate']:.2f}  "
              f"test agreement {'-' if agree is None else f'{agree:.3f}'}")
    print(f"wrote {args.out} in {rec['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

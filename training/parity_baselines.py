"""Parity learning curves: the GF(2) reference learner against SGD-trained baselines.

Issue 4 ("Against SGD") and issue 7 experiment 2. For each input dimension ``d``, parity size
``k`` (a dense parity ``k = d`` and sparse ones), number of training examples ``m`` and seed, a
random parity problem is drawn with :func:`simulators.datasets.random_parity` (uniform
``k``-subset ``S``, uniform ``x in {-1,1}^d``, ``y = prod_{i in S} x_i``, no label noise), every
learner is trained on the ``m`` examples and its test error is measured on all ``2^d`` points
(``d <= 12``: this *is* the error under the uniform distribution) or on ``test_points`` fresh
uniform points (``d > 12``).
Each (d, k, m, seed) draws its own problem (seeded by all four), so the points of one curve
are independent draws.

Learners (the registry :data:`LEARNERS`, ``name -> callable(X_train, y_train, X_test, seed)``
returning ``±1`` predictions for the rows of ``X_test``; :func:`register_learner` adds one,
e.g. the RCNN construction under the name ``"rcnn"``):

* ``reference``: :func:`simulators.learners.fit_parity`, Gaussian elimination over GF(2)
  (free variables 0). Exact as soon as the training inputs have rank ``d`` over GF(2).
* ``rcnn``: the paper's construction (Algorithm 1, then the Gaussian-elimination machine
  through the network, on the event-driven executor) at every ``m``, on a seeded sample of
  ``rcnn_test_points`` test points (:func:`rcnn_sample`; its test error is that sample's,
  its ``config`` column records the sample size and the fraction of its predictions equal
  to the reference learner's, which Lemma 1 (2) makes 1; no training error).
* ``mlp``: ``d -> w -> w -> 1`` ReLU network.
* ``cnn``: ``Conv1d(1, c, 3, padding 1) -> ReLU -> Conv1d(c, c, 3, padding 1) -> ReLU ->
  flatten -> Linear(c*d, 1)`` over the ``d`` coordinates (position-aware head, since a sparse
  parity is not translation invariant).

Hyper-parameter budget (identical for ``mlp`` and ``cnn``; recorded in the results JSON):
Adam, logistic loss on ``(y+1)/2``, full-batch, ``steps`` steps (quick 150, full 1000), from
PyTorch's default initialisation seeded by the run seed. A grid of learning rates
``{1e-3, 1e-2}`` (quick) / ``{1e-3, 3e-3, 1e-2, 3e-2}`` (full) times widths
``w = c = {32}`` (quick) / ``{32, 128}`` (full) is searched: each configuration is trained
on 80% of the training set and scored on the held-out 20% (at least one example; with
``m < 5`` there is no split and the first configuration is used); the best configuration
(fewest validation errors, ties to the first in grid order) is retrained on all ``m``
examples with the same number of steps. So each SGD learner costs ``|grid| + 1`` trainings
per problem; the reference learner has no hyper-parameters.

Outputs under ``--out`` (default ``results/parity/``): ``parity.csv`` with one row per
(learner, d, k, m, seed) and columns ``learner, d, k, m, seed, test_error, train_error,
config, seconds``; ``parity.json`` with the settings, the budget, seeds, versions and a summary
(mean and standard deviation of the test error over seeds). Written before any plotting.

Run: ``python -m training.parity_baselines --quick --seed 0 --out results/parity``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from training._common import (
    mean_std,
    now,
    run_grid,
    sized_settings,
    versions,
    write_csv,
    write_json,
)

Learner = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]
"""``(X_train (m, d) ±1, y_train (m,) ±1, X_test (n, d) ±1, seed) -> predictions (n,) ±1``."""

COLUMNS = ("learner", "d", "k", "m", "seed", "test_error", "train_error", "config", "seconds")

QUICK: dict[str, Any] = {
    "dims": [6, 8],
    "ks": "2,d",
    "m_factors": [0.5, 1, 2, 4, 8, 16],
    "seeds": 3,
    "steps": 150,
    "lrs": [1e-3, 1e-2],
    "widths": [32],
    "val_fraction": 0.2,
    "test_points": 4096,
    "learners": ["reference", "mlp", "cnn", "rcnn"],
    "rcnn_max_d": 8,
    "rcnn_max_m_factor": 16,
    "rcnn_test_points": 4,
}
FULL: dict[str, Any] = {
    **QUICK,
    "dims": [8, 12, 16],
    "ks": "2,d/2,d",
    "m_factors": [0.5, 1, 1.5, 2, 4, 8, 16, 32, 64],
    "seeds": 5,
    "steps": 1000,
    "lrs": [1e-3, 3e-3, 1e-2, 3e-2],
    "widths": [32, 128],
    "rcnn_max_d": 16,
    "rcnn_max_m_factor": 64,
    "rcnn_test_points": 16,
}


def ks_for(d: int, spec: str) -> list[int]:
    """Parse a k list such as ``"2,d/2,d"`` for dimension ``d`` (deduplicated, in order)."""
    out: list[int] = []
    for tok in spec.split(","):
        tok = tok.strip()
        k = d if tok == "d" else d // 2 if tok == "d/2" else int(tok)
        if not 0 <= k <= d:
            raise ValueError(f"parity size {tok!r} = {k} is outside 0..{d}")
        if k not in out:
            out.append(k)
    return out


def ms_for(d: int, factors: list[float]) -> list[int]:
    return sorted({max(1, int(round(f * d))) for f in factors})


# --------------------------------------------------------------------------- learners


def reference_learner(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, seed: int) -> np.ndarray:
    """GF(2) elimination (:func:`simulators.learners.fit_parity`); ``seed`` is unused."""
    from simulators.learners import LEARNERS as REF

    return REF["parity"].predict(X, y, X_test)


class MLP(nn.Module):
    def __init__(self, d: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, width),
                                 nn.ReLU(), nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class CNN(nn.Module):
    def __init__(self, d: int, width: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv1d(width, width, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(width * d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x.unsqueeze(1)).flatten(1)).squeeze(-1)


class SGDLearner:
    """A network family trained with Adam under the documented budget (see module doc).

    After each call, ``last_config`` holds the configuration chosen on the validation split.
    """

    def __init__(self, name: str, build: Callable[[int, int], nn.Module], steps: int,
                 lrs: list[float], widths: list[int], val_fraction: float = 0.2) -> None:
        self.name, self.build, self.steps = name, build, steps
        self.grid = [{"lr": lr, "width": w} for w, lr in itertools.product(widths, lrs)]
        self.val_fraction = val_fraction
        self.last_config: dict[str, Any] = {}

    def _fit(self, X: np.ndarray, y: np.ndarray, cfg: dict[str, Any], seed: int) -> nn.Module:
        torch.manual_seed(seed)
        net = self.build(X.shape[1], cfg["width"])
        opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
        xt = torch.as_tensor(X, dtype=torch.float32)
        yt = torch.as_tensor((y + 1) / 2, dtype=torch.float32)
        loss_fn = nn.BCEWithLogitsLoss()
        for _ in range(self.steps):
            loss = loss_fn(net(xt), yt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return net

    @staticmethod
    def _predict(net: nn.Module, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = net(torch.as_tensor(X, dtype=torch.float32)).numpy()
        return np.where(out >= 0, 1, -1).astype(np.int64)

    def __call__(self, X: np.ndarray, y: np.ndarray, X_test: np.ndarray, seed: int) -> np.ndarray:
        m = len(y)
        if m == 0:
            self.last_config = {"note": "m = 0: constant +1"}
            return np.ones(len(X_test), dtype=np.int64)
        cfg = self.grid[0]
        if m >= 5 and len(self.grid) > 1:
            rng = np.random.default_rng([seed, m, 99])
            perm = rng.permutation(m)
            n_val = max(1, int(round(self.val_fraction * m)))
            val, tr = perm[:n_val], perm[n_val:]
            errs = []
            for c in self.grid:
                net = self._fit(X[tr], y[tr], c, seed)
                errs.append(int((self._predict(net, X[val]) != y[val]).sum()))
            cfg = self.grid[int(np.argmin(errs))]
        self.last_config = dict(cfg)
        net = self._fit(X, y, cfg, seed)
        return self._predict(net, X_test)


LEARNERS: dict[str, Learner] = {"reference": reference_learner}
"""The learner registry; :func:`build_registry` adds ``mlp`` and ``cnn`` with a budget."""


def register_learner(name: str, fn: Learner) -> None:
    """Add (or replace) a learner, e.g. ``register_learner("rcnn", rcnn_predict)``."""
    if not callable(fn):
        raise TypeError(f"learner {name!r} must be callable, got {type(fn).__name__}")
    LEARNERS[name] = fn


def build_registry(settings: dict[str, Any]) -> dict[str, Learner]:
    """Registry for one run: every registered learner plus ``mlp`` and ``cnn`` built with the
    settings' budget (registered learners of the same name take precedence)."""
    reg: dict[str, Learner] = {
        "mlp": SGDLearner("mlp", MLP, settings["steps"], settings["lrs"], settings["widths"],
                          settings["val_fraction"]),
        "cnn": SGDLearner("cnn", CNN, settings["steps"], settings["lrs"], settings["widths"],
                          settings["val_fraction"]),
    }
    reg.update(LEARNERS)
    return reg


def get_learner(name: str, registry: dict[str, Learner]) -> Learner:
    """The learner called ``name``; an unknown name is a ``KeyError`` naming the known ones."""
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"unknown learner {name!r}; known learners: "
                       f"{', '.join(sorted(registry))}") from None


def rcnn_learner(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, seed: int) -> np.ndarray:
    """The paper's construction run for real: Algorithm 1 (SGD on the memory layer ``W``)
    through the compiled parity network (constructions/learner.py, float32), then one forward
    pass per test point, on the event-driven executor (bit for bit the dense network,
    docs/events.md). Deterministic; ``seed`` is unused. Its predictions equal the reference
    learner's on every point (Lemma 1 (2)); the rows of this learner show it on the
    experiment's own data."""
    from constructions.learner import compile_library_learner, learn

    run = learn(compile_library_learner("parity"), X, y, X_test, torch.float32,
                engine="events")
    return run.predictions


LEARNERS["rcnn"] = rcnn_learner


def rcnn_applies(settings: dict[str, Any], d: int, m: int) -> bool:
    """Whether the network run is part of this problem: ``d <= rcnn_max_d`` and
    ``m <= rcnn_max_m_factor * d`` (the quick and full settings cover every m drawn)."""
    return d <= settings.get("rcnn_max_d", 0) and m <= settings.get("rcnn_max_m_factor", 0) * d


def rcnn_sample(X_test: np.ndarray, y_test: np.ndarray, settings: dict[str, Any],
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``rcnn_test_points`` test points (a seeded sample of the test set) on which the
    construction is run: each forward pass runs the Gaussian-elimination machine for up
    to ``t(m, d)`` layers, so the whole cube is out of reach at every m."""
    n = min(len(X_test), int(settings.get("rcnn_test_points", len(X_test))))
    idx = np.sort(np.random.default_rng([seed, len(X_test), 7]).choice(len(X_test), n,
                                                                        replace=False))
    return X_test[idx], y_test[idx]


# --------------------------------------------------------------------------- driver


def test_points(d: int, n: int, seed: int) -> np.ndarray:
    from simulators.datasets import MAX_ALL_POINTS_D, all_points

    if d <= min(12, MAX_ALL_POINTS_D):
        return all_points(d)
    rng = np.random.default_rng([seed, d, 12345])
    return rng.choice(np.array([-1, 1], dtype=np.int64), size=(n, d))


def _problem_rows(settings: dict[str, Any], learners: dict[str, Learner],
                  problem: tuple[int, int, int, int]) -> list[dict[str, Any]]:
    """Every learner's row on one problem (d, k, m, seed) of the grid."""
    from simulators.datasets import parity_labels, random_parity

    d, k, m, s = problem
    rows: list[dict[str, Any]] = []
    ds = random_parity(d, k, m, seed=int(np.random.SeedSequence([s, d, k, m])
                                         .generate_state(1)[0]))
    X_test = test_points(d, settings["test_points"], s)
    y_test = parity_labels(X_test, ds.S)
    for name, fn in learners.items():
        if name == "rcnn" and not rcnn_applies(settings, d, m):
            continue
        t0 = time.perf_counter()
        X_eval, y_eval, X_train_eval = X_test, y_test, ds.X
        if name == "rcnn":  # every forward pass runs the whole machine: a sample
            X_eval, y_eval = rcnn_sample(X_test, y_test, settings, s)
            X_train_eval = ds.X[:0]
        # one call predicts the test points and the training points (training error)
        both = np.asarray(fn(ds.X, ds.y, np.vstack([X_eval, X_train_eval]), s))
        secs = time.perf_counter() - t0
        if both.shape != (len(X_eval) + len(X_train_eval),):
            raise ValueError(f"learner {name!r} returned shape {both.shape}, expected "
                             f"({len(X_eval) + len(X_train_eval)},)")
        pred, train_pred = both[:len(X_eval)], both[len(X_eval):]
        cfg = getattr(fn, "last_config", {})
        if name == "rcnn":
            ref = get_learner("reference", {**LEARNERS, **learners})(ds.X, ds.y, X_eval, s)
            cfg = {"test_points": len(X_eval),
                   "agrees_with_reference": float(np.mean(pred == ref))}
        rows.append({
            "learner": name, "d": d, "k": k, "m": m, "seed": s,
            "test_error": float(np.mean(pred != y_eval)),
            "train_error": float(np.mean(train_pred != ds.y))
            if m and len(X_train_eval) else "",
            "config": ";".join(f"{a}={b}" for a, b in cfg.items()),
            "seconds": round(secs, 4),
        })
    return rows


def run(settings: dict[str, Any], seed: int, out: Path | None = None,
        log: Callable[[str], None] | None = None,
        registry: dict[str, Learner] | None = None) -> dict[str, Any]:
    """Run the learning curves; write ``parity.csv`` and ``parity.json`` if ``out`` is set."""
    torch.set_num_threads(1)
    log = log or (lambda s: None)
    reg = build_registry(settings) if registry is None else registry
    learners = {name: get_learner(name, reg) for name in settings["learners"]}
    seeds = [seed + i for i in range(settings["seeds"])]
    started = time.perf_counter()
    problems = [(d, k, m, s) for d in settings["dims"] for k in ks_for(d, settings["ks"])
                for m in ms_for(d, settings["m_factors"]) for s in seeds]
    rows: list[dict[str, Any]] = []
    solve = functools.partial(_problem_rows, settings, learners)
    for (d, k, m, s), prows in zip(problems, run_grid(solve, problems, settings, "parity")):
        rows += prows
        log(f"d={d} k={k} m={m} seed={s}: "
            + " ".join(f"{r['learner']}={r['test_error']:.3f}" for r in prows))
    summary = []
    for (name, d, k, m) in dict.fromkeys((r["learner"], r["d"], r["k"], r["m"]) for r in rows):
        errs = [r["test_error"] for r in rows
                if (r["learner"], r["d"], r["k"], r["m"]) == (name, d, k, m)]
        mu, sd = mean_std(errs)
        summary.append({"learner": name, "d": d, "k": k, "m": m, "mean": mu, "std": sd,
                        "n": len(errs)})
    record = {
        "experiment": "parity_baselines",
        "seed": seed,
        "seeds": seeds,
        "settings": settings,
        "budget": {
            "optimizer": "Adam, full batch, logistic loss on (y+1)/2",
            "steps": settings["steps"],
            "grid": {"lr": settings["lrs"], "width": settings["widths"]},
            "selection": f"{settings['val_fraction']:.0%} of the training set held out "
                         "(m >= 5), fewest validation errors, then retrained on all m",
            "same_for": ["mlp", "cnn"],
        },
        "test_set": "all 2^d points for d <= 12, else test_points fresh uniform points",
        "versions": versions(),
        "created": now(),
        "seconds": time.perf_counter() - started,
        "summary": summary,
    }
    if out is not None:
        out = Path(out)
        write_csv(out / "parity.csv", rows, COLUMNS)
        write_json(out / "parity.json", record)
    record["rows"] = rows
    return record


def settings_for(quick: bool, **overrides: Any) -> dict[str, Any]:
    return sized_settings(quick, QUICK, FULL, overrides)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.parity_baselines",
        description="Parity learning curves: test error against the number of training "
                    "examples m for the GF(2) reference learner, an MLP and a 1-D CNN trained "
                    "with Adam under the same documented hyper-parameter budget (see the "
                    "module docstring), over several d, parity sizes k and seeds.",
        epilog="Writes parity.csv (one row per learner, d, k, m, seed) and parity.json "
               "(settings, budget, seeds, versions, summary) under --out.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="d in {6, 8}; minutes (default)")
    size.add_argument("--full", action="store_true", help="d in {8, 12, 16}; longer")
    parser.add_argument("--seed", type=int, default=0, help="base seed (seed..seed+n-1)")
    parser.add_argument("--out", type=Path, default=Path("results/parity"),
                        help="results directory (default results/parity/)")
    parser.add_argument("--dims", type=int, nargs="+", help="override the list of d")
    parser.add_argument("--ks", help='override the parity sizes, e.g. "1,2,d/2,d"')
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("--learners", nargs="+", help="learner names (default all three)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per problem")
    args = parser.parse_args(argv)
    settings = settings_for(not args.full, dims=args.dims, ks=args.ks, seeds=args.seeds,
                            learners=args.learners)
    log = (lambda s: print(s, file=sys.stderr)) if args.verbose else None
    try:
        rec = run(settings, args.seed, args.out, log)
    except KeyError as e:
        print(f"parity_baselines: error: {e.args[0]}", file=sys.stderr)
        return 2
    for r in rec["summary"]:
        if r["m"] == max(x["m"] for x in rec["summary"] if x["d"] == r["d"]):
            print(f"{r['learner']:>9} d={r['d']} k={r['k']} m={r['m']}: "
                  f"test error {r['mean']:.3f} ± {r['std']:.3f}")
    print(f"wrote {args.out} in {rec['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

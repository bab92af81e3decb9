"""Experiment 1 (issue 7): can SGD learn the shared patch network for ONE step?

The RCNN of Definition 5 applies one small network ``A3 relu(A2 relu(A1 x + b1) + b2) + b3``
to the 3x3 patch (9 cell codes, row-major, padding 0 outside the grid) of every cell. The
constructions hand-set it so one layer = one step of a machine. Here the same patch network
(same two hidden layers, same input and output) is trained from PyTorch's default random
initialisation with Adam, on the patches of random configurations, to output the next code
of the centre cell, and it is compared with the construction.

Tasks
-----
* ``tm_bb2``: the 2-state 2-symbol busy beaver (``simulators/library/bb2.yaml``), cells coded
  as in :func:`constructions.tm.tm_encoding` (``symbol + k*head + 2k*state``, 8 valid codes).
  Random configuration = an ``H x W`` grid of uniform symbols with one head at a uniform cell
  in a uniform state (halted ``Z`` included). Construction: :func:`constructions.tm.compile_tm`.
* ``tm_rand3x2``: a seeded random 3-state 2-symbol machine from
  :func:`simulators.sampling.random_machine`, redrawn until it never halts (no undefined
  entry, no transition into Z), so rollouts stay non-trivial for 1000 steps.
* ``eca_110``, ``eca_30``: elementary cellular automata, cells 0/1. Every row of the grid is an
  independent ECA row (boundary 0 = the padding), so the target is ``rule(w, c, e)`` and the
  net must also learn to ignore the 6 cells above and below. Construction: the rule written as a
  :class:`constructions.patchnet.LocalRule` (one lookup table on (w, c, e)) compiled by
  :func:`constructions.patchnet.compile_local_rule`: the same 3-layer shape.

Domains (finite, enumerated in full)
------------------------------------
* TM: every 3x3 patch of codes with at most one head among its 9 cells (the local views of
  all configurations of the machine on a 2-D tape): ``k^9 + 9 * k(s+1) * k^8`` patches
  (14,336 for s = k = 2). The sub-domain of 1-row tapes (north and south rows all padding)
  is reported too (``domain_acc_1d``): that is what the rollouts visit.
* ECA: all 2^9 = 512 binary patches.
Targets come from an independent reference written here from the machine table / rule
number (not from the construction); the construction is checked against it.

Measurements
------------
1. *Domain accuracy*: fraction of the domain on which the output, rounded to the nearest
   valid code, equals the target; "exact" = 100%.
2. *Rollout accuracy*: runs from random configurations (TM: a 1-row tape of ``L`` random
   symbols with a head in a random non-halted state, on a grid wide enough that the head
   never reaches the border; ECA: 1 x 64 rows of random bits); the network's raw float output
   is fed back (the RCNN as it is; a run is right at step t if the grids at steps 1..t all
   round to the reference). A second variant rounds to the nearest code after every step
   (an external clean-up that is NOT part of the RCNN). Reference: an independent numpy
   simulator for TMs and :class:`simulators.cellular.ElementaryCA` for ECA.
3. *Width sweep*: hidden widths ``mult * (h1, h2)`` of the construction, ``mult`` in
   ``--mults``; success rate = fraction of seeds whose trained net is exact on the domain.
4. *Robustness*: i.i.d. Gaussian noise ``N(0, sigma^2)`` added to every weight and bias
   (absolute sigma, ``--draws`` draws per sigma), and evaluation with weights, inputs and
   arithmetic cast to float16 / bfloat16 / float32 / float64; for the construction and for
   the learned nets at every width.
5. *Certificate* (docs/certificates.md): is the trained net's float32 output equal to the
   next code *bit for bit* on every valid view? Then the RCNN itself (raw feedback, no
   rounding) runs the rule forever from every configuration. Proven or refuted with the
   first counterexample; the construction is certified in every summation order, the SGD
   nets (whose units read every position) by enumerating every view with the executor.

Modules: the tasks (``training.learn_step_tasks``), the networks and measurements
(``training.learn_step_nets``, certificates included), this driver.

Training budget (the same for every task and seed): Adam, learning rate ``lr / sqrt(mult)``
at width multiplier ``mult`` (cosine decay to 1% of it; a fixed rate made the x8 nets diverge),
``steps`` steps, each on a fresh batch of ``batch`` random configurations (``grid`` cells
each), mean squared error on the next code, float32. The values are in ``QUICK``/``FULL``.

Outputs (under ``--out``, written before anything is plotted): ``learn_step.json`` (settings,
seed, versions, every result), ``width_sweep.csv``, ``rollout.csv``, ``perturbation.csv``,
``precision.csv``.

Run: ``python -m training.learn_step --quick --seed 0 --out results/learn_step``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training._common import (
    now,
    progress,
    run_grid,
    sized_settings,
    versions,
    write_csv,
    write_json,
)
from training.learn_step_nets import (  # noqa: F401 (re-exported: the experiment's API)
    DTYPES,
    PatchMLP,
    certify_trained,
    evaluate,
    forward,
    layer,
    learning_rate,
    nearest_code,
    perturbed,
    rollout,
    rollout_curve,
    to_params,
    train,
)
from training.learn_step_tasks import (  # noqa: F401 (re-exported)
    TASKS,
    Task,
    _non_halting_machine,
    grid_patches,
    make_eca_task,
    make_task,
    make_tm_task,
    tm_reference_step,
)

QUICK: dict[str, Any] = {
    "tasks": ["tm_bb2", "eca_110", "eca_30"],
    "mults": [1, 2, 4],
    "seeds": 3,
    "steps": 1000,
    "batch": 128,
    "lr": 3e-2,
    "lr_scaling": "inv_sqrt_mult",
    "grid": [5, 5],
    "rollout_runs": 6,
    "rollout_steps": [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700,
                      1000],
    "tm_tape": 16,
    "eca_width": 64,
    "sigmas": [0.0, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1],
    "draws": 4,
    "dtypes": ["float64", "float32", "float16", "bfloat16"],
}
FULL: dict[str, Any] = {
    **QUICK,
    "tasks": ["tm_bb2", "tm_rand3x2", "eca_110", "eca_30"],
    "mults": [1, 2, 4, 8, 16],
    "seeds": 10,
    "steps": 5000,
    "rollout_runs": 32,
    "draws": 10,
}


# --------------------------------------------------------------------------- driver


def _train_point(task: Task, settings: dict[str, Any], point: tuple[int, int]
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """One grid point (width multiplier, seed) of the width sweep (a task of
    :func:`training._common.run_grid`: in process, or on Dask workers for ``--full``)."""
    mult, s = point
    hidden = (mult * task.hidden[0], mult * task.hidden[1])
    return train(task, hidden, s, {**settings, "lr": learning_rate(settings, mult)})


def run(settings: dict[str, Any], seed: int, out: Path | None = None,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run experiment 1 with ``settings`` (see QUICK/FULL); write results if ``out`` is set."""
    torch.set_num_threads(1)
    log = log or (lambda s: None)
    started = time.perf_counter()
    seeds = [seed + i for i in range(settings["seeds"])]
    T = max(settings["rollout_steps"])
    checkpoints = list(settings["rollout_steps"])
    sweep_rows, roll_rows, pert_rows, prec_rows = [], [], [], []
    first_fail: list[dict[str, Any]] = []
    tasks_out: dict[str, Any] = {}
    jobs = [(t, m, s) for t in settings["tasks"] for m in settings["mults"] for s in seeds]
    bar = progress(range(len(jobs)), total=len(jobs), desc="learn_step")
    bar_it = iter(bar)
    for tname in settings["tasks"]:
        task = make_task(tname, settings, seed)
        construction = task.construction
        cons_eval = evaluate(task, construction, "float64")
        cons_cert = certify_trained(task, construction)
        if not cons_eval["exact"] or not cons_cert["certified"]:
            raise AssertionError(f"{tname}: the construction is not exact on its domain "
                                 f"({cons_eval['wrong']} patches wrong)")
        log(f"{tname}: domain {len(task.domain)} patches, construction hidden {task.hidden} "
            f"exact={cons_eval['exact']}")
        learned: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        points = [(mult, s) for mult in settings["mults"] for s in seeds]
        trained = run_grid(functools.partial(_train_point, task, settings), points, settings,
                           f"learn_step {tname}")
        for (mult, s), (arrays, res) in zip(points, trained):
            hidden = (mult * task.hidden[0], mult * task.hidden[1])
            lr = learning_rate(settings, mult)
            learned[(mult, s)] = arrays
            sweep_rows.append({"task": tname, "mult": mult, "h1": hidden[0],
                               "h2": hidden[1], "seed": s, "lr": lr, **res})
            next(bar_it, None)
            log(f"{tname} x{mult} seed {s}: acc {res['domain_acc']:.4f} "
                f"exact {res['exact']} loss {res['final_loss']:.2e} "
                f"({res['train_seconds']:.1f} s)")
        # which nets get the rollout / robustness treatment
        subjects = [("construction", 1, None, construction)]
        for mult in settings["mults"]:
            subjects += [(f"sgd_x{mult}", mult, s, learned[(mult, s)]) for s in seeds]
        for net_name, mult, s, arrays in subjects:
            for variant in ("raw", "rounded"):
                ff = rollout(task, arrays, settings["rollout_runs"], T, seed,
                             round_each_step=variant == "rounded")
                first_fail.append({"task": tname, "net": net_name, "mult": mult,
                                   "seed": s, "variant": variant,
                                   "first_fail": [int(v) for v in ff]})
                for t, acc in zip(checkpoints, rollout_curve(ff, checkpoints)):
                    roll_rows.append({"task": tname, "net": net_name, "mult": mult,
                                      "seed": "" if s is None else s, "variant": variant,
                                      "t": t, "fraction_correct": acc})
            rng = np.random.default_rng([seed, 7, mult, 0 if s is None else 1 + s])
            for sigma in settings["sigmas"]:
                for draw in range(settings["draws"] if sigma > 0 else 1):
                    r = evaluate(task, perturbed(arrays, sigma, rng), "float64")
                    pert_rows.append({"task": tname, "net": net_name, "mult": mult,
                                      "seed": "" if s is None else s, "sigma": sigma,
                                      "draw": draw, "domain_acc": r["domain_acc"],
                                      "exact": r["exact"]})
            for dt in settings["dtypes"]:
                r = evaluate(task, arrays, dt)
                prec_rows.append({"task": tname, "net": net_name, "mult": mult,
                                  "seed": "" if s is None else s, "dtype": dt,
                                  "domain_acc": r["domain_acc"], "exact": r["exact"]})
        tasks_out[tname] = {**task.info, "construction_hidden": list(task.hidden),
                            "construction": cons_eval,
                            "construction_certificate": cons_cert,
                            "success_rate": _rate(sweep_rows, tname, settings, "exact"),
                            "certified_rate": _rate(sweep_rows, tname, settings, "certified")}
    if hasattr(bar, "close"):
        bar.close()
    record = {
        "experiment": "learn_step",
        "seed": seed,
        "seeds": seeds,
        "settings": settings,
        "versions": versions(),
        "created": now(),
        "seconds": time.perf_counter() - started,
        "tasks": tasks_out,
        "width_sweep": sweep_rows,
        "rollout": roll_rows,
        "rollout_first_fail": first_fail,
        "perturbation": pert_rows,
        "precision": prec_rows,
    }
    if out is not None:
        out = Path(out)
        write_json(out / "learn_step.json", record)
        write_csv(out / "width_sweep.csv", sweep_rows)
        write_csv(out / "rollout.csv", roll_rows)
        write_csv(out / "perturbation.csv", pert_rows)
        write_csv(out / "precision.csv", prec_rows)
    return record


def _rate(rows: list[dict[str, Any]], task: str, settings: dict[str, Any],
          key: str) -> dict[str, float]:
    """Fraction of the seeds whose net has ``key`` true, per width multiplier."""
    return {str(m): float(np.mean([r[key] for r in rows if r["task"] == task and r["mult"] == m]))
            for m in settings["mults"]}


def settings_for(quick: bool, **overrides: Any) -> dict[str, Any]:
    return sized_settings(quick, QUICK, FULL, overrides)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.learn_step",
        description="Experiment 1: train the RCNN's shared 3x3 patch network with Adam to "
                    "imitate ONE step of a Turing machine (bb2, a random machine) or an "
                    "elementary cellular automaton (rules 110, 30), and compare it with the "
                    "hand-set construction: accuracy on the whole finite domain of patches, "
                    "rollouts far beyond one step, success rate over seeds against hidden "
                    "width, robustness to Gaussian weight noise and to float16/bfloat16.",
        epilog="Results (JSON + CSV with seed, versions and settings) go to --out.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="minutes on 2 cores (default)")
    size.add_argument("--full", action="store_true", help="the full sizes (hours)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (runs use seed..seed+n-1)")
    parser.add_argument("--out", type=Path, default=Path("results/learn_step"),
                        help="results directory (default results/learn_step/)")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, help="override the task list")
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("--steps", type=int, help="override the Adam steps per run")
    parser.add_argument("--mults", type=int, nargs="+",
                        help="override the width multipliers of the construction's width")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per run")
    args = parser.parse_args(argv)
    settings = settings_for(not args.full, tasks=args.tasks, seeds=args.seeds,
                            steps=args.steps, mults=args.mults)
    log = (lambda s: print(s, file=sys.stderr)) if args.verbose else None
    rec = run(settings, args.seed, args.out, log)
    for name, t in rec["tasks"].items():
        print(f"{name}: construction exact={t['construction']['exact']} "
              f"certified={t['construction_certificate']['certified']}; SGD success rate by "
              f"width multiplier {t['success_rate']}, certified {t['certified_rate']}")
    print(f"wrote {args.out} in {rec['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

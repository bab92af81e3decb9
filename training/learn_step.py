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
   the learned nets at widths 1x and the largest multiplier.

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
import itertools
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from training._common import (
    now,
    progress,
    run_grid,
    sized_settings,
    versions,
    write_csv,
    write_json,
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
TASKS = ("tm_bb2", "tm_rand3x2", "eca_110", "eca_30")


# --------------------------------------------------------------------------- tasks


@dataclass
class Task:
    """One local rule to learn: its finite domain, reference targets and construction."""

    name: str
    kind: str  # "tm" or "eca"
    domain: np.ndarray  # (N, 9) float64 patches
    targets: np.ndarray  # (N,) float64 next codes (independent reference)
    codes: np.ndarray  # sorted valid cell codes
    construction: dict[str, np.ndarray]  # A1 b1 A2 b2 A3 b3, float64 (exact dyadics)
    hidden: tuple[int, int]
    mask_1d: np.ndarray  # domain rows whose north and south rows are padding (0)
    sample: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
    rollout_init: Callable[[np.random.Generator, int, int], tuple[np.ndarray, Any]]
    rollout_reference: Callable[[Any, int], np.ndarray]
    info: dict[str, Any]
    span: int = 2  # codes are < span: patch keys are base-span numbers

    def __post_init__(self) -> None:
        keys = _patch_keys(self.domain, self.span)
        self._order = np.argsort(keys)
        self._keys = keys[self._order]

    def domain_index(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each patch in ``domain`` and whether it is in the domain at all."""
        keys = _patch_keys(patches, self.span)
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._order[pos], self._keys[pos] == keys


def _patch_keys(patches: np.ndarray, span: int) -> np.ndarray:
    """An int64 key per patch (base ``span`` digits)."""
    p = np.rint(patches).astype(np.int64)
    return (p * (span ** np.arange(9, dtype=np.int64))).sum(axis=1)


def grid_patches(grids: np.ndarray) -> np.ndarray:
    """(B, H, W) -> (B*H*W, 9): every cell's 3x3 neighbourhood, row-major, padding 0."""
    B, H, W = grids.shape
    padded = np.pad(grids, ((0, 0), (1, 1), (1, 1)))
    return np.stack([padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)],
                    axis=-1).reshape(-1, 9)


def _lookup(task_keys: np.ndarray, order: np.ndarray, targets: np.ndarray,
            keys: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(task_keys, keys)
    if np.any(pos >= len(task_keys)) or np.any(task_keys[np.minimum(pos, len(task_keys) - 1)]
                                               != keys):
        raise ValueError("a sampled patch lies outside the enumerated domain")
    return targets[order[pos]]


def _exact_arrays(net) -> dict[str, np.ndarray]:
    """Float64 copies of an exact (Fraction) weight set; dyadic weights convert exactly."""
    return {name: np.asarray(a, dtype=object).astype(np.float64)
            for name, a in net.arrays().items()}


def _non_halting_machine(rng: random.Random, s: int, k: int):
    from simulators.sampling import random_machine
    from simulators.turing import HALT

    for _ in range(10_000):
        m = random_machine(rng, s, k, p_undefined=0.0)
        if all(tr is not None and tr.next_state != HALT for row in m.table for tr in row):
            return m
    raise RuntimeError("no non-halting machine found")  # pragma: no cover


def tm_reference_step(machine, k: int, s: int, patch: tuple[int, ...]) -> int:
    """The next code of the centre cell, from the machine table (independent of compile_tm)."""
    from simulators.turing import HALT, Move

    def dec(c: int) -> tuple[int, int, int]:
        return c % k, (c // k) % 2, c // (2 * k)

    def digit(q: int) -> int:
        return s if q == HALT else q

    sym, head, st = dec(patch[4])
    if head:
        tr = None if st == s else machine.transition(st, sym)
        if tr is None:
            return patch[4]
        if tr.move is Move.S:
            return tr.write + k + 2 * k * digit(tr.next_state)
        return tr.write
    for pos, move in ((3, Move.R), (5, Move.L), (1, Move.D), (7, Move.U)):
        s2, h2, st2 = dec(patch[pos])
        if h2 and st2 != s:
            tr = machine.transition(st2, s2)
            if tr is not None and tr.move is move:
                return sym + k + 2 * k * digit(tr.next_state)
    return patch[4]


def make_tm_task(name: str, machine, grid: tuple[int, int], tape: int) -> Task:
    from constructions.tm import compile_tm

    s, k = machine.n_states, machine.n_symbols
    ctm = compile_tm(machine)
    codes = np.array(sorted(ctm.encoding.codes()), dtype=np.float64)
    plain = list(range(k))
    heads = [int(c) for c in codes if (int(c) // k) % 2 == 1]
    rows = [list(p) for p in itertools.product(plain, repeat=9)]
    for pos in range(9):
        for h in heads:
            for rest in itertools.product(plain, repeat=8):
                p = list(rest)
                p.insert(pos, h)
                rows.append(p)
    domain = np.array(rows, dtype=np.float64)
    targets = np.array([tm_reference_step(machine, k, s, tuple(r)) for r in rows],
                       dtype=np.float64)
    span = 2 * k * (s + 1)
    keys = _patch_keys(domain, span)
    order = np.argsort(keys)
    skeys = keys[order]
    mask_1d = np.all(domain[:, [0, 1, 2, 6, 7, 8]] == 0, axis=1)
    H, W = grid

    def sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        g = rng.integers(0, k, size=(n, H, W))
        cell = rng.integers(0, H * W, size=n)
        state = rng.integers(0, s + 1, size=n)
        g.reshape(n, -1)[np.arange(n), cell] += k + 2 * k * state
        x = grid_patches(g)
        return x.astype(np.float64), _lookup(skeys, order, targets, _patch_keys(x, span))

    def rollout_init(rng: np.random.Generator, runs: int, T: int):
        width = tape + 2 * T + 2
        tapes = np.zeros((runs, width), dtype=np.int64)
        tapes[:, T + 1:T + 1 + tape] = rng.integers(0, k, size=(runs, tape))
        head = T + 1 + rng.integers(0, tape, size=runs)
        state = rng.integers(0, s, size=runs)
        st = {"tape": tapes, "head": head, "state": state}
        return _tm_grid(st, k, s), st

    def rollout_reference(st, t: int) -> np.ndarray:
        """Advance the reference by one step and return its code grid (runs, 1, width)."""
        from simulators.turing import HALT

        for r in range(st["tape"].shape[0]):
            q = int(st["state"][r])
            if q == s:
                continue
            h = int(st["head"][r])
            tr = machine.transition(q, int(st["tape"][r, h]))
            if tr is None:
                continue
            st["tape"][r, h] = tr.write
            st["head"][r] = h + tr.move.delta[1]
            st["state"][r] = s if tr.next_state == HALT else tr.next_state
        return _tm_grid(st, k, s)

    return Task(name, "tm", domain, targets, codes, _exact_arrays(ctm.patch),
                ctm.patch.hidden, mask_1d, sample, rollout_init, rollout_reference,
                {"machine": _machine_text(machine), "s": s, "k": k,
                 "construction_bits": ctm.bits, "domain_size": len(domain),
                 "domain_1d_size": int(mask_1d.sum())}, span=span)


def _machine_text(machine) -> str:
    from simulators.formats import format_bbchallenge

    return format_bbchallenge(machine)


def _tm_grid(st, k: int, s: int) -> np.ndarray:
    g = st["tape"].copy()
    runs = g.shape[0]
    # a halted head carries the state digit s
    g[np.arange(runs), st["head"]] += k + 2 * k * st["state"]
    return g[:, None, :].astype(np.float64)


def make_eca_task(name: str, rule: int, grid: tuple[int, int], width: int) -> Task:
    from constructions.patchnet import CENTER, EAST, WEST, LocalRule, Table, compile_local_rule
    from simulators.cellular import ElementaryCA

    ca = ElementaryCA(rule, boundary=0)
    table = ca.rule_table()
    domain = np.array(list(itertools.product((0, 1), repeat=9)), dtype=np.float64)
    targets = np.array([table[(int(p[3]), int(p[4]), int(p[5]))] for p in domain],
                       dtype=np.float64)
    lr = LocalRule(domain=(Fraction(0), Fraction(1)), tables=[Table(
        (WEST, CENTER, EAST),
        {tuple(Fraction(v) for v in key): Fraction(1) for key, out in table.items() if out},
        f"rule{rule}")])
    net = compile_local_rule(lr)
    mask_1d = np.all(domain[:, [0, 1, 2, 6, 7, 8]] == 0, axis=1)
    H, W = grid

    def sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        g = rng.integers(0, 2, size=(n, H, W))
        x = grid_patches(g).astype(np.float64)
        idx = (x.astype(np.int64) * (1 << np.arange(8, -1, -1))).sum(axis=1)
        return x, targets[idx]  # domain is in binary counting order, MSB = position 0

    def rollout_init(rng: np.random.Generator, runs: int, T: int):
        rows = rng.integers(0, 2, size=(runs, width))
        st = {"rows": [list(map(int, r)) for r in rows]}
        return rows[:, None, :].astype(np.float64), st

    def rollout_reference(st, t: int) -> np.ndarray:
        st["rows"] = [ca.step(r) for r in st["rows"]]
        return np.array(st["rows"], dtype=np.float64)[:, None, :]

    return Task(name, "eca", domain, targets, np.array([0.0, 1.0]), _exact_arrays(net),
                net.hidden, mask_1d, sample, rollout_init, rollout_reference,
                {"rule": rule, "domain_size": len(domain), "domain_1d_size": int(mask_1d.sum())})


def make_task(name: str, settings: dict[str, Any], seed: int) -> Task:
    grid = tuple(settings["grid"])
    if name == "tm_bb2":
        from simulators.formats import builtin_machines

        return make_tm_task(name, builtin_machines()["bb2"], grid, settings["tm_tape"])
    if name == "tm_rand3x2":
        machine = _non_halting_machine(random.Random(f"learn_step-{seed}"), 3, 2)
        return make_tm_task(name, machine, grid, settings["tm_tape"])
    if name.startswith("eca_"):
        return make_eca_task(name, int(name[4:]), grid, settings["eca_width"])
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")


# --------------------------------------------------------------------------- networks


class PatchMLP(nn.Module):
    """``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` on (N, 9) patches: the RCNN's patch network."""

    def __init__(self, h1: int, h2: int) -> None:
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(9, h1), nn.Linear(h1, h2), nn.Linear(h2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l3(torch.relu(self.l2(torch.relu(self.l1(x))))).squeeze(-1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"A1": self.l1.weight, "b1": self.l1.bias, "A2": self.l2.weight,
                "b2": self.l2.bias, "A3": self.l3.weight, "b3": self.l3.bias}


def as_arrays(net: PatchMLP) -> dict[str, np.ndarray]:
    return {k: v.detach().to(torch.float64).numpy().copy() for k, v in net.arrays().items()}


def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = torch.relu(x @ params["A1"].T + params["b1"])
    h = torch.relu(h @ params["A2"].T + params["b2"])
    return (h @ params["A3"].T + params["b3"])[:, 0]


DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
          "bfloat16": torch.bfloat16}


def to_params(arrays: dict[str, np.ndarray], dtype: str = "float64") -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v, dtype=torch.float64).to(DTYPES[dtype])
            for k, v in arrays.items()}


def nearest_code(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Round every value to the nearest valid code (ties to the smaller code); a non-finite
    value becomes NaN, which equals no code (so it always counts as wrong)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    idx = np.abs(np.where(finite, v, 0.0)[..., None] - codes).argmin(axis=-1)
    return np.where(finite, codes[idx], np.nan)


def evaluate(task: Task, arrays: dict[str, np.ndarray], dtype: str = "float64"
             ) -> dict[str, Any]:
    """Domain accuracy of the patch network ``arrays`` evaluated in ``dtype``."""
    p = to_params(arrays, dtype)
    with torch.no_grad():
        out = forward(p, torch.as_tensor(task.domain).to(DTYPES[dtype])).to(torch.float64)
    ok = nearest_code(out.numpy(), task.codes) == task.targets
    return {"domain_acc": float(ok.mean()), "exact": bool(ok.all()),
            "domain_acc_1d": float(ok[task.mask_1d].mean()),
            "wrong": int((~ok).sum()),
            "max_abs_err": float(np.max(np.abs(out.numpy() - task.targets)))}


# --------------------------------------------------------------------------- training


def train(task: Task, hidden: tuple[int, int], seed: int, settings: dict[str, Any]
          ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Adam from PyTorch's default initialisation; returns float64 copies of the weights."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = PatchMLP(*hidden)
    opt = torch.optim.Adam(net.parameters(), lr=settings["lr"])
    steps = settings["steps"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))
    # codes are scaled to [0, 1] while training; the scale is folded back into A1 and A3, b3
    # afterwards, so the result is a patch network on raw codes of exactly the same shape
    scale = float(task.codes.max()) if settings.get("normalise", False) else 1.0
    start = time.perf_counter()
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        x, y = task.sample(rng, settings["batch"])
        xt = torch.as_tensor(x / scale, dtype=torch.float32)
        yt = torch.as_tensor(y / scale, dtype=torch.float32)
        loss = torch.mean((net(xt) - yt) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    arrays = as_arrays(net)
    arrays["A1"] = arrays["A1"] / scale
    arrays["A3"], arrays["b3"] = arrays["A3"] * scale, arrays["b3"] * scale
    # the folded weights are rounded to float32, the precision the net was trained in
    arrays = {k: v.astype(np.float32).astype(np.float64) for k, v in arrays.items()}
    loss = loss * scale**2
    # evaluate in float32, the precision it was trained in
    res = evaluate(task, arrays, "float32")
    res.update({"final_loss": float(loss.detach()), "train_seconds": time.perf_counter() - start,
                "patches_seen": steps * settings["batch"] * int(np.prod(settings["grid"]))})
    return arrays, res


def _train_point(task: Task, settings: dict[str, Any], point: tuple[int, int]
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """One grid point (width multiplier, seed) of the width sweep."""
    mult, s = point
    hidden = (mult * task.hidden[0], mult * task.hidden[1])
    return train(task, hidden, s, {**settings, "lr": learning_rate(settings, mult)})


def learning_rate(settings: dict[str, Any], mult: int) -> float:
    """Adam's learning rate at width ``mult`` x the construction's: ``lr / sqrt(mult)`` with
    ``lr_scaling = "inv_sqrt_mult"`` (wider nets diverge at the narrow nets' rate), else
    ``lr``."""
    if settings.get("lr_scaling") == "inv_sqrt_mult":
        return settings["lr"] / math.sqrt(mult)
    return settings["lr"]


# --------------------------------------------------------------------------- rollouts


def layer(params: dict[str, torch.Tensor], grids: torch.Tensor) -> torch.Tensor:
    B, H, W = grids.shape
    padded = torch.nn.functional.pad(grids, (1, 1, 1, 1), value=0.0)
    x = torch.stack([padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)], dim=-1)
    return forward(params, x.reshape(-1, 9)).reshape(B, H, W)


def rollout(task: Task, arrays: dict[str, np.ndarray], runs: int, T: int, seed: int,
            round_each_step: bool = False, dtype: str = "float32") -> np.ndarray:
    """First failing step of each run (``T + 1`` if it never fails within ``T`` steps).

    ``round_each_step=False`` feeds the raw float output back (the RCNN as it is). With
    ``round_each_step=True`` every output is rounded to the nearest code before the next step;
    then every input patch is a grid of codes, so the step is the net's rounded value table on
    the domain (computed once; patches outside the domain, e.g. with two heads, go through the
    net), which gives the same result as running the net and is much cheaper.
    """
    rng = np.random.default_rng(10_000 + seed)
    grid0, st = task.rollout_init(rng, runs, T)
    p = to_params(arrays, dtype)
    first_fail = np.full(runs, T + 1, dtype=np.int64)

    def net_np(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = forward(p, torch.as_tensor(x).to(DTYPES[dtype]))
        return nearest_code(out.to(torch.float64).numpy(), task.codes)

    table = net_np(task.domain) if round_each_step else None
    g = grid0 if round_each_step else torch.as_tensor(grid0).to(DTYPES[dtype])
    with torch.no_grad():
        for t in range(1, T + 1):
            if round_each_step:
                x = grid_patches(g)
                idx, found = task.domain_index(x)
                out = table[idx]
                if not found.all():
                    out[~found] = net_np(x[~found])
                got = g = out.reshape(g.shape)
            else:
                g = layer(p, g)
                got = nearest_code(g.to(torch.float64).numpy(), task.codes)
            ref = task.rollout_reference(st, t)
            bad = np.any((got != ref).reshape(runs, -1), axis=1)
            first_fail = np.where(bad & (first_fail > T), t, first_fail)
            if np.all(first_fail <= T):
                break
    return first_fail


def rollout_curve(first_fail: np.ndarray, checkpoints: list[int]) -> list[float]:
    return [float(np.mean(first_fail > t)) for t in checkpoints]


# --------------------------------------------------------------------------- robustness


def perturbed(arrays: dict[str, np.ndarray], sigma: float, rng: np.random.Generator
              ) -> dict[str, np.ndarray]:
    return {k: v + sigma * rng.standard_normal(v.shape) for k, v in arrays.items()}


# --------------------------------------------------------------------------- driver


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
        if not cons_eval["exact"]:
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
        for mult in sorted({min(settings["mults"]), max(settings["mults"])}):
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
                            "success_rate": {str(m): float(np.mean(
                                [r["exact"] for r in sweep_rows
                                 if r["task"] == tname and r["mult"] == m]))
                                for m in settings["mults"]}}
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
        print(f"{name}: construction exact={t['construction']['exact']}; "
              f"SGD success rate by width multiplier {t['success_rate']}")
    print(f"wrote {args.out} in {rec['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

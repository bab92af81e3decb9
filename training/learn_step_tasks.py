"""Experiment 1's tasks: one local rule each (a Turing machine's step, an elementary CA), its
whole finite domain of 3x3 patches, reference targets written from the machine table or the
rule number (independent of the constructions), the construction's weights, samplers of
random configurations and reference rollouts (training/learn_step.py has the experiment)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

TASKS = ("tm_bb2", "tm_rand3x2", "eca_110", "eca_30")


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

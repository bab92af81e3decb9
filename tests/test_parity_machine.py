"""The parity learner machine (simulators/library/learners/parity.tm, docs/parity_machine.md)
against the reference parity learner (simulators.learners, built on gf2.solve_greedy).

Most runs use :func:`run_fast`, a plain-list runner of the learner tape defined here (the
reference runner copies the tape every step); ``test_fast_runner_matches_run_learner``
checks that it gives the same prediction, step count and final grid as
:func:`simulators.learner_tape.run_learner`. The GF(2) solver itself is cross-checked against
sympy's ``DomainMatrix`` over ``GF(2)`` in tests/test_gf2.py (rref, nullspace, solve,
solve_greedy), so it is not repeated here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from simulators.datasets import all_points, random_dataset
from simulators.learner_tape import (
    MIN_WORK_COLUMNS,
    TAPE_SYMBOLS,
    learner_tape,
    load_learner_machine,
    run_learner,
    time_bound,
)
from simulators.learners import fit, predict
from simulators.turing import HALT, HeadLeftGrid, TuringMachine

MACHINE = load_learner_machine("parity")
N_STATES, N_SYMBOLS, N_TRANSITIONS = 33, 16, 175


# --------------------------------------------------------------------------- fast runner


def _flat(machine: TuringMachine) -> list[list[tuple[int, int, int, int] | None]]:
    return [
        [None if t is None else (t.write, *t.move.delta, t.next_state) for t in row]
        for row in machine.table
    ]


FLAT = _flat(MACHINE)
A_PLUS, A_MINUS = MACHINE.symbol_names.index("A+"), MACHINE.symbol_names.index("A-")


def run_fast(
    X: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    l: int = 1,  # noqa: E741
    used: set[tuple[int, int]] | None = None,
) -> tuple[int, int, list[list[int]]]:
    """``(prediction, steps, final cells)`` of the parity machine on the learner tape, from
    the start cell; raises ``HeadLeftGrid`` / ``AssertionError`` like ``run_learner`` would
    fail. ``used`` collects the ``(state, symbol)`` pairs executed."""
    grid = learner_tape(X, y, x, l, symbols=MACHINE)
    cells = [list(row) for row in grid.cells]
    rows, cols = len(cells), len(cells[0])
    r, c = rows - 1, cols - 1 - l
    q, steps = 0, 0
    while q != HALT:
        tr = FLAT[q][cells[r][c]]
        if tr is None:
            break
        if used is not None:
            used.add((q, cells[r][c]))
        cells[r][c], dr, dc, q = tr
        r, c, steps = r + dr, c + dc, steps + 1
        if not (0 <= r < rows and 0 <= c < cols):
            raise HeadLeftGrid(f"step {steps}: head at {(r, c)}")
        assert steps <= 100_000
    answers = [a for row in cells for a in row if a in (A_PLUS, A_MINUS)]
    assert len(answers) == 1, answers
    return (1 if answers[0] == A_PLUS else -1), steps, cells


def check_points(
    X: np.ndarray, y: np.ndarray, points: np.ndarray | None = None, used: set | None = None
) -> int:
    """Every test point (default: all ``2^d``): the machine's prediction is the reference
    learner's and its step count is within the bound. Returns the largest step count."""
    m, d = X.shape
    points = all_points(d) if points is None else points
    expected = predict("parity", X, y, points)
    bound = time_bound("parity", m, d)
    worst = 0
    for x, want in zip(points, expected, strict=True):
        got, steps, _ = run_fast(X, y, x, used=used)
        assert got == want, (X.tolist(), y.tolist(), x.tolist())
        assert steps <= bound, (m, d, steps, bound)
        worst = max(worst, steps)
    return worst


# --------------------------------------------------------------------------- the bound


def _F(k: int, d: int) -> int:
    """Bubbling a row past the pivot rows with pivots 0..k-1 (their passes, summed)."""
    return sum(4 * d + 3 - p - p % 2 for p in range(k))


def bound_by_phases(m: int, d: int) -> int:
    """The worst case summed phase by phase (the derivation in parity.tm's header)."""
    if m == 0:
        return 1
    t = 2 + m * (4 * d + 3) + 1  # start, phase 1
    for a in range(m):  # phase 2: fetch, crossing, return ... plus the bubbling
        t += (a >= 1) + (d + 1) + 3 * (d + 1) + 2
        t += _F(a, d) + a if a <= d else _F(d, d) + 4 * d + d % 2
    r = min(m, d)  # phase 3
    t += 1 + sum(4 * d + 3 - 2 * p for p in range(r)) + (2 * d + 2 if m > d else 0)
    return t


def worst_case(m: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Examples -e_0, ..., -e_{d-1} (rows of pivots 0, 1, ... in order), then all-ones
    examples (zero rows), every label +1, test point +1: attains the bound."""
    X = np.ones((m, d), dtype=np.int64)
    for a in range(min(m, d)):
        X[a, a] = -1
    return X, np.ones(m, dtype=np.int64), np.ones(d, dtype=np.int64)


def test_bound_closed_form_matches_phase_sum() -> None:
    for d in range(1, 13):
        for m in range(0, 3 * d + 6):
            assert time_bound("parity", m, d) == bound_by_phases(m, d), (m, d)
    assert time_bound("parity", 0, 5) == 1
    assert [time_bound("parity", m, 1) for m in range(5)] == [1, 28, 58, 88, 118]
    assert time_bound("parity", 16, 8) == 4585


def test_bound_attained_up_to_16_8() -> None:
    for d in range(1, 9):
        for m in range(0, 17):
            X, y, x = worst_case(m, d)
            got, steps, _ = run_fast(X, y, x)
            assert steps == time_bound("parity", m, d), (m, d)
            assert got == predict("parity", X, y, x[None, :])[0]
    X, y, x = worst_case(8, 6)
    run = run_learner(MACHINE, X, y, x)
    assert run.steps == time_bound("parity", 8, 6) == 1325


# --------------------------------------------------------------------------- the machine


def test_machine_shape() -> None:
    assert MACHINE.name == "parity"
    assert MACHINE.symbol_names == (*TAPE_SYMBOLS, "U", "T", "T-", "T^", "B")
    n_defined = sum(t is not None for row in MACHINE.table for t in row)
    assert (MACHINE.n_states, MACHINE.n_symbols, n_defined) == (
        N_STATES,
        N_SYMBOLS,
        N_TRANSITIONS,
    )
    assert MIN_WORK_COLUMNS["parity"] == 1


def test_no_examples() -> None:
    for d in (1, 3):
        run = run_learner(MACHINE, np.zeros((0, d), dtype=np.int64), np.zeros(0), -np.ones(d))
        assert (run.prediction, run.steps, run.answer_cell) == (1, 1, (0, d))


def test_worked_example() -> None:
    """The m = 3, d = 2 example of docs/learner_tape.md and docs/parity_machine.md."""
    X = np.array([[1, -1], [-1, -1], [1, 1]])
    y = np.array([1, -1, -1])
    clf = fit("parity", X, y)
    assert clf.S == (0,) and clf.diagnostics.dropped == (2,)
    run = run_learner(MACHINE, X, y, np.array([1, -1]))
    assert (run.prediction, run.steps, run.answer_cell) == (1, 135, (1, 2))
    assert run.grid.rows() == ["p< p N^ o", "p< p A+ o", "p< n P o", "n< n N B"]
    assert run_learner(MACHINE, X, y, np.array([-1, 1])).prediction == -1


def test_fast_runner_matches_run_learner() -> None:
    for seed, (m, d) in enumerate([(1, 1), (3, 2), (5, 4), (6, 3), (8, 6)]):
        X, y = random_dataset(d, m, seed=seed)
        for x in all_points(d)[:: max(1, 2 ** d // 8)]:
            run = run_learner(MACHINE, X, y, x)
            got, steps, cells = run_fast(X, y, x)
            assert (got, steps) == (run.prediction, run.steps)
            assert [list(row) for row in run.grid.cells] == cells


def _all_datasets(m: int, d: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    for bits in itertools.product((1, -1), repeat=m * (d + 1)):
        A = np.array(bits, dtype=np.int64).reshape(m, d + 1)
        yield A[:, :d], A[:, d]


def test_exhaustive_small() -> None:
    """Every dataset and test point for d = 1, m <= 4; d = 2, m <= 3; d = 3, m <= 2. The
    maximum step count equals the bound, and every defined transition is used."""
    used: set[tuple[int, int]] = set()
    for d, max_m in ((1, 4), (2, 3), (3, 2)):
        for m in range(max_m + 1):
            worst = max(check_points(X, y, used=used) for X, y in _all_datasets(m, d))
            assert worst == time_bound("parity", m, d), (m, d, worst)
    defined = {
        (q, a) for q, row in enumerate(MACHINE.table) for a, t in enumerate(row) if t is not None
    }
    assert used == defined, sorted(defined - used)


@st.composite
def parity_datasets(draw: st.DrawFn, max_d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Datasets labelled by a random parity (the empty set included), with optional label
    noise, duplicated examples and few (underdetermined) or many examples (m in 0..2d)."""
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(0, 2 * d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    S = [i for i in range(d) if draw(st.booleans())]
    X = rng.choice(np.array([-1, 1], dtype=np.int64), size=(m, d))
    if m >= 2 and draw(st.booleans()):  # duplicates
        X[rng.integers(0, m, size=m // 2)] = X[rng.integers(0, m)]
    if draw(st.booleans()):  # low rank: examples from a small set of points
        pool = rng.choice(np.array([-1, 1], dtype=np.int64), size=(max(1, d // 2), d))
        X = pool[rng.integers(0, len(pool), size=m)]
    y = np.prod(X[:, S], axis=1).astype(np.int64) if m else np.zeros(0, dtype=np.int64)
    noise = draw(st.sampled_from([0.0, 0.0, 0.2, 0.5]))
    y = np.where(rng.random(m) < noise, -y, y)
    return X, y


@given(data=parity_datasets())
def test_matches_reference_on_parity_data(data: tuple[np.ndarray, np.ndarray]) -> None:
    check_points(*data)


@given(
    d=st.integers(1, 6),
    m=st.integers(0, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference_on_random_data(d: int, m: int, seed: int) -> None:
    """Uniform examples and labels: mostly inconsistent once m > d (dropped examples)."""
    check_points(*random_dataset(d, m, seed=seed))


@given(d=st.integers(1, 6), extra=st.integers(0, 6), seed=st.integers(0, 2**32 - 1))
def test_full_rank_learns_the_parity(d: int, extra: int, seed: int) -> None:
    """A consistent full-rank training set determines S: the machine computes prod_{i in S}
    x_i at every test point."""
    rng = np.random.default_rng(seed)
    S = [i for i in range(d) if rng.random() < 0.5]
    while True:
        X = rng.choice(np.array([-1, 1], dtype=np.int64), size=(d + extra, d))
        if fit("parity", X, np.ones(d + extra, dtype=np.int64)).diagnostics.rank == d:
            break
    y = np.prod(X[:, S], axis=1).astype(np.int64)
    points = all_points(d)
    truth = np.prod(points[:, S], axis=1)
    for x, want in zip(points, truth, strict=True):
        assert run_fast(X, y, x)[0] == want


def test_seeded_sweep() -> None:
    """400 seeded parity datasets (d <= 6, m <= 2d; noise 0, 0.1 or 0.5; every third one
    low rank), 8 test points each: many more cases than the ci profile's examples."""
    for seed in range(400):
        rng = np.random.default_rng(seed)
        d = int(rng.integers(1, 7))
        m = int(rng.integers(0, 2 * d + 1))
        S = rng.random(d) < 0.5
        X = rng.choice(np.array([-1, 1], dtype=np.int64), size=(m, d))
        if seed % 3 == 0:  # low rank with duplicates: examples from a pool of d // 2 points
            pool = rng.choice(np.array([-1, 1], dtype=np.int64), size=(max(1, d // 2), d))
            X = pool[rng.integers(0, len(pool), size=m)]
        y = np.prod(np.where(S, X, 1), axis=1).astype(np.int64)
        y = np.where(rng.random(m) < [0.0, 0.1, 0.5][seed % 3 - 1], -y, y)
        points = all_points(d)[rng.permutation(2**d)[:8]]
        check_points(X, y, points)


def test_work_columns() -> None:
    """Only cell (m, d + 1) of the work area is written (the bottom mark B), the head never
    goes right of column d + 1, and more work columns change nothing."""
    X, y = random_dataset(4, 6, seed=11)
    blank = 0
    for x in all_points(4)[::3]:
        one = run_learner(MACHINE, X, y, x)
        three = run_learner(MACHINE, X, y, x, l=3)
        assert (one.prediction, one.steps) == (three.prediction, three.steps)
        assert three.report.visited_cols[1] == 5
        work = [row[5:] for row in three.grid.cells]
        assert work[-1] == (MACHINE.symbol_names.index("B"), blank, blank)
        assert all(cells == (blank, blank, blank) for cells in work[:-1])


def test_measured_steps_table() -> None:
    """The measured maxima quoted in docs/parity_machine.md stay within the bound."""
    for m, d in ((4, 3), (8, 6)):
        for seed in range(3):
            X, y = random_dataset(d, m, seed=seed)
            assert check_points(X, y) <= time_bound("parity", m, d)

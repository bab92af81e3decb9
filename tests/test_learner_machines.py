"""Learner machines on the learner tape (simulators.learner_tape, simulators/library/learners)
against the plain-Python reference learners (simulators.learners), on the reference grid
simulator (simulators.gridrun)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings

from simulators.assembler import assemble
from simulators.datasets import all_points, random_dataset
from simulators.learner_tape import (
    ANSWER_SYMBOLS,
    BASE_SYMBOLS,
    LEARNER_MACHINES,
    SYMBOL_NAMES,
    TAPE_SYMBOLS,
    LearnerTapeError,
    check_learner_machine,
    learner_tape,
    load_learner_machine,
    run_learner,
    start_cell,
    time_bound,
)
from simulators.learners import predict
from simulators.turing import HeadLeftGrid
from tests.machines import datasets

MACHINES = {name: load_learner_machine(name) for name in LEARNER_MACHINES}
SYMS = " ".join(TAPE_SYMBOLS)


def check_all_points(name: str, X: np.ndarray, y: np.ndarray, l: int = 1) -> int:  # noqa: E741
    """Run ``name`` on every test point; assert predictions and bound; return the max steps."""
    m, d = X.shape
    points = all_points(d)
    expected = predict(name, X, y, points)
    bound = time_bound(name, m, d)
    worst = 0
    for x, want in zip(points, expected, strict=True):
        run = run_learner(MACHINES[name], X, y, x, l=l)
        assert run.prediction == want, (name, X.tolist(), y.tolist(), x.tolist())
        assert run.steps <= bound, (name, m, d, run.steps, bound)
        assert run.answer_cell == start_cell(m, d)
        worst = max(worst, run.steps)
    return worst


# --------------------------------------------------------------------------- the tape


def test_alphabet() -> None:
    assert BASE_SYMBOLS == ("o", "p", "n", "p<", "n<", "P", "N", "P^", "N^")
    assert ANSWER_SYMBOLS == ("A+", "A-")
    assert TAPE_SYMBOLS == BASE_SYMBOLS + ANSWER_SYMBOLS
    assert set(SYMBOL_NAMES.values()) == set(TAPE_SYMBOLS)
    # every name is legal in the assembler
    machine = assemble(f"symbols {SYMS}\nstate s:\n    on *: halt\n")
    assert machine.symbol_names == TAPE_SYMBOLS


def test_worked_example_tape() -> None:
    """The m = 3, d = 2 example of docs/learner_tape.md."""
    X = np.array([[1, -1], [-1, -1], [1, 1]])
    y = np.array([1, -1, -1])
    x = np.array([1, -1])
    grid = learner_tape(X, y, x)
    assert grid.shape == (4, 4)
    assert grid.rows() == ["p< p P^ o", "p< n N o", "n< p N o", "p< n P o"]
    assert start_cell(3, 2) == (3, 2)
    assert learner_tape(X, y, x, l=3).rows()[3] == "p< n P o o o"


def test_worked_example_runs() -> None:
    """The runs quoted in docs/learner_tape.md."""
    X = np.array([[1, -1], [-1, -1], [1, 1]])
    y = np.array([1, -1, -1])
    runs = {n: run_learner(MACHINES[n], X, y, np.array([1, -1])) for n in LEARNER_MACHINES}
    assert {n: (r.prediction, r.steps) for n, r in runs.items()} == {
        "majority": (-1, 17),
        "first_agree": (1, 11),
        "nearest": (1, 11),
    }
    assert runs["majority"].grid.rows() == [
        "p< p Px^ o",
        "p< n N o",
        "n< p Nx o",
        "p< n A- o",
    ]
    assert runs["nearest"].grid.rows()[:3] == learner_tape(X, y, np.array([1, -1])).rows()[:3]
    far = run_learner(MACHINES["nearest"], X, y, np.array([-1, 1]))
    assert (far.prediction, far.steps) == (-1, 29)


def test_tape_matches_signs() -> None:
    """Cell symbols follow the signs of the network's grid G_ab = y^a x^a_b x_b / 3."""
    X, y = random_dataset(5, 7, seed=3)
    x = np.array([1, -1, -1, 1, -1])
    grid = learner_tape(X, y, x, l=2)
    G = np.vstack([y[:, None] * X * x, x])
    names = [row.split() for row in grid.rows()]
    for a in range(8):
        for b in range(5):
            want = ("p" if G[a, b] > 0 else "n") + ("<" if b == 0 else "")
            assert names[a][b] == want
        label = "P" if a == 7 or y[a] > 0 else "N"
        assert names[a][5] == label + ("^" if a == 0 else "")
        assert names[a][6:] == ["o", "o"]


def test_tape_m0() -> None:
    X = np.zeros((0, 3), dtype=np.int64)
    grid = learner_tape(X, np.zeros(0, dtype=np.int64), np.array([-1, 1, 1]))
    assert grid.rows() == ["n< p p P^ o"]


def test_tape_rejects_bad_input() -> None:
    X, y = random_dataset(2, 3, seed=0)
    with pytest.raises(ValueError, match="l >= 1"):
        learner_tape(X, y, np.array([1, 1]), l=0)
    with pytest.raises(ValueError, match="d = 3"):
        learner_tape(X, y, np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="-1 or 1"):
        learner_tape(X, y, np.array([1, 0]))
    with pytest.raises(LearnerTapeError, match="must start with"):
        learner_tape(X, y, np.array([1, 1]), symbols=["o", "p"])


# --------------------------------------------------------------------------- validation


def test_validator_accepts_library_and_extra_marks() -> None:
    for machine in MACHINES.values():
        assert check_learner_machine(machine) is machine
        assert machine.symbol_names[: len(TAPE_SYMBOLS)] == TAPE_SYMBOLS


@pytest.mark.parametrize(
    "symbols",
    [
        "o p n p< n< P N P^ N^",  # no answer symbols
        "o p n p< n< P N N^ P^ A+ A-",  # wrong order
        "_ p n p< n< P N P^ N^ A+ A-",  # wrong blank
        "o p n p< n< P N P^ N^ A- A+ X",  # answers swapped
    ],
)
def test_validator_rejects(symbols: str) -> None:
    machine = assemble(f"symbols {symbols}\nstate s:\n    on *: halt\n")
    with pytest.raises(LearnerTapeError, match="must start with o p n p< n< P N P\\^ N\\^ A\\+ A-"):
        check_learner_machine(machine)
    with pytest.raises(LearnerTapeError):
        run_learner(machine, np.ones((1, 1)), np.ones(1), np.ones(1))


def _tiny(body: str) -> object:
    return assemble(f"symbols {SYMS} Z\nstate s:\n{body}")


def test_run_errors() -> None:
    X, y, x = np.array([[1, -1]]), np.array([1]), np.array([1, 1])
    with pytest.raises(LearnerTapeError, match="0 answer cells"):
        run_learner(_tiny("    on *: halt\n"), X, y, x)  # halts, no answer
    with pytest.raises(LearnerTapeError, match="0 answer cells"):
        run_learner(_tiny("    on *: stop\n"), X, y, x)  # undefined at once
    two = _tiny("    on P: write A+, move R, goto t\nstate t:\n    on o: write A-, halt\n")
    with pytest.raises(LearnerTapeError, match="2 answer cells"):
        run_learner(two, X, y, x)
    with pytest.raises(LearnerTapeError, match="did not halt"):
        run_learner(_tiny("    on *: goto s\n"), X, y, x, max_steps=50)
    with pytest.raises(HeadLeftGrid):
        run_learner(_tiny("    on *: move D\n"), X, y, x)
    ok = _tiny("    on P: write A-, halt\n")
    run = run_learner(ok, X, y, x)
    assert (run.prediction, run.steps, run.answer_cell) == (-1, 1, (1, 2))


def test_time_bound_formulas() -> None:
    assert [time_bound("majority", m, 3) for m in range(4)] == [2, 6, 12, 20]
    assert time_bound("first_agree", 8, 6) == 2 * 8 * 7 + 90
    assert time_bound("nearest", 8, 6) == 8 * 7 * 8 + 13
    assert time_bound("nearest", 0, 6) == 1
    with pytest.raises(KeyError, match="oracle"):
        time_bound("oracle", 1, 1)
    with pytest.raises(ValueError):
        time_bound("majority", -1, 1)


# --------------------------------------------------------------------------- the machines


@pytest.mark.parametrize("name", LEARNER_MACHINES)
@settings(max_examples=150, deadline=None)
@given(data=datasets())
def test_machine_matches_reference(name: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    check_all_points(name, *data)


@pytest.mark.parametrize("name", LEARNER_MACHINES)
def test_exhaustive_small(name: str) -> None:
    """Every dataset with d = 1, m <= 4 and d = 2, m <= 3, every test point; the bound is
    attained for every (m, d) with m >= 1."""
    for d, max_m in ((1, 4), (2, 3)):
        for m in range(max_m + 1):
            worst = 0
            for bits in itertools.product((1, -1), repeat=m * (d + 1)):
                A = np.array(bits, dtype=np.int64).reshape(m, d + 1)
                worst = max(worst, check_all_points(name, A[:, :d], A[:, d]))
            if m >= 1:
                assert worst == time_bound(name, m, d), (name, m, d)


def _worst_case(name: str, m: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dataset and test point attaining ``time_bound(name, m, d)`` (see its docstring)."""
    x = np.ones(d, dtype=np.int64)
    y = np.array([1 - 2 * (a % 2) for a in range(m)], dtype=np.int64)  # counts differ <= 1
    X = -np.ones((m, d), dtype=np.int64)  # every example is -x
    return X, y, x


@pytest.mark.parametrize("name", LEARNER_MACHINES)
@pytest.mark.parametrize(("m", "d"), [(1, 1), (2, 5), (5, 3), (7, 6), (8, 6)])
def test_bound_attained(name: str, m: int, d: int) -> None:
    X, y, x = _worst_case(name, m, d)
    run = run_learner(MACHINES[name], X, y, x)
    assert run.steps == time_bound(name, m, d)
    assert run.prediction == predict(name, X, y, x[None, :])[0]


@pytest.mark.parametrize("name", LEARNER_MACHINES)
def test_adversarial(name: str) -> None:
    """Structured datasets: ties, all-equal rows, duplicates with opposite labels, x = ±row."""
    rng = np.random.default_rng(7)
    for m, d in ((8, 6), (7, 5), (6, 1), (8, 2)):
        base = rng.choice((-1, 1), size=d)
        cases = [
            (np.tile(base, (m, 1)), np.array([1 - 2 * (a % 2) for a in range(m)])),
            (np.tile(base, (m, 1)), -np.array([1 - 2 * (a % 2) for a in range(m)])),
            (np.array([base if a % 2 else -base for a in range(m)]), -np.ones(m, dtype=int)),
            (rng.choice((-1, 1), size=(m, d)), np.ones(m, dtype=int)),
        ]
        for X, y in cases:
            check_all_points(name, X.astype(np.int64), y.astype(np.int64))


@pytest.mark.parametrize("name", LEARNER_MACHINES)
def test_work_columns_untouched(name: str) -> None:
    """More work columns change nothing; the work area stays blank."""
    X, y = random_dataset(4, 6, seed=11)
    for x in all_points(4)[::3]:
        one = run_learner(MACHINES[name], X, y, x)
        three = run_learner(MACHINES[name], X, y, x, l=3)
        assert (one.prediction, one.steps) == (three.prediction, three.steps)
        assert all(row[5:] == (0, 0, 0) for row in three.grid.cells)
        assert three.report.visited_cols[1] <= 4


def test_max_steps_8_6() -> None:
    """Random (8, 6) datasets: measured steps stay within the bound (the table in the docs)."""
    for seed in range(5):
        X, y = random_dataset(6, 8, seed=seed)
        for name in LEARNER_MACHINES:
            assert check_all_points(name, X, y) <= time_bound(name, 8, 6)

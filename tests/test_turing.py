"""The reference machine model of simulators/turing.py: validation, step semantics, halting
conventions, grid moves and bounds."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.turing import (
    HALT,
    Configuration,
    HeadLeftGrid,
    MachineError,
    Move,
    Transition,
    TuringMachine,
    default_state_names,
    run,
    step,
    trace,
)

L, R, U, D, S = Move.L, Move.R, Move.U, Move.D, Move.S


def tm(*rows: tuple[Transition | None, ...]) -> TuringMachine:
    return TuringMachine(len(rows), len(rows[0]), tuple(rows))


def T(write: int, move: Move, nxt: int) -> Transition:
    return Transition(write, move, nxt)


BB2 = tm((T(1, R, 1), T(1, L, 1)), (T(1, L, 0), T(1, R, HALT)))


@st.composite
def grid_machines(draw: st.DrawFn, max_states: int = 4, max_symbols: int = 3) -> TuringMachine:
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(2, max_symbols))
    entry = st.tuples(
        st.integers(0, 7),
        st.builds(
            Transition, st.integers(0, k - 1), st.sampled_from(list(Move)), st.integers(-1, n - 1)
        ),
    ).map(lambda t: None if t[0] == 0 else t[1])
    rows = draw(st.lists(st.lists(entry, min_size=k, max_size=k), min_size=n, max_size=n))
    return TuringMachine(n, k, tuple(tuple(r) for r in rows))


# --------------------------------------------------------------------------- the model


def test_move_deltas() -> None:
    assert {m.name: m.delta for m in Move} == {
        "L": (0, -1),
        "R": (0, 1),
        "U": (-1, 0),
        "D": (1, 0),
        "S": (0, 0),
    }


def test_default_state_names() -> None:
    names = default_state_names(27)
    assert names[:3] == ("A", "B", "C")
    assert names[24] == "Y"
    assert "Z" not in names
    assert names[25:] == ("S25", "S26")


def test_machine_defaults_and_properties() -> None:
    assert BB2.state_names == ("A", "B")
    assert BB2.symbol_names == ("0", "1")
    assert BB2.is_one_dimensional
    assert BB2.moves_used == {L, R}
    assert BB2.state_name(HALT) == "Z"
    assert BB2.state_name(1) == "B"
    assert BB2.transition(HALT, 0) is None
    assert BB2.transition(0, 1) == T(1, L, 1)
    grid = tm((T(1, D, HALT), None))
    assert not grid.is_one_dimensional
    # A stay move is not a 1-D move.
    assert not tm((T(1, S, HALT), None)).is_one_dimensional


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_states": 0, "n_symbols": 2, "table": ()}, "at least 1 state"),
        ({"n_states": 1, "n_symbols": 1, "table": ((None,),)}, "at least 2 symbols"),
        ({"n_states": 2, "n_symbols": 2, "table": ((None, None),)}, "expected one per state"),
        ({"n_states": 1, "n_symbols": 2, "table": ((None,),)}, "expected 2"),
        ({"n_states": 1, "n_symbols": 2, "table": ((T(2, R, 0), None),)}, "unknown symbol 2"),
        ({"n_states": 1, "n_symbols": 2, "table": ((T(1, R, 1), None),)}, "unknown next state"),
        ({"n_states": 1, "n_symbols": 2, "table": ((T(1, R, -2), None),)}, "unknown next state"),
        (
            {"n_states": 2, "n_symbols": 2, "table": ((None,) * 2,) * 2, "state_names": ("A",)},
            "state_names",
        ),
        (
            {"n_states": 2, "n_symbols": 2, "table": ((None,) * 2,) * 2,
             "state_names": ("A", "A")},
            "state_names",
        ),
        (
            {"n_states": 1, "n_symbols": 2, "table": ((None,) * 2,),
             "symbol_names": ("x", "x")},
            "symbol_names",
        ),
    ],
)
def test_machine_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(MachineError, match=message):
        TuringMachine(**kwargs)


def test_machine_error_is_value_error() -> None:
    assert issubclass(MachineError, ValueError)


# --------------------------------------------------------------------------- stepping


def test_step_writes_moves_and_counts() -> None:
    c1 = step(BB2, Configuration())
    assert c1 == Configuration({(0, 0): 1}, (0, 1), 1, 1)
    c2 = step(BB2, c1)
    assert c2 == Configuration({(0, 0): 1, (0, 1): 1}, (0, 0), 0, 2)


def test_step_does_not_mutate_its_input() -> None:
    c0 = Configuration({(0, 3): 1}, (0, 0), 0, 7)
    before = c0.copy()
    step(BB2, c0)
    assert c0 == before


def test_writing_blank_removes_the_cell() -> None:
    eraser = tm((T(0, R, 0), T(0, R, 0)))
    c = step(eraser, Configuration({(0, 0): 1, (0, 1): 1}))
    assert c.tape == {(0, 1): 1}
    assert c.ones == 1


def test_halting_transition_executes_and_counts() -> None:
    # B reading 1 takes 1RZ: the write and move happen, the step is counted, the state is HALT.
    c = Configuration({(0, 0): 1}, (0, 0), 1, 5)
    after = step(BB2, c)
    assert after == Configuration({(0, 0): 1}, (0, 1), HALT, 6)
    assert after.is_halted(BB2)
    with pytest.raises(RuntimeError):
        step(BB2, after)


def test_undefined_transition_halts_without_a_step() -> None:
    m = tm((T(1, R, 1), None), (T(1, L, 0), None))
    c = Configuration({(0, 0): 1}, (0, 0), 0, 3)
    assert c.is_halted(m)
    assert run(m, 100, c) == c
    assert list(trace(m, 100, c)) == [c]
    with pytest.raises(RuntimeError):
        step(m, c)


def test_bb2_run_and_trace() -> None:
    configs = list(trace(BB2, 100))
    assert [c.steps for c in configs] == list(range(7))
    last = configs[-1]
    assert last == run(BB2, 100)
    assert (last.steps, last.ones, last.state, last.head) == (6, 4, HALT, (0, 0))
    assert last.row_string() == "1111"


def test_max_steps_is_a_total_count() -> None:
    c3 = run(BB2, 3)
    assert c3.steps == 3 and not c3.is_halted(BB2)
    # Continuing from a configuration counts its steps too.
    assert run(BB2, 3, c3) == c3
    assert run(BB2, 100, c3) == run(BB2, 100)
    assert run(BB2, 0) == Configuration()


def test_configuration_helpers() -> None:
    c = Configuration({(0, -2): 2, (0, 1): 1, (3, 5): 1}, (0, 1))
    assert c.read() == 1
    assert c.read((0, 0)) == 0
    assert c.read((3, 5)) == 1
    assert c.ones == 3
    assert c.row_string() == "2001"
    assert c.row_string(3) == "1"
    assert c.row_string(1) == ""
    d = c.copy()
    d.tape[(0, 0)] = 1
    assert (0, 0) not in c.tape


# --------------------------------------------------------------------------- grid moves


@pytest.mark.parametrize(
    ("move", "head"), [(L, (2, 1)), (R, (2, 3)), (U, (1, 2)), (D, (3, 2)), (S, (2, 2))]
)
def test_grid_moves(move: Move, head: tuple[int, int]) -> None:
    m = tm((T(1, move, HALT), None))
    c = step(m, Configuration(head=(2, 2)))
    assert c.head == head
    assert c.tape == {(2, 2): 1}
    assert c.state == HALT and c.steps == 1


def test_stay_move_rereads_the_written_symbol() -> None:
    # A0 -> write 1, stay, A; A1 -> write 1, move R, HALT: two steps on the same cell.
    m = tm((T(1, S, 0), T(1, R, HALT)))
    c = run(m, 10)
    assert (c.steps, c.head, c.state, c.tape) == (2, (0, 1), HALT, {(0, 0): 1})


def test_unbounded_grid_allows_negative_coordinates() -> None:
    m = tm((T(1, U, 1), None), (T(1, L, HALT), None))
    c = run(m, 10)
    assert c.head == (-1, -1)
    assert c.tape == {(0, 0): 1, (-1, 0): 1}


@pytest.mark.parametrize(
    ("move", "start"), [(L, (0, 0)), (U, (0, 1)), (R, (1, 2)), (D, (1, 0))]
)
def test_bounds_raise_head_left_grid(move: Move, start: tuple[int, int]) -> None:
    m = tm((T(1, move, 0), None))
    with pytest.raises(HeadLeftGrid, match=rf"step 1: head moved {move.name} .* 2x3 grid"):
        step(m, Configuration(head=start), bounds=(2, 3))


def test_bounds_inside_grid_are_fine_and_run_propagates_errors() -> None:
    square = tm((T(1, R, 1), None), (T(1, D, 2), None), (T(1, L, 3), None), (T(1, U, HALT), None))
    c = run(square, 10, bounds=(2, 2))
    assert (c.steps, c.ones, c.head, c.state) == (4, 4, (0, 0), HALT)
    with pytest.raises(HeadLeftGrid):
        run(square, 10, bounds=(1, 2))
    assert issubclass(HeadLeftGrid, RuntimeError)


# --------------------------------------------------------------------------- properties


@given(grid_machines(), st.integers(0, 60))
def test_trace_is_a_chain_of_steps(machine: TuringMachine, max_steps: int) -> None:
    configs = list(trace(machine, max_steps))
    assert configs[0] == Configuration()
    for prev, nxt in pairwise(configs):
        assert nxt == step(machine, prev)
        assert nxt.steps == prev.steps + 1
        assert all(a != 0 for a in nxt.tape.values())
    last = configs[-1]
    assert last == run(machine, max_steps)
    assert last.steps == max_steps or last.is_halted(machine)
    assert all(not c.is_halted(machine) for c in configs[:-1])


@given(grid_machines(), st.integers(0, 40), st.integers(0, 40))
def test_runs_compose(machine: TuringMachine, a: int, b: int) -> None:
    assert run(machine, a + b, run(machine, a)) == run(machine, a + b)

"""simulators/fast.py agrees with turing.run, and reproduces BB(5) (slow)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators import turing
from simulators.fast import run_fast
from simulators.formats import (
    builtin_expectations,
    builtin_machines,
    check_expectation,
    parse_bbchallenge,
)
from simulators.turing import HALT, Configuration, MachineError, Move, Transition, TuringMachine


@st.composite
def line_machines(draw: st.DrawFn, max_states: int = 4, max_symbols: int = 3) -> TuringMachine:
    """Random 1-D machines (moves L, R, S) with undefined and halting transitions."""
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(2, max_symbols))
    entry = st.tuples(
        st.integers(0, 7),
        st.builds(
            Transition,
            st.integers(0, k - 1),
            st.sampled_from([Move.L, Move.R, Move.S]),
            st.integers(-1, n - 1),
        ),
    ).map(lambda t: None if t[0] == 0 else t[1])
    rows = draw(st.lists(st.lists(entry, min_size=k, max_size=k), min_size=n, max_size=n))
    return TuringMachine(n, k, tuple(tuple(r) for r in rows))


@st.composite
def start_configs(draw: st.DrawFn, machine: TuringMachine) -> Configuration:
    cells = draw(
        st.dictionaries(
            st.integers(-6, 6).map(lambda c: (0, c)), st.integers(1, machine.n_symbols - 1),
            max_size=6,
        )
    )
    head = (0, draw(st.integers(-8, 8)))
    state = draw(st.sampled_from([HALT, *range(machine.n_states)]))
    return Configuration(cells, head, state, draw(st.integers(0, 5)))


@given(line_machines(), st.integers(0, 300))
def test_agrees_with_reference_from_blank_tape(machine: TuringMachine, max_steps: int) -> None:
    assert run_fast(machine, max_steps) == turing.run(machine, max_steps)


@given(st.data())
def test_agrees_with_reference_from_any_configuration(data: st.DataObject) -> None:
    machine = data.draw(line_machines())
    config = data.draw(start_configs(machine))
    max_steps = data.draw(st.integers(0, 200))
    before = config.copy()
    assert run_fast(machine, max_steps, config) == turing.run(machine, max_steps, config)
    assert config == before  # the input is not modified


@pytest.mark.parametrize("name", ["bb2", "bb2_undefined", "bb3", "bb4", "bb2x3", "counter"])
def test_agrees_on_library_machines(name: str) -> None:
    machine = builtin_machines()[name]
    expect = builtin_expectations()[name]
    fast = run_fast(machine, expect["steps"])
    assert fast == turing.run(machine, expect["steps"])
    assert check_expectation(machine, expect, fast) == []


@pytest.mark.parametrize("move", ["L", "R"])
def test_tape_grows_in_both_directions(move: str) -> None:
    # Walks 20,000 cells (several doublings of the 4096-cell tape), writing ones.
    sign = 1 if move == "R" else -1
    walker = parse_bbchallenge(f"1{move}A1{move}A")
    c = run_fast(walker, 20_000)
    assert c.steps == 20_000 and c.state == 0
    assert c.head == (0, sign * 20_000)
    assert c.ones == 20_000
    assert min(col for _, col in c.tape) == (0 if sign > 0 else -19_999)
    # An eraser walking the other way is cheap for the reference runner: compare exactly.
    eraser = parse_bbchallenge(f"0{move}A0{move}Z")
    assert run_fast(eraser, 9_000) == turing.run(eraser, 9_000)


def test_tape_grows_from_an_offset_configuration() -> None:
    machine = parse_bbchallenge("1LB0RA_1RA1LZ")
    config = Configuration({(0, 5000): 1, (0, -3000): 1}, (0, 4990), 0, 0)
    assert run_fast(machine, 500, config) == turing.run(machine, 500, config)


def test_rejects_grid_machines_and_configurations() -> None:
    with pytest.raises(MachineError, match="move U leaves row 0"):
        run_fast(parse_bbchallenge("1UB1LB_1LA1RZ"), 10)
    bb2 = builtin_machines()["bb2"]
    with pytest.raises(MachineError, match="row 0"):
        run_fast(bb2, 10, Configuration(head=(1, 0)))
    with pytest.raises(MachineError, match="row 0"):
        run_fast(bb2, 10, Configuration({(2, 0): 1}))
    with pytest.raises(MachineError, match="unknown symbol 5"):
        run_fast(bb2, 10, Configuration({(0, 0): 5}))


def test_max_steps_already_reached_returns_a_copy() -> None:
    bb2 = builtin_machines()["bb2"]
    config = Configuration({(0, 0): 1}, (0, 0), 1, 10)
    out = run_fast(bb2, 5, config)
    assert out == config and out is not config


@pytest.mark.slow
def test_bb5() -> None:
    machine = builtin_machines()["bb5"]
    expect = builtin_expectations()["bb5"]
    t0 = time.perf_counter()
    c = run_fast(machine, 50_000_000)
    elapsed = time.perf_counter() - t0
    assert (c.steps, c.ones, c.state) == (47_176_870, 4098, HALT)
    assert c.is_halted(machine)
    assert check_expectation(machine, expect, c) == []
    assert elapsed < 120, f"BB(5) took {elapsed:.1f} s"

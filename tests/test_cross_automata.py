"""Cross-check the reference simulator against automata-lib's DTM, step by step.

Mapping of our conventions onto automata-lib (``automata.tm.dtm.DTM``):

- states ``0..n-1`` become ``"q0".."q{n-1}"``; ``HALT`` becomes the only final state
  ``"halt"``, which has no transitions: a transition into it is executed (write, move)
  and then the DTM stops, like our halting transitions (``Z``);
- an undefined transition (``---``) is left out of the DTM's table: the DTM raises
  ``RejectionException`` when asked for the next configuration, and we halt there without
  executing a step;
- symbols ``a`` become ``str(a)``, the blank is ``"0"``; moves ``L``/``R``/``S`` become
  ``"L"``/``"R"``/``"N"``;
- automata-lib's tape is a list covering exactly the cells the head has visited (it starts as
  one blank cell and grows by one cell when the head steps past either end), so tape index
  ``i`` is column ``i + (leftmost column visited so far)``.
"""

from __future__ import annotations

import pytest
from automata.base.exceptions import RejectionException
from automata.tm.configuration import TMConfiguration
from automata.tm.dtm import DTM
from hypothesis import given
from hypothesis import strategies as st

from simulators.formats import builtin_machines
from simulators.turing import HALT, Configuration, Move, Transition, TuringMachine, trace

_DIRECTION = {Move.L: "L", Move.R: "R", Move.S: "N"}


def dtm_name(state: int) -> str:
    return "halt" if state == HALT else f"q{state}"


def to_dtm(machine: TuringMachine) -> DTM:
    symbols = {str(a) for a in range(machine.n_symbols)}
    transitions = {
        dtm_name(q): {
            str(a): (dtm_name(tr.next_state), str(tr.write), _DIRECTION[tr.move])
            for a, tr in enumerate(row)
            if tr is not None
        }
        for q, row in enumerate(machine.table)
    }
    return DTM(
        states={dtm_name(q) for q in range(machine.n_states)} | {"halt"},
        input_symbols=symbols - {"0"},
        tape_symbols=symbols,
        transitions=transitions,
        initial_state="q0",
        blank_symbol="0",
        final_states={"halt"},
    )


def assert_same(ours: Configuration, theirs: TMConfiguration, lo: int, hi: int) -> None:
    """Same state, head and tape; ``[lo, hi]`` are the columns visited so far."""
    assert theirs.state == dtm_name(ours.state), ours.steps
    assert ours.head[0] == 0
    assert theirs.tape.current_position == ours.head[1] - lo, ours.steps
    row = "".join(str(ours.tape.get((0, c), 0)) for c in range(lo, hi + 1))
    assert "".join(theirs.tape.tape) == row, ours.steps
    assert all(r == 0 and lo <= c <= hi for (r, c) in ours.tape)


def cross_check(machine: TuringMachine, max_steps: int) -> Configuration:
    """Run both simulators side by side; return our last configuration."""
    ours = list(trace(machine, max_steps))
    theirs = to_dtm(machine).read_input_stepwise("")
    lo = hi = 0
    for cfg in ours:
        lo, hi = min(lo, cfg.head[1]), max(hi, cfg.head[1])
        assert_same(cfg, next(theirs), lo, hi)
    last = ours[-1]
    if last.state == HALT:
        # Our halting transition was executed; the DTM is in its final state and stops.
        with pytest.raises(StopIteration):
            next(theirs)
    elif last.is_halted(machine):
        # Undefined transition: we stopped without a step; the DTM rejects.
        with pytest.raises(RejectionException):
            next(theirs)
    else:
        assert last.steps == max_steps
        next(theirs)  # the DTM can go on as well
    return last


@st.composite
def line_machines(draw: st.DrawFn, max_states: int = 4, max_symbols: int = 3) -> TuringMachine:
    """Random 1-D tables up to 4 states x 3 symbols, with undefined and halting entries."""
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(2, max_symbols))
    moves = draw(st.sampled_from([[Move.L, Move.R], [Move.L, Move.R, Move.S]]))
    entry = st.tuples(
        st.integers(0, 7),
        st.builds(
            Transition, st.integers(0, k - 1), st.sampled_from(moves), st.integers(-1, n - 1)
        ),
    ).map(lambda t: None if t[0] == 0 else t[1])
    rows = draw(st.lists(st.lists(entry, min_size=k, max_size=k), min_size=n, max_size=n))
    return TuringMachine(n, k, tuple(tuple(r) for r in rows))


@given(line_machines(), st.integers(0, 150))
def test_random_machines_agree_step_by_step(machine: TuringMachine, max_steps: int) -> None:
    cross_check(machine, max_steps)


@pytest.mark.parametrize(
    ("name", "steps", "ones"),
    [("bb2", 6, 4), ("bb2_undefined", 5, 4), ("bb3", 21, 5), ("bb4", 107, 13),
     ("bb2x3", 38, 9)],
)
def test_library_machines_agree(name: str, steps: int, ones: int) -> None:
    last = cross_check(builtin_machines()[name], 1000)
    assert (last.steps, last.ones) == (steps, ones)


def test_counter_agrees_for_a_while() -> None:
    last = cross_check(builtin_machines()["counter"], 300)
    assert last.steps == 300


def test_undefined_first_transition() -> None:
    machine = TuringMachine(1, 2, ((None, Transition(1, Move.R, HALT)),))
    last = cross_check(machine, 10)
    assert last == Configuration()

"""Hypothesis strategies for random Turing machines (shared by the tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from simulators.sampling import ALL_MOVES, ONE_D, all_machines, random_machine
from simulators.turing import Transition, TuringMachine

__all__ = ["ALL_MOVES", "ONE_D", "all_machines", "machines", "random_machine"]


@st.composite
def machines(draw, max_states: int = 6, max_symbols: int = 3, moves=ONE_D,
             p_undefined: float = 0.1) -> TuringMachine:
    """A random machine with undefined (``---``) and halting transitions."""
    s = draw(st.integers(1, max_states))
    k = draw(st.integers(2, max_symbols))
    rows = []
    for _ in range(s):
        row = []
        for _ in range(k):
            if draw(st.floats(0, 1)) < p_undefined:
                row.append(None)
                continue
            row.append(Transition(draw(st.integers(0, k - 1)), draw(st.sampled_from(moves)),
                                  draw(st.integers(-1, s - 1))))
        rows.append(tuple(row))
    return TuringMachine(s, k, tuple(rows))

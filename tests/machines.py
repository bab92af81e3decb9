"""Hypothesis strategies shared by the tests: random Turing machines and ±1 datasets."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from simulators.sampling import ALL_MOVES, ONE_D, all_machines, random_machine
from simulators.turing import Transition, TuringMachine

__all__ = ["ALL_MOVES", "ONE_D", "all_machines", "datasets", "machines", "random_machine"]


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


@st.composite
def datasets(draw: st.DrawFn, max_m: int = 8, max_d: int = 6,
             min_m: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random training set ``(X, y)``: ``1 <= d <= max_d``, ``min_m <= m <= max_m``, ±1."""
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(min_m, max_m))
    bits = draw(st.lists(st.booleans(), min_size=m * (d + 1), max_size=m * (d + 1)))
    A = (1 - 2 * np.array(bits, dtype=np.int64)).reshape(m, d + 1)
    return A[:, :d], A[:, d]

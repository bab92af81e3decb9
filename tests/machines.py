"""Hypothesis strategies and helpers for random Turing machines (shared by the tests)."""

from __future__ import annotations

import itertools
import random

from hypothesis import strategies as st

from simulators.turing import HALT, Move, Transition, TuringMachine

ONE_D = (Move.L, Move.R)
ALL_MOVES = (Move.L, Move.R, Move.U, Move.D, Move.S)


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


def random_machine(rng: random.Random, s: int, k: int, moves=ONE_D,
                   p_undefined: float = 0.1) -> TuringMachine:
    rows = []
    for _ in range(s):
        row = []
        for _ in range(k):
            if rng.random() < p_undefined:
                row.append(None)
            else:
                row.append(Transition(rng.randrange(k), rng.choice(moves), rng.randrange(-1, s)))
        rows.append(tuple(row))
    return TuringMachine(s, k, tuple(rows))


def all_transitions(s: int, k: int, moves=ONE_D) -> list[Transition | None]:
    """Every table entry of an s-state k-symbol machine, ``None`` (undefined) included."""
    return [None] + [Transition(w, mv, q) for w in range(k) for mv in moves
                     for q in [*range(s), HALT]]


def all_machines(s: int, k: int, moves=ONE_D):
    """Every transition table of an s-state k-symbol machine."""
    entries = all_transitions(s, k, moves)
    for combo in itertools.product(entries, repeat=s * k):
        yield TuringMachine(s, k, tuple(tuple(combo[q * k:(q + 1) * k]) for q in range(s)))

"""Seeded random Turing machines, for property-based checks and sweeps."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence

from simulators.turing import HALT, Move, Transition, TuringMachine

ONE_D: tuple[Move, ...] = (Move.L, Move.R)
ALL_MOVES: tuple[Move, ...] = (Move.L, Move.R, Move.U, Move.D, Move.S)


def random_machine(rng: random.Random, s: int, k: int, moves: Sequence[Move] = ONE_D,
                   p_undefined: float = 0.1) -> TuringMachine:
    """A machine whose entries are undefined with probability ``p_undefined`` and otherwise
    uniform over (write, move, next state or HALT)."""
    rows = []
    for _ in range(s):
        row: list[Transition | None] = []
        for _ in range(k):
            if rng.random() < p_undefined:
                row.append(None)
            else:
                row.append(Transition(rng.randrange(k), rng.choice(list(moves)),
                                      rng.randrange(-1, s)))
        rows.append(tuple(row))
    return TuringMachine(s, k, tuple(rows))


def all_transitions(s: int, k: int, moves: Sequence[Move] = ONE_D) -> list[Transition | None]:
    """Every table entry of an s-state k-symbol machine, ``None`` (undefined) included."""
    return [None] + [Transition(w, mv, q) for w in range(k) for mv in moves
                     for q in [*range(s), HALT]]


def all_machines(s: int, k: int, moves: Sequence[Move] = ONE_D) -> Iterator[TuringMachine]:
    """Every transition table of an s-state k-symbol machine ((1 + k|moves|(s+1))^(sk))."""
    entries = all_transitions(s, k, moves)
    for combo in itertools.product(entries, repeat=s * k):
        yield TuringMachine(s, k, tuple(tuple(combo[q * k:(q + 1) * k]) for q in range(s)))

"""Seeded random Turing machines, for property-based checks and sweeps."""

from __future__ import annotations

import functools
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
    """Every transition table of an s-state k-symbol machine ((1 + k|moves|(s+1))^(sk)), in
    index order: the i-th machine yielded is :func:`machine_at` ``(i, s, k, moves)``."""
    entries = all_transitions(s, k, moves)
    for combo in itertools.product(entries, repeat=s * k):
        yield TuringMachine(s, k, tuple(tuple(combo[q * k:(q + 1) * k]) for q in range(s)))


def n_machines(s: int, k: int, moves: Sequence[Move] = ONE_D) -> int:
    """How many transition tables the class (s, k, moves) has: ``R^(sk)``, ``R`` choices per
    entry (``---`` and every write/move/next triple)."""
    return (1 + k * len(moves) * (s + 1)) ** (s * k)


def machine_digits(index: int, s: int, k: int, moves: Sequence[Move] = ONE_D) -> list[int]:
    """The table of machine ``index`` as one choice per entry (index into
    :func:`all_transitions`), entry (q, a) at position ``q * k + a``: the mixed-radix digits
    of ``index``, the first entry most significant (the order of :func:`all_machines`)."""
    radix = 1 + k * len(moves) * (s + 1)
    if not 0 <= index < radix ** (s * k):
        raise ValueError(f"machine index {index} is outside 0..{radix ** (s * k) - 1}")
    digits = [0] * (s * k)
    for i in range(s * k - 1, -1, -1):
        index, digits[i] = divmod(index, radix)
    return digits


def machine_at(index: int, s: int, k: int, moves: Sequence[Move] = ONE_D) -> TuringMachine:
    """Machine number ``index`` of the class (s, k, moves), so a sweep over the class is a
    sweep over ``range(n_machines(s, k, moves))`` and a chunk is an index range."""
    entries = _entries(s, k, tuple(moves))
    combo = [entries[d] for d in machine_digits(index, s, k, moves)]
    return TuringMachine(s, k, tuple(tuple(combo[q * k:(q + 1) * k]) for q in range(s)))


def machine_index(machine: TuringMachine, moves: Sequence[Move] = ONE_D) -> int:
    """The inverse of :func:`machine_at` (names are ignored)."""
    s, k = machine.n_states, machine.n_symbols
    entries = _entries(s, k, tuple(moves))
    radix, index = len(entries), 0
    for row in machine.table:
        for tr in row:
            index = index * radix + entries.index(tr)
    return index


@functools.cache
def _entries(s: int, k: int, moves: tuple[Move, ...]) -> tuple[Transition | None, ...]:
    return tuple(all_transitions(s, k, moves))

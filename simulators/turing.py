"""Reference Turing machines on a 2-D grid tape (Definition 1's machines, one tape).

A 1-D machine is a grid machine whose moves are only L and R, run on row 0. This module
is the ground truth every compiled network is checked against; it never imports torch.

Conventions (shared with the bbchallenge text format, see ``simulators.formats``):
- states are ``0 .. n_states-1`` (letters A, B, ...), the start state is 0;
- symbols are ``0 .. n_symbols-1``, symbol 0 is the blank;
- ``table[state][symbol]`` is a :class:`Transition` or ``None`` (undefined: the machine halts
  *without* executing a step);
- a transition whose ``next_state`` is ``HALT`` executes its write and move, counts as a
  step, then halts (bbchallenge writes such a state as ``Z``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

HALT = -1
"""The halting state: the target of a transition to a letter beyond the machine's states."""

HALT_LETTER = "Z"


class Move(enum.Enum):
    """Head moves on the grid tape, as (row delta, column delta)."""

    L = (0, -1)
    R = (0, 1)
    U = (-1, 0)
    D = (1, 0)
    S = (0, 0)

    @property
    def delta(self) -> tuple[int, int]:
        return self.value


@dataclass(frozen=True)
class Transition:
    """One table entry: write ``write``, move the head by ``move``, enter ``next_state``."""

    write: int
    move: Move
    next_state: int  # HALT (-1) for a halting transition


class MachineError(ValueError):
    """A machine description is invalid; the message names what and where."""


@dataclass(frozen=True)
class TuringMachine:
    """A deterministic single-tape Turing machine with a grid tape.

    ``table[q][a]`` is the transition taken in state ``q`` reading symbol ``a``.
    """

    n_states: int
    n_symbols: int
    table: tuple[tuple[Transition | None, ...], ...]
    name: str = ""
    state_names: tuple[str, ...] = ()
    symbol_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.n_states < 1:
            raise MachineError(f"a machine needs at least 1 state, got {self.n_states}")
        if self.n_symbols < 2:
            raise MachineError(f"a machine needs at least 2 symbols, got {self.n_symbols}")
        if len(self.table) != self.n_states:
            raise MachineError(
                f"table has {len(self.table)} rows, expected one per state ({self.n_states})"
            )
        for q, row in enumerate(self.table):
            if len(row) != self.n_symbols:
                raise MachineError(
                    f"state {q}: {len(row)} transitions, expected {self.n_symbols}"
                )
            for a, tr in enumerate(row):
                if tr is None:
                    continue
                if not 0 <= tr.write < self.n_symbols:
                    raise MachineError(f"state {q}, symbol {a}: writes unknown symbol {tr.write}")
                if not (tr.next_state == HALT or 0 <= tr.next_state < self.n_states):
                    raise MachineError(
                        f"state {q}, symbol {a}: unknown next state {tr.next_state}"
                    )
        if not self.state_names:
            object.__setattr__(self, "state_names", default_state_names(self.n_states))
        if not self.symbol_names:
            object.__setattr__(self, "symbol_names", tuple(str(a) for a in range(self.n_symbols)))
        if len(self.state_names) != self.n_states or len(set(self.state_names)) != self.n_states:
            raise MachineError("state_names must name every state once")
        if (
            len(self.symbol_names) != self.n_symbols
            or len(set(self.symbol_names)) != self.n_symbols
        ):
            raise MachineError("symbol_names must name every symbol once")

    def transition(self, state: int, symbol: int) -> Transition | None:
        """The transition for ``(state, symbol)``; ``None`` if undefined or ``state`` is HALT."""
        if state == HALT:
            return None
        return self.table[state][symbol]

    @property
    def moves_used(self) -> frozenset[Move]:
        return frozenset(tr.move for row in self.table for tr in row if tr is not None)

    @property
    def is_one_dimensional(self) -> bool:
        """True if the machine only moves L and R (it lives on one row)."""
        return self.moves_used <= {Move.L, Move.R}

    def state_name(self, state: int) -> str:
        return HALT_LETTER if state == HALT else self.state_names[state]


def default_state_names(n: int) -> tuple[str, ...]:
    """A, B, ..., Y (Z is reserved for halting); beyond 25 states: S25, S26, ..."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXY"
    return tuple(letters[i] if i < len(letters) else f"S{i}" for i in range(n))


Cell = tuple[int, int]


@dataclass
class Configuration:
    """A machine configuration: sparse tape (non-blank cells only), head cell, state, step count."""

    tape: dict[Cell, int] = field(default_factory=dict)
    head: Cell = (0, 0)
    state: int = 0
    steps: int = 0

    def copy(self) -> Configuration:
        return Configuration(dict(self.tape), self.head, self.state, self.steps)

    def read(self, cell: Cell | None = None) -> int:
        return self.tape.get(self.head if cell is None else cell, 0)

    def is_halted(self, machine: TuringMachine) -> bool:
        """Halted: in HALT, or the transition for the scanned symbol is undefined."""
        return machine.transition(self.state, self.read()) is None

    @property
    def ones(self) -> int:
        """Number of non-blank cells (the busy-beaver score for 2-symbol machines)."""
        return len(self.tape)

    def row_string(self, row: int = 0) -> str:
        """Symbol digits of ``row`` from its leftmost to its rightmost non-blank cell."""
        cols = [c for (r, c) in self.tape if r == row]
        if not cols:
            return ""
        return "".join(
            str(self.tape.get((row, c), 0)) for c in range(min(cols), max(cols) + 1)
        )


class HeadLeftGrid(RuntimeError):
    """The head moved outside a bounded grid."""


def step(
    machine: TuringMachine, config: Configuration, bounds: tuple[int, int] | None = None
) -> Configuration:
    """One step; returns a new configuration. Raises if ``config`` is halted.

    ``bounds=(rows, cols)`` restricts the tape to ``[0, rows) x [0, cols)``; leaving it
    raises :class:`HeadLeftGrid`.
    """
    new = config.copy()
    if not _advance(machine, new, bounds):
        raise RuntimeError("step() called on a halted configuration")
    return new


def trace(
    machine: TuringMachine,
    max_steps: int,
    config: Configuration | None = None,
    bounds: tuple[int, int] | None = None,
) -> Iterator[Configuration]:
    """Yield the configuration after 0, 1, 2, ... steps until halting or ``max_steps``.

    Every configuration is a new object (callers may keep them); each costs a copy of the
    tape, so for long runs use :func:`walk` or :func:`run`.
    """
    for cfg in walk(machine, max_steps, config, bounds):
        yield cfg.copy()


def walk(
    machine: TuringMachine,
    max_steps: int,
    config: Configuration | None = None,
    bounds: tuple[int, int] | None = None,
) -> Iterator[Configuration]:
    """Like :func:`trace`, but every yield is the SAME configuration object, advanced in place
    (O(1) per step instead of a copy of the tape): read it before asking for the next one,
    and copy it to keep it. ``config`` itself is not modified."""
    cfg = Configuration() if config is None else config.copy()
    yield cfg
    while cfg.steps < max_steps and _advance(machine, cfg, bounds):
        yield cfg


def _advance(machine: TuringMachine, cfg: Configuration,
             bounds: tuple[int, int] | None) -> bool:
    """One step of ``cfg`` in place (what :func:`step` computes); False if it is halted."""
    tr = machine.transition(cfg.state, cfg.tape.get(cfg.head, 0))
    if tr is None:
        return False
    dr, dc = tr.move.value
    head = (cfg.head[0] + dr, cfg.head[1] + dc)
    if bounds is not None and not (0 <= head[0] < bounds[0] and 0 <= head[1] < bounds[1]):
        raise HeadLeftGrid(  # before any change: cfg stays the last valid configuration
            f"step {cfg.steps + 1}: head moved {tr.move.name} from {cfg.head} "
            f"outside the {bounds[0]}x{bounds[1]} grid"
        )
    if tr.write:
        cfg.tape[cfg.head] = tr.write
    else:
        cfg.tape.pop(cfg.head, None)
    cfg.head, cfg.state, cfg.steps = head, tr.next_state, cfg.steps + 1
    return True


MAX_TAPE_CELLS = 4_000_000
""":func:`run` stops with :class:`TapeBudgetExceeded` once the tape holds this many non-blank
cells (a sparse grid tape costs about 220 bytes a cell: 0.9 GB)."""
PROGRESS_EVERY = 1 << 20
""":func:`run` calls ``on_progress`` every this many steps."""


class TapeBudgetExceeded(RuntimeError):
    """A reference run's tape would outgrow :data:`MAX_TAPE_CELLS`."""


def run(
    machine: TuringMachine,
    max_steps: int,
    config: Configuration | None = None,
    bounds: tuple[int, int] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Configuration:
    """Run until halting or ``max_steps`` steps; return the last configuration.

    Linear in the number of steps (the tape is updated in place). ``on_progress(steps)`` is
    called every :data:`PROGRESS_EVERY` steps (e.g. for a progress bar; Ctrl-C stops the run
    between two steps). Raises :class:`TapeBudgetExceeded` if the tape would hold more than
    :data:`MAX_TAPE_CELLS` non-blank cells.
    """
    cfg = Configuration() if config is None else config.copy()
    while cfg.steps < max_steps:
        chunk = min(max_steps, cfg.steps + PROGRESS_EVERY)
        while cfg.steps < chunk and _advance(machine, cfg, bounds):
            pass
        if len(cfg.tape) > MAX_TAPE_CELLS:
            raise TapeBudgetExceeded(
                f"after {cfg.steps:,} steps the tape holds {len(cfg.tape):,} non-blank cells, "
                f"more than the reference simulator's limit of {MAX_TAPE_CELLS:,}"
            )
        if on_progress is not None:
            on_progress(cfg.steps)
        if cfg.steps < chunk:  # halted
            break
    return cfg

"""The learner tape: the symbol grid a learner machine runs on (docs/learner_tape.md).

After SGD has memorised the training set, the paper's network holds ``G_ab = y^a x^a_b x_b / 3``
for training rows ``a`` and features ``b`` (``x`` is the test point), ``y^a / 3`` in the label
column and a dummy row ``x_b / 3`` (label ``1/3``). Its first layer turns every cell into a
symbol using only the cell's sign and position, which gives this tape, of shape
``(m + 1) x (d + 1 + l)``:

* row ``a < m``, column ``b < d``: ``p`` if ``c_ab = y^a x^a_b x_b = +1``, ``n`` if ``-1``;
  in column 0 the left-edge variants ``p<`` / ``n<``;
* row ``a < m``, column ``d`` (label): ``P`` / ``N`` for ``y^a = +1 / -1``; in row 0 the
  top variants ``P^`` / ``N^``;
* row ``m`` (the test row, the dummy example ``y = 1``, ``x = 1``): ``p`` / ``n``
  (``p<`` / ``n<`` in column 0) for ``x_b = +1 / -1``, and ``P`` in column ``d`` (``P^`` if
  ``m = 0``). The head starts on this label cell, in the machine's start state;
* columns ``> d``: the blank ``o`` (work space).

A learner machine's alphabet starts with :data:`BASE_SYMBOLS` then :data:`ANSWER_SYMBOLS`
(then any marks of its own); it must halt with exactly one cell holding ``A+`` (predict +1)
or ``A-`` (predict -1). The assembler takes all these names as written (``<``, ``^`` and
``+`` are ordinary token characters), so :data:`SYMBOL_NAMES` maps each role to its name
unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from simulators.assembler import assemble_file
from simulators.datasets import check_examples, check_labels
from simulators.gridrun import Grid, TraceReport, run_grid
from simulators.inputs import source_label
from simulators.turing import TuringMachine

__all__ = [
    "ANSWER_SYMBOLS",
    "BASE_SYMBOLS",
    "LEARNER_LIBRARY",
    "LEARNER_MACHINES",
    "LIBRARY_LEARNERS",
    "SYMBOL_NAMES",
    "TAPE_SYMBOLS",
    "LearnerRun",
    "LearnerTapeError",
    "check_learner_machine",
    "load_learner_file",
    "learner_tape",
    "load_learner_machine",
    "run_learner",
    "start_cell",
    "time_bound",
]

SYMBOL_NAMES: dict[str, str] = {
    "blank": "o",
    "cell+": "p",
    "cell-": "n",
    "edge+": "p<",
    "edge-": "n<",
    "label+": "P",
    "label-": "N",
    "top+": "P^",
    "top-": "N^",
    "answer+": "A+",
    "answer-": "A-",
}
"""Role -> symbol name: the one place the tape's names are spelled (all assembler-legal)."""

BASE_SYMBOLS: tuple[str, ...] = tuple(
    SYMBOL_NAMES[k]
    for k in ("blank", "cell+", "cell-", "edge+", "edge-", "label+", "label-", "top+", "top-")
)
"""The fixed base alphabet ``o p n p< n< P N P^ N^`` (``o`` is the blank, symbol 0)."""

ANSWER_SYMBOLS: tuple[str, ...] = (SYMBOL_NAMES["answer+"], SYMBOL_NAMES["answer-"])
"""``A+`` (prediction +1) and ``A-`` (prediction -1), right after the base alphabet."""

TAPE_SYMBOLS: tuple[str, ...] = BASE_SYMBOLS + ANSWER_SYMBOLS
"""The prefix every learner machine's alphabet must start with."""

LEARNER_LIBRARY = Path(__file__).parent / "library" / "learners"
"""Directory of the learner machines (``<name>.tm``)."""

LEARNER_MACHINES: tuple[str, ...] = ("majority", "first_agree", "nearest")
"""Library learner machines; each matches the reference learner of the same name."""

LIBRARY_LEARNERS: tuple[str, ...] = (*LEARNER_MACHINES, "parity")
"""Every library learner machine. ``parity`` (Gaussian elimination, docs/parity_machine.md)
is kept out of :data:`LEARNER_MACHINES`, whose three machines also share conventions their
common tests rely on (answer on the start cell, work columns untouched)."""

MIN_WORK_COLUMNS: dict[str, int] = {name: 1 for name in LIBRARY_LEARNERS}
"""Least ``l`` each library machine needs (only ``parity`` visits a work column: it marks the
bottom row in column ``d + 1``)."""

_CELL = {1: 1, -1: 2}  # value -> index of p / n
_EDGE = {1: 3, -1: 4}  # p< / n<
_LABEL = {1: 5, -1: 6}  # P / N
_TOP = {1: 7, -1: 8}  # P^ / N^
_ANSWER = {len(BASE_SYMBOLS): 1, len(BASE_SYMBOLS) + 1: -1}  # symbol index -> prediction


class LearnerTapeError(ValueError):
    """A machine does not fit the learner tape, or a run gave no valid prediction."""


def start_cell(m: int, d: int) -> tuple[int, int]:
    """The head's start cell: the test row's label cell ``(m, d)``."""
    return (m, d)


def learner_tape(
    X: ArrayLike,
    y: ArrayLike,
    x: ArrayLike,
    l: int = 1,  # noqa: E741 -- the paper's name for the number of work columns
    symbols: Sequence[str] | TuringMachine | None = None,
) -> Grid:
    """The learner tape for training set ``(X, y)`` (``(m, d)`` and ``(m,)``, ``±1``) and test
    point ``x`` (``(d,)``, ``±1``) with ``l >= 1`` work columns.

    ``symbols`` (a name list or a machine) sets the grid's alphabet; it must start with
    :data:`TAPE_SYMBOLS` (default: exactly those). Raises ``ValueError`` on bad input.
    """
    X_ = check_examples(X)
    m, d = X_.shape
    y_ = check_labels(y, m)
    x_ = check_examples(np.asarray(x).reshape(1, -1), name="x", d=d)[0]
    if l < 1:
        raise ValueError(f"the learner tape needs l >= 1 work columns, got {l}")
    names = TAPE_SYMBOLS if symbols is None else tuple(
        symbols.symbol_names if isinstance(symbols, TuringMachine) else symbols
    )
    _check_alphabet(names)
    C = np.vstack([y_[:, None] * X_ * x_[None, :], x_[None, :]])  # (m + 1, d); dummy row last
    labels = [int(v) for v in y_] + [1]
    cells = []
    for a in range(m + 1):
        row = [(_EDGE if b == 0 else _CELL)[int(C[a, b])] for b in range(d)]
        row.append((_TOP if a == 0 else _LABEL)[labels[a]])
        row.extend([0] * l)
        cells.append(tuple(row))
    return Grid(tuple(cells), names)


def _check_alphabet(names: Sequence[str]) -> None:
    prefix = tuple(names[: len(TAPE_SYMBOLS)])
    if prefix != TAPE_SYMBOLS:
        raise LearnerTapeError(
            f"a learner machine's symbols must start with {' '.join(TAPE_SYMBOLS)}; "
            f"got {' '.join(names)}"
        )


def check_learner_machine(machine: TuringMachine) -> TuringMachine:
    """Return ``machine`` if its alphabet starts with :data:`TAPE_SYMBOLS` (the base alphabet,
    then ``A+ A-``), else raise :class:`LearnerTapeError` saying what it found."""
    _check_alphabet(machine.symbol_names)
    return machine


def load_learner_file(path: str | os.PathLike[str]) -> TuringMachine:
    """Assemble (strictly: unreachable states are errors) and check the learner machine file
    at ``path``; read through :mod:`simulators.inputs`. Errors name the file:
    :class:`~simulators.assembler.AssemblyError` (``file:line:col: ...``) or
    :class:`LearnerTapeError` (``file: ...``)."""
    machine = assemble_file(path, strict=True)
    try:
        return check_learner_machine(machine)
    except LearnerTapeError as e:
        raise LearnerTapeError(f"{source_label(path)}: {e}") from None


def load_learner_machine(name: str) -> TuringMachine:
    """Assemble and check ``LEARNER_LIBRARY/<name>.tm`` (``FileNotFoundError`` if absent)."""
    path = LEARNER_LIBRARY / f"{name}.tm"
    if not path.is_file():
        raise FileNotFoundError(f"no learner machine {name!r} in {LEARNER_LIBRARY}")
    return check_learner_machine(assemble_file(path, strict=True))


@dataclass(frozen=True)
class LearnerRun:
    """One run on a learner tape: ``prediction`` (±1), ``steps``, the final ``grid``, and the
    answer cell; ``report`` is the full :class:`~simulators.gridrun.TraceReport`."""

    prediction: int
    steps: int
    grid: Grid
    answer_cell: tuple[int, int]
    report: TraceReport = field(repr=False)


def run_learner(
    machine: TuringMachine,
    X: ArrayLike,
    y: ArrayLike,
    x: ArrayLike,
    l: int = 1,  # noqa: E741
    max_steps: int | None = None,
) -> LearnerRun:
    """Run ``machine`` on the learner tape of ``(X, y, x)`` from :func:`start_cell`.

    ``max_steps`` defaults to ``100_000``. Raises :class:`LearnerTapeError` if the alphabet is
    wrong, the machine has not halted after ``max_steps``, or the final grid does not hold
    exactly one answer symbol; :class:`~simulators.turing.HeadLeftGrid` if the head leaves
    the grid.
    """
    check_learner_machine(machine)
    grid = learner_tape(X, y, x, l, symbols=machine)
    m = grid.shape[0] - 1
    d = grid.shape[1] - 1 - l
    report = run_grid(
        machine, grid, start_cell(m, d), max_steps=100_000 if max_steps is None else max_steps
    )
    if not report.halted:
        raise LearnerTapeError(
            f"{machine.name or 'machine'} did not halt within {report.steps} steps"
        )
    final = report.grid
    answers = [
        (r, c) for r, row in enumerate(final.cells) for c, a in enumerate(row) if a in _ANSWER
    ]
    if len(answers) != 1:
        raise LearnerTapeError(
            f"{machine.name or 'machine'} halted after {report.steps} steps with "
            f"{len(answers)} answer cells (expected exactly one A+ or A-)"
        )
    (r, c) = answers[0]
    return LearnerRun(_ANSWER[final.cells[r][c]], report.steps, final, (r, c), report)


def time_bound(name: str, m: int, d: int) -> int:
    """Worst-case step count ``t(m, d)`` of library machine ``name`` (an upper bound; the
    derivations are in each ``.tm`` header and docs/learner_tape.md):

    * ``majority``: ``(m + 1)(m + 2)``
    * ``first_agree``: ``2m(d + 1) + (m + 1)(m + 2)``
    * ``nearest``: ``m(d + 1)(d + 2) + 2d + 1`` for ``m >= 1``, ``1`` for ``m = 0``

    * ``parity`` (docs/parity_machine.md): ``1`` for ``m = 0``; for ``1 <= m <= d``
      ``(12dm^2 + 60dm - m^3 + 9m^2 + 70m + 18)/6 - floor((m - 1)^2/4)``; for ``m > d``
      ``t(d, d) + e + (m - d - 1)c`` with ``F = (7d^2 + 7d)/2 - floor(d/2)``,
      ``e = F + 11d + 12``, ``c = F + 12d + 10 + (d mod 2)``

    All four are attained (``m >= 1``): majority when the label counts differ by at most 1,
    first_agree when moreover no example shares ``x_0``, nearest when every example is ``-x``,
    parity by the examples ``-e_0, ..., -e_{d-1}`` (``x^a_a = -1``, else ``+1``) followed by
    all-``+1`` examples, every label ``+1``, ``x = +1``.
    """
    if m < 0 or d < 1:
        raise ValueError(f"need m >= 0 and d >= 1, got m = {m}, d = {d}")
    if name == "majority":
        return (m + 1) * (m + 2)
    if name == "first_agree":
        return 2 * m * (d + 1) + (m + 1) * (m + 2)
    if name == "nearest":
        return m * (d + 1) * (d + 2) + 2 * d + 1 if m else 1
    if name == "parity":
        if m == 0:
            return 1
        k = min(m, d)
        t = (12 * d * k * k + 60 * d * k - k**3 + 9 * k * k + 70 * k + 18) // 6 - (k - 1) ** 2 // 4
        if m > d:
            f = (7 * d * d + 7 * d) // 2 - d // 2
            t += f + 11 * d + 12 + (m - d - 1) * (f + 12 * d + 10 + d % 2)
        return t
    known = ", ".join(LIBRARY_LEARNERS)
    raise KeyError(f"no time bound for {name!r}; known: {known}")

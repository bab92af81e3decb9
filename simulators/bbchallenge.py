"""The bbchallenge text format of Turing machines (https://bbchallenge.org).

``1RB1LB_1LA1RZ``: one ``_``-separated group per state (A, B, ... in order); each group holds
one 3-character transition per symbol (0, 1, ... in order): ``<write digit><move><next state
letter>``. ``---`` is an undefined transition (the machine halts *without* executing a step);
a next-state letter past the last state (conventionally ``Z``) is a halting transition (the
write and move are executed, the step is counted, then the machine halts). Moves are ``L``
and ``R``; as an extension for grid machines this module also accepts ``U`` (row - 1), ``D``
(row + 1) and ``S`` (stay). Errors are :class:`MachineFormatError` naming the column.
"""

from __future__ import annotations

import re

from simulators.turing import HALT, HALT_LETTER, MachineError, Move, Transition, TuringMachine

__all__ = [
    "MAX_BB_STATES",
    "MAX_BB_SYMBOLS",
    "MachineFormatError",
    "format_bbchallenge",
    "looks_like_bbchallenge",
    "parse_bbchallenge",
]


class MachineFormatError(MachineError):
    """A machine text or file is malformed; the message names the position."""


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_BB_STATES = 25  # A..Y; Z is the conventional halt letter
MAX_BB_SYMBOLS = 10  # write symbols are single digits
_MOVE_LETTERS = ", ".join(m.name for m in Move)  # "L, R, U, D, S"


def _group_label(g: int) -> str:
    return f"group {g + 1} (state {_LETTERS[g] if g < 26 else '?'})"


def parse_bbchallenge(text: str, name: str = "") -> TuringMachine:
    """Parse a bbchallenge string such as ``1RB1LB_1LA1RZ`` into a :class:`TuringMachine`.

    Surrounding whitespace is ignored. Columns in error messages are 1-based positions in the
    stripped string. Raises :class:`MachineFormatError` on any malformed input.
    """
    if not isinstance(text, str):
        raise MachineFormatError(
            f"bbchallenge string: expected a str, got {type(text).__name__}"
        )
    s = text.strip()
    where = "bbchallenge string"
    if not s:
        raise MachineFormatError(f"{where}: empty string")
    for i, ch in enumerate(s):
        if ch.isspace():
            raise MachineFormatError(
                f"{where}, column {i + 1}: whitespace {ch!r} inside the string "
                "(only surrounding whitespace is ignored)"
            )
    groups = s.split("_")
    if len(groups) > MAX_BB_STATES:
        raise MachineFormatError(
            f"{where}: {len(groups)} groups, but at most {MAX_BB_STATES} states (A-Y) can be "
            f"written; Z is the halt letter"
        )
    starts = []
    col = 0
    for grp in groups:
        starts.append(col)
        col += len(grp) + 1

    first = len(groups[0])
    if first == 0:
        raise MachineFormatError(f"{where}, {_group_label(0)}, column 1: empty group")
    if first % 3:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first}, expected a multiple of 3 "
            "(3 characters per transition, one transition per symbol)"
        )
    n_symbols = first // 3
    if n_symbols < 2:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first}, expected at least 6 "
            "(a machine needs at least 2 symbols, 3 characters each)"
        )
    if n_symbols > MAX_BB_SYMBOLS:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first} means {n_symbols} symbols, "
            f"but the format allows at most {MAX_BB_SYMBOLS} (single-digit writes)"
        )
    for g, grp in enumerate(groups[1:], start=1):
        if len(grp) != first:
            what = "empty group" if not grp else f"length {len(grp)}"
            raise MachineFormatError(
                f"{where}, {_group_label(g)}, column {starts[g] + 1}: {what}, expected "
                f"{first} ({n_symbols} symbols x 3 characters, like group 1)"
            )

    n_states = len(groups)
    table: list[tuple[Transition | None, ...]] = []
    for g, grp in enumerate(groups):
        row: list[Transition | None] = []
        for t in range(n_symbols):
            triple = grp[3 * t : 3 * t + 3]
            pos = starts[g] + 3 * t  # 0-based column of the write digit
            here = f"{where}, {_group_label(g)}, transition {t + 1}"
            if triple == "---":
                row.append(None)
                continue
            w, m, q = triple
            if "-" in triple:
                k = triple.index("-")
                raise MachineFormatError(
                    f"{here}, column {pos + k + 1}: '-' is only allowed in '---' "
                    f"(an undefined transition), got {triple!r}"
                )
            if not ("0" <= w <= "9"):
                raise MachineFormatError(
                    f"{here}, column {pos + 1}: write {w!r} is not a digit"
                )
            if int(w) >= n_symbols:
                raise MachineFormatError(
                    f"{here}, column {pos + 1}: write {w!r} is not a symbol of this "
                    f"{n_symbols}-symbol machine (0-{n_symbols - 1})"
                )
            if m not in Move.__members__:
                hint = " (letters are upper case)" if m.upper() in Move.__members__ else ""
                raise MachineFormatError(
                    f"{here}, column {pos + 2}: move {m!r} is not one of {_MOVE_LETTERS}{hint}"
                )
            if q not in _LETTERS:
                hint = " (letters are upper case)" if q.upper() in _LETTERS else ""
                raise MachineFormatError(
                    f"{here}, column {pos + 3}: next state {q!r} is not a letter A-Z{hint}"
                )
            nxt = _LETTERS.index(q)
            row.append(Transition(int(w), Move[m], nxt if nxt < n_states else HALT))
        table.append(tuple(row))
    return TuringMachine(n_states, n_symbols, tuple(table), name=name)


def format_bbchallenge(machine: TuringMachine) -> str:
    """The bbchallenge string of ``machine`` (halting transitions written with ``Z``).

    State and symbol names are not part of the format (states print as A, B, ...). Raises
    :class:`MachineFormatError` for machines with more than 25 states or 10 symbols.
    """
    if machine.n_states > MAX_BB_STATES:
        raise MachineFormatError(
            f"bbchallenge format: at most {MAX_BB_STATES} states, machine has "
            f"{machine.n_states}"
        )
    if machine.n_symbols > MAX_BB_SYMBOLS:
        raise MachineFormatError(
            f"bbchallenge format: at most {MAX_BB_SYMBOLS} symbols, machine has "
            f"{machine.n_symbols}"
        )
    groups = []
    for row in machine.table:
        parts = []
        for tr in row:
            if tr is None:
                parts.append("---")
            else:
                q = HALT_LETTER if tr.next_state == HALT else _LETTERS[tr.next_state]
                parts.append(f"{tr.write}{tr.move.name}{q}")
        groups.append("".join(parts))
    return "_".join(groups)



_BB_SHAPE = re.compile(r"[0-9-][A-Z-][A-Z-](?:[0-9-][A-Z-][A-Z-])*"
                       r"(?:_[0-9-][A-Z-][A-Z-](?:[0-9-][A-Z-][A-Z-])*)*")


def looks_like_bbchallenge(text: str) -> bool:
    """True if ``text`` has the shape of a bbchallenge string (3-character transitions of a
    digit or ``-``, then two capitals or ``-``, in ``_``-separated groups), valid or not; such
    a command-line argument is parsed as a machine, never tried as a file name."""
    return _BB_SHAPE.fullmatch(text.strip()) is not None

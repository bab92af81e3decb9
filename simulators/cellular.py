"""Elementary cellular automata (Wolfram's rules 0-255) on finite rows.

Cell ``i`` of the next row is bit ``4*l + 2*c + r`` of the rule number, where ``(l, c, r)`` are
cells ``i-1, i, i+1`` of the current row. Cells outside the row read a fixed boundary value
(default 0), or wrap around with ``boundary="periodic"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Boundary = int | Literal["periodic"]


class ElementaryCA:
    """An elementary cellular automaton with a given rule number and boundary condition."""

    def __init__(self, rule: int, boundary: Boundary = 0) -> None:
        if isinstance(rule, bool) or not isinstance(rule, int):
            raise TypeError(f"rule must be an int in 0..255, got {type(rule).__name__} {rule!r}")
        if not 0 <= rule <= 255:
            raise ValueError(f"rule must be in 0..255 (Wolfram numbering), got {rule}")
        if boundary != "periodic" and (
            isinstance(boundary, bool) or not isinstance(boundary, int) or boundary not in (0, 1)
        ):
            raise ValueError(f"boundary must be 0, 1 or 'periodic', got {boundary!r}")
        self.rule = rule
        self.boundary: Boundary = boundary
        # _out[n] = new cell for neighbourhood n = 4*l + 2*c + r
        self._out = tuple((rule >> n) & 1 for n in range(8))

    def __repr__(self) -> str:
        return f"ElementaryCA({self.rule}, boundary={self.boundary!r})"

    def rule_table(self) -> dict[tuple[int, int, int], int]:
        """The rule as a map ``(l, c, r) -> new cell``, neighbourhoods 111 first."""
        return {
            ((n >> 2) & 1, (n >> 1) & 1, n & 1): self._out[n] for n in range(7, -1, -1)
        }

    def step(self, row: Sequence[int]) -> list[int]:
        """The next row (same length). Raises ``ValueError`` if a cell is not 0 or 1."""
        cells = _check_row(row)
        if not cells:
            return []
        if self.boundary == "periodic":
            left, right = cells[-1], cells[0]
        else:
            left = right = int(self.boundary)
        out = self._out
        padded = [left, *cells, right]
        # Sliding 3-bit window: n = 4*l + 2*c + r.
        n = (padded[0] << 1) | padded[1]
        result = []
        for r in padded[2:]:
            n = ((n << 1) | r) & 7
            result.append(out[n])
        return result

    def history(self, row: Sequence[int], steps: int) -> list[list[int]]:
        """Rows ``0 .. steps`` (``steps + 1`` rows, starting with a copy of ``row``)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative int, got {steps!r}")
        rows = [_check_row(row)]
        for _ in range(steps):
            rows.append(self.step(rows[-1]))
        return rows


def _check_row(row: Sequence[int]) -> list[int]:
    cells = []
    for i, a in enumerate(row):
        if isinstance(a, bool) or a not in (0, 1):
            raise ValueError(f"row cell {i} is {a!r}; cells must be 0 or 1")
        cells.append(int(a))
    return cells


def render(row: Sequence[int], on: str = "#", off: str = ".") -> str:
    """A row as text, e.g. ``..#..`` for ``[0, 0, 1, 0, 0]``."""
    return "".join(on if a else off for a in row)

"""Run grid machines on a bounded grid before compiling them.

The tape is exactly the grid: a run uses ``bounds = grid.shape``, so a head that walks off
the grid raises :class:`simulators.turing.HeadLeftGrid`. Grids are written as lists of rows
of symbol names, e.g. ``["+-+", "--+", "___"]`` (one character per cell when every symbol
name is one character, otherwise whitespace-separated names)::

    machine = load_grid_machine("snake")
    grid = Grid.from_rows(["|+-|", "|-+|", "||||"], machine)
    report = run_grid(machine, grid, head=(0, 1))
    report.rows       # ['|pm|', '|mp|', '||||']
    print(report.render())
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simulators.assembler import assemble_file
from simulators.turing import HALT, Cell, Configuration, TuringMachine, trace, walk

__all__ = [
    "GRID_LIBRARY",
    "Grid",
    "TraceReport",
    "grid_machines",
    "load_grid_machine",
    "render",
    "render_trace",
    "run_grid",
    "trace_grid",
]

GRID_LIBRARY = Path(__file__).parent / "library" / "grid"
"""Directory of the example grid machines (``*.tm`` assembler sources)."""


def _names_of(symbols: TuringMachine | Sequence[str]) -> tuple[str, ...]:
    return tuple(symbols.symbol_names if isinstance(symbols, TuringMachine) else symbols)


def _join(names: Sequence[str], symbol_names: Sequence[str]) -> str:
    compact = all(len(s) == 1 for s in symbol_names)
    return ("" if compact else " ").join(names)


@dataclass(frozen=True)
class Grid:
    """A rectangular tape: ``cells[r][c]`` is a symbol index into ``symbol_names``."""

    cells: tuple[tuple[int, ...], ...]
    symbol_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.cells or not self.cells[0]:
            raise ValueError("a grid needs at least one row and one column")
        width = len(self.cells[0])
        for r, row in enumerate(self.cells):
            if len(row) != width:
                raise ValueError(f"row {r} has {len(row)} cells, row 0 has {width}")
            for a in row:
                if not 0 <= a < len(self.symbol_names):
                    raise ValueError(f"row {r}: unknown symbol index {a}")

    @classmethod
    def from_rows(
        cls, rows: Sequence[str | Sequence[str]], symbols: TuringMachine | Sequence[str]
    ) -> Grid:
        """Build a grid from rows of symbol names (names taken from a machine or a list).

        A row given as a ``str`` is split into characters if every symbol name is a single
        character, else on whitespace. Raises ``ValueError`` for unknown names or ragged rows.
        """
        names = _names_of(symbols)
        index = {s: i for i, s in enumerate(names)}
        compact = all(len(s) == 1 for s in names)
        cells = []
        for r, row in enumerate(rows):
            parts = (list(row) if compact else row.split()) if isinstance(row, str) else row
            try:
                cells.append(tuple(index[p] for p in parts))
            except KeyError as exc:
                raise ValueError(f"row {r}: unknown symbol {exc.args[0]!r}") from None
        return cls(tuple(cells), names)

    @classmethod
    def blank(cls, rows: int, cols: int, symbols: TuringMachine | Sequence[str]) -> Grid:
        """An all-blank ``rows x cols`` grid."""
        return cls(tuple((0,) * cols for _ in range(rows)), _names_of(symbols))

    @classmethod
    def from_configuration(
        cls, config: Configuration, shape: tuple[int, int], symbols: TuringMachine | Sequence[str]
    ) -> Grid:
        """The ``shape`` window ``[0, rows) x [0, cols)`` of a configuration's tape."""
        rows, cols = shape
        return cls(
            tuple(tuple(config.tape.get((r, c), 0) for c in range(cols)) for r in range(rows)),
            _names_of(symbols),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0])

    def rows(self) -> list[str]:
        """The grid as strings, in the format :meth:`from_rows` reads."""
        return [_join([self.symbol_names[a] for a in row], self.symbol_names) for row in self.cells]

    def configuration(self, head: Cell = (0, 0), state: int = 0) -> Configuration:
        """The initial configuration: this tape, the head at ``head``, in ``state``."""
        rows, cols = self.shape
        if not (0 <= head[0] < rows and 0 <= head[1] < cols):
            raise ValueError(f"head {head} is outside the {rows}x{cols} grid")
        tape = {(r, c): a for r, row in enumerate(self.cells) for c, a in enumerate(row) if a}
        return Configuration(tape, head, state, 0)


def render(config: Configuration, machine: TuringMachine, shape: tuple[int, int]) -> str:
    """A configuration as text: a header line, then one line per row, head cell in brackets."""
    names = machine.symbol_names
    width = max(len(s) for s in names)
    state = "halt" if config.state == HALT else machine.state_name(config.state)
    lines = [f"step {config.steps}  state {state}  head {config.head}"]
    for r in range(shape[0]):
        cells = []
        for c in range(shape[1]):
            name = names[config.tape.get((r, c), 0)].ljust(width)
            cells.append(f"[{name}]" if (r, c) == config.head else f" {name} ")
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)


def trace_grid(
    machine: TuringMachine,
    grid: Grid,
    head: Cell = (0, 0),
    *,
    state: int = 0,
    max_steps: int = 100_000,
) -> Iterator[Configuration]:
    """Configurations after 0, 1, ... steps on ``grid`` (bounded by its shape)."""
    yield from trace(machine, max_steps, grid.configuration(head, state), bounds=grid.shape)


@dataclass(frozen=True)
class TraceReport:
    """Summary of one bounded run.

    ``halted_by`` is ``"halt"`` (a transition into HALT), ``"undefined"`` (no transition for
    the scanned symbol) or ``None`` (still running after ``max_steps``). ``max_excursion`` is
    the largest Chebyshev distance of the head from its start cell; ``visited_rows`` and
    ``visited_cols`` are the inclusive ranges of cells the head was on.
    """

    machine: TuringMachine = field(repr=False)
    shape: tuple[int, int]
    start: Cell
    final: Configuration
    halted_by: str | None
    max_excursion: int
    visited_rows: tuple[int, int]
    visited_cols: tuple[int, int]

    @property
    def steps(self) -> int:
        return self.final.steps

    @property
    def halted(self) -> bool:
        return self.halted_by is not None

    @property
    def head(self) -> Cell:
        return self.final.head

    @property
    def state(self) -> str:
        """Final state name, ``"halt"`` for HALT."""
        q = self.final.state
        return "halt" if q == HALT else self.machine.state_name(q)

    @property
    def grid(self) -> Grid:
        return Grid.from_configuration(self.final, self.shape, self.machine)

    @property
    def rows(self) -> list[str]:
        """The final grid as strings."""
        return self.grid.rows()

    def render(self) -> str:
        """The final configuration as text (see :func:`render`)."""
        return render(self.final, self.machine, self.shape)


def run_grid(
    machine: TuringMachine,
    grid: Grid,
    head: Cell = (0, 0),
    *,
    state: int = 0,
    max_steps: int = 100_000,
) -> TraceReport:
    """Run ``machine`` on ``grid`` from ``head`` until it halts or ``max_steps`` steps.

    Raises :class:`~simulators.turing.HeadLeftGrid` if the head leaves the grid and
    ``ValueError`` if the grid's symbols do not match the machine's.
    """
    if grid.symbol_names != machine.symbol_names:
        raise ValueError(
            f"grid symbols {grid.symbol_names} differ from the machine's {machine.symbol_names}"
        )
    r0, c0 = head
    rmin = rmax = r0
    cmin = cmax = c0
    last = None
    # walk: one configuration advanced in place (a copy per step would be quadratic)
    for last in walk(machine, max_steps, grid.configuration(head, state), bounds=grid.shape):
        r, c = last.head
        rmin, rmax, cmin, cmax = min(rmin, r), max(rmax, r), min(cmin, c), max(cmax, c)
    assert last is not None
    if last.state == HALT:
        halted_by: str | None = "halt"
    elif last.is_halted(machine):
        halted_by = "undefined"
    else:
        halted_by = None
    excursion = max(r0 - rmin, rmax - r0, c0 - cmin, cmax - c0)
    return TraceReport(
        machine, grid.shape, head, last, halted_by, excursion, (rmin, rmax), (cmin, cmax)
    )


def render_trace(
    machine: TuringMachine,
    grid: Grid,
    head: Cell = (0, 0),
    *,
    state: int = 0,
    max_steps: int = 1_000,
    every: int = 1,
) -> str:
    """Every ``every``-th configuration of a run (and the last one), rendered and joined."""
    frames = []
    last = None
    for cfg in trace_grid(machine, grid, head, state=state, max_steps=max_steps):
        if cfg.steps % every == 0:
            frames.append(render(cfg, machine, grid.shape))
        last = cfg
    if last is not None and last.steps % every != 0:
        frames.append(render(last, machine, grid.shape))
    return "\n\n".join(frames)


def grid_machines() -> list[str]:
    """Names of the example machines in :data:`GRID_LIBRARY`."""
    return sorted(p.stem for p in GRID_LIBRARY.glob("*.tm"))


def load_grid_machine(name: str) -> TuringMachine:
    """Assemble ``GRID_LIBRARY/<name>.tm`` (raises ``FileNotFoundError`` if absent)."""
    path = GRID_LIBRARY / f"{name}.tm"
    if not path.is_file():
        raise FileNotFoundError(f"no grid machine {name!r} in {GRID_LIBRARY} ({grid_machines()})")
    return assemble_file(path, strict=True)

"""A fast reference runner for long runs of 1-D machines (BB(5): 47,176,870 steps).

Same semantics as :func:`simulators.turing.run` (see that module for the conventions), for
machines that move only L, R or S on row 0: undefined transitions halt without a step, a
transition to ``HALT`` executes its write and move and then halts, ``max_steps`` bounds the
total step count of the configuration. Pure Python, no dependencies: the tape is a list
of ints that doubles when the head reaches an end, and the inner loop runs in chunks
that cannot reach either end, so it needs no bounds checks.
"""

from __future__ import annotations

from collections.abc import Callable

from simulators.turing import (
    HALT,
    PROGRESS_EVERY,
    Configuration,
    MachineError,
    Move,
    TapeBudgetExceeded,
    TuringMachine,
)

_INITIAL_WIDTH = 1 << 12
MAX_WIDTH = 1 << 31
"""The tape may grow to this many cells (2 GiB as bytes); a run of 10^9 steps needs at most
2 * 10^9 + 1."""


def _blank(tape: bytearray | list[int], n: int) -> bytearray | list[int]:
    return bytearray(n) if isinstance(tape, bytearray) else [0] * n


def _compile(machine: TuringMachine) -> list[tuple[int, int, int] | None]:
    """Flat table: entry ``q * k + a`` is ``(write, column delta, next_q * k)`` or None.

    ``HALT`` maps to the base ``n_states * k`` of an extra all-None row, so the loop halts on
    its next lookup without a separate test.
    """
    k = machine.n_symbols
    flat: list[tuple[int, int, int] | None] = []
    for q, row in enumerate(machine.table):
        for a, tr in enumerate(row):
            if tr is None:
                flat.append(None)
                continue
            if tr.move not in (Move.L, Move.R, Move.S):
                raise MachineError(
                    f"fast runner: state {machine.state_name(q)}, symbol {a}: move "
                    f"{tr.move.name} leaves row 0 (only L, R, S are supported)"
                )
            nxt = machine.n_states if tr.next_state == HALT else tr.next_state
            flat.append((tr.write, tr.move.delta[1], nxt * k))
    flat.extend([None] * k)  # the HALT row
    return flat


def run_fast(
    machine: TuringMachine, max_steps: int, config: Configuration | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Configuration:
    """Run a 1-D machine until it halts or has made ``max_steps`` steps in total.

    Returns the same :class:`Configuration` as ``turing.run(machine, max_steps, config)``.
    Raises :class:`MachineError` if the machine moves U or D, or if ``config`` has cells or
    its head outside row 0; :class:`~simulators.turing.TapeBudgetExceeded` if the tape would
    outgrow :data:`MAX_WIDTH` cells. ``on_progress(steps)`` is called every
    :data:`~simulators.turing.PROGRESS_EVERY` steps (Ctrl-C stops the run there).
    """
    cfg = Configuration() if config is None else config
    if cfg.head[0] != 0 or any(r != 0 for (r, _c) in cfg.tape):
        raise MachineError("fast runner: the configuration must live on row 0")
    k = machine.n_symbols
    table = _compile(machine)
    steps = cfg.steps
    if max_steps <= steps:
        return cfg.copy()

    cols = [c for (_r, c) in cfg.tape] + [cfg.head[1]]
    lo, hi = min(cols), max(cols)
    width = max(_INITIAL_WIDTH, 4 * (hi - lo + 1))
    origin = (width - (hi - lo + 1)) // 2 - lo  # tape index of column 0
    # one byte a cell when the symbols fit (8x less memory than a list), else a list
    tape: bytearray | list[int] = bytearray(width) if k <= 256 else [0] * width
    for (_r, c), a in cfg.tape.items():
        if not 0 <= a < k:
            raise MachineError(f"fast runner: cell {c} holds unknown symbol {a}")
        tape[origin + c] = a
    pos = origin + cfg.head[1]
    q = HALT if cfg.state == HALT else cfg.state
    if q != HALT and not 0 <= q < machine.n_states:
        raise MachineError(f"fast runner: unknown state {q}")
    base = machine.n_states * k if q == HALT else q * k

    halted = False
    while not halted and steps < max_steps:
        # The head moves at most one cell per step, so ``chunk`` steps stay inside the tape.
        chunk = min(pos, width - 1 - pos, max_steps - steps, PROGRESS_EVERY)
        if chunk <= 0:
            # Double the tape, keeping the used part centred.
            extra = width
            if width + extra > MAX_WIDTH:
                raise TapeBudgetExceeded(
                    f"after {steps:,} steps the tape would need {width + extra:,} cells, more "
                    f"than the fast runner's limit of {MAX_WIDTH:,}"
                )
            tape = _blank(tape, extra // 2) + tape + _blank(tape, extra - extra // 2)
            pos += extra // 2
            origin += extra // 2
            width += extra
            continue
        done = chunk
        for i in range(chunk):
            tr = table[base + tape[pos]]
            if tr is None:
                done = i
                halted = True
                break
            tape[pos], d, base = tr
            pos += d
        steps += done
        if on_progress is not None:
            on_progress(steps)

    state = HALT if base == machine.n_states * k else base // k
    cells = {(0, i - origin): a for i, a in enumerate(tape) if a}
    return Configuration(cells, (0, pos - origin), state, steps)

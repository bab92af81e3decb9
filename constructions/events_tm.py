"""Run a compiled Turing machine through the network, event by event (``--engine events``).

:func:`run_events` is :func:`constructions.engine.run_network` on the
:class:`constructions.events.EventExecutor`: same network (``network_model(ctm, dtype)``'s
weights), same result (the final :class:`Configuration`, and every intermediate one for
``on_step``), but the patch network is evaluated only where a cell's read inputs changed
(about four cells per step on a 1-D tape, a dozen on a 2-D grid).

The tape grows lazily, as in the dense engine: the grid starts as the configuration's
bounding box plus a margin of blank cells (code 0, the padding value), and whenever a cell on
the grid's outer ring changes the grid grows on that side before the next layer. A new cell
is evaluated by the network at the first layer after it appears, like every cell at layer 1.

Halting is *observed*, not computed: after each layer the kernel reads the codes of the
changed cells (is there exactly one head? is the head's code valid? does its state halt or
its transition not exist?), exactly the decoder reading that ``run_network`` does after
every layer, through boolean tables over codes. The network's values are not touched by it.
A layer that changes nothing is a fixed point (for instance a head that loops in place with
a move S): every later layer sees the same inputs, so the run jumps to ``max_steps`` without
halting. A fixed point is not a halt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from constructions import events_kernel as K
from constructions.engine import MAX_GRID_CELLS, BudgetExceeded, network_model
from constructions.events import EventExecutor, EventStats, FlatState, Observer
from constructions.events_net import FlatGrid
from constructions.tm import CompiledTM, DecodeError
from simulators.turing import HALT, Configuration

MAX_MULTIPLY_ADDS = 2 * 10**12
"""Refuse runs whose estimated work (patch evaluations x multiply-adds per evaluation)
exceeds this, before allocating (about half an hour of one core)."""

MARGIN = 64
"""Blank cells added on each growing side at the start; later growth adds half the width."""


@dataclass
class EventRun:
    """The final configuration and what it cost."""

    config: Configuration
    stats: EventStats
    halted: bool
    fixed_point: bool


def observer_tables(ctm: CompiledTM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decoder's reading by code: valid, has a head, halts (head in state Z or on a
    symbol whose transition is undefined)."""
    enc, mach = ctm.encoding, ctm.machine
    k = mach.n_symbols
    valid = np.zeros(enc.span, dtype=np.bool_)
    valid[enc.codes()] = True
    is_head = np.zeros(enc.span, dtype=np.int64)
    halts = np.zeros(enc.span, dtype=np.bool_)
    for code in enc.codes():
        digits = enc.decode(code)
        if digits["head"]:
            is_head[code] = 1
            state = HALT if digits["state"] == mach.n_states else digits["state"]
            halts[code] = state == HALT or mach.transition(state, code % k) is None
    return valid, is_head, halts


def estimated_evaluations(ctm: CompiledTM, steps: int, reads: int) -> int:
    """An upper bound on patch evaluations for ``steps`` layers: at most two cells change
    per step, each making its ``reads`` readers dirty; plus the first layer's grid."""
    return steps * 2 * reads + 4 * MARGIN * MARGIN


def check_budget(ctm: CompiledTM, steps: int, executor: EventExecutor) -> int:
    """Refuse (``BudgetExceeded``) a run whose estimated work exceeds the budget."""
    evals = estimated_evaluations(ctm, steps, len(executor.net.reads))
    work = evals * executor.net.multiply_adds
    if work > MAX_MULTIPLY_ADDS:
        raise BudgetExceeded(
            f"--steps {steps:,} may need up to {evals:,} patch evaluations of "
            f"{executor.net.multiply_adds:,} multiply-adds ({work:.2e} in all); the events "
            f"engine's limit is {MAX_MULTIPLY_ADDS:.0e}; ask for fewer steps")
    return evals


class _TapeGrid:
    """A :class:`FlatState` for a machine, with its origin and lazy growth."""

    def __init__(self, ctm: CompiledTM, config: Configuration, executor: EventExecutor,
                 margin: int) -> None:
        self.ctm = ctm
        self.margin = margin
        self.two_d = not ctm.machine.is_one_dimensional
        cells = list(config.tape) + [config.head]
        r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
        c0, c1 = min(c for _, c in cells), max(c for _, c in cells)
        mr = margin if self.two_d else 0
        shape = (r1 - r0 + 1 + 2 * mr, c1 - c0 + 1 + 2 * margin)
        self._refuse_size(shape, config.steps)
        self.origin = (mr - r0, margin - c0)
        grid = ctm.encode(config, shape, self.origin).astype(np.float64)
        valid, is_head, halts = observer_tables(ctm)
        self.tables = (valid, is_head, halts)
        self.st = FlatState.start(grid, ctm.padding, executor.dtype, log=False)
        self._observe()
        hr, hc = config.head[0] + self.origin[0], config.head[1] + self.origin[1]
        self.st.state[K.ST_HEAD] = (hr + 1) * self.st.layout.stride + hc + 1
        self.st.state[K.ST_HEADS] = 1

    def _refuse_size(self, shape: tuple[int, int], steps: int) -> None:
        cells = (shape[0] + 2) * (shape[1] + 2)
        if cells > MAX_GRID_CELLS:
            raise BudgetExceeded(f"after {steps:,} steps the grid would need {cells:,} cells "
                                 f"({shape[0]} x {shape[1]}; limit {MAX_GRID_CELLS:,}); ask "
                                 "for fewer steps")

    def _observe(self) -> None:
        lay = self.st.layout
        ring = np.zeros((lay.H + 2, lay.W + 2), dtype=np.bool_)
        ring[1:-1, [1, lay.W]] = True
        if self.two_d:
            ring[[1, lay.H], 1:-1] = True
        valid, is_head, halts = self.tables
        self.st.observer = Observer(valid, is_head, halts, ring.reshape(-1))

    def grow(self, steps: int) -> None:
        """Add blank cells on every side whose outer ring changed; the new cells are dirty
        (evaluated at the next layer, their first)."""
        st, lay = self.st, self.st.layout
        g = lay.unflatten(st.grid)
        changed = g != self.ctm.padding
        add = max(self.margin, lay.W // 2)
        left = add if changed[:, 0].any() else 0
        right = add if changed[:, -1].any() else 0
        top = bottom = 0
        if self.two_d:
            addr = max(self.margin, lay.H // 2)
            top = addr if changed[0, :].any() else 0
            bottom = addr if changed[-1, :].any() else 0
        if not (left or right or top or bottom):  # a ring cell changed back to blank
            left = right = add
            if self.two_d:
                top = bottom = max(self.margin, lay.H // 2)
        shape = (lay.H + top + bottom, lay.W + left + right)
        self._refuse_size(shape, steps)
        new = FlatGrid(*shape)
        grid2 = np.full((shape[0] + 2, shape[1] + 2), self.ctm.padding, dtype=st.grid.dtype)
        grid2[1 + top:1 + top + lay.H, 1 + left:1 + left + lay.W] = g
        inner_new = np.ones(shape, dtype=np.bool_)
        inner_new[top:top + lay.H, left:left + lay.W] = False
        old_dirty = st.dirty[:st.n_dirty]
        rows, cols = np.divmod(old_dirty, lay.stride)
        moved = (rows + top) * new.stride + cols + left
        r_new, c_new = np.nonzero(inner_new)
        fresh = (r_new + 1) * new.stride + c_new + 1
        dirty = np.zeros(new.size, np.int64)
        all_dirty = np.concatenate([moved, fresh])
        dirty[:len(all_dirty)] = all_dirty
        hr, hc = divmod(int(st.state[K.ST_HEAD]), lay.stride)
        st.layout, st.grid, st.dirty, st.n_dirty = new, grid2.reshape(-1), dirty, len(all_dirty)
        st.state[K.ST_HEAD] = (hr + top) * new.stride + hc + left
        self.origin = (self.origin[0] + top, self.origin[1] + left)
        self._observe()

    def config(self, steps: int) -> Configuration:
        return self.ctm.decode(self.st.layout.unflatten(self.st.grid), self.origin, steps)

    def halted(self) -> bool:
        _, _, halts = self.tables
        return bool(halts[int(self.st.grid[self.st.state[K.ST_HEAD]])])


def run_events(ctm: CompiledTM, max_steps: int, dtype: str = "float32",
               config: Configuration | None = None,
               on_step: Callable[[Configuration], None] | None = None,
               on_progress: Callable[[int], None] | None = None,
               backend: str = "auto", margin: int = MARGIN) -> EventRun:
    """Run ``ctm`` through the network until it halts or ``max_steps`` layers have run.

    The same contract as :func:`constructions.engine.run_network` (steps = layers applied
    before the decoded configuration halts; ``on_step`` sees every configuration, which
    runs one layer per kernel call). ``on_progress(n)`` hears of every ``n`` layers done.
    ``margin``: blank cells around the start configuration (tests use 1 to grow often).
    Raises :class:`BudgetExceeded` before starting when the estimated work is over budget,
    and :class:`DecodeError` if a grid stops encoding one configuration.
    """
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    cfg = Configuration() if config is None else config.copy()
    model = network_model(ctm, dtype)
    executor = EventExecutor(model, ctm.bits, backend)
    check_budget(ctm, max_steps - cfg.steps, executor)
    tape = _TapeGrid(ctm, cfg, executor, max(1, margin))
    done = cfg.steps
    if on_step is not None:
        on_step(tape.config(done))
    halted, fixed = tape.halted(), False
    while not halted and done < max_steps:
        n = 1 if on_step is not None else max_steps - done
        step = executor.run(tape.st, n, on_progress)
        executor.stats.layers += step
        done += step
        status = tape.st.status
        if status in (K.BAD_CODE, K.NOT_FINITE):
            r, c = tape.st.layout.position(int(tape.st.state[K.ST_BADCELL]))
            v = tape.st.grid[int(tape.st.state[K.ST_BADCELL])]
            raise DecodeError(f"after {done} steps cell ({r}, {c}) holds {float(v)!r}, which "
                              f"is not a valid code")
        if status == K.HEADS:
            raise DecodeError(f"after {done} steps: expected exactly one head on the grid, "
                              f"found {int(tape.st.state[K.ST_HEADS])}")
        if on_step is not None and step:
            on_step(tape.config(done))
        if status == K.HALTED:
            halted = True
        elif status == K.FIXED:
            # every later layer sees the inputs of the last one: nothing changes any more
            skipped = max_steps - done
            executor.stats.layers += skipped
            executor.stats.dense_cell_updates += skipped * tape.st.layout.H * tape.st.layout.W
            if on_step is not None:
                final = tape.config(done)
                for s in range(done + 1, max_steps + 1):
                    on_step(Configuration(dict(final.tape), final.head, final.state, s))
            done = max_steps
            fixed = True
        elif status == K.GROW:
            tape.grow(done)
    return EventRun(tape.config(done), executor.stats, halted, fixed)

"""The event-driven executor of the Definition-5 RCNN: the same network, evaluated only where
its input changed (docs/events.md).

The dense executor (:meth:`constructions.rcnn.RCNN.rollout`) applies the shared patch network
to every cell at every one of the ``L`` layers. A cell's next value is the patch network
applied to its 3x3 patch, so a cell whose patch (the positions the network reads) is the same
as one layer earlier gets the same value as one layer earlier. :class:`EventExecutor`
re-evaluates the patch network, with its real weights and ReLUs, only at the cells whose
patch changed (all cells at the first layer), and keeps every other value. It computes the
dense executor's grids bit for bit whenever the network's values are exact in its dtype in
any summation order (docs/events.md, "Precision").

Honesty rules (tested in tests/test_events.py):

1. every value that changes is produced by the patch network's weights (:class:`EventNet`
   holds the model's own tensors' non-zeros);
2. nothing is looked up in a table built from a machine's rules; the only decoder reading is
   the Turing-machine driver's halting observation (constructions/events_tm.py);
3. no output is reused across cells or layers except "same cell, same input as one layer
   earlier, same output" (and its backward twin: same cell, same upstream gradients and
   local Jacobians, same incoming gradient). There is no table from patches to outputs.

The backward pass (:class:`EventsRollout`, a ``torch.autograd.Function``) replays the log of
changes in reverse: the vector-Jacobian product through every layer, recomputed only where an
upstream gradient or a local Jacobian changed, each local Jacobian recomputed through the
patch network only after its patch changed. Memory grows with the number of changes (the
log), not with ``L x cells x width``; no activation checkpointing is needed.

Two backends compute the same thing: ``kernel`` (numba, constructions/events_kernel.py, the
optional extra ``events``) and ``reference`` (torch on the dirty cells, readable, slow), and
they are checked bit for bit against each other and against the dense executor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from constructions import events_kernel as K
from constructions.events_net import EventNet, FlatGrid
from constructions.patchnet import MANTISSA_BITS
from constructions.rcnn import RCNN

BACKENDS = ("auto", "kernel", "reference")

MAX_LOG_ENTRIES = 1 << 27
"""Refuse forward passes recorded for a backward pass that change more cells than this
(about 2 GB of log in float64)."""

CHUNK_SECONDS = 0.25
"""The kernel runs in chunks of layers of about this long, so progress and Ctrl-C are
handled between chunks."""


class EventsError(RuntimeError):
    """The event-driven executor cannot run this request exactly; the message says why."""


def have_kernel() -> bool:
    """Whether the compiled kernel (numba, extra ``events``) is installed."""
    return K.HAVE_NUMBA


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    if backend == "auto":
        return "kernel" if K.HAVE_NUMBA else "reference"
    if backend == "kernel" and not K.HAVE_NUMBA:
        raise EventsError("the compiled kernel needs numba: pip install -e '.[events]'")
    return backend


SLOW_WARNING = ("events engine: numba is not installed, running the readable torch path "
                "(correct but slow); pip install -e '.[events]' for the compiled kernel")


@dataclass
class EventStats:
    """What a run cost, next to what the dense executor would have computed."""

    layers: int = 0
    """Network layers covered (each layer of each grid counts once)."""
    evaluations: int = 0
    """Patch-network evaluations in the forward pass."""
    jacobians: int = 0
    """Local Jacobians evaluated through the patch network in backward passes."""
    gradient_cells: int = 0
    """Incoming gradients computed in backward passes."""
    dense_cell_updates: int = 0
    """Layers x cells: the patch evaluations of the dense executor for the same layers."""
    changes: int = 0
    """Cells whose value changed (the log a backward pass replays)."""
    peak_log: int = 0
    """Most change-log entries held at once."""
    nodes_per_cell: int = 0

    @property
    def dense_nodes(self) -> int:
        """Units of the unrolled dense network: cell-updates x (h1 + h2 + 1)."""
        return self.dense_cell_updates * self.nodes_per_cell

    def as_dict(self) -> dict:
        return {"layers_covered": self.layers, "patch_evaluations": self.evaluations,
                "jacobian_evaluations": self.jacobians, "gradient_cells": self.gradient_cells,
                "dense_cell_updates": self.dense_cell_updates, "dense_nodes": self.dense_nodes,
                "changes": self.changes, "peak_log_entries": self.peak_log}


@dataclass
class ChangeLog:
    """Every change of a forward pass: layer (1-based), flat cell index, old value."""

    layer: np.ndarray
    cell: np.ndarray
    old: np.ndarray
    n: int = 0

    @classmethod
    def empty(cls, capacity: int, dtype: np.dtype) -> ChangeLog:
        return cls(np.zeros(capacity, np.int64), np.zeros(capacity, np.int64),
                   np.zeros(capacity, dtype))

    @classmethod
    def disabled(cls, dtype: np.dtype) -> ChangeLog:
        return cls.empty(0, dtype)

    def grown(self) -> ChangeLog:
        cap = 2 * max(1, len(self.layer))
        if cap > MAX_LOG_ENTRIES:
            raise EventsError(f"the forward pass changed more than {len(self.layer):,} cells; "
                              f"recording them for the backward pass would exceed "
                              f"{MAX_LOG_ENTRIES:,} log entries")
        out = ChangeLog.empty(cap, self.old.dtype)
        out.layer[:self.n], out.cell[:self.n], out.old[:self.n] = (
            self.layer[:self.n], self.cell[:self.n], self.old[:self.n])
        out.n = self.n
        return out

    def trimmed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.layer[:self.n], self.cell[:self.n], self.old[:self.n]


@dataclass
class Observer:
    """The decoder's reading of a Turing machine's cells, indexed by code (no computation:
    the network has already produced every value). ``ring[c]``: cell ``c`` is on the grid's
    outer ring, so a change there asks the driver to grow the grid."""

    valid: np.ndarray
    is_head: np.ndarray
    halts: np.ndarray
    ring: np.ndarray


def _dummy_observer() -> Observer:
    z = np.zeros(1, dtype=np.bool_)
    return Observer(z, np.zeros(1, dtype=np.int64), z, z)


@dataclass
class FlatState:
    """A grid being rolled forward: the flat grid, the dirty list and the kernel's state."""

    layout: FlatGrid
    grid: np.ndarray
    dirty: np.ndarray
    n_dirty: int
    log: ChangeLog
    state: np.ndarray = field(default_factory=lambda: np.zeros(K.STATE_SLOTS, np.int64))
    observer: Observer | None = None
    scratch: tuple[np.ndarray, ...] = ()
    """The kernel's work arrays (mark, next dirty list, new values), sized to the layout."""

    def work_arrays(self) -> tuple[np.ndarray, ...]:
        """The scratch arrays, (re)allocated when the layout changed size."""
        if not self.scratch or len(self.scratch[0]) != self.layout.size:
            size = self.layout.size
            self.scratch = (np.zeros(size, np.int64), np.zeros(size, np.int64),
                            np.zeros(size, self.grid.dtype))
        return self.scratch

    @classmethod
    def start(cls, grid: np.ndarray, padding: float, dtype: np.dtype, log: bool,
              observer: Observer | None = None) -> FlatState:
        """Every cell dirty: the first layer evaluates all of them."""
        H, W = grid.shape
        layout = FlatGrid(H, W)
        flat = layout.flatten(grid, padding, dtype)
        dirty = np.zeros(layout.size, np.int64)
        cells = layout.cells()
        dirty[:len(cells)] = cells
        lg = ChangeLog.empty(1024, dtype) if log else ChangeLog.disabled(dtype)
        return cls(layout, flat, dirty, len(cells), lg, observer=observer)

    @property
    def status(self) -> int:
        return int(self.state[K.ST_STATUS])


class EventExecutor:
    """Runs a model's patch network event by event: :meth:`advance` (forward) and
    :meth:`backward`, with the compiled kernel or the torch reference."""

    def __init__(self, model: RCNN, proven_bits: int | None, backend: str = "auto") -> None:
        """``proven_bits``: mantissa bits that make the network's values (and, for the
        backward pass, Jacobians) exact in any summation order, from its compiler's proof;
        refused if the model's dtype has fewer, or if there is no proof."""
        for name, p in model.shared_parameters():
            if p.requires_grad:
                raise EventsError(f"shared parameter {name} is being trained; the events "
                                  "engine runs fixed shared weights only")
        dt = {torch.float32: "float32", torch.float64: "float64"}.get(model.A1.dtype)
        if dt is None:
            raise EventsError(f"dtype {model.A1.dtype} is not supported (float32, float64)")
        if proven_bits is None:
            raise EventsError("no exactness proof for these weights: the events engine equals "
                              "the dense executor only where every value is exact in any "
                              "summation order; use the dense engine")
        if proven_bits > MANTISSA_BITS[dt]:
            raise EventsError(f"{dt} has {MANTISSA_BITS[dt]} mantissa bits but the network "
                              f"needs {proven_bits}")
        self.model = model
        self.backend = resolve_backend(backend)
        self.net = EventNet.from_model(model)
        self.padding = model.padding
        self.dtype = self.net.dtype
        self.gmax = float(2 ** (MANTISSA_BITS[dt] - proven_bits))
        """Largest upstream gradient magnitude the backward pass accepts (integers only)."""
        self.stats = EventStats(nodes_per_cell=self.net.nodes_per_cell)
        h1 = self.net.hidden[0]
        self._h1 = np.zeros(h1, self.dtype)
        self._g1 = np.zeros(h1, self.dtype)

    # -- forward ------------------------------------------------------------------------
    def advance(self, st: FlatState, n: int) -> None:
        """Run up to ``n`` layers on ``st`` (stops early on FIXED, HALTED, GROW, errors);
        grows the log as needed. ``st.state[ST_LAYERS]`` counts the layers done."""
        while True:
            before = int(st.state[K.ST_LAYERS])
            if self.backend == "kernel":
                self._advance_kernel(st, n)
            else:
                from constructions.events_reference import advance

                advance(self, st, n)
            done = int(st.state[K.ST_LAYERS]) - before
            self.stats.peak_log = max(self.stats.peak_log, st.log.n)
            if st.status != K.LOG_FULL:
                return
            st.log = st.log.grown()
            n -= done

    def _advance_kernel(self, st: FlatState, n: int) -> None:
        lay = st.layout
        ob = st.observer or _dummy_observer()
        mark, new_dirty, newv = st.work_arrays()
        st.state[K.ST_LOGN] = st.log.n
        evals0, changes0 = int(st.state[K.ST_EVALS]), int(st.state[K.ST_CHANGES])
        layers0 = int(st.state[K.ST_LAYERS])
        K.forward_layers(st.grid, lay.inner, lay.offs, self.net.reads, st.dirty, st.n_dirty,
                         new_dirty, mark, newv, *self.net.weights, self._h1, n,
                         st.state, st.log.layer, st.log.cell, st.log.old, layers0,
                         st.observer is not None, ob.valid, ob.is_head, ob.halts, ob.ring)
        st.n_dirty = int(st.state[K.ST_NDIRTY])
        st.log.n = int(st.state[K.ST_LOGN])
        self._count(st, evals0, changes0, layers0)

    def _count(self, st: FlatState, evals0: int, changes0: int, layers0: int) -> None:
        layers = int(st.state[K.ST_LAYERS]) - layers0
        self.stats.evaluations += int(st.state[K.ST_EVALS]) - evals0
        self.stats.changes += int(st.state[K.ST_CHANGES]) - changes0
        self.stats.dense_cell_updates += layers * st.layout.H * st.layout.W

    def run(self, st: FlatState, n: int, on_progress: Callable[[int], None] | None = None
            ) -> int:
        """Advance ``st`` by up to ``n`` layers in chunks (progress, Ctrl-C between chunks);
        returns the layers done. Stops at a fixed point: the remaining layers would each see
        the same inputs as the last one and change nothing."""
        done = 0
        chunk = 256
        while done < n:
            t0 = time.perf_counter()
            before = int(st.state[K.ST_LAYERS])
            self.advance(st, min(chunk, n - done))
            step = int(st.state[K.ST_LAYERS]) - before
            done += step
            if on_progress is not None:
                on_progress(step)
            if st.status != K.DONE:
                break
            spent = time.perf_counter() - t0
            if spent < CHUNK_SECONDS / 2:
                chunk = min(chunk * 2, 1 << 24)
            elif spent > CHUNK_SECONDS * 2:
                chunk = max(16, chunk // 2)
        return done

    # -- backward -----------------------------------------------------------------------
    def backward(self, layout: FlatGrid, final: np.ndarray, log: ChangeLog, n_layers: int,
                 gbar: np.ndarray) -> np.ndarray:
        """The gradient with respect to the first layer's input, given ``gbar`` (H, W), the
        gradient with respect to the grid after ``n_layers`` layers whose changes ``log``
        recorded and whose last grid is ``final`` (flat)."""
        g = layout.flatten(gbar, 0.0, self.dtype)
        if not np.all(np.isfinite(g)) or np.any(g != np.floor(g)) or \
                np.abs(g).max(initial=0) > self.gmax:
            raise EventsError("the events backward pass is exact only for integer upstream "
                              f"gradients of magnitude <= {self.gmax:g} (Algorithm 1's are "
                              "0 and ±1); use the dense engine")
        grid = final.copy()
        layer, cell, old = log.trimmed()
        if self.backend == "kernel":
            counts = np.zeros(4, np.int64)
            K.backward_layers(grid, layout.inner, layout.offs, self.net.reads, g, n_layers,
                              layer, cell, old, *self.net.weights[:-1], self._h1, self._g1,
                              self.gmax, counts)
            if counts[0] == K.INEXACT:
                raise EventsError("a gradient in the events backward pass left the exact range "
                                  f"(integers of magnitude <= {self.gmax:g}); use the dense "
                                  "engine")
            self.stats.jacobians += int(counts[1])
            self.stats.gradient_cells += int(counts[2])
        else:
            from constructions.events_reference import backward

            g = backward(self, layout, grid, layer, cell, old, n_layers, g)
        return layout.unflatten(g).copy()

    # -- whole grids ----------------------------------------------------------------------
    def forward_grid(self, grid: np.ndarray, n: int, log: bool = False,
                     on_progress: Callable[[int], None] | None = None) -> FlatState:
        """``n`` layers on an (H, W) grid (stops at a fixed point: later layers change
        nothing); the returned state holds the final grid and, with ``log``, the changes."""
        st = FlatState.start(np.asarray(grid), self.padding, self.dtype, log)
        self.run(st, n, on_progress)
        if st.status == K.NOT_FINITE:
            r, c = st.layout.position(int(st.state[K.ST_BADCELL]))
            raise EventsError(f"cell ({r}, {c}) became non-finite; the network is not exact "
                              "on this grid")
        self.stats.layers += n
        if st.status == K.FIXED:  # the dense executor's remaining layers change nothing
            self.stats.dense_cell_updates += (n - int(st.state[K.ST_LAYERS])) * grid.size
        return st


class EventsRollout(torch.autograd.Function):
    """``n`` layers of the patch network on (B, H, W) grids, forward and backward event by
    event (:class:`EventExecutor`); equal to ``RCNN.rollout(grid, n)`` and its backward
    bit for bit under the executor's exactness conditions."""

    @staticmethod
    def forward(ctx, grid: torch.Tensor, executor: EventExecutor, n: int) -> torch.Tensor:
        record = ctx.needs_input_grad[0]
        states = [executor.forward_grid(g.detach().cpu().numpy(), n, log=record)
                  for g in grid]
        ctx.executor, ctx.n = executor, n
        ctx.states = states if record else None
        out = np.stack([st.layout.unflatten(st.grid) for st in states])
        return torch.from_numpy(out.copy())

    @staticmethod
    def backward(ctx, gout: torch.Tensor):
        ex: EventExecutor = ctx.executor
        grads = [ex.backward(st.layout, st.grid, st.log, ctx.n, g.detach().cpu().numpy())
                 for st, g in zip(ctx.states, gout)]
        ctx.states = None
        return torch.from_numpy(np.stack(grads)), None, None


class EventsRCNN(RCNN):
    """Definition 5's RCNN whose recurrent convolution runs event by event.

    Layer 1 goes through the dense path's torch code on the whole grid (every cell's input
    is new there, and layer 1 of a learner network reads the non-dyadic ``±1/3``, whose
    rounding is checked only in torch's order); layers ``2..L`` run on the
    :class:`EventExecutor`. ``forward``, ``rollout`` and ``rollout_incremental`` have the
    dense module's contracts, so Algorithm 1 (``loss.backward()``, ``torch.optim.SGD`` on
    ``W``) and :func:`constructions.learner.predict` run on it unchanged.
    """

    def __init__(self, *args, proven_bits: int | None, backend: str = "auto",
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proven_bits = proven_bits
        self.backend = backend
        self._executor: EventExecutor | None = None

    @property
    def executor(self) -> EventExecutor:
        if self._executor is None:
            self._executor = EventExecutor(self, self.proven_bits, self.backend)
        return self._executor

    @property
    def stats(self) -> EventStats:
        return self.executor.stats

    def rollout(self, grid: torch.Tensor, steps: int | None = None,
                keep: bool = False) -> torch.Tensor | list[torch.Tensor]:
        steps = self.layers if steps is None else steps
        if steps == 0:
            return [grid] if keep else grid
        first = self.layer(grid)
        if keep:
            return [grid, first] + self._every_grid(first, steps - 1)
        return EventsRollout.apply(first, self.executor, steps - 1)

    @torch.no_grad()
    def rollout_incremental(self, grid: torch.Tensor, steps: int | None = None,
                            stop_at_fixed_point: bool = True) -> tuple[torch.Tensor, int]:
        """No gradients; returns the final grid and the layers up to the fixed point (the
        dense method's contract; this path always stops computing at a fixed point)."""
        steps = self.layers if steps is None else steps
        if steps == 0:
            return grid, 0
        outs, used = [], 1
        for one in grid:  # layer 1 one grid at a time: memory O(cells x width)
            g = self.layer(one[None])[0]
            st = self.executor.forward_grid(g.numpy(), steps - 1)
            outs.append(torch.from_numpy(st.layout.unflatten(st.grid).copy()))
            used = max(used, 1 + int(st.state[K.ST_LAYERS]))
        layers = used if stop_at_fixed_point else steps
        return torch.stack(outs), layers

    def _every_grid(self, first: torch.Tensor, n: int) -> list[torch.Tensor]:
        """Every grid after layers 2..n+1, rebuilt from the change log (for tests)."""
        per_batch = []
        for g in first.detach():
            st = self.executor.forward_grid(g.numpy(), n, log=True)
            per_batch.append(self._replay(g.numpy(), st, n))
        return [torch.from_numpy(np.stack([pb[k] for pb in per_batch])) for k in range(n)]

    @staticmethod
    def _replay(start: np.ndarray, st: FlatState, n: int) -> list[np.ndarray]:
        """Grids after layers 1..n of an event run, from its start and its change log: the
        new value of a change is the next change's old value of that cell, or the final."""
        layer, cell, old = st.log.trimmed()
        final = st.grid
        new = final[cell].copy()
        later: dict[int, int] = {}
        for i in range(len(cell) - 1, -1, -1):
            c = int(cell[i])
            if c in later:
                new[i] = old[later[c]]
            later[c] = i
        cur = st.layout.flatten(start, 0.0, final.dtype)
        out, pos = [], 0
        for k in range(1, n + 1):
            while pos < len(layer) and layer[pos] == k:
                cur[cell[pos]] = new[pos]
                pos += 1
            out.append(st.layout.unflatten(cur).copy())
        return out


def warn_if_slow(backend: str) -> None:
    if resolve_backend(backend) == "reference":
        print(SLOW_WARNING, file=sys.stderr)


__all__ = ["BACKENDS", "EventExecutor", "EventStats", "EventsError", "EventsRCNN",
           "EventsRollout", "FlatState", "Observer", "have_kernel"]

"""Run a compiled machine through the network: float torch or exact rational arithmetic.

The tape of a Turing machine is unbounded; a grid is not. The head moves at most one cell
per step, and the padding value is the code of a blank cell without head, so running ``n``
layers on a grid whose border is at least ``n`` cells from the head gives exactly what an
unbounded grid would. :func:`run_network` therefore runs in chunks and pads the grid with
blank cells between chunks: the result is that of one rollout on a large enough grid.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import torch

from constructions.patchnet import exact_grid_layer
from constructions.rcnn import DTYPES, RCNN
from constructions.tm import CompiledTM, DecodeError
from simulators.turing import HALT, Configuration

ENGINES = ("float32", "float64", "exact")

MAX_GRID_CELLS = 1 << 26
"""Refuse rollouts whose grid would exceed this many cells (about 0.5 GB per float64 grid)."""


class BudgetExceeded(RuntimeError):
    """A rollout would exceed its work or memory budget; nothing beyond it is computed."""


def exact_layer(ctm: CompiledTM, grid: np.ndarray,
                cache: dict[tuple, Fraction] | None = None) -> np.ndarray:
    """One layer of ``ctm``'s patch network in exact rational arithmetic."""
    return exact_grid_layer(ctm.patch, grid, Fraction(ctm.padding), cache)


def network_model(ctm: CompiledTM, dtype: str) -> RCNN:
    """The Definition-5 module carrying ``ctm``'s shared weights (``dtype`` checked exact)."""
    ctm.check_dtype(dtype)
    return RCNN(ctm.patch, ctm.head, layers=0, padding=ctm.padding, dtype=DTYPES[dtype])


def _stepper(ctm: CompiledTM, engine: str) -> Callable[[np.ndarray, int], list[np.ndarray]]:
    """A function (grid, n) -> the n grids after 1..n layers, as float64/object arrays."""
    if engine == "exact":
        cache: dict[tuple, Fraction] = {}

        def run_exact(grid: np.ndarray, n: int) -> list[np.ndarray]:
            g = np.vectorize(Fraction, otypes=[object])(grid)
            out = []
            for _ in range(n):
                g = exact_layer(ctm, g, cache)
                out.append(g)
            return out
        return run_exact
    if engine not in DTYPES:
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    model = network_model(ctm, engine)

    def run_float(grid: np.ndarray, n: int) -> list[np.ndarray]:
        with torch.no_grad():
            t = torch.as_tensor(np.asarray(grid, dtype=np.float64), dtype=DTYPES[engine])[None]
            return [g[0].to(torch.float64).numpy() for g in model.rollout(t, n, keep=True)[1:]]
    return run_float


def _head_and_halted(ctm: CompiledTM, grid: np.ndarray) -> tuple[tuple[int, int], bool]:
    k = ctm.machine.n_symbols
    codes = np.rint(np.asarray(grid, dtype=np.float64)).astype(np.int64)
    heads = np.argwhere((codes // k) % 2 == 1)
    if len(heads) != 1:
        raise DecodeError(f"expected exactly one head on the grid, found {len(heads)}")
    r, c = map(int, heads[0])
    code = codes[r, c]
    state = int(code // (2 * k))
    state = HALT if state == ctm.machine.n_states else state
    return (r, c), ctm.machine.transition(state, int(code % k)) is None


def run_network(
    ctm: CompiledTM,
    max_steps: int,
    engine: str = "float64",
    config: Configuration | None = None,
    chunk: int = 256,
    on_step: Callable[[Configuration], None] | None = None,
    max_cell_updates: int | None = None,
    stepper: Callable[[np.ndarray, int], list[np.ndarray]] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Configuration:
    """Run ``ctm`` through the network until it halts or ``max_steps`` layers have run.

    ``stepper`` (``(grid, n) -> the n grids after 1..n layers``) runs the layers on another
    executor (e.g. onnxruntime, :func:`constructions.onnx_export.onnx_stepper`); by default
    the layers run on ``engine``. The grid growth, head tracking and decoding are the same.

    Every intermediate grid is checked to hold exactly one head (and, with ``on_step``,
    decoded and handed to the callback, e.g. for step-by-step comparison). The number of
    steps reported is the number of layers applied before the decoded configuration halts.
    ``on_progress(steps)`` is called after every chunk (e.g. for a progress bar); a run
    whose grid or work would pass its budget raises :class:`BudgetExceeded` before it does.
    """
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    cfg = Configuration() if config is None else config.copy()
    two_d = not ctm.machine.is_one_dimensional
    cells = list(cfg.tape) + [cfg.head]
    r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
    c0, c1 = min(c for _, c in cells), max(c for _, c in cells)
    origin = (-r0, -c0)
    grid = ctm.encode(cfg, (r1 - r0 + 1, c1 - c0 + 1), origin).astype(np.float64)
    step_fn = _stepper(ctm, engine) if stepper is None else stepper
    if engine == "exact":
        chunk = min(chunk, 8)  # keep the exact grid close to the tape's extent
    done = cfg.steps
    if on_step is not None:
        on_step(ctm.decode(grid, origin, done))
    (hr, hc), halted = _head_and_halted(ctm, grid)
    work = 0
    size = 4  # chunks double up to ``chunk``: a machine that halts early costs little
    while not halted and done < max_steps:
        n = min(size, chunk, max_steps - done)
        size *= 2
        # pad so the head stays inside the grid for n steps
        H, W = grid.shape
        top = max(0, n - hr) if two_d else 0
        bottom = max(0, hr + n - (H - 1)) if two_d else 0
        left, right = max(0, n - hc), max(0, hc + n - (W - 1))
        need = (H + top + bottom) * (W + left + right)
        if need > MAX_GRID_CELLS:
            raise BudgetExceeded(
                f"after {done} steps the rollout grid would need {need:,} cells "
                f"(limit {MAX_GRID_CELLS:,}); ask for fewer steps"
            )
        work += need * n
        if max_cell_updates is not None and work > max_cell_updates:
            raise BudgetExceeded(
                f"after {done} steps the network run would exceed {max_cell_updates:,} "
                f"cell updates (grid {H + top + bottom}x{W + left + right}); ask for fewer "
                "steps or use the reference engine"
            )
        if top or bottom or left or right:
            grid = np.pad(grid, ((top, bottom), (left, right)), constant_values=ctm.padding)
            origin = (origin[0] + top, origin[1] + left)
        grids = step_fn(grid, n)
        for i, g in enumerate(grids, start=1):
            (hr, hc), halted = _head_and_halted(ctm, g)
            if on_step is not None:
                on_step(ctm.decode(g, origin, done + i))
            if halted:
                grid, done = g, done + i
                break
        else:
            grid, done = grids[-1], done + n
        if on_progress is not None:
            on_progress(done)
    return ctm.decode(grid, origin, done)

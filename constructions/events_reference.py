"""The readable path of the event-driven executor: torch on the dirty cells, one call per
layer (used when numba is not installed, and checked bit for bit against the kernel).

:func:`advance` is :func:`constructions.events_kernel.forward_layers` written with torch:
per layer, the dense path's own ``patch_network`` on the dirty cells' patches, the changes
written synchronously, the next dirty cells from the read positions. :func:`backward` is
autograd's VJP of the same ``patch_network`` on the cells with a non-zero gradient, layer by
layer, with the kernel's skip rule (a layer whose Jacobians and gradient equal the layer
above's, and every layer down to the next change, gives the same gradient).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from constructions import events_kernel as K
from constructions.events_net import FlatGrid

if TYPE_CHECKING:
    from constructions.events import EventExecutor, FlatState, Observer


def advance(ex: EventExecutor, st: FlatState, n: int) -> None:
    """The same loop as :func:`constructions.events_kernel.forward_layers`, one torch
    call per layer on the dirty cells' patches (the dense path's ``patch_network``)."""
    lay, state, lg, ob = st.layout, st.state, st.log, st.observer
    evals0, changes0, layers0 = (int(state[K.ST_EVALS]), int(state[K.ST_CHANGES]),
                                 int(state[K.ST_LAYERS]))
    flat = torch.from_numpy(st.grid)
    offs = torch.from_numpy(lay.offs)
    back = offs[torch.from_numpy(ex.net.reads)]
    inner = torch.from_numpy(lay.inner)
    dirty = torch.from_numpy(st.dirty[:st.n_dirty].copy())
    state[K.ST_STATUS] = K.DONE
    layers = 0
    while layers < n:
        if len(dirty) == 0:
            state[K.ST_STATUS] = K.FIXED
            break
        if len(lg.layer) and lg.n + len(dirty) > len(lg.layer):
            state[K.ST_STATUS] = K.LOG_FULL
            break
        with torch.no_grad():
            values = ex.model.patch_network(flat[dirty[:, None] + offs[None, :]])
        state[K.ST_EVALS] += len(dirty)
        layers += 1
        changed = values != flat[dirty]
        cells, new = dirty[changed], values[changed]
        old = flat[cells].clone()
        flat[cells] = new
        state[K.ST_CHANGES] += len(cells)
        if len(lg.layer):
            sl = slice(lg.n, lg.n + len(cells))
            lg.layer[sl], lg.cell[sl], lg.old[sl] = layers0 + layers, cells.numpy(), old
            lg.n += len(cells)
        neighbours = (cells[:, None] - back[None, :]).reshape(-1)
        dirty = torch.unique(neighbours[inner[neighbours]])
        if not bool(torch.isfinite(new).all()):
            state[K.ST_STATUS] = K.NOT_FINITE
            state[K.ST_BADCELL] = int(cells[~torch.isfinite(new)][0])
            break
        if ob is not None and observe(state, ob, cells.numpy(), new.numpy(), old.numpy(),
                                      st.grid):
            break
    state[K.ST_LAYERS] += layers
    st.dirty[:len(dirty)] = dirty.numpy()
    st.n_dirty = len(dirty)
    state[K.ST_NDIRTY] = st.n_dirty
    ex._count(st, evals0, changes0, layers0)


def observe(state: np.ndarray, ob: Observer, cells: np.ndarray, new: np.ndarray,
            old: np.ndarray, grid: np.ndarray) -> bool:
    """The reference path's copy of the kernel's head observation; True = stop."""
    codes = new.astype(np.int64)
    bad = (codes != new) | (codes < 0) | (codes >= len(ob.valid))
    bad |= ~ob.valid[np.clip(codes, 0, len(ob.valid) - 1)]
    if bad.any():
        state[K.ST_STATUS] = K.BAD_CODE
        state[K.ST_BADCELL] = int(cells[np.argmax(bad)])
        return True
    heads = ob.is_head[codes]
    state[K.ST_HEADS] += int(heads.sum() - ob.is_head[old.astype(np.int64)].sum())
    if heads.any():
        state[K.ST_HEAD] = int(cells[np.flatnonzero(heads)[-1]])
    if state[K.ST_HEADS] != 1:
        state[K.ST_STATUS] = K.HEADS
        return True
    if ob.halts[int(grid[state[K.ST_HEAD]])]:
        state[K.ST_STATUS] = K.HALTED
        return True
    if ob.ring[cells].any():
        state[K.ST_STATUS] = K.GROW
        return True
    return False



def backward(ex: EventExecutor, layout: FlatGrid, grid: np.ndarray, layer: np.ndarray,
             cell: np.ndarray, old: np.ndarray, n_layers: int, g: np.ndarray) -> np.ndarray:
    """Layer by layer, autograd's VJP of the dense ``patch_network`` on the cells with a
    non-zero gradient; a layer whose Jacobians and gradient equal the layer above's is
    skipped with every layer down to the next change (the same rule as the kernel)."""
    offs = torch.from_numpy(layout.offs)
    inner = torch.from_numpy(layout.inner)
    flat = torch.from_numpy(grid)
    gt = torch.from_numpy(g)
    lp = len(layer)
    k = n_layers
    first = True
    while k >= 1:
        undone = False
        while lp > 0 and layer[lp - 1] == k:
            lp -= 1
            flat[int(cell[lp])] = float(old[lp])
            undone = True
        support = torch.nonzero(gt).reshape(-1)
        support = support[inner[support]]
        x = flat[support[:, None] + offs[None, :]].clone().requires_grad_(True)
        with torch.enable_grad():
            y = ex.model.patch_network(x)
            (gx,) = torch.autograd.grad(y, x, gt[support]) if len(support) else (x * 0,)
        ex.stats.jacobians += len(support)
        new = torch.zeros_like(gt)
        targets = (support[:, None] + offs[None, :]).reshape(-1)
        new.index_add_(0, targets, gx.reshape(-1))
        new[~inner] = 0
        same = bool(torch.equal(new, gt))
        gt.copy_(new)
        k -= 1
        if same and not first and not undone:
            k = int(layer[lp - 1]) if lp > 0 else 0
        first = False
    return g

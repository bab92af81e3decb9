"""The compiled hot loops of the event-driven executor (numba, optional extra ``events``).

Three functions, each a literal loop over the patch network's non-zero weights
(:class:`constructions.events_net.EventNet` holds them, row by row, in the model's dtype):

* :func:`patch_value` / :func:`patch_jacobian`: ``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` on
  one 3x3 patch, and its Jacobian (unit upstream gradient, autograd's ``ReLU'(0) = 0``);
* :func:`forward_layers`: up to ``n`` layers on a flat, border-padded grid, re-evaluating
  the network only at the cells in the *dirty* list (cells whose read inputs changed at the
  previous layer, or that are new), updating synchronously, and building the next dirty
  list from the cells that changed. Optionally logs every change (layer, cell, old value)
  for the backward pass and observes a Turing machine's head (decoder reading only);
* :func:`backward_layers`: the vector-Jacobian product through the logged layers, from the
  last to the first, recomputing a cell's incoming gradient only where one of its inputs
  (a neighbour's gradient or a neighbour's local Jacobian) changed.

Without numba (``HAVE_NUMBA`` false) the same functions are plain Python: correct but about
a hundred times slower; :mod:`constructions.events` then uses its torch reference path.
Nothing here knows about Turing machines beyond the observation arrays it is handed.
"""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - exercised by whichever environment runs the tests
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

# Status codes returned by forward_layers / backward_layers (index ST_STATUS of ``state``).
RUNNING, DONE, FIXED, HALTED, GROW, LOG_FULL, BAD_CODE, HEADS, NOT_FINITE, INEXACT = range(10)
# Slots of the int64 ``state`` array shared by Python and the kernel.
(ST_STATUS, ST_LAYERS, ST_EVALS, ST_CHANGES, ST_NDIRTY, ST_HEAD, ST_HEADS, ST_LOGN,
 ST_BADCELL, ST_STAMP) = range(10)
STATE_SLOTS = 10


@njit(cache=True, nogil=True)
def patch_value(x, ind1, idx1, val1, b1, ind2, idx2, val2, b2, idx3, val3, b3, h1):
    """The patch network on the 9 values ``x``; ``h1`` is scratch of length h1.

    Layer-2 units with a zero output weight are not computed (they add an exact 0)."""
    for j in range(b1.shape[0]):
        k0, k1 = ind1[j], ind1[j + 1]
        if k1 - k0 == 1:  # the compiled networks: one input per first-layer unit
            s = b1[j] + val1[k0] * x[idx1[k0]]
        else:
            s = b1[j]
            for k in range(k0, k1):
                s += val1[k] * x[idx1[k]]
        if s > 0:
            h1[j] = s
        else:
            h1[j] = 0
    out = b3[0]
    for t in range(idx3.shape[0]):
        i = idx3[t]
        s = b2[i]
        for k in range(ind2[i], ind2[i + 1]):
            s += val2[k] * h1[idx2[k]]
        if s > 0:
            out += val3[t] * s
    return out


@njit(cache=True, nogil=True)
def patch_jacobian(x, ind1, idx1, val1, b1, ind2, idx2, val2, b2, idx3, val3, h1, g1, jac):
    """``d out / d x`` at ``x`` into ``jac`` (length 9): upstream 1, masks ``pre > 0``.

    ``h1``/``g1`` are scratch of length h1. The same products as autograd's backward of
    the dense path (``A3`` masked, times ``A2``, masked, times ``A1``)."""
    for j in range(b1.shape[0]):
        s = b1[j]
        for k in range(ind1[j], ind1[j + 1]):
            s += val1[k] * x[idx1[k]]
        h1[j] = s
        g1[j] = 0
    for t in range(idx3.shape[0]):
        i = idx3[t]
        s = b2[i]
        for k in range(ind2[i], ind2[i + 1]):
            hj = h1[idx2[k]]
            if hj > 0:
                s += val2[k] * hj
        if s > 0:
            for k in range(ind2[i], ind2[i + 1]):
                j = idx2[k]
                if h1[j] > 0:
                    g1[j] += val3[t] * val2[k]
    for p in range(9):
        jac[p] = 0
    for j in range(b1.shape[0]):
        if h1[j] > 0 and g1[j] != 0:
            for k in range(ind1[j], ind1[j + 1]):
                jac[idx1[k]] += g1[j] * val1[k]


@njit(cache=True, nogil=True)
def forward_layers(grid, inner, offs, reads, dirty, n_dirty0, new_dirty, mark, newv,
                   ind1, idx1, val1, b1, ind2, idx2, val2, b2, idx3, val3, b3, h1,
                   n_layers, state, log_layer, log_cell, log_old, layer0,
                   observe, valid, is_head, halts, ring):
    """Run up to ``n_layers`` layers in place on the flat grid ``grid``.

    ``inner[c]``: cell ``c`` is a grid cell (not the padding border). ``offs[p]``: flat
    offset of patch position ``p``; ``reads``: the positions the network reads (non-zero
    columns of ``A1``). ``dirty[:n_dirty0]``: the cells to evaluate at the first layer.
    ``mark``/``state[ST_STAMP]`` deduplicate dirty cells. With ``log_layer.size > 0`` each
    change is logged as (``layer0`` + layer, cell, old value); a full log stops the run
    (``LOG_FULL``) before the layer that would overflow it. With ``observe`` the head of a
    compiled Turing machine is watched from the changed cells' codes (``valid``,
    ``is_head``, ``halts`` indexed by code): a run stops when the head halts, when a value
    is not a valid code, when the grid holds other than one head, or (``ring[c]``) when a
    cell on the grid's outer ring changed (the caller grows the grid). Stops with
    ``FIXED`` when a layer changes nothing: every later layer would see the same inputs.
    Returns nothing; ``state`` holds status, layers done, evaluations, changes, the next
    dirty count (in ``dirty``), head cell and head count.
    """
    n_dirty = n_dirty0
    stamp = state[ST_STAMP]
    x = np.empty(9, dtype=grid.dtype)
    layers = 0
    state[ST_STATUS] = DONE
    while layers < n_layers:
        if n_dirty == 0:
            state[ST_STATUS] = FIXED
            break
        if log_layer.shape[0] > 0 and state[ST_LOGN] + n_dirty > log_layer.shape[0]:
            state[ST_STATUS] = LOG_FULL
            break
        # 1. evaluate the patch network at every dirty cell (synchronous update)
        for t in range(n_dirty):
            c = dirty[t]
            for p in range(9):
                x[p] = grid[c + offs[p]]
            newv[t] = patch_value(x, ind1, idx1, val1, b1, ind2, idx2, val2, b2,
                                  idx3, val3, b3, h1)
        state[ST_EVALS] += n_dirty
        layers += 1
        stamp += 1
        # 2. write the changes, log them, and collect the next dirty cells
        n_new = 0
        grow = False
        for t in range(n_dirty):
            c = dirty[t]
            v = newv[t]
            old = grid[c]
            if v == old:
                continue
            if not np.isfinite(v):
                state[ST_STATUS] = NOT_FINITE
                state[ST_BADCELL] = c
            grid[c] = v
            state[ST_CHANGES] += 1
            if log_layer.shape[0] > 0:
                n = state[ST_LOGN]
                log_layer[n] = layer0 + layers
                log_cell[n] = c
                log_old[n] = old
                state[ST_LOGN] = n + 1
            if observe:
                code = int(v)
                if code != v or code < 0 or code >= valid.shape[0] or not valid[code]:
                    state[ST_STATUS] = BAD_CODE
                    state[ST_BADCELL] = c
                else:
                    if is_head[code]:
                        state[ST_HEAD] = c
                    state[ST_HEADS] += is_head[code] - is_head[int(old)]
                if ring[c]:
                    grow = True
            for r in range(reads.shape[0]):
                q = c - offs[reads[r]]
                if inner[q] and mark[q] != stamp:
                    mark[q] = stamp
                    new_dirty[n_new] = q
                    n_new += 1
        for t in range(n_new):
            dirty[t] = new_dirty[t]
        n_dirty = n_new
        if state[ST_STATUS] == NOT_FINITE or state[ST_STATUS] == BAD_CODE:
            break
        if observe:
            if state[ST_HEADS] != 1:
                state[ST_STATUS] = HEADS
                break
            if halts[int(grid[state[ST_HEAD]])]:
                state[ST_STATUS] = HALTED
                break
            if grow:
                state[ST_STATUS] = GROW
                break
    state[ST_LAYERS] += layers
    state[ST_NDIRTY] = n_dirty
    state[ST_STAMP] = stamp


@njit(cache=True, nogil=True)
def backward_layers(grid, inner, offs, reads, gbar, n_layers, log_layer, log_cell, log_old,
                    ind1, idx1, val1, b1, ind2, idx2, val2, b2, idx3, val3, h1, g1,
                    gmax, counts):
    """The VJP of ``n_layers`` logged layers: ``gbar`` (gradient of the last grid, flat) is
    overwritten with the gradient of the first layer's input; ``grid`` (the last grid) is
    rolled back to that input by undoing the log.

    Event-driven: the incoming gradient of cell ``q`` at layer ``k`` is
    ``sum_p J_k[q - off_p, p] * g_k[q - off_p]`` over read positions ``p``; it is
    recomputed only when a term's gradient or local Jacobian changed since layer ``k + 1``
    (all of it at the last layer), otherwise it equals the value one layer up. A local
    Jacobian is recomputed through the network only after its patch changed.

    Exactness guard: every computed gradient must be an integer of magnitude ``<= gmax``
    (then every product and partial sum is exact for the proven networks, in any order);
    otherwise ``counts[0]`` is set to ``INEXACT`` and the run stops. ``counts``: status,
    Jacobian evaluations, gradient cells computed, layers walked.
    """
    ncell = grid.shape[0]
    nr = reads.shape[0]
    jac = np.zeros((ncell, 9), dtype=grid.dtype)
    jvalid = np.zeros(ncell, dtype=np.bool_)
    x = np.zeros(9, dtype=grid.dtype)
    jrow = np.zeros(9, dtype=grid.dtype)
    zero = jrow[0]
    markc = np.zeros(ncell, dtype=np.int64)  # dedupes ``changed`` (stamp sc)
    markt = np.zeros(ncell, dtype=np.int64)  # dedupes ``todo`` (stamp st)
    sc = 1
    st = 0
    changed = np.empty(ncell, dtype=np.int64)  # cells whose gradient or Jacobian changed
    n_changed = 0
    todo = np.empty(ncell, dtype=np.int64)
    newg = np.empty(ncell, dtype=grid.dtype)
    lp = log_layer.shape[0]
    first = True
    k = n_layers
    counts[0] = DONE
    if first:  # the last layer has no layer above it: every neighbour of the support
        for c in range(ncell):
            if inner[c] and gbar[c] != 0:
                markc[c] = sc
                changed[n_changed] = c
                n_changed += 1
    while k >= 1:
        # undo forward layer k: the grid becomes layer k's input; patches around it change
        while lp > 0 and log_layer[lp - 1] == k:
            lp -= 1
            c = log_cell[lp]
            grid[c] = log_old[lp]
            for r in range(nr):
                q = c - offs[reads[r]]
                if inner[q]:
                    jvalid[q] = False
                    # a new Jacobian matters only where it multiplies a non-zero gradient
                    if gbar[q] != 0 and markc[q] != sc:
                        markc[q] = sc
                        changed[n_changed] = q
                        n_changed += 1
        if n_changed == 0:
            # no gradient and no Jacobian changed: every layer down to the next logged one
            # maps the same inputs to the same gradient; jump there
            nxt = log_layer[lp - 1] if lp > 0 else 0
            counts[3] += k - nxt
            k = nxt
            continue
        # the cells whose incoming gradient must be recomputed
        st += 1
        n_todo = 0
        for t in range(n_changed):
            c = changed[t]
            for r in range(nr):
                q = c + offs[reads[r]]
                if inner[q] and markt[q] != st:
                    markt[q] = st
                    todo[n_todo] = q
                    n_todo += 1
        for t in range(n_todo):
            q = todo[t]
            s = zero
            for r in range(nr):
                p = reads[r]
                c = q - offs[p]
                if not inner[c] or gbar[c] == 0:
                    continue
                if not jvalid[c]:
                    for pp in range(9):
                        x[pp] = grid[c + offs[pp]]
                    patch_jacobian(x, ind1, idx1, val1, b1, ind2, idx2, val2, b2, idx3,
                                   val3, h1, g1, jrow)
                    for pp in range(9):
                        jac[c, pp] = jrow[pp]
                    jvalid[c] = True
                    counts[1] += 1
                s += jac[c, p] * gbar[c]
            newg[t] = s
        counts[2] += n_todo
        # write layer k - 1's gradient; collect where it differs from layer k's
        sc += 1
        n_changed = 0
        if first:  # cells outside ``todo`` receive nothing: their gradient is 0
            for c in range(ncell):
                if gbar[c] != 0 and markt[c] != st:
                    gbar[c] = zero
                    markc[c] = sc
                    changed[n_changed] = c
                    n_changed += 1
            first = False
        for t in range(n_todo):
            q = todo[t]
            v = newg[t]
            if v != 0 and (v != np.floor(v) or abs(v) > gmax):
                counts[0] = INEXACT
                return
            if v != gbar[q]:
                if markc[q] != sc:
                    markc[q] = sc
                    changed[n_changed] = q
                    n_changed += 1
            gbar[q] = v
        counts[3] += 1
        k -= 1
    # undo what is left of the log (layers jumped over at the end)
    while lp > 0:
        lp -= 1
        grid[log_cell[lp]] = log_old[lp]

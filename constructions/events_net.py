"""The patch network's real weights, as the event-driven executor reads them.

:class:`EventNet` takes the weight tensors of a :class:`constructions.rcnn.RCNN` (the very
numbers the dense executor multiplies, in the same dtype) and keeps their non-zero entries
row by row (compressed sparse rows): ``A1`` (one non-zero per row for every compiled
network), ``A2`` and ``A3``. Leaving out a zero weight leaves out a term ``0 * h = 0`` of a
sum, so a sparse evaluation is the same network; it is exact in the dtype whenever the
network's exactness proof holds in any summation order (docs/events.md, "Precision").

:class:`FlatGrid` is the layout the kernels use: the ``H x W`` grid stored row-major in a
flat array with a one-cell border holding the padding value, so that the 3x3 patch of cell
``c`` is ``grid[c + offs[p]]`` for the nine positions ``p`` without bounds checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from constructions.patchnet import OFFSETS
from constructions.rcnn import RCNN


def _csr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row pointers, column indices and values of the non-zeros of ``a`` (row-major)."""
    rows, cols = np.nonzero(a)
    ind = np.zeros(a.shape[0] + 1, dtype=np.int64)
    np.add.at(ind, rows + 1, 1)
    return np.cumsum(ind), cols.astype(np.int64), a[rows, cols].copy()


@dataclass(frozen=True)
class EventNet:
    """The non-zero weights of ``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` in one dtype."""

    ind1: np.ndarray
    idx1: np.ndarray
    val1: np.ndarray
    b1: np.ndarray
    ind2: np.ndarray
    idx2: np.ndarray
    val2: np.ndarray
    b2: np.ndarray
    idx3: np.ndarray
    val3: np.ndarray
    b3: np.ndarray
    reads: np.ndarray
    """The patch positions the network reads: the non-zero columns of ``A1``. A change at
    any other position cannot change the output (its every weight is 0)."""
    hidden: tuple[int, int]

    @classmethod
    def from_model(cls, model: RCNN) -> EventNet:
        """The non-zeros of ``model``'s patch-network weights (as stored, in its dtype)."""
        a = {n: getattr(model, n).detach().cpu().numpy() for n in
             ("A1", "b1", "A2", "b2", "A3", "b3")}
        if a["A1"].shape[1] != 9:
            raise ValueError(f"a patch network reads 9 inputs, this one {a['A1'].shape[1]}")
        ind1, idx1, val1 = _csr(a["A1"])
        ind2, idx2, val2 = _csr(a["A2"])
        idx3 = np.flatnonzero(a["A3"][0]).astype(np.int64)
        reads = np.flatnonzero((a["A1"] != 0).any(axis=0)).astype(np.int64)
        return cls(ind1, idx1, val1, a["b1"].copy(), ind2, idx2, val2, a["b2"].copy(), idx3,
                   a["A3"][0, idx3].copy(), a["b3"].copy(), reads,
                   (a["A1"].shape[0], a["A2"].shape[0]))

    @property
    def dtype(self) -> np.dtype:
        return self.val1.dtype

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """The arrays in the order the kernels take them (ind1 .. b3)."""
        return (self.ind1, self.idx1, self.val1, self.b1, self.ind2, self.idx2, self.val2,
                self.b2, self.idx3, self.val3, self.b3)

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds of one patch evaluation over the non-zeros (at most; layer-2 units
        whose output weight is 0 are not evaluated)."""
        rows = self.idx3
        return int(len(self.val1) + (self.ind2[rows + 1] - self.ind2[rows]).sum() + len(rows))

    @property
    def dense_multiply_adds(self) -> int:
        """Multiply-adds of one dense evaluation (the dense executor's GEMMs)."""
        h1, h2 = self.hidden
        return 9 * h1 + h1 * h2 + h2

    @property
    def nodes_per_cell(self) -> int:
        """Units one patch evaluation computes: both hidden layers and the output."""
        return self.hidden[0] + self.hidden[1] + 1


class FlatGrid:
    """An ``H x W`` grid in a flat array with a one-cell padding border (row stride W+2)."""

    def __init__(self, H: int, W: int) -> None:
        self.H, self.W = H, W
        self.stride = W + 2
        self.size = (H + 2) * (W + 2)
        self.offs = np.array([dr * self.stride + dc for dr, dc in OFFSETS], dtype=np.int64)
        inner = np.zeros((H + 2, W + 2), dtype=np.bool_)
        inner[1:-1, 1:-1] = True
        self.inner = inner.reshape(-1)

    def flatten(self, grid: np.ndarray, padding: float, dtype: np.dtype) -> np.ndarray:
        """The flat, bordered copy of ``grid`` (H, W) in ``dtype``."""
        out = np.full((self.H + 2, self.W + 2), padding, dtype=dtype)
        out[1:-1, 1:-1] = grid
        return out.reshape(-1)

    def unflatten(self, flat: np.ndarray) -> np.ndarray:
        """The (H, W) view of the inner cells of a flat array."""
        return flat.reshape(self.H + 2, self.W + 2)[1:-1, 1:-1]

    def cells(self) -> np.ndarray:
        """The flat indices of every inner cell, row-major."""
        return np.flatnonzero(self.inner)

    def position(self, c: int) -> tuple[int, int]:
        """(row, column) of flat index ``c`` in the (H, W) grid."""
        r, col = divmod(int(c), self.stride)
        return r - 1, col - 1


def torch_dtype_of(dtype: np.dtype) -> torch.dtype:
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        np.dtype(dtype)]

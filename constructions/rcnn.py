"""The RCNN with a memory layer (Definition 5) as a torch module.

    f(z) = sum( f_head( f_conv^(L)( f_mem(z) ) ) )

* memory layer: ``f_mem(z) = [W diag(z) | 1_{d_mem x l}]`` (grid of ``d_mem`` rows and
  ``d_in + l`` columns; cell ``(a, b)`` is ``W_ab z_b``, the ``l`` right columns are ones);
* recurrent convolution: one patch network applied to the 3x3 neighbourhood of every cell
  (padding value ``p`` outside the grid), the same weights at every cell and every one of
  the ``L`` iterations;
* head: a pixel-wise two-layer network on every cell, then the sum over the grid.

The shared weights come from :mod:`constructions.patchnet`; only ``W`` depends on ``d`` and
``m``. Shared weights are ``nn.Parameter``s with ``requires_grad=False`` by default, so SGD on
``W`` alone (Algorithm 1) is the natural thing to do and training them is one switch away.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from constructions.patchnet import PatchNetwork, PixelHead

DTYPES = {"float32": torch.float32, "float64": torch.float64,
          "float16": torch.float16, "bfloat16": torch.bfloat16}


def _to_tensor(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """Convert an exact (Fraction) array to ``dtype``, refusing any entry that would round."""
    flat = [float(v) for v in a.ravel()]
    t = torch.tensor(flat, dtype=torch.float64).reshape(a.shape).to(dtype)
    back = t.to(torch.float64).reshape(-1).tolist()
    for exact, got in zip(a.ravel(), back):
        if got != exact:  # Fraction == float compares exactly
            raise ValueError(f"weight {exact} is not exactly representable in {dtype}")
    return t


class RCNN(nn.Module):
    """Definition 5: a memory layer, ``L`` shared 3x3 patch-network layers, a pixel head.

    ``patch`` and ``head`` are exact weight sets; ``dtype`` must represent them exactly
    (checked). ``d_in``/``d_mem``/``l`` fix the memory layer; :meth:`rollout` runs the
    recurrent convolution on any grid, so the same module also runs machines on grids that
    do not come from a memory layer.
    """

    def __init__(
        self,
        patch: PatchNetwork,
        head: PixelHead,
        *,
        layers: int,
        padding: float,
        d_in: int = 1,
        d_mem: int = 1,
        l: int = 0,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if layers < 0:
            raise ValueError(f"layers must be >= 0, got {layers}")
        self.layers = layers
        self.padding = float(padding)
        self.checkpoint_every = 0
        """With ``n > 0``, a rollout that autograd records keeps only every ``n``-th grid and
        recomputes the layers in between during the backward pass (activation
        checkpointing): memory ``O((L / n + n) x cells x width)`` instead of
        ``O(L x cells x width)``, for about one extra forward pass. Values and gradients
        are the same computation, hence bit for bit the same."""
        self.l = l
        self.W = nn.Parameter(torch.zeros(d_mem, d_in, dtype=dtype))
        for name, a in patch.arrays().items():
            self.register_parameter(name, nn.Parameter(_to_tensor(a, dtype), requires_grad=False))
        for name, a in head.arrays().items():
            self.register_parameter(name, nn.Parameter(_to_tensor(a, dtype), requires_grad=False))

    # -- the pieces of Definition 5 ------------------------------------------------------
    def shared_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """Every parameter but the memory layer ``W``: the ``poly(s)`` shared weights."""
        for name, p in self.named_parameters():
            if name != "W":
                yield name, p

    @property
    def n_shared_parameters(self) -> int:
        return sum(p.numel() for _, p in self.shared_parameters())

    def memory(self, z: torch.Tensor) -> torch.Tensor:
        """``[W diag(z) | 1]`` for a batch ``z`` of shape (B, d_in): grids (B, d_mem, d_in + l)."""
        grid = self.W.unsqueeze(0) * z.unsqueeze(1)
        ones = torch.ones(z.shape[0], self.W.shape[0], self.l, dtype=grid.dtype)
        return torch.cat([grid, ones], dim=2)

    def patches(self, grid: torch.Tensor) -> torch.Tensor:
        """(B, H, W) -> (B, H, W, 9): each cell's 3x3 neighbourhood, row-major, padded by p."""
        B, H, W = grid.shape
        padded = torch.nn.functional.pad(grid, (1, 1, 1, 1), value=self.padding)
        return torch.stack(
            [padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)], dim=-1
        )

    def patch_network(self, x: torch.Tensor) -> torch.Tensor:
        """The shared patch network on an (N, 9) tensor of patches: (N,).

        ``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` with fused bias-add GEMMs and in-place
        ReLUs (autograd-safe: ReLU's backward only needs its output).
        """
        h = torch.addmm(self.b1, x, self.A1.T).relu_()
        h = torch.addmm(self.b2, h, self.A2.T).relu_()
        return torch.addmv(self.b3, h, self.A3[0])

    def layer(self, grid: torch.Tensor, max_cells: int = 1 << 14) -> torch.Tensor:
        """One recurrent-convolution layer on (B, H, W) grids.

        Cells are processed in chunks of about ``max_cells`` (whole grids of the batch when
        they are small, slices of the cell list otherwise) so the hidden activations stay in
        cache and memory stays bounded; the result does not depend on the chunking.
        """
        B, H, W = grid.shape
        per_grid = H * W
        if per_grid <= max_cells:
            step = max(1, max_cells // per_grid)
            outs = [self.patch_network(self.patches(grid[b:b + step]).reshape(-1, 9))
                    for b in range(0, B, step)]
        else:
            x = self.patches(grid).reshape(B * per_grid, 9)
            outs = [self.patch_network(c) for c in x.split(max_cells)]
        return torch.cat(outs).reshape(B, H, W)

    def rollout(self, grid: torch.Tensor, steps: int | None = None,
                keep: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """Apply the layer ``steps`` times (default ``self.layers``).

        Returns the final grid, or with ``keep=True`` the list of all ``steps + 1`` grids.
        """
        steps = self.layers if steps is None else steps
        if (self.checkpoint_every > 0 and not keep and torch.is_grad_enabled()
                and grid.requires_grad):
            done = 0
            while done < steps:
                n = min(self.checkpoint_every, steps - done)
                grid = checkpoint(self._layers, grid, n, use_reentrant=False)
                done += n
            return grid
        grids = [grid]
        for _ in range(steps):
            grid = self.layer(grid)
            if keep:
                grids.append(grid)
        return grids if keep else grid

    @torch.no_grad()
    def rollout_incremental(self, grid: torch.Tensor, steps: int | None = None,
                            stop_at_fixed_point: bool = True) -> tuple[torch.Tensor, int]:
        """:meth:`rollout` without gradients, recomputing only cells whose 3x3 patch changed.

        Exact, not an approximation: a cell's next value is the patch network applied to its
        patch, so a cell whose patch is the same as one layer earlier gets the same value as
        one layer earlier. Only cells next to a change (a Turing machine's head) are
        evaluated. With ``stop_at_fixed_point`` the loop ends once a layer changes nothing
        (every later layer would change nothing either). Returns the final grid and the
        number of layers actually evaluated.
        """
        steps = self.layers if steps is None else steps
        B, H, W = grid.shape
        dirty = torch.ones_like(grid, dtype=torch.bool)
        for j in range(steps):
            idx = dirty.reshape(-1).nonzero()[:, 0]
            if len(idx) == 0:
                if stop_at_fixed_point:
                    return grid, j
                continue
            x = self.patches(grid).reshape(-1, 9).index_select(0, idx)
            values = torch.cat([self.patch_network(c) for c in x.split(1 << 14)])
            new = grid.reshape(-1).clone()
            new[idx] = values
            new = new.reshape(B, H, W)
            changed = (new != grid).to(grid.dtype)
            dirty = torch.nn.functional.max_pool2d(changed[:, None], 3, 1, 1)[:, 0] > 0
            grid = new
        return grid, steps

    def _layers(self, grid: torch.Tensor, n: int) -> torch.Tensor:
        for _ in range(n):
            grid = self.layer(grid)
        return grid

    def head(self, grid: torch.Tensor) -> torch.Tensor:
        """The pixel-wise head on every cell: (B, H, W) -> (B, H, W)."""
        h = torch.relu(grid.unsqueeze(-1) @ self.U2.T + self.c2)
        return (h @ self.U1.T + self.c1).squeeze(-1)

    def readout(self, grid: torch.Tensor) -> torch.Tensor:
        """Head then sum over the grid: (B, H, W) -> (B,)."""
        return self.head(grid).sum(dim=(1, 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``f(z)`` of Definition 5 for a batch ``z`` of shape (B, d_in): shape (B,)."""
        return self.readout(self.rollout(self.memory(z)))

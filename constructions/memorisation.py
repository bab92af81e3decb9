"""Lemma 1 (1): shared weights under which Algorithm 1's SGD writes the training set into W.

This is the memorisation half of the paper's construction, on its own
(:mod:`constructions.learner` merges it with a learner machine; docs/algorithm1.md).
During SGD step ``i`` of Algorithm 1 the grid is ``f_mem([x; 1]) = [W diag(z) | 1]``: rows
``< i`` hold ``±1/3``, rows ``>= i`` hold 0, the ``l`` right columns hold 1. The shared patch
network reads only the cell and its north neighbour:

============================  ==================================  =====================
patch (north, centre)          next value                          slope in the centre
============================  ==================================  =====================
any, ``+1/3`` / ``-1/3``       ``FILLED_PLUS`` / ``FILLED_MINUS``   0
``±1/3`` or padding, ``0``     ``CARRIER + centre``                 1 (first empty row)
anything else, ``0``           ``EMPTY``                            0
any, ``1``                     ``WORK``                             0
any, a code ``c``              ``c`` (``CARRIER + v`` for carriers)  1 on carriers, else 0
============================  ==================================  =====================

Every slope in the north value is 0. The pixel head is ``v - CARRIER`` with slope 1 on the
carrier code and 0 with slope 0 on every other code. Hence, for ``L >= 1`` layers, the
output is exactly 0 and ``∂ŷ/∂G_ab`` is 1 on the first empty row (its data and label
columns) and 0 elsewhere, so one SGD step with ``η = 1/3`` on ``½(y - ŷ)²`` writes
``W_ib = y x_b / 3`` and ``W_{i,d+1} = y / 3`` (docs/paper.md §4).

The table is realised with exact values and exact Jacobians by
:func:`constructions.representation.realise` (appendix B.4.1).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import torch

from constructions.patchnet import CENTER, NORTH, PatchNetwork, PixelHead
from constructions.rcnn import RCNN
from constructions.representation import realise

PAD = Fraction(-1)
"""Padding value outside the grid: distinct from every raw value and every code."""
THIRD = Fraction(1, 3)
RAW = (-THIRD, Fraction(0), THIRD, Fraction(1))
FILLED_PLUS, FILLED_MINUS, CARRIER, EMPTY, WORK = (Fraction(c) for c in (2, 3, 4, 6, 8))
CODES = (FILLED_PLUS, FILLED_MINUS, CARRIER, EMPTY, WORK)
DOMAIN = tuple(sorted({PAD, *RAW, *CODES}))
LEARNING_RATE = THIRD


def memorisation_table() -> dict[tuple[Fraction, Fraction], tuple[Fraction, tuple]]:
    """The patch function on (north, centre), as values and (d/dnorth, d/dcentre)."""
    flat, slope = (Fraction(0), Fraction(0)), (Fraction(0), Fraction(1))
    table = {}
    for north in DOMAIN:
        for centre in DOMAIN:
            if centre == THIRD:
                table[north, centre] = (FILLED_PLUS, flat)
            elif centre == -THIRD:
                table[north, centre] = (FILLED_MINUS, flat)
            elif centre == 0:
                first_empty = north in (THIRD, -THIRD, PAD)
                table[north, centre] = (CARRIER, slope) if first_empty else (EMPTY, flat)
            elif centre == 1:
                table[north, centre] = (WORK, flat)
            elif centre == CARRIER:
                table[north, centre] = (CARRIER, slope)
            elif centre in CODES:
                table[north, centre] = (centre, flat)
            # centre == PAD never occurs (padding is outside the grid)
    return table


def _frac(a: list) -> np.ndarray:
    out = np.empty(len(a), dtype=object)
    out[:] = [Fraction(v) for v in a]
    return out


def carrier_head() -> PixelHead:
    """``U1 relu(U2 v + c2) + c1`` equal to ``v - CARRIER`` (slope 1) on the carrier code and
    to 0 (slope 0) on every other code: kinks at 3.5, 3.75, 4.25, 4.5, away from all codes."""
    c = CARRIER
    breaks = [c - Fraction(1, 2), c - Fraction(1, 4), c + Fraction(1, 4), c + Fraction(1, 2)]
    U2 = _frac([1, 1, 1, 1]).reshape(4, 1)
    c2 = _frac([-b for b in breaks])
    U1 = _frac([-1, 2, -2, 1]).reshape(1, 4)
    return PixelHead(U2, c2, U1, _frac([0]))


@functools.cache
def memorisation_weights() -> tuple[PatchNetwork, PixelHead]:
    """The shared patch network (reading north and centre of the 3x3 patch) and the head."""
    net = realise(memorisation_table(), [DOMAIN, DOMAIN])
    h1 = net.A1.shape[0]
    A1 = np.empty((h1, 9), dtype=object)
    A1[...] = Fraction(0)
    A1[:, NORTH] = net.A1[:, 0]
    A1[:, CENTER] = net.A1[:, 1]
    patch = PatchNetwork(A1, net.b1, net.A2, net.b2, net.A3, net.b3,
                         tuple(net.units1), tuple(net.units2))
    return patch, carrier_head()


def memorisation_rcnn(d: int, m: int, layers: int, l: int = 1,
                      dtype: torch.dtype = torch.float64) -> RCNN:
    """Definition 5's RCNN for ``d`` features and ``m`` examples (``m + 1`` memory rows, the
    dummy example included) with the memorisation weights; ``W = 0``."""
    if layers < 1:
        raise ValueError("memorisation needs at least one layer (the conversion layer)")
    patch, head = memorisation_weights()
    return RCNN(patch, head, layers=layers, padding=float(PAD), d_in=d + 1, d_mem=m + 1,
                l=l, dtype=dtype)


def algorithm1(model: RCNN, X: np.ndarray, y: np.ndarray, lr: float = float(LEARNING_RATE),
               on_step=None) -> torch.Tensor:
    """Algorithm 1 literally: append the dummy example ``(1_d, 1)``, then one SGD step per
    example on ``W`` alone (``torch.optim.SGD``, loss ``½(y - ŷ)²``, gradients through all
    layers by ``loss.backward()``). ``on_step(i, y_hat, W)`` sees each step; returns ``W``."""
    dtype = model.W.dtype
    Xd = np.vstack([np.asarray(X, dtype=np.int64).reshape(-1, model.W.shape[1] - 1),
                    np.ones((1, model.W.shape[1] - 1), dtype=np.int64)])
    yd = np.append(np.asarray(y, dtype=np.int64), 1)
    with torch.no_grad():
        model.W.zero_()
    opt = torch.optim.SGD([model.W], lr=lr)
    for i, (x, label) in enumerate(zip(Xd, yd)):
        z = torch.tensor(np.append(x, 1), dtype=dtype)[None]
        opt.zero_grad()
        y_hat = model(z)[0]
        loss = 0.5 * (float(label) - y_hat) ** 2
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(i, y_hat.detach(), model.W.detach().clone())
    return model.W.detach()


def memorisation_errors(model: RCNN, X: np.ndarray, y: np.ndarray,
                        lr: float = float(LEARNING_RATE)) -> list[str]:
    """Run Algorithm 1 and list every violation of Lemma 1 (1): after step ``i`` rows
    ``<= i`` of ``W`` equal ``y x / 3`` and ``y / 3`` (in the model's dtype, ``1/3`` rounded
    once), later rows are 0, and the output during the step was exactly 0."""
    dtype = model.W.dtype
    third = torch.tensor(1 / 3, dtype=dtype)
    X = np.asarray(X, dtype=np.int64)
    rows = np.vstack([np.hstack([X * np.asarray(y)[:, None], np.asarray(y)[:, None]]),
                      np.ones((1, X.shape[1] + 1), dtype=np.int64)])
    expected = third * torch.tensor(rows, dtype=dtype)
    errors: list[str] = []

    def check(i: int, y_hat: torch.Tensor, W: torch.Tensor) -> None:
        if y_hat.item() != 0:
            errors.append(f"step {i + 1}: output {y_hat.item()!r}, expected exactly 0")
        if not torch.equal(W[:i + 1], expected[:i + 1]):
            bad = (W[:i + 1] != expected[:i + 1]).nonzero()[0].tolist()
            errors.append(f"step {i + 1}: W{tuple(bad)} = {W[tuple(bad)].item()!r}, "
                          f"expected {expected[tuple(bad)].item()!r}")
        if W[i + 1:].abs().sum().item() != 0:
            errors.append(f"step {i + 1}: rows after {i + 1} are not all 0")

    algorithm1(model, X, y, lr=lr, on_step=check)
    return errors

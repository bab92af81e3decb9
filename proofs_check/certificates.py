"""Certificates: a finite, complete proof that a patch network computes its local rule on
every valid local view, in floating point, in any summation order.

Paper: §4.2 and Lemma 1 (2) (one layer = one step) and Lemma 1 (1) (the Jacobians SGD
relies on). A rollout of a Definition-5 RCNN is correct from *every* valid configuration,
by induction on the number of layers, once the patch network returns the specified next
value on every valid *view* (the values of the 3x3 neighbourhood of one cell of a valid
configuration). Views are finite, so this is a finite statement; this module proves it for
a given network, a set of valid views and a specification, without sampling anything.

Views come in *families* (:class:`Family`): each row of a family fixes some positions and
lets the others range over *free* value sets; the specified value (and, optionally, the
specified Jacobian) is the same on every view of a row. Rule modules
(:mod:`proofs_check.certificates_views`) build the families of a Turing machine, a learner
network and the circuit interpreter.

The proof (:func:`certify_patch`), for ``f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3``:

1. *Exact arithmetic.* Every float weight and every domain value is a dyadic rational
   ``n 2^e``; the analysis works on integers at a common scale, so nothing in it rounds.
2. *Blocks.* Each layer-1 unit ``j`` reads the positions where row ``A1[j]`` is non-zero.
   Positions read together form a *block*; for the compiled networks every unit reads one
   position, so every block is a single position. A position that no row of ``A1`` reads
   cannot change the output (its products are exact zeros), so views need not vary it: this
   is the sound reduction that lets 5 read cells stand for 9.
3. *Tables.* A layer-1 unit is a function of its block, tabulated exactly on the block's
   values. Layer-2 unit ``i``'s pre-activation is ``z_i(x) = b2_i + sum_B Z_iB(x_B)`` with
   ``Z_iB`` the block's share, also tabulated exactly: ``z_i`` is *separable* over blocks.
4. *Per row of a family*, over all its views at once: ``min z_i`` and ``max z_i`` are sums
   of per-block minima and maxima (separability). A unit with ``max z_i <= 0`` is *dead*
   (output 0 on every view of the row), with ``min z_i >= 0`` it is *linear* (its
   contribution is separable too), otherwise it is *mixed*; a mixed unit whose ``z_i``
   varies in a single block contributes that block's function ``relu(...)``. Then the
   output is ``C + sum_B G_B(x_B)`` on the row's views, its exact minimum and maximum are
   ``C + sum_B min G_B`` and ``C + sum_B max G_B``, and the row is proven iff both equal the
   specified value. A row where a mixed unit varies in two blocks is enumerated instead.
5. *Floating point, any summation order.* A dot product whose terms are all multiples of
   ``2^g`` and whose absolute sum (bias included) is below ``2^(p+g)`` (``p`` significand
   bits, exponent in range) is computed exactly by any order of additions, with or without
   fused multiply-adds: every partial sum is a multiple of ``2^g`` below ``2^(p+g)``, hence
   representable. The analysis bounds both per row (granularity from the terms that can be
   non-zero, absolute sum from per-block maxima), for every unit of every layer. Where a
   unit is not exact, its float error is bounded by ``gamma_K`` times its absolute sum
   (``K`` terms, ``gamma_K = K u / (1 - K u)``, valid for any order) plus the propagated
   input errors; a unit whose exact pre-activation is below minus that bound outputs an
   exact 0 in float (how the learner's first layer absorbs the rounding of ``1/3``). A row
   whose exactness cannot be shown this way is enumerated.
6. *Jacobians* (families that specify one): every unit must be strictly away from its kink
   (by more than its float error) on every view of the row, so autograd's derivative is
   the true one and the activation pattern is fixed on the row; the Jacobian along a block
   then depends on that block's values only and is checked exactly on all of them, and
   its float computation (autograd's backward sums) is shown exact by the same bound.
7. *Enumeration fallback* (rows flagged above, or networks whose blocks are too large to
   tabulate, such as dense SGD-trained networks): every view of the row is evaluated with
   the executor's own operations (:func:`executor_forward`: ``addmm``, in-place ReLU,
   ``addmv``, in the file's dtype on the CPU) and compared bit for bit. That proves the
   statement for that evaluation order only, and the verdict says so.

A counterexample is always re-evaluated on its own, exactly (rational arithmetic, no
tables) and with the executor, so a reported disagreement never rests on the tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch

MANTISSA = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
"""Significand bits, the implicit bit included."""
_EMIN = {"float16": -24, "bfloat16": -133, "float32": -149, "float64": -1074}
"""Exponent of the smallest subnormal: every multiple of ``2^g`` with ``g >= EMIN`` below
``2^(p+g)`` is representable."""
_EMAX = {"float16": 16, "bfloat16": 128, "float32": 128, "float64": 1024}
"""Every representable magnitude is below ``2^EMAX``."""
TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                "float32": torch.float32, "float64": torch.float64}

PATCH_TENSORS = ("A1", "b1", "A2", "b2", "A3", "b3")
HEAD_TENSORS = ("U2", "c2", "U1", "c1")

ENUMERATION_LIMIT = 20_000_000
"""Views the fallback enumerates at most (per network); beyond it a row stays unproven."""
JOINT_LIMIT = 1 << 16
"""Largest joint domain of a block the analysis tabulates (else: enumeration)."""
_NO_EXP = 1 << 20  # granularity exponent of an exact zero (imposes nothing)
_SAFE = 1 + 2.0**-30
"""Bounds computed in float64 (sums of at most millions of non-negative terms, each
relative error below 2^-52) are inflated by this factor so they stay upper bounds."""


# --------------------------------------------------------------------------- dyadic helpers
def dyadic_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, e)`` with ``a == n * 2.0**e`` exactly, ``n`` int64 odd (or 0, ``e = _NO_EXP``).

    ``a`` must be finite float64 (every float32/float16 value is one)."""
    a = np.asarray(a, dtype=np.float64)
    m, e = np.frexp(a)
    n = (m * 2.0**53).astype(np.int64)
    low = n & -n  # lowest set bit (a power of two), 0 for n == 0
    tz = np.where(n != 0, np.log2(np.where(low == 0, 1, np.abs(low))).astype(np.int64), 0)
    odd = np.where(n != 0, n >> tz, 0)
    exp = np.where(n != 0, e.astype(np.int64) - 53 + tz, _NO_EXP)
    return odd, exp


def granularity(a: np.ndarray) -> np.ndarray:
    """Per entry: the largest ``g`` with the entry a multiple of ``2^g`` (``_NO_EXP`` for 0)."""
    return dyadic_parts(a)[1]


def scaled(a: np.ndarray, E: int) -> np.ndarray:
    """The integers ``a / 2^E`` (exact; int64 when they fit, Python ints otherwise).

    Raises ``ValueError`` if an entry is not a multiple of ``2^E``."""
    odd, exp = dyadic_parts(a)
    nz = odd != 0
    shift = np.where(nz, exp - E, 0)
    if np.any(shift < 0):
        raise ValueError(f"an entry is not a multiple of 2^{E}")
    bits = np.where(nz, shift + np.ceil(np.log2(np.abs(odd) + 1)), 0)
    if bits.size == 0 or bits.max() < 62:
        return np.where(nz, odd << np.minimum(shift, 62), 0).astype(np.int64)
    out = np.empty(a.shape, dtype=object)
    flat_o, flat_s = odd.ravel(), shift.ravel()
    out.ravel()[:] = [int(o) << int(s) for o, s in zip(flat_o, flat_s)]
    return out


def representable(a: np.ndarray, dtype: str) -> bool:
    """Whether every entry of ``a`` (float64) is a finite value of ``dtype``."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return False
    back = torch.as_tensor(a).to(TORCH_DTYPES[dtype]).to(torch.float64).numpy()
    return bool(np.array_equal(back, a))


def _fits(bound: float) -> bool:
    return bound < 2.0**61


def _add(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """Exact integer ``a + b`` (Python ints when int64 could overflow)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != object and b.dtype != object:
        bound = float(np.abs(a).max(initial=0)) + float(np.abs(b).max(initial=0))
        if _fits(bound):
            return a + b
    return a.astype(object) + b.astype(object)


def _imatmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer product of two integer matrices (BLAS in float64 when every partial
    sum is below 2^53, int64 when below 2^62, Python ints otherwise)."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    if a.dtype != object and b.dtype != object:
        amax = float(np.abs(a).max(initial=0))
        bmax = float(np.abs(b).max(initial=0))
        bound = amax * bmax * a.shape[1]
        if bound < 2.0**52:
            return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
        if _fits(bound):
            return a @ b
    return a.astype(object) @ b.astype(object)


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """``a * 2^k`` for integer arrays (``k >= 0``), exact."""
    if k == 0:
        return a
    if a.dtype != object:
        mx = float(np.abs(a).max(initial=0))
        if _fits(mx * 2.0**k):
            return a * (1 << k)
        a = a.astype(object)
    return a * (1 << k)


# --------------------------------------------------------------------------- the executor
def executor_tensors(arrays: dict[str, np.ndarray], dtype: str) -> dict[str, torch.Tensor]:
    """The patch tensors as the executor holds them (``dtype``, CPU)."""
    return {k: torch.as_tensor(np.asarray(arrays[k], dtype=np.float64)).to(TORCH_DTYPES[dtype])
            for k in PATCH_TENSORS}


def executor_forward(t: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The patch network exactly as :meth:`constructions.rcnn.RCNN.patch_network` evaluates
    it (same operations in the same order; a test checks it bit for bit): (N, 9) -> (N,)."""
    h = torch.addmm(t["b1"], x, t["A1"].T).relu_()
    h = torch.addmm(t["b2"], h, t["A2"].T).relu_()
    return torch.addmv(t["b3"], h, t["A3"][0])


def executor_values(arrays: dict[str, np.ndarray], dtype: str, views: np.ndarray,
                    jacobian: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Float values (and autograd Jacobians) of the executor on ``views`` (N, 9), as float64."""
    t = executor_tensors(arrays, dtype)
    x = torch.as_tensor(np.asarray(views, dtype=np.float64)).to(TORCH_DTYPES[dtype])
    if not jacobian:
        with torch.no_grad():
            return executor_forward(t, x).to(torch.float64).numpy(), None
    x.requires_grad_(True)
    y = executor_forward(t, x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return (y.detach().to(torch.float64).numpy(), g.to(torch.float64).numpy())


def exact_forward(arrays: dict[str, np.ndarray], view: Sequence[float]
                  ) -> tuple[Fraction, tuple[Fraction, ...]]:
    """The network's exact value and (ReLU'(0) = 0) Jacobian at one view, in rationals:
    no tables, no floats; used to confirm every counterexample independently."""
    fr = {k: np.vectorize(Fraction, otypes=[object])(np.asarray(arrays[k], dtype=np.float64))
          for k in PATCH_TENSORS}
    x = np.array([Fraction(float(v)) for v in view], dtype=object)
    z1 = fr["A1"] @ x + fr["b1"]
    m1 = np.array([v > 0 for v in z1])
    h1 = np.where(m1, z1, Fraction(0))
    z2 = fr["A2"] @ h1 + fr["b2"]
    m2 = np.array([v > 0 for v in z2])
    h2 = np.where(m2, z2, Fraction(0))
    y = fr["A3"][0] @ h2 + fr["b3"][0]
    g2 = np.where(m2, fr["A3"][0], Fraction(0))
    g1 = np.where(m1, fr["A2"].T @ g2, Fraction(0))
    jac = tuple(Fraction(v) for v in fr["A1"].T @ g1)
    return Fraction(y), jac


# --------------------------------------------------------------------------- views
@dataclass
class Family:
    """Valid views sharing one specified value per row.

    ``rows[r]`` gives the values of the positions ``fixed``; every other position listed in
    ``free`` takes every value of its set, independently. Every view of row ``r`` must map
    to ``spec[r]``; with ``jacobian`` set, its Jacobian (9 entries) must be that vector.
    Positions in neither are not part of the view: the network must not read them.
    """

    name: str
    fixed: tuple[int, ...]
    rows: np.ndarray
    free: dict[int, np.ndarray]
    spec: np.ndarray
    jacobian: np.ndarray | None = None
    filler: float = 0.0
    """Value shown at unread positions when a view is printed (any value: unread)."""

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.float64).reshape(-1, len(self.fixed))
        self.spec = np.asarray(self.spec, dtype=np.float64).reshape(-1)
        self.free = {int(p): np.unique(np.asarray(v, dtype=np.float64))
                     for p, v in self.free.items()}
        if len(self.rows) != len(self.spec):
            raise ValueError(f"family {self.name}: {len(self.rows)} rows, {len(self.spec)} specs")
        if set(self.fixed) & set(self.free):
            raise ValueError(f"family {self.name}: a position is both fixed and free")

    @property
    def positions(self) -> set[int]:
        return set(self.fixed) | set(self.free)

    @property
    def per_row(self) -> int:
        return int(np.prod([len(v) for v in self.free.values()], dtype=np.int64))

    @property
    def views(self) -> int:
        return len(self.rows) * self.per_row

    def values_at(self, p: int) -> np.ndarray:
        if p in self.free:
            return self.free[p]
        if p in self.fixed:
            return np.unique(self.rows[:, self.fixed.index(p)])
        return np.array([self.filler])

    def row_views(self, r: int) -> np.ndarray:
        """Every view of row ``r`` as an (n, 9) array."""
        free = sorted(self.free)
        grids = np.meshgrid(*[self.free[p] for p in free], indexing="ij") if free else []
        n = self.per_row
        out = np.full((n, 9), self.filler)
        for p, v in zip(self.fixed, self.rows[r]):
            out[:, p] = v
        for p, g in zip(free, grids):
            out[:, p] = g.ravel()
        return out


def _view(family: Family, r: int, chosen: dict[int, float]) -> list[float]:
    out = [family.filler] * 9
    for p, v in zip(family.fixed, family.rows[r]):
        out[p] = float(v)
    for p, v in chosen.items():
        out[p] = float(v)
    return out


# --------------------------------------------------------------------------- results
@dataclass
class PartResult:
    """The outcome on one set of families: views covered, how, and the first
    counterexample (if any)."""

    name: str
    views: int = 0
    views_symbolic: int = 0
    views_enumerated: int = 0
    rows: int = 0
    counterexample: dict[str, Any] | None = None
    unproven: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return self.counterexample is None and not self.unproven

    def summary(self) -> dict[str, Any]:
        return {"views": self.views, "proven_symbolically": self.views_symbolic,
                "enumerated": self.views_enumerated, "rows": self.rows,
                "proven": self.proven, "seconds": round(self.seconds, 3),
                **({"counterexample": self.counterexample} if self.counterexample else {}),
                **({"unproven": self.unproven} if self.unproven else {}),
                **({"notes": self.notes} if self.notes else {})}


# --------------------------------------------------------------------------- the analysis
def _dot_exact(absum: np.ndarray, g: np.ndarray, p: int, dtype: str) -> np.ndarray:
    """Whether a sum of terms, all multiples of ``2^g``, with absolute sum ``absum`` (float64
    upper estimate) is computed exactly by any summation order in a ``p``-bit format."""
    absum = np.asarray(absum, dtype=np.float64)
    return ((absum * _SAFE < np.ldexp(1.0, np.minimum(p + g, 1023)))
            & (g >= _EMIN[dtype]) & (p + g <= _EMAX[dtype])) | (absum == 0)


def _error_bound(absum: np.ndarray, K: np.ndarray | int, p: int, dtype: str) -> np.ndarray:
    """A bound on ``|fl(z) - z|`` for a dot product of ``K`` non-zero terms (bias included)
    with absolute sum ``absum``, in any summation order, with or without fused
    multiply-adds: ``gamma_K absum`` (``gamma_K = K u / (1 - K u)``, ``u = 2^-p``) plus ``K``
    times the subnormal spacing for underflow."""
    u = 2.0**-p
    K = np.asarray(K, dtype=np.float64)
    return (K * u / (1 - K * u)) * np.asarray(absum) * _SAFE + K * 2.0**_EMIN[dtype]


def _min_exp(a: np.ndarray) -> int:
    """The finest granularity exponent of the non-zero entries of ``a`` (0 if none, and
    never above 0, so integer scales stay integers)."""
    g = granularity(np.asarray(a, dtype=np.float64))
    return min(int(g.min(initial=_NO_EXP)), 0)


class _Layer1:
    """Layer 1 on every block's joint domain: exact pre-activations (integers at scale
    ``S1``), float error bounds of the outputs (0 where exact or exactly 0), granularity
    exponents of the outputs, and whether a pre-activation is at (or within its error of)
    the kink."""

    def __init__(self, arrays: dict[str, np.ndarray], dtype: str,
                 domains: dict[int, np.ndarray]) -> None:
        A1, b1 = arrays["A1"], arrays["b1"]
        self.h1 = A1.shape[0]
        p = MANTISSA[dtype]
        self.domains = domains
        self.read = sorted(domains)
        scopes = [tuple(int(q) for q in np.flatnonzero(A1[j])) for j in range(self.h1)]
        parent = {q: q for q in self.read}

        def find(q: int) -> int:
            while parent[q] != q:
                q = parent[q]
            return q
        for sc in scopes:
            for q in sc[1:]:
                parent[find(q)] = find(sc[0])
        groups: dict[int, list[int]] = {}
        for q in self.read:
            groups.setdefault(find(q), []).append(q)
        self.blocks = [tuple(sorted(g)) for g in groups.values()]
        block_of = {q: b for b, g in enumerate(self.blocks) for q in g}
        self.sizes = [int(np.prod([len(domains[q]) for q in g])) for g in self.blocks]
        self.too_large = max(self.sizes, default=0) > JOINT_LIMIT
        if self.too_large:
            return
        self.joint = []
        for g in self.blocks:
            mesh = np.meshgrid(*[domains[q] for q in g], indexing="ij")
            self.joint.append(np.stack([m.ravel() for m in mesh], axis=1))
        self.units = [[j for j in range(self.h1) if scopes[j] and block_of[scopes[j][0]] == b]
                      for b in range(len(self.blocks))]
        self.const_h1 = {j: max(float(b1[j]), 0.0) for j in range(self.h1) if not scopes[j]}
        eA1 = _min_exp(A1)
        self.eA1 = eA1
        self.A1i = scaled(A1, eA1)
        gdom = min((_min_exp(domains[q]) for q in self.read), default=0)
        self.S1 = min(eA1 + gdom, _min_exp(b1))
        gA1, gb1 = granularity(A1), granularity(b1)
        self.z: dict[tuple[int, int], np.ndarray] = {}
        self.err: dict[tuple[int, int], np.ndarray] = {}
        self.gexp: dict[tuple[int, int], np.ndarray] = {}
        self.kink: dict[tuple[int, int], np.ndarray] = {}
        for b, g in enumerate(self.blocks):
            X = self.joint[b]
            eX = _min_exp(X)
            Xi = scaled(X, eX)
            gX = granularity(X)
            cols = list(g)
            for j in self.units[b]:
                w = A1[j, cols]
                prod = _imatmul(Xi, self.A1i[j, cols].reshape(-1, 1))[:, 0]
                z = _add(_shift(prod, eX + eA1 - self.S1), scaled(b1[j:j + 1], self.S1))
                tg = np.where((X != 0) & (w != 0)[None, :], gX + gA1[j, cols][None, :], _NO_EXP)
                gmin = np.minimum(tg.min(axis=1), gb1[j])
                absum = np.abs(X) @ np.abs(w) + abs(b1[j])
                exact = _dot_exact(absum, gmin, p, dtype)
                K = np.count_nonzero(w) + 1
                e = np.where(exact, 0.0, _error_bound(absum, K, p, dtype))
                zf = z.astype(np.float64) * 2.0**self.S1
                self.z[b, j] = z
                # dead by a margin: the float pre-activation is negative, the output exactly 0
                self.err[b, j] = np.where(zf + e * _SAFE < 0, 0.0, e)
                self.gexp[b, j] = np.where(zf > 0, granularity(zf), _NO_EXP)
                self.kink[b, j] = (zf == 0) | (np.abs(zf) <= e * _SAFE)


class _Layer2:
    """Each block's share of every layer-2 pre-activation on the block's joint domain:
    ``Z`` (exact, scale ``S2``), ``AZ = |A2| h1`` (exact), ``EZ`` (propagated layer-1 error
    bound) and ``GZ`` (finest granularity exponent of the non-zero terms)."""

    def __init__(self, arrays: dict[str, np.ndarray], l1: _Layer1) -> None:
        A2, b2 = arrays["A2"], arrays["b2"]
        self.h2 = A2.shape[0]
        gA2 = granularity(A2)
        nz = A2 != 0
        self.eA2 = _min_exp(A2)
        self.A2i = scaled(A2, self.eA2)
        A2abs = scaled(np.abs(A2), self.eA2)
        # units reading no position output relu(b1_j) on every view: their terms join the
        # bias (exactly, term by term for the granularity)
        const = sorted(l1.const_h1)
        hc = np.array([l1.const_h1[j] for j in const])
        self.S2 = min(self.eA2 + l1.S1, _min_exp(b2))
        k = self.eA2 + l1.S1 - self.S2
        self.b2 = scaled(b2, self.S2)
        self.b2_abs = np.abs(b2)
        self.b2_gexp = granularity(b2)
        if const:
            hci = scaled(hc, l1.S1)
            self.b2 = _add(self.b2, _shift(_imatmul(self.A2i[:, const], hci.reshape(-1, 1))[:, 0],
                                           k))
            self.b2_abs = self.b2_abs + np.abs(A2[:, const]) @ hc * (1 + 2.0**-30)
            tg = np.where((A2[:, const] != 0) & (hc != 0)[None, :],
                          gA2[:, const] + granularity(hc)[None, :], _NO_EXP)
            self.b2_gexp = np.minimum(self.b2_gexp, tg.min(axis=1))
        self.K = np.count_nonzero(A2, axis=1) + 1
        self.Z: list[np.ndarray] = []
        self.AZ: list[np.ndarray] = []
        self.EZ: list[np.ndarray] = []
        self.GZ: list[np.ndarray] = []
        for b in range(len(l1.blocks)):
            units = l1.units[b]
            J = len(l1.joint[b])
            if not units:
                self.Z.append(np.zeros((self.h2, J), dtype=np.int64))
                self.AZ.append(np.zeros((self.h2, J)))
                self.EZ.append(np.zeros((self.h2, J)))
                self.GZ.append(np.full((self.h2, J), _NO_EXP, dtype=np.int64))
                continue
            H = np.stack([np.where(l1.z[b, j] > 0, l1.z[b, j], 0) for j in units])
            self.Z.append(_shift(_imatmul(self.A2i[:, units], H), k))
            Hf = H.astype(np.float64) * 2.0**l1.S1
            self.AZ.append(np.abs(A2[:, units]) @ Hf * _SAFE)
            self.EZ.append(np.abs(A2[:, units]) @ np.stack([l1.err[b, j] for j in units])
                           * _SAFE)
            G = np.full((self.h2, J), _NO_EXP, dtype=np.int64)
            for j in units:
                rows = np.flatnonzero(nz[:, j])
                if len(rows):
                    G[rows] = np.minimum(G[rows], gA2[rows, j][:, None] + l1.gexp[b, j][None, :])
            self.GZ.append(G)
        del A2abs
        bound = float(np.abs(self.b2).max(initial=0)) + sum(
            float(np.abs(Z).max(initial=0)) for Z in self.Z)
        self.small = self.b2.dtype != object and all(Z.dtype != object for Z in self.Z) and \
            _fits(bound)
        self.any_err = any(bool(np.any(E)) for E in self.EZ)


def _family_indices(fam: Family, l1: _Layer1) -> list[np.ndarray]:
    """For every block, the joint-domain indices of each row's views: shape (R, m) (or
    (1, m) when the same for every row); the views of row ``r`` take all ``m`` of them."""
    R = len(fam.rows)
    out = []
    for g in l1.blocks:
        dims = [len(l1.domains[q]) for q in g]
        radix = [int(np.prod(dims[i + 1:], dtype=np.int64)) for i in range(len(g))]
        idx = np.zeros((1, 1), dtype=np.int64)
        for q, rad in zip(g, radix):
            dom = l1.domains[q]
            if q in fam.fixed:
                d = np.searchsorted(dom, fam.rows[:, fam.fixed.index(q)])
                idx = idx + (d * rad)[:, None]
            else:
                d = np.searchsorted(dom, fam.free[q])
                idx = (idx[:, :, None] + (d * rad)[None, None, :]).reshape(idx.shape[0], -1)
        out.append(idx if idx.shape[0] == R else np.broadcast_to(idx, (1, idx.shape[1])))
    return out


def _row_idx(idx: np.ndarray, r: int) -> np.ndarray:
    return idx[r] if idx.shape[0] > 1 else idx[0]


@dataclass
class _RowStats:
    """Per (layer-2 unit, row) facts over all views of each row of a family."""

    zmin: np.ndarray
    zmax: np.ndarray
    zmin_f: np.ndarray
    zmax_f: np.ndarray
    exact: np.ndarray
    E: np.ndarray
    gexp: np.ndarray
    dead: np.ndarray
    linear: np.ndarray
    varies: np.ndarray  # (h2, R, blocks)


class Analysis:
    """The exact tables of one network on the position domains of some families
    (steps 1-3 of the module docstring); :meth:`family` does steps 4-6."""

    def __init__(self, arrays: dict[str, np.ndarray], dtype: str,
                 families: Sequence[Family]) -> None:
        self.arrays = {k: np.asarray(arrays[k], dtype=np.float64) for k in PATCH_TENSORS}
        self.dtype = dtype
        self.p = MANTISSA[dtype]
        for k, v in self.arrays.items():
            if not representable(v, dtype):
                raise ValueError(f"{k} holds a value that is not a finite {dtype}")
        read = {int(q) for q in np.flatnonzero(np.any(self.arrays["A1"] != 0, axis=0))}
        for fam in families:
            for q in fam.positions:
                if not representable(fam.values_at(q), dtype):
                    raise ValueError(f"family {fam.name}: a value at position {q} is not a "
                                     f"{dtype} (the network could not be given it)")
            missing = read - fam.positions
            if missing:
                raise ValueError(f"family {fam.name} does not vary position(s) "
                                 f"{sorted(missing)}, which the network reads")
        domains = {q: np.unique(np.concatenate([f.values_at(q) for f in families]))
                   for q in read}
        self.l1 = _Layer1(self.arrays, dtype, domains)
        self.structural = self.l1.too_large
        if self.structural:
            return
        self.l2 = _Layer2(self.arrays, self.l1)
        A3 = self.arrays["A3"][0]
        self.gA3 = granularity(A3)
        self.eA3 = _min_exp(A3)
        self.A3i = scaled(A3, self.eA3)
        self.b3 = float(self.arrays["b3"][0])

    def _stats(self, idx: list[np.ndarray], R: int) -> _RowStats:
        l2, p, dtype = self.l2, self.p, self.dtype
        h2, nb = l2.h2, len(idx)
        zmin = np.repeat(l2.b2[:, None], R, axis=1)
        zmax = zmin.copy()
        absum = np.repeat(l2.b2_abs[:, None], R, axis=1)
        gexp = np.repeat(l2.b2_gexp[:, None], R, axis=1)
        err = np.zeros((h2, R))
        varies = np.zeros((h2, R, nb), dtype=bool)
        add = np.add if l2.small else _add
        for b in range(nb):
            one = idx[b].shape[1] == 1  # one joint value per row: no reduction needed
            ib = idx[b][:, 0] if one else idx[b]
            Zb = l2.Z[b][:, ib]
            lo, hi = (Zb, Zb) if one else (Zb.min(axis=2), Zb.max(axis=2))
            zmin = add(zmin, lo)
            zmax = add(zmax, hi)
            if not one:
                varies[:, :, b] = lo != hi
            absum = absum + (l2.AZ[b][:, ib] if one else l2.AZ[b][:, ib].max(axis=2))
            gexp = np.minimum(gexp, l2.GZ[b][:, ib] if one else l2.GZ[b][:, ib].min(axis=2))
            if l2.any_err:
                err = err + (l2.EZ[b][:, ib] if one else l2.EZ[b][:, ib].max(axis=2))
        zmin_f = zmin.astype(np.float64) * 2.0**l2.S2
        zmax_f = zmax.astype(np.float64) * 2.0**l2.S2
        exact = (err == 0) & _dot_exact(absum, gexp, p, dtype)
        E = np.where(exact, 0.0, err + _error_bound(absum + err, l2.K[:, None], p, dtype))
        dead = np.where(exact, zmax <= 0, zmax_f + E * _SAFE < 0)
        linear = ~dead & np.where(exact, zmin >= 0, zmin_f - E * _SAFE > 0)
        return _RowStats(zmin, zmax, zmin_f, zmax_f, exact, E, gexp, dead, linear, varies)

    def family(self, fam: Family) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
        """Rows of ``fam`` proven (exact values, and Jacobians if specified, for any
        summation order), rows to enumerate, and the first exact disagreement (if any)."""
        l1, l2 = self.l1, self.l2
        R = len(fam.rows)
        idx = _family_indices(fam, l1)
        st = self._stats(idx, R)
        mixed = ~st.dead & ~st.linear
        nvar = st.varies.sum(axis=2)
        needs_enum = np.any(~st.dead & ~st.exact, axis=0) | np.any(mixed & (nvar >= 2), axis=0)
        # the output on a row's views: C + sum_B G_B(x_B)
        S3 = min(self.eA3 + l2.S2, _min_exp(np.array([self.b3])), _min_exp(fam.spec))
        k3 = self.eA3 + l2.S2 - S3
        coef = np.where(st.linear, self.A3i[:, None], 0)
        if self.A3i.dtype == object:
            coef = coef.astype(object)
        C = _add(_shift(_imatmul(coef.T, l2.b2.reshape(-1, 1))[:, 0], k3),
                 scaled(np.array([self.b3]), S3))
        lo, hi = C.copy(), C.copy()
        arg_lo, arg_hi = [], []
        for b in range(len(l1.blocks)):
            G = self._block_sum(coef, l2.Z[b], idx[b])
            sel = mixed & (nvar == 1) & st.varies[:, :, b]
            if np.any(sel):
                G = np.array(np.broadcast_to(G, (R, G.shape[1])))
                for i, r in zip(*np.nonzero(sel)):
                    zb = l2.Z[b][i, _row_idx(idx[b], r)]
                    z = _add(zb, st.zmin[i, r] - zb.min())
                    G[r] = _add(G[r], np.where(z > 0, z, 0) * self.A3i[i])
            G = _shift(np.asarray(G), k3)
            G = np.broadcast_to(G, (R, G.shape[1]))
            arg_lo.append(np.argmin(G, axis=1))
            arg_hi.append(np.argmax(G, axis=1))
            lo = _add(lo, G.min(axis=1))
            hi = _add(hi, G.max(axis=1))
        # float exactness of the output sum, any order
        live = ~st.dead
        A3 = self.arrays["A3"][0]
        absum3 = np.abs(A3) @ np.where(live, np.maximum(st.zmax_f, 0.0), 0.0) * _SAFE + \
            abs(self.b3)
        g3 = np.where(live & (A3 != 0)[:, None], self.gA3[:, None] + st.gexp, _NO_EXP)
        g3 = np.minimum(g3.min(axis=0), granularity(np.array([self.b3]))[0])
        exact3 = _dot_exact(absum3, g3, self.p, self.dtype)
        # a disagreement in exact arithmetic is a float counterexample where the float
        # computation is exact; elsewhere the float output may still round to the spec
        spec = scaled(fam.spec, S3)
        wrong = ((lo != spec) | (hi != spec)) & ~needs_enum & exact3
        counter = None
        if np.any(wrong):
            r = int(np.flatnonzero(wrong)[0])
            args = arg_hi if hi[r] != spec[r] else arg_lo
            chosen = {q: float(fam.free[q][0]) for q in fam.free}
            for b, g in enumerate(l1.blocks):
                X = l1.joint[b][_row_idx(idx[b], r)[int(args[b][r])]]
                chosen.update({q: float(v) for q, v in zip(g, X) if q in fam.free})
            counter = {"family": fam.name, "view": _view(fam, r, chosen),
                       "expected": float(fam.spec[r])}
        jac_ok = np.ones(R, dtype=bool)
        if fam.jacobian is not None:
            jac_ok = self._jacobian_rows(fam, idx, st)
        proven = ~needs_enum & ~wrong & exact3 & jac_ok
        enum = ~wrong & ~proven
        return proven, enum, counter

    @staticmethod
    def _block_sum(coef: np.ndarray, Z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``sum_i coef[i, r] Z[i, idx[r, :]]`` for every row: (R, m) (or (1, m) when the
        same for every row... never: coef differs per row), exact."""
        if idx.shape[0] == 1:
            return _imatmul(coef.T, Z[:, idx[0]])
        out = []
        step = max(1, (1 << 22) // max(1, Z.shape[0] * idx.shape[1]))
        for s in range(0, idx.shape[0], step):
            sub, c = Z[:, idx[s:s + step]], coef[:, s:s + step]
            big = sub.dtype == object or c.dtype == object or not _fits(
                float(np.abs(c).max(initial=0)) * float(np.abs(sub).max(initial=0)) * Z.shape[0])
            if big:
                sub, c = sub.astype(object), c.astype(object)
            out.append(np.einsum("hr,hrm->rm", c, sub))
        return np.concatenate(out, axis=0)

    def _jacobian_rows(self, fam: Family, idx: list[np.ndarray], st: _RowStats) -> np.ndarray:
        """Rows whose every view has exactly the Jacobian ``fam.jacobian`` in float, any order:
        every unit strictly away from its kink, then autograd's sums shown exact."""
        l1, l2, p, dtype = self.l1, self.l2, self.p, self.dtype
        A1, A2, A3 = self.arrays["A1"], self.arrays["A2"], self.arrays["A3"][0]
        gA1, gA2 = granularity(A1), granularity(A2)
        want = np.asarray(fam.jacobian, dtype=np.float64)
        inblock = {q for g in l1.blocks for q in g}
        if any(want[q] != 0 for q in range(9) if q not in inblock):
            return np.zeros(len(fam.rows), dtype=bool)
        strict2 = np.where(st.exact, (st.zmax < 0) | (st.zmin > 0),
                           (st.zmax_f + st.E < 0) | (st.zmin_f - st.E > 0))
        ok = np.all(strict2, axis=0)
        eJ = l1.eA1 + l2.eA2 + self.eA3
        for r in np.flatnonzero(ok):
            act = st.linear[:, r]
            # autograd: g1 = A2^T (A3 * act), exact in any order?
            t = np.abs(A2[act] * A3[act][:, None])
            tg = np.where(t != 0, gA2[act] + self.gA3[act][:, None], _NO_EXP)
            g1_gran = tg.min(axis=0, initial=_NO_EXP)
            if not np.all(_dot_exact(t.sum(axis=0), g1_gran, p, dtype)):
                ok[r] = False
                continue
            g1 = _imatmul(l2.A2i[act].T, self.A3i[act].reshape(-1, 1))[:, 0]
            g1f = np.abs(A2[act]).T @ np.abs(A3[act])
            for b, g in enumerate(l1.blocks):
                units = l1.units[b]
                cols = list(g)
                sel = _row_idx(idx[b], r)
                if any(l1.kink[b, j][sel].any() for j in units):
                    ok[r] = False
                    break
                on = np.stack([l1.z[b, j][sel] > 0 for j in units]) if units else \
                    np.zeros((0, len(sel)), dtype=bool)                     # (u, m)
                w = l1.A1i[units][:, cols] * g1[units][:, None] if units else \
                    np.zeros((0, len(cols)), dtype=np.int64)                # (u, |B|)
                jac = _imatmul(np.asarray(w).T, on.astype(np.int64))       # (|B|, m)
                target = scaled(want[cols], eJ)
                if np.any(jac != target[:, None]):
                    ok[r] = False
                    break
                absj = (np.abs(A1[units][:, cols]) * g1f[units][:, None]).T @ on
                gj = np.where((A1[units][:, cols] != 0) & (g1f[units] != 0)[:, None],
                              gA1[units][:, cols] + g1_gran[units][:, None], _NO_EXP)
                gmin = np.where(on[:, None, :], gj[:, :, None], _NO_EXP).min(axis=0,
                                                                             initial=_NO_EXP)
                if not np.all(_dot_exact(absj, gmin, p, dtype)):
                    ok[r] = False
                    break
        return ok


# --------------------------------------------------------------------------- the driver
def certify_patch(arrays: dict[str, np.ndarray], dtype: str, families: Sequence[Family],
                  name: str = "patch", enumeration_limit: int = ENUMERATION_LIMIT
                  ) -> PartResult:
    """Prove (or refute) that the patch network ``arrays`` evaluated in ``dtype`` returns
    ``spec`` (and the specified Jacobian) on every view of ``families`` (module docstring).

    Returns the views covered symbolically and by enumeration, and the first counterexample
    (``view``, ``expected``, the float value ``computed`` by the executor and the ``exact``
    rational value) or, when neither a proof nor a counterexample is reached, the reason."""
    start = time.perf_counter()
    res = PartResult(name)
    fams = [f for f in families if len(f.rows)]
    res.views = sum(f.views for f in fams)
    res.rows = sum(len(f.rows) for f in fams)
    ana = Analysis(arrays, dtype, fams)
    to_enum: list[tuple[Family, np.ndarray]] = []
    if ana.structural:
        res.notes.append("blocks too large to tabulate (layer-1 units read several "
                         "positions): every view enumerated in the executor's order")
        to_enum = [(f, np.ones(len(f.rows), dtype=bool)) for f in fams]
    else:
        step = max(1, (1 << 20) // max(1, ana.l2.h2))
        for whole in fams:
            for f in _row_chunks(whole, step):
                proven, enum, counter = ana.family(f)
                res.views_symbolic += int(proven.sum()) * f.per_row
                if counter is not None and res.counterexample is None:
                    res.counterexample = _confirm(arrays, dtype, counter, f)
                if enum.any():
                    to_enum.append((f, enum))
    if res.counterexample is None and to_enum:
        total = sum(int(m.sum()) * f.per_row for f, m in to_enum)
        if total > enumeration_limit:
            res.unproven = (f"{total:,} views could not be proven symbolically and exceed the "
                            f"enumeration limit of {enumeration_limit:,}")
        else:
            res.counterexample = _enumerate(arrays, dtype, to_enum, res)
            if res.views_enumerated:
                res.notes.append(f"{res.views_enumerated:,} views enumerated in {dtype} with "
                                 f"the executor's addmm/ReLU/addmv on the CPU (proven for that "
                                 f"evaluation order)")
    res.seconds = time.perf_counter() - start
    return res


def _row_chunks(fam: Family, step: int) -> list[Family]:
    """``fam`` split into families of at most ``step`` rows (bounded memory)."""
    if len(fam.rows) <= step:
        return [fam]
    return [Family(fam.name, fam.fixed, fam.rows[s:s + step], fam.free, fam.spec[s:s + step],
                   fam.jacobian, fam.filler) for s in range(0, len(fam.rows), step)]


def _confirm(arrays: dict[str, np.ndarray], dtype: str, counter: dict[str, Any],
             fam: Family) -> dict[str, Any]:
    """Re-evaluate a counterexample exactly and with the executor (independent of tables)."""
    view = counter["view"]
    exact, jac = exact_forward(arrays, view)
    got, gj = executor_values(arrays, dtype, np.array([view]), jacobian=fam.jacobian is not None)
    out = {"family": counter["family"], "view": view, "expected": counter["expected"],
           "computed": float(got[0]), "exact": str(exact)}
    if exact == Fraction(counter["expected"]) or float(got[0]) == counter["expected"]:
        raise AssertionError(f"internal error: the tables disagree with the network at {view}")
    return out


def _enumerate(arrays: dict[str, np.ndarray], dtype: str,
               jobs: list[tuple[Family, np.ndarray]], res: PartResult) -> dict[str, Any] | None:
    for fam, mask in jobs:
        rows = np.flatnonzero(mask)
        batch = max(1, 200_000 // max(1, fam.per_row))
        for s in range(0, len(rows), batch):
            rr = rows[s:s + batch]
            views = np.concatenate([fam.row_views(int(r)) for r in rr])
            want = np.repeat(fam.spec[rr], fam.per_row)
            jac = fam.jacobian is not None
            got, g = executor_values(arrays, dtype, views, jacobian=jac)
            bad = got != want
            kind = "value"
            if jac and not bad.any():
                bad = np.any(g != np.asarray(fam.jacobian)[None, :], axis=1)
                kind = "jacobian"
            res.views_enumerated += len(views)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                exact, ej = exact_forward(arrays, views[i])
                out = {"family": fam.name, "view": [float(v) for v in views[i]],
                       "expected": float(want[i]), "computed": float(got[i]),
                       "exact": str(exact)}
                if kind == "jacobian":
                    out.update(what="jacobian", expected_jacobian=list(map(float, fam.jacobian)),
                               computed_jacobian=[float(v) for v in g[i]])
                return out
    return None


# --------------------------------------------------------------------------- the head
def certify_head(arrays: dict[str, np.ndarray], dtype: str, values: np.ndarray,
                 targets: np.ndarray, slopes: np.ndarray | None = None) -> PartResult:
    """The pixel head ``U1 relu(U2 v + c2) + c1`` on every cell value ``values``: exactly
    ``targets`` (and, if given, autograd slopes ``slopes``, every unit away from its kink)
    in ``dtype``. One input, so every value is checked directly in exact arithmetic, and
    the float computation is shown exact in any order by the bound of step 5; a value where
    that bound fails is evaluated with torch instead (and the verdict says so)."""
    start = time.perf_counter()
    res = PartResult("head", views=len(values), rows=len(values))
    U2 = np.asarray(arrays["U2"], dtype=np.float64)[:, 0]
    c2 = np.asarray(arrays["c2"], dtype=np.float64)
    U1 = np.asarray(arrays["U1"], dtype=np.float64)[0]
    c1 = float(np.asarray(arrays["c1"], dtype=np.float64)[0])
    p = MANTISSA[dtype]
    gU1, gU2, gc2 = granularity(U1), granularity(U2), granularity(c2)
    gc1 = granularity(np.array([c1]))[0]
    fr = np.vectorize(Fraction, otypes=[object])
    fU2, fc2, fU1 = fr(U2), fr(c2), fr(U1)
    for i, v in enumerate(np.asarray(values, dtype=np.float64)):
        z = fU2 * Fraction(float(v)) + fc2
        on = np.array([x > 0 for x in z], dtype=bool)
        val = sum(fU1[on] * z[on], Fraction(0)) + Fraction(c1)
        slope = sum(fU1[on] * fU2[on], Fraction(0))
        # float: z_k = U2_k v + c2_k, then sum_k U1_k h_k + c1, and the slope sum_k U1_k U2_k
        gz = np.minimum(np.where((U2 != 0) & (v != 0), gU2 + granularity(np.array([v]))[0],
                                 _NO_EXP), gc2)
        ok = bool(np.all(_dot_exact(np.abs(U2 * v) + np.abs(c2), gz, p, dtype)))
        h = np.array([float(x) if x > 0 else 0.0 for x in z])
        g_out = min(int(np.where((h != 0) & (U1 != 0), gU1 + granularity(h), _NO_EXP)
                        .min(initial=_NO_EXP)), int(gc1))
        ok &= bool(_dot_exact(np.abs(U1) @ h + abs(c1), np.array(g_out), p, dtype))
        if slopes is not None:
            t = np.where(on, np.abs(U1 * U2), 0.0)
            g_s = int(np.where(t != 0, gU1 + gU2, _NO_EXP).min(initial=_NO_EXP))
            ok &= bool(_dot_exact(t.sum(), np.array(g_s), p, dtype))
            ok &= not any(x == 0 for x in z)
        bad = val != Fraction(float(targets[i])) or (
            slopes is not None and slope != Fraction(float(slopes[i])))
        if ok and not bad:
            res.views_symbolic += 1
            continue
        t = {k: torch.as_tensor(np.asarray(arrays[k], dtype=np.float64)).to(TORCH_DTYPES[dtype])
             for k in HEAD_TENSORS}
        x = torch.tensor([[float(v)]], dtype=TORCH_DTYPES[dtype], requires_grad=True)
        y = (torch.relu(x @ t["U2"].T + t["c2"]) @ t["U1"].T + t["c1"])[0, 0]
        (g,) = torch.autograd.grad(y, x)
        res.views_enumerated += 1
        float_bad = float(y) != float(targets[i]) or (
            slopes is not None and float(g) != float(slopes[i]))
        if bad or float_bad:
            res.counterexample = {"family": "head", "view": [float(v)],
                                  "expected": float(targets[i]), "computed": float(y),
                                  "exact": str(val)}
            if slopes is not None:
                res.counterexample.update(expected_slope=float(slopes[i]),
                                          computed_slope=float(g[0, 0]), exact_slope=str(slope))
            break
    if res.views_enumerated and res.counterexample is None:
        res.notes.append(f"{res.views_enumerated} head values evaluated with torch in {dtype} "
                         f"(the any-order bound did not hold there)")
    res.seconds = time.perf_counter() - start
    return res

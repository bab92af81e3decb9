"""Exact dyadic arithmetic for certificates: every float is ``n 2^e``, so tables of a network
can be kept as integers at a common scale, and float exactness can be decided exactly.

The floating-point facts used by :mod:`proofs_check.certificates` (``p`` significand bits,
implicit bit included):

* every integer multiple of ``2^g`` below ``2^(p+g)`` in magnitude is representable when
  ``g`` is at least the exponent of the smallest subnormal and ``p + g`` at most the
  format's overflow exponent; so a dot product whose terms are all multiples of ``2^g``
  and whose absolute sum is below ``2^(p+g)`` is computed exactly by *any* order of
  additions, with or without fused multiply-adds (every partial sum is such a multiple);
* otherwise ``|fl(z) - z| <= gamma_K sum|t_i| + K eta`` for ``K`` non-zero terms in any
  order (``gamma_K = K u / (1 - K u)``, ``u = 2^-p``, ``eta`` the subnormal spacing).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

MANTISSA = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
"""Significand bits, the implicit bit included."""
EMIN = {"float16": -24, "bfloat16": -133, "float32": -149, "float64": -1074}
"""Exponent of the smallest subnormal."""
EMAX = {"float16": 16, "bfloat16": 128, "float32": 128, "float64": 1024}
"""Every finite magnitude is below ``2^EMAX``."""
TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                "float32": torch.float32, "float64": torch.float64}

NO_EXP = 1 << 20
"""Granularity exponent of an exact zero (it imposes nothing)."""
SAFE = 1 + 2.0**-30
"""Float64 upper bounds (sums of at most millions of non-negative terms, relative error below
``2^-52`` each) are multiplied by this factor so they stay upper bounds."""


def dyadic_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, e)`` with ``a == n * 2.0**e`` exactly, ``n`` odd int64 (or 0 with ``e = NO_EXP``).
    ``a`` must be finite; every float16/32/64 value is a float64."""
    a = np.asarray(a, dtype=np.float64)
    m, e = np.frexp(a)
    n = (m * 2.0**53).astype(np.int64)
    low = n & -n
    tz = np.where(n != 0, np.log2(np.where(low == 0, 1, np.abs(low))).astype(np.int64), 0)
    odd = np.where(n != 0, n >> tz, 0)
    return odd, np.where(n != 0, e.astype(np.int64) - 53 + tz, NO_EXP)


def granularity(a: np.ndarray) -> np.ndarray:
    """Per entry: the largest ``g`` with the entry a multiple of ``2^g`` (``NO_EXP`` for 0)."""
    return dyadic_parts(a)[1]


def min_exp(a: np.ndarray, floor: int = 0) -> int:
    """The finest granularity exponent among the non-zero entries of ``a``, and never above
    ``floor`` (0 by default, so integer scales stay integers)."""
    g = granularity(np.asarray(a, dtype=np.float64))
    return min(int(g.min(initial=NO_EXP)), floor)


def fits(bound: float) -> bool:
    """Whether integers up to ``bound`` in magnitude are safe in int64 (with headroom)."""
    return bound < 2.0**61


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
    out = np.empty(np.shape(a), dtype=object)
    out.ravel()[:] = [int(o) << int(s) for o, s in zip(odd.ravel(), shift.ravel())]
    return out


def iadd(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """Exact integer ``a + b`` (Python ints when int64 could overflow)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != object and b.dtype != object and fits(
            float(np.abs(a).max(initial=0)) + float(np.abs(b).max(initial=0))):
        return a + b
    return a.astype(object) + b.astype(object)


def imul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer ``a * b`` elementwise."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != object and b.dtype != object and fits(
            float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0))):
        return a * b
    return a.astype(object) * b.astype(object)


def imatmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer matrix product: float64 BLAS when every partial sum is below 2^52 (then
    any summation order is exact), int64 when below 2^61, Python ints otherwise."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    if a.dtype != object and b.dtype != object:
        bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * a.shape[1]
        if bound < 2.0**52:
            return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
        if fits(bound):
            return a @ b
    return a.astype(object) @ b.astype(object)


def ishift(a: np.ndarray, k: int) -> np.ndarray:
    """``a * 2^k`` for an integer array and ``k >= 0``, exact."""
    a = np.asarray(a)
    if k == 0:
        return a
    if a.dtype != object and k < 61 and fits(math.ldexp(float(np.abs(a).max(initial=0)), k)):
        return a * (1 << k)
    return a.astype(object) * (1 << k)  # Python ints: exact at any size (extreme weights)


def to_float(a: np.ndarray, E: int) -> np.ndarray:
    """``a 2^E`` as float64 (rounded to nearest; exact below 2^53; beyond the float64 range,
    +-inf, as a float computation would overflow)."""
    a = np.asarray(a)
    if a.dtype != object:
        return a.astype(np.float64) * 2.0**E
    scale = Fraction(2) ** E
    return np.array([_big_to_float(int(x), scale) for x in a.reshape(-1)],
                    dtype=np.float64).reshape(a.shape)


def _big_to_float(x: int, scale: Fraction) -> float:
    try:
        return float(x * scale)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def representable(a: np.ndarray, dtype: str) -> bool:
    """Whether every entry of ``a`` (float64) is a finite value of ``dtype``."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return False
    back = torch.as_tensor(a).to(TORCH_DTYPES[dtype]).to(torch.float64).numpy()
    return bool(np.array_equal(back, a))


def exact_below(absum: np.ndarray, scale: int, g: np.ndarray, dtype: str) -> np.ndarray:
    """Whether sums of terms, all multiples of ``2^g``, whose absolute sum is the integer
    ``absum 2^scale``, are exact in ``dtype`` in any order: ``absum 2^scale < 2^(p+g)``, with
    ``g`` and ``p + g`` inside the format's exponent range (decided exactly)."""
    p = MANTISSA[dtype]
    absum = np.asarray(absum)
    g = np.asarray(g, dtype=np.int64)
    t = p + g - scale  # need absum < 2^t
    in_range = (g >= EMIN[dtype]) & (p + g <= EMAX[dtype])
    zero = absum == 0
    if absum.dtype != object:
        af = absum.astype(np.float64)
        if float(np.abs(af).max(initial=0)) < 2.0**52:
            below = af < np.ldexp(1.0, np.clip(t, -1100, 1023))
            return (below & in_range) | zero
    flat_a, flat_t = np.broadcast_arrays(absum, t)
    below = np.array([int(x) < (1 << int(s)) if s >= 0 else int(x) == 0
                      for x, s in zip(flat_a.ravel(), flat_t.ravel())],
                     dtype=bool).reshape(flat_a.shape)
    return (below & in_range) | zero


def exact_below_float(absum: np.ndarray, g: np.ndarray, dtype: str) -> np.ndarray:
    """:func:`exact_below` for a float64 upper estimate of the absolute sum (inflated by
    :data:`SAFE`)."""
    p = MANTISSA[dtype]
    absum = np.asarray(absum, dtype=np.float64)
    g = np.asarray(g, dtype=np.int64)
    return ((absum * SAFE < np.ldexp(1.0, np.clip(p + g, -1100, 1023)))
            & (g >= EMIN[dtype]) & (p + g <= EMAX[dtype])) | (absum == 0)


def error_bound(absum: np.ndarray, K: np.ndarray | int, dtype: str) -> np.ndarray:
    """An upper bound on ``|fl(z) - z|`` for a dot product of ``K`` non-zero terms (bias
    included) with absolute sum ``absum``, in any summation order (module docstring)."""
    u = 2.0**-MANTISSA[dtype]
    K = np.asarray(K, dtype=np.float64)
    return (K * u / (1 - K * u)) * np.asarray(absum, dtype=np.float64) * SAFE \
        + K * 2.0**EMIN[dtype]

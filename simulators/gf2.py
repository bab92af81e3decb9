"""Linear algebra over GF(2): row reduction, rank, solutions, null spaces.

This is the algorithm behind the paper's motivating example (§3): a parity label
``y = prod_{i in S} x_i`` becomes, with bits ``u_i = 1 iff x_i = -1`` and ``v = 1 iff y = -1``,
the linear equation ``v = XOR_{i in S} u_i`` over GF(2), so ``S`` is found by Gaussian
elimination. The parity learner in :mod:`simulators.learners` is built on
:func:`solve_greedy`.

Conventions (all functions):

* Matrices are array-likes of shape ``(rows, cols)`` whose entries are exactly ``0`` or ``1``
  (ints or bools); anything else raises ``ValueError``. Results are ``numpy.uint8`` arrays.
* :func:`rref` computes the *reduced* row echelon form, which is unique: each pivot is the
  leftmost nonzero entry of its row, pivot columns increase down the rows, and every pivot is
  the only 1 in its column. Zero rows come last.
* A solution with free variables is reported with **every free (non-pivot) variable set to 0**.
  That solution is supported on the pivot columns, and it is the unique solution minimising
  the integer ``sum_j s_j * 2**j`` (i.e. comparing solutions with the *last* coordinate most
  significant). Reason: a nonzero null-space vector's highest set coordinate is always a free
  column, and adding it to the free-zero solution turns that 0 into a 1 while leaving the
  higher coordinates alone. It is *not* in general the solution of least Hamming weight
  (finding that is the NP-hard decoding problem).
* :func:`nullspace` returns one basis vector per free column ``f`` (in increasing order of
  ``f``): 1 at ``f``, 0 at the other free columns, and the value forced at each pivot column.
  This is the same basis sympy's ``DomainMatrix.nullspace`` gives over ``GF(2)``.

No torch; numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "GreedySolution",
    "as_gf2",
    "nullspace",
    "rank",
    "rref",
    "solve",
    "solve_greedy",
]


def as_gf2(A: ArrayLike, *, ndim: int = 2, name: str = "A") -> np.ndarray:
    """``A`` as a ``uint8`` array with ``ndim`` dimensions; raises ``ValueError`` unless 0/1."""
    arr = np.asarray(A)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} entries must be 0 or 1 (GF(2)), got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)
    if np.any(bad):
        found = arr[bad].flat[0].item()
        raise ValueError(f"{name} entries must be 0 or 1 (GF(2)), found {found!r}")
    return arr.astype(np.uint8)


def _rref_inplace(R: np.ndarray, n_cols: int) -> tuple[int, ...]:
    """Reduce ``R`` (uint8, modified in place) on its first ``n_cols`` columns; return pivots."""
    pivots: list[int] = []
    row = 0
    n_rows = R.shape[0]
    for col in range(n_cols):
        if row == n_rows:
            break
        candidates = np.flatnonzero(R[row:, col])
        if candidates.size == 0:
            continue
        p = row + int(candidates[0])
        if p != row:
            R[[row, p]] = R[[p, row]]
        others = np.flatnonzero(R[:, col])
        others = others[others != row]
        if others.size:
            R[others] ^= R[row]
        pivots.append(col)
        row += 1
    return tuple(pivots)


def rref(A: ArrayLike) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(R, pivots)``: the reduced row echelon form of ``A`` over GF(2) and its pivot columns.

    ``R`` has ``A``'s shape (``uint8``); ``pivots[r]`` is the column of row ``r``'s leading 1, so
    ``len(pivots)`` is the rank and rows ``len(pivots):`` of ``R`` are zero. ``A`` is not changed.
    """
    R = as_gf2(A).copy()
    return R, _rref_inplace(R, R.shape[1])


def rank(A: ArrayLike) -> int:
    """The rank of ``A`` over GF(2)."""
    return len(rref(A)[1])


def nullspace(A: ArrayLike) -> np.ndarray:
    """A basis of ``{s : A s = 0}`` over GF(2), as the rows of a ``(cols - rank, cols)`` array.

    Row ``k`` belongs to the ``k``-th free column ``f`` (increasing): it is 1 at ``f``, 0 at every
    other free column, and at pivot column ``pivots[r]`` it is ``R[r, f]``.
    """
    R, pivots = rref(A)
    n = R.shape[1]
    free = [j for j in range(n) if j not in set(pivots)]
    N = np.zeros((len(free), n), dtype=np.uint8)
    for k, f in enumerate(free):
        N[k, f] = 1
        for r, p in enumerate(pivots):
            N[k, p] = R[r, f]
    return N


def solve(A: ArrayLike, b: ArrayLike) -> np.ndarray | None:
    """A solution ``s`` of ``A s = b`` over GF(2), or ``None`` if the system is inconsistent.

    Free variables are set to 0 (see the module docstring: the solution minimising
    ``sum_j s_j 2**j``). ``A`` is ``(m, n)``, ``b`` has length ``m``; ``s`` is ``uint8``, length
    ``n``.
    """
    A_ = as_gf2(A)
    b_ = as_gf2(b, ndim=1, name="b")
    m, n = A_.shape
    if b_.shape[0] != m:
        raise ValueError(f"b has length {b_.shape[0]}, but A has {m} rows")
    M = np.concatenate([A_, b_[:, None]], axis=1)
    pivots = _rref_inplace(M, n)
    r = len(pivots)
    if np.any(M[r:, n]):
        return None
    s = np.zeros(n, dtype=np.uint8)
    for row, p in enumerate(pivots):
        s[p] = M[row, n]
    return s


@dataclass(frozen=True)
class GreedySolution:
    """Result of :func:`solve_greedy`.

    ``solution``: the free-zero solution (``uint8``, length ``n``) of the kept rows;
    ``kept``/``dropped``: row indices (increasing) that were kept / dropped as contradicting
    earlier kept rows; ``rank``: rank of the kept rows, which equals the rank of all of ``A``
    (a dropped row is a combination of kept rows); ``pivots``: pivot columns of that system.
    """

    solution: np.ndarray
    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    rank: int
    pivots: tuple[int, ...]

    @property
    def consistent(self) -> bool:
        """Whether the whole system ``A s = b`` is consistent (nothing was dropped)."""
        return not self.dropped

    @property
    def determined(self) -> bool:
        """Whether the kept rows have a unique solution (full column rank)."""
        return self.rank == self.solution.shape[0]


def _to_int(bits: Sequence[int] | np.ndarray) -> int:
    """Pack a 0/1 vector into an int, entry ``j`` at bit ``j``."""
    value = 0
    for j in np.flatnonzero(np.asarray(bits)):
        value |= 1 << int(j)
    return value


def solve_greedy(A: ArrayLike, b: ArrayLike) -> GreedySolution:
    """Solve ``A s = b`` on the rows that are consistent with the rows kept before them.

    Rows are taken in order; a row is *kept* unless, together with the rows kept so far, it makes
    the system inconsistent (its coefficients are a GF(2) combination of kept rows but its
    right-hand side disagrees); then it is *dropped*. The kept set is maximal (adding any dropped
    row makes it inconsistent) and is the lexicographically first such set in row order; on a
    consistent system nothing is dropped and the result equals :func:`solve`. The solution is the
    free-zero one of the kept rows. Runs online in ``O(m * n)`` big-integer operations.
    """
    A_ = as_gf2(A)
    b_ = as_gf2(b, ndim=1, name="b")
    m, n = A_.shape
    if b_.shape[0] != m:
        raise ValueError(f"b has length {b_.shape[0]}, but A has {m} rows")
    rhs_bit = 1 << n
    # basis[c]: an augmented row (coefficients in bits 0..n-1, rhs at bit n) whose lowest set
    # coefficient bit is c; every basis row has a distinct lowest bit (echelon form).
    basis: dict[int, int] = {}
    kept: list[int] = []
    dropped: list[int] = []
    coeff_mask = rhs_bit - 1
    for i in range(m):
        row = _to_int(A_[i]) | (rhs_bit if b_[i] else 0)
        while row & coeff_mask:
            low = (row & -row).bit_length() - 1
            if low not in basis:
                break
            row ^= basis[low]
        if row & coeff_mask:
            basis[(row & -row).bit_length() - 1] = row
            kept.append(i)
        elif row & rhs_bit:
            dropped.append(i)
        else:
            kept.append(i)
    # Back-substitution: clear each pivot column from every other basis row (highest first).
    pivots = sorted(basis)
    for c in reversed(pivots):
        for c2 in pivots:
            if c2 < c and basis[c2] >> c & 1:
                basis[c2] ^= basis[c]
    solution = np.zeros(n, dtype=np.uint8)
    for c in pivots:
        solution[c] = basis[c] >> n & 1
    return GreedySolution(solution, tuple(kept), tuple(dropped), len(pivots), tuple(pivots))

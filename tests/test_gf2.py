"""GF(2) row reduction, cross-checked against sympy's DomainMatrix over GF(2)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy import GF
from sympy.polys.matrices import DomainMatrix

from simulators.gf2 import as_gf2, nullspace, rank, rref, solve, solve_greedy

F2 = GF(2)

# --------------------------------------------------------------------------- helpers


def to_sympy(A: np.ndarray) -> DomainMatrix:
    rows = [[F2(int(v)) for v in row] for row in A.tolist()]
    return DomainMatrix(rows, A.shape, F2)


def from_sympy(M: DomainMatrix) -> np.ndarray:
    return np.array([[int(v) % 2 for v in row] for row in M.to_list()], dtype=np.uint8).reshape(
        M.shape
    )


def sympy_rref(A: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    R, pivots = to_sympy(A).rref()
    return from_sympy(R), tuple(int(p) for p in pivots)


def random_matrix(seed: int, rows: int, cols: int, kind: str) -> np.ndarray:
    """Random 0/1 matrix; ``kind`` selects full random, low rank, or repeated rows."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 2, size=(rows, cols), dtype=np.uint8)
    if kind == "low_rank":
        r = int(rng.integers(0, min(rows, cols) + 1))
        B = rng.integers(0, 2, size=(rows, r))
        C = rng.integers(0, 2, size=(r, cols))
        return ((B @ C) % 2).astype(np.uint8)
    base = rng.integers(0, 2, size=(max(1, rows // 2), cols), dtype=np.uint8)
    return base[rng.integers(0, base.shape[0], size=rows)]


matrices = st.builds(
    random_matrix,
    st.integers(0, 2**32 - 1),
    st.integers(1, 9),
    st.integers(1, 9),
    st.sampled_from(["random", "low_rank", "repeated"]),
)


def all_vectors(n: int) -> np.ndarray:
    """All of GF(2)^n, row ``a`` holding the bits of ``a`` (entry j = bit j)."""
    a = np.arange(1 << n)[:, None]
    return ((a >> np.arange(n)) & 1).astype(np.uint8)


def matmul2(A: np.ndarray, s: np.ndarray) -> np.ndarray:
    return (A.astype(np.int64) @ s.astype(np.int64)) % 2


# --------------------------------------------------------------------------- rref, rank, nullspace


@given(matrices)
def test_rref_matches_sympy(A: np.ndarray) -> None:
    R, pivots = rref(A)
    R_ref, pivots_ref = sympy_rref(A)
    assert pivots == pivots_ref
    assert R.dtype == np.uint8
    np.testing.assert_array_equal(R, R_ref)
    assert rank(A) == to_sympy(A).rank() == len(pivots)


@given(matrices)
def test_rref_is_reduced_echelon_and_same_row_space(A: np.ndarray) -> None:
    R, pivots = rref(A)
    r = len(pivots)
    assert not R[r:].any()
    assert list(pivots) == sorted(set(pivots))
    for row, p in enumerate(pivots):
        assert not R[row, :p].any()
        assert R[:, p].tolist() == [int(k == row) for k in range(R.shape[0])]
    # Same row space: stacking A under R does not raise the rank.
    assert rank(np.vstack([R, A])) == r


@given(matrices)
def test_nullspace_matches_sympy(A: np.ndarray) -> None:
    N = nullspace(A)
    n = A.shape[1]
    assert N.shape == (n - rank(A), n)
    assert not matmul2(A, N.T).any()
    if N.shape[0]:
        assert rank(N) == N.shape[0]
        np.testing.assert_array_equal(N, from_sympy(to_sympy(A).nullspace()))


def test_rref_does_not_modify_input_and_accepts_bools() -> None:
    A = np.array([[0, 1], [1, 1]], dtype=np.int64)
    R, pivots = rref(A.astype(bool))
    np.testing.assert_array_equal(A, [[0, 1], [1, 1]])
    np.testing.assert_array_equal(R, np.eye(2, dtype=np.uint8))
    assert pivots == (0, 1)


def test_empty_shapes() -> None:
    R, pivots = rref(np.zeros((0, 3), dtype=int))
    assert R.shape == (0, 3) and pivots == ()
    np.testing.assert_array_equal(nullspace(np.zeros((0, 3), dtype=int)), np.eye(3))
    np.testing.assert_array_equal(solve(np.zeros((0, 2), dtype=int), []), [0, 0])
    g = solve_greedy(np.zeros((0, 2), dtype=int), [])
    assert g.kept == g.dropped == () and g.rank == 0 and g.consistent and not g.determined


@pytest.mark.parametrize(
    ("A", "message"),
    [
        ([[0, 2]], "A entries must be 0 or 1 (GF(2)), found 2"),
        ([[0, -1]], "A entries must be 0 or 1 (GF(2)), found -1"),
        ([[0.5, 1]], "A entries must be 0 or 1 (GF(2)), found 0.5"),
        ([0, 1], "A must have 2 dimension(s), got shape (2,)"),
        ([["1"]], "A entries must be 0 or 1 (GF(2)), got dtype <U1"),
    ],
)
def test_bad_matrices(A: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        rref(A)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_as_gf2_accepts_exact_floats() -> None:
    np.testing.assert_array_equal(as_gf2([[1.0, 0.0]]), [[1, 0]])


# --------------------------------------------------------------------------- solve


@given(matrices, st.integers(0, 2**32 - 1))
def test_solve_consistent_gives_free_zero_minimal_solution(A: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    s0 = rng.integers(0, 2, size=A.shape[1], dtype=np.uint8)
    b = matmul2(A, s0)
    s = solve(A, b)
    assert s is not None and s.dtype == np.uint8
    np.testing.assert_array_equal(matmul2(A, s), b)
    _, pivots = rref(A)
    free = [j for j in range(A.shape[1]) if j not in pivots]
    assert not s[free].any()
    # Brute force: s is the solution with the least sum_j s_j 2**j.
    V = all_vectors(A.shape[1])
    sols = V[(matmul2(A, V.T).T == b).all(axis=1)]
    weights = sols.astype(np.int64) @ (1 << np.arange(A.shape[1]))
    np.testing.assert_array_equal(s, sols[np.argmin(weights)])
    assert len(sols) == 2 ** len(free)


@given(matrices, st.integers(0, 2**32 - 1))
def test_solve_none_iff_inconsistent_per_sympy(A: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 2, size=A.shape[0], dtype=np.uint8)
    s = solve(A, b)
    augmented = np.concatenate([A, b[:, None]], axis=1)
    consistent = to_sympy(augmented).rank() == to_sympy(A).rank()
    assert (s is not None) == consistent
    if s is not None:
        np.testing.assert_array_equal(matmul2(A, s), b)


def test_solve_hand_examples() -> None:
    # x0 + x1 = 1: pivot 0, free 1 -> (1, 0), not the lexicographically smaller (0, 1).
    np.testing.assert_array_equal(solve([[1, 1]], [1]), [1, 0])
    assert solve([[1, 1], [1, 1]], [1, 0]) is None
    assert solve([[0, 0]], [1]) is None
    np.testing.assert_array_equal(solve([[0, 0]], [0]), [0, 0])
    with pytest.raises(ValueError, match="b has length 1, but A has 2 rows"):
        solve([[1], [0]], [1])


# --------------------------------------------------------------------------- solve_greedy


def reference_greedy(A: np.ndarray, b: np.ndarray) -> tuple[list[int], list[int]]:
    """Keep row i iff the kept rows plus row i are consistent (checked with :func:`solve`)."""
    kept: list[int] = []
    dropped: list[int] = []
    for i in range(A.shape[0]):
        trial = kept + [i]
        if solve(A[trial], b[trial]) is None:
            dropped.append(i)
        else:
            kept.append(i)
    return kept, dropped


@given(matrices, st.integers(0, 2**32 - 1), st.booleans())
def test_solve_greedy_matches_reference(A: np.ndarray, seed: int, noisy: bool) -> None:
    rng = np.random.default_rng(seed)
    s0 = rng.integers(0, 2, size=A.shape[1], dtype=np.uint8)
    b = matmul2(A, s0).astype(np.uint8)
    if noisy:
        b ^= (rng.random(A.shape[0]) < 0.3).astype(np.uint8)
    g = solve_greedy(A, b)
    kept, dropped = reference_greedy(A, b)
    assert list(g.kept) == kept and list(g.dropped) == dropped
    assert g.consistent == (solve(A, b) is not None)
    assert g.rank == rank(A) == (rank(A[kept]) if kept else 0)
    assert g.pivots == rref(A)[1]
    assert g.determined == (g.rank == A.shape[1])
    np.testing.assert_array_equal(g.solution, solve(A[kept], b[kept]))
    if g.consistent:
        np.testing.assert_array_equal(g.solution, solve(A, b))


def test_solve_greedy_hand_example() -> None:
    # Row 1 contradicts row 0 (same coefficients, other right-hand side): dropped.
    g = solve_greedy([[1, 0], [1, 0], [0, 1], [1, 1]], [1, 0, 1, 0])
    assert g.kept == (0, 2, 3) and g.dropped == (1,)
    np.testing.assert_array_equal(g.solution, [1, 1])
    assert not g.consistent and g.determined and g.rank == 2


def test_solve_greedy_many_rows_is_fast_enough() -> None:
    rng = np.random.default_rng(7)
    A = rng.integers(0, 2, size=(4096, 64), dtype=np.uint8)
    s0 = rng.integers(0, 2, size=64, dtype=np.uint8)
    g = solve_greedy(A, matmul2(A, s0))
    assert g.consistent and g.determined
    np.testing.assert_array_equal(g.solution, s0)


def test_all_vectors_helper_covers_small_space() -> None:
    assert {tuple(v) for v in all_vectors(3)} == set(itertools.product((0, 1), repeat=3))

"""Reference learners: tie rules on hand-made cases, naive re-implementations, circuits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.circuit_library import xor_of
from simulators.circuits import Op, evaluate_all
from simulators.datasets import all_points, parity_labels, random_dataset, random_parity
from simulators.gf2 import rank, solve
from simulators.learners import (
    CONVENTIONS,
    LEARNERS,
    ConstantClassifier,
    NearestClassifier,
    ParityClassifier,
    SwitchClassifier,
    bits_to_labels,
    circuit_predict,
    fit,
    labels_to_bits,
    learner_circuit,
    predict,
)

NAMES = sorted(LEARNERS)

# --------------------------------------------------------------------------- strategies


def make_dataset(seed: int, d: int, m: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Uniform data, parity data, or data with many repeated rows and coordinates (ties)."""
    if kind == "uniform":
        return random_dataset(d, m, seed=seed)
    if kind == "parity":
        rng = np.random.default_rng(seed)
        X, y, _ = random_parity(d, int(rng.integers(0, d + 1)), m, seed=rng)
        return X, y
    rng = np.random.default_rng(seed)
    X = rng.choice([-1, 1], size=(m, 1)) * np.ones((1, d), dtype=np.int64)
    X[:, rng.integers(0, d)] *= rng.choice([-1, 1], size=m)
    return X.astype(np.int64), rng.choice([-1, 1], size=m).astype(np.int64)


datasets = st.builds(
    make_dataset,
    st.integers(0, 2**32 - 1),
    st.integers(1, 7),
    st.integers(0, 12),
    st.sampled_from(["uniform", "parity", "ties"]),
)


# --------------------------------------------------------------------------- naive references


def naive_majority(X: np.ndarray, y: np.ndarray, x: np.ndarray) -> int:
    plus = sum(1 for v in y if v == 1)
    return 1 if plus >= len(y) - plus else -1


def naive_first_agree(X: np.ndarray, y: np.ndarray, x: np.ndarray) -> int:
    for a in range(len(y)):
        if X[a][0] == x[0]:
            return int(y[a])
    return naive_majority(X, y, x)


def naive_nearest(X: np.ndarray, y: np.ndarray, x: np.ndarray) -> int:
    best, label = None, 1
    for a in range(len(y)):
        dist = sum(1 for i in range(len(x)) if X[a][i] != x[i])
        if best is None or dist < best:
            best, label = dist, int(y[a])
    return label


def naive_best_literal(X: np.ndarray, y: np.ndarray, x: np.ndarray) -> int:
    d = X.shape[1]
    hypotheses = [lambda z: 1, lambda z: -1]
    for i in range(d):
        hypotheses += [lambda z, i=i: int(z[i]), lambda z, i=i: -int(z[i])]
    errors = [sum(1 for a in range(len(y)) if h(X[a]) != y[a]) for h in hypotheses]
    return hypotheses[errors.index(min(errors))](x)


def naive_constant_plus(X: np.ndarray, y: np.ndarray, x: np.ndarray) -> int:
    return 1


NAIVE = {
    "majority": naive_majority,
    "first_agree": naive_first_agree,
    "nearest": naive_nearest,
    "best_literal": naive_best_literal,
    "constant_plus": naive_constant_plus,
}


@pytest.mark.parametrize("name", sorted(NAIVE))
@given(data=datasets)
def test_learners_match_naive_references(name: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    P = all_points(X.shape[1])
    got = LEARNERS[name].predict(X, y, P)
    want = [NAIVE[name](X, y, p) for p in P]
    assert got.tolist() == want


# --------------------------------------------------------------------------- parity


def brute_force_parity(X: np.ndarray, y: np.ndarray) -> tuple[int, ...] | None:
    """The consistent S with the least sum 2**i, or None if none is consistent."""
    d = X.shape[1]
    for code in range(1 << d):
        S = tuple(i for i in range(d) if code >> i & 1)
        if np.array_equal(parity_labels(X, S), y):
            return S
    return None


@given(data=datasets)
def test_parity_matches_brute_force_on_consistent_data(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    c = fit("parity", X, y)
    assert isinstance(c, ParityClassifier)
    want = brute_force_parity(X, y)
    assert c.diagnostics is not None
    assert c.diagnostics.consistent == (want is not None)
    if want is not None:
        assert c.S == want == c.diagnostics.S
        np.testing.assert_array_equal(c(X) if len(y) else y, y)


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 24),
    extra=st.integers(0, 20),
)
def test_parity_recovers_S_from_full_rank_samples(seed: int, d: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    X, y, S = random_parity(d, int(rng.integers(0, d + 1)), d + extra, seed=rng)
    c = fit("parity", X, y)
    diag = c.diagnostics
    assert diag is not None and diag.consistent and diag.dropped == ()
    U = (X == -1).astype(np.uint8)
    assert diag.rank == rank(U)
    if diag.determined:
        assert c.S == S
    np.testing.assert_array_equal(c(X), y)


def test_parity_full_rank_recovery_is_exact_for_many_seeds() -> None:
    recovered = 0
    for seed in range(40):
        X, y, S = random_parity(32, seed % 33, 64, seed=seed)
        c = fit("parity", X, y)
        assert c.diagnostics is not None
        if c.diagnostics.determined:
            recovered += 1
            assert c.S == S
    assert recovered >= 35  # rank 32 from 64 random rows fails with probability ~2**-32


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 8), m=st.integers(0, 20))
def test_parity_with_noise_solves_the_greedy_consistent_subset(seed: int, d: int, m: int) -> None:
    X, y, _ = random_parity(d, d // 2, m, noise=0.3, seed=seed)
    c = fit("parity", X, y)
    diag = c.diagnostics
    assert diag is not None
    assert sorted(diag.kept + diag.dropped) == list(range(m))
    kept = list(diag.kept)
    np.testing.assert_array_equal(c(X[kept]) if kept else y[kept], y[kept])
    U, v = (X == -1).astype(np.uint8), (y == -1).astype(np.uint8)
    for i in diag.dropped:
        before = [a for a in kept if a < i]
        assert solve(U[before + [i]], v[before + [i]]) is None
    want = solve(U[kept], v[kept])
    assert want is not None
    assert c.S == tuple(int(i) for i in np.flatnonzero(want))


def test_parity_hand_examples() -> None:
    # Underdetermined: one example x = (-1, -1), y = +1 fits S = {} and S = {0, 1};
    # free variable x_1 is 0, and x_0 = 0 then too, so S = {} (least sum 2**i).
    c = fit("parity", [[-1, -1]], [1])
    assert c.S == ()
    # x = (-1, -1), y = -1: S = {0} or {1}; free column 1 -> S = {0}.
    c = fit("parity", [[-1, -1]], [-1])
    assert c.S == (0,)
    assert c.diagnostics is not None
    assert c.diagnostics.rank == 1 and not c.diagnostics.determined
    # Inconsistent: example 1 repeats example 0 with the other label and is dropped.
    c = fit("parity", [[-1, 1], [-1, 1], [1, -1]], [-1, 1, -1])
    assert c.S == (0, 1)
    assert c.diagnostics is not None
    assert c.diagnostics.dropped == (1,) and c.diagnostics.kept == (0, 2)
    assert not c.diagnostics.consistent and c.diagnostics.determined


# --------------------------------------------------------------------------- tie rules by hand


def test_majority_ties() -> None:
    assert fit("majority", [[1], [1]], [1, -1])([1]) == 1
    assert fit("majority", [[1], [1], [1]], [1, -1, -1])([1]) == -1
    assert fit("majority", np.zeros((0, 3)), [])([1, 1, 1]) == 1


def test_first_agree_rules() -> None:
    X = [[1, 1], [-1, 1], [1, -1], [-1, -1]]
    y = [-1, 1, 1, -1]
    c = fit("first_agree", X, y)
    assert c([1, -1]) == -1  # example 0 is the first with x_0 = +1
    assert c([-1, -1]) == 1  # example 1 is the first with x_0 = -1
    # No example has x_0 = -1: fall back to the majority label, a tie -> +1.
    c = fit("first_agree", [[1, 1], [1, -1]], [-1, 1])
    assert c([-1, 1]) == 1 and c([1, 1]) == -1
    c = fit("first_agree", [[1, 1], [1, -1], [1, 1]], [1, -1, -1])
    assert c([-1, 1]) == -1 and c([1, 1]) == 1


def test_nearest_ties_go_to_the_earliest() -> None:
    X = [[1, 1, 1], [-1, -1, 1], [1, -1, -1]]
    y = [1, -1, 1]
    c = fit("nearest", X, y)
    assert isinstance(c, NearestClassifier)
    assert c([-1, 1, 1]) == 1  # distance 1 to examples 0 and 1: example 0
    assert c([-1, -1, -1]) == -1  # distance 1 to examples 1 and 2: example 1
    assert c([-1, -1, 1]) == -1  # exact match
    assert fit("nearest", [[1, 1], [1, 1]], [-1, 1])([1, 1]) == -1  # duplicate: the first
    assert isinstance(fit("nearest", np.zeros((0, 2)), []), ConstantClassifier)


def test_best_literal_tie_order() -> None:
    # +1 and -1 both make 1 mistake; constants come first, and +1 before -1.
    c = fit("best_literal", [[1], [1]], [-1, 1])
    assert isinstance(c, ConstantClassifier) and c.label == 1
    c = fit("best_literal", [[1, 1], [-1, 1]], [1, -1])
    assert isinstance(c, SwitchClassifier) and (c.index, c.if_plus) == (0, 1)  # x_0: 0 mistakes
    c = fit("best_literal", [[1, 1], [1, 1]], [1, -1])
    assert isinstance(c, ConstantClassifier) and c.label == 1  # all 6 tie at 1 mistake
    c = fit("best_literal", [[1, 1], [1, 1], [-1, 1]], [-1, -1, 1])
    assert isinstance(c, SwitchClassifier) and (c.index, c.if_plus) == (0, -1)  # -x_0: 0
    c = fit("best_literal", [[1, -1], [-1, 1]], [-1, 1])
    # -x_0 and x_1 both make 0 mistakes; -x_0 comes first.
    assert isinstance(c, SwitchClassifier) and (c.index, c.if_plus, c.if_minus) == (0, -1, 1)


@pytest.mark.parametrize("name", NAMES)
def test_empty_training_set_gives_constant_plus(name: str) -> None:
    c = fit(name, np.zeros((0, 4), dtype=int), np.zeros(0, dtype=int))
    assert c(all_points(4)).tolist() == [1] * 16


# --------------------------------------------------------------------------- API contracts


@pytest.mark.parametrize("name", NAMES)
@given(data=datasets)
def test_call_predict_and_registry_predict_agree(
    name: str, data: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data
    c = LEARNERS[name].fit(X, y)
    P = all_points(X.shape[1])
    batch = c(P)
    assert isinstance(batch, np.ndarray) and batch.dtype == np.int64
    singles = [c(p) for p in P]
    assert all(type(v) is int for v in singles)
    assert batch.tolist() == singles == c.predict(P).tolist() == predict(name, X, y, P).tolist()
    assert set(singles) <= {-1, 1}


@pytest.mark.parametrize("name", NAMES)
@given(data=datasets)
def test_circuits_agree_with_classifiers(name: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    c = LEARNERS[name].fit(X, y)
    P = all_points(X.shape[1])
    for convention in CONVENTIONS:
        circuit = learner_circuit(name, X, y, convention)
        if circuit is None:
            assert not LEARNERS[name].has_circuit
            continue
        assert circuit.n_inputs == X.shape[1] and circuit.n_outputs == 1
        np.testing.assert_array_equal(circuit_predict(circuit, P, convention), c(P))
        table = evaluate_all(circuit)[:, 0]
        if convention == "sign":  # row a of evaluate_all is row a of all_points
            np.testing.assert_array_equal(bits_to_labels(table, "sign"), c(P))
    if LEARNERS[name].has_circuit:
        assert c.circuit() is not None


def test_parity_circuit_is_xor_of_S() -> None:
    c = ParityClassifier(5, [3, 1])
    assert c.circuit() == xor_of([1, 3], 5)
    paper = c.circuit("paper")  # |S| even: negated
    assert paper.gates[-1].op is Op.NOT
    assert ParityClassifier(5, [2]).circuit("paper") == xor_of([2], 5)
    table = evaluate_all(ParityClassifier(3, []).circuit("paper"))[:, 0]
    assert table.tolist() == [1] * 8  # constant +1 is bit 1 in the paper's convention


def test_constant_and_switch_circuits() -> None:
    assert ConstantClassifier(3, -1).circuit().gates[0].op is Op.CONST1
    assert ConstantClassifier(3, -1).circuit("paper").gates[0].op is Op.CONST0
    assert SwitchClassifier(3, 2, 1, -1).circuit().gates[0].op is Op.COPY
    assert SwitchClassifier(3, 2, -1, 1).circuit("paper").gates[0].op is Op.NOT
    assert SwitchClassifier(3, 2, -1, -1).circuit().gates[0].op is Op.CONST1
    assert learner_circuit("nearest", [[1, 1]], [1]) is None


def test_bit_conventions() -> None:
    assert labels_to_bits([1, -1]).tolist() == [0, 1]
    assert labels_to_bits([1, -1], "paper").tolist() == [1, 0]
    assert bits_to_labels([0, 1]).tolist() == [1, -1]
    assert bits_to_labels([0, 1], "paper").tolist() == [-1, 1]
    with pytest.raises(ValueError, match="unknown circuit convention 'bool'"):
        labels_to_bits([1], "bool")  # type: ignore[arg-type]


def test_registry_documentation() -> None:
    assert {"majority", "first_agree", "nearest", "parity"} <= set(LEARNERS)
    for name, learner in LEARNERS.items():
        assert learner.name == name
        assert learner.description and "\n" not in learner.description
        assert learner.ties


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([[1, 0]], [1]), "X entries must be -1 or 1, found 0"),
        (([[1, 1]], [2]), "y entries must be -1 or 1, found 2"),
        (([[1, 1]], [1, 1]), r"y must have shape \(1,\), got \(2,\)"),
        (([1, 1], [1]), r"X must be a 2-D array \(m, d\), got shape \(2,\)"),
        ((np.zeros((2, 0)), [1, 1]), r"X must have at least one coordinate"),
    ],
)
def test_fit_validation(args: tuple[object, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit("majority", *args)  # type: ignore[arg-type]


def test_predict_validation_and_unknown_learner() -> None:
    c = fit("nearest", [[1, 1]], [1])
    with pytest.raises(ValueError, match="X has d = 3 coordinates, expected 2"):
        c([1, 1, 1])
    with pytest.raises(KeyError, match="no learner 'knn'"):
        fit("knn", [[1]], [1])


def test_nearest_batches_in_chunks() -> None:
    X, y = random_dataset(10, 300, seed=3)
    c = fit("nearest", X, y)
    assert isinstance(c, NearestClassifier)
    P = all_points(10)
    full = c(P)
    c._CHUNK = 1000  # force several blocks
    np.testing.assert_array_equal(c(P), full)

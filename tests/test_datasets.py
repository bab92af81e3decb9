"""Data generators and the TRAIN.csv / TEST.csv format, with exact error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.circuits import Circuit, Gate, Op, evaluate_all
from simulators.datasets import (
    MAX_ALL_POINTS_D,
    MAX_D,
    MAX_M,
    MAX_TEST_POINTS,
    DatasetError,
    all_points,
    format_test,
    format_train,
    parity_labels,
    parse_test,
    parse_train,
    random_dataset,
    random_parity,
    read_test,
    read_train,
    read_train_test,
    write_test,
    write_train,
)

# --------------------------------------------------------------------------- generators


@given(
    d=st.integers(1, 20),
    m=st.integers(0, 50),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_random_parity_is_a_parity_and_deterministic(
    d: int, m: int, seed: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, d))
    X, y, S = random_parity(d, k, m, seed=seed)
    assert X.shape == (m, d) and y.shape == (m,)
    assert X.dtype == y.dtype == np.int64
    assert set(np.unique(X)) <= {-1, 1}
    assert len(S) == k and list(S) == sorted(set(S)) and all(0 <= i < d for i in S)
    if m:
        np.testing.assert_array_equal(y, parity_labels(X, S))
    X2, y2, S2 = random_parity(d, k, m, seed=seed)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert S == S2


def test_random_parity_noise() -> None:
    X, y, S = random_parity(10, 4, 20000, noise=0.2, seed=5)
    rate = float(np.mean(y != parity_labels(X, S)))
    assert 0.19 < rate < 0.21
    X, y, S = random_parity(6, 3, 50, noise=1.0, seed=5)
    np.testing.assert_array_equal(y, -parity_labels(X, S))


def test_random_parity_seeds_differ_and_generators_are_accepted() -> None:
    a = random_parity(16, 8, 40, seed=1)
    b = random_parity(16, 8, 40, seed=2)
    assert not np.array_equal(a.X, b.X)
    rng = np.random.default_rng(1)
    c = random_parity(16, 8, 40, seed=rng)
    np.testing.assert_array_equal(a.X, c.X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"d": 0, "k": 0, "m": 1}, "d must be an integer >= 1, got 0"),
        ({"d": 3, "k": 4, "m": 1}, "k = 4 exceeds d = 3"),
        ({"d": 3, "k": 1, "m": -1}, "m must be an integer >= 0, got -1"),
        ({"d": 3, "k": 1, "m": 1, "noise": 1.5}, "noise must be a probability in [0, 1], got 1.5"),
    ],
)
def test_random_parity_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as info:
        random_parity(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_random_dataset() -> None:
    X, y = random_dataset(7, 30, seed=4)
    assert X.shape == (30, 7) and y.shape == (30,)
    assert set(np.unique(X)) | set(np.unique(y)) <= {-1, 1}
    X2, y2 = random_dataset(7, 30, seed=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    with pytest.raises(TypeError, match="seed must be an int"):
        random_dataset(2, 2, seed=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("d", [1, 2, 5, 9])
def test_all_points_order_matches_evaluate_all(d: int) -> None:
    P = all_points(d)
    assert P.shape == (2**d, d)
    assert len({tuple(r) for r in P.tolist()}) == 2**d
    # A circuit that copies each input to an output: its truth table is the bit pattern.
    identity = Circuit(
        2 * d,
        tuple(range(d)),
        tuple(range(d, 2 * d)),
        tuple(Gate(Op.COPY, (i,), d + i) for i in range(d)),
    )
    np.testing.assert_array_equal(1 - 2 * evaluate_all(identity).astype(np.int64), P)


def test_all_points_limit() -> None:
    with pytest.raises(ValueError, match=f"limited to d <= {MAX_ALL_POINTS_D}"):
        all_points(MAX_ALL_POINTS_D + 1)


def test_parity_labels() -> None:
    X = np.array([[1, -1, -1], [-1, -1, 1]])
    assert parity_labels(X, []).tolist() == [1, 1]
    assert parity_labels(X, [1, 2]).tolist() == [1, -1]
    with pytest.raises(ValueError, match="index 3 is not a coordinate"):
        parity_labels(X, [3])


# --------------------------------------------------------------------------- CSV round trips


@given(
    d=st.integers(1, 12),
    m=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_csv_round_trip(d: int, m: int, seed: int) -> None:
    X, y = random_dataset(d, m, seed=seed)
    X2, y2 = parse_train(format_train(X, y))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(parse_test(format_test(X), d=d), X)


def test_file_round_trip_and_d_check(tmp_path: Path) -> None:
    X, y = random_dataset(5, 9, seed=0)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    write_train(train, X, y)
    write_test(test, X[:4])
    assert train.read_text().splitlines()[0] == ",".join(
        "1" if v == 1 else "-1" for v in [*X[0], y[0]]
    )
    X2, y2, T = read_train_test(train, test)
    assert np.array_equal(X2, X) and np.array_equal(y2, y) and np.array_equal(T, X[:4])
    assert np.array_equal(read_train(str(train))[0], X)
    assert np.array_equal(read_test(test), X[:4])
    test.write_text("1,1,1,-1\n")
    with pytest.raises(DatasetError) as info:
        read_train_test(train, test)
    assert str(info.value) == f"{test}:1: 4 fields, expected 5 (d = 5 from {train})"


def test_lenient_spellings() -> None:
    text = "\ufeff 1 ,+1,\t-1 , -1\r\n-1,-1,1,+1\r\n\r\n  \n"
    X, y = parse_train(text)
    assert X.tolist() == [[1, 1, -1], [-1, -1, 1]]
    assert y.tolist() == [-1, 1]
    assert parse_test("+1\n-1").tolist() == [[1], [-1]]  # no final newline


def test_bom_in_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbf1,-1\n")
    X, y = read_train(path)
    assert X.tolist() == [[1]] and y.tolist() == [-1]


# --------------------------------------------------------------------------- CSV errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,-1,1,2,1\n", "train.csv:1: field 4 is '2', expected -1 or 1"),
        (
            "1,1,-1\n1,-1,1,2,1\n",
            "train.csv:2: 5 fields, expected 3 (d = 2 values and a label, as on line 1)",
        ),
        ("1,1,-1\n1,-1,2\n", "train.csv:2: field 3 (the label) is '2', expected -1 or 1"),
        ("1,1,-1\n1,1,0\n", "train.csv:2: field 3 (the label) is '0', expected -1 or 1"),
        (
            "1,1,1\n-1,1\n",
            "train.csv:2: 2 fields, expected 3 (d = 2 values and a label, as on line 1)",
        ),
        (
            "1,1,1\n-1\n",
            "train.csv:2: 1 field, expected 3 (d = 2 values and a label, as on line 1)",
        ),
        ("", "train.csv: no examples (the file is empty or blank)"),
        ("\n \n\t\n", "train.csv: no examples (the file is empty or blank)"),
        (
            "1,1\n\n1,1\n",
            "train.csv:2: blank line before the end of the file "
            "(only trailing blank lines are allowed)",
        ),
        (
            "\n1,1\n",
            "train.csv:1: blank line before the end of the file "
            "(only trailing blank lines are allowed)",
        ),
        ("1\n", "train.csv:1: 1 field, expected at least 2 (d >= 1 values and a label)"),
        ("1,,1\n", "train.csv:1: field 2 is empty, expected -1 or 1"),
        ("1,1,\n", "train.csv:1: field 3 (the label) is empty, expected -1 or 1"),
        ("1,1.0,1\n", "train.csv:1: field 2 is '1.0', expected -1 or 1"),
        ("1,+ 1,1\n", "train.csv:1: field 2 is '+ 1', expected -1 or 1"),
        ("1;1;1\n", "train.csv:1: 1 field, expected at least 2 (d >= 1 values and a label)"),
        ("x1,x2,y\n1,1,1\n", "train.csv:1: field 1 is 'x1', expected -1 or 1"),
        (
            ",".join(["1"] * (MAX_D + 2)) + "\n",
            f"train.csv:1: {MAX_D + 1} values per example, more than the limit d <= {MAX_D}",
        ),
    ],
)
def test_train_errors(text: str, message: str) -> None:
    with pytest.raises(DatasetError) as info:
        parse_train(text)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_train_limits() -> None:
    row = ",".join(["1"] * MAX_D) + ",-1\n"
    X, y = parse_train(row * MAX_M)
    assert X.shape == (MAX_M, MAX_D) and y.shape == (MAX_M,)
    with pytest.raises(DatasetError) as info:
        parse_train("1,1\n" * (MAX_M + 1))
    assert str(info.value) == f"train.csv:{MAX_M + 1}: more than {MAX_M} examples (the limit)"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("1,1\n1\n", {}, "test.csv:2: 1 field, expected 2 (d = 2, as on line 1)"),
        (
            "1,1\n",
            {"d": 3, "d_source": "train.csv"},
            "test.csv:1: 2 fields, expected 3 (d = 3 from train.csv)",
        ),
        ("1,1,1,1\n", {"d": 3}, "test.csv:1: 4 fields, expected 3 (d = 3, as on line 1)"),
        ("1,-2\n", {}, "test.csv:1: field 2 is '-2', expected -1 or 1"),
        ("1;1\n", {}, "test.csv:1: field 1 is '1;1', expected -1 or 1"),
        ("", {}, "test.csv: no test points (the file is empty or blank)"),
        (
            "1\n\n1\n",
            {},
            "test.csv:2: blank line before the end of the file "
            "(only trailing blank lines are allowed)",
        ),
        (
            ",".join(["1"] * (MAX_D + 1)),
            {},
            f"test.csv:1: {MAX_D + 1} values per test point, more than the limit d <= {MAX_D}",
        ),
    ],
)
def test_test_errors(text: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DatasetError) as info:
        parse_test(text, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_test_points_limit() -> None:
    assert parse_test("1\n" * MAX_TEST_POINTS).shape == (MAX_TEST_POINTS, 1)
    with pytest.raises(DatasetError) as info:
        parse_test("1\n" * (MAX_TEST_POINTS + 1))
    assert str(info.value) == (
        f"test.csv:{MAX_TEST_POINTS + 1}: more than {MAX_TEST_POINTS} test points (the limit)"
    )


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(DatasetError) as info:
        read_train(missing)
    assert str(info.value) == f"{missing}: no such file"
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"1,1\n\xff,1\n")
    with pytest.raises(DatasetError) as info:
        read_train(binary)
    assert str(info.value) == (f"{binary}:2:1: not UTF-8 text: byte 0xff at offset 4 "
                               "(invalid start byte)")
    bad = tmp_path / "train.csv"
    bad.write_text("1,1,1\n1,1,1\n1,-1,1,2\n")
    with pytest.raises(DatasetError) as info:
        read_train(bad)
    assert str(info.value) == (
        f"{bad}:3: 4 fields, expected 3 (d = 2 values and a label, as on line 1)"
    )


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[1, 0]], [1], "X entries must be -1 or 1, found 0"),
        ([[1, 1]], [1, 1], r"y must have shape \(1,\), got \(2,\)"),
        ([[True, False]], [1], "X must hold the numbers -1 and 1, got dtype bool"),
    ],
)
def test_writers_validate(X: object, y: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_train(X, y)  # type: ignore[arg-type]

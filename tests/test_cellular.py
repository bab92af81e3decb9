"""Elementary cellular automata: hand-known rows and an independent formula."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.cellular import ElementaryCA, render


def bits(s: str) -> list[int]:
    return [int(ch) for ch in s]


def centred(rows: list[str], width: int) -> list[list[int]]:
    return [bits(r.center(width, "0")) for r in rows]


# Rows grown from a single 1 (worked out by hand from the rule tables).
RULE30 = ["1", "111", "11001", "1101111", "110010001"]
RULE90 = ["1", "101", "10001", "1010101", "100000001"]


@pytest.mark.parametrize(("rule", "rows"), [(30, RULE30), (90, RULE90)])
def test_single_seed_rows(rule: int, rows: list[str]) -> None:
    width = 11
    expected = centred(rows, width)
    assert ElementaryCA(rule).history(expected[0], len(rows) - 1) == expected


def test_rule110_grows_to_the_left() -> None:
    width = 8
    rows = ["1", "11", "111", "1101", "11111", "110001"]
    expected = [bits(r.rjust(width - 1, "0") + "0") for r in rows]
    assert ElementaryCA(110).history(expected[0], len(rows) - 1) == expected


def test_rule_table_and_repr() -> None:
    ca = ElementaryCA(30)
    assert list(ca.rule_table().values()) == bits("00011110")
    assert list(ca.rule_table())[0] == (1, 1, 1)
    assert repr(ElementaryCA(90, boundary="periodic")) == "ElementaryCA(90, boundary='periodic')"


def test_boundaries() -> None:
    assert ElementaryCA(90).step([1, 0, 0, 0]) == [0, 1, 0, 0]
    assert ElementaryCA(90, boundary="periodic").step([1, 0, 0, 0]) == [0, 1, 0, 1]
    assert ElementaryCA(90, boundary=1).step([0, 0, 0]) == [1, 0, 1]
    # Rule 204 is the identity, rule 51 the complement, rule 0 erases, rule 255 fills.
    row = [1, 0, 1, 1, 0]
    assert ElementaryCA(204).step(row) == row
    assert ElementaryCA(51).step(row) == [0, 1, 0, 0, 1]
    assert ElementaryCA(0, boundary=1).step(row) == [0] * 5
    assert ElementaryCA(255).step(row) == [1] * 5
    # Rule 170 shifts left; periodic wraps, fixed boundary feeds in the boundary value.
    assert ElementaryCA(170, boundary="periodic").step(row) == [0, 1, 1, 0, 1]
    assert ElementaryCA(170, boundary=1).step(row) == [0, 1, 1, 0, 1]
    assert ElementaryCA(170).step(row) == [0, 1, 1, 0, 0]


def test_small_rows_and_inputs() -> None:
    assert ElementaryCA(30).step([]) == []
    assert ElementaryCA(30).history([], 3) == [[], [], [], []]
    # A single periodic cell is its own left and right neighbour.
    assert ElementaryCA(1 << 7, boundary="periodic").step([1]) == [1]
    assert ElementaryCA(30).step((0, 1, 0)) == [1, 1, 1]
    history = ElementaryCA(30).history([0, 1, 0], 0)
    assert history == [[0, 1, 0]]
    assert render([0, 1, 1, 0]) == ".##."


@pytest.mark.parametrize(
    ("rule", "error"), [(256, ValueError), (-1, ValueError), ("30", TypeError),
                        (30.0, TypeError), (True, TypeError)]
)
def test_rule_validation(rule: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="rule"):
        ElementaryCA(rule)  # type: ignore[arg-type]


@pytest.mark.parametrize("boundary", [2, -1, "wrap", None, True])
def test_boundary_validation(boundary: object) -> None:
    with pytest.raises(ValueError, match="boundary"):
        ElementaryCA(30, boundary=boundary)  # type: ignore[arg-type]


def test_row_and_steps_validation() -> None:
    with pytest.raises(ValueError, match="row cell 2 is 2"):
        ElementaryCA(30).step([0, 1, 2])
    with pytest.raises(ValueError, match="steps"):
        ElementaryCA(30).history([0, 1], -1)


def reference_step(rule: int, row: list[int], boundary: int | str) -> list[int]:
    n = len(row)

    def cell(i: int) -> int:
        if boundary == "periodic":
            return row[i % n]
        return row[i] if 0 <= i < n else int(boundary)

    return [(rule >> (4 * cell(i - 1) + 2 * cell(i) + cell(i + 1))) & 1 for i in range(n)]


@given(
    st.integers(0, 255),
    st.lists(st.integers(0, 1), max_size=40),
    st.sampled_from([0, 1, "periodic"]),
    st.integers(0, 5),
)
def test_matches_independent_formula(
    rule: int, row: list[int], boundary: int | str, steps: int
) -> None:
    ca = ElementaryCA(rule, boundary=boundary)
    rows = ca.history(row, steps)
    assert len(rows) == steps + 1
    for prev, nxt in pairwise(rows):
        assert nxt == reference_step(rule, prev, boundary)

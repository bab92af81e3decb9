"""Bristol Fashion parsing and writing."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.bristol import BRISTOL_OPS, dump_bristol, load_bristol, parse_bristol
from simulators.circuit_library import LIBRARY, LIBRARY_DIR
from simulators.circuits import Circuit, CircuitError, Gate, Op, evaluate, evaluate_all
from simulators.circuits import random_circuit as make_random

# (a AND b) XOR (NOT c), and a copy of c: inputs a (1 bit) and bc (2 bits); outputs 2 bits.
TINY = """\
3 6
2 1 2
1 2

2 1 0 1 3 AND
1 1 2 5 INV
2 1 3 5 4 XOR
"""


def test_parse_tiny_example() -> None:
    c = parse_bristol(TINY)
    assert (c.n_wires, c.inputs, c.outputs) == (6, (0, 1, 2), (4, 5))
    assert (c.input_sizes, c.output_sizes) == ((1, 2), (2,))
    assert [g.op for g in c.gates] == [Op.AND, Op.NOT, Op.XOR]
    assert [g.line for g in c.gates] == [5, 6, 7]
    for x in range(8):
        a, b, cc = x & 1, (x >> 1) & 1, x >> 2
        assert evaluate(c, [a, b, cc]) == [(a & b) ^ (1 - cc), 1 - cc]


def test_mand_eq_eqw_and_blank_lines() -> None:
    text = (
        "\n5 10\n\n1 4\n1 4\n\n"
        "4 2 0 1 2 3 4 5 MAND\n"  # 4 = 0 AND 2, 5 = 1 AND 3
        "1 1 1 8 EQ\n"
        "\n"
        "1 1 0 9 EQ\n"
        "1 1 4 6 EQW\n"
        "   \n"
        "2 1 5 6 7 XOR\n"
    )
    c = parse_bristol(text)
    assert [g.op for g in c.gates] == [Op.AND, Op.AND, Op.CONST1, Op.CONST0, Op.COPY, Op.XOR]
    assert [g.inputs for g in c.gates[:2]] == [(0, 2), (1, 3)]
    assert c.gates[0].line == c.gates[1].line == 7
    assert c.outputs == (6, 7, 8, 9)
    for x in range(16):
        b = [(x >> i) & 1 for i in range(4)]
        p, q = b[0] & b[2], b[1] & b[3]
        assert evaluate(c, b) == [p, p ^ q, 1, 0]


def test_crlf_line_endings() -> None:
    assert parse_bristol(TINY.replace("\n", "\r\n")) == parse_bristol(TINY)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _with_line(text: str, line_no: int, new: str) -> str:
    lines = _lines(text)
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line_no", "replacement", "err_line", "pattern"),
    [
        (1, "3", 1, r"header must be 'ngates nwires' \(2 tokens\), got 1"),
        (1, "3 six", 1, "expected a non-negative integer for nwires, got 'six'"),
        (2, "2 1", 2, "input line declares 2 values, so it needs 3 tokens, got 2"),
        (3, "1 -2", 3, "got '-2'"),
        (2, "1 7", 2, "7 input wires declared, but the header has only 6 wires"),
        (5, "2 1 0 x 3 AND", 5, "expected a non-negative integer for a wire, got 'x'"),
        (5, "2 1 0 1 3", 5, "gate line with nin=2, nout=1 needs 6 tokens, got 5"),
        (5, "2 1 0 1 AND", 5, "needs at least|needs 6 tokens, got 5"),
        (5, "2 1 0 1 3 OR", 5, "unknown op 'OR'"),
        (5, "2 1 0 1 3 and", 5, "unknown op 'and'"),
        (5, "2 1 0 1 6 AND", 5, "wire '6' out of range: the header declares 6 wires"),
        (6, "1 1 17 5 INV", 6, "wire '17' out of range"),
        (5, "1 1 0 3 AND", 5, "AND needs nin=2 nout=1, got nin=1, nout=1"),
        (6, "2 1 2 0 5 INV", 6, "INV needs nin=1 nout=1"),
        (6, "1 1 2 5 EQ", 6, "EQ assigns a constant, which must be 0 or 1, got '2'"),
        (5, "3 1 0 1 2 3 MAND", 5, "MAND needs nin = 2\\*nout >= 2"),
        (5, "2 1 0 5 3 AND", 5, "wire 5 is read by .* before it is driven"),
        (6, "1 1 2 3 INV", 6, "wire 3 is doubly driven"),
        (6, "1 1 2 0 INV", 6, "wire 0 is doubly driven: it is circuit input 0"),
        (5, "2 1 0 3 3 AND", 5, "combinational cycle through wire 3"),
    ],
)
def test_errors_have_line_numbers(
    line_no: int, replacement: str, err_line: int, pattern: str
) -> None:
    text = _with_line(TINY, line_no, replacement)
    with pytest.raises(CircuitError, match=pattern) as info:
        parse_bristol(text, filename="tiny.bristol")
    assert info.value.line == err_line
    assert info.value.source == "tiny.bristol"
    col = "" if info.value.col is None else f"{info.value.col}:"
    assert str(info.value).startswith(f"tiny.bristol:{err_line}:{col} ")
    if info.value.col is not None:  # the column points at a token of that line
        line = text.split("\n")[err_line - 1]
        assert 1 <= info.value.col <= len(line) and line[info.value.col - 1] != " "


def test_gate_count_mismatch() -> None:
    with pytest.raises(CircuitError, match=r"more gate lines than the 2 declared.*line 1") as info:
        parse_bristol(TINY.replace("3 6", "2 6", 1))
    assert info.value.line == 7
    with pytest.raises(CircuitError, match="header declares 4 gates, but the file has only 3") as e:
        parse_bristol(TINY.replace("3 6", "4 6", 1))
    assert e.value.line == 1


def test_output_not_driven() -> None:
    text = TINY.replace("3 6", "2 6", 1).replace("2 1 3 5 4 XOR\n", "")
    with pytest.raises(CircuitError, match=r"output wire 4 \(output bit 0 of 2\) is never driven"):
        parse_bristol(text)
    with pytest.raises(CircuitError) as info:
        parse_bristol(text)
    assert info.value.line == 3


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "file ends before the header"),
        ("1 3\n", "file ends before the inputs line"),
        ("1 3\n1 2\n\n", "file ends before the outputs line"),
    ],
)
def test_truncated_files(text: str, pattern: str) -> None:
    with pytest.raises(CircuitError, match=pattern):
        parse_bristol(text)


def test_load_bristol_names_the_file(tmp_path) -> None:
    path = tmp_path / "bad.bristol"
    path.write_text(_with_line(TINY, 6, "1 1 2 5 NOPE"))
    with pytest.raises(CircuitError) as info:
        load_bristol(path)
    assert str(info.value).startswith(f"{path}:6:9: unknown op 'NOPE'")
    path.write_text(TINY)
    assert load_bristol(path).source == str(path)


# ----------------------------------------------------------------------------- writing


def test_dump_keeps_canonical_files_verbatim() -> None:
    assert dump_bristol(parse_bristol(TINY)) == TINY
    for name in LIBRARY:
        text = (LIBRARY_DIR / f"{name}.bristol").read_text()
        assert dump_bristol(parse_bristol(text)) == text


def _ops_in(text: str) -> set[str]:
    return {ln.split()[-1] for ln in text.splitlines()[4:] if ln.strip()}


@pytest.mark.parametrize(
    ("op", "n_gates"), [(Op.OR, 3), (Op.NAND, 2), (Op.NOR, 3), (Op.XNOR, 2), (Op.XOR, 1)]
)
def test_dump_rewrites_non_bristol_ops(op: Op, n_gates: int) -> None:
    c = Circuit(3, (0, 1), (2,), (Gate(op, (0, 1), 2),))
    text = dump_bristol(c)
    assert _ops_in(text) <= set(BRISTOL_OPS)
    d = parse_bristol(text)
    assert len(d.gates) == n_gates
    assert np.array_equal(evaluate_all(d), evaluate_all(c))


def test_dump_relayouts_outputs_that_are_inputs_or_repeated() -> None:
    c = Circuit(
        7,
        (5, 3),  # inputs not first, in non-sorted order
        (3, 0, 0, 5),  # an input, a gate output twice, another input
        (Gate(Op.AND, (3, 5), 0), Gate(Op.CONST1, (), 1)),
    )
    text = dump_bristol(c)
    d = parse_bristol(text)
    assert (d.n_inputs, d.n_outputs, d.input_sizes, d.output_sizes) == (2, 4, (2,), (4,))
    # wire 1 (unused constant) stays; unused wires 2, 4, 6 are dropped.
    assert d.n_wires == 2 + 1 + 4
    assert [g.op for g in d.gates].count(Op.COPY) == 3
    assert np.array_equal(evaluate_all(d), evaluate_all(c))


def test_dump_without_inputs_or_outputs() -> None:
    c = Circuit(1, (), (0,), (Gate(Op.CONST1, (), 0),))
    text = dump_bristol(c)
    assert text.splitlines()[:3] == ["1 1", "0", "1 1"]
    assert evaluate_all(parse_bristol(text)).tolist() == [[1]]
    empty = Circuit(2, (0, 1), (), ())
    assert evaluate_all(parse_bristol(dump_bristol(empty))).shape == (4, 0)


@given(
    st.randoms(use_true_random=False),
    st.integers(0, 6),
    st.integers(0, 30),
    st.integers(1, 4),
    st.booleans(),
)
def test_round_trip_random_circuits(
    rnd: random.Random, n_in: int, n_gates: int, n_out: int, permute: bool
) -> None:
    if n_in + n_gates == 0:
        n_in = 1
    c = make_random(rnd, n_in, n_gates, n_out, spare_wires=rnd.randint(0, 2), permute=permute)
    text = dump_bristol(c)
    assert _ops_in(text) <= set(BRISTOL_OPS)
    d = parse_bristol(text)
    assert (d.n_inputs, d.n_outputs) == (c.n_inputs, c.n_outputs)
    assert np.array_equal(evaluate_all(d), evaluate_all(c))
    # d is in Bristol layout with Bristol ops only, so writing it again is the identity.
    assert dump_bristol(d) == text
    assert d.outputs == tuple(range(d.n_wires - d.n_outputs, d.n_wires))


def test_round_trip_keeps_group_sizes() -> None:
    c = Circuit(
        6, (0, 1, 2), (3, 4, 5), tuple(Gate(Op.NOT, (i,), i + 3) for i in range(3)),
        input_sizes=(2, 1), output_sizes=(1, 1, 1),
    )  # fmt: skip
    d = parse_bristol(dump_bristol(c))
    assert (d.input_sizes, d.output_sizes) == ((2, 1), (1, 1, 1))
    assert d == c


def test_round_trip_seeded_random_circuits() -> None:
    """A fixed sweep on top of the hypothesis examples (whose number the profile sets)."""
    for seed in range(300):
        rnd = random.Random(seed)
        c = make_random(rnd, rnd.randint(1, 7), rnd.randint(0, 40), rnd.randint(1, 4), permute=True)
        d = parse_bristol(dump_bristol(c))
        assert np.array_equal(evaluate_all(d), evaluate_all(c)), seed

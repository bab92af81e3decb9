"""AIGER ASCII parsing and writing, cross-checked against an independent evaluator and py-aiger."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.aiger import dump_aiger, load_aiger, parse_aiger
from simulators.circuit_library import load_library_circuit
from simulators.circuits import Circuit, CircuitError, Gate, Op, evaluate, evaluate_all
from simulators.circuits import random_circuit as make_random

try:  # py-aiger (PyPI "py-aiger") is an optional cross-check.
    import aiger as pyaiger
except ImportError:  # pragma: no cover - depends on the environment
    pyaiger = None

needs_pyaiger = pytest.mark.skipif(pyaiger is None, reason="py-aiger is not installed")

# x AND NOT y, and NOT x, and the constant 1; the AND lines are deliberately out of order.
TINY = """\
aag 4 2 0 3 2
2
4
8
3
1
8 6 2
6 5 5
i0 x
i1 y
o0 x_and_not_y
c
anything goes here
i0 not a symbol
"""


def aag_eval(text: str, bits: list[int]) -> list[int]:
    """Independent evaluator for AIGER ASCII: literals evaluated recursively from the text."""
    rows = [ln.split() for ln in text.splitlines()]
    _, m, i, _, o, a = rows[0][:6]
    i, o, a = int(i), int(o), int(a)
    inputs = [int(r[0]) for r in rows[1 : 1 + i]]
    outputs = [int(r[0]) for r in rows[1 + i : 1 + i + o]]
    ands = {int(r[0]) >> 1: (int(r[1]), int(r[2])) for r in rows[1 + i + o : 1 + i + o + a]}
    value = {lit >> 1: bool(b) for lit, b in zip(inputs, bits, strict=True)}
    value[0] = False

    def lit_value(lit: int) -> bool:
        var = lit >> 1
        if var not in value:
            r0, r1 = ands[var]
            value[var] = lit_value(r0) and lit_value(r1)
        return value[var] != bool(lit & 1)

    return [int(lit_value(lit)) for lit in outputs]


def pyaiger_table(text: str, n_inputs: int, n_outputs: int) -> np.ndarray:
    """py-aiger's truth table (needs every input and output named x<k>/y<k>)."""
    circ = pyaiger.parse(text)
    table = np.zeros((1 << n_inputs, n_outputs), dtype=np.uint8)
    for a in range(1 << n_inputs):
        out, _ = circ({f"x{k}": bool((a >> k) & 1) for k in range(n_inputs)})
        table[a] = [int(out[f"y{j}"]) for j in range(n_outputs)]
    return table


def random_aag(rnd: random.Random, n_in: int, n_and: int, n_out: int) -> str:
    """Random combinational AIGER text: shuffled variables and AND lines, any literals."""
    m = n_in + n_and + rnd.randint(0, 2)
    variables = rnd.sample(range(1, m + 1), n_in + n_and)
    in_vars, and_vars = variables[:n_in], variables[n_in:]
    lines = [f"aag {m} {n_in} 0 {n_out} {n_and}"]
    lines += [str(2 * v) for v in in_vars]
    usable = [0] + in_vars
    ands = []
    for v in and_vars:
        ands.append((2 * v, 2 * rnd.choice(usable) + rnd.randint(0, 1)))
        ands[-1] += (2 * rnd.choice(usable) + rnd.randint(0, 1),)
        usable.append(v)
    lines += [str(2 * rnd.choice(usable) + rnd.randint(0, 1)) for _ in range(n_out)]
    rnd.shuffle(ands)
    lines += [f"{a} {b} {c}" for a, b, c in ands]
    lines += [f"i{k} x{k}" for k in range(n_in)] + [f"o{k} y{k}" for k in range(n_out)]
    if rnd.random() < 0.5:
        lines += ["c", "a comment", "i0 not a symbol"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- parsing


def test_parse_tiny_example() -> None:
    c = parse_aiger(TINY)
    assert (c.n_inputs, c.n_outputs) == (2, 3)
    assert c.input_names == ("x", "y")
    assert c.output_names == ("x_and_not_y", None, None)
    assert {g.op for g in c.gates} <= {Op.AND, Op.NOT, Op.CONST0, Op.CONST1}
    for x in (0, 1):
        for y in (0, 1):
            assert evaluate(c, [x, y]) == [x & (1 - y), 1 - x, 1]
            assert evaluate(c, [x, y]) == aag_eval(TINY, [x, y])
    and_lines = sorted(g.line for g in c.gates if g.op is Op.AND)
    assert and_lines == [7, 8]


def test_parse_without_symbols_and_blank_lines() -> None:
    c = parse_aiger("aag 1 1 0 2 0\n\n2\n3\n2\n")
    assert c.input_names is None and c.output_names is None
    assert evaluate_all(c).tolist() == [[1, 0], [0, 1]]


def test_load_aiger(tmp_path) -> None:
    path = tmp_path / "tiny.aag"
    path.write_text(TINY)
    assert np.array_equal(evaluate_all(load_aiger(path)), evaluate_all(parse_aiger(TINY)))
    path.write_text(TINY.replace("8 6 2", "8 6 2 4"))
    with pytest.raises(CircuitError, match=r"^.*tiny\.aag:7: an AND line is 'lhs rhs0 rhs1'"):
        load_aiger(path)


def _replace_line(text: str, line_no: int, new: str) -> str:
    lines = text.splitlines()
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line_no", "replacement", "err_line", "pattern"),
    [
        (1, "aig 4 2 0 3 2", 1, r"binary AIGER \('aig'\) is not supported"),
        (1, "agg 4 2 0 3 2", 1, "header must start with 'aag', got 'agg'"),
        (1, "aag 4 2 0 3", 1, r"header must be 'aag M I L O A' \(6 tokens.*got 5"),
        (1, "aag 4 2 0 three 2", 1, "expected a non-negative integer for O, got 'three'"),
        (1, "aag 4 2 1 3 2", 1, r"sequential AIGER is not supported: L=1 latches"),
        (1, "aag 4 2 0 3 2 1", 1, r"bad-state properties \(B=1\) are not supported"),
        (1, "aag 4 2 0 3 2 0 0 2", 1, r"justice properties \(J=2\)"),
        (1, "aag 3 2 0 3 2", 1, r"M=3 is less than I \+ L \+ A = 4"),
        (2, "3", 2, "input literal must be even"),
        (2, "1", 2, "input literal must be even"),
        (2, "0", 2, "input literal must not be a constant"),
        (3, "2", 3, r"variable 1 \(literal '2'\) is defined twice: first at line 2"),
        (3, "10", 3, "literal '10' out of range: M=4 allows literals up to 9"),
        (3, "-4", 3, "expected a non-negative integer for an input, got '-4'"),
        (3, "4 6", 3, "an input line holds 1 literal, got 2 tokens"),
        (4, "11", 4, "literal '11' out of range"),
        (8, "6 8 5", 7, "combinational cycle through AND"),
        (8, "7 5 5", 8, "AND output literal must be even"),
        (8, "4 5 5", 8, r"variable 2 \(literal '4'\) is defined twice: first at line 3"),
        (8, "6 5", 8, "an AND line is 'lhs rhs0 rhs1', got 2 tokens"),
        (9, "i2 z", 9, "symbol i2 out of range: there are 2"),
        (9, "i1 y", 10, "symbol i1 is given twice"),
        (9, "l0 latch", 9, "symbol 'l0' names a latch, but the circuit has none"),
        (9, "x0 what", 9, "expected a symbol 'i<k> name' / 'o<k> name' or the comment marker"),
        (9, "i0", 9, "expected a symbol"),
    ],
)
def test_errors_have_line_numbers(
    line_no: int, replacement: str, err_line: int, pattern: str
) -> None:
    text = _replace_line(TINY, line_no, replacement)
    with pytest.raises(CircuitError, match=pattern) as info:
        parse_aiger(text, filename="tiny.aag")
    assert info.value.line == err_line
    col = "" if info.value.col is None else f"{info.value.col}:"
    assert str(info.value).startswith(f"tiny.aag:{err_line}:{col} ")
    if info.value.col is not None:  # the column points at a token of that line
        line = text.split("\n")[err_line - 1]
        assert 1 <= info.value.col <= len(line) and line[info.value.col - 1] != " "


def test_output_undefined_and_self_loop() -> None:
    with pytest.raises(CircuitError, match=r"AND 4 reads literal 7 \(variable 3\), which is never"):
        parse_aiger("aag 3 1 0 1 1\n2\n4\n4 2 7\n")
    with pytest.raises(CircuitError, match=r"output literal 4 \(variable 2\) is never defined"):
        parse_aiger("aag 2 1 0 1 0\n2\n4\n")
    with pytest.raises(CircuitError, match="combinational cycle through AND 4") as info:
        parse_aiger("aag 2 1 0 1 1\n2\n4\n4 2 5\n")
    assert info.value.line == 4


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "file ends before the header"),
        ("\n\n", "file ends before the header"),
        ("aag 2 2 0 1 0\n2\n", "file ends before all 2 input lines"),
        ("aag 2 1 0 1 1\n2\n4\n", "file ends before all 1 AND lines"),
    ],
)
def test_truncated_files(text: str, pattern: str) -> None:
    with pytest.raises(CircuitError, match=pattern):
        parse_aiger(text)


def test_comment_section_is_ignored() -> None:
    text = "aag 1 1 0 1 0\n2\n2\nc\n!!! garbage 1 2 3\naag 9 9 9 9 9\n"
    assert evaluate_all(parse_aiger(text)).tolist() == [[0], [1]]


# ----------------------------------------------------------------------------- writing


def test_dump_tiny_circuit() -> None:
    c = Circuit(3, (0, 1), (2,), (Gate(Op.NAND, (0, 1), 2),), output_names=("nand",))
    assert dump_aiger(c) == "aag 3 2 0 1 1\n2\n4\n7\n6 2 4\no0 nand\n"
    assert dump_aiger(c, symbols=False) == "aag 3 2 0 1 1\n2\n4\n7\n6 2 4\n"
    text = dump_aiger(c, symbols=True, comment="made by a test\nsecond line")
    assert text.endswith("i0 x0\ni1 x1\no0 nand\nc\nmade by a test\nsecond line\n")


@pytest.mark.parametrize("op", list(Op))
def test_dump_each_op(op: Op) -> None:
    c = Circuit(3, (0, 1), (2,), (Gate(op, (0, 1)[: op.arity], 2),))
    text = dump_aiger(c)
    d = parse_aiger(text)
    assert np.array_equal(evaluate_all(d), evaluate_all(c))
    assert [aag_eval(text, [a, b]) for b in (0, 1) for a in (0, 1)] == evaluate_all(c).tolist()


def test_dump_rejects_multiline_names() -> None:
    c = Circuit(1, (0,), (0,), (), input_names=("a\nb",))
    with pytest.raises(ValueError, match="symbol i0 must be a non-empty line"):
        dump_aiger(c)


def test_library_round_trip() -> None:
    for name in ("adder4", "comparator8", "mux2", "parity8"):
        c = load_library_circuit(name)
        d = parse_aiger(dump_aiger(c))
        assert np.array_equal(evaluate_all(d), evaluate_all(c)), name
    c = load_library_circuit("adder64")
    d = parse_aiger(dump_aiger(c))
    rnd = random.Random(1)
    for _ in range(20):
        bits = [rnd.randint(0, 1) for _ in range(128)]
        assert evaluate(d, bits) == evaluate(c, bits)


@given(
    st.randoms(use_true_random=False),
    st.integers(0, 6),
    st.integers(0, 30),
    st.integers(1, 4),
)
def test_round_trip_random_circuits(rnd: random.Random, n_in: int, n_gates: int, n_out: int):
    if n_in + n_gates == 0:
        n_in = 1
    c = make_random(rnd, n_in, n_gates, n_out, spare_wires=rnd.randint(0, 2), permute=True)
    text = dump_aiger(c, symbols=True)
    d = parse_aiger(text)
    assert (d.input_names or ()) == tuple(f"x{k}" for k in range(n_in))
    assert d.output_names == tuple(f"y{k}" for k in range(n_out))
    table = evaluate_all(c)
    assert np.array_equal(evaluate_all(d), table)
    for a in range(0, 1 << n_in, 7):
        bits = [(a >> k) & 1 for k in range(n_in)]
        assert aag_eval(text, bits) == table[a].tolist()
    # Writing the parsed circuit again gives an equivalent AIG.
    assert np.array_equal(evaluate_all(parse_aiger(dump_aiger(d))), table)


@given(st.randoms(use_true_random=False), st.integers(0, 6), st.integers(0, 25), st.integers(1, 4))
def test_random_aag_text_against_independent_evaluator(
    rnd: random.Random, n_in: int, n_and: int, n_out: int
) -> None:
    text = random_aag(rnd, n_in, n_and, n_out)
    c = parse_aiger(text)
    table = evaluate_all(c)
    for a in range(1 << n_in):
        assert table[a].tolist() == aag_eval(text, [(a >> k) & 1 for k in range(n_in)])


# ----------------------------------------------------------------------------- py-aiger


@needs_pyaiger
@settings(deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(0, 20), st.integers(1, 3))
def test_pyaiger_agrees_on_random_aag_text(
    rnd: random.Random, n_in: int, n_and: int, n_out: int
) -> None:
    text = random_aag(rnd, n_in, n_and, n_out)
    assert np.array_equal(evaluate_all(parse_aiger(text)), pyaiger_table(text, n_in, n_out))


@needs_pyaiger
@settings(deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 5), st.integers(0, 20), st.integers(1, 3))
def test_pyaiger_agrees_on_dumped_circuits(
    rnd: random.Random, n_in: int, n_gates: int, n_out: int
) -> None:
    c = make_random(rnd, n_in, n_gates, n_out, permute=True)
    text = dump_aiger(c, symbols=True)
    assert np.array_equal(pyaiger_table(text, n_in, n_out), evaluate_all(c))


@needs_pyaiger
def test_pyaiger_agrees_on_library_circuits() -> None:
    for name in ("adder4", "mux2", "parity8"):
        c = load_library_circuit(name)
        text = dump_aiger(c, symbols=True)
        assert np.array_equal(pyaiger_table(text, c.n_inputs, c.n_outputs), evaluate_all(c))


def test_round_trip_seeded_random_circuits() -> None:
    """A fixed sweep on top of the hypothesis examples (whose number the profile sets)."""
    for seed in range(300):
        rnd = random.Random(seed)
        c = make_random(rnd, rnd.randint(1, 7), rnd.randint(0, 40), rnd.randint(1, 4), permute=True)
        d = parse_aiger(dump_aiger(c))
        assert np.array_equal(evaluate_all(d), evaluate_all(c)), seed
        text = random_aag(rnd, rnd.randint(0, 6), rnd.randint(0, 30), rnd.randint(1, 3))
        e = parse_aiger(text)
        for a in range(1 << e.n_inputs):
            bits = [(a >> k) & 1 for k in range(e.n_inputs)]
            assert evaluate(e, bits) == aag_eval(text, bits), seed


@needs_pyaiger
def test_pyaiger_agrees_on_seeded_random_text() -> None:
    for seed in range(60):
        rnd = random.Random(seed)
        n_in, n_out = rnd.randint(1, 5), rnd.randint(1, 3)
        text = random_aag(rnd, n_in, rnd.randint(0, 25), n_out)
        assert np.array_equal(evaluate_all(parse_aiger(text)), pyaiger_table(text, n_in, n_out))

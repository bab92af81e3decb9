"""The circuit model, its evaluators, structure measures, and the classical circuit library."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.circuit_library import (
    LIBRARY,
    LIBRARY_DIR,
    comparator,
    library_text,
    load_library_circuit,
    multiplexer,
    parity_tree,
    ripple_carry_adder,
    xor_of,
)
from simulators.circuits import (
    MAX_EVALUATE_ALL_INPUTS,
    Circuit,
    CircuitError,
    Gate,
    Op,
    depth,
    evaluate,
    evaluate_all,
    levels,
    random_circuit,
    width,
)

# ----------------------------------------------------------------------------- helpers


def naive_eval(circuit: Circuit, bits: list[int]) -> list[int]:
    """Independent evaluator: recursion from each output through the drivers, Python bools."""
    driver = {g.output: g for g in circuit.gates}
    value = {w: bool(b) for w, b in zip(circuit.inputs, bits, strict=True)}

    def val(w: int) -> bool:
        if w not in value:
            g = driver[w]
            x = [val(v) for v in g.inputs]
            value[w] = {
                Op.AND: lambda: x[0] and x[1],
                Op.OR: lambda: x[0] or x[1],
                Op.XOR: lambda: x[0] != x[1],
                Op.NAND: lambda: not (x[0] and x[1]),
                Op.NOR: lambda: not (x[0] or x[1]),
                Op.XNOR: lambda: x[0] == x[1],
                Op.NOT: lambda: not x[0],
                Op.COPY: lambda: x[0],
                Op.CONST0: lambda: False,
                Op.CONST1: lambda: True,
            }[g.op]()
        return value[w]

    return [int(val(w)) for w in circuit.outputs]


def naive_levels(circuit: Circuit) -> list[int]:
    driver = {g.output: g for g in circuit.gates}

    def lvl(w: int) -> int:
        if w in circuit.inputs:
            return 0
        return 1 + max((lvl(v) for v in driver[w].inputs), default=0)

    return [lvl(g.output) for g in circuit.gates]


def bits_of(x: int, n: int) -> list[int]:
    return [(x >> i) & 1 for i in range(n)]


def int_of(bits) -> int:
    return sum(int(b) << i for i, b in enumerate(bits))


@st.composite
def dag_circuits(draw, max_inputs: int = 6, max_gates: int = 25) -> Circuit:
    """Random DAGs: each gate reads earlier wires; wire ids optionally permuted."""
    n_in = draw(st.integers(0, max_inputs))
    n_gates = draw(st.integers(0, max_gates))
    spare = draw(st.integers(0, 2))
    avail = list(range(n_in))
    raw = []
    for i in range(n_gates):
        op = draw(st.sampled_from([o for o in Op if o.arity == 0 or avail]))
        ins = tuple(draw(st.sampled_from(avail)) for _ in range(op.arity))
        raw.append((op, ins, n_in + i))
        avail.append(n_in + i)
    outputs = draw(st.lists(st.sampled_from(avail), max_size=4)) if avail else []
    n_wires = n_in + n_gates + spare
    perm = draw(st.permutations(range(n_wires))) if draw(st.booleans()) else list(range(n_wires))
    return Circuit(
        n_wires,
        tuple(perm[w] for w in range(n_in)),
        tuple(perm[w] for w in outputs),
        tuple(Gate(op, tuple(perm[w] for w in ins), perm[o]) for op, ins, o in raw),
    )


# ----------------------------------------------------------------------------- ops and gates


TRUTH = {
    Op.AND: [0, 0, 0, 1],
    Op.OR: [0, 1, 1, 1],
    Op.XOR: [0, 1, 1, 0],
    Op.NAND: [1, 1, 1, 0],
    Op.NOR: [1, 0, 0, 0],
    Op.XNOR: [1, 0, 0, 1],
}


@pytest.mark.parametrize("op", list(TRUTH))
def test_binary_op_truth_tables(op: Op) -> None:
    c = Circuit(3, (0, 1), (2,), (Gate(op, (0, 1), 2),))
    # rows: a = bit 0 (input 0), b = bit 1 -> (a, b) = (0,0), (1,0), (0,1), (1,1)
    expected = [TRUTH[op][2 * b + a] for b in (0, 1) for a in (0, 1)]
    assert evaluate_all(c)[:, 0].tolist() == expected
    assert [evaluate(c, [a, b])[0] for b in (0, 1) for a in (0, 1)] == expected


def test_unary_and_constant_ops() -> None:
    c = Circuit(
        5,
        (0,),
        (1, 2, 3, 4),
        (
            Gate("INV", (0,), 1),
            Gate("EQW", (0,), 2),
            Gate(Op.CONST0, (), 3),
            Gate("const1", (), 4),
        ),
    )
    assert evaluate(c, [0]) == [1, 0, 0, 1]
    assert evaluate(c, [1]) == [0, 1, 0, 1]
    assert evaluate_all(c).tolist() == [[1, 0, 0, 1], [0, 1, 0, 1]]


def test_op_parse_aliases_and_unknown() -> None:
    assert Op.parse("inv") is Op.NOT
    assert Op.parse("EQW") is Op.COPY
    assert Op.parse(Op.XOR) is Op.XOR
    with pytest.raises(CircuitError, match="unknown gate op 'MUX'"):
        Op.parse("MUX")
    with pytest.raises(CircuitError, match="unknown gate op"):
        Gate("FOO", (0, 1), 2)


@pytest.mark.parametrize(
    ("op", "inputs"), [(Op.AND, (0,)), (Op.NOT, (0, 1)), (Op.CONST1, (0,)), (Op.XOR, (0, 1, 2))]
)
def test_gate_arity(op: Op, inputs: tuple[int, ...]) -> None:
    with pytest.raises(CircuitError, match=rf"{op} takes {op.arity} input"):
        Gate(op, inputs, 5, line=12)
    with pytest.raises(CircuitError, match="^line 12: "):
        Gate(op, inputs, 5, line=12)


def test_gate_line_not_part_of_equality() -> None:
    assert Gate(Op.AND, (0, 1), 2, line=3) == Gate(Op.AND, [0, 1], 2)


# ----------------------------------------------------------------------------- validation


def test_cycle_names_a_wire_on_it() -> None:
    gates = (
        Gate(Op.AND, (0, 4), 2, line=5),
        Gate(Op.NOT, (2,), 3, line=6),
        Gate(Op.XOR, (3, 1), 4, line=7),
    )
    with pytest.raises(CircuitError, match="combinational cycle") as info:
        Circuit(5, (0, 1), (4,), gates, source="loop.bristol")
    msg = str(info.value)
    assert msg.startswith("loop.bristol:")
    assert any(f"wire {w} " in msg for w in (2, 3, 4))
    assert info.value.line in (5, 6, 7)


def test_self_loop() -> None:
    with pytest.raises(CircuitError, match="combinational cycle through wire 1"):
        Circuit(2, (0,), (1,), (Gate(Op.AND, (0, 1), 1),))


def test_use_before_drive_without_cycle() -> None:
    gates = (Gate(Op.NOT, (3,), 2, line=4), Gate(Op.NOT, (0,), 3, line=5))
    with pytest.raises(CircuitError, match="before it is driven.*topological order") as info:
        Circuit(4, (0,), (2,), gates)
    assert info.value.line == 4


def test_undefined_wire() -> None:
    with pytest.raises(CircuitError, match="wire 1 is read by .* neither an input nor driven"):
        Circuit(3, (0,), (2,), (Gate(Op.AND, (0, 1), 2, line=9),))


def test_doubly_driven_by_two_gates() -> None:
    gates = (Gate(Op.NOT, (0,), 1, line=4), Gate(Op.COPY, (0,), 1, line=5))
    with pytest.raises(CircuitError, match="wire 1 is doubly driven.*line 4.*line 5") as info:
        Circuit(2, (0,), (1,), gates)
    assert info.value.line == 5


def test_input_driven_by_gate() -> None:
    with pytest.raises(CircuitError, match="wire 0 is doubly driven: it is circuit input 0"):
        Circuit(2, (0, 1), (0,), (Gate(Op.NOT, (1,), 0),))


def test_duplicate_input() -> None:
    with pytest.raises(CircuitError, match="listed as input 0 and again as input 1"):
        Circuit(2, (0, 0), (0,), ())


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"inputs": (0, 7)}, "input 1: wire 7 out of range"),
        ({"outputs": (-1,)}, "output 0: wire -1 out of range"),
        ({"gates": (Gate(Op.NOT, (0,), 9),)}, r"gate #0 \(NOT -> wire 9\): wire 9 out of range"),
        ({"outputs": (2,)}, "output 0 is wire 2, which is neither an input nor driven"),
        ({"input_sizes": (1, 2)}, r"input_sizes \(1, 2\) sum to 3, but there are 2"),
        ({"output_sizes": (2,)}, "output_sizes"),
        ({"input_names": ("a",)}, "input_names has 1 entries, but there are 2"),
        ({"n_wires": -1}, "n_wires must be a non-negative integer"),
    ],
)
def test_validation_errors(kwargs: dict, pattern: str) -> None:
    base = {"n_wires": 3, "inputs": (0, 1), "outputs": (1,), "gates": ()}
    with pytest.raises(CircuitError, match=pattern):
        Circuit(**{**base, **kwargs})


def test_circuit_error_is_value_error_with_location() -> None:
    err = CircuitError("boom", line=3, source="f.bristol")
    assert isinstance(err, ValueError)
    assert str(err) == "f.bristol:3: boom"
    assert (err.line, err.source, err.message) == (3, "f.bristol", "boom")


def test_outputs_may_be_inputs_and_repeat() -> None:
    c = Circuit(2, (0, 1), (1, 0, 1), ())
    assert evaluate(c, [1, 0]) == [0, 1, 0]
    assert evaluate_all(c).tolist() == [[0, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 1]]


# ----------------------------------------------------------------------------- evaluation


def test_evaluate_checks_its_arguments() -> None:
    c = parity_tree(3)
    with pytest.raises(ValueError, match="expected 3 input bits, got 2"):
        evaluate(c, [0, 1])
    with pytest.raises(ValueError, match="input bit 1 must be 0 or 1"):
        evaluate(c, [0, 2, 1])
    assert evaluate(c, [True, False, True]) == [0]


def test_evaluate_all_refuses_large_circuits() -> None:
    n = MAX_EVALUATE_ALL_INPUTS + 1
    with pytest.raises(ValueError, match=f"limited to 20 inputs; this circuit has {n}"):
        evaluate_all(parity_tree(n))


def test_evaluate_all_at_the_limit_and_without_inputs() -> None:
    table = evaluate_all(parity_tree(20))
    assert table.shape == (1 << 20, 1) and table.dtype == np.uint8
    idx = np.arange(1 << 20, dtype=np.uint32)
    expected = np.zeros(1 << 20, dtype=np.uint32)
    for k in range(20):
        expected ^= (idx >> k) & 1
    assert np.array_equal(table[:, 0], expected)
    c = Circuit(1, (), (0,), (Gate(Op.CONST1, (), 0),))
    assert evaluate_all(c).tolist() == [[1]]
    assert evaluate(c, []) == [1]


@given(dag_circuits())
def test_evaluators_agree_on_random_dags(c: Circuit) -> None:
    table = evaluate_all(c)
    assert table.shape == (1 << c.n_inputs, c.n_outputs)
    for a in range(1 << c.n_inputs):
        bits = bits_of(a, c.n_inputs)
        expected = naive_eval(c, bits)
        assert evaluate(c, bits) == expected
        assert table[a].tolist() == expected


@given(dag_circuits())
def test_levels_on_random_dags(c: Circuit) -> None:
    lv = levels(c)
    assert lv == naive_levels(c)
    assert depth(c) == max(lv, default=0)
    assert width(c) == max((lv.count(k) for k in set(lv)), default=0)


@given(st.randoms(use_true_random=False), st.integers(0, 5), st.integers(0, 30))
def test_random_circuit_helper(rnd: random.Random, n_in: int, n_gates: int) -> None:
    if n_in + n_gates == 0:
        n_in = 1
    c = random_circuit(rnd, n_in, n_gates, 3, spare_wires=2, permute=True)
    assert (c.n_inputs, len(c.gates), c.n_outputs, c.n_wires) == (
        n_in,
        n_gates,
        3,
        n_in + n_gates + 2,
    )
    bits = [rnd.randint(0, 1) for _ in range(n_in)]
    assert evaluate(c, bits) == naive_eval(c, bits)


def test_random_circuit_refusals() -> None:
    rnd = random.Random(0)
    with pytest.raises(ValueError, match="no inputs and no constant"):
        random_circuit(rnd, 0, 3, 1, ops=["AND"])
    with pytest.raises(ValueError, match="cannot choose outputs"):
        random_circuit(rnd, 0, 0, 1)
    c = random_circuit(rnd, 3, 40, 2, ops=[Op.AND, "INV"])
    assert {g.op for g in c.gates} <= {Op.AND, Op.NOT}


# ----------------------------------------------------------------------------- structure


def test_levels_depth_width_examples() -> None:
    c = parity_tree(8)
    assert levels(c) == [1, 1, 1, 1, 2, 2, 3]
    assert (depth(c), width(c)) == (3, 4)
    c = xor_of([], 4)
    assert (levels(c), depth(c), width(c)) == ([1], 1, 1)
    empty = Circuit(1, (0,), (0,), ())
    assert (levels(empty), depth(empty), width(empty)) == ([], 0, 0)
    # An n-bit ripple-carry adder: the carry chain has 2 gates per bit after bit 0.
    assert depth(ripple_carry_adder(8)) == 1 + 2 * 7


# ----------------------------------------------------------------------------- library


@pytest.mark.parametrize("n", range(1, 7))
def test_adder_exhaustive(n: int) -> None:
    c = ripple_carry_adder(n)
    assert (c.n_inputs, c.n_outputs, c.input_sizes, c.output_sizes) == (
        2 * n,
        n + 1,
        (n, n),
        (n + 1,),
    )
    table = evaluate_all(c)
    weights = 1 << np.arange(n + 1)
    got = table.astype(np.int64) @ weights
    idx = np.arange(1 << (2 * n))
    assert np.array_equal(got, (idx & ((1 << n) - 1)) + (idx >> n))


def test_adder64_random() -> None:
    c = load_library_circuit("adder64")
    rng = random.Random(64)
    cases = [(0, 0), (2**64 - 1, 1), (2**64 - 1, 2**64 - 1), (2**63, 2**63)]
    cases += [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(200)]
    for a, b in cases:
        assert int_of(evaluate(c, bits_of(a, 64) + bits_of(b, 64))) == a + b


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_comparator_exhaustive(n: int) -> None:
    c = comparator(n)
    idx = np.arange(1 << (2 * n))
    a, b = idx & ((1 << n) - 1), idx >> n
    assert np.array_equal(evaluate_all(c)[:, 0], (a < b).astype(np.uint8))


@pytest.mark.parametrize("k", range(4))
def test_multiplexer_exhaustive(k: int) -> None:
    c = multiplexer(k)
    assert c.n_inputs == k + (1 << k)
    table = evaluate_all(c)
    for x in range(1 << c.n_inputs):
        s, data = x & ((1 << k) - 1), x >> k
        assert table[x, 0] == (data >> s) & 1


@pytest.mark.parametrize("n", range(1, 11))
def test_parity_tree(n: int) -> None:
    c = parity_tree(n)
    table = evaluate_all(c)
    assert table[:, 0].tolist() == [bin(x).count("1") % 2 for x in range(1 << n)]
    assert depth(c) == max(1, (n - 1).bit_length())


@st.composite
def index_sets(draw) -> tuple[int, list[int]]:
    n = draw(st.integers(0, 8))
    chosen = draw(st.lists(st.integers(0, n - 1), unique=True)) if n else []
    return n, chosen


@given(index_sets())
def test_xor_of(case: tuple[int, list[int]]) -> None:
    n, chosen = case
    c = xor_of(chosen, n)
    mask = sum(1 << i for i in chosen)
    assert evaluate_all(c)[:, 0].tolist() == [bin(x & mask).count("1") % 2 for x in range(1 << n)]


def test_xor_of_empty_is_constant_zero() -> None:
    c = xor_of([], 3)
    assert [g.op for g in c.gates] == [Op.CONST0]
    assert evaluate_all(c)[:, 0].tolist() == [0] * 8


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: xor_of([0, 0], 3), "distinct"),
        (lambda: xor_of([3], 3), "not an input index"),
        (lambda: ripple_carry_adder(0), "n must be an integer >= 1"),
        (lambda: comparator(-2), "n must be an integer >= 1"),
        (lambda: multiplexer(-1), "select_bits must be an integer >= 0"),
        (lambda: parity_tree(0), "n must be"),
    ],
)
def test_generator_argument_errors(call, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        call()


def test_generators_use_only_bristol_native_ops() -> None:
    for name, make in LIBRARY.items():
        ops = {g.op for g in make().gates}
        assert ops <= {Op.AND, Op.XOR, Op.COPY, Op.CONST0}, name


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_committed_library_files_match_generators(name: str) -> None:
    path = LIBRARY_DIR / f"{name}.bristol"
    assert path.exists(), f"{path} missing: run python -m simulators.circuit_library"
    assert path.read_text(encoding="ascii") == library_text(name), (
        f"{path} is stale: regenerate with python -m simulators.circuit_library"
    )


@pytest.mark.parametrize("name", sorted(set(LIBRARY) - {"adder64"}))
def test_library_files_match_generators_functionally(name: str) -> None:
    c = load_library_circuit(name)
    g = LIBRARY[name]()
    assert (c.input_sizes, c.output_sizes) == (g.input_sizes, g.output_sizes)
    assert np.array_equal(evaluate_all(c), evaluate_all(g))


def test_load_library_unknown_name() -> None:
    with pytest.raises(KeyError, match="no library circuit 'adder5'"):
        load_library_circuit("adder5")


def test_evaluators_agree_on_seeded_random_circuits() -> None:
    """A fixed sweep on top of the hypothesis examples (whose number the profile sets)."""
    for seed in range(300):
        rnd = random.Random(seed)
        n_in = rnd.randint(1, 7)
        c = random_circuit(rnd, n_in, rnd.randint(0, 40), rnd.randint(1, 4), permute=True)
        table = evaluate_all(c)
        for a in rnd.sample(range(1 << n_in), min(8, 1 << n_in)):
            bits = bits_of(a, n_in)
            assert evaluate(c, bits) == naive_eval(c, bits) == table[a].tolist(), seed

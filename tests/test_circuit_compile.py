"""compile_circuit: every circuit runs on ONE universal RCNN, checked against evaluate().

The network (float32/float64 torch, exact rationals) and the local rule it implements are
checked against :func:`simulators.circuits.evaluate`/``evaluate_all``: exhaustively for
random circuits up to 10 inputs and the small library circuits, on sampled inputs for larger
ones (hypothesis). Also: the universal weights are the same for every circuit, every
intermediate grid is valid, decoding rejects corrupted grids, and the ``srcnn circuit`` CLI.
"""

from __future__ import annotations

import itertools
import json
import random
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions import circuit as cc
from constructions.circuit import (
    ENCODING,
    CompiledCircuit,
    DecodeError,
    Kind,
    Route,
    cell_code,
    compile_circuit,
    network_model,
    rollout,
    run_circuit,
    run_circuit_batch,
    universal_machine,
    universal_patch_network,
)
from constructions.patchnet import MANTISSA_BITS, POSITION_NAMES
from simulators.aiger import dump_aiger
from simulators.bristol import dump_bristol
from simulators.circuit_library import (
    LIBRARY_DIR,
    load_library_circuit,
    multiplexer,
    parity_tree,
    ripple_carry_adder,
    xor_of,
)
from simulators.circuits import Circuit, Gate, Op, evaluate, evaluate_all, random_circuit
from srcnn.cli import main

# ----------------------------------------------------------------------------- helpers


def all_assignments(n: int) -> np.ndarray:
    """Row ``a`` holds the bits of ``a`` (input k = bit k), as ``evaluate_all`` orders them."""
    a = np.arange(1 << n, dtype=np.int64)
    return ((a[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int64)


def check_exhaustive(circuit: Circuit, engine: str) -> CompiledCircuit:
    compiled = compile_circuit(circuit)
    got = run_circuit_batch(compiled, all_assignments(circuit.n_inputs), engine)
    want = evaluate_all(circuit)
    assert got.shape == want.shape
    bad = np.flatnonzero((got != want).any(axis=1))
    assert not len(bad), f"{engine}: assignment {bad[0]}: {got[bad[0]]} != {want[bad[0]]}"
    return compiled


def check_sampled(circuit: Circuit, rows: np.ndarray, engine: str) -> None:
    compiled = compile_circuit(circuit)
    got = run_circuit_batch(compiled, rows, engine)
    want = np.array([evaluate(circuit, list(map(int, r))) for r in rows], dtype=np.uint8)
    assert np.array_equal(got, want.reshape(got.shape))


def seeded(seed: int, n_in: int, n_gates: int, n_out: int, **kw) -> Circuit:
    return random_circuit(random.Random(seed), n_in, n_gates, n_out, **kw)


# ----------------------------------------------------------------------------- the machine


def test_universal_machine_is_built_once_and_small() -> None:
    m = universal_machine()
    assert universal_machine() is m and universal_patch_network() is m.patch
    assert len(m.rule.domain) == len(ENCODING.codes()) == 24
    assert m.padding == cc.EMPTY == 0 and ENCODING.decode(0) == {"kind": 0, "route": 0, "s": 0}
    # the rule reads only the centre and the left column
    assert {POSITION_NAMES[p] for p in m.rule.positions_read} == {"nw", "w", "sw", "c"}
    assert m.bits <= MANTISSA_BITS["float32"]
    assert m.exact_in("float32") and m.exact_in("float64")
    assert len(m.weight_set) < 64 and m.n_shared_parameters < 4000


def test_network_equals_rule_on_every_patch() -> None:
    """All 24^4 patches of the four positions read (the others random): network == rule."""
    m = universal_machine()
    dom = np.array([int(v) for v in m.rule.domain])
    combos = np.array(list(itertools.product(range(len(dom)), repeat=4)))
    rng = np.random.default_rng(0)
    patches = dom[rng.integers(0, len(dom), size=(len(combos), 9))]
    for col, pos in enumerate((0, 3, 6, 4)):  # NW, W, SW, C
        patches[:, pos] = dom[combos[:, col]]
    # the rule, from its tables
    lk = m.lookup
    want = (patches[:, 4] + lk["reset_s"][patches[:, 4]] + lk["from_w"][patches[:, 3]]
            + lk["from_nw"][patches[:, 0]] + lk["from_sw"][patches[:, 6]])
    for i in rng.integers(0, len(patches), 200):  # the tables are the LocalRule itself
        assert want[i] == m.rule([Fraction(int(v)) for v in patches[i]])
    for dtype in ("float32", "float64"):
        model = network_model(dtype)
        with torch.no_grad():
            got = model.patch_network(torch.as_tensor(patches, dtype=model.A1.dtype))
        assert np.array_equal(got.to(torch.float64).numpy(), want.astype(np.float64)), dtype
    pick = rng.integers(0, len(patches), 300)
    exact = m.patch.evaluate_exact(patches[pick])
    assert list(exact) == [Fraction(int(w)) for w in want[pick]]


def test_head_reads_out_cells() -> None:
    m = universal_machine()
    values = [int(v) for v in m.rule.domain]
    got = m.head.evaluate_exact(np.array(values, dtype=object))
    one = cell_code(Kind.OUT, Route.NONE, 1)
    assert [int(g) for g in got] == [int(v == one) for v in values]


def test_shared_parameters_are_the_same_for_every_circuit() -> None:
    circuits = [ripple_carry_adder(3), parity_tree(5), multiplexer(1),
                seeded(1, 6, 20, 3), seeded(2, 2, 3, 1)]
    metas = [compile_circuit(c).metadata() for c in circuits]
    keys = ("shared_parameters", "weight_set_size", "bits_needed", "hidden", "codes")
    for key in keys:
        assert len({json.dumps(m[key]) for m in metas}) == 1, key
    model = network_model("float32")
    assert model.n_shared_parameters == metas[0]["shared_parameters"]
    assert network_model("float32") is model
    assert len({m["grid"][0] * m["grid"][1] for m in metas}) > 1  # only the program differs


# ----------------------------------------------------------------------------- exhaustive


@pytest.mark.parametrize("n_in,n_gates,n_out,seeds", [
    (1, 1, 1, range(4)), (2, 4, 2, range(6)), (3, 8, 3, range(6)), (5, 15, 3, range(5)),
    (7, 25, 4, range(4)), (8, 40, 4, range(3)), (10, 30, 3, range(2)),
])
def test_random_circuits_exhaustive_float32(n_in: int, n_gates: int, n_out: int,
                                            seeds: range) -> None:
    for seed in seeds:
        check_exhaustive(seeded(1000 * n_in + seed, n_in, n_gates, n_out), "float32")


@pytest.mark.parametrize("seed", range(120))
def test_random_circuits_exhaustive_rule(seed: int) -> None:
    """Many more layouts through the local rule itself (the network equals it on every
    patch, test above): placement and routing are right for every circuit shape."""
    rng = random.Random(seed)
    circuit = random_circuit(rng, rng.randint(0, 10), rng.randint(0, 60), rng.randint(0, 5),
                             spare_wires=rng.randint(0, 2), permute=rng.random() < 0.5)
    check_exhaustive(circuit, "rule")


def test_float32_float64_exact_and_rule_agree_on_small_circuits() -> None:
    for circuit in (seeded(7, 3, 6, 2), ripple_carry_adder(1), xor_of([0, 2], 3)):
        compiled = compile_circuit(circuit)
        rows = all_assignments(circuit.n_inputs)
        grids = compiled.initial_grids(rows[:3])
        finals = {e: rollout(compiled, grids, e) for e in ("float32", "float64", "rule")}
        finals["exact"] = rollout(compiled, grids[:2], "exact")
        for e, g in finals.items():
            n = len(g)
            assert np.array_equal(np.asarray(g, dtype=object).astype(np.float64),
                                  finals["rule"][:n].astype(np.float64)), e
        assert np.array_equal(run_circuit_batch(compiled, rows[:2], "exact"),
                              evaluate_all(circuit)[:2])


# ----------------------------------------------------------------------------- library


def test_adder4_exhaustive_both_dtypes() -> None:
    circuit = load_library_circuit("adder4")
    compiled = check_exhaustive(circuit, "float32")
    check_exhaustive(circuit, "float64")
    assert compiled.grid_shape == (6, 20) and compiled.layers == 19


@pytest.mark.parametrize("name", ["mux2", "parity8"])
def test_small_library_circuits_exhaustive(name: str) -> None:
    check_exhaustive(load_library_circuit(name), "float32")


def test_comparator8_sampled() -> None:
    circuit = load_library_circuit("comparator8")
    rng = np.random.default_rng(8)
    check_sampled(circuit, rng.integers(0, 2, size=(64, circuit.n_inputs)), "float32")
    check_sampled(circuit, rng.integers(0, 2, size=(2048, circuit.n_inputs)), "rule")
    assert compile_circuit(circuit).grid_shape == (4, 11 * 8 - 4)


@pytest.mark.parametrize("indices,n", [([], 3), ([1], 3), ([0, 2, 3], 5), ([6, 1, 4, 0], 8)])
def test_xor_of_exhaustive(indices: list[int], n: int) -> None:
    check_exhaustive(xor_of(indices, n), "float32")


def test_adder64_sampled_and_its_shape() -> None:
    circuit = load_library_circuit("adder64")
    compiled = compile_circuit(circuit)
    rows = np.random.default_rng(64).integers(0, 2, size=(2, circuit.n_inputs))
    check_sampled(circuit, rows, "float32")
    check_sampled(circuit, np.random.default_rng(65).integers(0, 2, (64, 128)), "rule")
    assert compiled.grid_shape == (6, 7 * 64 - 8)  # a periodic layout: 7 columns per bit


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 16])
def test_ripple_carry_adder_layout_is_linear(n: int) -> None:
    circuit = ripple_carry_adder(n)
    compiled = compile_circuit(circuit)
    if n >= 3:  # 6 rows, 7 columns per bit
        assert compiled.grid_shape == (6, 7 * n - 8)
    if n <= 5:
        check_exhaustive(circuit, "rule")
    else:
        check_sampled(circuit, np.random.default_rng(n).integers(0, 2, (512, 2 * n)), "rule")


# ----------------------------------------------------------------------------- hypothesis


@st.composite
def circuits(draw, max_inputs: int = 24, max_gates: int = 120) -> Circuit:
    seed = draw(st.integers(0, 2**32 - 1))
    n_in = draw(st.integers(1, max_inputs))
    n_gates = draw(st.integers(0, max_gates))
    n_out = draw(st.integers(0, 6))
    ops = draw(st.sampled_from([None, ["AND", "XOR"], ["NAND"], ["AND", "NOT", "CONST1"],
                                ["OR", "NOR", "XNOR", "COPY"]]))
    return random_circuit(random.Random(seed), n_in, n_gates, n_out, ops=ops,
                          permute=draw(st.booleans()))


@given(circuits(), st.integers(0, 2**32 - 1))
def test_larger_random_circuits_sampled_rule(circuit: Circuit, seed: int) -> None:
    rows = np.random.default_rng(seed).integers(0, 2, size=(48, circuit.n_inputs))
    check_sampled(circuit, rows, "rule")


@settings(max_examples=8)
@given(circuits(max_inputs=20, max_gates=60), st.integers(0, 2**32 - 1))
def test_larger_random_circuits_sampled_network(circuit: Circuit, seed: int) -> None:
    rows = np.random.default_rng(seed).integers(0, 2, size=(8, circuit.n_inputs))
    check_sampled(circuit, rows, "float32")


# ----------------------------------------------------------------------------- invariants


def test_every_intermediate_grid_is_valid_and_the_wave_settles() -> None:
    circuit = seeded(3, 6, 30, 4)
    compiled = compile_circuit(circuit)
    rows = all_assignments(6)[::5]
    model = network_model("float32")
    with torch.no_grad():
        grids = model.rollout(torch.as_tensor(compiled.initial_grids(rows), dtype=torch.float32),
                              compiled.layers + 3, keep=True)
    for t, g in enumerate(grids):
        codes = compiled.check_grids(g.numpy())  # valid codes, instructions untouched
        if t >= 1:  # column t - 1 .. 0 have settled (the wave moves one column per layer)
            prev = compiled.check_grids(grids[t - 1].numpy())
            assert np.array_equal(codes[:, :, :t], prev[:, :, :t])
    final = grids[compiled.layers].numpy()
    assert np.array_equal(final, grids[-1].numpy())  # a fixed point after L layers
    assert np.array_equal(compiled.read_outputs_batch(final),
                          evaluate_all(circuit)[::5])


def test_readout_is_the_classifier_for_one_output() -> None:
    """Definition 5's scalar output f(z) = sum(head(grid)) is the circuit's value."""
    circuit = xor_of([0, 1, 3], 4)
    compiled = compile_circuit(circuit)
    rows = all_assignments(4)
    model = network_model("float64")
    with torch.no_grad():
        final = model.rollout(torch.as_tensor(compiled.initial_grids(rows), dtype=torch.float64),
                              compiled.layers)
        value = model.readout(final).numpy()
    assert np.array_equal(value, evaluate_all(circuit)[:, 0].astype(np.float64))


def test_program_respects_capacities() -> None:
    compiled = compile_circuit(seeded(5, 8, 50, 5))
    program = compiled.program
    lk = universal_machine().lookup
    kind, route = lk["kind"][program], lk["route"][program]
    R, C = program.shape
    for c in range(1, C):
        for r in range(R):
            senders = sum(1 for d in (-1, 0, 1) if 0 <= r - d < R
                          and d in cc.ROUTE_DELTAS[Route(route[r - d, c - 1])])
            cap = 0 if (kind[r, c], route[r, c]) == (Kind.WIRE, Route.NONE) \
                else cc.CAPACITY[Kind(kind[r, c])]
            assert senders <= cap, (r, c)


# ----------------------------------------------------------------------------- edge cases


def test_degenerate_circuits() -> None:
    cases = [
        Circuit(0, (), (), ()),  # nothing at all
        Circuit(2, (0, 1), (1, 0, 1), ()),  # outputs are inputs, repeated
        Circuit(3, (0, 1, 2), (), ()),  # no outputs
        Circuit(2, (0,), (1,), (Gate(Op.CONST1, (), 1),)),  # a constant
        Circuit(4, (0, 1), (3, 2), (Gate(Op.COPY, (0,), 2), Gate(Op.XOR, (2, 0), 3))),
        Circuit(4, (0, 1), (2, 3), (Gate(Op.NAND, (0, 0), 2), Gate(Op.XNOR, (1, 1), 3))),
        Circuit(5, (0, 1), (4,), (Gate(Op.AND, (0, 1), 2), Gate(Op.OR, (0, 1), 3),
                                  Gate(Op.NOR, (2, 3), 4))),
        Circuit(4, (0, 1, 2), (3,), (Gate(Op.NOT, (2,), 3),)),  # unused inputs 0, 1
    ]
    for circuit in cases:
        compiled = check_exhaustive(circuit, "float32")
        meta = compiled.metadata()
        assert meta["layers"] == compiled.grid_shape[1] - 1 >= 0
    unused = compile_circuit(cases[-1])
    assert unused.input_cells[0] is None and unused.input_cells[2] is not None


def test_run_circuit_single_and_errors() -> None:
    circuit = load_library_circuit("adder4")
    compiled = compile_circuit(circuit)
    bits = [1, 1, 0, 1, 1, 0, 1, 1]
    assert run_circuit(compiled, bits) == evaluate(circuit, bits)
    assert run_circuit(compiled, bits, engine="float32") == evaluate(circuit, bits)
    with pytest.raises(ValueError, match="8 input bits"):
        run_circuit(compiled, [0, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        run_circuit_batch(compiled, [[2] * 8])
    with pytest.raises(ValueError, match="unknown engine"):
        run_circuit_batch(compiled, [[0] * 8], engine="float8")


def test_read_outputs_rejects_corrupted_grids() -> None:
    compiled = compile_circuit(load_library_circuit("mux2"))
    grid = rollout(compiled, compiled.initial_grids([[1, 0, 0, 1, 1, 0]]), "rule")[0]
    assert compiled.read_outputs(grid) == evaluate(compiled.circuit, [1, 0, 0, 1, 1, 0])
    r, c = compiled.output_cells[0]
    for value, message in [(0.5, "not a valid cell code"), (-1, "not a valid"),
                           (10**6, "not a valid"), (np.nan, "not a valid"),
                           (cell_code(Kind.WIRE, Route.NONE) + 36, "not a valid"),
                           (cell_code(Kind.AND, Route.E, 2), "but the program has")]:
        bad = grid.astype(np.float64).copy()
        bad[r, c] = value
        with pytest.raises(DecodeError, match=message):
            compiled.read_outputs(bad)
    with pytest.raises(DecodeError, match="shape"):
        compiled.read_outputs(grid[:, :-1])


def test_metadata_fields() -> None:
    meta = compile_circuit(load_library_circuit("adder4")).metadata()
    for key in ("gates", "depth", "width", "grid", "layers", "weight_set_size",
                "shared_parameters", "bits_needed", "hidden", "cell_updates"):
        assert key in meta
    assert meta["gates"] == 17 and meta["depth"] == 7 and meta["grid"] == [6, 20]
    json.dumps(meta)


def test_program_text_draws_every_cell() -> None:
    compiled = compile_circuit(parity_tree(4))
    lines = compiled.program_text().splitlines()
    assert len(lines) == compiled.grid_shape[0]
    assert all(len(line) == compiled.grid_shape[1] for line in lines)
    assert sum(line.count("i") for line in lines) == 4
    assert sum(line.count("x") for line in lines) == 3


# ----------------------------------------------------------------------------- the CLI


def cli(argv: list[str]) -> int:
    return main(["circuit", *argv])


ADDER4 = str(LIBRARY_DIR / "adder4.bristol")


def test_cli_inputs_json(capsys: pytest.CaptureFixture[str]) -> None:
    circuit = load_library_circuit("adder4")
    for engine in ("rcnn", "reference"):
        assert cli([ADDER4, "--inputs", "11010111", "--engine", engine, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        want = "".join(map(str, evaluate(circuit, [1, 1, 0, 1, 0, 1, 1, 1])))
        assert out == {"outputs": want, "gates": 17, "depth": 7, "grid": [6, 20], "layers": 19}
    assert cli([ADDER4, "--inputs", "11010111", "--dtype", "float64"]) == 0
    assert "outputs  " in capsys.readouterr().out


def test_cli_checks_every_assignment(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert cli([ADDER4]) == 0
    assert "all 256 agree" in capsys.readouterr().out
    path = tmp_path / "c.aag"
    circuit = seeded(11, 5, 12, 3, ops=["AND", "NOT", "CONST0", "OR"])
    path.write_text(dump_aiger(circuit))
    assert cli([str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["assignments"] == 32 and out["agree"] == 32 and out["disagree"] == 0
    other = tmp_path / "c.txt"
    other.write_text(dump_bristol(circuit))
    assert cli([str(other), "--format", "bristol", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agree"] == 32


def test_cli_reports_disagreement(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    real = cc.run_circuit_batch

    def flipped(*a, **kw):
        out = real(*a, **kw)
        out[0, 0] ^= 1
        return out

    monkeypatch.setattr(cc, "run_circuit_batch", flipped)
    assert cli([ADDER4, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["disagree"] == 1 and out["first_disagreement"] == "00000000"


@pytest.mark.parametrize("argv,message", [
    (["/no/such/file.bristol"], "/no/such/file.bristol: no such file"),
    ([ADDER4, "--inputs", "0101"], "has 4 bits but the circuit has 8 inputs"),
    ([ADDER4, "--inputs", "0101010x"], "string of 0 and 1"),
    ([ADDER4, "--inputs", ""], "has 0 bits"),
    ([ADDER4, "--format", "aiger"], "adder4.bristol:1:1: header must start with 'aag'"),
    ([str(LIBRARY_DIR / "adder64.bristol")], "limited to 20 inputs"),
])
def test_cli_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("srcnn circuit: error: ") and message in err
    assert err.count("\n") == 1


def test_cli_parse_errors(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in [("bad.bristol", "1 3\n1 2\n1 1\n2 1 0 1 2 FOO\n"),
                       ("bad.aag", "aag 1 1 0 1 0\n2\n4\n"),
                       ("empty.bristol", ""), ("bin.aig", None)]:
        path = tmp_path / name
        if text is None:
            path.write_bytes(b"aig 1 1 0 1 0\n\xff\xfe\x00")
        else:
            path.write_text(text)
        assert cli([str(path)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("srcnn circuit: error: ") and err.count("\n") == 1, err

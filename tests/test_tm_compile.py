"""compile_tm: the patch network performs one machine step, checked against the reference.

The exhaustive test is a proof by induction for every 2-state 2-symbol machine: the network
equals the reference step on every patch a valid configuration can show a cell (at most one
head among the cell and its four neighbours; corners are never read), so every rollout of
every such machine is correct.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from constructions.engine import network_model, run_network
from constructions.patchnet import bits_needed
from constructions.tm import (
    MAX_SHARED_PARAMETERS,
    CompileError,
    DecodeError,
    compile_tm,
    estimated_shared_parameters,
    tm_encoding,
)
from proofs_check.local_views import CORNERS, expected_centres, local_views
from simulators.formats import builtin_expectations, builtin_machines, parse_bbchallenge
from simulators.turing import Configuration, trace
from tests.machines import ALL_MOVES, all_machines, machines, random_machine


def patch_network_float64(ctm, patches):
    """The torch patch network of :class:`RCNN`, float64, on a batch of patches."""
    t = {n: torch.from_numpy(a.astype(np.float64)) for n, a in ctm.patch.arrays().items()}
    x = torch.from_numpy(patches)
    h = torch.relu(x @ t["A1"].T + t["b1"])
    h = torch.relu(h @ t["A2"].T + t["b2"])
    return (h @ t["A3"].T + t["b3"]).squeeze(-1).numpy()


def test_every_2_state_2_symbol_machine_every_local_view():
    """All 13^4 = 28,561 transition tables; all 512 valid local views each; float64."""
    enc = tm_encoding(2, 2)
    patches, keys = local_views(enc, 2, 2)
    assert len(patches) == 2**5 + 5 * 3 * 2 * 2**4
    count = 0
    for machine in all_machines(2, 2):
        ctm = compile_tm(machine)
        assert not ctm.patch.A1[:, list(CORNERS)].any(), "corners must not be read"
        expected = expected_centres(machine, enc, patches, keys)
        got = patch_network_float64(ctm, patches)
        bad = np.flatnonzero(got != expected)
        assert bad.size == 0, (machine, patches[bad[0]], got[bad[0]], expected[bad[0]])
        count += 1
    assert count == 13**4


def test_module_patch_network_is_the_same_function():
    """The RCNN module's patch network equals the float64 reference evaluation above."""
    rng = random.Random(3)
    for _ in range(20):
        machine = random_machine(rng, 3, 3, ALL_MOVES)
        ctm = compile_tm(machine)
        patches, keys = local_views(ctm.encoding, 3, 3)
        with torch.no_grad():
            got = network_model(ctm, "float64").patch_network(torch.from_numpy(patches))
        assert np.array_equal(got.numpy(), expected_centres(machine, ctm.encoding, patches, keys))


def _rollout_matches(machine, steps, engine):
    ctm = compile_tm(machine)
    ref = list(trace(machine, steps))
    got = []
    final = run_network(ctm, steps, engine=engine, on_step=got.append, chunk=16)
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        assert (a.tape, a.head, a.state, a.steps) == (b.tape, b.head, b.state, b.steps)
    return final


def test_rollouts_of_2x2_machines_at_least_50_steps():
    rng = random.Random(20221128)
    for _ in range(300):
        machine = random_machine(rng, 2, 2, p_undefined=0.05)
        _rollout_matches(machine, 60, "float32")


@given(machines(max_states=6, max_symbols=3), st.sampled_from(["float32", "float64"]))
def test_random_machines_step_by_step(machine, engine):
    _rollout_matches(machine, 80, engine)


@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES))
def test_random_grid_machines_all_directions(machine):
    _rollout_matches(machine, 40, "float32")


@given(machines(max_states=3, max_symbols=2))
def test_exact_rational_engine_agrees(machine):
    _rollout_matches(machine, 25, "exact")


@pytest.mark.parametrize("name", ["bb2", "bb3", "bb4", "bb2x3"])
@pytest.mark.parametrize("engine", ["float32", "float64", "exact"])
def test_busy_beaver_champions_to_halting(name, engine):
    machine = builtin_machines()[name]
    expect = builtin_expectations()[name]
    final = _rollout_matches(machine, expect["steps"] + 50, engine)
    assert final.is_halted(machine)
    assert final.steps == expect["steps"] and final.ones == expect["ones"]


@pytest.mark.parametrize("name", ["grid_square"])
def test_library_grid_machines(name):
    machine = builtin_machines()[name]
    _rollout_matches(machine, 200, "float32")


def test_assembled_spiral_machine_uses_all_moves():
    from simulators.formats import load_machine

    machine = load_machine("simulators/library/grid/spiral.tm")
    assert machine.moves_used == set(ALL_MOVES)
    final = _rollout_matches(machine, 100, "float32")
    assert final.is_halted(machine)


def test_halted_configuration_is_a_fixed_point():
    machine = builtin_machines()["bb4"]
    ctm = compile_tm(machine)
    final = run_network(ctm, 107)
    grid = ctm.encode(final, (3, 40), (1, 20))
    model = network_model(ctm, "float32")
    g = torch.tensor(grid, dtype=torch.float32)[None]
    with torch.no_grad():
        after = model.rollout(g, 50)
    assert torch.equal(after, g)


def test_undefined_transition_is_a_fixed_point():
    machine = parse_bbchallenge("1RB1LB_1LA---")
    ctm = compile_tm(machine)
    final = run_network(ctm, 100)
    assert final.steps == 5 and final.is_halted(machine)
    grid = torch.tensor(ctm.encode(final, (1, 20), (0, 10)), dtype=torch.float64)[None]
    with torch.no_grad():
        assert torch.equal(network_model(ctm, "float64").rollout(grid, 30), grid)


def test_readout_counts_non_blank_cells():
    """The Definition-5 head and sum read out the busy-beaver score exactly."""
    machine = builtin_machines()["bb4"]
    ctm = compile_tm(machine)
    model = network_model(ctm, "float32")
    grid = torch.tensor(ctm.encode(Configuration(), (1, 41), (0, 20)), dtype=torch.float32)[None]
    with torch.no_grad():
        out = model.readout(model.rollout(grid, 120))
    assert out.item() == 13


# ---------------------------------------------------------------- parameters and weights
def test_shared_parameters_do_not_grow_with_grid_or_depth():
    from constructions.rcnn import RCNN

    ctm = compile_tm(builtin_machines()["bb4"])
    counts = set()
    for d_in, d_mem, l, layers in [(1, 1, 0, 1), (9, 5, 3, 10), (65, 129, 40, 10_000)]:
        model = RCNN(ctm.patch, ctm.head, layers=layers, padding=0, d_in=d_in, d_mem=d_mem, l=l)
        counts.add(model.n_shared_parameters)
        assert model.W.numel() == d_in * d_mem
    assert counts == {ctm.n_shared_parameters}


def test_weight_set_depends_only_on_s_and_k():
    """Every weight lies in the set compiled from the complete s x k rule skeleton."""
    rng = random.Random(5)
    for s, k in [(2, 2), (3, 3), (5, 2)]:
        sets = [compile_tm(random_machine(rng, s, k, ALL_MOVES)).weight_set for _ in range(40)]
        union = set().union(*sets)
        # codes, ramp slopes and offsets are all determined by (s, k): the union stays small
        assert len(union) <= 8 * k * (s + 2), (s, k, len(union))


def test_all_weights_are_dyadic():
    ctm = compile_tm(builtin_machines()["bb5"])
    for w in ctm.weight_set:
        assert w.denominator & (w.denominator - 1) == 0, w


# ---------------------------------------------------------------- precision
def test_bits_needed_is_checked_by_the_compiler():
    ctm = compile_tm(builtin_machines()["bb4"])
    assert ctm.bits == bits_needed(ctm.patch, ctm.rule.domain)
    assert ctm.exact_in("float32") and ctm.exact_in("float64")
    assert not ctm.exact_in("bfloat16")
    with pytest.raises(CompileError, match="bfloat16 has 8 mantissa bits"):
        ctm.check_dtype("bfloat16")


@given(machines(max_states=6, max_symbols=3))
def test_float16_at_its_limit(machine):
    """Where the analysis says float16's 11 bits suffice, float16 is exact; else refused."""
    ctm = compile_tm(machine)
    if ctm.bits > 11:
        with pytest.raises(CompileError, match="float16"):
            ctm.check_dtype("float16")
        return
    _rollout_matches(machine, 40, "float16")


def test_compiler_refuses_huge_machines():

    big = random_machine(random.Random(0), 2000, 2, p_undefined=0.0)
    with pytest.raises(CompileError, match="shared parameters"):
        compile_tm(big)


def test_parameter_estimate_is_an_upper_bound():
    rng = random.Random(11)
    for s, k in [(1, 2), (3, 2), (6, 3), (12, 4)]:
        machine = random_machine(rng, s, k, ALL_MOVES)
        assert compile_tm(machine).n_shared_parameters <= estimated_shared_parameters(machine)


@pytest.mark.slow
def test_float32_is_exact_at_the_compilers_size_limit():
    """The largest complete 2-symbol machine the compiler accepts still needs <= 24 bits,
    and runs exactly in float32."""
    s = 2
    while estimated_shared_parameters(
            random_machine(random.Random(0), s + 1, 2, p_undefined=0.0)) <= MAX_SHARED_PARAMETERS:
        s += 1
    machine = random_machine(random.Random(0), s, 2, p_undefined=0.0)
    ctm = compile_tm(machine)
    assert ctm.bits <= 24, ctm.bits
    _rollout_matches(machine, 30, "float32")


# ---------------------------------------------------------------- decoder
def test_decoder_rejects_invalid_values():
    ctm = compile_tm(builtin_machines()["bb2"])
    good = ctm.encode(Configuration(), (1, 5), (0, 2)).astype(float)
    assert ctm.decode(good, (0, 2)).head == (0, 0)
    for value, message in [(0.5, "not a valid code"), (5.0, "not a valid code"),
                           (-1.0, "not a valid code"), (1e9, "not a valid code"),
                           (float("nan"), "not a valid code")]:
        bad = good.copy()
        bad[0, 4] = value
        with pytest.raises(DecodeError, match=r"cell \(0, 4\)"):
            ctm.decode(bad, (0, 2))
        del message
    two_heads = good.copy()
    two_heads[0, 0] = ctm.encoding.encode(symbol=1, head=1, state=1)
    with pytest.raises(DecodeError, match="exactly one head"):
        ctm.decode(two_heads, (0, 2))
    with pytest.raises(DecodeError, match="exactly one head"):
        ctm.decode(np.zeros((1, 5)), (0, 2))

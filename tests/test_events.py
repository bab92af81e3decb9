"""The event-driven executor equals the dense executor bit for bit (docs/events.md).

Forward: every configuration of random machines (1-D and grid machines with all five moves,
halting or not, from blank and random tapes, with the tape growing), every layer's grid of
rollouts on arbitrary grids of codes. Backward: the gradient through all layers, with
forward changes to replay. Algorithm 1: output, gradient and W after every SGD step for
every library learner, then the test outputs. Plus the honesty rules, the two backends
against each other, and the refusals.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions import events_kernel as K
from constructions.engine import network_model, run_network
from constructions.events import EventExecutor, EventsError, EventsRCNN, FlatState
from constructions.events_net import EventNet
from constructions.events_tm import run_events
from constructions.learner import compile_library_learner
from constructions.tm import compile_tm
from proofs_check.events import (
    algorithm1_mismatches,
    random_config,
    reference_mismatches,
    rollout_mismatches,
    tm_mismatches,
)
from proofs_check.local_views import local_views
from simulators.formats import load_machine, parse_bbchallenge
from simulators.learner_tape import LIBRARY_LEARNERS
from simulators.turing import Configuration, Move, Transition, TuringMachine
from tests.machines import ALL_MOVES, all_machines, datasets, machines

FEW = max(4, settings().max_examples // 6)
"""Examples for the expensive properties (5 in the ci profile, 83 in thorough)."""

needs_kernel = pytest.mark.skipif(not K.HAVE_NUMBA, reason="numba (extra 'events') missing")


def events_model(ctm, dtype: str, layers: int, backend: str = "auto") -> EventsRCNN:
    from constructions.rcnn import DTYPES

    return EventsRCNN(ctm.patch, ctm.head, layers=layers, padding=ctm.padding,
                      dtype=DTYPES[dtype], proven_bits=ctm.bits, backend=backend)


def random_code_grid(ctm, rng: np.random.Generator, H: int, W: int) -> torch.Tensor:
    """Any valid codes anywhere (several heads included): the network is exact on every
    patch of codes, so both executors must agree on it."""
    codes = np.array(ctm.encoding.codes())
    return torch.tensor(rng.choice(codes, size=(1, H, W)), dtype=torch.float64)


# -- forward ------------------------------------------------------------------------------
@given(machines(max_states=6, max_symbols=3), st.sampled_from(["float32", "float64"]),
       st.integers(0, 2**32 - 1))
def test_random_machines_every_configuration(machine, dtype, seed):
    rng = random.Random(seed)
    config = random_config(machine, rng) if seed % 2 else None
    assert tm_mismatches(machine, 60, dtype, config, margin=1) == []


@given(machines(max_states=6, max_symbols=3, moves=ALL_MOVES), st.integers(0, 2**32 - 1))
def test_random_grid_machines_every_configuration(machine, seed):
    rng = random.Random(seed)
    config = random_config(machine, rng, width=5) if seed % 2 else None
    assert tm_mismatches(machine, 40, "float32", config, margin=1) == []


@settings(max_examples=FEW)
@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES), st.integers(0, 2**32 - 1))
def test_reference_backend_every_configuration(machine, seed):
    config = random_config(machine, random.Random(seed), width=4)
    assert tm_mismatches(machine, 30, "float32", config, backend="reference", margin=1) == []


@given(machines(max_states=6, max_symbols=3, moves=ALL_MOVES),
       st.sampled_from(["float32", "float64"]), st.integers(0, 2**32 - 1))
def test_rollout_every_layer_on_arbitrary_code_grids(machine, dtype, seed):
    ctm = compile_tm(machine)
    rng = np.random.default_rng(seed)
    grid = random_code_grid(ctm, rng, int(rng.integers(1, 7)), int(rng.integers(1, 7)))
    grid = grid.to(network_model(ctm, dtype).A1.dtype)
    assert rollout_mismatches(network_model(ctm, dtype), events_model(ctm, dtype, 0), grid,
                              30) == []


def _all_2x2(sample: int | None):
    machines_ = list(all_machines(2, 2))
    assert len(machines_) == 13**4
    return machines_ if sample is None else random.Random(2024).sample(machines_, sample)


def _exhaustive_2x2(sample: int | None, compare) -> None:
    rng = random.Random(7)
    for machine in _all_2x2(sample):
        ctm = compile_tm(machine)
        assert compare(ctm, 50, None) == [], machine
        config = random_config(machine, rng, width=6)
        assert compare(ctm, 50, config) == [], (machine, config)


def test_2x2_machines_sample_blank_and_random_tapes():
    """A seeded sample of the 28,561 two-state two-symbol machines, 50 layers each, against
    the dense executor."""
    _exhaustive_2x2(10, lambda ctm, n, cfg: tm_mismatches(ctm, n, "float32", cfg, margin=1))


def test_2x2_machines_larger_sample_against_the_reference():
    _exhaustive_2x2(300, lambda ctm, n, cfg: reference_mismatches(ctm, n, cfg, margin=1))


@pytest.mark.slow
def test_every_2x2_machine_blank_and_random_tapes():
    """All 28,561 two-state two-symbol machines, 50 layers, blank and random tapes, against
    the reference simulator: the dense network equals the reference at every step of every
    such machine (every local view, ``tm-step-exhaustive-2x2``), so this is the dense
    comparison at a fraction of its cost (minutes instead of hours)."""
    _exhaustive_2x2(None, lambda ctm, n, cfg: reference_mismatches(ctm, n, cfg, margin=1))


@pytest.mark.parametrize("name,steps", [("bb4", 107), ("bb2x3", 38), ("counter", 300),
                                        ("grid_square", 50)])
def test_library_machines(name, steps):
    assert tm_mismatches(load_machine(name), steps + 5, "float32", margin=2) == []


@needs_kernel
def test_bb5_prefix_kernel_equals_dense():
    """BB(5)'s first 1,000 steps: the dense engine's final configuration."""
    ctm = compile_tm(load_machine("bb5"))
    assert run_events(ctm, 1000).config == run_network(ctm, 1000)


def test_fixed_point_is_not_a_halt():
    """A head looping in place (move S, same state, same symbol) changes nothing: the run
    jumps to max_steps, not halted, as the dense engine's."""
    loop = TuringMachine(1, 2, ((Transition(0, Move.S, 0), Transition(1, Move.R, -1)),))
    run = run_events(compile_tm(loop), 10**6, margin=1)
    assert run.fixed_point and not run.halted and run.config.steps == 10**6
    assert run.config.head == (0, 0) and run.config.state == 0
    assert run.stats.evaluations == 9  # layer 1 on the 3 x 3 grid, then nothing
    assert tm_mismatches(loop, 30, "float32", margin=1) == []


# -- backward -----------------------------------------------------------------------------
@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES), st.integers(0, 2**32 - 1),
       st.sampled_from(["kernel", "reference"]))
def test_backward_through_changing_layers(machine, seed, backend):
    """Integer upstream gradients through 20 layers with many changes (a grid of random
    codes): the gradient with respect to the first grid equals autograd's on the dense
    rollout."""
    if backend == "kernel" and not K.HAVE_NUMBA:
        backend = "reference"
    ctm = compile_tm(machine)
    rng = np.random.default_rng(seed)
    H, W = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    grid = random_code_grid(ctm, rng, H, W)
    upstream = torch.tensor(rng.integers(-2, 3, size=(1, H, W)), dtype=torch.float64)
    grads = []
    for model in (network_model(ctm, "float64"), events_model(ctm, "float64", 0, backend)):
        g = grid.clone().requires_grad_(True)
        (model.rollout(g, 20) * upstream).sum().backward()
        grads.append(g.grad)
    assert torch.equal(*grads)


def test_backward_refuses_non_integer_upstream():
    ctm = compile_tm(load_machine("bb2"))
    model = events_model(ctm, "float64", 3)
    g = torch.zeros(1, 2, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(EventsError, match="integer upstream"):
        (model.rollout(g) * 0.5).sum().backward()


# -- Algorithm 1 --------------------------------------------------------------------------
@settings(max_examples=FEW)
@given(data=datasets(max_m=4, max_d=3), name=st.sampled_from(sorted(LIBRARY_LEARNERS)),
       dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 99))
def test_algorithm1_every_step_every_learner(data, name, dtype, seed):
    X, y = data
    tests = np.random.default_rng(seed).choice([-1, 1], size=(3, X.shape[1]))
    assert algorithm1_mismatches(name, X, y, tests, dtype) == []


def test_algorithm1_against_the_checkpointed_dense_backward():
    """The dense backward with activation checkpointing (every 7 layers) is the same
    computation; the events backward equals it too."""
    rng = np.random.default_rng(3)
    X, y = rng.choice([-1, 1], size=(3, 3)), rng.choice([-1, 1], size=3)
    tests = rng.choice([-1, 1], size=(2, 3))
    assert algorithm1_mismatches("majority", X, y, tests, checkpoint_every=7) == []


def test_learn_events_equals_dense_and_reference():
    from constructions.learner import learn
    from simulators.learners import predict as reference_predict

    rng = np.random.default_rng(5)
    X = rng.choice([-1, 1], size=(6, 4))
    y = X[:, 0] * X[:, 2]
    tests = rng.choice([-1, 1], size=(5, 4))
    learner = compile_library_learner("parity")
    dense = learn(learner, X, y, tests)
    events = learn(learner, X, y, tests, engine="events")
    assert torch.equal(dense.W, events.W)
    np.testing.assert_array_equal(dense.test_outputs, events.test_outputs)
    np.testing.assert_array_equal(events.predictions, reference_predict("parity", X, y, tests))
    assert events.stats.evaluations < events.stats.dense_cell_updates / 10


# -- honesty rules ------------------------------------------------------------------------
def _dirty_counts(grids: list[np.ndarray], reads: np.ndarray) -> int:
    """Independently of the executor: cells whose read inputs differ from one layer earlier
    (every cell at the first layer), summed over the layers."""
    from constructions.patchnet import OFFSETS

    total = grids[0].size
    for prev, cur in zip(grids, grids[1:-1]):
        H, W = cur.shape
        changed = prev != cur
        pad = np.pad(changed, 1)
        dirty = np.zeros_like(changed)
        for p in reads:
            dr, dc = OFFSETS[p]
            dirty |= pad[1 + dr:1 + dr + H, 1 + dc:1 + dc + W]
        total += int(dirty.sum())
    return total


@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES), st.integers(0, 2**32 - 1))
def test_evaluates_exactly_the_cells_whose_input_changed(machine, seed):
    """Rule 3: the number of patch evaluations is exactly the number of (cell, layer) pairs
    whose read inputs changed since the layer before (all cells at layer 1): no output is
    reused for a different input, none is recomputed for the same input."""
    ctm = compile_tm(machine)
    rng = np.random.default_rng(seed)
    grid = random_code_grid(ctm, rng, 5, 6)[0].numpy()
    model = network_model(ctm, "float64")
    with torch.no_grad():
        dense = [g[0].numpy() for g in model.rollout(torch.from_numpy(grid)[None], 25,
                                                     keep=True)]
    ex = EventExecutor(model, ctm.bits)
    st_ = ex.forward_grid(grid, 25)
    fixed_at = int(st_.state[K.ST_LAYERS])
    assert ex.stats.evaluations == _dirty_counts(dense[:fixed_at + 1], ex.net.reads)
    assert np.array_equal(st_.layout.unflatten(st_.grid), dense[-1])


def test_values_come_from_the_models_weights():
    """Rule 1: change a weight of the model and the events engine changes with it, exactly
    as the dense one (the executor holds no other description of the machine)."""
    ctm = compile_tm(load_machine("bb3"))
    dense, events = network_model(ctm, "float64"), events_model(ctm, "float64", 0)
    with torch.no_grad():
        for model in (dense, events):
            model.b3 += 1.0  # every cell now also adds 1 per layer
    grid = torch.zeros(1, 1, 5, dtype=torch.float64)
    assert rollout_mismatches(dense, events, grid, 4) == []
    with torch.no_grad():
        unchanged = events_model(ctm, "float64", 0).rollout(grid, 4)
        assert not torch.equal(events.rollout(grid, 4), unchanged)


@needs_kernel
def test_kernel_patch_network_equals_torch_on_every_local_view():
    """The kernel's sparse evaluation and Jacobian equal the dense torch network's value
    and autograd Jacobian on every valid local view, for random machines."""
    rng = random.Random(11)
    from simulators.sampling import random_machine

    for _ in range(10):
        machine = random_machine(rng, 3, 3, ALL_MOVES)
        ctm = compile_tm(machine)
        model = network_model(ctm, "float32")
        net = EventNet.from_model(model)
        patches, _ = local_views(ctm.encoding, 3, 3)
        x = torch.from_numpy(patches.astype(np.float32)).requires_grad_(True)
        y = model.patch_network(x)
        (jac,) = torch.autograd.grad(y.sum(), x)
        h1, g1 = np.zeros(net.hidden[0], np.float32), np.zeros(net.hidden[0], np.float32)
        row = np.zeros(9, np.float32)
        for i, p in enumerate(patches.astype(np.float32)):
            assert K.patch_value(p, *net.weights, h1) == y[i].item()
            K.patch_jacobian(p, *net.weights[:-1], h1, g1, row)
            assert np.array_equal(row, jac[i].numpy())


@needs_kernel
@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES), st.integers(0, 2**32 - 1))
def test_kernel_and_reference_backends_agree(machine, seed):
    """Same grids, same number of evaluations, same changes."""
    ctm = compile_tm(machine)
    grid = random_code_grid(ctm, np.random.default_rng(seed), 4, 5)[0].numpy()
    model = network_model(ctm, "float32")
    runs = []
    for backend in ("kernel", "reference"):
        ex = EventExecutor(model, ctm.bits, backend)
        st_ = ex.forward_grid(grid, 20, log=True)
        runs.append((st_.layout.unflatten(st_.grid).copy(), ex.stats.evaluations,
                     ex.stats.changes, sorted(zip(*[a.tolist() for a in st_.log.trimmed()]))))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1:] == runs[1][1:]


def test_no_table_from_patches_to_outputs():
    """Rule 3, structurally: the executor keeps weights, a grid and lists of cells, and no
    mapping keyed by patch values."""
    ctm = compile_tm(load_machine("bb4"))
    ex = EventExecutor(network_model(ctm, "float32"), ctm.bits)
    ex.forward_grid(np.zeros((1, 12)), 50)
    assert not [k for k, v in vars(ex).items() if isinstance(v, dict)]


# -- refusals -----------------------------------------------------------------------------
def test_unproven_weights_are_refused():
    ctm = compile_tm(load_machine("bb2"))
    with pytest.raises(EventsError, match="no exactness proof"):
        EventExecutor(network_model(ctm, "float32"), None)


def test_cli_simulate_events_json_equals_reference(capsys):
    from srcnn.cli import main

    outs = []
    for engine in ("reference", "events"):
        assert main(["simulate", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA", "--steps", "200", "--engine",
                     engine, "--json"]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]


def test_cli_simulate_events_refuses_huge_work_in_one_line(tmp_path, capsys):
    from simulators.formats import dump_machine
    from srcnn.cli import main

    letters = "ABCDEFGHIJKLMNOPQRSTUVWXY"
    big = "_".join("".join(f"{(a + q) % 6}{'LR'[a % 2]}{letters[(q + a + 1) % 25]}"
                           for a in range(6)) for q in range(25))
    machine = parse_bbchallenge(big)
    assert (machine.n_states, machine.n_symbols) == (25, 6)
    path = tmp_path / "big.yaml"
    path.write_text(dump_machine(machine), encoding="utf-8")
    assert main(["simulate", str(path), "--engine", "events", "--steps", "999999999"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "patch evaluations" in err and "limit" in err


def test_cli_learn_events_refuses_huge_work(tmp_path, capsys):
    from srcnn.cli import main

    rng = np.random.default_rng(0)
    X = rng.choice([-1, 1], size=(400, 40))
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    np.savetxt(train, np.hstack([X, X[:, :1]]), fmt="%d", delimiter=",")
    np.savetxt(test, X[:300], fmt="%d", delimiter=",")
    assert main(["learn", "parity", "--train", str(train), "--test", str(test), "--engine",
                 "events"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "patch evaluations" in err


def test_without_numba_the_reference_path_runs_and_says_it_is_slow(monkeypatch, capsys):
    from constructions import events

    monkeypatch.setattr(K, "HAVE_NUMBA", False)
    events.warn_if_slow("auto")
    assert "slow" in capsys.readouterr().err
    run = run_events(compile_tm(load_machine("bb3")), 100, backend="auto")
    assert run.config == run_network(compile_tm(load_machine("bb3")), 100)
    with pytest.raises(EventsError, match="numba"):
        events.resolve_backend("kernel")


def test_flat_state_starts_with_every_cell_dirty():
    st_ = FlatState.start(np.zeros((3, 4)), 0.0, np.dtype(np.float32), log=False)
    assert st_.n_dirty == 12 and st_.layout.size == 5 * 6


def test_step_configs_match_dense_with_a_start_configuration():
    machine = load_machine("bb3")
    config = Configuration({(0, 0): 1, (0, 2): 1}, (0, 1), 1, 0)
    assert tm_mismatches(machine, 40, "float64", config) == []


# -- the srcnn verify check -----------------------------------------------------------------
def test_events_agree_check_fails_on_a_broken_executor(monkeypatch):
    """The check fails when the executor's weights are perturbed (its b3 off by one),
    found on the first machine. (Its passing run is `srcnn verify`'s; the same
    comparisons pass throughout this file.)"""
    import dataclasses

    from constructions import events as ev
    from proofs_check.runner import run_all

    class Broken(EventNet):
        @classmethod
        def from_model(cls, model):
            net = EventNet.from_model(model)
            return dataclasses.replace(net, b3=net.b3 + 1)

    monkeypatch.setattr(ev, "EventNet", Broken)
    report = run_all("quick", 0, only=["events-agree"], progress=False)
    row = report["claims"][0]
    assert row["status"] == "fail" and "counterexample" in row["key_figure"]

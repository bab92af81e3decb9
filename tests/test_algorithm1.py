"""Lemma 1 end to end (constructions/learner.py): Algorithm 1 memorises the training set
through the compiled learner network, then the same network computes the learner.

Every test compares with an independent reference: the plain-Python learners
(simulators.learners), the learner machines on the reference grid simulator
(simulators.learner_tape / simulators.gridrun), and exact rationals.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.learner import (
    CARRIER,
    CODE_OFFSET,
    EMPTY,
    LearnerError,
    compile_learner,
    compile_library_learner,
    conversion_mismatches,
    learn,
    predict,
    single_thread,
)
from constructions.memorisation import algorithm1, memorisation_errors
from simulators.datasets import all_points, random_parity
from simulators.gridrun import trace_grid
from simulators.learner_tape import (
    LEARNER_MACHINES,
    LIBRARY_LEARNERS,
    learner_tape,
    load_learner_machine,
    run_learner,
    start_cell,
    time_bound,
)
from simulators.learners import predict as reference_predict
from tests.machines import datasets

DTYPES = (torch.float32, torch.float64)


@pytest.mark.parametrize("name", LIBRARY_LEARNERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conversion_layer_exact_on_every_patch(name: str, dtype: torch.dtype) -> None:
    """Layer 1 reads the non-dyadic 1/3: all 3,125 patches it can see, in float, give the
    exact value and the exact autograd Jacobian."""
    assert conversion_mismatches(compile_library_learner(name), dtype) == []


@pytest.mark.parametrize("name", LIBRARY_LEARNERS)
def test_float32_and_float64_are_proven_exact(name: str) -> None:
    learner = compile_library_learner(name)
    assert learner.bits <= 24
    assert learner.metadata()["exact_dtypes"] == ["float32", "float64"]


@given(data=datasets(), name=st.sampled_from(LEARNER_MACHINES), dtype=st.sampled_from(DTYPES))
def test_algorithm1_memorises_then_computes_the_learner(data, name, dtype) -> None:
    """Lemma 1 (1) and (2) together, on random datasets: after every SGD step W holds exactly
    the memorised rows and the output was exactly 0; then on every test point of the cube
    the network predicts exactly what the reference learner does."""
    X, y = data
    m, d = X.shape
    learner = compile_library_learner(name)
    model = learner.rcnn(m, d, dtype)
    with single_thread():
        assert memorisation_errors(model, X, y) == []
        points = all_points(d)
        y_hat = predict(model, points)
    np.testing.assert_array_equal(y_hat, reference_predict(name, X, y, points))


@pytest.mark.parametrize("name", LEARNER_MACHINES)
def test_learn_agrees_with_the_machine_on_the_reference_simulator(name: str) -> None:
    rng = np.random.default_rng(7)
    X = rng.choice([-1, 1], size=(6, 4))
    y = rng.choice([-1, 1], size=6)
    points = all_points(4)
    run = learn(compile_library_learner(name), X, y, points)
    machine = load_learner_machine(name)
    want = [run_learner(machine, X, y, x).prediction for x in points]
    assert run.predictions.tolist() == want
    assert run.train_outputs == [0.0] * 7
    assert run.layers == 1 + time_bound(name, 6, 4)
    assert run.grid == (7, 6)


def _reference_grids(name: str, X: np.ndarray, y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    """The learner machine's configuration after each step, as cell values (reference)."""
    learner = compile_library_learner(name)
    machine = learner.machine
    m, d = X.shape
    tape = learner_tape(X, y, x, learner.l, symbols=machine)
    out = []
    for config in trace_grid(machine, tape, start_cell(m, d)):
        values = np.array([[float(learner.code(symbol=config.tape.get((r, c), 0)))
                            for c in range(tape.shape[1])] for r in range(tape.shape[0])])
        hr, hc = config.head
        s = machine.n_states if config.state < 0 else config.state
        values[hr, hc] = float(learner.code(symbol=config.tape.get((hr, hc), 0), head=1,
                                            state=s))
        out.append(values)
    return out


@pytest.mark.parametrize("name", LIBRARY_LEARNERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_layer_is_one_machine_step(name: str, dtype: torch.dtype) -> None:
    """Bit for bit at every layer: layer 1 gives the learner tape with the head at its start,
    layer 1 + j the configuration after j steps, and after the halt nothing changes."""
    rng = np.random.default_rng(3)
    X = rng.choice([-1, 1], size=(5, 3))
    y = rng.choice([-1, 1], size=5)
    learner = compile_library_learner(name)
    model = learner.rcnn(5, 3, dtype, layers=1 + time_bound(name, 5, 3) + 20)
    with single_thread():
        memorisation_errors(model, X, y)
        for x in all_points(3)[:4]:
            z = torch.tensor([list(x) + [1]], dtype=dtype)
            with torch.no_grad():
                grids = model.rollout(model.memory(z), keep=True)
            ref = _reference_grids(name, X, y, x)
            for j, g in enumerate(grids[1:]):
                want = ref[min(j, len(ref) - 1)]
                np.testing.assert_array_equal(g[0].to(torch.float64).numpy(), want,
                                              err_msg=f"{name} layer {j + 1}")


@pytest.mark.parametrize("name", LIBRARY_LEARNERS)
def test_memorisation_phase_grid_is_a_fixed_point(name: str) -> None:
    """During SGD step i, after layer 1: rows < i are tape symbols (no head), row i is the
    carrier, later rows are EMPTY, work columns blank; every later layer changes nothing."""
    rng = np.random.default_rng(5)
    m, d = 4, 3
    X = rng.choice([-1, 1], size=(m, d))
    y = rng.choice([-1, 1], size=m)
    learner = compile_library_learner(name)
    model = learner.rcnn(m, d, torch.float64, layers=12)
    Xd = np.vstack([X, np.ones((1, d), dtype=np.int64)])
    yd = np.append(y, 1)
    for i in range(m + 1):
        with torch.no_grad():
            model.W.zero_()
            for a in range(i):
                model.W[a, :d] = torch.tensor(yd[a] * Xd[a] / 3.0)
                model.W[a, d] = yd[a] / 3.0
            z = torch.tensor([list(Xd[i]) + [1]], dtype=torch.float64)
            grids = model.rollout(model.memory(z), keep=True)
        tape = learner_tape(X, y, Xd[i], learner.l, symbols=learner.machine) if i else None
        want = np.full((m + 1, d + 2), float(EMPTY))
        want[:, d + 1] = float(learner.code(symbol=0))
        want[i, :d + 1] = float(CARRIER)
        for a in range(i):
            want[a] = learner.tape_values(tape)[a]
        for j, g in enumerate(grids[1:]):
            np.testing.assert_array_equal(g[0].numpy(), want, err_msg=f"step {i}, layer {j + 1}")


def test_shared_parameters_do_not_depend_on_m_d_or_depth() -> None:
    learner = compile_library_learner("majority")
    counts = {learner.rcnn(m, d, torch.float32, layers=L).n_shared_parameters
              for m, d, L in [(0, 1, 1), (3, 2, 50), (8, 6, 500), (40, 30, 10_000)]}
    assert counts == {learner.n_shared_parameters}


def test_depth_is_one_plus_the_time_bound() -> None:
    learner = compile_library_learner("nearest")
    assert learner.layers(8, 6) == 1 + 8 * 7 * 8 + 13


@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_depth_gives_no_answer(dtype: torch.dtype) -> None:
    """Too few layers: the machine has not written its answer, the output is 0, not ±1."""
    X = np.array([[1, -1], [-1, -1], [1, 1]])
    y = np.array([1, -1, -1])
    with pytest.raises(LearnerError, match="no single answer within 5 steps"):
        learn(compile_library_learner("majority"), X, y, np.array([[1, -1]]), dtype, steps=5)


def test_wrong_learning_rate_breaks_memorisation() -> None:
    X = np.array([[1, -1], [-1, -1]])
    y = np.array([1, -1])
    model = compile_library_learner("majority").rcnn(2, 2, torch.float64)
    errors = memorisation_errors(model, X, y, lr=0.5)
    assert errors and "expected" in errors[0]


def test_perturbed_head_breaks_memorisation() -> None:
    X = np.array([[1, -1], [-1, -1]])
    y = np.array([1, -1])
    model = compile_library_learner("majority").rcnn(2, 2, torch.float64)
    with torch.no_grad():
        model.U1.mul_(2)  # head slope 2 on the carrier
    assert memorisation_errors(model, X, y)


def test_m_zero_predicts_plus_one() -> None:
    run = learn(compile_library_learner("nearest"), np.zeros((0, 3), dtype=np.int64),
                np.zeros(0, dtype=np.int64), all_points(3))
    assert run.predictions.tolist() == [1] * 8
    assert run.grid == (1, 5)


def test_values_are_laid_out_disjointly() -> None:
    learner = compile_library_learner("first_agree")
    codes = set(learner.code_values)
    assert min(codes) == CODE_OFFSET
    assert not codes & {CARRIER, EMPTY, Fraction(-1), Fraction(0), Fraction(1)}


def test_machine_without_bound_needs_steps() -> None:
    machine = load_learner_machine("majority")
    learner = compile_learner(machine, "mine")
    with pytest.raises(LearnerError, match="--steps"):
        learner.layers(3, 2)
    assert learner.layers(3, 2, steps=20) == 21


@pytest.mark.parametrize("name", LEARNER_MACHINES)
def test_incremental_rollout_equals_the_full_rollout(name: str) -> None:
    """Recomputing only the cells next to a change gives every layer's grid bit for bit."""
    rng = np.random.default_rng(11)
    X = rng.choice([-1, 1], size=(5, 4))
    y = rng.choice([-1, 1], size=5)
    learner = compile_library_learner(name)
    model = learner.rcnn(5, 4, torch.float32)
    with single_thread():
        memorisation_errors(model, X, y)
        z = torch.tensor(np.hstack([all_points(4), np.ones((16, 1))]), dtype=torch.float32)
        with torch.no_grad():
            grids = model.rollout(model.memory(z), keep=True)
        for j in (0, 1, 2, 7, model.layers):
            got, used = model.rollout_incremental(model.memory(z), steps=j,
                                                  stop_at_fixed_point=False)
            assert used == j
            assert torch.equal(got, grids[j])


@settings(max_examples=6)
@given(d=st.integers(1, 3), data=st.data(), dtype=st.sampled_from(DTYPES))
def test_parity_learner_through_the_network(d, data, dtype) -> None:
    """Issue 4 end to end at small sizes: random parity sets (empty included), m around d,
    label noise; Lemma 1 (1) at every step and every test point equal to GF(2) row
    reduction (simulators.learners 'parity')."""
    k = data.draw(st.integers(0, d))
    m = data.draw(st.integers(0, d + 2))
    noise = data.draw(st.sampled_from([0.0, 0.3]))
    seed = data.draw(st.integers(0, 10**6))
    ds = random_parity(d, k, m, noise=noise, seed=seed)
    learner = compile_library_learner("parity")
    model = learner.rcnn(m, d, dtype)
    with single_thread():
        assert memorisation_errors(model, ds.X, ds.y) == []
        points = all_points(d)
        y_hat = predict(model, points)
    np.testing.assert_array_equal(y_hat, reference_predict("parity", ds.X, ds.y, points))


def test_checkpointing_changes_nothing() -> None:
    """Algorithm 1 with and without activation checkpointing: identical W after every step
    and identical outputs (the same computation, recomputed)."""
    rng = np.random.default_rng(2)
    X = rng.choice([-1, 1], size=(4, 3))
    y = rng.choice([-1, 1], size=4)
    learner = compile_library_learner("nearest")
    runs = []
    for every in (0, 7):
        model = learner.rcnn(4, 3, torch.float32)
        model.checkpoint_every = every
        steps = []
        with single_thread():
            algorithm1(model, X, y, on_step=lambda i, y_hat, W, out=steps: out.append((y_hat, W)))
        runs.append(steps)
    for (a_out, a_W), (b_out, b_W) in zip(*runs):
        assert torch.equal(a_out, b_out) and torch.equal(a_W, b_W)


def test_large_backward_passes_are_checkpointed() -> None:
    learner = compile_library_learner("parity")
    assert learner.rcnn(2, 2, torch.float32).checkpoint_every == 0
    big = learner.rcnn(16, 8, torch.float32)
    assert big.checkpoint_every == int(np.ceil(np.sqrt(big.layers)))


@pytest.mark.slow
@settings(max_examples=4)
@given(d=st.integers(4, 6), data=st.data())
def test_parity_learner_through_the_network_up_to_d6(d, data) -> None:
    """Issue 4 at d = 4..6 (minutes; make test-thorough): m around d, every test point."""
    k = data.draw(st.integers(0, d))
    m = data.draw(st.integers(max(0, d - 2), d + 2))
    noise = data.draw(st.sampled_from([0.0, 0.2]))
    ds = random_parity(d, k, m, noise=noise, seed=data.draw(st.integers(0, 10**6)))
    run = learn(compile_library_learner("parity"), ds.X, ds.y, all_points(d))
    assert run.train_outputs == [0.0] * (m + 1)
    np.testing.assert_array_equal(run.predictions,
                                  reference_predict("parity", ds.X, ds.y, all_points(d)))

"""The ONNX export (constructions/onnx_export.py) and onnxruntime as a fourth executor: the
reference simulator, the dense torch network, the exact-rational network and onnxruntime
agree at every step, on random machines (1-D and grid, up to 6 states x 3 symbols) and on
the library; the learner networks' ONNX files predict what the torch network does."""

from __future__ import annotations

import functools
import json

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

from constructions.engine import network_model, run_network
from constructions.export import export_metadata
from constructions.learner import compile_library_learner, memory_inputs, predict, single_thread
from constructions.memorisation import algorithm1
from constructions.onnx_export import (
    learner_model,
    load_metadata,
    machine_model,
    onnx_stepper,
    save_onnx,
    session,
)
from constructions.tm import compile_tm
from simulators.datasets import all_points
from simulators.formats import builtin_expectations, builtin_machines
from simulators.learners import predict as reference_predict
from simulators.turing import trace
from srcnn.cli import main
from tests.machines import ALL_MOVES, ONE_D, datasets, machines


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err



def _configs(ctm, steps: int, engine: str = "float32", stepper=None) -> list[tuple]:
    got: list = []
    run_network(ctm, steps, engine=engine, on_step=got.append, chunk=16, stepper=stepper)
    return [(c.tape, c.head, c.state, c.steps) for c in got]


def _reference(machine, steps: int) -> list[tuple]:
    return [(c.tape, c.head, c.state, c.steps) for c in trace(machine, steps)]


@given(machine=st.one_of(machines(6, 3, ONE_D), machines(6, 3, ALL_MOVES)),
       steps=st.integers(0, 40))
@settings(max_examples=25)
def test_four_executors_agree_at_every_step(machine, steps) -> None:
    """reference = dense torch float32 = exact rationals = onnxruntime, step by step (every
    configuration decoded from every grid, up to the halt or ``steps``)."""
    ctm = compile_tm(machine)
    assert ctm.bits <= 24  # float32 is proven exact for it (docs/onnx.md)
    want = _reference(machine, steps)
    assert _configs(ctm, steps, "float32") == want
    assert _configs(ctm, min(steps, 12), "exact") == want[:13]
    assert _configs(ctm, steps, stepper=onnx_stepper(ctm)) == want


@pytest.mark.parametrize("name", sorted(builtin_machines()))
def test_onnx_runs_the_library_step_by_step(name: str) -> None:
    machine = builtin_machines()[name]
    steps = min(builtin_expectations().get(name, {}).get("steps", 200) + 10, 400)
    ctm = compile_tm(machine)
    assert _configs(ctm, steps, stepper=onnx_stepper(ctm)) == _reference(machine, steps)


def test_a_wrong_weight_in_the_onnx_file_is_caught() -> None:
    """The comparison can fail: bb4's file with one output bias off by one disagrees."""
    machine = builtin_machines()["bb4"]
    ctm = compile_tm(machine)
    model = machine_model(ctm)
    for init in model.graph.initializer:
        if init.name == "b3":
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) + 1, "b3"))
    sess = session(model)
    grid = np.zeros((1, 1, 5, 5), dtype=np.float32)
    grid[0, 0, 2, 2] = ctm.encoding.encode(head=1, state=0)
    final = sess.run(["final"], {"grid": grid, "layers": np.array(1, dtype=np.int64)})[0]
    right = session(machine_model(ctm)).run(
        ["final"], {"grid": grid, "layers": np.array(1, dtype=np.int64)})[0]
    assert not np.array_equal(final, right)


def test_file_is_checked_and_carries_the_export_metadata(tmp_path) -> None:
    ctm = compile_tm(builtin_machines()["bb2x3"])
    path = tmp_path / "bb2x3.onnx"
    save_onnx(machine_model(ctm, "float32", source="bb2x3"), path)
    onnx.checker.check_model(str(path), full_check=True)
    meta = load_metadata(path)
    assert {k: v for k, v in meta.items() if k not in ("container", "inputs")} == \
        json.loads(json.dumps(export_metadata(ctm, "float32", "bb2x3")))
    assert meta["container"] == "onnx"
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"Loop", "Conv", "Relu", "ReduceSum"} <= ops


def test_head_and_sum_equal_the_torch_readout() -> None:
    """``y`` (head on every cell, summed) = the torch module's readout, on rollouts of bb4."""
    ctm = compile_tm(builtin_machines()["bb4"])
    sess = session(machine_model(ctm))
    model = network_model(ctm, "float32")
    grid = np.zeros((1, 1, 3, 40), dtype=np.float32)
    grid[0, 0, 1, 20] = ctm.encoding.encode(head=1, state=0)
    for layers in (0, 1, 7, 50):
        final, y = sess.run(["final", "y"], {"grid": grid,
                                             "layers": np.array(layers, dtype=np.int64)})
        with torch.no_grad():
            t = model.rollout(torch.from_numpy(grid[:, 0]), layers)
            np.testing.assert_array_equal(final[:, 0], t.numpy())
            np.testing.assert_array_equal(y, model.readout(t).numpy())


@functools.cache
def _learner_session(name: str):
    return session(learner_model(compile_library_learner(name), "float32"))


@given(data=datasets(max_m=4, max_d=3), name=st.sampled_from(["majority", "nearest"]))
@settings(max_examples=4)
def test_learner_onnx_predicts_what_the_network_does(data, name) -> None:
    """The learner file (memory layer an input-dependent Mul, W an input): after Algorithm 1
    fills W, onnxruntime's y on every point of the cube is the torch network's, which is
    the reference learner's prediction."""
    X, y = data
    m, d = X.shape
    learner = compile_library_learner(name)
    model = learner.rcnn(m, d, torch.float32)
    with single_thread():
        W = algorithm1(model, X, y, lr=1 / 3)
        points = all_points(d)
        want = predict(model, points)
    sess = _learner_session(name)
    z = memory_inputs(points, torch.float32).numpy()
    (got,) = sess.run(["y"], {"z": z, "W": W.detach().numpy().astype(np.float32),
                              "layers": np.array(model.layers, dtype=np.int64)})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, reference_predict(name, X, y, points))


def test_compile_format_onnx_and_simulate_engine_onnx(tmp_path, capsys) -> None:
    out = tmp_path / "bb3.onnx"
    code, _, err = run_cli(capsys, "compile", "bb3", "--format", "onnx", "-o", str(out))
    assert code == 0, err
    assert load_metadata(out)["machine"] == "1RB1RZ_1LB0RC_1LC1LA"
    _, ref, _ = run_cli(capsys, "simulate", "bb3", "--json")
    code, got, err = run_cli(capsys, "simulate", "bb3", "--engine", "onnx", "--json")
    assert code == 0, err
    assert got == ref
    code, _, err = run_cli(capsys, "compile", "majority", "--learner", "-o",
                           str(tmp_path / "maj.onnx"))
    assert code == 0, err
    assert load_metadata(tmp_path / "maj.onnx")["learner"] == "majority"


def test_bad_output_path_and_dtype_are_one_line_errors(tmp_path, capsys) -> None:
    code, _, err = run_cli(capsys, "compile", "bb2", "--format", "onnx", "-o",
                           str(tmp_path / "no" / "x.onnx"))
    assert code == 2 and err.count("\n") == 1 and "cannot write" in err
    target = tmp_path / "x.onnx"
    target.mkdir()  # a directory where the file should go: the rename fails
    code, _, err = run_cli(capsys, "compile", "bb2", "--format", "onnx", "-o", str(target))
    assert code == 2 and err.count("\n") == 1 and "cannot write" in err
    code, _, err = run_cli(capsys, "compile", "bb2", "-o", str(target))  # safetensors
    assert code == 2 and err.count("\n") == 1 and "cannot write" in err
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no temp file left behind
    code, _, err = run_cli(capsys, "simulate", "bb2", "--engine", "onnx", "--dtype", "float64")
    assert code == 2 and err.count("\n") == 1 and "float64" in err

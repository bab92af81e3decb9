"""``srcnn learn``: both engines print the same JSON; bad input is one line, exit 2."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.datasets import all_points, write_test, write_train
from simulators.learner_tape import LEARNER_LIBRARY, LEARNER_MACHINES
from srcnn.cli import main
from tests.machines import datasets


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=10)
@given(data=datasets(max_m=6, max_d=4, min_m=1), name=st.sampled_from(LEARNER_MACHINES),
       dtype=st.sampled_from(["float32", "float64"]))
def test_rcnn_and_reference_print_the_same_json(tmp_path_factory, data, name, dtype) -> None:
    X, y = data
    tmp = tmp_path_factory.mktemp("learn")
    write_train(tmp / "train.csv", X, y)
    write_test(tmp / "test.csv", all_points(X.shape[1]))
    outs = []
    for engine in ("reference", "rcnn"):
        code, out, err = run_cli("learn", name, "--train", str(tmp / "train.csv"), "--test",
                                 str(tmp / "test.csv"), "--engine", engine, "--dtype", dtype,
                                 "--json")
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1]
    record = json.loads(outs[0])
    assert set(record) == {"predictions", "m", "d", "layers", "grid", "shared_parameters"}
    assert record["grid"] == [X.shape[0] + 1, X.shape[1] + 2]


def test_text_output_is_one_prediction_per_line(tmp_path) -> None:
    write_train(tmp_path / "train.csv", np.array([[1, -1], [-1, -1], [1, 1]]),
                np.array([1, -1, -1]))
    write_test(tmp_path / "test.csv", np.array([[1, -1], [-1, 1]]))
    code, out, err = run_cli("learn", "nearest", "--train", str(tmp_path / "train.csv"),
                             "--test", str(tmp_path / "test.csv"))
    assert code == 0
    assert out.split() == ["+1", "-1"]
    assert "L = 42 layers" in err


def test_machine_file_needs_steps_then_runs(tmp_path) -> None:
    write_train(tmp_path / "train.csv", np.array([[1, -1], [-1, -1]]), np.array([1, -1]))
    write_test(tmp_path / "test.csv", np.array([[1, -1], [-1, -1]]))
    machine = str(LEARNER_LIBRARY / "nearest.tm")
    args = ["learn", machine, "--train", str(tmp_path / "train.csv"), "--test",
            str(tmp_path / "test.csv"), "--json"]
    code, _, err = run_cli(*args)
    assert code == 2 and "--steps" in err and err.count("\n") == 1
    outs = [run_cli(*args, "--steps", "40", "--engine", e)[1] for e in ("reference", "rcnn")]
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["predictions"] == [1, -1]


@pytest.mark.parametrize(("train", "test", "message"), [
    ("", "1,1\n", "no examples"),
    ("1,1,1\n1,-1\n", "1,1\n", "train.csv:2"),
    ("1,1,1\n", "1,0\n", "test.csv:1"),
    ("1,1,1\n", "1,1,1\n", "test.csv:1"),
    ("1,1,x\n", "1,1\n", "train.csv:1"),
])
def test_bad_csv_is_one_line_with_file_and_line(tmp_path, train, test, message) -> None:
    (tmp_path / "train.csv").write_text(train)
    (tmp_path / "test.csv").write_text(test)
    code, out, err = run_cli("learn", "majority", "--train", str(tmp_path / "train.csv"),
                             "--test", str(tmp_path / "test.csv"))
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unknown_learner_and_too_few_steps(tmp_path) -> None:
    write_train(tmp_path / "train.csv", np.array([[1, -1], [-1, -1]]), np.array([1, -1]))
    write_test(tmp_path / "test.csv", np.array([[1, -1]]))
    base = ["--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]
    code, _, err = run_cli("learn", "oracle", *base)
    assert code == 2 and "unknown learner 'oracle'" in err
    code, _, err = run_cli("learn", "majority", *base, "--steps", "2")
    assert code == 2 and "no single answer within 2 steps" in err


def test_huge_request_is_refused_before_running(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.choice([-1, 1], size=(300, 40))
    write_train(tmp_path / "train.csv", X, rng.choice([-1, 1], size=300))
    write_test(tmp_path / "test.csv", X[:5])
    code, _, err = run_cli("learn", "nearest", "--train", str(tmp_path / "train.csv"),
                           "--test", str(tmp_path / "test.csv"))
    assert code == 2 and "network cell updates" in err


def test_compile_learner_prints_and_exports_metadata(tmp_path) -> None:
    from constructions.export import load_compiled

    out = tmp_path / "nearest.safetensors"
    code, text, err = run_cli("compile", "--learner", "nearest", "-o", str(out), "--json")
    assert code == 0, err
    meta = json.loads(text)
    assert meta["learner"] == "nearest" and meta["shared_parameters"] == 38367
    tensors, stored = load_compiled(out)
    assert stored["bits_needed"] == meta["bits_needed"]
    assert sum(t.size for t in tensors.values()) == meta["shared_parameters"]
    code, _, err = run_cli("compile", "--learner", "oracle")
    assert code == 2 and "unknown learner 'oracle'" in err


def test_tutorial_outputs_are_current(tmp_path) -> None:
    """docs/tutorial.md quotes real outputs of srcnn learn; they must stay true."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "tutorial.md").read_text()
    (tmp_path / "train.csv").write_text("1,1,-1,1\n1,-1,-1,1\n-1,1,1,-1\n-1,-1,1,-1\n")
    (tmp_path / "test.csv").write_text("1,1,1\n-1,-1,-1\n1,-1,1\n")
    files = ["--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]
    code, out, _ = run_cli("learn", "parity", *files, "--engine", "rcnn", "--json")
    assert code == 0 and out.strip() in doc
    code, out, err = run_cli("learn", "majority", *files, "--engine", "rcnn")
    assert code == 0 and (err + out).strip() in doc.replace("$ srcnn learn majority", "")

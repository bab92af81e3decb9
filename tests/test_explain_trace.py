"""`srcnn simulate --codes`, `srcnn learn --trace` and `srcnn figures --only memory --train`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from constructions.tm import compile_tm
from simulators.formats import load_machine
from simulators.turing import trace
from srcnn.cli import main

TRAIN = "1,1,-1,1\n1,-1,-1,1\n-1,1,1,-1\n-1,-1,1,-1\n"
TEST = "1,1,1\n-1,-1,-1\n1,-1,1\n"


@pytest.fixture
def data(tmp_path):
    (tmp_path / "train.csv").write_text(TRAIN)
    (tmp_path / "test.csv").write_text(TEST)
    return tmp_path / "train.csv", tmp_path / "test.csv"


@pytest.mark.parametrize("engine", ["reference", "rcnn", "exact"])
def test_simulate_codes_are_the_encoded_configurations(engine, capsys):
    assert main(["simulate", "bb2", "--engine", engine, "--codes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [ln for ln in lines if ln[:6].strip().isdigit()]
    assert len(steps) == 7
    ctm = compile_tm(load_machine("bb2"))
    for line, cfg in zip(steps, trace(ctm.machine, 100)):
        cols = [c for _, c in [*cfg.tape, cfg.head]]
        lo, hi = min(cols), max(cols)
        grid = ctm.encode(cfg, (1, hi - lo + 1), (0, -lo))
        assert line.split("|")[-1].split() == [str(v) for v in grid[0]], line
    assert steps[-1].split("|")[-1].split() == ["1", "1", "11", "1"]


def test_simulate_codes_streams(capsys):
    """Each configuration is printed when it arrives, not at the end."""
    from srcnn.simulate_cmd import codes_printer

    machine = load_machine("bb2")
    show = codes_printer(machine)
    capsys.readouterr()
    for i, cfg in enumerate(trace(machine, 3)):
        show(cfg)
        assert capsys.readouterr().out.startswith(f"{i:>6}")


def test_learn_trace_text(tmp_path, capsys):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("1,-1,1\n-1,-1,-1\n")  # label = x1 (m = d = 2 keeps L = 88 small)
    test.write_text("1,1\n-1,1\n1,-1\n")
    assert main(["learn", "parity", "--train", str(train), "--test", str(test),
                 "--trace", "--trace-layers", "1,L"]) == 0
    out = capsys.readouterr().out
    assert out.count("step ") >= 3 and "dummy     +1    +1 |    +1" in out
    assert "layer 1 (learner tape after 0 machine step(s)" in out
    assert "[P ]" in out  # the head is born on the dummy row's label cell
    assert "[A+]" in out  # ... and writes the answer by layer L
    assert "parity S = {x1}" in out and "reference parity learner finds {x1}" in out
    assert out.strip().splitlines()[-3:] == ["+1", "-1", "+1"]
    assert "2  x = [-1, 1]  ->  -1" in out


def test_learn_trace_json_and_image(data, capsys, tmp_path):
    train, test = data
    png = tmp_path / "w.png"
    assert main(["learn", "majority", "--train", str(train), "--test", str(test), "--trace",
                 "--trace-out", str(png), "--trace-point", "2", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    tr = rec["trace"]
    X = np.array([[int(v) for v in ln.split(",")[:3]] for ln in TRAIN.split()])
    y = np.array([int(ln.split(",")[3]) for ln in TRAIN.split()])
    final = np.array(tr["W_steps"][-1]["W_thirds"])
    assert np.array_equal(final, np.vstack([np.hstack([X * y[:, None], y[:, None]]),
                                            np.ones((1, 4), dtype=int)]))
    assert [s["output"] for s in tr["W_steps"]] == [0.0] * 5
    assert tr["point"] == 2 and tr["x"] == [-1, -1, -1]
    assert tr["predictions"] == rec["predictions"]
    last = tr["layers"][str(rec["layers"])]
    assert last["state"] == "Z" and last["symbols"][last["head"][0]][last["head"][1]] == "A+"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--trace", "--engine", "reference"], "use --engine rcnn"),
    (["--trace", "--trace-point", "4"], "--trace-point 4"),
    (["--trace", "--trace-layers", "0,x"], "'x' is not a layer number"),
    (["--trace", "--trace-layers", "999"], "outside 0..31"),
])
def test_learn_trace_bad_options(data, capsys, argv, message):
    train, test = data
    assert main(["learn", "majority", "--train", str(train), "--test", str(test), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_figures_memory_from_the_users_data(data, tmp_path, capsys):
    train, _ = data
    out = tmp_path / "figs"
    assert main(["figures", "--only", "memory", "--train", str(train), "--out", str(out)]) == 0
    rec = json.loads((out / "fig_memory_data.json").read_text())
    assert rec["X"] == [[1, 1, -1], [1, -1, -1], [-1, 1, 1], [-1, -1, 1]]
    assert rec["train"] == str(train) and rec["m"] == 4 and rec["d"] == 3
    prov = json.loads((out / "fig_memory.json").read_text())
    assert str(train) in prov["caption"] and "y_a·x_a,1" in prov["caption"]
    assert (out / "fig_memory.caption.txt").read_text().strip() == prov["caption"]
    capsys.readouterr()
    assert main(["figures", "--only", "memory", "spacetime", "--train", str(train),
                 "--out", str(out)]) == 2
    assert "use it with --only memory" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("1,2,1\n")
    assert main(["figures", "--only", "memory", "--train", str(tmp_path / "bad.csv"),
                 "--out", str(out)]) == 2
    assert "bad.csv" in capsys.readouterr().err


def test_saved_results_are_found_under_the_current_directory(tmp_path, monkeypatch):
    """`srcnn figures --out DIR` reuses results saved as the docs say, in ./results/<name>."""
    from training._common import results_dirs, saved_results

    monkeypatch.chdir(tmp_path)
    saved = tmp_path / "results" / "parity"
    saved.mkdir(parents=True)
    settings = {"m": [8, 16], "size": "quick"}
    (saved / "parity.json").write_text(json.dumps({"settings": settings, "seed": 0}))
    out = tmp_path / "figs" / "parity"
    assert results_dirs("parity", [out])[-1].resolve() == saved.resolve()
    assert saved_results("parity", settings, 0, [out], ["parity.json"]).resolve() == \
        saved.resolve()
    assert saved_results("parity", settings, 1, [out], []) is None  # another seed
    assert saved_results("parity", {**settings, "size": "full"}, 0, [out], []) is None

"""`srcnn explain`: the encoding table, the units in words, weight files, the explorer data."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from constructions.explain import (
    POSITION_WORDS,
    ExplainError,
    explain_learner,
    explain_machine,
    signed,
    to_text,
)
from constructions.explain_file import explain_weight_file
from constructions.explorer import learner_rollout, machine_rollout, parity_set_from_network
from constructions.learner import compile_library_learner
from constructions.patchnet import POSITION_NAMES
from constructions.tm import compile_tm
from simulators.formats import load_machine
from simulators.learners import fit_parity
from simulators.learners import predict as reference_predict
from srcnn.cli import main
from tests.machines import ALL_MOVES, datasets, machines

UNIT = re.compile(r"^(step|from_[nsew])\[(\w+)=(\d+)\]$")


def _check_tm_units(ctm) -> None:
    """Every table unit's description (computed from the weights) says exactly what its
    name and the rule's table say: it fires on its one pattern and adds the table's value."""
    exp = explain_machine(ctm)
    tables = {t.name: t for t in ctm.rule.tables}
    units = exp["network"]["units2"]
    assert len(units) == ctm.patch.A2.shape[0]
    seen = 0
    for u in units:
        m = UNIT.match(u["name"])
        if u["name"] == "pass[c]":
            assert u["fires"] == "on every value of centre" and u["adds"] == "c + 1"
            continue
        assert m, u["name"]
        table, pos, value = m.group(1), m.group(2), Fraction(int(m.group(3)))
        p = POSITION_NAMES.index(pos)
        want = tables[table].values[(value,)]
        assert u["fires"].startswith(f"when {POSITION_WORDS[p]} = {value} ("), u
        assert u["adds"] == signed(want), u
        seen += 1
    assert seen == sum(len(t.values) for t in ctm.rule.tables if t.values)
    assert Fraction(exp["network"]["output_bias"]) == ctm.patch.b3[0]


def test_bb2_explained_in_words():
    exp = explain_machine(compile_tm(load_machine("bb2")))
    rows = {r["value"]: r for r in exp["encoding"]["rows"]}
    assert sorted(rows) == [0, 1, 2, 3, 6, 7, 10, 11]
    assert rows[6] == {"value": 6, "code": 6, "symbol": "0", "head": 1, "state": "B",
                       "meaning": "head in B on 0"}
    text = to_text(exp)
    # A,0 -> 1RB: the head arrives from the west in B on a blank: +6 = code 6
    assert "h2[5] from_w[w=2]: fires when west = 2 (head in A on 0); adds +6" in text
    assert "h2[1] step[c=2]: fires when centre = 2 (head in A on 0); adds -1" in text
    assert "code = symbol + 2*head + 4*state" in text
    head = {g["output"]: g["values"] for g in exp["network"]["head"]}
    assert [v.split()[0] for v in head["1"]] == ["1", "3", "7", "11"]


@given(machines(max_states=4, max_symbols=3, moves=ALL_MOVES))
def test_descriptions_from_weights_agree_with_the_compilers_names(machine):
    _check_tm_units(compile_tm(machine))


def test_a_wrong_description_is_caught():
    """The check above can fail: a network whose names promise another value."""
    ctm = compile_tm(load_machine("bb2"))
    A3 = ctm.patch.A3.copy()
    A3[0, 5] += 1
    from dataclasses import replace

    broken = replace(ctm, patch=replace(ctm.patch, A3=A3))
    with pytest.raises(AssertionError):
        _check_tm_units(broken)


def test_learner_units_follow_their_gates():
    learner = compile_library_learner("majority")
    exp = explain_learner(learner)
    units = exp["network"]["units2"]
    assert [u["name"] for u in units] == [g.name for g in learner.gates]
    born = units[[g.name for g in learner.gates].index("conv:P+head")]
    assert born["fires"] == ("when north in {-1/3 (memorised −), 0 (empty memory), "
                             "1/3 (memorised +)}, "
                             "centre = 1/3 (memorised +), east = 1 (work column), "
                             "south = -1 (padding)")
    assert born["adds"].startswith("+23 (tape head in start on P)")


def _write(path, tensors, meta):
    save_file(tensors, str(path), metadata=meta)


def test_weight_file_same_and_changed(tmp_path):
    f = tmp_path / "bb2.safetensors"
    assert main(["compile", "bb2", "-o", str(f)]) == 0
    same = explain_weight_file(str(f))
    fresh = explain_machine(compile_tm(load_machine("bb2")))
    assert same["network"] == fresh["network"] and "equal a fresh compile" in same["note"]
    tensors = load_file(str(f))
    with safe_open(str(f), "numpy") as h:
        meta = h.metadata()
    tensors["A3"][0, 5] = 7.0
    g = tmp_path / "changed.safetensors"
    _write(g, tensors, meta)
    changed = explain_weight_file(str(g))
    assert "differ" in changed["note"] and "A3[0, 5] = 7" in changed["note"]
    u = changed["network"]["units2"][5]
    assert u["name"] == "" and u["adds"] == "+7" and u["fires"].startswith("when west = 2")


@pytest.mark.parametrize("name", ["bb2", "bb3", "bb4", "bb2x3", "grid_square"])
def test_machine_rollout_matches_the_reference(name):
    r = machine_rollout(compile_tm(load_machine(name)), 200)
    assert all(r["match"]) and r["halted"]
    assert len(r["grids"]) == len(r["patch_ids"]) + 1


@given(machines(max_states=3, max_symbols=3, moves=ALL_MOVES))
def test_random_machine_rollouts_match(machine):
    r = machine_rollout(compile_tm(machine), 12)
    assert all(r["match"])


def test_rollout_checks_every_cell_against_the_network():
    """Tampered weights are run as they are: the page's explanations still equal the
    rollout (both come from the same weights), and the decoded view shows the difference."""
    ctm = compile_tm(load_machine("bb2"))
    A3 = ctm.patch.A3.copy()
    A3[0, 5] += 1
    from dataclasses import replace

    r = machine_rollout(ctm, 10, patch=replace(ctm.patch, A3=A3))
    assert r["match"][0] and not r["match"][1]
    assert r["decoded"][1]["symbols"] == [["0", "0", "1", "1"]]  # code 7 = head in B on 1
    assert r["reference"][1]["symbols"] == [["0", "0", "1", "0"]]


def test_explain_cells_refuses_a_wrong_value():
    from constructions.explain import float_weights
    from constructions.explorer import explain_cells

    ctm = compile_tm(load_machine("bb2"))
    grids = [np.zeros((1, 3)), np.zeros((1, 3))]
    grids[1][0, 1] = 1.0  # not what the network computes
    with pytest.raises(ExplainError, match="cell \\(0, 1\\)"):
        explain_cells(float_weights(ctm.patch), grids, 0.0, True)


@pytest.mark.parametrize("value", [3.0e38, 1.0e20, 2.0**-60])
def test_explain_html_of_an_inexact_weight_file_is_one_line(tmp_path, capsys, value):
    """Found by the thorough fuzz run: a weight edited off the exact grid made the explorer's
    consistency check an AssertionError (and an overflowing one an OverflowError)."""
    from constructions.export import load_compiled, save_compiled, save_weights

    src = tmp_path / "bb3.safetensors"
    save_compiled(compile_tm(load_machine("bb3")), src, "float64")
    t, meta = load_compiled(src)
    t["A2"].reshape(-1)[0] = value
    save_weights(t, meta, src)
    code = main(["explain", str(src), "--html", str(tmp_path / "p.html"), "--json"])
    err = capsys.readouterr().err
    assert code in (0, 2) and "internal error" not in err and err.count("\n") <= 1, err


@settings(max_examples=max(6, settings.default.max_examples // 10))
@given(datasets(max_m=3, max_d=3, min_m=1))
def test_learner_rollout_matches_reference(data):
    X, y = data
    x = X[0]
    learner = compile_library_learner("majority")
    r = learner_rollout(learner, X, y, x)
    assert all(r["match"][1:])
    assert r["prediction"] == reference_predict("majority", X, y, x[None])[0]
    assert all(s["output"] == 0 for s in r["W_steps"])
    final = np.array(r["W_steps"][-1]["W_thirds"])
    assert np.array_equal(final[:-1], np.hstack([X * y[:, None], y[:, None]]))


def test_parity_set_read_off_the_network():
    X = np.array([[1, 1, -1], [1, -1, -1], [-1, 1, 1], [-1, -1, 1]])
    y = np.array([1, 1, -1, -1])
    learner = compile_library_learner("parity")
    from constructions.explorer import learn_with_trace

    run, Ws, _ = learn_with_trace(learner, X, y, X[:1])
    assert parity_set_from_network(run.model) == list(fit_parity(X, y).S) == [0]
    # the check can fail: a majority network on all-negative labels is no parity
    majority = compile_library_learner("majority")
    run, Ws, _ = learn_with_trace(majority, X, -np.ones(4, dtype=np.int64), X[:1])
    with pytest.raises(ValueError, match="all-ones point"):
        parity_set_from_network(run.model)


# -- the command line --------------------------------------------------------------------
def test_cli_json(capsys):
    assert main(["explain", "bb2", "--json"]) == 0
    exp = json.loads(capsys.readouterr().out)
    assert exp["kind"] == "machine" and exp["network"]["shape"] == [9, 25, 9, 1]


def test_cli_html_is_self_contained(tmp_path, capsys):
    out = tmp_path / "bb2.html"
    assert main(["explain", "bb2", "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"?https?:", page) and "<link" not in page
    m = re.search(r'<script id="explorer-data" type="application/json">(.*?)</script>', page,
                  re.S)
    data = json.loads(m.group(1))
    want = machine_rollout(compile_tm(load_machine("bb2")), 1000)
    assert data["rollout"] == json.loads(json.dumps(want))


@pytest.mark.parametrize("argv, message", [
    (["explain", "nosuch"], "is not a file, a built-in machine"),
    (["explain", "majority"], "needs data"),
    (["explain", "missing.safetensors"], "no such file"),
    (["explain", "majority", "--train", "T.csv", "--test", "T.csv"], "T.csv"),
    (["explain", "bb2", "--steps", "-1"], "--steps must be >= 0"),
])
def test_cli_bad_input(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("srcnn explain: error: ") and message in err
    assert err.count("\n") == 1


def test_cli_invalid_weight_files(tmp_path, capsys):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"not a safetensors file")
    assert main(["explain", str(bad)]) == 2
    assert "not a safetensors file (" in capsys.readouterr().err
    _write(bad, {"A1": np.zeros((1, 9), dtype=np.float32)}, {"other": "x"})
    assert main(["explain", str(bad)]) == 2
    assert "field 'srcnn': missing" in capsys.readouterr().err
    _write(bad, {"A1": np.zeros((1, 9), dtype=np.float32)}, {"srcnn": json.dumps(
        {"machine": "1RB1LB_1LA1RZ"})})
    assert main(["explain", str(bad)]) == 2
    assert "missing tensor" in capsys.readouterr().err


def test_cli_learner_point_out_of_range(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("1,1,1\n-1,-1,-1\n")
    (tmp_path / "test.csv").write_text("1,1\n")
    argv = ["explain", "majority", "--train", str(tmp_path / "train.csv"),
            "--test", str(tmp_path / "test.csv")]
    assert main([*argv, "--point", "2"]) == 2
    assert "--point 2" in capsys.readouterr().err
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "prediction +1" in out and "equals the reference grid machine's: yes" in out


def test_cli_html_refuses_weights_that_overflow(tmp_path, capsys):
    f = tmp_path / "bb4.safetensors"
    assert main(["compile", "bb4", "-o", str(f)]) == 0
    tensors = load_file(str(f))
    with safe_open(str(f), "numpy") as h:
        meta = h.metadata()
    tensors["A3"][0, 0] = 1e38  # the centre's pass-through: values grow by 1e38 a layer
    big = tmp_path / "big.safetensors"
    _write(big, tensors, meta)
    capsys.readouterr()
    assert main(["explain", str(big), "--html", str(tmp_path / "big.html")]) == 2
    err = capsys.readouterr().err
    assert "overflow" in err and err.count("\n") == 1
    assert not (tmp_path / "big.html").exists()

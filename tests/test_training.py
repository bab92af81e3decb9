"""``training``: experiment 1 (SGD learns one step) and the parity baselines, at tiny sizes."""

from __future__ import annotations

import csv
import itertools
import json
import random
from fractions import Fraction

import numpy as np
import pytest
import torch

from training import learn_step as ls
from training import parity_baselines as pb

torch.set_num_threads(1)


def _settings(**kw):
    s = ls.settings_for(True)
    s.update({"tasks": ["eca_110"], "mults": [1], "seeds": 1, "steps": 30, "batch": 8,
              "rollout_runs": 2, "rollout_steps": [1, 2, 5], "sigmas": [0.0, 0.1],
              "draws": 1, "dtypes": ["float32", "float16"]})
    s.update(kw)
    return s


@pytest.fixture(scope="module")
def bb2():
    return ls.make_task("tm_bb2", ls.settings_for(True), 0)


# --------------------------------------------------------------------------- experiment 1


def test_tm_domain_is_every_local_view_with_at_most_one_head(bb2):
    s, k = 2, 2
    codes = bb2.codes.astype(int)
    assert list(codes) == [0, 1, 2, 3, 6, 7, 10, 11]
    dom = bb2.domain.astype(int)
    # complete and duplicate-free: k^9 head-free patches + 9 positions x k(s+1) head codes x k^8
    assert len(dom) == k**9 + 9 * k * (s + 1) * k**8 == 14336
    assert len({tuple(r) for r in dom}) == len(dom)
    assert np.isin(dom, codes).all()
    assert (((dom // k) % 2).sum(axis=1) <= 1).all()
    # every patch of random configurations (and of 1-row tapes) lies in the domain
    x, _ = bb2.sample(np.random.default_rng(1), 200)
    assert bb2.domain_index(x)[1].all()
    assert bb2.mask_1d.sum() == k**3 + 3 * k * (s + 1) * k**2


def test_reference_targets_agree_with_the_compiled_local_rule(bb2):
    from constructions.tm import compile_tm
    from simulators.formats import builtin_machines

    rule = compile_tm(builtin_machines()["bb2"]).rule
    got = [rule(tuple(Fraction(int(v)) for v in p)) for p in bb2.domain[::7]]
    assert [float(g) for g in got] == list(bb2.targets[::7])


@pytest.mark.parametrize("name", ["tm_bb2", "eca_110", "eca_30"])
def test_construction_is_exact_on_the_whole_domain(name, bb2):
    task = bb2 if name == "tm_bb2" else ls.make_task(name, ls.settings_for(True), 0)
    for dtype in ("float64", "float32"):
        res = ls.evaluate(task, task.construction, dtype)
        assert res["exact"] and res["wrong"] == 0 and res["domain_acc"] == 1.0
    # the check can fail: shifting the output bias by 0.6 breaks exactness
    broken = {k: v.copy() for k, v in task.construction.items()}
    broken["b3"] = broken["b3"] + 0.6
    assert not ls.evaluate(task, broken)["exact"]


def test_eca_targets_follow_the_rule_number():
    from simulators.cellular import ElementaryCA

    task = ls.make_task("eca_30", ls.settings_for(True), 0)
    table = ElementaryCA(30).rule_table()
    for p, t in zip(task.domain.astype(int), task.targets):
        assert t == table[(p[3], p[4], p[5])]
    assert len(task.domain) == 512 and task.mask_1d.sum() == 8


def test_construction_rollouts_stay_exact(bb2):
    ff = ls.rollout(bb2, bb2.construction, runs=3, T=40, seed=0)
    assert (ff == 41).all()
    ffr = ls.rollout(bb2, bb2.construction, runs=3, T=40, seed=0, round_each_step=True)
    assert (ffr == 41).all()
    # a net that is wrong somewhere on the 1-row domain fails at some step
    broken = {k: v.copy() for k, v in bb2.construction.items()}
    broken["b3"] = broken["b3"] + 0.6
    assert (ls.rollout(bb2, broken, runs=3, T=40, seed=0) == 1).all()


def test_nearest_code():
    codes = np.array([0.0, 1.0, 2.0, 3.0, 6.0, 7.0])
    got = ls.nearest_code(np.array([-5, 0.4, 0.5, 0.6, 4.4, 4.6, 100, np.nan, np.inf]), codes)
    assert list(got[:7]) == [0, 0, 0, 1, 3, 6, 7]
    assert np.isnan(got[7:]).all()


def test_tiny_training_run_is_well_formed_and_reproducible(tmp_path):
    settings = _settings()
    a = ls.run(settings, seed=5, out=tmp_path / "a")
    b = ls.run(settings, seed=5, out=None)
    assert a["seed"] == 5 and a["seeds"] == [5]
    assert {"python", "torch", "numpy"} <= set(a["versions"])
    for name in ("learn_step.json", "width_sweep.csv", "rollout.csv", "perturbation.csv",
                 "precision.csv"):
        assert (tmp_path / "a" / name).exists()
    rec = json.loads((tmp_path / "a" / "learn_step.json").read_text())
    assert rec["seed"] == 5 and rec["settings"]["steps"] == 30
    row = rec["width_sweep"][0]
    assert (row["task"], row["mult"], row["seed"]) == ("eca_110", 1, 5)
    assert 0.0 <= row["domain_acc"] <= 1.0 and isinstance(row["exact"], bool)
    strip = [{k: v for k, v in r.items() if k != "train_seconds"} for r in a["width_sweep"]]
    assert strip == [{k: v for k, v in r.items() if k != "train_seconds"}
                     for r in b["width_sweep"]]
    assert a["rollout"] == b["rollout"] and a["perturbation"] == b["perturbation"]
    nets = {r["net"] for r in a["rollout"]}
    assert nets == {"construction", "sgd_x1"}
    cons = [r for r in a["rollout"] if r["net"] == "construction"]
    assert all(r["fraction_correct"] == 1.0 for r in cons)
    with (tmp_path / "a" / "rollout.csv").open() as f:
        assert next(csv.reader(f)) == ["task", "net", "mult", "seed", "variant", "t",
                                       "fraction_correct"]


def test_learn_step_cli_help(capsys):
    with pytest.raises(SystemExit) as e:
        ls.main(["--help"])
    assert e.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_non_halting_machine_never_halts():
    m = ls._non_halting_machine(random.Random("x"), 3, 2)
    assert all(tr is not None and tr.next_state >= 0 for row in m.table for tr in row)


# --------------------------------------------------------------------------- parity


def _parity_settings(**kw):
    s = pb.settings_for(True)
    s.update({"dims": [4], "ks": "1,d", "m_factors": [1, 8], "seeds": 2, "steps": 5})
    s.update(kw)
    return s


def test_parity_runner_writes_csv_and_json(tmp_path):
    rec = pb.run(_parity_settings(), seed=3, out=tmp_path)
    with (tmp_path / "parity.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == pb.COLUMNS
    learners = ("reference", "mlp", "cnn", "rcnn")  # the construction at every m
    assert {r["learner"] for r in rows} == set(learners)
    expected = {(ln, 4, k, m, s) for ln in learners for k in (1, 4)
                for m in (4, 32) for s in (3, 4)}
    assert {(r["learner"], int(r["d"]), int(r["k"]), int(r["m"]), int(r["seed"]))
            for r in rows} == expected
    assert all(0.0 <= float(r["test_error"]) <= 1.0 for r in rows)
    meta = json.loads((tmp_path / "parity.json").read_text())
    assert meta["seed"] == 3 and meta["seeds"] == [3, 4]
    assert {"python", "torch", "numpy"} <= set(meta["versions"])
    assert meta["budget"]["steps"] == 5 and meta["budget"]["same_for"] == ["mlp", "cnn"]
    assert len(meta["summary"]) == 4 * 2 * 2
    for r in rows:
        if r["learner"] == "rcnn":  # sampled test points, all equal to the reference's
            assert r["config"] == "test_points=4;agrees_with_reference=1.0"
            assert r["train_error"] == ""
    assert rec["rows"] == [{**r, "seconds": r["seconds"]} for r in rec["rows"]]


def test_reference_learner_is_exact_at_full_rank():
    from simulators.datasets import all_points, parity_labels, random_parity
    from simulators.gf2 import rank

    d, hits = 6, 0
    for seed, k in itertools.product(range(6), (1, 3, 6)):
        ds = random_parity(d, k, 8 * d, seed=seed)
        X_test = all_points(d)
        err = np.mean(pb.reference_learner(ds.X, ds.y, X_test, seed)
                      != parity_labels(X_test, ds.S))
        if rank((ds.X == -1).astype(np.uint8)) == d:
            hits += 1
            assert err == 0.0
    assert hits >= 15


def test_unknown_learner_is_rejected_clearly(tmp_path, capsys):
    reg = pb.build_registry(pb.settings_for(True))
    assert {"reference", "mlp", "cnn", "rcnn"} <= set(reg)
    with pytest.raises(KeyError, match="unknown learner 'oracle'; known learners: cnn, mlp"):
        pb.get_learner("oracle", reg)
    with pytest.raises(KeyError, match="unknown learner 'nope'"):
        pb.run(_parity_settings(learners=["reference", "nope"]), 0, tmp_path)
    assert pb.main(["--learners", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "unknown learner 'nope'" in capsys.readouterr().err


def test_registered_learner_is_used(tmp_path):
    calls = []

    def constant(X, y, X_test, seed):
        calls.append(seed)
        return np.ones(len(X_test), dtype=np.int64)

    pb.register_learner("custom", constant)
    try:
        rec = pb.run(_parity_settings(learners=["custom"], seeds=1), 0, None)
    finally:
        pb.LEARNERS.pop("custom")
    assert calls and {r["learner"] for r in rec["rows"]} == {"custom"}
    with pytest.raises(TypeError):
        pb.register_learner("bad", 3)


def test_rcnn_parity_learner_runs_the_network_and_matches_the_reference():
    from simulators.datasets import all_points, random_parity
    from training.parity_baselines import rcnn_applies, rcnn_learner, reference_learner

    ds = random_parity(3, 2, 3, seed=4)
    pts = all_points(3)
    np.testing.assert_array_equal(rcnn_learner(ds.X, ds.y, pts, 0),
                                  reference_learner(ds.X, ds.y, pts, 0))
    assert rcnn_applies({"rcnn_max_d": 6, "rcnn_max_m_factor": 0.5}, 6, 3)
    assert not rcnn_applies({"rcnn_max_d": 6, "rcnn_max_m_factor": 0.5}, 6, 6)
    assert not rcnn_applies({"rcnn_max_d": 6, "rcnn_max_m_factor": 0.5}, 8, 4)

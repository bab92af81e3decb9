"""``srcnn verify``: every check reports, and each can fail when what it checks is broken."""

from __future__ import annotations

import json

import numpy as np
import pytest

import proofs_check.sizes as sizes
import proofs_check.tm_step as tm_step
from proofs_check.registry import PAPER_REFERENCE
from proofs_check.runner import load_checks, markdown, run_all


def test_every_check_names_a_paper_statement():
    checks = load_checks()
    assert checks
    for c in checks.values():
        assert PAPER_REFERENCE.match(c.paper), c.paper


def test_evidence_is_plain_json():
    from proofs_check.registry import Result
    from proofs_check.runner import _run_one

    chk = load_checks()["learner-machines"]
    weird = Result(np.bool_(True), {"n": np.int64(3), "a": np.arange(2), "f": np.float32(0.5)})
    monkey = type(chk)(chk.id, chk.paper, chk.method, chk.title, lambda mode, seed: weird)
    row = _run_one(monkey, "quick", 0)
    assert row["status"] == "pass"
    assert json.loads(json.dumps(row))["evidence"] == {"n": 3, "a": [0, 1], "f": 0.5}


def test_report_shape(tmp_path):
    report = run_all("quick", 0, only=["def5-shared-parameters", "thm1-weight-set"],
                     progress=False)
    assert set(report) >= {"claims", "seed", "versions", "duration_s"}
    for c in report["claims"]:
        assert set(c) >= {"id", "paper", "method", "status", "evidence"}
        assert c["status"] == "pass"
    json.dumps(report)
    assert "| `def5-shared-parameters` |" in markdown(report)


def _perturbed_compile(original):
    def compile_broken(machine):
        ctm = original(machine)
        ctm.patch.b3[0] += 1  # one perturbed shared weight
        return ctm
    return compile_broken


@pytest.mark.parametrize("check_id", ["tm-step-library", "tm-step-random"])
def test_tm_checks_fail_on_a_perturbed_weight(monkeypatch, check_id):
    monkeypatch.setattr(tm_step, "compile_tm", _perturbed_compile(tm_step.compile_tm))
    report = run_all("quick", 0, only=[check_id], progress=False)
    assert report["claims"][0]["status"] == "fail"


def test_exhaustive_check_fails_on_a_perturbed_weight(monkeypatch):
    monkeypatch.setattr(tm_step, "compile_tm", _perturbed_compile(tm_step.compile_tm))
    monkeypatch.setattr(tm_step.random.Random, "sample", lambda self, xs, n: xs[:50])
    report = run_all("quick", 0, only=["tm-step-exhaustive-2x2"], progress=False)
    assert report["claims"][0]["status"] == "fail"
    assert report["claims"][0]["evidence"]["mismatching_machines"] == 50


def test_shared_parameter_check_fails_when_sharing_breaks(monkeypatch):
    original = sizes.RCNN

    class Unshared(original):
        @property
        def n_shared_parameters(self):  # pretend the patch net were per-layer
            return super().n_shared_parameters * max(1, self.layers)

    monkeypatch.setattr(sizes, "RCNN", Unshared)
    report = run_all("quick", 0, only=["def5-shared-parameters"], progress=False)
    assert report["claims"][0]["status"] == "fail"


def test_circuit_check_fails_on_a_wrong_output(monkeypatch):
    import proofs_check.classifiers as classifiers

    original = classifiers.run_circuit_batch

    def flipped(compiled, bits, engine="float64"):
        out = np.array(original(compiled, bits, engine=engine))
        out[-1, 0] ^= 1
        return out

    monkeypatch.setattr(classifiers, "run_circuit_batch", flipped)
    report = run_all("quick", 0, only=["circuit-universal"], progress=False)
    assert report["claims"][0]["status"] == "fail"


def test_learner_machine_check_fails_against_a_different_reference(monkeypatch):
    import proofs_check.classifiers as classifiers

    original = classifiers.predict
    monkeypatch.setattr(classifiers, "predict",
                        lambda name, X, y, test: original("majority", X, y, test))
    report = run_all("quick", 0, only=["learner-machines"], progress=False)
    assert report["claims"][0]["status"] == "fail"


def test_memorisation_check_fails_with_a_wrong_learning_rate(monkeypatch):
    import proofs_check.memorisation as mem

    original = mem.memorisation_errors
    monkeypatch.setattr(mem, "memorisation_errors",
                        lambda model, X, y: original(model, X, y, lr=0.5))
    report = run_all("quick", 0, only=["lemma1-memorisation"], progress=False)
    assert report["claims"][0]["status"] == "fail"


def test_memorisation_derivation_fails_with_a_wrong_slope(monkeypatch):
    import proofs_check.memorisation as mem

    original = mem.memorisation_update
    monkeypatch.setattr(mem, "memorisation_update",
                        lambda d, m, i, eta, jac_scale=1: original(d, m, i, eta, 2 * jac_scale))
    report = run_all("quick", 0, only=["lemma1-memorisation-symbolic"], progress=False)
    assert report["claims"][0]["status"] == "fail"

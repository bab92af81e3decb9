"""Checks of Observation 1, Corollary 2, Claim 1 and Claim 2: each passes, and each fails when
the thing it checks is broken."""

from __future__ import annotations

from fractions import Fraction

import pytest

import proofs_check.pao as pao
import proofs_check.turing_optimal as turing_optimal
from proofs_check.registry import PAPER_REFERENCE, REGISTRY
from proofs_check.runner import run_all

IDS = ["obs1-choice-of-r", "cor2-restart-formulas", "cor2-restart-simulation",
       "claim1-dovetailing", "claim1-enumeration", "claim2-pac-parities"]


def _status(check_id: str) -> str:
    return run_all("quick", 0, only=[check_id], progress=False)["claims"][0]["status"]


@pytest.mark.parametrize("check_id", IDS)
def test_check_passes_in_quick_mode(check_id):
    assert PAPER_REFERENCE.match(REGISTRY[check_id].paper)
    report = run_all("quick", 0, only=[check_id], progress=False)
    claim = report["claims"][0]
    assert claim["status"] == "pass", claim["evidence"]
    assert claim["duration_s"] < 20


def test_choose_r_examples():
    assert pao.choose_r(1, 1) == 1
    assert pao.choose_r(2, 1) == Fraction(1, 2)
    assert pao.choose_r(8, 1) == Fraction(1, 2)
    assert pao.choose_r(9, 1) == Fraction(1, 4)
    assert pao.choose_r(64, 2) == Fraction(1, 2)
    assert pao.choose_r(65, 2) == Fraction(1, 4)


def test_obs1_fails_with_a_wrong_exponent(monkeypatch):
    # r = 2^{floor(-(1/k) log2 M)}: too small, so (dm / r^2)^k exceeds M.
    monkeypatch.setattr(pao, "choose_r",
                        lambda M, k: Fraction(1, 2 ** (-(-pao.ceil_log2(M) // k))))
    assert _status("obs1-choice-of-r") == "fail"


def test_obs1_fails_with_a_constant_r(monkeypatch):
    monkeypatch.setattr(pao, "choose_r", lambda M, k: Fraction(1))
    assert _status("obs1-choice-of-r") == "fail"


def test_obs1_fails_with_a_smaller_threshold(monkeypatch):
    monkeypatch.setattr(pao, "obs1_threshold", lambda d, m, k: (d * m) ** (3 * k))
    assert _status("obs1-choice-of-r") == "fail"


@pytest.mark.parametrize("check_id", ["cor2-restart-formulas", "cor2-restart-simulation"])
def test_cor2_fails_with_too_few_restarts(monkeypatch, check_id):
    monkeypatch.setattr(pao, "restart_count", lambda s, c, delta: 1)
    assert _status(check_id) == "fail"


@pytest.mark.parametrize("check_id", ["cor2-restart-formulas", "cor2-restart-simulation"])
def test_cor2_fails_with_a_tiny_validation_set(monkeypatch, check_id):
    monkeypatch.setattr(pao, "validation_size", lambda R, eps, delta: 1)
    assert _status(check_id) == "fail"


def test_claim1_fails_with_a_finite_enumeration(monkeypatch):
    original = turing_optimal.enumerate_pairs
    monkeypatch.setattr(turing_optimal, "enumerate_pairs", lambda n: original(min(n, 10)))
    assert _status("claim1-dovetailing") == "fail"
    assert _status("claim1-enumeration") == "fail"


def test_claim1_enumeration_fails_with_duplicates(monkeypatch):
    original = turing_optimal.enumerate_pairs
    monkeypatch.setattr(turing_optimal, "enumerate_pairs",
                        lambda n: [(1, 1)] + original(n)[:-1] if n else [])
    assert _status("claim1-enumeration") == "fail"


def test_claim2_fails_without_parity(monkeypatch):
    monkeypatch.setattr(turing_optimal, "CANDIDATES", ("majority", "best_literal", "nearest"))
    assert _status("claim2-pac-parities") == "fail"


# -- the learner networks (proofs_check/learners.py) -----------------------------------
def test_learner_memorisation_fails_with_a_wrong_learning_rate(monkeypatch):
    import proofs_check.learners as learners

    monkeypatch.setattr(learners, "LR", 0.5)
    monkeypatch.setattr(learners, "_n_datasets", lambda mode: 1)
    assert _status("lemma1-learner-memorisation") == "fail"


def test_computation_fails_with_a_truncated_depth(monkeypatch):
    import proofs_check.learners as learners

    monkeypatch.setattr(learners, "layers_for", lambda name, m, d: 2)
    monkeypatch.setattr(learners, "_n_datasets", lambda mode: 2)
    assert _status("lemma1-computation") == "fail"


def test_phase_detection_fails_with_a_perturbed_gate(monkeypatch):
    import dataclasses

    import constructions.learner as cl
    import proofs_check.learners as learners

    real = cl.compile_library_learner("majority")
    net = dataclasses.replace(real.net, b3=real.net.b3 + Fraction(1, 4))
    broken = dataclasses.replace(real, net=net)
    monkeypatch.setattr(learners, "compile_library_learner", lambda name: broken)
    assert _status("lemma1-phase-detection") == "fail"


def test_depth_fails_with_a_deeper_network(monkeypatch):
    import proofs_check.learners as learners
    from simulators.learner_tape import time_bound

    monkeypatch.setattr(learners, "time_bound", lambda name, m, d: time_bound(name, m, d) // 2)
    assert _status("thm1-depth") == "fail"

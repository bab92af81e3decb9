"""``cor2-random-restarts``: Corollary 2's restart search on a real tiny patch network passes,
its exact ``q`` is right, and the check fails when the procedure is broken."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import proofs_check.restarts as restarts
from proofs_check.registry import PAPER_REFERENCE, REGISTRY
from proofs_check.runner import run_all

ID = "cor2-random-restarts"


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _run() -> dict:
    return run_all("quick", 0, only=[ID], progress=False)["claims"][0]


@pytest.fixture
def few_trials(monkeypatch):
    """Broken variants need far fewer trials to fail: keep them fast."""
    params = restarts._params

    def fewer(mode):
        return {**params(mode), "trials": 300, "rcnn_crosscheck_candidates": 5}

    monkeypatch.setattr(restarts, "_params", fewer)


def test_passes_in_quick_mode():
    assert PAPER_REFERENCE.match(REGISTRY[ID].paper)
    assert REGISTRY[ID].paper.startswith("Corollary 2")
    claim = _run()
    assert claim["status"] == "pass", claim["evidence"]
    ev = claim["evidence"]
    assert ev["P"] == 8 and ev["U^P"] == 3**8 and ev["q_exact_fraction"] == "1/2187"
    assert ev["rcnn_crosscheck"]["identical_error_counts"]
    assert ev["bb4"]["log10_paper_q"] < -1000
    assert claim["duration_s"] < 60


# -- the exact count, independently ------------------------------------------------------
def _brute_count(rule: int) -> set[tuple[int, ...]]:
    """Pure-Python loops over {-1,0,1}^8: the weight vectors exactly right on every (l,c,r)."""
    good = set()
    for w in itertools.product((-1, 0, 1), repeat=8):
        a1, b1, a2, b2, a3, b3 = w[0:3], w[3], w[4], w[5], w[6], w[7]
        ok = True
        for l, c, r in itertools.product((0, 1), repeat=3):
            h1 = max(0, a1[0] * l + a1[1] * c + a1[2] * r + b1)
            h2 = max(0, a2 * h1 + b2)
            if a3 * h2 + b3 != (rule >> (4 * l + 2 * c + r)) & 1:
                ok = False
                break
        if ok:
            good.add(w)
    return good


def test_exact_q_matches_brute_force_and_hand_count():
    good = _brute_count(238)
    # the three solutions, derived by hand: c OR r = 1 - relu(1 - relu(c + r))
    #   = 1 - relu(relu(1 - c - r)) = relu(1 - relu(1 - c - r))
    assert good == {(0, 1, 1, 0, -1, 1, -1, 1), (0, -1, -1, 1, 1, 0, -1, 1),
                    (0, -1, -1, 1, -1, 1, 1, 0)}
    assert restarts.exact_count(238, 1, 1) == (3, 6561)
    for rule in (204, 170, 128, 150):
        assert restarts.exact_count(rule, 1, 1)[0] == len(_brute_count(rule))
    assert restarts.CONSTRUCTION in good


def test_presence_masks_and_domain_errors():
    rows = np.array([[0, 0, 0, 0], [1, 0, 0, 1], [1, 1, 1, 1]])
    # (l,c,r) windows with 0 padding: 000 only; 010,100,001,010; 011,111,111,110
    assert restarts.presence_masks(rows).tolist() == [
        1, (1 << 2) | (1 << 4) | (1 << 1), (1 << 3) | (1 << 7) | (1 << 6)]
    inst = restarts.Instance(width=4)
    # a vector wrong only on pattern 7 (111) errs exactly on rows containing three 1s in a row
    n_bad = sum(1 for row in itertools.product((0, 1), repeat=4)
                if any(row[i] == row[i + 1] == row[i + 2] == 1 for i in range(2)))
    assert inst.test_err[1 << 7] == n_bad / 16


def test_clopper_pearson_reference_values():
    lo, hi = restarts.clopper_pearson(5, 100, 0.05)
    assert abs(lo - 0.01643) < 1e-4 and abs(hi - 0.11284) < 1e-4
    assert restarts.clopper_pearson(0, 100, 0.05)[1] == pytest.approx(1 - 0.025 ** 0.01)


# -- it fails when broken ------------------------------------------------------------------
def test_fails_with_one_restart(monkeypatch, few_trials):
    monkeypatch.setattr(restarts, "corollary_restarts", lambda q, delta: 1)
    assert _run()["status"] == "fail"


@pytest.mark.parametrize("n", [0, 1])
def test_fails_with_a_tiny_validation_set(monkeypatch, few_trials, n):
    monkeypatch.setattr(restarts, "corollary_validation", lambda R, eps, delta: n)
    assert _run()["status"] == "fail"


def test_fails_with_corrupt_selection(monkeypatch, few_trials):
    monkeypatch.setattr(restarts, "select", lambda scores: int(np.argmax(scores)))
    assert _run()["status"] == "fail"


def test_fails_when_lookup_scoring_is_not_the_real_network(monkeypatch, few_trials):
    monkeypatch.setattr(restarts, "READ", (5, 4, 3))  # the RCNN reads the row mirrored
    assert _run()["status"] == "fail"

"""Mutation testing (proofs_check/mutation.py): every single-weight change that alters an
output on some valid view is rejected by the certificate.

CI runs a seeded stratified sample per network; the thorough profile (``make
test-thorough``, which includes slow tests) runs every mutant of the three machines and a
2,000-mutant sample of the majority learner (``python -m proofs_check.mutation --subject
majority`` runs all 258,030)."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_check.certificates import executor_values
from proofs_check.mutation import (
    SUBJECTS,
    Mutant,
    ground_truth,
    mutants,
    sample,
    subject,
    sweep,
)
from tests.test_certificates import all_views


@pytest.mark.parametrize("name", SUBJECTS)
def test_every_harmful_change_in_a_sample_is_rejected(name: str) -> None:
    sub = subject(name)
    rep = sweep(sub, sample(list(mutants(sub.arrays)), 12, seed=1), "sample")
    assert rep.changes > 0 and rep.kill_rate == 1.0 and not rep.survivors, rep.to_json()
    assert rep.mutants == rep.noop + rep.changes + rep.unchanged


def test_ground_truth_agrees_with_brute_force_on_every_view() -> None:
    """The projection-based ground truth equals a brute-force run of the executor over all
    23,552 views of 9 cells (at most one head) of bb4."""
    from simulators.formats import builtin_machines

    sub = subject("bb4")
    views, spec = all_views(builtin_machines()["bb4"])
    for mu in sample(list(mutants(sub.arrays)), 60, seed=2):
        if mu.noop or mu.tensor in ("U2", "c2", "U1", "c1"):
            continue
        arr = {k_: v.copy() for k_, v in sub.arrays.items()}
        arr[mu.tensor][mu.index] = mu.new
        got, _ = executor_values(arr, "float32", views)
        assert ground_truth(sub, mu)["changes"] == bool((got != spec).any()), mu


def test_a_witness_is_a_real_view_where_the_output_moves() -> None:
    sub = subject("rand5x2")
    i, j = np.argwhere(sub.arrays["A2"] != 0)[0]
    old = float(sub.arrays["A2"][i, j])
    truth = ground_truth(sub, Mutant("A2", (int(i), int(j)), "+2^-10", old, old + 2.0**-10))
    assert truth["changes"] and truth["before"] != truth["after"] and len(truth["view"]) == 9


def test_zero_sign_flips_are_counted_apart() -> None:
    sub = subject("bb4")
    every = list(mutants(sub.arrays))
    assert len(every) == 3 * sum(a.size for a in sub.arrays.values())
    zeros = sum(int((a == 0).sum()) for a in sub.arrays.values())
    assert sum(m.noop for m in every) == zeros


@pytest.mark.slow
@pytest.mark.parametrize("name", SUBJECTS)
def test_every_harmful_change_is_rejected_thorough(name: str) -> None:
    """All mutants of the machines; 2,000 of the majority learner's."""
    from proofs_check.certificates_checks import mutation_plan

    todo, scope = mutation_plan(name, "thorough", 0)
    rep = sweep(subject(name), todo, scope)
    assert rep.kill_rate == 1.0 and not rep.survivors, rep.to_json()

"""§2 of the paper: learners output classifiers as Boolean circuits. The parity classifier
found by row reduction, written as an XOR circuit and run through the universal circuit
RCNN, predicts exactly what the reference learner predicts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.circuit import compile_circuit, run_circuit_batch
from simulators.datasets import all_points, random_parity
from simulators.learners import bits_to_labels, fit, labels_to_bits, learner_circuit, predict


@settings(max_examples=12)
@given(d=st.integers(1, 6), k=st.integers(0, 6), extra=st.integers(-2, 3),
       seed=st.integers(0, 2**16), engine=st.sampled_from(["float32", "float64"]))
def test_parity_classifier_through_the_rcnn(d, k, extra, seed, engine):
    k = min(k, d)
    m = max(1, d + extra)
    data = random_parity(d, k, m, seed=seed)
    test = all_points(d)
    expected = predict("parity", data.X, data.y, test)
    circuit = learner_circuit("parity", data.X, data.y, convention="sign")
    compiled = compile_circuit(circuit)
    out = run_circuit_batch(compiled, labels_to_bits(test, "sign"), engine=engine)
    got = bits_to_labels(np.asarray(out)[:, 0], "sign")
    assert np.array_equal(got, expected)


def test_full_rank_sample_gives_the_true_parity_through_the_rcnn():
    d = 6
    for seed in range(5):
        data = random_parity(d, 3, 4 * d, seed=seed)
        assert fit("parity", data.X, data.y).diagnostics.determined  # full rank over GF(2)
        test = all_points(d)
        truth = np.prod(np.where(np.isin(np.arange(d), list(data.S)), test, 1), axis=1)
        compiled = compile_circuit(learner_circuit("parity", data.X, data.y))
        out = run_circuit_batch(compiled, labels_to_bits(test), engine="float32")
        assert np.array_equal(bits_to_labels(np.asarray(out)[:, 0]), truth)

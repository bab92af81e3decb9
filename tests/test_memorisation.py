"""Lemma 1 (1): Algorithm 1's SGD, through the fixed shared weights, writes the training set
into W exactly, with output exactly 0 at every step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from constructions.memorisation import (
    CARRIER,
    CODES,
    algorithm1,
    memorisation_errors,
    memorisation_rcnn,
    memorisation_table,
    memorisation_weights,
)
from constructions.representation import check_realisation, realise


@st.composite
def datasets(draw):
    d = draw(st.integers(1, 6))
    m = draw(st.integers(0, 8))
    X = np.array(draw(st.lists(st.lists(st.sampled_from([-1, 1]), min_size=d, max_size=d),
                               min_size=m, max_size=m)), dtype=np.int64).reshape(m, d)
    y = np.array(draw(st.lists(st.sampled_from([-1, 1]), min_size=m, max_size=m)),
                 dtype=np.int64)
    return X, y


def test_patch_table_is_realised_with_exact_values_and_jacobians():
    table = memorisation_table()
    net = realise(table, [sorted({p[0] for p in table}), sorted({p[1] for p in table})])
    assert check_realisation(net, table, dtype=None) == []
    assert check_realisation(net, table, dtype=torch.float64) == []
    assert check_realisation(net, table, dtype=torch.float32) == []


def test_head_is_identity_on_carriers_and_flat_zero_elsewhere():
    _, head = memorisation_weights()
    codes = torch.tensor([float(c) for c in CODES], dtype=torch.float64, requires_grad=True)
    u2, c2 = (torch.tensor(head.U2.astype(float)), torch.tensor(head.c2.astype(float)))
    u1, c1 = (torch.tensor(head.U1.astype(float)), torch.tensor(head.c1.astype(float)))
    out = (torch.relu(codes[:, None] @ u2.T + c2) @ u1.T + c1)[:, 0]
    (grad,) = torch.autograd.grad(out.sum(), codes)
    assert out.tolist() == [0.0] * len(CODES)
    assert grad.tolist() == [1.0 if c == CARRIER else 0.0 for c in CODES]


@given(datasets(), st.sampled_from([1, 2, 7, 25]),
       st.sampled_from([torch.float64, torch.float32]))
def test_algorithm1_memorises_exactly(data, layers, dtype):
    X, y = data
    model = memorisation_rcnn(X.shape[1], len(y), layers, dtype=dtype)
    assert all(not p.requires_grad for _, p in model.shared_parameters())
    assert memorisation_errors(model, X, y) == []


def test_shared_weights_do_not_move():
    X, y = np.array([[1, -1, 1]]), np.array([-1])
    model = memorisation_rcnn(3, 1, 4)
    before = {n: p.clone() for n, p in model.shared_parameters()}
    algorithm1(model, X, y)
    assert all(torch.equal(before[n], p) for n, p in model.shared_parameters())


def test_after_memorisation_the_grid_is_full_and_has_no_carrier():
    X, y = np.array([[1, -1], [-1, -1]]), np.array([1, -1])
    model = memorisation_rcnn(2, 2, 3)
    algorithm1(model, X, y)
    z = torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        grids = model.rollout(model.memory(z))
    assert not (grids == float(CARRIER)).any()
    assert model(z).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("lr", [0.5, 0.25])
def test_check_fails_with_a_wrong_learning_rate(lr):
    X, y = np.array([[1, -1, 1], [-1, -1, 1]]), np.array([1, -1])
    assert memorisation_errors(memorisation_rcnn(3, 2, 3), X, y, lr=lr)


def test_check_fails_with_a_perturbed_head():
    X, y = np.array([[1, -1, 1], [-1, -1, 1]]), np.array([1, -1])
    model = memorisation_rcnn(3, 2, 3)
    with torch.no_grad():
        model.U1[0, 1] = 3.0  # slope 2 on carriers: rows get 2 y x / 3
    assert memorisation_errors(model, X, y)


def test_check_fails_when_a_layer_breaks_the_carrier_slope():
    X, y = np.array([[1, -1, 1]]), np.array([1])
    model = memorisation_rcnn(3, 1, 3)
    with torch.no_grad():
        model.A3.mul_(2)  # every layer doubles: slopes 2^L, values wrong
    assert memorisation_errors(model, X, y)


def test_no_layers_is_refused():
    with pytest.raises(ValueError, match="at least one layer"):
        memorisation_rcnn(2, 2, 0)

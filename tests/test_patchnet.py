"""compile_local_rule: the network equals its rule on every domain patch, exactly, and the
precision analysis (bits_needed) is sufficient in every float format it admits."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from constructions.patchnet import (
    CENTER,
    MANTISSA_BITS,
    LocalRule,
    Table,
    bits_needed,
    compile_local_rule,
)
from constructions.rcnn import DTYPES

dyadic = st.integers(-32, 32).map(lambda n: Fraction(n, 8))


@st.composite
def rules(draw) -> LocalRule:
    domain = tuple(sorted(draw(st.lists(dyadic, min_size=1, max_size=6, unique=True))))
    positions = draw(st.lists(st.integers(0, 8), min_size=1, max_size=3, unique=True))
    tables = []
    for _ in range(draw(st.integers(1, 3))):
        ps = tuple(draw(st.lists(st.sampled_from(positions), min_size=1, max_size=2,
                                 unique=True)))
        values = {}
        for _ in range(draw(st.integers(1, 6))):
            values[tuple(draw(st.sampled_from(domain)) for _ in ps)] = draw(dyadic)
        tables.append(Table(ps, values))
    passthrough = {CENTER: draw(dyadic)} if draw(st.booleans()) else {}
    return LocalRule(domain, passthrough, tables, bias=draw(dyadic))


def domain_patches(rule: LocalRule) -> np.ndarray:
    read = sorted(rule.positions_read)
    rows = []
    for combo in itertools.product(rule.domain, repeat=len(read)):
        patch = [rule.domain[0]] * 9
        for p, v in zip(read, combo):
            patch[p] = v
        rows.append(patch)
    return np.array(rows, dtype=object)


@given(rules())
def test_network_equals_rule_exactly_and_in_every_admitted_float(rule):
    net = compile_local_rule(rule)
    patches = domain_patches(rule)
    expected = [rule(p) for p in patches]
    assert list(net.evaluate_exact(patches)) == expected
    bits = bits_needed(net, rule.domain)
    x = np.array([[float(v) for v in p] for p in patches])
    for name in ("float16", "float32", "float64"):
        if bits > MANTISSA_BITS[name]:
            continue
        dt = DTYPES[name]
        t = {k: torch.tensor(a.astype(float), dtype=dt) for k, a in net.arrays().items()}
        h = torch.relu(torch.tensor(x, dtype=dt) @ t["A1"].T + t["b1"])
        h = torch.relu(h @ t["A2"].T + t["b2"])
        got = (h @ t["A3"].T + t["b3"])[:, 0].double().tolist()
        assert got == [float(e) for e in expected], name


def test_product_granularity_is_counted():
    """Halves times halves are quarters: the bound must count in units of 1/4."""
    rule = LocalRule((Fraction(0), Fraction(1, 2), Fraction(1)),
                     passthrough={CENTER: Fraction(1, 2)})
    net = compile_local_rule(rule)
    assert bits_needed(net, rule.domain) >= 3

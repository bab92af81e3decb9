"""Exact values and exact autograd Jacobians on a finite grid (constructions/representation.py).

The claim under test is our version of the paper's appendix B.4.1 (used by Lemma 1): for
every table of values and Jacobians on points of a finite product of rationals, `realise`
builds a two-ReLU-layer network that matches both exactly, with no table point on a kink.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from fractions import Fraction as F

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from constructions.representation import (
    Gate,
    Hinge,
    ReluNetwork,
    bits_needed,
    check_realisation,
    choose_default,
    float_report,
    gate_bits_needed,
    gates_spec,
    is_dyadic,
    layer2_width,
    mantissa_bits,
    min_abs_preactivation,
    normalise_table,
    product_points,
    realise,
    realise_gates,
)

# Domain values: integers, halves and thirds (the memory layer's 1/3 is not dyadic).
DOMAIN_VALUES = sorted({F(k, 2) for k in range(-6, 7)} | {F(k, 3) for k in (-4, -2, -1, 1, 2, 4)})


def dyadic(max_num: int = 64, max_exp: int = 4) -> st.SearchStrategy[F]:
    return st.builds(lambda k, e: F(k, 2**e), st.integers(-max_num, max_num),
                     st.integers(0, max_exp))


def entries() -> st.SearchStrategy[F]:
    """Dyadic values and Jacobian entries, zero often (sparse Jacobians, default values)."""
    return st.one_of(st.just(F(0)), dyadic())


@st.composite
def tables(draw, clean: bool = False, max_n: int = 4, max_points: int = 12):
    """A random (domains, table). ``clean``: Jacobians vanish on non-dyadic coordinates."""
    n = draw(st.integers(1, max_n))
    doms = [sorted(draw(st.sets(st.sampled_from(DOMAIN_VALUES), min_size=2, max_size=5)))
            for _ in range(n)]
    size = int(np.prod([len(d) for d in doms]))
    idx = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=min(max_points, size),
                        unique=True))
    everything = list(itertools.product(*doms))
    table = {}
    for k in idx:
        p = everything[k]
        v = draw(entries())
        jac = tuple(F(0) if clean and not is_dyadic(c) else draw(entries()) for c in p)
        table[p] = (v, jac)
    return doms, table


def _clean(table) -> bool:
    return all(j == 0 for p, (_, jac) in table.items() for c, j in zip(p, jac)
               if not is_dyadic(c))


# ---------------------------------------------------------------------------------------
# the claim: exact values and Jacobians
# ---------------------------------------------------------------------------------------
@given(tables())
def test_exact_rational_values_and_jacobians(case):
    doms, table = case
    net = realise(table, doms)
    assert check_realisation(net, table, None) == []
    pts = list(table)
    got = net.evaluate_exact(pts)
    assert list(got) == [table[p][0] for p in pts]


@given(tables())
def test_float64_autograd_jacobian_exact_everywhere(case):
    """float64: the autograd Jacobian is exact at every table point; the value is exact
    wherever the Jacobian vanishes on non-dyadic coordinates and within the proven bound
    elsewhere (an input 1/3 cannot be held exactly)."""
    doms, table = case
    net = realise(table, doms)
    bits = bits_needed(net, table)
    assert bits <= 53
    assert check_realisation(net, table, torch.float64) == []
    report = float_report(net, table, 53)
    assert report.guaranteed
    for p, (_, jac) in normalise_table(table).items():
        assert report.jacobian_exact[p]
        if all(is_dyadic(c) or j == 0 for c, j in zip(p, jac)):
            assert report.value_error[p] == 0


@given(tables(clean=True))
def test_clean_tables_are_exact_in_float(case):
    """Jacobian zero on every non-dyadic coordinate: value and Jacobian exact in float64,
    and in float32 whenever bits_needed <= 24; all weights are then dyadic."""
    doms, table = case
    net = realise(table, doms)
    assert all(is_dyadic(w) for w in net.weight_values())
    net.to_torch(torch.float64)  # exact conversion does not raise
    report = float_report(net, table, 53)
    assert all(e == 0 for e in report.value_error.values())
    assert check_realisation(net, table, torch.float64) == []
    if bits_needed(net, table) <= mantissa_bits(torch.float32):
        assert check_realisation(net, table, torch.float32) == []


@given(tables(max_n=2, max_points=6))
def test_float32_where_bits_allow(case):
    doms, table = case
    small = {p: (v / 64, tuple(j / 64 for j in jac)) for p, (v, jac) in table.items()}
    for tab in (table, small):
        net = realise(tab, doms)
        if bits_needed(net, tab) <= 24:
            assert check_realisation(net, tab, torch.float32) == []


def test_float32_branch_is_exercised():
    doms = [[F(-1, 3), F(0), F(1, 3)], [F(0), F(1)]]
    table = {(F(0), F(1)): (F(1), (F(1), F(-1, 2))), (F(1, 3), F(0)): (F(-3, 4), (F(0), F(2))),
             (F(-1, 3), F(1)): (F(0), (F(0), F(1, 4)))}
    net = realise(table, doms)
    assert bits_needed(net, table) <= 24
    assert check_realisation(net, table, torch.float32) == []
    assert check_realisation(net, table, torch.float64) == []


@given(tables(max_n=3, max_points=8))
def test_bits_needed_is_the_least_guaranteed_precision(case):
    doms, table = case
    net = realise(table, doms)
    b = bits_needed(net, table)
    assert float_report(net, table, b).guaranteed
    if b > 1:
        assert not float_report(net, table, b - 1).guaranteed


# ---------------------------------------------------------------------------------------
# kink avoidance and behaviour off the table
# ---------------------------------------------------------------------------------------
@given(tables(max_n=3, max_points=10))
def test_no_point_of_the_grid_is_on_a_kink(case):
    """Every pre-activation is non-zero at every point of the product of domains; more
    precisely |z| >= 1 except for a point's own open unit, whose argument is |r_p| or 1."""
    doms, table = case
    net = realise(table, doms)
    tab = normalise_table(table)
    assert min_abs_preactivation(net, tab) > 0
    for x in product_points(doms):
        z1, z2 = net.preactivations_exact(x)
        assert all(z != 0 for z in z1 + z2)
        assert all(abs(z) >= 1 for z in z1)
        for name, z in zip(net.units2, z2):
            own = name.endswith("(" + ",".join(str(c) for c in x) + ")")
            if own:
                v = tab[x][0]
                assert z == (abs(v - net.default) if name.startswith("gate") else 1)
            else:
                assert z <= -1


@given(tables(max_n=3, max_points=10))
def test_default_value_and_zero_jacobian_off_the_table(case):
    doms, table = case
    net = realise(table, doms)
    tab = normalise_table(table)
    zero = tuple(F(0) for _ in doms)
    for x in product_points(doms):
        if x not in tab:
            assert net.value_and_jacobian_exact(x) == (net.default, zero)


def test_kink_detector_can_fail():
    """Moving a hinge onto a domain value puts a table point on a kink."""
    doms = [[F(0), F(1, 3), F(1)]]
    table = {(F(1, 3),): (F(1), (F(2),)), (F(1),): (F(-1), (F(0),))}
    net = realise(table, doms)
    assert min_abs_preactivation(net, normalise_table(table)) > 0
    u = net.units1.index("x0<1/8")  # relu(s (1/8 - x)); move its breakpoint to 1/3
    b1 = net.b1.copy()
    b1[u] = -net.A1[u, 0] * F(1, 3)
    bad = ReluNetwork(net.A1, b1, net.A2, net.b2, net.A3, net.b3, net.units1, net.units2)
    assert min_abs_preactivation(bad, normalise_table(table)) == 0


# ---------------------------------------------------------------------------------------
# the checks can fail
# ---------------------------------------------------------------------------------------
def _perturbed(net: ReluNetwork, name: str, index: tuple, delta: F) -> ReluNetwork:
    arrays = {k: v.copy() for k, v in net.arrays().items()}
    arrays[name][index] += delta
    return ReluNetwork(**arrays, units1=net.units1, units2=net.units2, default=net.default,
                       gate=net.gate)


@given(tables(max_n=3, max_points=8), st.data())
def test_perturbed_weights_are_caught(case, data):
    doms, table = case
    net = realise(table, doms)
    assert check_realisation(_perturbed(net, "b3", (0,), F(1, 2)), table, None)
    opens = [k for k, nm in enumerate(net.units2) if nm.startswith(("gate", "shifted"))]
    if not opens:
        return
    k = data.draw(st.sampled_from(opens))
    bad = _perturbed(net, "b2", (k,), F(1, 2))  # the unit stays open at its point
    mism = check_realisation(bad, table, None)
    assert any(m.quantity == "value" for m in mism)
    if _clean(table):
        assert check_realisation(bad, table, torch.float64)
    passes = [j for j in range(net.hidden[0]) if net.A2[k, j] != 0
              and net.units1[j].startswith("pass")]
    if passes:
        bad = _perturbed(net, "A2", (k, data.draw(st.sampled_from(passes))), F(1, 4))
        assert any(m.quantity == "jacobian" for m in check_realisation(bad, table, None))
        assert any(m.quantity == "jacobian"
                   for m in check_realisation(bad, table, torch.float64))


def test_shrinking_the_gate_constant_breaks_the_table():
    doms = [[F(0), F(1)], [F(0), F(1)]]
    table = {(F(0), F(0)): (F(8), (F(0), F(0))), (F(1), F(1)): (F(-8), (F(4), F(4)))}
    net = realise(table, doms)
    A2 = net.A2.copy()
    A2[A2 == -net.gate] = F(-1)
    bad = ReluNetwork(net.A1, net.b1, A2, net.b2, net.A3, net.b3, net.units1, net.units2)
    assert check_realisation(net, table, None) == []
    assert check_realisation(bad, table, None)


# ---------------------------------------------------------------------------------------
# structure: widths, weight set, dyadic weights, other forms
# ---------------------------------------------------------------------------------------
@given(tables())
def test_widths(case):
    doms, table = case
    net = realise(table, doms)
    tab = normalise_table(table)
    h1, h2 = net.hidden
    assert h2 == max(1, layer2_width(tab, net.default))
    assert h2 <= len(tab) or h2 == 1
    assert h1 <= sum(2 * (len(d) - 1) + 1 for d in doms)
    # any default off the table costs one unit per point; so the optimum over all rationals:
    assert layer2_width(tab, net.default) == min(
        [len(tab)] + [layer2_width(tab, v) for v, _ in tab.values()])
    assert net.n_parameters == h1 * (len(doms) + 1) + h2 * (h1 + 1) + h2 + 1
    n, size = len(doms), len(tab)
    bound = 5 + 4 * sum(len(d) - 1 for d in doms) + n + n * size + size
    assert len(net.weight_values()) <= min(bound, net.n_parameters)


@given(tables())
def test_dyadic_weights_iff_v_minus_jp_dyadic(case):
    """All weights are dyadic exactly when every v_p - J_p . p is (necessary for any
    dyadic-weight ReLU network, see the module docstring)."""
    doms, table = case
    net = realise(table, doms)
    tab = normalise_table(table)
    need = all(is_dyadic(v - sum(j * c for j, c in zip(jac, p))) for p, (v, jac) in tab.items())
    assert all(is_dyadic(w) for w in net.weight_values()) == need
    if not need:
        with pytest.raises(ValueError):
            net.to_torch(torch.float64)


@given(tables(max_n=3, max_points=8))
def test_homogeneous_form_has_no_biases(case):
    doms, table = case
    net = realise(table, doms)
    hom = net.homogeneous()
    assert all(b == 0 for name in ("b1", "b2", "b3") for b in hom.arrays()[name])
    for p, (v, jac) in normalise_table(table).items():
        got_v, got_j = hom.value_and_jacobian_exact(p + (F(1),))
        assert (got_v, got_j[:-1]) == (v, jac)
    assert min_abs_preactivation(hom, [p + (F(1),) for p in normalise_table(table)]) > 0


def test_patch_network_form():
    doms = [[F(-1, 3), F(0), F(1, 3)]] * 9
    zero = (F(0),) * 9
    centre = tuple(F(1) if i == 4 else F(0) for i in range(9))
    table = {zero: (F(0), centre), (F(1, 3),) * 4 + (F(0),) * 5: (F(1, 2), centre),
             (F(-1, 3),) * 9: (F(-1), zero)}
    net = realise(table, doms)
    patch = net.to_patch_network()
    pts = list(table)
    assert list(patch.evaluate_exact(np.array(pts, dtype=object))) == [table[p][0] for p in pts]
    assert check_realisation(net, table, torch.float64) == []


def test_non_dyadic_inputs_absorbed_where_ramp_pairs_leak():
    """Domains such as {-1/2, 1/3}: a ramp pair relu(y - a) - relu(y - a - 1) with a < 0 < y
    rounds its two halves differently at x = fl(1/3); the hinges here never cancel two
    active units, so an indicator of x == 1/3 is exact in float64 and float32."""
    for lo, hi in [(F(-1, 2), F(1, 3)), (F(-1, 3), F(1, 6)), (F(-2, 3), F(1, 3)),
                   (F(-1), F(2, 3)), (F(-4, 3), F(-1, 3))]:
        table = {(hi,): (F(1), (F(0),)), (lo,): (F(0), (F(0),))}
        net = realise(table, [[lo, hi]], default=F(0))
        assert check_realisation(net, table, torch.float64) == []
        assert check_realisation(net, table, torch.float32) == []


def test_constant_table_and_validation():
    net = realise({(F(0),): (F(5), (F(0),))}, [[F(0), F(1)]])
    assert net.hidden == (1, 1) and net.default == 5
    assert check_realisation(net, {(F(0),): (F(5), (F(0),))}, torch.float64) == []
    with pytest.raises(ValueError):
        realise({(F(2),): (F(1), (F(0),))}, [[F(0), F(1)]])
    with pytest.raises(ValueError):
        realise({(F(0),): (F(1), (F(0), F(0)))}, [[F(0), F(1)]])


def test_hinges_are_dyadic_and_clear_both_neighbours():
    for u, w in itertools.combinations(DOMAIN_VALUES, 2):
        h = Hinge.between(u, w)
        assert is_dyadic(h.t) and u < h.t < w
        assert h.slope * (h.t - u) >= 1 and h.slope * (w - h.t) >= 1
        assert h.slope.numerator & (h.slope.numerator - 1) == 0 and h.slope.denominator & (
            h.slope.denominator - 1) == 0


def test_choose_default_prefers_the_common_flat_value():
    table = {(F(i),): (F(3), (F(0),)) for i in range(4)}
    table[(F(4),)] = (F(1), (F(1),))
    assert choose_default(normalise_table(table)) == 3
    net = realise(table, [list(range(5))])
    assert net.hidden[1] == 1


def test_default_off_the_table_when_every_value_has_a_slope():
    """All values 0 and 1 with non-zero slopes: a default of 2 costs one unit per point."""
    table = {(F(i),): (F(i % 2), (F(1),)) for i in range(4)}
    net = realise(table, [list(range(4))])
    assert net.default == 2 and net.hidden[1] == 4
    assert check_realisation(net, table, torch.float64) == []


# -- realise_gates: sums of gated affine pieces on boxes ---------------------------------
def _draw_gates(draw: st.DrawFn, domains, count: tuple[int, int], slopes, values) -> list:
    """Random gates on ``domains``: each coordinate unbounded, pinned (maybe with a slope
    from ``slopes``) or an interval; values from ``values``."""
    gates = []
    for _ in range(draw(st.integers(*count))):
        box, slope = [], []
        for d in domains:
            kind = draw(st.sampled_from(["any", "point", "interval"]))
            if kind == "any":
                box.append(None)
                slope.append(Fraction(0))
                continue
            i = draw(st.integers(0, len(d) - 1))
            j = i if kind == "point" else draw(st.integers(i, len(d) - 1))
            box.append((d[i], d[j]))
            slope.append(Fraction(draw(st.sampled_from(slopes))) if kind == "point"
                         else Fraction(0))
        value = Fraction(draw(st.sampled_from(values)))
        gates.append(Gate(tuple(box), value, tuple(slope), group=len(gates)))
    return gates


@st.composite
def gate_problems(draw: st.DrawFn):
    n = draw(st.integers(1, 3))
    nums = st.fractions(min_value=-4, max_value=4, max_denominator=6)
    domains = [sorted(set(draw(st.lists(nums, min_size=1, max_size=5)))) for _ in range(n)]
    gates = _draw_gates(draw, domains, (0, 5), [0, 1, Fraction(-1, 2)],
                        [-3, -1, Fraction(1, 2), 2, 5])
    return gates, domains


@given(gate_problems())
def test_realise_gates_matches_the_gate_specification(problem) -> None:
    """Exact value and autograd Jacobian at every point of the product of the domains equal
    the sum over the gates whose box holds it, and no unit sits at a kink."""
    gates, domains = problem
    net, groups = realise_gates(gates, domains)
    assert len(groups) == max(1, len(gates))
    points = list(product_points(domains))
    want = gates_spec(gates, points)
    for p, (v, jac) in zip(points, want):
        assert net.value_and_jacobian_exact(p) == (v, jac), p
    assert min_abs_preactivation(net, points) > 0


def test_gate_whose_piece_changes_sign_is_refused() -> None:
    dom = [Fraction(v) for v in (0, 1, 2, 3)]
    with pytest.raises(ValueError, match="one sign"):
        realise_gates([Gate(((Fraction(0), Fraction(3)),), Fraction(-1), (Fraction(1),))],
                      [dom])


@st.composite
def integer_gate_problems(draw: st.DrawFn):
    n = draw(st.integers(1, 3))
    domains = [[Fraction(v) for v in sorted(set(draw(st.lists(st.integers(-20, 60), min_size=2,
                                                                 max_size=6))))]
               for _ in range(n)]
    return _draw_gates(draw, domains, (1, 6), [0, 1, -1], [-40, -3, 1, 2, 7, 50]), domains


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
@given(problem=integer_gate_problems())
def test_gate_bits_needed_is_sufficient(problem, dtype) -> None:
    """Whenever gate_bits_needed fits the format, the float network's value and autograd
    Jacobian equal the gate specification at every point of the domain product."""
    gates, domains = problem
    net, groups = realise_gates(gates, domains)
    bits = gate_bits_needed(net, net.units1, sorted(set().union(*map(set, domains))), groups)
    if bits > mantissa_bits(dtype):
        return
    points = list(product_points(domains))
    want = gates_spec(gates, points)
    model = net.to_torch(dtype)
    x = torch.tensor([[float(c) for c in p] for p in points], dtype=dtype, requires_grad=True)
    y = model(x)[:, 0]
    (grad,) = torch.autograd.grad(y.sum(), x)
    for p, yv, gv, (v, jac) in zip(points, y.tolist(), grad.tolist(), want):
        assert Fraction(yv) == v, (p, yv, v, bits)
        assert tuple(Fraction(g) for g in gv) == jac, (p, gv, jac)

"""Exact values *and* exact Jacobians on a finite grid, with a two-layer ReLU network.

This is our version of the representation theorem of the paper's appendix B.4.1, which
Lemma 1 (memorisation by SGD, Algorithm 1) relies on: a function given on the finite set of
values a bit precision allows, together with its Jacobian there, is computed by a
fixed-depth ReLU network with weights from a finite set, matching both exactly.

Claim (ours). Let ``D = D_1 x ... x D_n`` be a product of finite sets of rationals and let a
*table* give, for some points ``p`` of ``D``, a value ``v_p`` and a row ``J_p`` (rationals).
:func:`realise` returns ``f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3`` with rational
weights such that, for every point ``x`` of ``D``:

1. every pre-activation of every unit at ``x`` is non-zero, so ``f`` is affine on a
   neighbourhood of ``x`` and autograd's Jacobian (whatever it takes for ``ReLU'(0)``) is
   the true derivative;
2. if ``x`` is a table point, ``f(x) = v_x`` and ``Df(x) = J_x`` exactly;
3. otherwise ``f(x) = net.default`` and ``Df(x) = 0``.

Construction (all breakpoints, slopes and constants are powers of two or dyadic):

* layer 1, *penalty hinges*: for consecutive values ``u < w`` of ``D_i`` the least power of
  two ``s > 2 / (w - u)`` and a dyadic breakpoint ``t`` with ``s (t - u) >= 1`` and
  ``s (w - t) >= 1`` (:class:`Hinge`) give ``below = relu(s (t - x_i))`` and
  ``above = relu(s (x_i - t))``. On ``D_i`` each is either exactly 0 with pre-activation
  ``<= -1`` or ``>= 1``. The penalty of ``x_i`` against a value ``d`` of ``D_i`` is
  ``pen(x_i; d) = below(t_left(d)) + above(t_right(d))``: exactly 0 (and locally constant) at
  ``x_i = d``, ``>= 1`` at every other value of ``D_i``.
* layer 1, *pass-throughs*: ``relu(x_i + S_i)``, ``S_i = ceil(1 - min D_i)``, argument ``>= 1``.
* layer 2, one *gated affine unit* per table point with ``r_p = v_p - default != 0``:
  ``relu(sg (r_p + J_p . (x - p)) - B M_p(x))`` with ``sg = sign(r_p)``, output weight
  ``sg``, where ``M_p(x) = sum_i pen(x_i; p_i)``. At ``p`` the argument is ``|r_p| > 0``
  with slope ``sg J_p``; at any other point of ``D``, ``M_p >= 1`` and the argument is
  ``<= -1`` once ``B >= max_D |r_p + J_p . (x - p)| + 1``.
* points with ``r_p = 0`` but ``J_p != 0`` use a unit shifted by 1,
  ``relu(J_p . (x - p) + 1 - B M_p(x))`` (weight +1), plus a *flat* unit
  ``relu(1 - B M_p(x))`` (weight -1) that is 1 with zero slope at ``p`` and 0 elsewhere.
* points with ``r_p = 0`` and ``J_p = 0`` need no unit; ``b3 = default``.

``B`` is the least power of two ``>= max_p (|r_p| + sum_i |J_p,i| max_{d in D_i} |d - p_i|
+ c_p + 1)`` (``c_p = 1`` for shifted units). ``default`` is chosen among 0, the table's
values and one value off the table to minimise the number of layer-2 units (at most one
per table point). Unlike the ramp pairs of
:mod:`constructions.patchnet`, no unit's output is the cancellation of two active units, so
rounding of a non-dyadic input (such as the ``1/3`` of the memory layer) is absorbed by
inactive hinges instead of leaking into the output (see :func:`float_report`).

Dyadic weights. Every weight is dyadic when the table's values, Jacobians and the numbers
``v_p - J_p . p`` are; the last condition is also necessary for *any* ReLU network with
dyadic weights, since at any point such a network computes ``c + J . x`` with ``c`` a sum of
products of its weights. The paper's patch network ``V1 s(V2 V3 s(V4 V5 x))`` has no
biases; :meth:`ReluNetwork.homogeneous` gives the bias-free form with a constant input.

Precision (:func:`bits_needed`, :func:`float_report`). Where inputs, weights and table
entries are dyadic, every float partial sum (forward and autograd's backward) is exact once
the format has ``bits_needed`` significand bits. Non-dyadic inputs such as ``1/3`` are
rounded; the hinges reading them have ``|z| >= 1``, so with ``bits_needed`` bits their signs
are kept: inactive hinges output an exact 0 and closed gates an exact 0. Hence the autograd
Jacobian is exact at every table point, and the value is exact at every point whose
Jacobian vanishes on its non-dyadic coordinates; a non-zero slope along a rounded input
necessarily passes the rounding on to the value, which :func:`float_report` then bounds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import torch
from torch import nn

from constructions.patchnet import PatchNetwork, TwoLayerWeights

Point = tuple[Fraction, ...]
Jet = tuple[Fraction, tuple[Fraction, ...]]
"""A table entry: ``(value, jacobian)`` with the Jacobian a length-``n`` row."""

_ZERO = Fraction(0)
_ONE = Fraction(1)


# ---------------------------------------------------------------------------------------
# small exact helpers
# ---------------------------------------------------------------------------------------
def _pow2(e: int) -> Fraction:
    return Fraction(2) ** e


def _pow2_ceil(x: Fraction) -> Fraction:
    """The least power of two ``>= x`` (``x > 0``)."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    while _pow2(e - 1) >= x:
        e -= 1
    while _pow2(e) < x:
        e += 1
    return _pow2(e)


def is_dyadic(v: Fraction) -> bool:
    """Whether ``v`` is an integer multiple of a power of two (a finite binary fraction)."""
    den = Fraction(v).denominator
    return den & (den - 1) == 0


def _two_adic(v: Fraction) -> int:
    """For dyadic ``v != 0``, the exponent ``e`` with ``v = odd * 2^e``."""
    num, den = v.numerator, v.denominator
    if den > 1:
        return -(den.bit_length() - 1)
    a = abs(num)
    return (a & -a).bit_length() - 1


def _odd_bits(v: Fraction) -> int:
    """Significand bits a binary float needs to hold the dyadic ``v`` exactly."""
    if v == 0:
        return 1
    a = abs(v.numerator)
    return (a >> ((a & -a).bit_length() - 1)).bit_length()


def _sum_bits(terms: Iterable[Fraction]) -> int:
    """Significand bits that make every partial sum of ``terms`` (dyadic) exact, in any order.

    Every partial sum is a multiple of ``g = 2^min_e`` (the finest term) bounded by
    ``sum |t|``; a float with ``b`` bits holds every such multiple when ``sum |t| / g < 2^b``.
    """
    nz = [t for t in terms if t != 0]
    if not nz:
        return 1
    e = min(_two_adic(t) for t in nz)
    n_units = sum(abs(t) for t in nz) / _pow2(e)
    assert n_units.denominator == 1
    return max(1, int(n_units).bit_length())


def _obj_zeros(*shape: int) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out[...] = _ZERO
    return out


def _relu(v: Fraction) -> Fraction:
    return v if v > 0 else _ZERO


# ---------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReluNetwork(TwoLayerWeights):
    """``f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3`` with exact ``Fraction`` weights.

    ``units1``/``units2`` name the hidden units; ``default`` is the value taken off the table
    and ``gate`` the constant ``B`` of the construction (both informative only).
    """

    A1: np.ndarray
    b1: np.ndarray
    A2: np.ndarray
    b2: np.ndarray
    A3: np.ndarray
    b3: np.ndarray
    units1: tuple[str, ...]
    units2: tuple[str, ...]
    default: Fraction = _ZERO
    gate: Fraction = _ONE

    # -- shape and weights ----------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return self.A1.shape[1]

    @cached_property
    def _sparse(self) -> tuple[list, list, list, list, list]:
        """Non-zeros by row (forward) and by column (backward) of A1, A2, A3."""
        rows1 = [[(j, w) for j, w in enumerate(r) if w != 0] for r in self.A1]
        rows2 = [[(j, w) for j, w in enumerate(r) if w != 0] for r in self.A2]
        row3 = [(k, w) for k, w in enumerate(self.A3[0]) if w != 0]
        cols1: list[list[tuple[int, Fraction]]] = [[] for _ in range(self.n_inputs)]
        for u, r in enumerate(rows1):
            for i, w in r:
                cols1[i].append((u, w))
        cols2: list[list[tuple[int, Fraction]]] = [[] for _ in range(self.A1.shape[0])]
        for k, r in enumerate(rows2):
            for j, w in r:
                cols2[j].append((k, w))
        return rows1, rows2, row3, cols1, cols2

    # -- exact evaluation -----------------------------------------------------------------
    def preactivations_exact(self, x: Sequence[Fraction]) -> tuple[list[Fraction], ...]:
        """Exact pre-activations ``(z1, z2)`` of both hidden layers at the point ``x``."""
        rows1, rows2, _, _, _ = self._sparse
        xs = [Fraction(v) for v in x]
        z1 = [sum((w * xs[i] for i, w in r), self.b1[u]) for u, r in enumerate(rows1)]
        h1 = [_relu(z) for z in z1]
        z2 = [sum((w * h1[j] for j, w in r), self.b2[k]) for k, r in enumerate(rows2)]
        return z1, z2

    def value_and_jacobian_exact(self, x: Sequence[Fraction]) -> Jet:
        """Exact ``f(x)`` and the Jacobian autograd computes (``ReLU'(0) = 0``)."""
        _, _, row3, cols1, cols2 = self._sparse
        z1, z2 = self.preactivations_exact(x)
        y = sum((w * _relu(z2[k]) for k, w in row3), self.b3[0])
        g2 = {k: w for k, w in row3 if z2[k] > 0}
        g1 = [sum((w * g2[k] for k, w in cols2[j] if k in g2), _ZERO) if z1[j] > 0 else _ZERO
              for j in range(len(z1))]
        jac = tuple(sum((w * g1[u] for u, w in cols1[i]), _ZERO) for i in range(self.n_inputs))
        return Fraction(y), jac

    def evaluate_exact(self, points: np.ndarray | Sequence[Sequence[Fraction]]) -> np.ndarray:
        """Exact rational forward pass on ``points`` of shape ``(N, n)``; returns ``(N,)``."""
        out = [self.value_and_jacobian_exact(p)[0] for p in np.asarray(points, dtype=object)]
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        return arr

    # -- conversions ----------------------------------------------------------------------
    def to_torch(self, dtype: torch.dtype = torch.float64, *, exact: bool = True) -> nn.Module:
        """The network as ``nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`` (frozen).

        With ``exact=True`` a weight that ``dtype`` cannot hold exactly raises ``ValueError``;
        with ``exact=False`` it is rounded to nearest (see :func:`float_report`).
        """
        def tensor(a: np.ndarray) -> torch.Tensor:
            t = torch.tensor([float(v) for v in a.ravel()], dtype=torch.float64)
            t = t.to(dtype).reshape(a.shape)
            if exact:
                for want, got in zip(a.ravel(), t.to(torch.float64).reshape(-1).tolist()):
                    if not math.isfinite(got) or Fraction(got) != want:
                        raise ValueError(f"weight {want} is not exactly representable in {dtype}")
            return t

        (h1, h2), n = self.hidden, self.n_inputs
        # built on the meta device (no random initialisation, the global RNG is untouched)
        model = nn.Sequential(nn.Linear(n, h1, device="meta"), nn.ReLU(),
                              nn.Linear(h1, h2, device="meta"), nn.ReLU(),
                              nn.Linear(h2, 1, device="meta"))
        pairs = ((0, self.A1, self.b1), (2, self.A2, self.b2), (4, self.A3, self.b3))
        for idx, a, b in pairs:
            model[idx].weight = nn.Parameter(tensor(a), requires_grad=False)
            model[idx].bias = nn.Parameter(tensor(b), requires_grad=False)
        return model

    def homogeneous(self) -> ReluNetwork:
        """The bias-free form of the paper, ``V1 s(V2 s(V3 [x; 1]))``: one more input that must
        be 1, carried by one extra unit per layer (pre-activation 1, away from the kink)."""
        (h1, h2), n = self.hidden, self.n_inputs
        A1, A2, A3 = _obj_zeros(h1 + 1, n + 1), _obj_zeros(h2 + 1, h1 + 1), _obj_zeros(1, h2 + 1)
        A1[:h1, :n], A1[:h1, n], A1[h1, n] = self.A1, self.b1, _ONE
        A2[:h2, :h1], A2[:h2, h1], A2[h2, h1] = self.A2, self.b2, _ONE
        A3[0, :h2], A3[0, h2] = self.A3[0], self.b3[0]
        return ReluNetwork(A1, _obj_zeros(h1 + 1), A2, _obj_zeros(h2 + 1), A3, _obj_zeros(1),
                           self.units1 + ("one",), self.units2 + ("one",),
                           self.default, self.gate)

    def to_patch_network(self) -> PatchNetwork:
        """The same weights as a :class:`constructions.patchnet.PatchNetwork` (``n == 9``)."""

        if self.n_inputs != 9:
            raise ValueError(f"a patch network reads 9 inputs, this one reads {self.n_inputs}")
        return PatchNetwork(self.A1, self.b1, self.A2, self.b2, self.A3, self.b3,
                            self.units1, self.units2)


# ---------------------------------------------------------------------------------------
# the construction
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hinge:
    """A dyadic breakpoint ``t`` strictly between consecutive domain values ``u < w`` and a
    power of two ``slope`` with ``slope * (t - u) >= 1`` and ``slope * (w - t) >= 1``."""

    t: Fraction
    slope: Fraction

    @staticmethod
    def between(u: Fraction, w: Fraction) -> Hinge:
        """The least power of two ``slope > 2 / (w - u)``, then the coarsest dyadic ``t``
        (nearest the midpoint) at distance ``>= 1/slope`` from both ``u`` and ``w``. (With
        ``slope = 2 / (w - u)`` the only choice would be the midpoint, maybe not dyadic.)"""
        slope = _pow2_ceil(2 / (w - u))
        if slope * (w - u) == 2:
            slope *= 2
        lo, hi, mid = u + 1 / slope, w - 1 / slope, (u + w) / 2
        e = max(abs(lo), abs(hi), w - u).numerator.bit_length() + 1
        while True:  # a multiple of 2^e in [lo, hi] exists for all e <= log2(hi - lo)
            g = _pow2(e)
            k_lo, k_hi = math.ceil(lo / g), math.floor(hi / g)
            if k_lo <= k_hi:
                k = min(range(k_lo, k_hi + 1), key=lambda j: (abs(j * g - mid), j))
                return Hinge(k * g, slope)
            e -= 1


def _normalise(
    table: Mapping[Sequence, tuple[object, Sequence]], domains: Sequence[Iterable]
) -> tuple[dict[Point, Jet], tuple[tuple[Fraction, ...], ...]]:
    doms = tuple(tuple(sorted({Fraction(v) for v in d})) for d in domains)
    n = len(doms)
    if n == 0 or any(len(d) == 0 for d in doms):
        raise ValueError("need at least one coordinate and non-empty domains")
    out: dict[Point, Jet] = {}
    for p, (v, jac) in table.items():
        pt = tuple(Fraction(c) for c in p)
        jj = tuple(Fraction(c) for c in jac)
        if len(pt) != n or len(jj) != n:
            raise ValueError(f"point {p} / jacobian {jac} do not have length {n}")
        for i, c in enumerate(pt):
            if c not in doms[i]:
                raise ValueError(f"coordinate {i} of {p} is not in its domain {doms[i]}")
        if pt in out:
            raise ValueError(f"point {p} listed twice")
        out[pt] = (Fraction(v), jj)
    return out, doms


def normalise_table(
    table: Mapping[Sequence, tuple[object, Sequence]]
) -> dict[Point, Jet]:
    """The table with every number a ``Fraction`` and every point a tuple."""
    return {tuple(Fraction(c) for c in p): (Fraction(v), tuple(Fraction(c) for c in j))
            for p, (v, j) in table.items()}


def layer2_width(table: Mapping[Point, Jet], default: Fraction) -> int:
    """Layer-2 units used for ``default``: one per point off the default value, two per
    point on it with a non-zero Jacobian, none per point on it with zero Jacobian."""
    w = 0
    for v, jac in table.values():
        if v != default:
            w += 1
        elif any(jac):
            w += 2
    return w


def default_candidates(table: Mapping[Point, Jet]) -> set[Fraction]:
    """The defaults worth considering: 0, the table's values and the least non-negative
    integer that is not a value (with it every point needs exactly one unit)."""
    values = {v for v, _ in table.values()}
    fresh = next(k for k in range(len(values) + 1) if k not in values)
    return {_ZERO, Fraction(fresh)} | values


def choose_default(table: Mapping[Point, Jet]) -> Fraction:
    """The default value minimising :func:`layer2_width` (so at most one unit per point);
    ties prefer 0, then dyadic and small values."""
    return min(default_candidates(table),
               key=lambda b: (layer2_width(table, b), b != 0, not is_dyadic(b), abs(b), b))


def realise(
    table: Mapping[Sequence, tuple[object, Sequence]],
    domains: Sequence[Iterable],
    default: object | None = None,
) -> ReluNetwork:
    """Build the network of the module docstring (appendix B.4.1, used by Lemma 1).

    ``table`` maps points of ``domains[0] x ... x domains[n-1]`` to ``(value, jacobian)``;
    ``default`` (chosen by :func:`choose_default` when ``None``) is the value at the other
    points of the product. Guarantees 1-3 of the module docstring hold exactly in rationals;
    :func:`bits_needed` and :func:`float_report` give the floating-point statement.
    """
    tab, doms = _normalise(table, domains)
    n = len(doms)
    beta = choose_default(tab) if default is None else Fraction(default)

    shifts = [math.ceil(1 - d[0]) for d in doms]
    hinges = [[Hinge.between(d[j - 1], d[j]) for j in range(1, len(d))] for d in doms]
    spread = [{c: max(abs(c - d[0]), abs(c - d[-1])) for c in d} for d in doms]

    # layer-2 specifications: (point, kind) with kind "gate", "shifted" or "flat"
    specs: list[tuple[Point, str]] = []
    for p in sorted(tab):
        v, jac = tab[p]
        if v != beta:
            specs.append((p, "gate"))
        elif any(jac):
            specs += [(p, "shifted"), (p, "flat")]

    bound = Fraction(1)
    for p, kind in specs:
        v, jac = tab[p]
        reach = abs(v - beta) + sum(abs(j) * spread[i][p[i]] for i, j in enumerate(jac))
        bound = max(bound, reach + (1 if kind != "gate" else 0) + 1)
    B = _pow2_ceil(bound)

    # layer-1 units are named by keys ("below"|"above", i, j) (hinge j of coordinate i) and
    # ("pass", i, 0); only the ones some layer-2 unit reads are built.
    def penalty(p: Point) -> list[tuple]:
        out = []
        for i, c in enumerate(p):
            j = doms[i].index(c)
            if j > 0:
                out.append(("below", i, j - 1))
            if j + 1 < len(doms[i]):
                out.append(("above", i, j))
        return out

    rows2: list[tuple[dict[tuple, Fraction], Fraction]] = []
    names2: list[str] = []
    out_w: list[Fraction] = []
    for p, kind in specs:
        v, jac = tab[p]
        coef: dict[tuple, Fraction] = {key: -B for key in penalty(p)}
        tag = "(" + ",".join(str(c) for c in p) + ")"
        if kind == "flat":
            rows2.append((coef, _ONE))
            names2.append(f"flat{tag}")
            out_w.append(-_ONE)
            continue
        sg = (1 if v > beta else -1) if kind == "gate" else 1
        bias = sg * (v - beta) if kind == "gate" else _ONE
        for i, j in enumerate(jac):
            if j != 0:
                coef[("pass", i, 0)] = sg * j
                bias -= sg * j * (p[i] + shifts[i])
        rows2.append((coef, bias))
        names2.append(f"{kind}{tag}")
        out_w.append(Fraction(sg))

    return _assemble(n, rows2, names2, out_w, hinges, shifts, beta, B)


def _assemble(n: int, rows2: list[tuple[dict[tuple, Fraction], Fraction]], names2: list[str],
              out_w: list[Fraction], hinges: list[list[Hinge]], shifts: list[int],
              default: Fraction, gate: Fraction) -> ReluNetwork:
    """The network from its layer-2 rows (coefficients on layer-1 unit keys ``("below" |
    "above", i, j)``, hinge ``j`` of coordinate ``i``, or ``("pass", i, 0)``, plus a bias)
    and output weights: builds exactly the layer-1 units the rows read, in a fixed order."""
    order = {"below": 0, "above": 1, "pass": 2}
    keys = sorted({k for coef, _ in rows2 for k in coef},
                  key=lambda k: (k[1], k[0] == "pass", k[2], order[k[0]]))
    index = {k: u for u, k in enumerate(keys)}
    names1: list[str] = []
    h1, h2 = max(1, len(keys)), max(1, len(rows2))
    A1, b1 = _obj_zeros(h1, n), _obj_zeros(h1)
    for u, (kind, i, j) in enumerate(keys):
        if kind == "pass":
            A1[u, i], b1[u] = _ONE, Fraction(shifts[i])
            names1.append(f"pass[x{i}{shifts[i]:+d}]")
        else:
            h = hinges[i][j]
            sgn = -1 if kind == "below" else 1
            A1[u, i], b1[u] = sgn * h.slope, -sgn * h.slope * h.t
            names1.append(f"x{i}{'<' if kind == 'below' else '>'}{h.t}")
    if not keys:  # keep shapes non-empty: a dead unit (pre-activation -1)
        b1[0], names1 = -_ONE, ["dead"]
    A2, b2 = _obj_zeros(h2, h1), _obj_zeros(h2)
    for k, (coef, b) in enumerate(rows2):
        for key, w in coef.items():
            A2[k, index[key]] = w
        b2[k] = b
    if not rows2:
        b2[0], names2 = -_ONE, ["dead"]
    A3, b3 = _obj_zeros(1, h2), _obj_zeros(1)
    for k, w in enumerate(out_w):
        A3[0, k] = w
    b3[0] = default
    return ReluNetwork(A1, b1, A2, b2, A3, b3, tuple(names1), tuple(names2), default, gate)


# ---------------------------------------------------------------------------------------
# kinks and exact checks
# ---------------------------------------------------------------------------------------
def min_abs_preactivation(net: ReluNetwork, points: Iterable[Sequence[Fraction]]) -> Fraction:
    """The smallest ``|pre-activation|`` over all hidden units and ``points`` (exact).

    Positive means no point lies on a kink of any unit (guarantee 1 of the module)."""
    best: Fraction | None = None
    for p in points:
        z1, z2 = net.preactivations_exact(p)
        m = min(abs(z) for z in z1 + z2)
        best = m if best is None else min(best, m)
    if best is None:
        raise ValueError("no points given")
    return best


def product_points(domains: Sequence[Iterable]) -> Iterable[Point]:
    """Every point of ``domains[0] x ... x domains[n-1]`` (as Fractions)."""
    doms = [sorted({Fraction(v) for v in d}) for d in domains]
    return itertools.product(*doms)


@dataclass(frozen=True)
class Mismatch:
    """A table point where the network's value or Jacobian differs from the table."""

    point: Point
    quantity: str  # "value" or "jacobian"
    expected: object
    got: object
    tolerance: Fraction = _ZERO


# ---------------------------------------------------------------------------------------
# floating point
# ---------------------------------------------------------------------------------------
def mantissa_bits(dtype: torch.dtype) -> int:
    """Significand bits including the implicit one: 53 for float64, 24 for float32."""
    return 1 - round(math.log2(torch.finfo(dtype).eps))


@dataclass(frozen=True)
class FloatReport:
    """What a float format with ``bits`` significand bits does at the table points.

    ``exact_bits``: bits that make every computation whose inputs are exact exact;
    ``signs_kept``: every inexact pre-activation provably keeps its sign (so the activation
    pattern, hence the Jacobian, is the exact one); ``value_error[p]``: a bound on
    ``|computed f(p) - v_p|``, 0 where the value is exact; ``jacobian_exact[p]``: the
    weights on every active path are dyadic, so the Jacobian is exact.
    """

    bits: int
    exact_bits: int
    signs_kept: bool
    value_error: dict[Point, Fraction]
    jacobian_exact: dict[Point, bool]

    @property
    def guaranteed(self) -> bool:
        return self.bits >= self.exact_bits and self.signs_kept


def _up(v: Fraction) -> float:
    """The least float ``>= v``."""
    f = float(v)
    return f if Fraction(f) >= v else math.nextafter(f, math.inf)


def _down(v: Fraction) -> float:
    """The greatest float ``<= v``."""
    f = float(v)
    return f if Fraction(f) <= v else math.nextafter(f, -math.inf)


@dataclass(frozen=True)
class _RoundedUnit:
    """A unit whose pre-activation a float pass computes with rounding, in the form the
    error bound needs: float upper bounds of ``|w|``, ``|a|``, ``|b|`` and a lower bound of
    ``|z|`` (its margin)."""

    index: int
    active: bool
    margin: float
    terms: tuple[tuple[float, float, bool, int], ...]  # (|w|, |a|, w rounded, input index)
    bias: float
    bias_rounded: bool


@dataclass(frozen=True)
class _ExactPass:
    """The exact forward and backward pass at one point, ``bits`` for its exact parts and
    the units whose pre-activations a float pass rounds (per layer; the output is layer 3)."""

    x: Point
    z1: list[Fraction]
    z2: list[Fraction]
    rounded: tuple[tuple[_RoundedUnit, ...], ...]
    bits: int
    jacobian_exact: bool

    @property
    def any_rounded(self) -> bool:
        return any(self.rounded)


def _exact_pass(net: ReluNetwork, x: Point) -> _ExactPass:
    """Exact pass at ``x``; ``bits`` makes every computation with exact (dyadic) inputs and
    weights exact, forward and backward, partial sums in any order (see :func:`_sum_bits`)."""
    rows1, rows2, row3, cols1, cols2 = net._sparse
    bits = max([1] + [_odd_bits(c) for c in x if is_dyadic(c)])

    def layer(rows, bias, a, rounded_in):
        nonlocal bits
        zs, rus = [], []
        for k, r in enumerate(rows):
            live = [(j, w) for j, w in r if a[j] != 0 or rounded_in[j]]
            terms = [w * a[j] for j, w in live]
            z = sum(terms, bias[k])
            if is_dyadic(bias[k]) and not any(rounded_in[j] or not is_dyadic(w)
                                              for j, w in live):
                bits = max(bits, _sum_bits(terms + [bias[k]]))
            else:
                ts = tuple((_up(abs(w)), _up(abs(a[j])), not is_dyadic(w), j) for j, w in live)
                rus.append(_RoundedUnit(k, z > 0, _down(abs(z)), ts, _up(abs(bias[k])),
                                        not is_dyadic(bias[k])))
            zs.append(z)
        return zs, tuple(rus)

    def outputs_rounded(n_units, rus):  # an inactive unit outputs an exact 0
        out = [False] * n_units
        for ru in rus:
            out[ru.index] = ru.active
        return out

    z1, ru1 = layer(rows1, net.b1, list(x), [not is_dyadic(c) for c in x])
    z2, ru2 = layer(rows2, net.b2, [_relu(z) for z in z1], outputs_rounded(len(z1), ru1))
    _, ru3 = layer([row3], net.b3, [_relu(z) for z in z2], outputs_rounded(len(z2), ru2))

    jac_ok = True  # backward pass on the exact activation pattern
    g2 = {k: w for k, w in row3 if z2[k] > 0}
    g1 = []
    for j in range(len(z1)):
        terms = [w * g2[k] for k, w in cols2[j] if k in g2] if z1[j] > 0 else []
        jac_ok = jac_ok and all(is_dyadic(t) for t in terms)
        if jac_ok:
            bits = max(bits, _sum_bits(terms))
        g1.append(sum(terms, _ZERO))
    for i in range(net.n_inputs):
        terms = [w * g1[j] for j, w in cols1[i]]
        jac_ok = jac_ok and all(is_dyadic(t) for t in terms)
        if jac_ok:
            bits = max(bits, _sum_bits(terms))
    return _ExactPass(x, z1, z2, (ru1, ru2, ru3), bits, jac_ok)


_INFLATE = 1 + 2.0**-30
"""Covers the float evaluation of the error bounds themselves: nonnegative sums and products
with ``m`` operations are at least ``(1 - 2^-53)^m`` times their true value, and
``(1 - 2^-53)^-m <= 1 + 2^-30`` for ``m <= 2^22`` (we allow ``2^19`` terms of 6 operations)."""


def _dot_error(ru: _RoundedUnit, err_in: Sequence[float], u: float) -> float:
    """Bound on ``|float(sum w a + b) - (sum w a + b)|`` for a rounded unit.

    Input errors ``err_in[j]``, rounding of non-dyadic weights (``2u|w|``, the double
    rounding Fraction -> float64 -> dtype included) and ``gamma_{k+2} <= 2 (k+2) u``
    (valid while ``(k+2) u <= 1/2``) times the sum of magnitudes, for the ``k`` products and
    the additions in any order (FMA included). ``inf`` when there is no bound.
    """
    k = len(ru.terms) + 2
    if 2 * k * u > 1 or k > 2**19:
        return math.inf
    eb = 2 * u * ru.bias if ru.bias_rounded else 0.0
    err, mag = eb, ru.bias + eb
    for w, a, w_rounded, j in ru.terms:
        ea = err_in[j]
        ew = 2 * u * w if w_rounded else 0.0
        err += w * ea + ew * a + ew * ea
        mag += (w + ew) * (a + ea)
    return (err + 2 * k * u * mag) * _INFLATE


def _rounding(ep: _ExactPass, u: float) -> tuple[bool, float]:
    """(every rounded pre-activation keeps its sign, bound on the output's error) at ``ep.x``
    for unit roundoff ``u``, assuming the exact parts are exact (``bits >= ep.bits``)."""
    err_in = [2 * u * _up(abs(c)) if not is_dyadic(c) else 0.0 for c in ep.x]
    for depth, rus in enumerate(ep.rounded):
        n_out = (len(ep.z1), len(ep.z2), 1)[depth]
        err_out = [0.0] * n_out
        for ru in rus:
            e = _dot_error(ru, err_in, u)
            if depth < 2 and not e < ru.margin:
                return False, math.inf
            if ru.active or depth == 2:
                err_out[ru.index] = e
        err_in = err_out
    return True, err_in[0]


def float_report(net: ReluNetwork, table: Mapping[Sequence, tuple[object, Sequence]],
                 bits: int) -> FloatReport:
    """Rounding analysis of the float forward and backward pass at every table point.

    Inputs that are not dyadic (``1/3``) are rounded (error ``<= 2u|x|``, ``u = 2^-bits``);
    so are non-dyadic weights. A hinge reading such an input is inexact, but when it is
    inactive with ``|z| >= 1 > error`` its output is exactly 0: the flat region absorbs the
    rounding. Consequently, at a point whose Jacobian vanishes in its non-dyadic coordinates
    (and whose value and Jacobian are dyadic) the computed value and Jacobian are exact once
    ``bits >= bits_needed``; elsewhere the Jacobian is still exact and the value is within
    ``value_error``.
    """
    tab = normalise_table(table)
    u = 2.0**-bits
    exact_bits = max([1] + [_odd_bits(w) for w in net.weight_values() if is_dyadic(w)])
    kept = True
    verr: dict[Point, Fraction] = {}
    jex: dict[Point, bool] = {}
    for p in tab:
        ep = _exact_pass(net, p)
        ok, e3 = _rounding(ep, u)
        exact_bits, kept = max(exact_bits, ep.bits), kept and ok and math.isfinite(e3)
        verr[p] = Fraction(e3) if math.isfinite(e3) else Fraction(10**300)
        jex[p] = ep.jacobian_exact
    return FloatReport(bits, exact_bits, kept, verr, jex)


def bits_needed(net: ReluNetwork, table: Mapping[Sequence, tuple[object, Sequence]]) -> int:
    """Significand bits (implicit bit included) for the guarantee of :func:`float_report`.

    The maximum of (i) the bits making every computation with exact inputs and weights exact
    at every table point, forward and backward (partial sums bounded over the worst point,
    divided by the dyadic granularity of their terms, any summation order), and (ii) the
    least bits for which every rounded pre-activation provably keeps its sign (a monotone
    condition, found by bisection).
    """
    tab = normalise_table(table)
    passes = [_exact_pass(net, p) for p in tab]
    exact = max([1] + [_odd_bits(w) for w in net.weight_values() if is_dyadic(w)]
                + [ep.bits for ep in passes])
    rounded = [ep for ep in passes if ep.any_rounded]
    lo, hi = 1, 64
    while not all(_rounding(ep, 2.0**-hi)[0] for ep in rounded):
        lo, hi = hi + 1, 2 * hi
        if hi > 1024:
            raise ValueError("no precision up to 1024 bits keeps the activation pattern")
    while lo < hi:
        mid = (lo + hi) // 2
        if all(_rounding(ep, 2.0**-mid)[0] for ep in rounded):
            hi = mid
        else:
            lo = mid + 1
    return max(exact, lo)


def check_realisation(
    net: ReluNetwork,
    table: Mapping[Sequence, tuple[object, Sequence]],
    dtype: torch.dtype | None = torch.float64,
) -> list[Mismatch]:
    """Evaluate value and Jacobian at every table point; return the mismatches.

    ``dtype=None``: exact rationals (:meth:`ReluNetwork.value_and_jacobian_exact`), every
    value and Jacobian must be equal. A torch float ``dtype``: one batched forward pass and
    ``torch.autograd.grad`` (ReLU'(0) = 0) on the inputs rounded to ``dtype``; the Jacobian
    must be exactly the table's at every point and the value exactly the table's up to the
    bound of :func:`float_report` (0 at points with dyadic coordinates wherever the
    Jacobian is non-zero). Needs dyadic table values and Jacobians.
    """
    tab = normalise_table(table)
    pts = sorted(tab)
    out: list[Mismatch] = []
    if dtype is None:
        for p in pts:
            v, jac = tab[p]
            got_v, got_j = net.value_and_jacobian_exact(p)
            if got_v != v:
                out.append(Mismatch(p, "value", v, got_v))
            if got_j != jac:
                out.append(Mismatch(p, "jacobian", jac, got_j))
        return out
    if not all(is_dyadic(v) and all(is_dyadic(c) for c in j) for v, j in tab.values()):
        raise ValueError("float checks need dyadic table values and Jacobians")
    if not pts:
        return out
    report = float_report(net, tab, mantissa_bits(dtype))
    model = net.to_torch(dtype, exact=False)
    x = torch.tensor([[float(c) for c in p] for p in pts], dtype=torch.float64).to(dtype)
    x.requires_grad_(True)
    y = model(x)[:, 0]
    (grad,) = torch.autograd.grad(y.sum(), x)
    ys = y.detach().to(torch.float64).tolist()
    gs = grad.to(torch.float64).tolist()
    for p, yv, gv in zip(pts, ys, gs):
        v, jac = tab[p]
        tol = report.value_error[p]
        got_v = Fraction(yv) if math.isfinite(yv) else yv
        if not isinstance(got_v, Fraction) or abs(got_v - v) > tol:
            out.append(Mismatch(p, "value", v, got_v, tol))
        got_j = tuple(Fraction(g) if math.isfinite(g) else g for g in gv)
        if got_j != jac:
            out.append(Mismatch(p, "jacobian", jac, got_j))
    return out


# ---------------------------------------------------------------------------------------
# sums of gated affine pieces on boxes (the compiled learner's patch function)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """One gated affine piece: on the points of ``box`` it adds
    ``value + slope . (x - anchor)`` to the network's output, elsewhere on the domain 0.

    ``box[i]`` is ``None`` (any value of coordinate ``i``) or an inclusive interval
    ``(lo, hi)`` of domain values; ``slope`` (default 0) may be non-zero only where the box
    pins or bounds the coordinate, and ``anchor[i]`` (default: ``box[i]``'s low end) is where
    the piece takes ``value``. The affine function must be non-zero with one sign on the box.
    ``group`` tags pieces with disjoint boxes (one lookup table), for the output-layer bound
    of :func:`constructions.patchnet.bits_needed`; ``name`` documents the unit.
    """

    box: tuple[tuple[Fraction, Fraction] | None, ...]
    value: Fraction
    slope: tuple[Fraction, ...] | None = None
    anchor: tuple[Fraction | None, ...] | None = None
    group: int = 0
    name: str = ""


def realise_gates(
    gates: Sequence[Gate], domains: Sequence[Iterable]
) -> tuple[ReluNetwork, tuple[int, ...]]:
    """``f(x) = sum over the gates whose box holds x of value + slope . (x - anchor)``.

    The construction of :func:`realise` with boxes instead of single points: one layer-2
    unit per gate, ``relu(sg a(x) - B M(x))`` with output weight ``sg`` (``sg`` the sign of
    the affine piece ``a`` on its box), where the penalty ``M`` sums one penalty hinge per
    bounded side of the box (0 inside, ``>= 1`` outside) and ``B`` is the least power of two
    ``>= max(0, max_D sg a) + 1``: where ``M >= 1`` the argument is ``<= -1``. Layer-1
    hinges are shared between gates. Guarantees, for every point ``x`` of the product of
    ``domains``: no unit is at a kink, the value is the sum above and autograd's Jacobian
    is the sum of the slopes of the gates whose box holds ``x``. Returns the network and
    each layer-2 unit's group.
    """
    doms = tuple(tuple(sorted({Fraction(v) for v in d})) for d in domains)
    n = len(doms)
    if n == 0 or any(len(d) == 0 for d in doms):
        raise ValueError("need at least one coordinate and non-empty domains")
    shifts = [math.ceil(1 - d[0]) for d in doms]
    hinges = [[Hinge.between(d[j - 1], d[j]) for j in range(1, len(d))] for d in doms]

    rows2: list[tuple[dict[tuple, Fraction], Fraction]] = []
    names2: list[str] = []
    out_w: list[Fraction] = []
    groups: list[int] = []
    for g in gates:
        if len(g.box) != n:
            raise ValueError(f"gate {g.name!r}: box has {len(g.box)} coordinates, expected {n}")
        slope = tuple(Fraction(s) for s in g.slope) if g.slope is not None else (_ZERO,) * n
        coef: dict[tuple, Fraction] = {}
        lo_a = hi_a = Fraction(g.value)
        up = down = Fraction(g.value)  # max and min of the affine piece over the whole domain
        anchors: list[Fraction | None] = []
        for i, interval in enumerate(g.box):
            d = doms[i]
            if interval is None:
                inside = d
            else:
                lo, hi = Fraction(interval[0]), Fraction(interval[1])
                inside = tuple(v for v in d if lo <= v <= hi)
                if not inside:
                    raise ValueError(f"gate {g.name!r}: box [{lo}, {hi}] of coordinate {i} "
                                     f"holds no domain value")
                j_lo, j_hi = d.index(inside[0]), d.index(inside[-1])
                if j_lo > 0:
                    coef[("below", i, j_lo - 1)] = _ZERO
                if j_hi + 1 < len(d):
                    coef[("above", i, j_hi)] = _ZERO
            if slope[i] == 0:
                anchors.append(None)
                continue
            if interval is None:
                raise ValueError(f"gate {g.name!r}: non-zero slope on unbounded coordinate {i}")
            a = (Fraction(g.anchor[i]) if g.anchor is not None and g.anchor[i] is not None
                 else Fraction(interval[0]))
            anchors.append(a)
            ends = (slope[i] * (inside[0] - a), slope[i] * (inside[-1] - a))
            lo_a, hi_a = lo_a + min(ends), hi_a + max(ends)
            ends = (slope[i] * (d[0] - a), slope[i] * (d[-1] - a))
            up, down = up + max(ends), down + min(ends)
        if lo_a <= 0 <= hi_a:
            raise ValueError(f"gate {g.name!r}: its affine piece takes values in "
                             f"[{lo_a}, {hi_a}] on its box; it must keep one sign")
        sg = 1 if lo_a > 0 else -1
        B = _pow2_ceil(max(sg * up, sg * down, _ZERO) + 1)
        for key in coef:
            coef[key] = -B
        bias = sg * Fraction(g.value)
        for i, a in enumerate(anchors):
            if a is not None:
                coef[("pass", i, 0)] = sg * slope[i]
                bias -= sg * slope[i] * (a + shifts[i])
        rows2.append((coef, bias))
        names2.append(g.name or f"gate{len(names2)}")
        out_w.append(Fraction(sg))
        groups.append(g.group)

    net = _assemble(n, rows2, names2, out_w, hinges, shifts, _ZERO, _ONE)
    return net, tuple(groups) if rows2 else (0,)


def gates_spec(gates: Sequence[Gate], points: Sequence[Sequence[Fraction]]
               ) -> list[Jet]:
    """What :func:`realise_gates` promises at each point, computed from the gates alone
    (no network): the sum of the affine pieces, and of their slopes, over the gates whose
    box holds the point. The independent reference for checking a realisation."""
    out: list[Jet] = []
    for p in points:
        x = [Fraction(c) for c in p]
        value, jac = _ZERO, [_ZERO] * len(x)
        for g in gates:
            if any(iv is not None and not (iv[0] <= x[i] <= iv[1])
                   for i, iv in enumerate(g.box)):
                continue
            value += Fraction(g.value)
            if g.slope is not None:
                for i, s in enumerate(g.slope):
                    if s != 0:
                        a = (g.anchor[i] if g.anchor is not None and g.anchor[i] is not None
                             else g.box[i][0])
                        value += Fraction(s) * (x[i] - Fraction(a))
                        jac[i] += Fraction(s)
        out.append((value, tuple(jac)))
    return out


def gate_bits_needed(net: TwoLayerWeights, units1: Sequence[str],
                     domain: Sequence[Fraction], groups: Sequence[int] | None = None) -> int:
    """Significand bits that make a :func:`realise_gates` network exact, in value and
    autograd Jacobian, on inputs from the dyadic ``domain``, in any summation order.

    Unlike :func:`constructions.patchnet.bits_needed` (every partial sum exact), a closed
    gate only needs its sign: its exact pre-activation ``z = P - B M`` has ``M >= 1`` and
    ``|P| <= B - 1`` on the sign it keeps, so ``z <= -1 - B (M - 1)``, and the dot product's
    rounding error is at most ``gamma_n (B M + P_abs)`` with ``gamma_n = n u / (1 - n u)``,
    ``n`` the unit's non-zero terms plus its bias and ``P_abs`` the absolute sum of its
    pass-through terms and bias. Both ``M < 2`` (margin 1) and ``M >= 2`` (margin ``>= B M /
    2``) are covered once ``gamma_n (2 B + P_abs) < 1/2``. Then closed gates output an exact
    0 with zero gradient. The rest must be exact: layer 1 (one product and a bias per
    unit), open gates (their penalty hinges are exact zeros, leaving pass-through terms and
    bias), the output layer (at most one open gate per ``groups`` id, the compiler's
    exclusive lookup tables), and the backward pass (products of the open path's weights).
    """
    from constructions.patchnet import _granularity

    dom = [Fraction(v) for v in domain]
    g_dom = _granularity(dom)
    bits = 1

    def need(bound: Fraction, gran: Fraction) -> int:
        return max(1, math.ceil(math.log2(bound / gran + 1))) if bound > 0 else 1

    # layer 1: w x + b, one read position per unit
    h1_max: list[Fraction] = []
    for u in range(net.A1.shape[0]):
        row = [(i, Fraction(w)) for i, w in enumerate(net.A1[u]) if w != 0]
        b = Fraction(net.b1[u])
        if not row:
            h1_max.append(max(b, _ZERO))
            continue
        (i, w), = row
        pre = [w * x + b for x in dom]
        bits = max(bits, need(max(abs(w * x) for x in dom) + abs(b),
                              min(_granularity([w]) * g_dom, _granularity([b]))))
        h1_max.append(max(max(pre), _ZERO))
    passes = [u for u, name in enumerate(units1) if name.startswith("pass")]
    g_h1 = min(_granularity([net.A1[u][i] for u in range(net.A1.shape[0])
                             for i in range(net.A1.shape[1])]) * g_dom,
               _granularity(net.b1))
    # layer 2: open gates exact, closed gates keep their sign
    open_max: list[Fraction] = []
    open_gran: list[Fraction] = []
    for k in range(net.A2.shape[0]):
        terms = [(j, Fraction(w)) for j, w in enumerate(net.A2[k]) if w != 0]
        b = Fraction(net.b2[k])
        p_abs = abs(b) + sum(abs(w) * h1_max[j] for j, w in terms if j in passes)
        big = max([abs(w) for j, w in terms if j not in passes], default=_ZERO)
        n = len(terms) + 1
        if big:
            # n u (2B + P_abs) / (1 - n u) < 1/2  <=  u <= 1 / (2 n (2B + P_abs) + 2n)
            bits = max(bits, math.ceil(math.log2(2 * n * (2 * big + p_abs) + 2 * n)))
        gran = min([_granularity([w]) * g_h1 for j, w in terms if j in passes]
                   + [_granularity([b])])
        bits = max(bits, need(p_abs, gran))
        open_max.append(p_abs)
        open_gran.append(gran)
    # output layer: at most one open gate per group
    a3 = [Fraction(w) for w in net.A3[0]]
    largest: dict[int, Fraction] = {}
    for k, w in enumerate(a3):
        gid = groups[k] if groups is not None and len(groups) == len(a3) else k
        largest[gid] = max(largest.get(gid, _ZERO), abs(w) * open_max[k])
    out_gran = min(_granularity(a3) * min(open_gran), _granularity(net.b3))
    bits = max(bits, need(sum(largest.values()) + abs(Fraction(net.b3[0])), out_gran))
    return bits

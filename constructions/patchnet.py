"""Local rules and the ReLU patch network that realises them exactly.

A *local rule* maps the 3x3 patch around a cell (values from a finite domain) to the
cell's next value. ``compile_local_rule`` turns a rule into the shared patch network of
Definition 5,

    f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3,      x = vec(patch), row-major,

whose value equals the rule on every patch of domain values, computed exactly in binary
floating point. The construction, layer by layer:

* layer 1, *ramps*: for consecutive domain values u < v, the pair of units
  ``relu(x/w - a)`` and ``relu(x/w - a - 1)`` whose difference is a clamped ramp from 0 (at
  ``x <= a*w``) to 1 (at ``x >= (a+1)*w``). The width ``w`` is a power of two no larger than
  a quarter of the gap ``v - u`` and ``a*w`` lies in the gap's second quarter, so every
  domain value sits strictly inside a flat piece (no ReLU is ever evaluated at its kink,
  and the ramp's Jacobian there is exactly 0). The indicator of ``x == v`` is
  ``ramp(u,v) - ramp(v,next)``.
* layer 2, *patterns*: a unit ``relu(2 * sum_p ind_p - 2|P| + 1)`` is 1 when all of the
  pattern's positions ``P`` hold the pattern's values and 0 otherwise (its argument is then
  ``<= -1``, again away from the kink).
* pass-throughs: ``relu(x_p + B)`` with ``B`` an integer making the argument ``>= 1`` on the
  domain, carried through layer 2 unchanged, contribute ``c * x_p`` with slope exactly ``c``.
* output: ``sum_patterns value * unit + sum_passthroughs c * (unit - B) + bias``.

All weights are dyadic rationals built from the domain and the rule's values, so the weight
set is finite and determined by the rule (Theorem 1's ``U_s``). The differences from the
paper's ``V1 σ(V2 V3 σ(V4 V5 x))`` are documented in docs/tm_compiler.md: we keep biases
(a bias-free ReLU net is positively homogeneous, docs/paper.md §2) and merge each product of
two consecutive linear maps into one matrix.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

# Positions of the 3x3 patch, row-major: index = (dr + 1) * 3 + (dc + 1).
NORTH_WEST, NORTH, NORTH_EAST, WEST, CENTER, EAST, SOUTH_WEST, SOUTH, SOUTH_EAST = range(9)
OFFSETS: tuple[tuple[int, int], ...] = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
POSITION_NAMES = ("nw", "n", "ne", "w", "c", "e", "sw", "s", "se")


def position_of(dr: int, dc: int) -> int:
    """Index in ``vec(patch)`` of the neighbour at row offset ``dr`` and column offset ``dc``."""
    return (dr + 1) * 3 + (dc + 1)


Pattern = tuple[Fraction, ...]


@dataclass
class Table:
    """A lookup term: ``values[pattern]`` is added when ``positions`` hold ``pattern``."""

    positions: tuple[int, ...]
    values: dict[Pattern, Fraction]
    name: str = ""


@dataclass
class LocalRule:
    """The specification of a patch function on a finite domain.

    ``rule(patch) = bias + sum_p c_p * patch[p] + sum_tables table.values.get(pattern, 0)``.
    ``domain`` lists every value a cell or the padding may hold.
    """

    domain: tuple[Fraction, ...]
    passthrough: dict[int, Fraction] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    bias: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        self.domain = tuple(sorted({Fraction(v) for v in self.domain}))
        if len(self.domain) < 1:
            raise ValueError("a local rule needs a non-empty domain")

    def __call__(self, patch: Sequence[Fraction]) -> Fraction:
        """Evaluate the rule itself (the specification the network must match)."""
        out = Fraction(self.bias)
        for p, c in self.passthrough.items():
            out += c * Fraction(patch[p])
        for t in self.tables:
            out += t.values.get(tuple(Fraction(patch[p]) for p in t.positions), Fraction(0))
        return out

    @property
    def positions_read(self) -> frozenset[int]:
        used = set(self.passthrough)
        for t in self.tables:
            used.update(t.positions)
        return frozenset(used)


def _dyadic_floor(x: Fraction) -> Fraction:
    """The largest power of two ``<= x`` (``x > 0``)."""
    e = math.floor(math.log2(x))
    while Fraction(2) ** (e + 1) <= x:
        e += 1
    while Fraction(2) ** e > x:
        e -= 1
    return Fraction(2) ** e


@dataclass(frozen=True)
class Ramp:
    """0 for ``x <= a*w``, 1 for ``x >= (a+1)*w``: ``relu(x/w - a) - relu(x/w - a - 1)``."""

    w: Fraction
    a: int

    @staticmethod
    @functools.lru_cache(maxsize=1 << 16)
    def between(u: Fraction, v: Fraction) -> Ramp:
        gap = v - u
        w = _dyadic_floor(gap / 4)
        a = math.ceil((u + gap / 4) / w)
        ramp = Ramp(w, a)
        assert u < ramp.a * w and (ramp.a + 1) * w < v, (u, v, ramp)
        return ramp


def _frac_array(rows: int, cols: int) -> np.ndarray:
    out = np.empty((rows, cols), dtype=object)
    out[...] = Fraction(0)
    return out


def _frac_vector(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[...] = Fraction(0)
    return out


def relu_exact(x: np.ndarray) -> np.ndarray:
    """Elementwise max(x, 0) on an object array of Fractions."""
    zero = Fraction(0)
    return np.vectorize(lambda v: v if v > zero else zero, otypes=[object])(x)


class TwoLayerWeights:
    """What every ``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` weight set (exact ``Fraction``
    arrays ``A1 .. b3``) offers: its shapes, its arrays by name, its parameter count and its
    weight set ``U`` (every distinct entry, zero included)."""

    A1: np.ndarray
    b1: np.ndarray
    A2: np.ndarray
    b2: np.ndarray
    A3: np.ndarray
    b3: np.ndarray

    @property
    def hidden(self) -> tuple[int, int]:
        return (self.A1.shape[0], self.A2.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"A1": self.A1, "b1": self.b1, "A2": self.A2, "b2": self.b2,
                "A3": self.A3, "b3": self.b3}

    @property
    def n_parameters(self) -> int:
        return sum(a.size for a in self.arrays().values())

    def weight_values(self) -> set[Fraction]:
        return {Fraction(v) for a in self.arrays().values() for v in distinct(a.ravel())}


@dataclass(frozen=True)
class PatchNetwork(TwoLayerWeights):
    """Weights of the shared patch network ``A3 relu(A2 relu(A1 x + b1) + b2) + b3``.

    Arrays hold exact ``Fraction`` entries (object dtype); ``units1``/``units2`` name each
    hidden unit (what it detects), so the weights describe themselves.
    """

    A1: np.ndarray
    b1: np.ndarray
    A2: np.ndarray
    b2: np.ndarray
    A3: np.ndarray
    b3: np.ndarray
    units1: tuple[str, ...]
    units2: tuple[str, ...]
    exclusive: tuple[int, ...] = ()
    """Optional group id per layer-2 unit: units sharing an id never fire together on a
    domain patch (the entries of one lookup table). Used only by :func:`bits_needed`."""

    def evaluate_exact(self, patches: np.ndarray) -> np.ndarray:
        """Exact rational forward pass on ``patches`` of shape (N, 9) (object or numeric)."""
        x = np.vectorize(Fraction, otypes=[object])(np.asarray(patches, dtype=object))
        h1 = relu_exact(x @ self.A1.T + self.b1)
        h2 = relu_exact(h1 @ self.A2.T + self.b2)
        return (h2 @ self.A3.T + self.b3)[:, 0]

    def flops_per_cell(self) -> int:
        """Multiply-adds counted as 2 FLOPs, dense matrices as stored, plus biases and ReLUs."""
        h1, h2 = self.hidden
        return 2 * (9 * h1 + h1 * h2 + h2) + 2 * (h1 + h2) + 1


@dataclass(frozen=True)
class PixelHead:
    """The pixel-wise head ``U1 relu(U2 v + c2) + c1`` (Definition 5, with biases)."""

    U2: np.ndarray  # (d_head, 1)
    c2: np.ndarray  # (d_head,)
    U1: np.ndarray  # (1, d_head)
    c1: np.ndarray  # (1,)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"U2": self.U2, "c2": self.c2, "U1": self.U1, "c1": self.c1}

    @property
    def n_parameters(self) -> int:
        return sum(a.size for a in self.arrays().values())

    def weight_values(self) -> set[Fraction]:
        return {Fraction(v) for a in self.arrays().values() for v in distinct(a.ravel())}

    def evaluate_exact(self, values: np.ndarray) -> np.ndarray:
        v = np.vectorize(Fraction, otypes=[object])(np.asarray(values, dtype=object))
        v = v.reshape(-1, 1)
        return (relu_exact(v @ self.U2.T + self.c2) @ self.U1.T + self.c1)[:, 0]


def exact_grid_layer(net: PatchNetwork, grid: np.ndarray, padding: Fraction,
                     cache: dict[tuple, Fraction] | None = None) -> np.ndarray:
    """One layer of ``net`` on every cell of ``grid`` (object array of Fractions), in exact
    rational arithmetic, with ``padding`` outside the grid.

    Identical patches give identical outputs, so each distinct patch is evaluated once by
    :meth:`PatchNetwork.evaluate_exact`; ``cache`` carries results across layers.
    """
    H, W = grid.shape
    padded = np.empty((H + 2, W + 2), dtype=object)
    padded[...] = Fraction(padding)
    padded[1:-1, 1:-1] = grid
    patches = [tuple(padded[1 + dr + r, 1 + dc + c] for dr, dc in OFFSETS)
               for r in range(H) for c in range(W)]
    cache = {} if cache is None else cache
    missing = list({p for p in patches if p not in cache})
    if missing:
        arr = np.empty((len(missing), 9), dtype=object)
        for i, p in enumerate(missing):
            arr[i, :] = p
        for p, v in zip(missing, net.evaluate_exact(arr)):
            cache[p] = v
    out = np.empty(H * W, dtype=object)
    out[:] = [cache[p] for p in patches]
    return out.reshape(H, W)


class _Layer1:
    """Collects layer-1 units: ramp pairs per (position, gap) and pass-through units."""

    def __init__(self, domain: tuple[Fraction, ...]) -> None:
        self.domain = domain
        self.rows: list[tuple[int, Fraction, Fraction]] = []  # (position, weight, bias)
        self.names: list[str] = []
        self._ramps: dict[tuple[int, int], tuple[int, int]] = {}
        self._pass: dict[int, tuple[int, int]] = {}

    def _unit(self, position: int, weight: Fraction, bias: Fraction, name: str) -> int:
        self.rows.append((position, weight, bias))
        self.names.append(name)
        return len(self.rows) - 1

    def ramp(self, position: int, j: int) -> tuple[int, int]:
        """Units of the ramp rising between domain[j-1] and domain[j] (1 <= j < len)."""
        key = (position, j)
        if key not in self._ramps:
            r = Ramp.between(self.domain[j - 1], self.domain[j])
            tag = f"{POSITION_NAMES[position]}>={self.domain[j]}"
            up = self._unit(position, 1 / r.w, Fraction(-r.a), f"ramp[{tag}]+")
            dn = self._unit(position, 1 / r.w, Fraction(-r.a - 1), f"ramp[{tag}]-")
            self._ramps[key] = (up, dn)
        return self._ramps[key]

    def indicator(self, position: int, value: Fraction) -> tuple[dict[int, Fraction], Fraction]:
        """``ind(x_p == value)`` as (coefficients on layer-1 units, constant)."""
        try:
            j = self.domain.index(value)
        except ValueError:
            raise ValueError(f"pattern value {value} is not in the rule's domain") from None
        coef: dict[int, Fraction] = {}
        const = Fraction(0)
        if j == 0:
            const += 1
        else:
            up, dn = self.ramp(position, j)
            coef[up] = coef.get(up, 0) + 1
            coef[dn] = coef.get(dn, 0) - 1
        if j + 1 < len(self.domain):
            up, dn = self.ramp(position, j + 1)
            coef[up] = coef.get(up, 0) - 1
            coef[dn] = coef.get(dn, 0) + 1
        return coef, const

    def passthrough(self, position: int) -> tuple[int, int]:
        """A unit ``relu(x_p + B)``, integer ``B`` making the argument >= 1; returns (unit, B)."""
        if position not in self._pass:
            shift = max(0, math.ceil(1 - self.domain[0]))
            unit = self._unit(position, Fraction(1), Fraction(shift),
                              f"pass[{POSITION_NAMES[position]}]")
            self._pass[position] = (unit, shift)
        return self._pass[position]


def compile_local_rule(rule: LocalRule) -> PatchNetwork:
    """Build the patch network that equals ``rule`` on every patch of domain values.

    Exactness holds in any binary floating-point format that represents every
    intermediate sum; :func:`bits_needed` computes how many mantissa bits that takes.
    """
    l1 = _Layer1(rule.domain)
    rows2: list[tuple[dict[int, Fraction], Fraction]] = []
    names2: list[str] = []
    groups: list[int] = []
    out_w: list[Fraction] = []
    out_b = Fraction(rule.bias)

    for position, c in sorted(rule.passthrough.items()):
        if c == 0:
            continue
        unit, shift = l1.passthrough(position)
        rows2.append(({unit: Fraction(1)}, Fraction(0)))
        names2.append(f"pass[{POSITION_NAMES[position]}]")
        groups.append(len(groups) + 1_000_000)  # a group of its own
        out_w.append(Fraction(c))
        out_b -= Fraction(c) * shift

    for group, table in enumerate(rule.tables):
        for pattern, value in sorted(table.values.items()):
            if value == 0:
                continue
            coef: dict[int, Fraction] = {}
            const = Fraction(0)
            for p, v in zip(table.positions, pattern):
                ci, k = l1.indicator(p, Fraction(v))
                const += k
                for u, w in ci.items():
                    coef[u] = coef.get(u, Fraction(0)) + w
            coef = {u: 2 * w for u, w in coef.items() if w != 0}
            rows2.append((coef, 2 * const - 2 * len(table.positions) + 1))
            tag = ",".join(f"{POSITION_NAMES[p]}={v}" for p, v in zip(table.positions, pattern))
            names2.append(f"{table.name or 'table'}[{tag}]")
            groups.append(group)
            out_w.append(Fraction(value))

    h1, h2 = max(1, len(l1.rows)), max(1, len(rows2))
    A1, b1 = _frac_array(h1, 9), _frac_vector(h1)
    for i, (p, w, b) in enumerate(l1.rows):
        A1[i, p], b1[i] = w, b
    A2, b2 = _frac_array(h2, h1), _frac_vector(h2)
    for i, (coef, const) in enumerate(rows2):
        for u, w in coef.items():
            A2[i, u] = w
        b2[i] = const
    if not rows2:  # keep shapes non-empty: a dead unit
        b2[0] = Fraction(-1)
    A3, b3 = _frac_array(1, h2), _frac_vector(1)
    for i, w in enumerate(out_w):
        A3[0, i] = w
    b3[0] = out_b
    names1 = tuple(l1.names) or ("dead",)
    if not l1.rows:
        b1[0] = Fraction(-1)
    return PatchNetwork(A1, b1, A2, b2, A3, b3, names1, tuple(names2) or ("dead",),
                        tuple(groups) if rows2 else (0,))


def compile_lookup_head(
    domain: Iterable[Fraction], values: Mapping[Fraction, Fraction]
) -> PixelHead:
    """A pixel-wise head ``U1 relu(U2 v + c2) + c1`` equal to ``values[v]`` on ``domain``
    (0 where ``values`` has no entry): a staircase of ramps, one pair per change of value."""
    dom = tuple(sorted({Fraction(v) for v in domain}))
    target = [Fraction(values.get(v, 0)) for v in dom]
    U2, c2, U1 = [], [], []
    for j in range(1, len(dom)):
        step = target[j] - target[j - 1]
        if step == 0:
            continue
        r = Ramp.between(dom[j - 1], dom[j])
        U2 += [1 / r.w, 1 / r.w]
        c2 += [Fraction(-r.a), Fraction(-r.a - 1)]
        U1 += [step, -step]
    if not U2:
        U2, c2, U1 = [Fraction(0)], [Fraction(-1)], [Fraction(0)]
    n = len(U2)
    u2, cc2, u1, cc1 = _frac_array(n, 1), _frac_vector(n), _frac_array(1, n), _frac_vector(1)
    for i in range(n):
        u2[i, 0], cc2[i], u1[0, i] = U2[i], c2[i], U1[i]
    cc1[0] = target[0]
    return PixelHead(u2, cc2, u1, cc1)


def distinct(values: Iterable) -> list:
    """The distinct objects of ``values``, compared by identity (cheap): a compiled weight
    array repeats one shared ``Fraction(0)`` millions of times, and anything computed per
    value (a set of weights, a granularity) needs each object once."""
    return list({id(v): v for v in values}.values())


def _granularity(values: Iterable[Fraction]) -> Fraction:
    """The largest power of two 2^-e such that every value is an integer multiple of it."""
    e = 0
    for v in distinct(values):
        den = Fraction(v).denominator
        if den & (den - 1):
            raise ValueError(f"{v} is not a dyadic rational: no binary float holds it exactly")
        e = max(e, den.bit_length() - 1)
    return Fraction(1, 2**e)


def bits_needed(net: PatchNetwork, domain: Sequence[Fraction]) -> int:
    """Mantissa bits (including the implicit bit) that make every forward pass on patches of
    ``domain`` values exact, whatever the summation order.

    In layer ``l`` every product ``W_ij x_j`` is a multiple of ``g_W g_x`` (the dyadic
    granularities of the layer's weights and of its inputs) and every partial sum a multiple
    of ``g_l = min(g_W g_x, g_b)``; each is bounded in absolute value by its unit's absolute
    sum ``sum_j |W_ij x_j| + |b_i|``. A float with ``b`` mantissa bits holds every multiple of
    ``g_l`` up to ``2^b g_l``, so ``b = max_l ceil(log2(bound_l / g_l + 1))`` suffices.
    The bound is the exact maximum over domain patches for layers 1 and 2 (each unit is
    evaluated on every combination of the values of the positions it reads, when there are
    at most 2^16 of them; otherwise a looser product of per-unit maxima). For the output
    layer the bound uses the network's ``exclusive`` groups: the entries of one lookup table
    are distinct patterns on the same positions, so at most one is non-zero on any patch.
    """
    dom = np.array([float(Fraction(v)) for v in domain])
    exact_dom = [Fraction(v) for v in domain]
    g_in = _granularity(exact_dom)
    g1 = min(g_in * _granularity(net.A1.ravel()), _granularity(net.b1))
    g2 = min(g1 * _granularity(net.A2.ravel()), _granularity(net.b2))
    g3 = min(g2 * _granularity(net.A3.ravel()), _granularity(net.b3))
    a1, b1 = net.A1.astype(float), net.b1.astype(float)
    a2, b2 = net.A2.astype(float), net.b2.astype(float)
    a3, b3 = net.A3.astype(float)[0], float(net.b3[0])
    bound1 = float(np.abs(dom).max())
    # Layer 1: each unit's value as a function of the one position it reads.
    reads: list[int] = []
    h1_table = np.zeros((a1.shape[0], len(dom)))
    for j in range(a1.shape[0]):
        nz = np.flatnonzero(a1[j])
        if len(nz) > 1:
            raise ValueError(f"layer-1 unit {j} reads {len(nz)} positions; expected at most 1")
        p = int(nz[0]) if len(nz) else -1
        reads.append(p)
        w = a1[j, p] if p >= 0 else 0.0
        pre = w * dom + b1[j]
        bound1 = max(bound1, float(np.max(np.abs(w * dom) + abs(b1[j]))))
        h1_table[j] = np.maximum(pre, 0.0)
    h1_max = h1_table.max(axis=1)
    bound2 = 0.0
    # Layer 2: enumerate the positions each unit reads.
    h2_max = np.zeros(a2.shape[0])
    for i in range(a2.shape[0]):
        js = np.flatnonzero(a2[i])
        positions = sorted({reads[j] for j in js if reads[j] >= 0})
        if len(dom) ** len(positions) <= 1 << 16:
            combos = np.array(np.meshgrid(*[np.arange(len(dom))] * len(positions),
                                          indexing="ij")).reshape(len(positions), -1) \
                if positions else np.zeros((0, 1), dtype=np.int64)
            pre = np.full(combos.shape[1], b2[i])
            absum = np.full(combos.shape[1], abs(b2[i]))
            for j in js:
                vals = h1_table[j, combos[positions.index(reads[j])]] if reads[j] >= 0 \
                    else np.full(combos.shape[1], h1_table[j, 0])
                pre = pre + a2[i, j] * vals
                absum = absum + abs(a2[i, j]) * vals
            bound2 = max(bound2, float(absum.max()))
            h2_max[i] = max(float(pre.max()), 0.0)
        else:
            absum = float(np.abs(a2[i, js]) @ h1_max[js]) + abs(b2[i])
            bound2 = max(bound2, absum)
            h2_max[i] = max(float(np.clip(a2[i, js], 0, None) @ h1_max[js]) + b2[i], 0.0)
    # Output layer: on a domain patch at most one unit per exclusive group is non-zero, so
    # any partial sum is bounded by the sum over groups of the group's largest term.
    terms = np.abs(a3) * h2_max
    if len(net.exclusive) == len(terms):
        largest: dict[int, float] = {}
        for gid, t in zip(net.exclusive, terms):
            largest[gid] = max(largest.get(gid, 0.0), float(t))
        bound3 = sum(largest.values()) + abs(b3)
    else:
        bound3 = float(terms.sum()) + abs(b3)
    ratio = max(Fraction(bound1) / min(g_in, g1), Fraction(bound2) / g2, Fraction(bound3) / g3)
    return max(1, math.ceil(math.log2(ratio + 1)))


MANTISSA_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}

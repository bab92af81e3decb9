"""The exact tables of a patch network and their analysis on families of views (steps 2-6
of the proof in :mod:`proofs_check.certificates`).

Everything that decides a verdict is an exact integer (values at a common dyadic scale,
absolute sums, granularity exponents, counts); floats appear only as error *bounds*, built
elementwise in a fixed order. The analysis of a family is a sum over layer-2 units of
per-unit contributions, so a network that differs in a few units is re-analysed by
replacing those units' contributions (:meth:`Analysis.mutated`, :meth:`Analysis.reanalyse`):
the result is the very same integers as a fresh analysis (a test checks it bit for bit),
at a fraction of the cost. That is what makes the mutation sweeps affordable.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proofs_check.certificates_exact import (
    NO_EXP,
    SAFE,
    error_bound,
    exact_below,
    exact_below_float,
    granularity,
    iadd,
    imatmul,
    imul,
    ishift,
    min_exp,
    representable,
    scaled,
    to_float,
)

PATCH_TENSORS = ("A1", "b1", "A2", "b2", "A3", "b3")
JOINT_LIMIT = 1 << 16
"""Largest joint domain of a block the analysis tabulates (larger: enumeration)."""


# --------------------------------------------------------------------------- views
@dataclass
class Family:
    """Valid views sharing one specification per row.

    ``rows[r]`` gives the values of the positions ``fixed``; every position in ``free`` takes
    every value of its set, independently. Every view of row ``r`` must map to
    ``spec[r] + sum_q spec_slope[q] * x_q`` (``q`` free positions; a centre that a rule
    keeps is ``spec_slope = {centre: 1}``); with ``jacobian`` set, its Jacobian (9 entries)
    must be that vector. Positions in neither ``fixed`` nor ``free`` are not part of the
    view: the network must not read them (``filler`` is shown there in printed views).
    """

    name: str
    fixed: tuple[int, ...]
    rows: np.ndarray
    free: dict[int, np.ndarray]
    spec: np.ndarray
    jacobian: np.ndarray | None = None
    filler: float = 0.0
    spec_slope: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spec = np.asarray(self.spec, dtype=np.float64).reshape(-1)
        self.rows = np.asarray(self.rows, dtype=np.float64).reshape(len(self.spec),
                                                                    len(self.fixed))
        self.free = {int(p): np.unique(np.asarray(v, dtype=np.float64))
                     for p, v in self.free.items()}
        if len(self.rows) != len(self.spec):
            raise ValueError(f"family {self.name}: {len(self.rows)} rows, {len(self.spec)} specs")
        if set(self.fixed) & set(self.free):
            raise ValueError(f"family {self.name}: a position is both fixed and free")
        if not set(self.spec_slope) <= set(self.free):
            raise ValueError(f"family {self.name}: spec slopes only on free positions")

    @property
    def positions(self) -> set[int]:
        return set(self.fixed) | set(self.free)

    @property
    def per_row(self) -> int:
        return int(np.prod([len(v) for v in self.free.values()], dtype=np.int64))

    @property
    def views(self) -> int:
        return len(self.rows) * self.per_row

    def values_at(self, p: int) -> np.ndarray:
        if p in self.free:
            return self.free[p]
        if p in self.fixed:
            return np.unique(self.rows[:, self.fixed.index(p)])
        return np.array([self.filler])

    def row_views(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Every view of row ``r`` (n, 9) and its specified value (n,)."""
        free = sorted(self.free)
        grids = np.meshgrid(*[self.free[p] for p in free], indexing="ij") if free else []
        out = np.full((self.per_row, 9), self.filler)
        for p, v in zip(self.fixed, self.rows[r]):
            out[:, p] = v
        for p, g in zip(free, grids):
            out[:, p] = g.ravel()
        spec = np.full(self.per_row, self.spec[r])
        for p, s in self.spec_slope.items():
            spec = spec + s * out[:, p]
        return out, spec

    def chunks(self, step: int) -> list[Family]:
        """This family split into families of at most ``step`` rows."""
        if len(self.rows) <= step:
            return [self]
        return [Family(self.name, self.fixed, self.rows[s:s + step], self.free,
                       self.spec[s:s + step], self.jacobian, self.filler, self.spec_slope)
                for s in range(0, len(self.rows), step)]


def view_of(fam: Family, r: int, chosen: dict[int, float]) -> tuple[list[float], float]:
    """The view of row ``r`` with free positions set to ``chosen``, and its spec."""
    out = [fam.filler] * 9
    for p, v in zip(fam.fixed, fam.rows[r]):
        out[p] = float(v)
    for p, v in chosen.items():
        out[p] = float(v)
    spec = float(fam.spec[r]) + sum(s * out[p] for p, s in fam.spec_slope.items())
    return out, spec


# --------------------------------------------------------------------------- layer 1
class _Layer1:
    """Layer 1: every unit tabulated exactly on the joint values of the positions it reads
    (its *scope*): pre-activations (integers at scale ``S1``), float error bounds of the
    outputs (0 where exact or exactly 0), granularity exponents, and whether a
    pre-activation is at (or within its error of) the kink. Positions read together form
    blocks; ``index[b][S]`` maps block ``b``'s joint values to scope ``S``'s."""

    def __init__(self, A1: np.ndarray, b1: np.ndarray, dtype: str,
                 domains: dict[int, np.ndarray], floor: int) -> None:
        self.h1 = A1.shape[0]
        self.dtype = dtype
        self.domains = domains
        self.read = sorted(domains)
        self.scopes = [tuple(int(q) for q in np.flatnonzero(A1[j])) for j in range(self.h1)]
        parent = {q: q for q in self.read}

        def find(q: int) -> int:
            while parent[q] != q:
                q = parent[q]
            return q
        for sc in self.scopes:
            for q in sc[1:]:
                parent[find(q)] = find(sc[0])
        groups: dict[int, list[int]] = {}
        for q in self.read:
            groups.setdefault(find(q), []).append(q)
        self.blocks = [tuple(sorted(g)) for g in groups.values()]
        self.block_of = {q: b for b, g in enumerate(self.blocks) for q in g}
        self.sizes = [int(np.prod([len(domains[q]) for q in g])) for g in self.blocks]
        self.too_large = max(self.sizes, default=0) > JOINT_LIMIT
        if self.too_large:
            return
        self.joint = [_joint([domains[q] for q in g]) for g in self.blocks]
        self.unit_block = [self.block_of[sc[0]] if sc else -1 for sc in self.scopes]
        self.units = [[j for j in range(self.h1) if self.unit_block[j] == b]
                      for b in range(len(self.blocks))]
        # scope joint values, and each block's map onto them
        self.scope_values: dict[tuple[int, ...], tuple] = {}
        self.index: list[dict[tuple[int, ...], np.ndarray]] = []
        for b, g in enumerate(self.blocks):
            dims = [len(domains[q]) for q in g]
            digits = np.unravel_index(np.arange(self.sizes[b]), dims)
            maps = {}
            for S in sorted({self.scopes[j] for j in self.units[b]}):
                pos = [g.index(q) for q in S]
                maps[S] = np.ravel_multi_index([digits[i] for i in pos], [dims[i] for i in pos])
                if S not in self.scope_values:
                    X = _joint([domains[q] for q in S])
                    eX = min_exp(X)
                    self.scope_values[S] = (X, scaled(X, eX), eX, granularity(X))
            self.index.append(maps)
        self.eA1 = min_exp(A1, floor)
        gdom = min((min_exp(domains[q]) for q in self.read), default=0)
        self.S1 = min(self.eA1 + gdom, min_exp(b1, floor))
        self.z: dict[int, np.ndarray] = {}
        self.err: dict[int, np.ndarray] = {}
        self.gexp: dict[int, np.ndarray] = {}
        self.kink: dict[int, np.ndarray] = {}
        self.const: dict[int, float] = {}
        for j in range(self.h1):
            self.set_unit(j, A1[j], float(b1[j]))

    def set_unit(self, j: int, w_row: np.ndarray, bias: float) -> None:
        """(Re)compute unit ``j``'s tables (its scope must not change)."""
        S = self.scopes[j]
        if not S:
            self.const[j] = max(bias, 0.0)
            return
        X, Xi, eX, gX = self.scope_values[S]
        w = np.asarray(w_row, dtype=np.float64)[list(S)]
        prod = imatmul(Xi, scaled(w, self.eA1).reshape(-1, 1))[:, 0]
        z = iadd(ishift(prod, eX + self.eA1 - self.S1), scaled(np.array([bias]), self.S1))
        tg = np.where((X != 0) & (w != 0)[None, :], gX + granularity(w)[None, :], NO_EXP)
        gmin = np.minimum(tg.min(axis=1), granularity(np.array([bias]))[0])
        absum = np.abs(X) @ np.abs(w) + abs(bias)
        exact = exact_below_float(absum, gmin, self.dtype)
        e = np.where(exact, 0.0, error_bound(absum, np.count_nonzero(w) + 1, self.dtype))
        zf = to_float(z, self.S1)
        self.z[j] = z
        # dead by a margin: the float pre-activation is negative and the output exactly 0
        self.err[j] = np.where(zf + e * SAFE < 0, 0.0, e)
        self.gexp[j] = np.where(zf > 0, granularity(zf), NO_EXP)
        self.kink[j] = (zf == 0) | (np.abs(zf) <= e * SAFE)

    def h(self, j: int) -> np.ndarray:
        """Unit ``j``'s exact output on its scope's joint values."""
        z = self.z[j]
        return np.where(z > 0, z, 0)

    def at(self, j: int, sel: np.ndarray) -> np.ndarray:
        """Indices into unit ``j``'s table for block joint indices ``sel``."""
        return self.index[self.unit_block[j]][self.scopes[j]][sel]


def _joint(domains: list[np.ndarray]) -> np.ndarray:
    """Every combination of the given value sets, first set major: (J, len(domains))."""
    mesh = np.meshgrid(*domains, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# --------------------------------------------------------------------------- layer 2
class _Layer2:
    """Each block's share of every layer-2 pre-activation, on the block's joint domain: ``Z``
    (exact, scale ``S2``), ``AZ = |A2| h1`` (exact), ``EZ`` (propagated layer-1 error bound)
    and ``GZ`` (finest granularity exponent of the non-zero terms), each the sum over the
    block's scopes of the scope's table spread onto the block; the bias part (with the units
    that read nothing) likewise."""

    def __init__(self, A2: np.ndarray, b2: np.ndarray, l1: _Layer1, floor: int) -> None:
        self.h2 = A2.shape[0]
        self.eA2 = min_exp(A2, floor)
        self.S2 = min(self.eA2 + l1.S1, min_exp(b2, floor))
        nb = len(l1.blocks)
        self.Z = [np.zeros((self.h2, l1.sizes[b]), dtype=np.int64) for b in range(nb)]
        self.AZ = [np.zeros((self.h2, l1.sizes[b]), dtype=np.int64) for b in range(nb)]
        self.EZ = [np.zeros((self.h2, l1.sizes[b])) for b in range(nb)]
        self.GZ = [np.full((self.h2, l1.sizes[b]), NO_EXP, dtype=np.int64) for b in range(nb)]
        self.b2 = np.zeros(self.h2, dtype=np.int64)
        self.b2_abs = np.zeros(self.h2, dtype=np.int64)
        self.b2_gexp = np.zeros(self.h2, dtype=np.int64)
        self.K = np.zeros(self.h2, dtype=np.int64)
        self.set_rows(np.arange(self.h2), A2, b2, l1)

    def set_rows(self, rows: np.ndarray, A2: np.ndarray, b2: np.ndarray, l1: _Layer1) -> None:
        """(Re)compute the tables of layer-2 units ``rows`` from ``A2``, ``b2`` and layer 1."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        sub = A2[rows]
        subi = scaled(sub, self.eA2)
        subabs = scaled(np.abs(sub), self.eA2)
        gA2 = granularity(sub)
        k = self.eA2 + l1.S1 - self.S2
        const = sorted(l1.const)
        b2i = scaled(b2[rows], self.S2)
        b2abs = scaled(np.abs(b2[rows]), self.S2)
        b2g = granularity(b2[rows])
        if const:
            hc = np.array([l1.const[j] for j in const])
            hci = scaled(hc, l1.S1).reshape(-1, 1)
            b2i = iadd(b2i, ishift(imatmul(subi[:, const], hci)[:, 0], k))
            b2abs = iadd(b2abs, ishift(imatmul(subabs[:, const], hci)[:, 0], k))
            tg = np.where((sub[:, const] != 0) & (hc != 0)[None, :],
                          gA2[:, const] + granularity(hc)[None, :], NO_EXP)
            b2g = np.minimum(b2g, tg.min(axis=1))
        self.b2 = _put(self.b2, rows, b2i)
        self.b2_abs = _put(self.b2_abs, rows, b2abs)
        self.b2_gexp[rows] = b2g
        self.K[rows] = np.count_nonzero(sub, axis=1) + 1
        for b, units in enumerate(l1.units):
            J = l1.sizes[b]
            Z = np.zeros((len(rows), J), dtype=np.int64)
            AZ = np.zeros((len(rows), J), dtype=np.int64)
            E = np.zeros((len(rows), J))
            G = np.full((len(rows), J), NO_EXP, dtype=np.int64)
            for S, spread in l1.index[b].items():  # scopes in a fixed (sorted) order
                us = [j for j in units if l1.scopes[j] == S]
                H = np.stack([l1.h(j) for j in us])
                Z = iadd(Z, ishift(imatmul(subi[:, us], H), k)[:, spread])
                AZ = iadd(AZ, ishift(imatmul(subabs[:, us], H), k)[:, spread])
                Es = np.zeros((len(rows), H.shape[1]))
                Gs = np.full((len(rows), H.shape[1]), NO_EXP, dtype=np.int64)
                for j in us:  # a fixed order: the same floats for any subset of rows
                    col = sub[:, j]
                    if not col.any():
                        continue
                    Es = Es + np.abs(col)[:, None] * l1.err[j][None, :]
                    Gs = np.minimum(Gs, np.where(col[:, None] != 0, gA2[:, j][:, None]
                                                 + l1.gexp[j][None, :], NO_EXP))
                E = E + Es[:, spread]
                G = np.minimum(G, Gs[:, spread])
            self.Z[b] = _put(self.Z[b], rows, Z)
            self.AZ[b] = _put(self.AZ[b], rows, AZ)
            self.EZ[b][rows] = E * SAFE
            self.GZ[b][rows] = G


def _put(dst: np.ndarray, rows: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``dst[rows] = src``, widening ``dst`` to Python ints when needed."""
    src = np.asarray(src)
    if dst.dtype != object and (src.dtype == object or not fits_int64_fast(src)):
        dst = dst.astype(object)
    dst[rows] = src
    return dst


def fits_int64_fast(a: np.ndarray) -> bool:
    return a.dtype != object and float(np.abs(a).max(initial=0)) < 2.0**61


# --------------------------------------------------------------------------- one family
@dataclass
class FamilyState:
    """The analysis of one family: per (layer-2 unit, row) facts over all of the row's
    views, and their sums over units (what the verdict reads)."""

    fam: Family
    idx: list[np.ndarray]
    zmin: np.ndarray
    zmax: np.ndarray
    absum: np.ndarray
    gexp: np.ndarray
    err: np.ndarray
    varies: np.ndarray
    exact: np.ndarray = None
    E: np.ndarray = None
    dead: np.ndarray = None
    linear: np.ndarray = None
    enum_unit: np.ndarray = None
    single: np.ndarray = None  # block a mixed unit varies in (-1: none / several)
    # sums over units
    n_enum: np.ndarray = None
    C: np.ndarray = None
    G: list[np.ndarray] = None
    abs3: np.ndarray = None


_FACTS = ("zmin", "zmax", "absum", "gexp", "err", "varies", "exact", "E", "dead", "linear",
          "enum_unit", "single")


def _row_idx(idx: np.ndarray, r: int) -> np.ndarray:
    return idx[r] if idx.shape[0] > 1 else idx[0]


class Analysis:
    """The exact tables of one network for some families (their position domains), and the
    analysis of each family (:meth:`analyse`, :meth:`verdict`).

    ``floor`` caps every scale exponent (``-10`` lets weights change by ``2^-10`` without
    rescaling, for :meth:`mutated`); the verdicts do not depend on it."""

    def __init__(self, arrays: dict[str, np.ndarray], dtype: str, families: Sequence[Family],
                 floor: int = 0) -> None:
        self.arrays = {k: np.asarray(arrays[k], dtype=np.float64).copy() for k in PATCH_TENSORS}
        self.dtype = dtype
        self.floor = floor
        for k, v in self.arrays.items():
            if not representable(v, dtype):
                raise ValueError(f"{k} holds a value that is not a finite {dtype}")
        read = {int(q) for q in np.flatnonzero(np.any(self.arrays["A1"] != 0, axis=0))}
        for fam in families:
            missing = read - fam.positions
            if missing:
                raise ValueError(f"family {fam.name} does not vary position(s) "
                                 f"{sorted(missing)}, which the network reads")
            for q in fam.positions:
                if not representable(fam.values_at(q), dtype):
                    raise ValueError(f"family {fam.name}: a value at position {q} is not a "
                                     f"{dtype} (the network could not be given it)")
        self.read = read
        domains = {q: np.unique(np.concatenate([f.values_at(q) for f in families]))
                   for q in read}
        self.l1 = _Layer1(self.arrays["A1"], self.arrays["b1"], dtype, domains, floor)
        self.structural = self.l1.too_large
        if self.structural:
            return
        self.l2 = _Layer2(self.arrays["A2"], self.arrays["b2"], self.l1, floor)
        self._set_output()

    def _ints(self, name: str, E: int) -> np.ndarray:
        """``arrays[name] / 2^E`` as integers, cached (a mutated analysis has its own)."""
        key = (name, E)
        cache = self.__dict__.setdefault("_int_cache", {})
        if key not in cache:
            cache[key] = scaled(self.arrays[name], E)
        return cache[key]

    def _set_output(self) -> None:
        A3 = self.arrays["A3"][0]
        b3 = self.arrays["b3"][:1]
        self.gA3 = granularity(A3)
        self.eA3 = min_exp(A3, self.floor)
        self.A3i = scaled(A3, self.eA3)
        self.A3abs = scaled(np.abs(A3), self.eA3)
        self.eb3 = min_exp(b3, self.floor)
        self.gb3 = int(granularity(b3)[0])

    # -- per-unit facts and contributions ------------------------------------------------
    def _unit_facts(self, st: FamilyState, U: np.ndarray) -> dict[str, np.ndarray]:
        """Facts of units ``U`` on every row of ``st.fam``: min/max of ``z`` over the row's
        views (separable over blocks), absolute sum, granularity, propagated error."""
        l2, R = self.l2, len(st.fam.rows)
        zmin = np.repeat(np.asarray(l2.b2[U])[:, None], R, axis=1)
        zmax = zmin.copy()
        absum = np.repeat(np.asarray(l2.b2_abs[U])[:, None], R, axis=1)
        gexp = np.repeat(l2.b2_gexp[U][:, None], R, axis=1)
        err = np.zeros((len(U), R))
        varies = np.zeros((len(U), R, len(st.idx)), dtype=bool)
        for b, idx in enumerate(st.idx):
            one = idx.shape[1] == 1
            ib = idx[:, 0] if one else idx
            Zb = l2.Z[b][U][:, ib]
            lo, hi = (Zb, Zb) if one else (Zb.min(axis=2), Zb.max(axis=2))
            zmin, zmax = iadd(zmin, lo), iadd(zmax, hi)
            if not one:
                varies[:, :, b] = np.broadcast_to(lo != hi, (len(U), R))
            A = l2.AZ[b][U][:, ib]
            absum = iadd(absum, A if one else A.max(axis=2))
            Gz = l2.GZ[b][U][:, ib]
            gexp = np.minimum(gexp, Gz if one else Gz.min(axis=2))
            Ez = l2.EZ[b][U][:, ib]
            err = err + (Ez if one else Ez.max(axis=2))
        S2 = l2.S2
        exact = (err == 0) & exact_below(absum, S2, gexp, self.dtype)
        K = l2.K[U][:, None]
        E = np.where(exact, 0.0, err + error_bound(to_float(absum, S2) + err, K, self.dtype))
        zmin_f, zmax_f = to_float(zmin, S2), to_float(zmax, S2)
        dead = np.where(exact, zmax <= 0, zmax_f + E * SAFE < 0)
        linear = ~dead & np.where(exact, zmin >= 0, zmin_f - E * SAFE > 0)
        mixed = ~dead & ~linear
        nvar = varies.sum(axis=2)
        single = np.where(mixed & (nvar == 1), np.argmax(varies, axis=2), -1)
        enum_unit = (~dead & ~exact) | (mixed & (nvar >= 2))
        return dict(zmin=zmin, zmax=zmax, absum=absum, gexp=gexp, err=err, varies=varies,
                    exact=exact, E=E, dead=dead, linear=linear, enum_unit=enum_unit,
                    single=single)

    def _contrib(self, st: FamilyState, U: np.ndarray, f: dict[str, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """What units ``U`` (facts ``f``) add to the sums: enumeration count, the constant
        ``C`` and each block's function ``G_B`` (exact, scale ``S3``), and ``|A3| max h2``
        (exact, scale ``eA3 + S2``)."""
        l2, R = self.l2, len(st.fam.rows)
        k3 = self.eA3 + l2.S2 - self.S3(st)
        A3i = self.A3i[U]
        coef = np.where(f["linear"], np.asarray(A3i)[:, None], 0)
        if np.asarray(A3i).dtype == object:
            coef = coef.astype(object)
        n_enum = f["enum_unit"].sum(axis=0)
        C = ishift(imatmul(coef.T, np.asarray(l2.b2[U]).reshape(-1, 1))[:, 0], k3)
        G = []
        for b, idx in enumerate(st.idx):
            Zb = l2.Z[b][U]
            if idx.shape[0] == 1:
                g = imatmul(coef.T, Zb[:, idx[0]])
            else:
                g = _rowwise(coef, Zb, idx)
            sel = f["single"] == b
            if np.any(sel):
                g = np.array(np.broadcast_to(g, (R, g.shape[1])))
                for u, r in zip(*np.nonzero(sel)):
                    zb = Zb[u, _row_idx(idx, r)]
                    z = iadd(zb, f["zmin"][u, r] - zb.min())
                    g[r] = iadd(g[r], imul(np.where(z > 0, z, 0), np.asarray([A3i[u]])))
            G.append(ishift(g, k3))
        live = ~f["dead"]
        top = np.where(live, np.where(f["zmax"] > 0, f["zmax"], 0), 0)
        if top.dtype != object and np.asarray(self.A3abs).dtype != object:
            abs3 = imatmul(np.asarray(self.A3abs[U]).reshape(1, -1), top)[0]
        else:
            abs3 = (np.asarray(self.A3abs[U]).astype(object)[:, None] * top.astype(object)).sum(
                axis=0)
        return n_enum, C, G, abs3

    def S3(self, st: FamilyState) -> int:
        """The output scale: fine enough for ``A3 h2``, ``b3`` and the family's specs."""
        fam = st.fam
        parts = [self.eA3 + self.l2.S2, self.eb3, min_exp(fam.spec)]
        for q, s in fam.spec_slope.items():
            parts.append(min_exp(s * fam.free[q]))
        return min(parts)

    # -- analyses ------------------------------------------------------------------------
    def analyse(self, fam: Family) -> FamilyState:
        """The state of ``fam`` (every unit)."""
        idx = _family_indices(fam, self.l1)
        U = np.arange(self.l2.h2)
        st = FamilyState(fam, idx, *[None] * 6)
        f = self._unit_facts(st, U)
        for k, v in f.items():
            setattr(st, k, v)
        st.n_enum, st.C, st.G, st.abs3 = self._contrib(st, U, f)
        return st

    def reanalyse(self, base: Analysis, st: FamilyState, U: np.ndarray, tensor: str
                  ) -> FamilyState | None:
        """The state of ``st.fam`` under this analysis, which differs from ``base`` only in
        weight ``tensor`` of units ``U``: the other units' facts are reused and the sums are
        updated by the difference of ``U``'s contributions, so the result equals
        :meth:`analyse`'s integer for integer. Returns ``None`` when the verdict provably
        cannot change: the same contributions and the same facts the verdict reads (dead,
        linear, enumeration and single-block flags, the output granularity of live units,
        strictness), and, for a family checking Jacobians, no change to layer 1 and no
        unit of ``U`` linear on any row (so autograd's sums are the same)."""
        U = np.asarray(sorted(U), dtype=np.int64)
        if tensor == "b3":
            return st
        if len(U) == 0:
            return None
        old_f = {k: getattr(st, k)[U] for k in _FACTS}
        f = self._unit_facts(st, U)
        o = base._contrib(st, U, old_f)
        n = self._contrib(st, U, f)
        same = (np.array_equal(o[0], n[0]) and np.array_equal(o[1], n[1])
                and all(np.array_equal(a, b) for a, b in zip(o[2], n[2]))
                and np.array_equal(o[3], n[3])
                and all(np.array_equal(a, b) for a, b in zip(base._relevant(old_f, U),
                                                             self._relevant(f, U))))
        if same and (st.fam.jacobian is None or (
                tensor not in ("A1", "b1") and not old_f["linear"].any()
                and not f["linear"].any())):
            return None
        new = copy.copy(st)
        for k, v in f.items():
            arr = getattr(st, k)
            arr = arr.astype(object) if arr.dtype != object and np.asarray(v).dtype == object \
                else arr.copy()
            arr[U] = v
            setattr(new, k, arr)
        new.n_enum = st.n_enum - o[0] + n[0]
        new.C = iadd(iadd(st.C, -np.asarray(o[1])), n[1])
        new.G = [iadd(iadd(g, -np.asarray(go)), gn) for g, go, gn in zip(st.G, o[2], n[2])]
        new.abs3 = iadd(iadd(st.abs3, -np.asarray(o[3])), n[3])
        return new

    def _relevant(self, f: dict[str, np.ndarray], U: np.ndarray) -> list[np.ndarray]:
        """The per-unit facts a verdict reads besides the contributions."""
        S2 = self.l2.S2
        strict = np.where(f["exact"], (f["zmax"] < 0) | (f["zmin"] > 0),
                          (to_float(f["zmax"], S2) + f["E"] * SAFE < 0)
                          | (to_float(f["zmin"], S2) - f["E"] * SAFE > 0))
        live_g = np.where(~f["dead"] & (self.arrays["A3"][0][U] != 0)[:, None],
                          self.gA3[U][:, None] + f["gexp"], NO_EXP)
        return [f["dead"], f["linear"], f["enum_unit"], f["single"], live_g, strict]

    def verdict(self, st: FamilyState) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
        """Rows proven (exact values, and Jacobians if specified, for every summation
        order), rows to enumerate, and the first exact disagreement as a counterexample."""
        fam, l1, R = st.fam, self.l1, len(st.fam.rows)
        S3 = self.S3(st)
        lo = iadd(st.C, scaled(self.arrays["b3"][:1], S3))
        hi = lo.copy()
        args_lo, args_hi = [], []
        blocks = list(l1.blocks)
        terms = list(st.G)
        idxs = list(st.idx)
        for q in fam.spec_slope:  # spec slopes on positions no unit reads
            if q not in l1.block_of:
                blocks.append((q,))
                terms.append(np.zeros((1, len(fam.free[q])), dtype=np.int64))
                idxs.append(np.arange(len(fam.free[q]))[None, :])
        for b, (g, idx) in enumerate(zip(terms, idxs)):
            g = np.broadcast_to(g, (R, g.shape[1]))
            for pos, q in enumerate(blocks[b]):
                if q in fam.spec_slope:
                    X = fam.free[q] if b >= len(l1.blocks) else l1.joint[b][:, pos]
                    sub = scaled(fam.spec_slope[q] * X, S3)
                    sub = sub[idx] if b < len(l1.blocks) else sub[None, :]
                    g = iadd(g, -np.broadcast_to(sub, (idx.shape[0], sub.shape[1])))
            g = np.broadcast_to(g, (R, g.shape[1]))
            args_lo.append(np.argmin(g, axis=1))
            args_hi.append(np.argmax(g, axis=1))
            lo, hi = iadd(lo, g.min(axis=1)), iadd(hi, g.max(axis=1))
        spec = scaled(fam.spec, S3)
        needs_enum = st.n_enum > 0
        # float exactness of the output sum (any order)
        live = ~st.dead
        A3 = self.arrays["A3"][0]
        g3 = np.where(live & (A3 != 0)[:, None], self.gA3[:, None] + st.gexp, NO_EXP)
        g3 = np.minimum(g3.min(axis=0), self.gb3)
        Sa = min(self.eA3 + self.l2.S2, self.eb3)
        abs3 = iadd(ishift(st.abs3, self.eA3 + self.l2.S2 - Sa),
                    scaled(np.abs(self.arrays["b3"][:1]), Sa))
        exact3 = exact_below(abs3, Sa, g3, self.dtype)
        wrong = ((lo != spec) | (hi != spec)) & ~needs_enum & exact3
        counter = None
        if np.any(wrong):
            r = int(np.flatnonzero(wrong)[0])
            args = args_hi if hi[r] != spec[r] else args_lo
            chosen = {q: float(fam.free[q][0]) for q in fam.free}
            for b, g in enumerate(blocks):
                if b < len(l1.blocks):
                    X = l1.joint[b][_row_idx(idxs[b], r)[int(args[b][r])]]
                else:
                    X = [fam.free[g[0]][int(args[b][r])]]
                chosen.update({q: float(v) for q, v in zip(g, X) if q in fam.free})
            view, want = view_of(fam, r, chosen)
            counter = {"family": fam.name, "view": view, "expected": want}
        jac_ok = np.ones(R, dtype=bool)
        if fam.jacobian is not None:
            jac_ok = self._jacobian_rows(st)
        proven = ~needs_enum & ~wrong & exact3 & jac_ok
        return proven, ~wrong & ~proven, counter

    def _jacobian_rows(self, st: FamilyState) -> np.ndarray:
        """Rows whose every view has exactly the Jacobian ``fam.jacobian`` in float, any
        order: every unit strictly away from its kink (by more than its float error), so
        autograd's derivative is the true one and the pattern is fixed on the row; then the
        Jacobian along each block is exact on all its values, and autograd's sums
        (``A2^T (A3 * mask)``, then ``A1^T (...)``) are shown exact."""
        fam, l1, l2, dtype = st.fam, self.l1, self.l2, self.dtype
        A1, A2, A3 = self.arrays["A1"], self.arrays["A2"], self.arrays["A3"][0]
        gA1, gA2 = granularity(A1), granularity(A2)
        want = np.asarray(fam.jacobian, dtype=np.float64)
        if any(want[q] != 0 for q in range(9) if q not in l1.block_of):
            return np.zeros(len(fam.rows), dtype=bool)
        zmin_f, zmax_f = to_float(st.zmin, l2.S2), to_float(st.zmax, l2.S2)
        strict = np.where(st.exact, (st.zmax < 0) | (st.zmin > 0),
                          (zmax_f + st.E * SAFE < 0) | (zmin_f - st.E * SAFE > 0))
        ok = np.all(strict, axis=0)
        eJ = l1.eA1 + l2.eA2 + self.eA3
        A1i, A2i = self._ints("A1", l1.eA1), self._ints("A2", l2.eA2)
        for r in np.flatnonzero(ok):
            act = st.linear[:, r]
            t = np.abs(A2[act] * A3[act][:, None])
            tg = np.where(t != 0, gA2[act] + self.gA3[act][:, None], NO_EXP)
            g1_gran = tg.min(axis=0, initial=NO_EXP)
            if not np.all(exact_below_float(t.sum(axis=0), g1_gran, dtype)):
                ok[r] = False
                continue
            g1 = imatmul(A2i[act].T, np.asarray(self.A3i[act]).reshape(-1, 1))[:, 0]
            g1f = np.abs(A2[act]).T @ np.abs(A3[act])
            for b, g in enumerate(l1.blocks):
                units, cols = l1.units[b], list(g)
                sel = _row_idx(st.idx[b], r)
                if not units:
                    if np.any(want[cols] != 0):
                        ok[r] = False
                    continue
                if any(l1.kink[j][l1.at(j, sel)].any() for j in units):
                    ok[r] = False
                    break
                on = np.stack([l1.z[j][l1.at(j, sel)] > 0 for j in units])    # (u, m)
                w = imul(A1i[units][:, cols], g1[units][:, None])            # (u, |B|)
                jac = imatmul(np.asarray(w).T, on.astype(np.int64))          # (|B|, m)
                if np.any(jac != scaled(want[cols], eJ)[:, None]):
                    ok[r] = False
                    break
                absj = (np.abs(A1[units][:, cols]) * g1f[units][:, None]).T @ on
                gj = np.where((A1[units][:, cols] != 0) & (g1f[units] != 0)[:, None],
                              gA1[units][:, cols] + g1_gran[units][:, None], NO_EXP)
                gmin = np.where(on[:, None, :], gj[:, :, None], NO_EXP).min(axis=0)
                if not np.all(exact_below_float(absj, gmin, dtype)):
                    ok[r] = False
                    break
        return ok

    # -- single-weight changes -----------------------------------------------------------
    def mutated(self, tensor: str, index: tuple[int, ...], value: float
                ) -> tuple[Analysis, np.ndarray] | None:
        """This analysis with ``arrays[tensor][index] = value``, and the layer-2 units whose
        facts change; ``None`` when the change alters the structure (a unit reads a new
        position) or needs a finer scale, where only a fresh analysis will do."""
        if self.structural:
            return None
        new = copy.copy(self)
        new._int_cache = {}
        arrays = dict(self.arrays)
        arrays[tensor] = self.arrays[tensor].copy()
        arrays[tensor][index] = value
        if not representable(np.array([value]), self.dtype):
            return None
        new.arrays = arrays
        if min_exp(np.array([value]), self.floor) < {"A1": self.l1.eA1, "b1": self.l1.S1,
                                                     "A2": self.l2.eA2, "b2": self.l2.S2,
                                                     "A3": self.eA3, "b3": self.eb3}[tensor]:
            return None
        if tensor in ("A1", "b1"):
            j = index[0]
            if tuple(int(q) for q in np.flatnonzero(arrays["A1"][j])) != self.l1.scopes[j]:
                return None
            new.l1 = _copy_layer1(self.l1, j)
            new.l1.set_unit(j, arrays["A1"][j], float(arrays["b1"][j]))
            U = np.flatnonzero(arrays["A2"][:, j])
            new.l2 = _copy_layer2(self.l2)
            new.l2.set_rows(U, arrays["A2"], arrays["b2"], new.l1)
            return new, U
        if tensor in ("A2", "b2"):
            U = np.array([index[0]])
            new.l2 = _copy_layer2(self.l2)
            new.l2.set_rows(U, arrays["A2"], arrays["b2"], new.l1)
            return new, U
        new._set_output()
        return new, (np.array([index[1]]) if tensor == "A3" else np.zeros(0, dtype=np.int64))


def _copy_layer1(l1: _Layer1, j: int) -> _Layer1:
    new = copy.copy(l1)
    for name in ("z", "err", "gexp", "kink", "const"):
        setattr(new, name, dict(getattr(l1, name)))
    return new


def _copy_layer2(l2: _Layer2) -> _Layer2:
    new = copy.copy(l2)
    for name in ("Z", "AZ", "EZ", "GZ"):
        setattr(new, name, [a.copy() for a in getattr(l2, name)])
    for name in ("b2", "b2_abs", "b2_gexp", "K"):
        setattr(new, name, getattr(l2, name).copy())
    return new


def _rowwise(coef: np.ndarray, Z: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``sum_i coef[i, r] Z[i, idx[r, :]]`` for every row ``r``: (R, m), exact."""
    out = []
    step = max(1, (1 << 22) // max(1, Z.shape[0] * idx.shape[1]))
    for s in range(0, idx.shape[0], step):
        sub, c = Z[:, idx[s:s + step]], coef[:, s:s + step]
        if sub.dtype == object or c.dtype == object or not fits_int64_fast(
                np.array([float(np.abs(c).max(initial=0)) * float(np.abs(sub).max(initial=0))
                          * Z.shape[0]])):
            sub, c = sub.astype(object), c.astype(object)
        out.append(np.einsum("hr,hrm->rm", c, sub))
    return np.concatenate(out, axis=0)


def _family_indices(fam: Family, l1: _Layer1) -> list[np.ndarray]:
    """For every block, the joint-domain indices of each row's views: shape (R, m) (or
    (1, m) when the same for every row); the views of row ``r`` take all ``m`` of them."""
    R = len(fam.rows)
    out = []
    for g in l1.blocks:
        dims = [len(l1.domains[q]) for q in g]
        radix = [int(np.prod(dims[i + 1:], dtype=np.int64)) for i in range(len(g))]
        idx = np.zeros((1, 1), dtype=np.int64)
        for q, rad in zip(g, radix):
            dom = l1.domains[q]
            if q in fam.fixed:
                d = np.searchsorted(dom, fam.rows[:, fam.fixed.index(q)])
                idx = idx + (d * rad)[:, None]
            else:
                d = np.searchsorted(dom, fam.free[q])
                idx = (idx[:, :, None] + (d * rad)[None, None, :]).reshape(idx.shape[0], -1)
        out.append(idx if idx.shape[0] == R else np.broadcast_to(idx, (1, idx.shape[1])))
    return out

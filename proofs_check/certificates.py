"""Certificates: a finite, complete proof that a patch network computes its local rule on
every valid local view, in floating point, in any summation order.

Paper: §4.2 and Lemma 1 (2) (one layer = one step) and Lemma 1 (1) (the Jacobians SGD
relies on). A rollout of a Definition-5 RCNN is correct from *every* valid configuration,
by induction on the number of layers, once the patch network returns the specified next
value on every valid *view* (the values of the 3x3 neighbourhood of one cell of a valid
configuration). Views are finite, so this is a finite statement; this module proves it for
a given network, a set of valid views and a specification, without sampling anything.

Views come in *families* (:class:`Family`): each row of a family fixes some positions and
lets the others range over *free* value sets; the specified value (and, optionally, the
specified Jacobian) is the same on every view of a row. Rule modules
(:mod:`proofs_check.certificates_views`) build the families of a Turing machine, a learner
network and the circuit interpreter.

The proof (:func:`certify_patch`), for ``f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3``:

1. *Exact arithmetic.* Every float weight and every domain value is a dyadic rational
   ``n 2^e``; the analysis works on integers at a common scale, so nothing in it rounds.
2. *Blocks.* Each layer-1 unit ``j`` reads the positions where row ``A1[j]`` is non-zero.
   Positions read together form a *block*; for the compiled networks every unit reads one
   position, so every block is a single position. A position that no row of ``A1`` reads
   cannot change the output (its products are exact zeros), so views need not vary it: this
   is the sound reduction that lets 5 read cells stand for 9.
3. *Tables.* A layer-1 unit is a function of its block, tabulated exactly on the block's
   values. Layer-2 unit ``i``'s pre-activation is ``z_i(x) = b2_i + sum_B Z_iB(x_B)`` with
   ``Z_iB`` the block's share, also tabulated exactly: ``z_i`` is *separable* over blocks.
4. *Per row of a family*, over all its views at once: ``min z_i`` and ``max z_i`` are sums
   of per-block minima and maxima (separability). A unit with ``max z_i <= 0`` is *dead*
   (output 0 on every view of the row), with ``min z_i >= 0`` it is *linear* (its
   contribution is separable too), otherwise it is *mixed*; a mixed unit whose ``z_i``
   varies in a single block contributes that block's function ``relu(...)``. Then the
   output is ``C + sum_B G_B(x_B)`` on the row's views, its exact minimum and maximum are
   ``C + sum_B min G_B`` and ``C + sum_B max G_B``, and the row is proven iff both equal the
   specified value. A row where a mixed unit varies in two blocks is enumerated instead.
5. *Floating point, any summation order.* A dot product whose terms are all multiples of
   ``2^g`` and whose absolute sum (bias included) is below ``2^(p+g)`` (``p`` significand
   bits, exponent in range) is computed exactly by any order of additions, with or without
   fused multiply-adds: every partial sum is a multiple of ``2^g`` below ``2^(p+g)``, hence
   representable. The analysis bounds both per row (granularity from the terms that can be
   non-zero, absolute sum from per-block maxima), for every unit of every layer. Where a
   unit is not exact, its float error is bounded by ``gamma_K`` times its absolute sum
   (``K`` terms, ``gamma_K = K u / (1 - K u)``, valid for any order) plus the propagated
   input errors; a unit whose exact pre-activation is below minus that bound outputs an
   exact 0 in float (how the learner's first layer absorbs the rounding of ``1/3``). A row
   whose exactness cannot be shown this way is enumerated.
6. *Jacobians* (families that specify one): every unit must be strictly away from its kink
   (by more than its float error) on every view of the row, so autograd's derivative is
   the true one and the activation pattern is fixed on the row; the Jacobian along a block
   then depends on that block's values only and is checked exactly on all of them, and
   its float computation (autograd's backward sums) is shown exact by the same bound.
7. *Enumeration fallback* (rows flagged above, or networks whose blocks are too large to
   tabulate, such as dense SGD-trained networks): every view of the row is evaluated with
   the executor's own operations (:func:`executor_forward`: ``addmm``, in-place ReLU,
   ``addmv``, in the file's dtype on the CPU) and compared bit for bit. That proves the
   statement for that evaluation order only, and the verdict says so.

A counterexample is always re-evaluated on its own, exactly (rational arithmetic, no
tables) and with the executor, so a reported disagreement never rests on the tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from proofs_check.certificates_exact import (
    NO_EXP,
    TORCH_DTYPES,
    exact_below_float,
    granularity,
    iadd,
    imatmul,
    imul,
    ishift,
    min_exp,
    scaled,
    to_float,
)
from proofs_check.certificates_tables import PATCH_TENSORS, Analysis, Family, FamilyState

__all__ = ["ENUMERATION_LIMIT", "Family", "PartResult", "PatchCertifier", "certify_head",
           "certify_patch", "exact_forward", "executor_forward", "executor_values"]

HEAD_TENSORS = ("U2", "c2", "U1", "c1")
ENUMERATION_LIMIT = 20_000_000
"""Views the fallback enumerates at most (per network); beyond it a row stays unproven."""
ROW_CHUNK = 1 << 20
"""Families are analysed in chunks of about this many (unit, row) pairs."""


# --------------------------------------------------------------------------- the executor
def executor_tensors(arrays: dict[str, np.ndarray], dtype: str) -> dict[str, torch.Tensor]:
    """The patch tensors as the executor holds them (``dtype``, CPU)."""
    return {k: torch.as_tensor(np.asarray(arrays[k], dtype=np.float64)).to(TORCH_DTYPES[dtype])
            for k in PATCH_TENSORS}


def executor_forward(t: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The patch network exactly as :meth:`constructions.rcnn.RCNN.patch_network` evaluates
    it (same operations in the same order; a test checks it bit for bit): (N, 9) -> (N,)."""
    h = torch.addmm(t["b1"], x, t["A1"].T).relu_()
    h = torch.addmm(t["b2"], h, t["A2"].T).relu_()
    return torch.addmv(t["b3"], h, t["A3"][0])


def executor_values(arrays: dict[str, np.ndarray], dtype: str, views: np.ndarray,
                    jacobian: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Float values (and autograd Jacobians) of the executor on ``views`` (N, 9), as float64."""
    t = executor_tensors(arrays, dtype)
    x = torch.as_tensor(np.asarray(views, dtype=np.float64)).to(TORCH_DTYPES[dtype])
    if not jacobian:
        with torch.no_grad():
            return executor_forward(t, x).to(torch.float64).numpy(), None
    x.requires_grad_(True)
    y = executor_forward(t, x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return (y.detach().to(torch.float64).numpy(), g.to(torch.float64).numpy())


def exact_forward(arrays: dict[str, np.ndarray], view: Sequence[float]
                  ) -> tuple[Fraction, tuple[Fraction, ...]]:
    """The network's exact value and (ReLU'(0) = 0) Jacobian at one view, in rationals from
    the non-zero weights: no tables, no floats; confirms every counterexample independently."""
    A1, b1, A2, b2, A3, b3 = (np.asarray(arrays[k], dtype=np.float64) for k in PATCH_TENSORS)
    x = [Fraction(float(v)) for v in view]

    def dot(row: np.ndarray, vec: list[Fraction], bias: float) -> Fraction:
        return sum((Fraction(float(row[c])) * vec[c] for c in np.flatnonzero(row)),
                   Fraction(float(bias)))
    z1 = [dot(A1[j], x, b1[j]) for j in range(A1.shape[0])]
    h1 = [v if v > 0 else Fraction(0) for v in z1]
    z2 = [dot(A2[i], h1, b2[i]) for i in range(A2.shape[0])]
    h2 = [v if v > 0 else Fraction(0) for v in z2]
    y = dot(A3[0], h2, b3[0])
    g2 = [Fraction(float(A3[0, i])) if z2[i] > 0 else Fraction(0) for i in range(len(z2))]
    g1 = [dot(A2[:, j], g2, 0.0) if z1[j] > 0 else Fraction(0) for j in range(len(z1))]
    jac = tuple(dot(A1[:, q], g1, 0.0) for q in range(A1.shape[1]))
    return y, jac


# --------------------------------------------------------------------------- results
@dataclass
class PartResult:
    """The outcome on one set of families: views covered, how, and the first
    counterexample (if any)."""

    name: str
    views: int = 0
    views_symbolic: int = 0
    views_enumerated: int = 0
    rows: int = 0
    counterexample: dict[str, Any] | None = None
    unproven: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return self.counterexample is None and not self.unproven

    def summary(self) -> dict[str, Any]:
        return {"views": self.views, "proven_symbolically": self.views_symbolic,
                "enumerated": self.views_enumerated, "rows": self.rows,
                "proven": self.proven, "seconds": round(self.seconds, 3),
                **({"counterexample": self.counterexample} if self.counterexample else {}),
                **({"unproven": self.unproven} if self.unproven else {}),
                **({"notes": self.notes} if self.notes else {})}


# --------------------------------------------------------------------------- the driver
class PatchCertifier:
    """The certificate of one patch network on some families (steps 1-7), kept so that
    single-weight changes can be re-certified incrementally (:meth:`mutant`)."""

    def __init__(self, arrays: dict[str, np.ndarray], dtype: str, families: Sequence[Family],
                 name: str = "patch", floor: int = 0,
                 enumeration_limit: int = ENUMERATION_LIMIT,
                 rebuild: Callable[[list[int]], Sequence[Family]] | None = None) -> None:
        """``rebuild(reads)`` gives the families for another set of read positions (needed
        by :meth:`mutant` when a change makes the network read a new position)."""
        self.arrays = {k: np.asarray(arrays[k], dtype=np.float64) for k in PATCH_TENSORS}
        self.rebuild = rebuild
        self.dtype = dtype
        self.families = [f for f in families if len(f.rows)]
        self.name = name
        self.floor = floor
        self.limit = enumeration_limit
        start = time.perf_counter()
        self.analysis = Analysis(self.arrays, dtype, self.families, floor)
        self.states: list[FamilyState] = []
        if not self.analysis.structural:
            step = max(1, ROW_CHUNK // max(1, self.analysis.l2.h2))
            self.states = [self.analysis.analyse(c) for f in self.families for c in f.chunks(step)]
        self.verdicts = [self.analysis.verdict(st) for st in self.states]
        self.result = self._conclude(self.analysis, self.states, self.arrays, self.verdicts)
        self.result.seconds = time.perf_counter() - start

    def _conclude(self, ana: Analysis, states: list[FamilyState],
                  arrays: dict[str, np.ndarray], verdicts: list) -> PartResult:
        res = PartResult(self.name, views=sum(f.views for f in self.families),
                         rows=sum(len(f.rows) for f in self.families))
        to_enum: list[tuple[Family, np.ndarray]] = []
        if ana.structural:
            res.notes.append("blocks too large to tabulate (layer-1 units read several "
                             "positions): every view enumerated with the executor")
            to_enum = [(f, np.ones(len(f.rows), dtype=bool)) for f in self.families]
        for st, (proven, enum, counter) in zip(states, verdicts):
            res.views_symbolic += int(proven.sum()) * st.fam.per_row
            if counter is not None and res.counterexample is None:
                res.counterexample = _confirm(arrays, self.dtype, counter, st.fam)
            if enum.any():
                to_enum.append((st.fam, enum))
        if res.counterexample is None and to_enum:
            total = sum(int(m.sum()) * f.per_row for f, m in to_enum)
            if total > self.limit:
                res.unproven = (f"{total:,} views could not be proven symbolically and exceed "
                                f"the enumeration limit of {self.limit:,}")
            else:
                res.counterexample = _enumerate(arrays, self.dtype, to_enum, res)
                if res.views_enumerated and res.counterexample is None:
                    res.notes.append(
                        f"{res.views_enumerated:,} views enumerated in {self.dtype} with the "
                        f"executor's own arithmetic (torch addmm/ReLU/addmv on the CPU): "
                        f"proven for that evaluation")
        return res

    def mutant(self, tensor: str, index: tuple[int, ...], value: float) -> PartResult:
        """The certificate of this network with ``arrays[tensor][index] = value``: the same
        verdict as a fresh :func:`certify_patch` (a test checks it), computed by replacing
        only the changed units' contributions when the change keeps the structure."""
        start = time.perf_counter()
        arrays = dict(self.arrays)
        arrays[tensor] = self.arrays[tensor].copy()
        arrays[tensor][index] = value
        step = self.analysis.mutated(tensor, index, value) if self.states else None
        if step is None:
            families = self.families
            reads = reads_of(arrays)
            if reads != reads_of(self.arrays):
                if self.rebuild is None:
                    raise ValueError("the change makes the network read a new position; "
                                     "give PatchCertifier a rebuild function")
                families = self.rebuild(reads)
            return certify_patch(arrays, self.dtype, families, self.name, self.limit)
        ana, U = step
        states, verdicts = [], []
        for st, v in zip(self.states, self.verdicts):
            new = ana.reanalyse(self.analysis, st, U, tensor)
            states.append(st if new is None else new)
            verdicts.append(v if new is None else ana.verdict(new))
        res = self._conclude(ana, states, arrays, verdicts)
        res.seconds = time.perf_counter() - start
        return res


def reads_of(arrays: dict[str, np.ndarray]) -> list[int]:
    """The positions the patch network reads: the non-zero columns of ``A1``."""
    return [int(q) for q in np.flatnonzero(np.any(np.asarray(arrays["A1"]) != 0, axis=0))]


def certify_patch(arrays: dict[str, np.ndarray], dtype: str, families: Sequence[Family],
                  name: str = "patch", enumeration_limit: int = ENUMERATION_LIMIT
                  ) -> PartResult:
    """Prove (or refute) that the patch network ``arrays`` evaluated in ``dtype`` returns the
    specification (and the specified Jacobian) on every view of ``families`` (module
    docstring). Returns the views covered symbolically and by enumeration, and the first
    counterexample (``view``, ``expected``, the float value ``computed`` by the executor,
    the ``exact`` rational value) or, with neither a proof nor a counterexample, the reason."""
    return PatchCertifier(arrays, dtype, families, name,
                          enumeration_limit=enumeration_limit).result


def _confirm(arrays: dict[str, np.ndarray], dtype: str, counter: dict[str, Any],
             fam: Family) -> dict[str, Any]:
    """Re-evaluate a counterexample exactly and with the executor (independent of tables)."""
    view = counter["view"]
    exact, _ = exact_forward(arrays, view)
    got, _ = executor_values(arrays, dtype, np.array([view]))
    out = {"family": counter["family"], "view": view, "expected": counter["expected"],
           "computed": float(got[0]), "exact": str(exact)}
    if exact == Fraction(counter["expected"]) or float(got[0]) == counter["expected"]:
        raise AssertionError(f"internal error: the tables disagree with the network at {view}")
    return out


def _enumerate(arrays: dict[str, np.ndarray], dtype: str,
               jobs: list[tuple[Family, np.ndarray]], res: PartResult) -> dict[str, Any] | None:
    """Evaluate every view of the flagged rows with the executor; the first mismatch."""
    for fam, mask in jobs:
        rows = np.flatnonzero(mask)
        batch = max(1, 200_000 // max(1, fam.per_row))
        jac = fam.jacobian is not None
        for s in range(0, len(rows), batch):
            pairs = [fam.row_views(int(r)) for r in rows[s:s + batch]]
            views = np.concatenate([v for v, _ in pairs])
            want = np.concatenate([w for _, w in pairs])
            got, g = executor_values(arrays, dtype, views, jacobian=jac)
            bad = got != want
            kind = "value"
            if jac and not bad.any():
                bad = np.any(g != np.asarray(fam.jacobian)[None, :], axis=1)
                kind = "jacobian"
            res.views_enumerated += len(views)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                exact, _ = exact_forward(arrays, views[i])
                out = {"family": fam.name, "view": [float(v) for v in views[i]],
                       "expected": float(want[i]), "computed": float(got[i]),
                       "exact": str(exact)}
                if kind == "jacobian":
                    out.update(what="jacobian", expected_jacobian=list(map(float, fam.jacobian)),
                               computed_jacobian=[float(v) for v in g[i]])
                return out
    return None


# --------------------------------------------------------------------------- the head
def certify_head(arrays: dict[str, np.ndarray], dtype: str, values: np.ndarray,
                 targets: np.ndarray, slopes: np.ndarray | None = None) -> PartResult:
    """The pixel head ``U1 relu(U2 v + c2) + c1`` on every cell value ``values``: exactly
    ``targets`` (and, if given, autograd slopes ``slopes``, every unit away from its kink)
    in ``dtype``. One input, so every value is checked directly in exact arithmetic and the
    float computation is shown exact in every order by the bound of step 5; a value where
    that bound fails is evaluated with torch instead (and the verdict says so)."""
    start = time.perf_counter()
    v = np.asarray(values, dtype=np.float64)
    res = PartResult("head", views=len(v), rows=len(v))
    U2 = np.asarray(arrays["U2"], dtype=np.float64)[:, 0]
    c2 = np.asarray(arrays["c2"], dtype=np.float64)
    U1 = np.asarray(arrays["U1"], dtype=np.float64)[0]
    c1 = np.asarray(arrays["c1"], dtype=np.float64)[:1]
    eU2, ev, ec2 = min_exp(U2), min_exp(v), min_exp(c2)
    eU1, ec1 = min_exp(U1), min_exp(c1)
    Ez = min(eU2 + ev, ec2)
    z = iadd(ishift(imul(scaled(U2, eU2)[None, :], scaled(v, ev)[:, None]), eU2 + ev - Ez),
             ishift(scaled(c2, ec2), ec2 - Ez)[None, :])                      # (n, d)
    on = z > 0
    h = np.where(on, z, 0)
    Eo = min(eU1 + Ez, ec1, min_exp(np.asarray(targets, dtype=np.float64)))
    val = iadd(ishift(imatmul(h, scaled(U1, eU1).reshape(-1, 1))[:, 0], eU1 + Ez - Eo),
               ishift(scaled(c1, ec1), ec1 - Eo))
    ok = val == scaled(np.asarray(targets, dtype=np.float64), Eo)
    zf = to_float(z, Ez)
    gz = np.minimum(np.where((U2 != 0)[None, :] & (v != 0)[:, None],
                             granularity(U2)[None, :] + granularity(v)[:, None], NO_EXP),
                    granularity(c2)[None, :])
    fine = np.all(exact_below_float(np.abs(U2[None, :] * v[:, None]) + np.abs(c2)[None, :],
                                    gz, dtype), axis=1)
    hf = np.where(on, zf, 0.0)
    g_out = np.minimum(np.where((hf != 0) & (U1 != 0)[None, :],
                                granularity(U1)[None, :] + granularity(hf), NO_EXP).min(axis=1),
                       granularity(c1)[0])
    fine &= exact_below_float(np.abs(hf) @ np.abs(U1) + abs(float(c1[0])), g_out, dtype)
    if slopes is not None:
        Es = min(eU1 + eU2, min_exp(np.asarray(slopes, dtype=np.float64)))
        prod = ishift(imul(scaled(U1, eU1), scaled(U2, eU2)), eU1 + eU2 - Es)
        slope = imatmul(on.astype(np.int64), np.asarray(prod).reshape(-1, 1))[:, 0]
        ok &= slope == scaled(np.asarray(slopes, dtype=np.float64), Es)
        ok &= ~np.any(z == 0, axis=1)
        t = np.abs(U1 * U2)
        g_s = np.where(on & (t != 0)[None, :], (granularity(U1) + granularity(U2))[None, :],
                       NO_EXP).min(axis=1)
        fine &= exact_below_float(on.astype(np.float64) @ t, g_s, dtype)
    res.views_symbolic = int((ok & fine).sum())
    for i in np.flatnonzero(~(ok & fine)):
        t = {k: torch.as_tensor(np.asarray(arrays[k], dtype=np.float64)).to(TORCH_DTYPES[dtype])
             for k in HEAD_TENSORS}
        x = torch.tensor([[float(v[i])]], dtype=TORCH_DTYPES[dtype], requires_grad=True)
        y = (torch.relu(x @ t["U2"].T + t["c2"]) @ t["U1"].T + t["c1"])[0, 0]
        (g,) = torch.autograd.grad(y, x)
        res.views_enumerated += 1
        y = y.detach()
        float_bad = float(y) != float(targets[i]) or (
            slopes is not None and float(g[0, 0]) != float(slopes[i]))
        if not ok[i] or float_bad:
            exact = Fraction(int(val[i])) * Fraction(2) ** Eo
            res.counterexample = {"family": "head", "view": [float(v[i])],
                                  "expected": float(targets[i]), "computed": float(y),
                                  "exact": str(exact)}
            if slopes is not None:
                res.counterexample.update(expected_slope=float(slopes[i]),
                                          computed_slope=float(g[0, 0]))
            break
    if res.views_enumerated and res.counterexample is None:
        res.notes.append(f"{res.views_enumerated} head values evaluated with torch in {dtype} "
                         f"(the any-order bound did not hold there)")
    res.seconds = time.perf_counter() - start
    return res

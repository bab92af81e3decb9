"""Mutation testing of the certificates: change one weight, see whether the certificate
notices (docs/certificates.md, "Mutation testing").

For a network and every single-weight change (each weight of the patch network and the head
by ``+2^-10``, by ``-2^-10``, and its sign flipped; flipping a zero changes nothing and is
counted apart), two questions are answered independently:

* **does the change alter the output on some valid view?** (:func:`ground_truth`) The
  changed weight touches a few layer-2 units (or the head, or ``b3``). Each touched unit's
  contribution depends only on the positions it reads, so its change is evaluated exactly
  (integers, no table of the certificate) on the projection of the valid views onto those
  positions (every value combination they take in some valid view). The output's change is
  the sum of these, so if none changes, nothing does; where one does, the whole networks
  are evaluated exactly (rationals) at a whole valid view through that point, the witness,
  which is also run through the executor to show the float output moved. (Were the
  touched units' changes to cancel at every candidate view, the mutant would be counted
  as uncertain, never as unchanged.)
* **does the certificate reject it?** (:class:`MutationCertifier`): the certificate of
  :mod:`proofs_check.certificates`, re-derived incrementally from the unchanged network's
  tables (the same verdict as a fresh certificate; a test checks it).

The kill rate (mutants that change an output and are rejected, over those that change an
output) must be 100%; mutants that change nothing reachable are reported with how many the
certificate accepts.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from proofs_check.certificates import (
    PartResult,
    PatchCertifier,
    certify_head,
    exact_forward,
    executor_values,
    reads_of,
)
from proofs_check.certificates_tables import Family
from proofs_check.certificates_views import HeadSpec, ViewSet

STEP = 2.0**-10
TENSORS = ("A1", "b1", "A2", "b2", "A3", "b3", "U2", "c2", "U1", "c1")
KINDS = ("+2^-10", "-2^-10", "sign")
SUBJECTS = ("bb4", "rand5x2", "rand3x3", "majority")
RANDOM_5X2 = "0RC1RD_1RA1LE_1LB1RB_1LA0LA_0LE0LE"
"""The random 5-state machine of the issue that motivated certificates."""


@dataclass(frozen=True)
class Mutant:
    tensor: str
    index: tuple[int, ...]
    kind: str
    old: float
    new: float

    @property
    def noop(self) -> bool:
        return self.new == self.old

    def label(self) -> str:
        return f"{self.tensor}{list(self.index)} {self.kind}"


@dataclass
class Subject:
    """A network under mutation: its weights, dtype, valid views (built for a set of read
    positions) and head specification."""

    name: str
    arrays: dict[str, np.ndarray]
    dtype: str
    build: Callable[[Sequence[int]], list[ViewSet]]
    head: HeadSpec
    _views: dict = field(default_factory=dict, repr=False)
    _proj: dict = field(default_factory=dict, repr=False)

    def views(self, reads: Sequence[int]) -> list[ViewSet]:
        """The valid views for a network reading ``reads`` (cached)."""
        key = tuple(sorted(int(q) for q in reads))
        if key not in self._views:
            self._views[key] = self.build(key)
        return self._views[key]


def subject(name: str, dtype: str = "float32") -> Subject:
    """One of :data:`SUBJECTS`, compiled and exported in ``dtype``."""
    from constructions.export import weight_arrays
    from constructions.tm import compile_tm
    from proofs_check.certificates_views import (
        LearnerValues,
        learner_head,
        learner_layer1_views,
        learner_step_views,
        tm_head,
        tm_views,
    )
    from simulators.formats import builtin_machines, load_machine

    if name == "majority":
        import torch

        from constructions.learner import LEARNING_RATE, compile_library_learner
        from proofs_check.certificates import TORCH_DTYPES

        learner = compile_library_learner("majority")
        m = learner.machine
        third = float(torch.tensor(float(LEARNING_RATE), dtype=TORCH_DTYPES[dtype]))
        v = LearnerValues(-1.0, third, -4.0, -2.0, 2.0)
        arrays = weight_arrays(learner, dtype)
        return Subject(name, {k: a.astype(np.float64) for k, a in arrays.items()}, dtype,
                       lambda reads: [learner_layer1_views(m, v, reads),
                                      learner_step_views(m, v, reads)],
                       learner_head(m, v))
    if name == "bb4":
        machine = builtin_machines()["bb4"]
    elif name == "rand5x2":
        machine = load_machine(RANDOM_5X2)
    elif name == "rand3x3":
        from simulators.sampling import random_machine

        machine = random_machine(random.Random("mutation-3x3"), 3, 3)
    else:
        raise ValueError(f"unknown mutation subject {name!r}; choose from {SUBJECTS}")
    arrays = weight_arrays(compile_tm(machine), dtype)
    return Subject(name, {k: a.astype(np.float64) for k, a in arrays.items()}, dtype,
                   lambda reads: [tm_views(machine, reads)], tm_head(machine))


def mutants(arrays: dict[str, np.ndarray]) -> Iterator[Mutant]:
    """Every single-weight change, tensor by tensor, entry by entry (row-major)."""
    for t in TENSORS:
        a = arrays[t]
        for index in itertools.product(*[range(n) for n in a.shape]):
            old = float(a[index])
            for kind, new in zip(KINDS, (old + STEP, old - STEP, -old)):
                yield Mutant(t, tuple(int(i) for i in index), kind, old, float(new))


def sample(all_mutants: Sequence[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants drawn without replacement, stratified by tensor (seeded)."""
    rng = random.Random(seed)
    by: dict[str, list[Mutant]] = {}
    for m in all_mutants:
        by.setdefault(m.tensor, []).append(m)
    out: list[Mutant] = []
    per = max(1, n // len(by))
    for t in TENSORS:
        group = by.get(t, [])
        out += rng.sample(group, min(per, len(group)))
    chosen = set(out)
    rest = [m for m in all_mutants if m not in chosen]
    out += rng.sample(rest, max(0, min(n - len(out), len(rest))))
    return out


# --------------------------------------------------------------------------- ground truth
def _frac(a: np.ndarray) -> np.ndarray:
    return np.vectorize(Fraction, otypes=[object])(np.asarray(a, dtype=np.float64))


def affected_units(arrays: dict[str, np.ndarray], mutated: dict[str, np.ndarray],
                   m: Mutant) -> list[int]:
    """The layer-2 units whose output can differ between the two networks."""
    if m.tensor in ("A2", "b2"):
        return [m.index[0]]
    if m.tensor == "A3":
        return [m.index[1]]
    if m.tensor in ("A1", "b1"):
        j = m.index[0]
        return sorted(set(np.flatnonzero(arrays["A2"][:, j])) |
                      set(np.flatnonzero(mutated["A2"][:, j])))
    return []


def _projection(families: list[Family], Q: list[int]) -> dict[tuple, tuple[Family, int, dict]]:
    """Every combination of values the positions ``Q`` take on some view of ``families``,
    with one view that shows it (family, row, free choices)."""
    out: dict[tuple, tuple[Family, int, dict]] = {}
    for fam in families:
        fixed = [q for q in Q if q in fam.fixed]
        free = [q for q in Q if q in fam.free]
        cols = [fam.fixed.index(q) for q in fixed]
        seen: dict[tuple, int] = {}
        for r, row in enumerate(fam.rows):
            key = tuple(row[cols])
            seen.setdefault(key, r)
        for key, r in seen.items():
            for combo in itertools.product(*[fam.free[q] for q in free]):
                vals = dict(zip(fixed, key)) | dict(zip(free, combo))
                if any(q not in fam.positions for q in Q):
                    vals |= {q: fam.filler for q in Q if q not in fam.positions}
                t = tuple(float(vals[q]) for q in Q)
                out.setdefault(t, (fam, r, dict(zip(free, combo))))
    return out


def ground_truth(sub: Subject, m: Mutant) -> dict[str, Any]:
    """Whether mutant ``m`` changes the network's output on some valid view (exactly, in
    rationals; module docstring), with a witness view and the executor's outputs there."""
    if m.noop:
        return {"changes": False, "noop": True}
    mutated = {k: v.copy() for k, v in sub.arrays.items()}
    mutated[m.tensor][m.index] = m.new
    if m.tensor in ("U2", "c2", "U1", "c1"):
        return _head_truth(sub, mutated)
    if m.tensor == "b3":
        # every view shifts by the change
        fam = sub.views(reads_of(sub.arrays))[0].families[0]
        views, _ = fam.row_views(0)
        return _witness(sub, mutated, [float(v) for v in views[0]], fam)
    U = affected_units(sub.arrays, mutated, m)
    reads = sorted(set(reads_of(sub.arrays)) | set(reads_of(mutated)))
    uncertain = False
    for i in U:
        # unit i's contribution depends only on the positions its layer-1 inputs read
        units1 = sorted({int(j) for net in (sub.arrays, mutated)
                         for j in np.flatnonzero(net["A2"][i])})
        Q = sorted({int(q) for net in (sub.arrays, mutated) for j in units1
                    for q in np.flatnonzero(net["A1"][j])})
        for k, vs in enumerate(sub.views(reads)):
            key = (k, tuple(reads), tuple(Q))
            if _projection_size(vs.families, Q) > PROJECTION_LIMIT:
                # too many combinations to list: settle it by a bound, or call it uncertain
                if not all(_surely_closed(net, vs.families, i, units1) for net in
                           (sub.arrays, mutated)):
                    uncertain = True
                continue
            if key not in sub._proj:
                if len(sub._proj) > 64:  # bounded memory: forget the oldest projection
                    sub._proj.pop(next(iter(sub._proj)))
                proj = _projection(vs.families, Q)
                sub._proj[key] = (list(proj.items()),
                                  np.array(list(proj), dtype=np.float64).reshape(-1, len(Q)))
            proj, X = sub._proj[key]
            diff = (_outputs(mutated, X, Q, units1, [i])
                    - _outputs(sub.arrays, X, Q, units1, [i]))
            for h in np.flatnonzero(diff != 0)[:CANDIDATES]:
                vals, (fam, r, free) = proj[int(h)]
                view = [fam.filler] * 9
                for p, v in zip(fam.fixed, fam.rows[r]):
                    view[p] = float(v)
                for p in fam.free:
                    view[p] = float(free.get(p, fam.free[p][0]))
                for q, v in zip(Q, vals):
                    view[q] = float(v)
                # the whole networks, exactly, at a whole valid view
                change = exact_forward(mutated, view)[0] - exact_forward(sub.arrays, view)[0]
                if change != 0:
                    return _witness(sub, mutated, view, fam, str(change))
                uncertain = True
    return {"changes": False, **({"uncertain": True} if uncertain else {})}


PROJECTION_LIMIT = 1 << 18
"""Projections larger than this are not listed; the unit is then settled by
:func:`_surely_closed`."""


def _projection_size(families: list[Family], Q: list[int]) -> int:
    """An upper bound on the number of value combinations of ``Q`` in ``families``."""
    total = 0
    for fam in families:
        fixed = [fam.fixed.index(q) for q in Q if q in fam.fixed]
        rows = len({tuple(r[fixed]) for r in fam.rows}) if fixed else 1
        total += rows * int(np.prod([len(fam.free[q]) for q in Q if q in fam.free],
                                    dtype=np.int64))
    return total


def _surely_closed(net: dict[str, np.ndarray], families: list[Family], i: int,
                   units1: list[int]) -> bool:
    """Whether layer-2 unit ``i`` is 0 on every view of ``families``: its pre-activation is at
    most ``b2_i`` plus, for each group of its inputs reading the same positions, the
    maximum of the group's terms over the values those positions take anywhere in the
    families (exact rationals; groups sharing a position make it a looser upper bound)."""
    values = {q: sorted({float(v) for f in families for v in f.values_at(q)}) for q in range(9)}
    groups: dict[tuple[int, ...], list[int]] = {}
    for j in units1:
        if net["A2"][i, j] != 0:
            groups.setdefault(tuple(int(q) for q in np.flatnonzero(net["A1"][j])), []).append(j)
    top = Fraction(float(net["b2"][i]))
    for scope, js in groups.items():
        best = None
        for combo in itertools.product(*[values[q] for q in scope]):
            total = Fraction(0)
            for j in js:
                z = sum((Fraction(float(net["A1"][j, q])) * Fraction(v)
                         for q, v in zip(scope, combo)), Fraction(float(net["b1"][j])))
                total += Fraction(float(net["A2"][i, j])) * max(z, Fraction(0))
            best = total if best is None else max(best, total)
        top += best if best is not None else 0
    return top <= 0


CANDIDATES = 10
"""Views where one unit's contribution changes that are tried as witnesses (the other units'
changes could cancel it there; that never happened, and a mutant where it would is counted
as uncertain, not as unchanged)."""


_SCALE = -160
"""Scale of the exact outputs in :func:`_outputs` (every float32 product of three weights
and an input is a multiple of 2^-160 unless weights are subnormal, which is checked)."""


def _outputs(net: dict[str, np.ndarray], X: np.ndarray, Q: list[int], units1: list[int],
             U: list[int]) -> np.ndarray:
    """``sum_{i in U} A3_i relu(A2_i h1 + b2_i)`` on the value combinations ``X`` of positions
    ``Q`` (only ``units1`` feed ``U``), exactly, as integers at scale 2^_SCALE."""
    from proofs_check.certificates_exact import iadd, imatmul, ishift, min_exp, scaled

    A1 = net["A1"][units1][:, Q]
    b1 = net["b1"][units1]
    A2 = net["A2"][U][:, units1]
    e_x, e_a1, e_b1 = min_exp(X), min_exp(A1), min_exp(b1)
    s1 = min(e_x + e_a1, e_b1)
    z1 = iadd(ishift(imatmul(scaled(A1, e_a1), scaled(X, e_x).T), e_x + e_a1 - s1),
              scaled(b1, s1)[:, None])
    h1 = np.where(z1 > 0, z1, 0)
    e_a2, e_b2 = min_exp(A2), min_exp(net["b2"][U])
    s2 = min(e_a2 + s1, e_b2)
    z2 = iadd(ishift(imatmul(scaled(A2, e_a2), h1), e_a2 + s1 - s2),
              scaled(net["b2"][U], s2)[:, None])
    h2 = np.where(z2 > 0, z2, 0)
    A3 = net["A3"][0][U]
    e_a3 = min_exp(A3)
    if e_a3 + s2 < _SCALE:
        raise ValueError("weights too fine for the mutation ground truth's scale")
    out = imatmul(scaled(A3, e_a3).reshape(1, -1), h2)[0]
    return ishift(np.asarray(out).astype(object), e_a3 + s2 - _SCALE)


def _witness(sub: Subject, mutated: dict[str, np.ndarray], view: list[float], fam: Family,
             diff: str | None = None) -> dict[str, Any]:
    before, _ = executor_values(sub.arrays, sub.dtype, np.array([view]))
    after, _ = executor_values(mutated, sub.dtype, np.array([view]))
    out = {"changes": True, "view": view, "family": fam.name,
           "before": float(before[0]), "after": float(after[0])}
    if diff is not None:
        out["exact_difference"] = diff
    return out


def _head_truth(sub: Subject, mutated: dict[str, np.ndarray]) -> dict[str, Any]:
    h = sub.head
    fa, fb = ({k: _frac(net[k]) for k in ("U2", "c2", "U1", "c1")}
              for net in (sub.arrays, mutated))
    for v in h.values:
        x = Fraction(float(v))
        vals, slopes = [], []
        for f in (fa, fb):
            z = f["U2"][:, 0] * x + f["c2"]
            on = [zz > 0 for zz in z]
            vals.append(sum((f["U1"][0, k] * z[k] for k in range(len(z)) if on[k]), f["c1"][0]))
            slopes.append(sum((f["U1"][0, k] * f["U2"][k, 0] for k in range(len(z)) if on[k]),
                              Fraction(0)))
        slope_matters = h.slopes is not None
        if vals[0] != vals[1] or (slope_matters and slopes[0] != slopes[1]):
            return {"changes": True, "view": [float(v)], "family": "head",
                    "exact_difference": str(vals[1] - vals[0]),
                    **({"slope_difference": str(slopes[1] - slopes[0])} if slope_matters
                       else {})}
    return {"changes": False}


# --------------------------------------------------------------------------- certificates
class MutationCertifier:
    """The certificate of every mutant of one network, derived from the unchanged
    network's tables (:meth:`proofs_check.certificates.PatchCertifier.mutant`)."""

    def __init__(self, sub: Subject) -> None:
        self.sub = sub
        reads = reads_of(sub.arrays)
        self.certifiers = []
        for k, vs in enumerate(sub.views(reads)):
            self.certifiers.append(PatchCertifier(
                sub.arrays, sub.dtype, vs.families, vs.name, floor=-10,
                rebuild=lambda r, k=k: sub.views(r)[k].families))
        self.base_head = self._head(sub.arrays)
        if not (self.base_proven and self.base_head.proven):
            raise AssertionError(f"the unchanged {sub.name} network is not certified")

    @property
    def base_proven(self) -> bool:
        return all(c.result.proven for c in self.certifiers)

    def _head(self, arrays: dict[str, np.ndarray]) -> PartResult:
        h = self.sub.head
        return certify_head(arrays, self.sub.dtype, h.values, h.targets, h.slopes)

    def certify(self, m: Mutant) -> list[PartResult]:
        """The certificate's parts for mutant ``m`` (it is accepted iff all are proven)."""
        if m.tensor in ("U2", "c2", "U1", "c1"):
            arrays = {k: v.copy() for k, v in self.sub.arrays.items()}
            arrays[m.tensor][m.index] = m.new
            return [c.result for c in self.certifiers] + [self._head(arrays)]
        parts = [c.mutant(m.tensor, m.index, m.new) for c in self.certifiers]
        return parts + [self.base_head]


@dataclass
class SweepReport:
    """Counts of one mutation sweep (README table) and the mutants that broke the rule."""

    subject: str
    parameters: int
    mutants: int = 0
    noop: int = 0
    changes: int = 0
    killed: int = 0
    unchanged: int = 0
    accepted: int = 0
    survivors: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    seconds: float = 0.0
    scope: str = "all"

    @property
    def kill_rate(self) -> float:
        return self.killed / self.changes if self.changes else 1.0

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "parameters": self.parameters, "scope": self.scope,
                "mutants": self.mutants, "noop_sign_flips_of_zero": self.noop,
                "change_some_valid_view": self.changes, "rejected": self.killed,
                "kill_rate": self.kill_rate, "change_nothing_reachable": self.unchanged,
                "accepted": self.accepted, "survivors": self.survivors,
                "uncertain": self.uncertain,
                "seconds": round(self.seconds, 1)}


def sweep(sub: Subject, todo: Sequence[Mutant], scope: str = "all",
          progress: Callable[[int], None] | None = None) -> SweepReport:
    """Ground truth and certificate for every mutant of ``todo``."""
    start = time.perf_counter()
    cert = MutationCertifier(sub)
    rep = SweepReport(sub.name, sum(a.size for a in sub.arrays.values()), scope=scope)
    for m in todo:
        rep.mutants += 1
        if m.noop:
            rep.noop += 1
        else:
            truth = ground_truth(sub, m)
            proven = all(p.proven for p in cert.certify(m))
            if truth["changes"]:
                rep.changes += 1
                rep.killed += not proven
                if proven:
                    rep.survivors.append(m.label())
            elif truth.get("uncertain"):
                rep.uncertain.append(m.label())
            else:
                rep.unchanged += 1
                rep.accepted += proven
        if progress is not None:
            progress(1)
    rep.seconds = time.perf_counter() - start
    return rep


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m proofs_check.mutation``: a mutation sweep, as JSON on stdout."""
    import argparse
    import json
    import sys

    p = argparse.ArgumentParser(prog="python -m proofs_check.mutation",
                                description="Single-weight mutation sweep of a compiled "
                                            "network: how many changes alter an output on "
                                            "some valid view, and whether the certificate "
                                            "rejects every one of them.")
    p.add_argument("--subject", choices=SUBJECTS, required=True)
    p.add_argument("--sample", type=int, help="a seeded stratified sample (default: all)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sub = subject(args.subject)
    every = list(mutants(sub.arrays))
    todo = every if args.sample is None else sample(every, args.sample, args.seed)
    scope = f"all {len(every)}" if args.sample is None else f"sample {len(todo)} of {len(every)}"
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"mutants of {args.subject}", file=sys.stderr)
    rep = sweep(sub, todo, scope, progress=bar.update if bar is not None else None)
    if bar is not None:
        bar.close()
    print(json.dumps(rep.to_json()))
    return 0 if rep.kill_rate == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Corollary 2 on a real network: random restarts over a finite weight set, validation
selection, exact test.

The other Corollary 2 checks (:mod:`proofs_check.pao`) verify the arithmetic symbolically and
simulate the procedure with Theorem 1's success probability ``q`` as a parameter. This one draws
real weights.

Setting (the smallest one where the search can succeed).

* Architecture: the shared RCNN patch network of :mod:`constructions.rcnn`,
  ``A3 relu(A2 relu(A1 x + b1) + b2) + b3``, with hidden widths 1 and 1, reading only the
  middle row (left, centre, right) of each 3x3 patch (the other six ``A1`` entries are fixed to
  0; on a one-row grid they only ever see the padding 0 and would change nothing). Free weights:
  ``A1`` (3), ``b1``, ``A2``, ``b2``, ``A3``, ``b3``: ``P = 8``, each drawn uniformly from
  ``U = {-1, 0, 1}``, so ``|U|^P = 6561`` weight vectors.
* Task: one step of elementary cellular automaton rule 238 (new cell = centre OR right
  neighbour) on a row of ``w = 8`` cells with 0 padding. The finite domain is all ``2^8 = 256``
  rows; an example's loss is 1 unless the network's output row equals the rule's row exactly.
  Hand construction in ``U^P``: ``1 - relu(1 - relu(c + r))`` (:data:`CONSTRUCTION`).
* Exact ``q``: every one of the 6561 weight vectors is run (exact integer arithmetic) on the 8
  local patterns; a vector is exactly correct on the whole domain iff it is correct on all 8
  patterns (each occurs in some row). Rule 238 has 3 correct vectors: ``q = 3/6561 = 1/2187``,
  against the paper-style bound ``q >= |U|^{-P} = 1/6561``.
* Procedure (Corollary 2): ``R`` restarts, each weight drawn uniformly from ``U``; a validation
  set of ``n = ceil(2 ln(4R/delta)/eps^2)`` rows drawn uniformly from the domain; keep the
  restart with the smallest validation error (first one on ties); report its error on the whole
  domain. ``R`` is ``ceil(ln(2/delta)/q)`` with either the exact ``q`` (``R_q``) or the
  paper-style bound ``|U|^{-P}`` (``R_bound = ceil(|U|^P ln(2/delta))``, the analogue of
  ``s^{c s} ln(2/delta)``). Repeated over many seeded trials.

Scoring. The network's output at a cell is a function of the cell's patch, so a weight vector's
output row on any input is its outputs on the (at most 8) patterns the row contains. The trials
score candidates through that table (the real network evaluated once per weight vector and
pattern); the check also runs the real :class:`constructions.rcnn.RCNN` layer (torch, float64)
on the actual validation rows for a sample of drawn candidates and requires identical
validation error counts.

What it shows: the restart and validation arithmetic of Corollary 2 works on a real network
whose per-draw success probability is known exactly: the measured success matches
``1 - (1 - q)^R`` at every ``R`` tried and is at least ``1 - delta`` at the corollary's ``R``.
What it does not show: anything about Theorem 1's ``q >= s^{-c s}`` for real learners or
machines. For the compiled bb4 network (1,317 shared weights, ``|U_s| = 31``) a uniform draw is
the construction with probability ``31^{-1317} ~ 10^{-1964}``; no search of this kind can be run
there.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from proofs_check.pao import validation_size
from proofs_check.registry import Result, check

U = (-1, 0, 1)
RULE = 238
WIDTH = 8
HIDDEN = (1, 1)
READ = (3, 4, 5)  # middle row of the row-major 3x3 patch: left, centre, right
DELTA = Fraction(1, 10)
EPS = Fraction(1, 10)
ALPHA = 1e-4  # two-sided level of each Clopper-Pearson interval
CROSSCHECK_ROWS = 500
CONSTRUCTION = (0, 1, 1, 0, -1, 1, -1, 1)
"""``A1 = (0, 1, 1)``, ``b1 = 0``, ``A2 = -1``, ``b2 = 1``, ``A3 = -1``, ``b3 = 1``:
``1 - relu(1 - relu(c + r))`` is ``c OR r`` on 0/1 cells."""

N_PATTERNS = 8  # (l, c, r) in {0,1}^3, index 4l + 2c + r (Wolfram's bit order)
_PATTERNS = np.array(list(itertools.product((0, 1), repeat=3)), dtype=np.int64)
_HIT = (np.arange(256)[:, None] & np.arange(256)[None, :]) != 0  # [wrong mask, presence mask]


# --------------------------------------------------------------------------- the network
def n_free(h1: int, h2: int) -> int:
    """Free weights of the patch network reading 3 positions: ``A1, b1, A2, b2, A3, b3``."""
    return 3 * h1 + h1 + h1 * h2 + h2 + h2 + 1


def unpack(w: np.ndarray, h1: int, h2: int) -> dict[str, np.ndarray]:
    """Split weight vectors ``w`` of shape (N, P) into the batched arrays ``A1 .. b3``."""
    w = np.asarray(w)
    sizes = {"A1": 3 * h1, "b1": h1, "A2": h1 * h2, "b2": h2, "A3": h2, "b3": 1}
    shapes = {"A1": (h1, 3), "b1": (h1,), "A2": (h2, h1), "b2": (h2,), "A3": (h2,), "b3": ()}
    out, i = {}, 0
    for name, size in sizes.items():
        out[name] = w[:, i:i + size].reshape((w.shape[0], *shapes[name]))
        i += size
    return out


def pattern_outputs(w: np.ndarray, h1: int, h2: int) -> np.ndarray:
    """The patch network of every weight vector in ``w`` (N, P) on the 8 patterns, in exact
    integer arithmetic: (N, 8)."""
    a = unpack(np.asarray(w, dtype=np.int64), h1, h2)
    x = _PATTERNS
    g1 = np.maximum(np.einsum("nhk,pk->nph", a["A1"], x) + a["b1"][:, None, :], 0)
    g2 = np.maximum(np.einsum("ngh,nph->npg", a["A2"], g1) + a["b2"][:, None, :], 0)
    return np.einsum("ng,npg->np", a["A3"], g2) + a["b3"][:, None]


def rule_table(rule: int) -> np.ndarray:
    """Elementary CA ``rule``: output on pattern index ``4l + 2c + r``."""
    return np.array([(rule >> p) & 1 for p in range(N_PATTERNS)], dtype=np.int64)


def all_weights(h1: int, h2: int, values: tuple[int, ...] = U) -> np.ndarray:
    """Every vector of ``values^P``, shape (|U|^P, P), in base-|U| order."""
    return np.array(list(itertools.product(values, repeat=n_free(h1, h2))), dtype=np.int64)


def wrong_masks(outputs: np.ndarray, rule: int) -> np.ndarray:
    """Bit ``p`` set iff a weight vector's output on pattern ``p`` differs from the rule."""
    wrong = outputs != rule_table(rule)[None, :]
    return (wrong * (1 << np.arange(N_PATTERNS))[None, :]).sum(axis=1)


def exact_count(rule: int, h1: int, h2: int, values: tuple[int, ...] = U) -> tuple[int, int]:
    """(number of weight vectors exactly correct on all 8 patterns, |U|^P), by enumeration."""
    masks = wrong_masks(pattern_outputs(all_weights(h1, h2, values), h1, h2), rule)
    return int(np.sum(masks == 0)), len(masks)


# --------------------------------------------------------------------------- the domain
def presence_masks(rows: np.ndarray) -> np.ndarray:
    """Bit ``p`` set iff pattern ``p`` occurs as some cell's (left, centre, right) in a row of
    ``rows`` (n, w) with 0 padding."""
    rows = np.asarray(rows, dtype=np.int64)
    pad = np.pad(rows, ((0, 0), (1, 1)))
    idx = 4 * pad[:, :-2] + 2 * pad[:, 1:-1] + pad[:, 2:]
    return np.bitwise_or.reduce(np.left_shift(1, idx), axis=1)


def domain(width: int = WIDTH) -> np.ndarray:
    """All ``2^width`` rows."""
    return np.array(list(itertools.product((0, 1), repeat=width)), dtype=np.int64)


def error_counts(presence: np.ndarray) -> np.ndarray:
    """For every wrong-pattern mask ``m``: how many of the rows (given by their presence masks)
    contain a wrong pattern, i.e. get a wrong output row. Shape (256,)."""
    hist = np.bincount(presence, minlength=256)
    return _HIT @ hist


# --------------------------------------------------------------------------- Corollary 2
def corollary_restarts(q_lower: Fraction, delta: Fraction) -> int:
    """``R = ceil(ln(2/delta) / q_lower)``: all restarts fail w.p. ``(1-q)^R <= delta/2``."""
    with mpmath.workdps(50):
        val = mpmath.log(2 / mpmath.mpf(delta.numerator) * delta.denominator)
        return int(mpmath.ceil(val * q_lower.denominator / q_lower.numerator))


def corollary_validation(R: int, eps: Fraction, delta: Fraction) -> int:
    """``n = ceil(2 ln(4R/delta)/eps^2)`` (:func:`proofs_check.pao.validation_size`)."""
    return validation_size(R, eps, delta)


def draw_restarts(rng: np.random.Generator, R: int, P: int) -> np.ndarray:
    """``R`` weight vectors drawn uniformly from ``U^P``, as indices into :func:`all_weights`.

    A uniform index into ``U^P`` is the same distribution as ``P`` independent uniform weights
    (its base-``|U|`` digits); drawing the index is just faster."""
    return rng.integers(0, len(U) ** P, size=R)


def score(masks: np.ndarray, presence: np.ndarray) -> np.ndarray:
    """Validation errors (counts) of candidates given by their wrong masks."""
    return error_counts(presence)[masks]


def select(scores: np.ndarray) -> int:
    """The validation minimiser (first on ties)."""
    return int(np.argmin(scores))


class Instance:
    """The tiny instance: every weight vector's wrong mask and exact test error."""

    def __init__(self, rule: int = RULE, hidden: tuple[int, int] = HIDDEN,
                 width: int = WIDTH) -> None:
        self.rule, self.hidden, self.width = rule, hidden, width
        self.P = n_free(*hidden)
        self.weights = all_weights(*hidden)
        self.masks = wrong_masks(pattern_outputs(self.weights, *hidden), rule)
        self.correct = int(np.sum(self.masks == 0))
        self.N = len(self.masks)
        self.q = Fraction(self.correct, self.N)
        self.domain = domain(width)
        self.presence = presence_masks(self.domain)  # row number -> patterns it contains
        self.test_err = error_counts(self.presence) / len(self.domain)
        wrong = self.masks[self.masks != 0]
        self.min_wrong_err = float(self.test_err[wrong].min()) if len(wrong) else 1.0

    def trial(self, rng: np.random.Generator, R: int, n: int) -> tuple[int, float]:
        """One run of the procedure: (index of the kept weights, its error on the domain)."""
        idx = draw_restarts(rng, R, self.P)
        rows = rng.integers(0, len(self.domain), size=n)  # uniform rows, by number
        kept = idx[select(score(self.masks[idx], self.presence[rows]))]
        return int(kept), float(self.test_err[self.masks[kept]])


def run_trials(inst: Instance, R: int, n: int, trials: int, seed: int,
               eps: float = float(EPS)) -> dict[str, Any]:
    """``trials`` seeded runs at ``R`` restarts and validation size ``n``."""
    rng = np.random.default_rng([seed, R, n])
    exact = within = 0
    for _ in range(trials):
        _, err = inst.trial(rng, R, n)
        exact += err == 0.0
        within += err <= eps
    return {"R": R, "n": n, "trials": trials, "exact": exact, "within_eps": within}


def _binom_sf(k: int, n: int, p: float, logc: np.ndarray) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, ``0 < p < 1``, via log-space terms."""
    j = np.arange(k, n + 1)
    logs = logc[k:] + j * math.log(p) + (n - j) * math.log1p(-p)
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.exp(logs - top).sum()))


def clopper_pearson(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Exact two-sided ``1 - alpha`` (Clopper-Pearson) binomial interval for ``k`` of ``n``:
    the ``p`` with ``P_p(X >= k) = alpha/2`` and with ``P_p(X <= k) = alpha/2``, by bisection."""
    j = np.arange(1, n + 1)
    logc = np.concatenate([[0.0], np.cumsum(np.log(n - j + 1) - np.log(j))])

    def solve(f) -> float:  # f increasing in p, root in (0, 1)
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if k == 0 else solve(lambda p: _binom_sf(k, n, p, logc) - alpha / 2)
    upper = 1.0 if k == n else solve(
        lambda p: alpha / 2 - (1.0 - _binom_sf(k + 1, n, p, logc)))
    return lower, upper


def predicted(inst: Instance, R: int, n: int) -> tuple[float, float]:
    """Bounds on P(kept weights exactly correct): at most ``1 - (1-q)^R`` (some restart must be
    correct); at least that minus ``R (1 - e_min)^n``, a union bound on a wrong restart
    scoring 0 on the validation set and being kept before a correct one."""
    hi = 1.0 - (1.0 - float(inst.q)) ** R
    tie = R * (1.0 - inst.min_wrong_err) ** n if n > 0 else float(R > 1)
    return max(0.0, hi - tie), hi


def rcnn_for(w: np.ndarray, hidden: tuple[int, int] = HIDDEN):
    """The real :class:`constructions.rcnn.RCNN` (float64, padding 0, one layer) whose patch
    network has the free weights ``w`` (A1 columns outside :data:`READ` are 0)."""
    from constructions.patchnet import PatchNetwork, PixelHead
    from constructions.rcnn import RCNN

    h1, h2 = hidden
    a = unpack(np.asarray(w, dtype=np.int64)[None, :], h1, h2)

    def frac(x: np.ndarray) -> np.ndarray:
        return np.vectorize(Fraction, otypes=[object])(np.asarray(x, dtype=object))

    A1 = np.zeros((h1, 9), dtype=np.int64)
    A1[:, list(READ)] = a["A1"][0]
    net = PatchNetwork(A1=frac(A1), b1=frac(a["b1"][0]), A2=frac(a["A2"][0]),
                       b2=frac(a["b2"][0]), A3=frac(a["A3"][0].reshape(1, h2)),
                       b3=frac(np.array([a["b3"][0]])),
                       units1=tuple(f"h1_{i}" for i in range(h1)),
                       units2=tuple(f"h2_{i}" for i in range(h2)))
    one = frac(np.ones((1, 1), dtype=np.int64))
    zero = frac(np.zeros(1, dtype=np.int64))
    head = PixelHead(U2=one, c2=zero, U1=one, c1=zero)
    return RCNN(net, head, layers=1, padding=0.0)


def direct_errors(w: np.ndarray, rows: np.ndarray, rule: int = RULE) -> int:
    """Validation error count of weights ``w`` by running the real RCNN layer on ``rows``."""
    import torch

    model = rcnn_for(w)
    with torch.no_grad():
        out = model.layer(torch.tensor(rows, dtype=torch.float64).unsqueeze(1))[:, 0, :]
    pad = np.pad(np.asarray(rows, dtype=np.int64), ((0, 0), (1, 1)))
    target = (rule >> (4 * pad[:, :-2] + 2 * pad[:, 1:-1] + pad[:, 2:])) & 1
    return int(np.sum(np.any(out.numpy() != target, axis=1)))


def bb4_scale() -> dict[str, Any]:
    """``|U_s|`` and the shared parameter count of the compiled bb4 network, and the paper-style
    per-draw probability ``|U_s|^{-P}`` that a uniform draw is the construction."""
    from constructions.tm import compile_tm
    from simulators.formats import builtin_machines

    ctm = compile_tm(builtin_machines()["bb4"])
    size, P = len(ctm.weight_set), ctm.n_shared_parameters
    log10_q = -P * math.log10(size)
    return {"weight_set_size": size, "shared_parameters": P,
            "log10_paper_q": round(log10_q, 1),
            "log10_restarts_for_delta": round(-log10_q + math.log10(math.log(2 / float(DELTA))),
                                              1)}


def sweep_values(R_q: int, R_bound: int) -> list[int]:
    """The restart counts tried: a log grid plus the corollary's two values."""
    grid = [1, 10, 100, 300, 1000, 3000]
    return sorted(set(grid + [R_q, R_bound]))


def _params(mode: str) -> dict[str, Any]:
    return {"rule": RULE, "width": WIDTH, "hidden": list(HIDDEN), "U": list(U),
            "delta": str(DELTA), "eps": str(EPS), "alpha": ALPHA,
            "trials": 4000 if mode == "quick" else 40000,
            "rcnn_crosscheck_candidates": 20 if mode == "quick" else 200}


@check("cor2-random-restarts",
       "Corollary 2 on a real network: uniform restarts over a finite weight set U, "
       "validation selection",
       "statistical",
       "restarts over U^P on a tiny patch network (ECA rule 238): exact q, measured success "
       "vs 1-(1-q)^R and 1-delta",
       params=_params)
def cor2_random_restarts(mode: str, seed: int) -> Result:
    """See the module docstring. Passes iff: the hand construction is correct and ``q`` is the
    exhaustive count (``q >= |U|^{-P}``); the lookup scoring equals the real RCNN's validation
    errors on sampled candidates; at every ``R`` the Clopper-Pearson interval of the measured
    exact-success rate meets the predicted band ``[1-(1-q)^R - R(1-e_min)^n, 1-(1-q)^R]`` and
    the union-bound slack is at most ``delta/100`` at the corollary's ``R``; at ``R_q`` and
    ``R_bound`` the measured failure rate is not significantly above ``delta``."""
    p = _params(mode)
    trials = p["trials"]
    inst = Instance()
    ev: dict[str, Any] = {
        "setting": f"ECA rule {RULE} on rows of {WIDTH} cells (0 padding); patch network "
                   f"{HIDDEN[0]}-{HIDDEN[1]} hidden units reading (left, centre, right); "
                   f"weights uniform on U={{-1,0,1}}",
        "P": inst.P, "U_size": len(U), "U^P": inst.N, "correct_vectors": inst.correct,
        "q_exact": float(inst.q), "q_exact_fraction": str(inst.q),
        "paper_style_q_bound": 1.0 / inst.N, "q_over_bound": float(inst.q * inst.N),
        "min_test_error_of_a_wrong_vector": inst.min_wrong_err,
        "domain_size": len(inst.domain),
    }
    k_cons = int(np.flatnonzero((inst.weights == np.array(CONSTRUCTION)).all(axis=1))[0])
    ok = bool(inst.masks[k_cons] == 0) and inst.correct >= 1
    ev["construction_correct"] = bool(inst.masks[k_cons] == 0)

    R_q = corollary_restarts(inst.q, DELTA)
    R_bound = corollary_restarts(Fraction(1, inst.N), DELTA)
    ev["R_q"], ev["R_bound"] = R_q, R_bound

    # the lookup scoring is the real network's scoring
    rng = np.random.default_rng([seed, 1])
    n0 = CROSSCHECK_ROWS
    rows = rng.integers(0, 2, size=(n0, WIDTH))
    sample = list(draw_restarts(rng, p["rcnn_crosscheck_candidates"], inst.P))
    sample += [k_cons, int(np.flatnonzero(inst.masks != 0)[0])]
    lookup = score(inst.masks[np.array(sample)], presence_masks(rows))
    direct = [direct_errors(inst.weights[k], rows) for k in sample]
    agree = all(int(a) == b for a, b in zip(lookup, direct))
    ev["rcnn_crosscheck"] = {"candidates": len(sample), "validation_rows": n0,
                             "identical_error_counts": agree}
    ok &= agree

    table = []
    for R in sweep_values(R_q, R_bound):
        n = corollary_validation(R, EPS, DELTA)
        res = run_trials(inst, R, n, trials, seed)
        lo, hi = clopper_pearson(res["exact"], trials)
        p_lo, p_hi = predicted(inst, R, n)
        consistent = lo <= p_hi and hi >= p_lo
        row = {"R": R, "n": n, "success_exact": res["exact"] / trials,
               "success_within_eps": res["within_eps"] / trials,
               "ci_low": lo, "ci_high": hi, "predicted_1-(1-q)^R": p_hi,
               "predicted_low": p_lo, "consistent": consistent}
        if R in (R_q, R_bound):
            f_lo, _ = clopper_pearson(trials - res["within_eps"], trials)
            row["failure_ci_low"] = f_lo
            row["meets_1-delta"] = f_lo <= float(DELTA)
            ok &= row["meets_1-delta"] and p_hi - p_lo <= float(DELTA) / 100
        ok &= consistent
        table.append(row)
    ev["table"] = table
    ev["bb4"] = bb4_scale()
    ev["scope"] = ("checks Corollary 2's restart and validation arithmetic on a real 8-weight "
                   "patch network with q counted exactly; it says nothing about Theorem 1's "
                   "q >= s^{-cs} for s-state machines, where |U_s|^{-P} is astronomically "
                   "small (bb4: see 'bb4')")
    at_q = next(r for r in table if r["R"] == R_q)
    return Result(bool(ok), ev,
                  f"q={inst.q} (bound 1/{inst.N}); R_q={R_q}: success "
                  f"{at_q['success_exact']:.3f} vs 1-(1-q)^R={at_q['predicted_1-(1-q)^R']:.3f} "
                  f">= 1-delta={float(1 - DELTA):.1f}")

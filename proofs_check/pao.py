"""Checks of the PAO bookkeeping: Observation 1 (the choice of ``r``) and Corollary 2 (restarts
plus validation).

These checks verify the *arithmetic of the reductions* stated in the paper, not the
probabilistic content of Theorem 1 (that a single run of Algorithm 1 succeeds with probability
at least ``s^{-c s}``): that probability is taken as a hypothesis ``q``.

Observation 1 (our derivation). Let ``r = 2^{floor(-(1/(3k)) log2 M)}`` for an integer ``M >= 1``.
Writing ``j = -log2 r`` we have ``j = ceil(log2(M) / (3k))``, hence

* ``r`` is a power of two and ``r <= 1``;
* ``r <= M^{-1/(3k)}`` (so ``r -> 0`` as ``M -> oo``) and ``r^{-3k} < 2^{3k} M``;
* ``(dm / (r r))^k = (dm)^k r^{-2k} < (dm)^k (2^{3k} M)^{2/3} <= M`` whenever
  ``M >= (4dm)^{3k} = 2^{6k} (dm)^{3k}``;
* if moreover ``M >= (1/eps)^{3k}`` and ``M >= (1/delta)^{3k}`` then ``r <= min(eps, delta)``.

So with ``p(d, m, 1/eps, 1/delta) = (4dm / (eps delta))^{3k}`` (a polynomial; it dominates the
three thresholds when ``eps, delta <= 1``), any ``M >= p`` gives an ``(r, r)``-PAO guarantee whose
data requirement ``M >= (dm / r^2)^k`` holds, and that guarantee is at least as strong as the
``(eps, delta)`` one. The naive threshold ``M >= (dm)^{3k}`` is *not* enough (``d = m = k = 1``,
``M = 2`` gives ``r = 1/2`` and ``(dm / r^2)^k = 4 > 2``); the factor ``2^{6k}`` is needed because
of the floor.

Corollary 2 (our instantiation of the constants). With per-run success probability
``q >= s^{-c s}`` and failure budget ``delta`` split as ``delta/2 + delta/2``:

* ``R = ceil(s^{c s} ln(2/delta))`` independent restarts all fail with probability
  ``(1 - q)^R <= exp(-q R) <= delta/2``;
* a validation set of ``n = ceil(2 ln(4R/delta) / eps^2)`` i.i.d. examples gives, by Hoeffding and
  a union bound over the ``R`` candidates, ``|err_hat - err| <= eps/2`` for all of them with
  probability ``>= 1 - 2R exp(-2 n (eps/2)^2) >= 1 - delta/2``; then the validation minimiser
  ``h_hat`` satisfies ``err(h_hat) <= min_i err(h_i) + eps``;
* ``n = O(s log s log(1/delta) / eps^2)`` for ``s >= 2``, ``delta <= 1/2``, ``eps <= 1``, with the
  explicit constant :func:`validation_ratio_bound`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from proofs_check.registry import Result, check

# --------------------------------------------------------------------------- Observation 1


def ceil_log2(M: int) -> int:
    """``ceil(log2 M)`` for an integer ``M >= 1``, exactly."""
    if M < 1:
        raise ValueError("M must be >= 1")
    return (M - 1).bit_length()


def choose_r(M: int, k: int) -> Fraction:
    """Observation 1's ``r = 2^{floor(-(1/(3k)) log2 M)}``, exactly.

    ``floor(-x) = -ceil(x)`` and ``ceil(ceil(y) / n) = ceil(y / n)`` for integer ``n``, so the
    exponent is ``-ceil(ceil_log2(M) / (3k))``.
    """
    j = -(-ceil_log2(M) // (3 * k))
    return Fraction(1, 2**j)


def obs1_threshold(d: int, m: int, k: int) -> int:
    """The sufficient data size ``(4dm)^{3k}`` for ``M >= (dm / r^2)^k``."""
    return (4 * d * m) ** (3 * k)


def _inv_pow2(r: Fraction) -> int | None:
    """``1/r`` if ``r`` is ``1/2^j`` with ``j >= 0``, else ``None``."""
    if r.numerator != 1 or r.denominator & (r.denominator - 1):
        return None
    return r.denominator


def _obs1_point(d: int, m: int, k: int, M: int) -> dict[str, bool]:
    """Exact integer checks of Observation 1's inequalities at one point."""
    r = choose_r(M, k)
    inv = _inv_pow2(r)
    if inv is None:
        return {"power_of_two_le_1": False}
    return {
        "power_of_two_le_1": True,
        "requirement": (d * m) ** k * inv ** (2 * k) <= M,  # M >= (dm / r^2)^k
        "r_le_M_pow": inv ** (3 * k) >= M,  # r <= M^{-1/(3k)}
        "r_pow_lt": inv ** (3 * k) < 2 ** (3 * k) * M,  # r^{-3k} < 2^{3k} M
    }


def _obs1_symbolic() -> dict[str, bool]:
    """The log2-domain argument, verified by sympy (``t = log2 M``, ``u = log2(dm)``,
    ``a = log2(1/eps)``, ``b = log2(1/delta)``, ``j = -log2 r``)."""
    t, u, a, b = sp.symbols("t u a b", nonnegative=True)
    k = sp.symbols("k", positive=True)
    j = sp.symbols("j", real=True)
    gap = t - (k * u + 2 * k * j)  # log2 M - log2 (dm / r^2)^k
    j_max = t / (3 * k) + 1  # j < j_max since j = ceil(t / 3k)
    out = {}
    out["gap_decreasing_in_j"] = bool(sp.diff(gap, j).is_negative)
    out["gap_at_j_max_is_(t-3ku-6k)/3"] = sp.simplify(
        gap.subs(j, j_max) - (t - 3 * k * u - 6 * k) / 3) == 0
    # Threshold t >= 3k(u + 2) i.e. M >= (4dm)^{3k}: then gap(j_max) >= 0.
    s_ = sp.symbols("s_", nonnegative=True)  # slack: t = 3k(u + 2) + s_
    out["gap_nonneg_above_threshold"] = bool(
        sp.expand(gap.subs(j, j_max).subs(t, 3 * k * (u + 2) + s_)).is_nonnegative)
    # r <= min(eps, delta): -j <= -t/(3k) <= -a when t >= 3k a.
    out["r_le_eps_above_threshold"] = bool(
        sp.expand((t / (3 * k) - a).subs(t, 3 * k * a + s_)).is_nonnegative)
    # p = (4dm / (eps delta))^{3k} dominates each threshold (log2 domain).
    logp = 3 * k * (2 + u + a + b)
    out["p_dominates_thresholds"] = all(
        bool(sp.expand(logp - other).is_nonnegative)
        for other in (3 * k * (2 + u), 3 * k * a, 3 * k * b))
    M_, kk = sp.symbols("M k", positive=True)
    out["r_bound_to_0"] = sp.limit(M_ ** (-1 / (3 * kk)), M_, sp.oo) == 0
    return out


@check("obs1-choice-of-r",
       "Observation 1 (choice of r): eps = delta = r = 2^floor(-(1/(3k)) log M) turns an "
       "(eps,delta)-PAO learner with M >= (dm/(eps delta))^k into a PAO learner",
       "symbolic",
       "r power of two <= 1; M >= (4dm/(eps delta))^{3k} => M >= (dm/r^2)^k, "
       "r <= min(eps,delta)",
       params=lambda mode: {"d": [1, 2, 3, 10, 100, 1000], "m": [1, 2, 5, 100],
                            "k": [1, 2, 3, 5] if mode == "quick" else [1, 2, 3, 5, 8],
                            "eps_delta": "1, 1/2, 1/4, 1/64, 1/1024",
                            "scan_up_to": 300_000})
def obs1_choice_of_r(mode: str, seed: int) -> Result:
    """Observation 1, with the inequality made exact (see the module docstring).

    Verified: (i) sympy, log2 domain: ``log2 M - k log2(dm/r^2) >= 0`` once
    ``log2 M >= 3k(log2(dm) + 2)``, ``r <= eps`` once ``log2 M >= 3k log2(1/eps)``, the polynomial
    ``(4dm/(eps delta))^{3k}`` dominates both, ``M^{-1/(3k)} -> 0``; (ii) ``choose_r`` equals
    sympy's ``2**floor(-log(M, 2)/(3k))`` for small ``M, k``; (iii) exact integer arithmetic on a
    grid of ``(d, m, k, M)`` including ``M`` at the threshold, one above it, and at and next to
    every power-of-two boundary ``2^{3kj}`` where ``r`` jumps; (iv) an exhaustive scan for small
    ``dm, k`` of every ``M`` up to twice the threshold, reporting the last failing ``M``.
    """
    ks = [1, 2, 3, 5] if mode == "quick" else [1, 2, 3, 5, 8]
    evidence: dict = {"verified_inequalities": [
        "r = 2^-j with j = ceil(log2(M)/(3k)) >= 0 (power of two, r <= 1)",
        "M^{-1/(3k)} >= r > (2^{3k} M)^{-1/(3k)}",
        "M >= (4dm)^{3k}  =>  (dm / r^2)^k <= M",
        "M >= (1/eps)^{3k} and M >= (1/delta)^{3k}  =>  r <= min(eps, delta)",
        "hence p(d,m,1/eps,1/delta) = (4dm/(eps delta))^{3k} is a valid PAO data polynomial",
    ]}
    sym = _obs1_symbolic()
    evidence["symbolic"] = sym
    ok = all(sym.values())

    # (ii) agreement with sympy's literal formula
    mismatches = []
    for k in (1, 2, 3):
        for M in range(1, 130):
            lit = sp.Integer(2) ** sp.floor(-sp.log(M, 2) / (3 * k))
            if sp.Rational(lit) != sp.Rational(choose_r(M, k).numerator,
                                               choose_r(M, k).denominator):
                mismatches.append([M, k])
    evidence["sympy_formula_mismatches"] = mismatches[:10]
    ok &= not mismatches

    # (iii) the grid
    n_points, failures = 0, []
    for d in (1, 2, 3, 10, 100, 1000):
        for m in (1, 2, 5, 100):
            for k in ks:
                T = obs1_threshold(d, m, k)
                Ms = {T, T + 1, 2 * T, T * T}
                j0 = -(-ceil_log2(T) // (3 * k))
                for j in range(j0, j0 + 3):
                    Ms |= {2 ** (3 * k * j) + e for e in (-1, 0, 1)}
                for inv_e in (1, 2, 4, 64, 1024):
                    for inv_d in (1, 2, 4, 64, 1024):
                        P = (4 * d * m * inv_e * inv_d) ** (3 * k)
                        for M in (P, P + 1, 2 * P):
                            res = _obs1_point(d, m, k, M)
                            r = choose_r(M, k)
                            res["r_le_min_eps_delta"] = r <= Fraction(1, max(inv_e, inv_d))
                            n_points += 1
                            if not all(res.values()):
                                failures.append({"d": d, "m": m, "k": k, "M": str(M), **res})
                for M in sorted(Ms):
                    if M < T:
                        continue
                    res = _obs1_point(d, m, k, M)
                    n_points += 1
                    if not all(res.values()):
                        failures.append({"d": d, "m": m, "k": k, "M": str(M), **res})
    evidence["grid_points"] = n_points
    evidence["grid_failures"] = failures[:5]
    ok &= not failures

    # (iv) exhaustive scan for small (dm, k): every M in [1, 2T]
    scan = []
    for dm, k in ((1, 1), (2, 1), (3, 1), (4, 1), (6, 1), (1, 2), (2, 2)):
        T = obs1_threshold(dm, 1, k)
        if 2 * T > 600_000:
            continue
        last_fail = 0
        bad_above = 0
        for M in range(1, 2 * T + 1):
            r_inv = choose_r(M, k).denominator
            holds = dm**k * r_inv ** (2 * k) <= M
            if not holds:
                last_fail = M
                if M >= T:
                    bad_above += 1
        scan.append({"dm": dm, "k": k, "threshold_(4dm)^3k": T,
                     "naive_(dm)^3k": dm ** (3 * k), "last_failing_M": last_fail,
                     "failures_at_or_above_threshold": bad_above})
        ok &= bad_above == 0
    evidence["exhaustive_scan"] = scan
    evidence["naive_threshold_counterexample"] = {
        "d": 1, "m": 1, "k": 1, "M": 2, "r": str(choose_r(2, 1)),
        "(dm/r^2)^k": str(Fraction(1) / choose_r(2, 1) ** 2),
        "note": "M >= (dm)^{3k} alone does not imply M >= (dm/r^2)^k"}
    return Result(bool(ok), evidence,
                  f"{n_points} exact grid points, {len(failures)} failures; "
                  f"M >= (4dm)^3k suffices")


# --------------------------------------------------------------------------- Corollary 2


def restart_count(s: int, c: int, delta: Fraction) -> int:
    """``R = ceil(s^{c s} ln(2/delta))``: enough restarts that all fail w.p. ``<= delta/2`` when
    each succeeds independently with probability ``q >= s^{-c s}``."""
    with mpmath.workdps(60):
        return int(mpmath.ceil(mpmath.mpf(s) ** (c * s) * mpmath.log(2 / _mp(delta))))


def validation_size(R: int, eps: Fraction, delta: Fraction) -> int:
    """``n = ceil(2 ln(4R/delta) / eps^2)``: Hoeffding + union bound over ``R`` candidates at
    accuracy ``eps/2`` and failure ``delta/2``."""
    with mpmath.workdps(60):
        e = _mp(eps)
        return int(mpmath.ceil(2 * mpmath.log(4 * R / _mp(delta)) / e**2))


def validation_ratio_bound(c: float) -> float:
    """An explicit ``C(c)`` with ``validation_size(restart_count(s,c,delta), eps, delta) <=
    C(c) * s ln s ln(1/delta) / eps^2`` for ``s >= 2``, ``delta <= 1/2``, ``eps <= 1``.

    From ``R <= 2 s^{cs} ln(2/delta)``, ``ln(2/delta) <= 2 ln(1/delta)``, ``ln L / L <= 1/e``,
    ``s ln s >= 2 ln 2``, ``L = ln(1/delta) >= ln 2``."""
    ln2 = math.log(2)
    return (math.log(16) / ln2**2 + 2 * c / ln2 + 1 / (math.e * ln2) + 1 / ln2
            + 1 / (2 * ln2**2))


def _mp(x: Fraction | int) -> mpmath.mpf:
    """An exact rational as an mpmath number at the current precision."""
    x = Fraction(x)
    return mpmath.mpf(x.numerator) / x.denominator


def _restarts_fail_exact(D: int, R: int, delta: Fraction) -> bool:
    """``(1 - 1/D)^R <= delta/2`` in exact integer arithmetic."""
    return (D - 1) ** R * 2 * delta.denominator <= delta.numerator * D**R


def _restarts_fail_mp(D: int, R: int, delta: Fraction) -> bool:
    """``R ln(1 - 1/D) <= ln(delta/2)`` at 80 digits (for ``R`` too large to power exactly)."""
    with mpmath.workdps(80):
        return R * mpmath.log1p(-1 / mpmath.mpf(D)) <= mpmath.log(_mp(delta) / 2)


def _cor2_symbolic() -> dict[str, bool]:
    q, x, L, eps = sp.symbols("q x L epsilon", positive=True)
    s, c = sp.symbols("s c", positive=True)
    out = {}
    # 1 - q <= exp(-q): g(q) = exp(-q) - 1 + q has g(0) = 0 and g'(q) = 1 - exp(-q) >= 0.
    g = sp.exp(-q) - 1 + q
    out["g(0)=0"] = g.subs(q, 0) == 0
    qr = sp.symbols("q", real=True)
    out["g'(q)=1-exp(-q)>0 for q>0"] = sp.simplify(sp.diff(g, q) - (1 - sp.exp(-q))) == 0 and (
        sp.solve_univariate_inequality(1 - sp.exp(-qr) > 0, qr, relational=False)
        == sp.Interval.open(0, sp.oo))
    # q R >= ln(2/delta) => exp(-qR) <= delta/2 (monotonicity of exp), R = s^{cs} ln(2/delta)
    # and q = s^{-cs}: q R = ln(2/delta).
    delta = sp.symbols("delta", positive=True)
    out["qR=ln(2/delta)"] = sp.simplify(
        s ** (-c * s) * s ** (c * s) * sp.log(2 / delta) - sp.log(2 / delta)) == 0
    # Hoeffding + union: with n = 2 ln(4R/delta)/eps^2, 2R exp(-2 n (eps/2)^2) = delta/2.
    R = sp.symbols("R", positive=True)
    n = 2 * sp.log(4 * R / delta) / eps**2
    out["2R exp(-2n(eps/2)^2) = delta/2"] = sp.simplify(
        2 * R * sp.exp(-2 * n * (eps / 2) ** 2) - delta / 2) == 0
    # O(s log s log(1/delta)/eps^2): with delta = e^{-L}, R = s^{cs} (ln 2 + L):
    n0 = 2 * (sp.log(4) + c * s * sp.log(s) + sp.log(sp.log(2) + L) + L) / eps**2
    n_direct = 2 * sp.log(4 * s ** (c * s) * (sp.log(2) + L) / sp.exp(-L)) / eps**2
    out["log expansion of n"] = sp.simplify(
        sp.expand_log(n_direct - n0, force=True)) == 0
    ratio = n0 * eps**2 / (s * sp.log(s) * L)
    out["limit s->oo finite (=2c/L)"] = sp.simplify(sp.limit(ratio, s, sp.oo) - 2 * c / L) == 0
    out["limit L->oo finite (=2/(s log s))"] = sp.simplify(
        sp.limit(ratio, L, sp.oo) - 2 / (s * sp.log(s))) == 0
    return out


@check("cor2-restart-formulas",
       "Corollary 2 formulas: s^{c1 s} log(1/delta) restarts, validation "
       "c2 s log s log(1/delta)/eps^2",
       "symbolic",
       "(1-q)^R <= delta/2; Hoeffding+union validation; n = O(s log s log(1/delta)/eps^2)",
       params=lambda mode: {"s": "2..12 (exact powers for s^{cs} <= 3125)", "c": [1, 2],
                            "delta": "1/2, 1/10, 1/1000, 2^-30", "eps": "1/2, 1/10, 1/100"})
def cor2_restart_formulas(mode: str, seed: int) -> Result:
    """Corollary 2's arithmetic (module docstring): with ``q = s^{-cs}``,
    ``R = restart_count(s, c, delta)``: ``(1 - q)^R <= delta/2`` (exact integers where feasible,
    80-digit logs otherwise); ``n = validation_size(R, eps, delta)`` satisfies
    ``2R exp(-2 n (eps/2)^2) <= delta/2``; the selection lemma ``|err_hat_i - err_i| <= eps/2 for
    all i => err(argmin err_hat) <= min err + eps`` on random and adversarial instances; and
    ``n / (s ln s ln(1/delta) / eps^2) <= C(c)`` on a grid up to ``s = 10^6``, ``delta = 2^-200``.
    Not shown: Theorem 1's success probability ``q`` itself (a hypothesis here)."""
    evidence: dict = {"scope": "checks the arithmetic of the reduction (restart count, "
                               "validation size, selection rule); it does NOT check Theorem 1's "
                               "per-run success probability q >= s^{-cs}, which is assumed"}
    sym = _cor2_symbolic()
    evidence["symbolic"] = sym
    ok = all(sym.values())

    deltas = [Fraction(1, 2), Fraction(1, 10), Fraction(1, 1000), Fraction(1, 2**30)]
    epss = [Fraction(1, 2), Fraction(1, 10), Fraction(1, 100)]
    rows, bad = [], []
    for c in (1, 2):
        for s in range(2, 13):
            D = s ** (c * s)
            for delta in deltas:
                R = restart_count(s, c, delta)
                exact = D <= 3125
                good_r = (_restarts_fail_exact(D, R, delta) if exact
                          else _restarts_fail_mp(D, R, delta))
                if not good_r:
                    bad.append({"s": s, "c": c, "delta": str(delta), "R": R, "what": "restarts"})
                for eps in epss:
                    n = validation_size(R, eps, delta)
                    with mpmath.workdps(80):
                        lhs = n * _mp(eps) ** 2 / 2
                        good_n = lhs >= mpmath.log(4 * R / _mp(delta))
                    if not good_n:
                        bad.append({"s": s, "c": c, "delta": str(delta), "eps": str(eps),
                                    "n": n, "what": "validation"})
                    if s in (2, 4, 8) and eps == Fraction(1, 10):
                        rows.append({"s": s, "c": c, "delta": str(delta), "R": str(R),
                                     "exact": exact, "n(eps=1/10)": n})
    evidence["table"] = rows
    evidence["failures"] = bad[:5]
    ok &= not bad

    # selection lemma: all deviations <= eps' => chosen within 2 eps' of best.
    rng = np.random.default_rng(seed)
    lemma_bad, worst_gap = 0, 0.0
    for _ in range(2000):
        R_ = int(rng.integers(1, 30))
        e = rng.random(R_)
        ep = float(rng.random() * 0.2)
        dev = rng.choice([-ep, ep], size=R_) * rng.random(R_) ** rng.choice([0, 1])
        chosen = int(np.argmin(e + dev))
        gap = e[chosen] - e.min()
        worst_gap = max(worst_gap, gap / (2 * ep) if ep > 0 else 0.0)
        lemma_bad += gap > 2 * ep + 1e-12
    evidence["selection_lemma"] = {"instances": 2000, "violations": int(lemma_bad),
                                   "max gap / (2 eps')": round(worst_gap, 4)}
    ok &= lemma_bad == 0

    # O(s log s log(1/delta) / eps^2): ratio against the explicit constant.
    worst: dict = {}
    for c in (1, 2):
        C = validation_ratio_bound(c)
        mx = 0.0
        for s in (2, 3, 5, 10, 100, 10**4, 10**6):
            for log2_inv_delta in (1, 2, 10, 30, 200):
                for inv_eps in (1, 10, 1000):
                    with mpmath.workdps(40):
                        L = log2_inv_delta * mpmath.log(2)
                        Rf = mpmath.ceil(mpmath.mpf(s) ** (c * s) * (mpmath.log(2) + L))
                        n = mpmath.ceil(2 * mpmath.log(4 * Rf * mpmath.e**L) * inv_eps**2)
                        ratio = float(n / (s * mpmath.log(s) * L * inv_eps**2))
                    mx = max(mx, ratio)
        worst[f"c={c}"] = {"max_ratio": round(mx, 4), "C(c)": round(C, 4)}
        ok &= mx <= C
    evidence["O_bound"] = worst
    return Result(bool(ok), evidence,
                  f"{len(bad)} formula failures; n/(s ln s ln(1/d)/e^2) <= "
                  f"{worst['c=1']['max_ratio']:.2f} (C(1)={worst['c=1']['C(c)']:.2f})")


def _binomial_slack(N: int, alpha: float) -> float:
    """Hoeffding one-sided slack: ``P(rate_hat >= p + t) <= alpha`` for ``t`` returned."""
    return math.sqrt(math.log(1 / alpha) / (2 * N))


@check("cor2-restart-simulation",
       "Corollary 2 simulated: restarts and validation selection",
       "statistical",
       "Monte-Carlo: R restarts + validation of size n fail w.p. <= delta (binomial bound)",
       params=lambda mode: {"s": [2, 3], "c": 1, "delta": 0.2, "eps": 0.1,
                            "trials": 20000 if mode == "quick" else 200000, "alpha": 1e-6})
def cor2_restart_simulation(mode: str, seed: int) -> Result:
    """Simulates Corollary 2's procedure with Theorem 1's success probability as a parameter:
    each of ``R = restart_count(s, 1, delta)`` runs is "good" (error ``<= e* = 0.1``, the error of
    ``A(S)``) independently with probability ``q = s^{-s}``, otherwise its error is uniform in
    ``[e*, 0.5]``; a validation set of ``n = validation_size(R, eps, delta)`` examples gives each
    run a Binomial(n, err)/n estimate; the minimiser is kept. Verified: the empirical rate of
    "all restarts bad" is ``<= delta/2`` and of "kept error > e* + eps" is ``<= delta``, each up to
    a one-sided Hoeffding slack at level ``alpha = 1e-6``. Shows the reduction's arithmetic is
    sound on a model, not that Theorem 1's ``q`` is right."""
    N = 20000 if mode == "quick" else 200000
    alpha = 1e-6
    delta, eps, e_star = Fraction(1, 5), Fraction(1, 10), 0.1
    slack = _binomial_slack(N, alpha)
    rng = np.random.default_rng(seed)
    ok, rows = True, []
    for s in (2, 3):
        q = float(s) ** (-s)
        R = restart_count(s, 1, delta)
        n = validation_size(R, eps, delta)
        first_good = rng.geometric(q, N)  # index of the first good run
        all_bad = float(np.mean(first_good > R))
        # end-to-end, in chunks to bound memory
        fails, done = 0, 0
        while done < N:
            B = min(5000, N - done)
            good = rng.random((B, R)) < q
            err = np.where(good, e_star * rng.random((B, R)), rng.uniform(e_star, 0.5, (B, R)))
            est = rng.binomial(n, err) / n
            kept = err[np.arange(B), np.argmin(est, axis=1)]
            fails += int(np.sum(kept > e_star + float(eps)))
            done += B
        end_to_end = fails / N
        r_quarter = max(1, R // 4)
        rows.append({"s": s, "q": q, "R": R, "n": n,
                     "exact_(1-q)^R": (1 - q) ** R, "empirical_all_bad": all_bad,
                     "empirical_end_to_end_fail": end_to_end,
                     "power_demo_all_bad_with_R/4": float(np.mean(first_good > r_quarter))})
        ok &= all_bad <= float(delta) / 2 + slack and end_to_end <= float(delta) + slack
    return Result(bool(ok), {"trials": N, "delta": float(delta), "eps": float(eps),
                             "slack": slack, "rows": rows,
                             "scope": "simulation of the reduction with q as a parameter; "
                                      "does not test Theorem 1"},
                  "fail rates " + ", ".join(f"s={r['s']}: {r['empirical_end_to_end_fail']:.4f}"
                                            for r in rows) + f" <= delta={float(delta)}")

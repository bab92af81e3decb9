"""Corollary 2 on a real network: success of the random-restart search against the number of
restarts ``R``.

The setting of :mod:`proofs_check.restarts`: a patch network with 8 free weights drawn
uniformly from ``U = {-1, 0, 1}`` must compute one step of elementary cellular automaton rule 238
on rows of 8 cells; 3 of the ``3^8 = 6561`` weight vectors are exactly right (``q = 1/2187``).
For each ``R`` the procedure (``R`` restarts, validation set of size
``ceil(2 ln(4R/delta)/eps^2)``, keep the minimiser, test on all 256 rows) is repeated over seeded
trials. The plot shows the measured rate of exactly correct kept weights with its 95%
Clopper-Pearson band, ``1 - (1 - q)^R``, the paper-style ``1 - (1 - |U|^{-P})^R``, the target
``1 - delta`` and the corollary's ``R`` for the exact ``q`` and for the bound.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from figures import style

NAME = "fig_restarts"
GRID = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def compute(quick: bool = True, seed: int = 0) -> dict[str, Any]:
    """Run the procedure at every ``R`` of the grid (plus the corollary's two values)."""
    from proofs_check import restarts as rs

    trials = 400 if quick else 4000
    inst = rs.Instance()
    R_q = rs.corollary_restarts(inst.q, rs.DELTA)
    R_bound = rs.corollary_restarts(Fraction(1, inst.N), rs.DELTA)
    rows = []
    for R in sorted(set(GRID) | {R_q, R_bound}):
        n = rs.corollary_validation(R, rs.EPS, rs.DELTA)
        res = rs.run_trials(inst, R, n, trials, seed)
        lo, hi = rs.clopper_pearson(res["exact"], trials, alpha=0.05)
        rows.append({"R": R, "n": n, "trials": trials,
                     "success_exact": res["exact"] / trials,
                     "success_within_eps": res["within_eps"] / trials,
                     "ci95_low": lo, "ci95_high": hi,
                     "predicted": 1 - (1 - float(inst.q)) ** R,
                     "paper_bound_curve": 1 - (1 - 1 / inst.N) ** R})
    return {"rule": rs.RULE, "width": rs.WIDTH, "P": inst.P, "U": list(rs.U),
            "U^P": inst.N, "correct": inst.correct, "q": float(inst.q), "q_fraction": str(inst.q),
            "delta": float(rs.DELTA), "eps": float(rs.EPS), "R_q": R_q, "R_bound": R_bound,
            "trials": trials, "rows": rows}


def plot(data: dict[str, Any]):
    """Measured success (dots, 95% band) against R on a log axis, with the predictions."""
    fig = style.new_figure(6.2, 3.9)
    ax = fig.subplots()
    rows = data["rows"]
    R = np.array([r["R"] for r in rows], dtype=float)
    grid = np.logspace(0, np.log10(R.max() * 2), 400)
    ax.plot(grid, 1 - (1 - data["q"]) ** grid, color=style.OKABE_ITO["blue"], lw=1.4,
            label=f"1 − (1 − q)^R,  q = {data['q_fraction']} (exact count)")
    ax.plot(grid, 1 - (1 - 1 / data["U^P"]) ** grid, color=style.GREY, lw=1.0, ls="--",
            label=f"1 − (1 − |U|^−P)^R,  |U|^−P = 1/{data['U^P']}")
    ax.fill_between(R, [r["ci95_low"] for r in rows], [r["ci95_high"] for r in rows],
                    color=style.OKABE_ITO["orange"], alpha=0.25, lw=0,
                    label="95% Clopper–Pearson band")
    ax.plot(R, [r["success_exact"] for r in rows], ls="", marker="o",
            color=style.OKABE_ITO["vermillion"],
            label=f"measured: kept weights exactly right ({data['trials']} trials per R)")
    ax.axhline(1 - data["delta"], color=style.OKABE_ITO["green"], lw=0.9, ls=":")
    ax.text(1.1, 1 - data["delta"] + 0.015, f"1 − δ = {1 - data['delta']:g}", fontsize=7.5,
            color=style.OKABE_ITO["green"])
    for key, label in (("R_q", "R for exact q"), ("R_bound", "R for |U|^−P")):
        ax.axvline(data[key], color=style.OKABE_ITO["purple"], lw=0.9, ls="-."
                   if key == "R_q" else ":")
        ax.text(data[key] * 1.1, 0.03, f"{label}\nR = {data[key]:,}", rotation=90,
                ha="left", va="bottom", fontsize=7.5, color=style.OKABE_ITO["purple"])
    ax.set_xscale("log")
    ax.set_xlim(0.8, R.max() * 2)
    ax.set_ylim(-0.02, 1.05)
    ax.grid(True, axis="y")
    ax.set_xlabel("number of restarts R (log scale)")
    ax.set_ylabel("P(kept weights exactly correct)")
    ax.set_title(f"Corollary 2, real restarts: {data['P']} weights from U = {{−1, 0, 1}}, "
                 f"ECA rule {data['rule']}")
    ax.legend(loc="center left", bbox_to_anchor=(0.0, 0.6))
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Compute the sweep, write data and provenance, then draw and save."""
    data = compute(quick, seed)
    files = [style.write_csv(out_dir, NAME, data["rows"]),
             style.write_data(out_dir, NAME, data)]
    params = {"rule": data["rule"], "width": data["width"], "U": data["U"], "P": data["P"],
              "delta": data["delta"], "eps": data["eps"], "trials_per_R": data["trials"],
              "R_grid": [r["R"] for r in data["rows"]], "quick": quick,
              "check": "proofs_check.restarts (cor2-random-restarts)"}
    results = {"q": data["q_fraction"], "R_q": data["R_q"], "R_bound": data["R_bound"],
               "success_at_R_q": next(r["success_exact"] for r in data["rows"]
                                      if r["R"] == data["R_q"])}
    caption = (f"Corollary 2 on a real network: a patch network with P = {data['P']} weights "
               f"drawn uniformly from U = {data['U']} must compute one step of elementary "
               f"cellular automaton rule {data['rule']} on rows of {data['width']} cells "
               f"(success probability per draw q = {data['q_fraction']}). For each number of "
               f"restarts R, {data['trials']} seeded trials of the procedure (R draws, "
               f"validation set of ceil(2 ln(4R/δ)/ε²) rows, keep the minimiser, test on all "
               f"rows); drawn: the measured rate of exactly correct kept weights with its 95% "
               f"Clopper-Pearson band, 1 − (1 − q)^R, the paper-style 1 − (1 − |U|^−P)^R, "
               f"the target 1 − δ (δ = {data['delta']}) and the corollary's R for the exact q "
               f"({data['R_q']}) and for the bound ({data['R_bound']}).")
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption)

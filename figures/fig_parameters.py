"""Shared parameters against network nodes (grid cells x layers) as the problem grows.

For one compiled machine (bb4) the Definition-5 RCNN is built for growing memory grids
(``d = m = l = n``) and its parameters are counted from the torch module: the shared count
(everything but ``W``) stays put while ``W`` grows as ``(d+1)(m+1)``. The depth follows
Theorem 1's ``L = c1 (t + m + d)`` with ``c1 = 1`` and ``t = n``. Beyond the largest module
built, sizes are computed analytically (the shared weights are those of the compiled machine,
which no grid size or depth touches); the plot marks which points were measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.lines import Line2D

from figures import style

NAME = "fig_parameters"
MACHINE = "bb4"
J_MAX = 20
"""Largest grid parameter n = 2**J_MAX (about 7e18 nodes)."""


def _sizes(n: int) -> dict[str, int]:
    d = m = l = n
    t = n
    layers = t + m + d  # Theorem 1 with c1 = 1
    rows, cols = m + 1, d + 1 + l
    return {"n": n, "d": d, "m": m, "l": l, "t": t, "layers": layers, "grid_rows": rows,
            "grid_cols": cols, "cells": rows * cols, "nodes": rows * cols * layers,
            "W_entries": (d + 1) * (m + 1)}


def compute(quick: bool = True, seed: int = 0) -> dict[str, Any]:
    """Measure shared parameters on built modules; extend the sizes analytically."""
    import torch

    from constructions.rcnn import RCNN
    from constructions.tm import compile_tm
    from simulators.formats import builtin_machines

    ctm = compile_tm(builtin_machines()[MACHINE])
    built_max = 9 if quick else 11  # n = 2**9 = 512: W has 263k entries
    rows = []
    for j in range(0, J_MAX + 1):
        n = 2 ** j
        row = _sizes(n)
        row["built"] = j <= built_max
        if row["built"]:
            model = RCNN(ctm.patch, ctm.head, layers=row["layers"], padding=ctm.padding,
                         d_in=n + 1, d_mem=n + 1, l=n, dtype=torch.float32)
            row["shared_parameters"] = model.n_shared_parameters
            row["W_entries_measured"] = model.W.numel()
            if n <= 4:  # run the smallest modules end to end: the sizes are real
                z = torch.ones(1, n + 1)
                with torch.no_grad():
                    grid = model.memory(z)
                    model.rollout(grid)
                row["grid_measured"] = list(grid.shape[1:])
        else:
            row["shared_parameters"] = ctm.n_shared_parameters
        row["unshared_parameters"] = ctm.n_shared_parameters * row["nodes"]
        rows.append(row)
    measured = {r["shared_parameters"] for r in rows if r["built"]}
    return {
        "machine": MACHINE,
        "hidden": list(ctm.patch.hidden),
        "compiled_shared_parameters": ctm.n_shared_parameters,
        "measured_shared_parameters": sorted(measured),
        "constant": measured == {ctm.n_shared_parameters},
        "largest_built_nodes": max(r["nodes"] for r in rows if r["built"]),
        "largest_nodes": rows[-1]["nodes"],
        "rows": rows,
    }


def plot(data: dict[str, Any]):
    """Log-log: parameter counts against cells x layers."""
    fig = style.new_figure(6.4, 4.2)
    ax = fig.subplots()
    rows = data["rows"]
    built = [r for r in rows if r["built"]]
    rest = [r for r in rows if not r["built"]]
    blue, orange = style.OKABE_ITO["blue"], style.OKABE_ITO["orange"]
    grey = style.GREY
    x = [r["nodes"] for r in rows]
    ax.plot(x, [r["unshared_parameters"] for r in rows], color=grey, ls="--", lw=1.0,
            label="without sharing: one patch net per cell and layer")
    ax.plot(x, [r["W_entries"] for r in rows], color=orange, lw=1.4,
            label="memory layer W, (d+1)(m+1) entries")
    ax.plot([r["nodes"] for r in built], [r["W_entries_measured"] for r in built], ls="",
            marker="o", color=orange)
    ax.plot([r["nodes"] for r in rest], [r["W_entries"] for r in rest], ls="",
            marker="o", mfc="white", color=orange)
    ax.plot(x, [r["shared_parameters"] for r in rows], color=blue, lw=1.8,
            label=f"shared parameters ({data['machine']}: "
                  f"{data['compiled_shared_parameters']:,})")
    ax.plot([r["nodes"] for r in built], [r["shared_parameters"] for r in built], ls="",
            marker="o", color=blue)
    ax.plot([r["nodes"] for r in rest], [r["shared_parameters"] for r in rest], ls="",
            marker="o", mfc="white", color=blue)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="", marker="o", color=grey,
                       label="counted on a built torch RCNN"),
                Line2D([], [], ls="", marker="o", mfc="white", color=grey,
                       label="sizes computed, module not built")]
    ax.axvline(1e12, color=grey, lw=0.7, ls=":")
    ax.text(1.3e12, 1e20, "10¹² nodes", color=grey, fontsize=7.5, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network nodes = grid cells × layers L")
    ax.set_ylabel("parameters (count)")
    ax.grid(True, which="major")
    ax.set_title("Shared parameters do not grow with the problem")
    ax.legend(handles=handles, loc="upper left")
    last = rows[-1]
    ax.annotate(f"n = {last['n']:,}: grid {last['grid_rows']:,} × {last['grid_cols']:,}, "
                f"L = {last['layers']:,}", xy=(last["nodes"], last["shared_parameters"]),
                xytext=(0, -15), textcoords="offset points", ha="right", fontsize=7.5,
                color=blue, bbox={"fc": "white", "ec": "none", "pad": 1.0})
    fig.text(0.01, -0.01, "d = m = l = n, L = t + m + d with t = n (Theorem 1, c1 = 1); "
             f"n = 1, 2, 4, ..., 2^{J_MAX}; filled markers: counted on a built torch module "
             f"(n ≤ {max(r['n'] for r in built)})", fontsize=7.5, color=grey, ha="left", va="top")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Measure, write the data and provenance, then draw and save."""
    data = compute(quick, seed)
    flat = [{k: v for k, v in r.items() if k != "grid_measured"} for r in data["rows"]]
    files = [style.write_csv(out_dir, NAME, flat), style.write_data(out_dir, NAME, data)]
    params = {"machine": MACHINE, "grid": f"d = m = l = n, n = 2^j, j = 0..{J_MAX}",
              "depth": "L = t + m + d, t = n",
              "built": f"n <= {max(r['n'] for r in data['rows'] if r['built'])}",
              "quick": quick}
    results = {k: data[k] for k in ("compiled_shared_parameters", "measured_shared_parameters",
                                     "constant", "largest_built_nodes", "largest_nodes")}
    built = max(r["n"] for r in data["rows"] if r["built"])
    caption = (f"Parameters of the Definition-5 RCNN carrying {MACHINE}'s compiled weights "
               f"against network nodes (grid cells × layers), for memory grids d = m = l = n, "
               f"n = 2^0..2^{J_MAX}, depth L = t + m + d with t = n. Counted from built torch "
               f"modules up to n = {built}, computed beyond (marked). The shared count stays "
               f"{data['compiled_shared_parameters']:,} "
               + ("at every size" if data["constant"] else "NOT constant")
               + f" up to {data['largest_nodes']:.2e} nodes; only W grows, as (d+1)(m+1).")
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption)

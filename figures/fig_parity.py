"""Parity learning curves: test error against the number of training examples m.

One panel per (d, k): the GF(2) reference learner, an MLP and a 1-D CNN trained with Adam
under the same budget, and the RCNN construction (``rcnn``, at every m, on a seeded sample of
test points: training.parity_baselines.rcnn_sample; drawn hollow and on top, since Lemma 1
(2) puts it on the reference learner's predictions); the legend lists every learner drawn
in any panel; the mean
over seeds with a band of one standard deviation (clipped to [0, 1]), and a vertical marker
at m = d (the reference learner needs rank d, so about d examples).

The numbers come from :mod:`training.parity_baselines` (run here with the quick or full
settings, or reused from a results directory holding the same settings and seed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from figures import style

NAME = "fig_parity"
REPO = Path(__file__).resolve().parents[1]
ORDER = ("reference", "rcnn", "mlp", "cnn")
STYLE = {
    "reference": {"color": style.OKABE_ITO["black"], "marker": "s",
                  "label": "reference (GF(2) elimination)"},
    "rcnn": {"color": style.OKABE_ITO["green"], "marker": "D",
             "label": "RCNN construction (on sampled test points)"},
    "mlp": {"color": style.OKABE_ITO["blue"], "marker": "o", "label": "MLP + Adam"},
    "cnn": {"color": style.OKABE_ITO["vermillion"], "marker": "^", "label": "1-D CNN + Adam"},
}


def _load_or_run(out_dir: Path, quick: bool, seed: int) -> tuple[dict[str, Any], list[dict]]:
    from training import parity_baselines as pb
    from training._common import read_csv, saved_results

    settings = pb.settings_for(quick)
    res_dir = Path(out_dir) / "parity"
    found = saved_results("parity", settings, seed, [res_dir, REPO / "results" / "parity"],
                          ["parity.csv"])
    if found is not None:
        rec = json.loads((found / "parity.json").read_text(encoding="utf-8"))
        return rec, read_csv(found / "parity.csv")
    rec = pb.run(settings, seed, res_dir)
    return rec, read_csv(res_dir / "parity.csv")


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean, standard deviation, min and max of the test error per (learner, d, k, m)."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        key = (r["learner"], int(r["d"]), int(r["k"]), int(r["m"]))
        groups.setdefault(key, []).append(float(r["test_error"]))
    out = []
    for (learner, d, k, m), errs in sorted(groups.items(), key=lambda kv: kv[0][1:] + kv[0][:1]):
        a = np.asarray(errs)
        out.append({"learner": learner, "d": d, "k": k, "m": m, "n": len(a),
                    "mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                    "min": float(a.min()), "max": float(a.max())})
    return out


def plot(data: dict[str, Any]):
    summary = data["summary"]
    dims = sorted({r["d"] for r in summary})
    ks = {d: sorted({r["k"] for r in summary if r["d"] == d}) for d in dims}
    ncol = max(len(v) for v in ks.values())
    fig = style.new_figure(3.3 * ncol + 0.4, 2.7 * len(dims) + 0.5)
    axes = fig.subplots(len(dims), ncol, squeeze=False)
    learners = [n for n in ORDER if any(r["learner"] == n for r in summary)]
    learners += sorted({r["learner"] for r in summary} - set(learners))
    for i, d in enumerate(dims):
        for j in range(ncol):
            ax = axes[i][j]
            if j >= len(ks[d]):
                ax.set_visible(False)
                continue
            k = ks[d][j]
            for n, name in enumerate(learners):
                pts = sorted((r for r in summary if (r["learner"], r["d"], r["k"]) == (name, d, k)),
                             key=lambda r: r["m"])
                if not pts:
                    continue
                st = STYLE.get(name, {"color": style.CYCLE[(n + 4) % len(style.CYCLE)],
                                      "marker": "x", "label": name})
                m = np.array([r["m"] for r in pts], dtype=float)
                mu = np.array([r["mean"] for r in pts])
                sd = np.array([r["std"] for r in pts])
                if name == "rcnn":  # often on the reference's points: hollow, larger, on top
                    ax.plot(m, mu, color=st["color"], marker=st["marker"], ms=6.5, lw=1.0,
                            ls=":", markerfacecolor="none", markeredgewidth=1.2, zorder=5,
                            label=st["label"])
                else:
                    ax.plot(m, mu, color=st["color"], marker=st["marker"], ms=3.5,
                            label=st["label"])
                ax.fill_between(m, np.clip(mu - sd, 0, 1), np.clip(mu + sd, 0, 1),
                                color=st["color"], alpha=0.15, lw=0)
            ax.axvline(d, color=style.GREY, ls="--", lw=0.9)
            ax.text(d, 0.54, " m = d", color=style.GREY, fontsize=7.5, va="bottom")
            ax.axhline(0.5, color=style.LIGHT, lw=0.8, zorder=0)
            ax.set_xscale("log", base=2)
            ax.set_ylim(-0.02, 0.62)
            kind = "dense" if k == d else "sparse"
            ax.set_title(f"d = {d}, k = {k} ({kind} parity)")
            ax.set_xlabel("training examples m (log scale)")
            ax.set_ylabel("test error (fraction)")
            ax.grid(True, axis="y")
    legend: dict[str, Any] = {}  # every learner drawn in any panel, once
    for row in axes:
        for ax in row:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                legend.setdefault(lab, h)
    fig.legend(list(legend.values()), list(legend), loc="outside lower center",
               ncol=len(legend))
    n_seeds = len(data["seeds"])
    fig.suptitle(f"Parity learning curves: mean over {n_seeds} seeds, band = ±1 s.d. "
                 f"({data['settings']['size']} settings)")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Run (or reuse) the learning curves, write the plotted numbers, then draw and save."""
    out_dir = Path(out_dir)
    rec, rows = _load_or_run(out_dir, quick, seed)
    summary = summarise(rows)
    data = {"summary": summary, "settings": rec["settings"], "budget": rec["budget"],
            "seeds": rec["seeds"], "seed": seed, "test_set": rec["test_set"]}
    files = [style.write_csv(out_dir, NAME, summary), style.write_data(out_dir, NAME, data)]
    params = {"quick": quick, "settings": rec["settings"], "budget": rec["budget"],
              "experiment": "training.parity_baselines"}
    largest = {}
    for r in summary:
        top = max(x["m"] for x in summary if (x["d"], x["k"]) == (r["d"], r["k"]))
        if r["m"] == top:
            largest[f"{r['learner']} d={r['d']} k={r['k']} m={r['m']}"] = round(r["mean"], 4)
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params,
                         results={"test_error_at_largest_m": largest}, files=files,
                         caption=caption(data))


def caption(data: dict[str, Any]) -> str:
    """What the figure draws and from which data, with this run's numbers."""
    summary = data["summary"]
    dims = sorted({r["d"] for r in summary})
    learners = [n for n in ORDER if any(r["learner"] == n for r in summary)]
    rc = [r for r in summary if r["learner"] == "rcnn"]
    rc_text = ""
    if rc:
        points = data["settings"].get("rcnn_test_points", "all")
        rc_text = (f" The RCNN construction (the compiled parity learner network after "
                   f"Algorithm 1, on the event-driven executor) is run for real at {len(rc)} "
                   f"(d, k, m) points, on {points} seeded test points each, drawn hollow on "
                   "top of the reference it coincides with.")
    return (f"Parity learning curves: test error against the number of training examples m "
            f"(log scale) for d in {dims}, one panel per (d, k), dense (k = d) and sparse "
            f"parities; learners {', '.join(learners)}; mean over {len(data['seeds'])} seeds "
            "with a band of one standard deviation; the dashed line marks m = d. Data: "
            "training.parity_baselines (random parities from simulators.datasets, test sets "
            f"of {data['test_set']}), {data['settings']['size']} settings, seed "
            f"{data['seed']}." + rc_text)

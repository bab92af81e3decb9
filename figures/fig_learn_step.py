"""Experiment 1: SGD against the construction for one step of a TM / an elementary CA.

One row per task, four panels; :data:`CAPTION` says what is drawn and from which data (it
goes into the figure's provenance JSON and docs/training.md). The numbers come from
:mod:`training.learn_step` (run here with the quick or full settings, or reused from a
results directory holding the same settings and seed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from figures import style

NAME = "fig_learn_step"
CAPTION = (
    "Experiment 1, SGD learning one step of a machine vs the hand-set construction. One row "
    "per task (bb2; elementary CA rules 110 and 30; a random non-halting 3-state machine in "
    "full runs). (a) Against hidden width (multiples of the construction's widths): the "
    "fraction of seeds whose SGD net, rounded to the nearest code, is right on every patch of "
    "the finite domain; the fraction whose float32 output is certified exact bit for bit on "
    "every valid view (srcnn certify's proof; then the RCNN runs the rule forever with raw "
    "feedback); the mean domain accuracy; the construction (certified) at its own width. "
    "(b) Fraction of rollouts from random starts still exact after t iterations, raw float "
    "feedback (solid) and rounded to a code after every step (dotted), for the construction "
    "and the SGD nets of every width (mean over seeds). (c) Domain accuracy under i.i.d. "
    "Gaussian noise of absolute sigma on every weight (mean over seeds and draws). (d) Domain "
    "accuracy with weights, inputs and arithmetic cast to each format (full 0-1 axis). Data: "
    "learn_step.json, width_sweep.csv, rollout.csv, perturbation.csv, precision.csv of "
    "training.learn_step with the settings and seed in this file.")
REPO = Path(__file__).resolve().parents[1]


def _load_or_run(out_dir: Path, quick: bool, seed: int) -> dict[str, Any]:
    from training import learn_step
    from training._common import saved_results

    settings = learn_step.settings_for(quick)
    res_dir = Path(out_dir) / "learn_step"
    found = saved_results("learn_step", settings, seed,
                          [res_dir, REPO / "results" / "learn_step"], [])
    if found is not None:
        return json.loads((found / "learn_step.json").read_text(encoding="utf-8"))
    return learn_step.run(settings, seed, res_dir)


def summarise(rec: dict[str, Any]) -> dict[str, Any]:
    """The plotted numbers: per task, means over seeds."""
    s = rec["settings"]
    mults = s["mults"]
    out: dict[str, Any] = {"tasks": {}, "settings": s, "seed": rec["seed"],
                           "seeds": rec["seeds"]}
    for task, info in rec["tasks"].items():
        sweep = [r for r in rec["width_sweep"] if r["task"] == task]
        width = [{"mult": m, "h1": next(r["h1"] for r in sweep if r["mult"] == m),
                  "h2": next(r["h2"] for r in sweep if r["mult"] == m),
                  "success_rate": float(np.mean([r["exact"] for r in sweep if r["mult"] == m])),
                  "certified_rate": float(np.mean([r.get("certified", False) for r in sweep
                                                   if r["mult"] == m])),
                  "domain_acc_mean": float(np.mean([r["domain_acc"] for r in sweep
                                                    if r["mult"] == m])),
                  "domain_acc_min": float(np.min([r["domain_acc"] for r in sweep
                                                  if r["mult"] == m]))}
                 for m in mults]
        nets = list(dict.fromkeys(r["net"] for r in rec["rollout"] if r["task"] == task))

        def avg(rows, key, *, by):
            groups: dict[Any, list[float]] = {}
            for r in rows:
                groups.setdefault(r[by], []).append(float(r[key]))
            return {str(k): float(np.mean(v)) for k, v in groups.items()}

        roll = {f"{n}|{v}": avg([r for r in rec["rollout"] if r["task"] == task
                                 and r["net"] == n and r["variant"] == v], "fraction_correct",
                                by="t")
                for n in nets for v in ("raw", "rounded")}
        pert = {n: avg([r for r in rec["perturbation"] if r["task"] == task and r["net"] == n],
                       "domain_acc", by="sigma") for n in nets}
        pert_exact = {n: avg([r for r in rec["perturbation"]
                              if r["task"] == task and r["net"] == n], "exact", by="sigma")
                      for n in nets}
        prec = {n: avg([r for r in rec["precision"] if r["task"] == task and r["net"] == n],
                       "domain_acc", by="dtype") for n in nets}
        out["tasks"][task] = {"info": info, "width": width, "nets": nets, "rollout": roll,
                              "perturbation": pert, "perturbation_exact": pert_exact,
                              "precision": prec}
    return out


TITLES = {"tm_bb2": "TM bb2 (2 states, 2 symbols)", "tm_rand3x2": "TM random 3x2 (non-halting)",
          "eca_110": "ECA rule 110", "eca_30": "ECA rule 30"}


def _net_style(net: str, nets: list[str]) -> dict[str, Any]:
    if net == "construction":
        return {"color": style.OKABE_ITO["black"], "marker": "*", "label": "construction"}
    sgd = [n for n in nets if n != "construction"]
    colours = [style.OKABE_ITO[c] for c in ("orange", "sky", "blue", "green", "vermillion",
                                            "purple")]
    mult = net.split("x")[-1]
    return {"color": colours[sgd.index(net) % len(colours)], "marker": "o",
            "label": f"SGD, width x{mult} (mean over seeds)"}


def plot(data: dict[str, Any]):
    tasks = list(data["tasks"])
    fig = style.new_figure(12.5, 2.75 * len(tasks) + 0.4)
    axes = fig.subplots(len(tasks), 4, squeeze=False)
    n_seeds = len(data["seeds"])
    for row, task in enumerate(tasks):
        d = data["tasks"][task]
        nets = d["nets"]
        title = TITLES.get(task, task)
        # (a) width sweep
        ax = axes[row][0]
        mults = [w["mult"] for w in d["width"]]
        ax.plot(mults, [w["success_rate"] for w in d["width"]], marker="o",
                color=style.OKABE_ITO["orange"], label=f"SGD: exact on domain ({n_seeds} seeds)")
        ax.plot(mults, [w["certified_rate"] for w in d["width"]], marker="D", ls="-.",
                color=style.OKABE_ITO["vermillion"],
                label="SGD: certified exact on every view")
        ax.plot(mults, [w["domain_acc_mean"] for w in d["width"]], marker="s", ls="--",
                color=style.OKABE_ITO["sky"], label="SGD: mean domain accuracy")
        ax.plot([1], [1.0], marker="*", ms=11, ls="", color="black",
                label="construction (certified exact)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(mults, [f"x{m}" for m in mults])
        ax.set_ylim(-0.04, 1.06)
        ax.set_xlabel(f"hidden width / construction's {tuple(d['info']['construction_hidden'])}")
        ax.set_ylabel("fraction")
        ax.set_title(f"{title}\n(a) exact on all {d['info']['domain_size']:,} patches")
        ax.grid(True, axis="y")
        # (b) rollouts
        ax = axes[row][1]
        for net in nets:
            st = _net_style(net, nets)
            for variant, ls in (("raw", "-"), ("rounded", ":")):
                curve = d["rollout"][f"{net}|{variant}"]
                ts = sorted(curve, key=float)
                ax.plot([float(t) for t in ts], [curve[t] for t in ts], ls=ls,
                        color=st["color"], marker=st["marker"] if variant == "raw" else None,
                        ms=3.5, label=(st["label"] if variant == "raw" else None))
        ax.plot([], [], ls=":", color=style.GREY, label="rounded to a code every step")
        ax.set_xscale("log")
        ax.set_ylim(-0.04, 1.06)
        ax.set_xlabel("iterations of the layer (trained on 1)")
        ax.set_ylabel("fraction of runs still exact")
        ax.set_title("(b) rollouts from random starts")
        ax.grid(True, axis="y")
        # (c) perturbation
        ax = axes[row][2]
        for net in nets:
            st = _net_style(net, nets)
            curve = d["perturbation"][net]
            sig = sorted(float(s) for s in curve if float(s) > 0)
            ax.plot(sig, [curve[_key(curve, s)] for s in sig], color=st["color"],
                    marker=st["marker"], ms=4)
        ax.set_xscale("log")
        ax.set_ylim(-0.04, 1.06)
        ax.set_xlabel("weight noise σ (absolute, on every weight)")
        ax.set_ylabel("domain accuracy (mean)")
        ax.set_title("(c) Gaussian weight perturbation")
        ax.grid(True, axis="y")
        # (d) precision
        ax = axes[row][3]
        dtypes = list(next(iter(d["precision"].values())))
        x = np.arange(len(dtypes))
        wbar = 0.8 / len(nets)
        for i, net in enumerate(nets):
            st = _net_style(net, nets)
            vals = [d["precision"][net][dt] for dt in dtypes]
            ax.bar(x + (i - (len(nets) - 1) / 2) * wbar, vals, width=wbar, color=st["color"],
                   label=st["label"])
        ax.set_xticks(x, dtypes)
        ax.set_ylim(0.0, 1.05)  # the full axis: bars are never cut
        ax.set_xlabel("number format (weights, inputs, arithmetic)")
        ax.set_ylabel("domain accuracy")
        ax.set_title("(d) lower precision")
        if row == 0:
            axes[row][0].legend(loc="center right", fontsize=7)
    handles, labels = axes[0][1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4))
    fig.suptitle("Experiment 1: SGD learning one step vs the hand-set construction "
                 f"(seed {data['seed']}, {data['settings']['size']} settings)")
    return fig


def _key(curve: dict[str, float], sigma: float) -> str:
    return next(k for k in curve if float(k) == sigma)


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Run (or reuse) the experiment, write the plotted numbers, then draw and save."""
    out_dir = Path(out_dir)
    rec = _load_or_run(out_dir, quick, seed)
    data = summarise(rec)
    rows = [{"task": t, **w} for t, v in data["tasks"].items() for w in v["width"]]
    files = [style.write_csv(out_dir, NAME, rows), style.write_data(out_dir, NAME, data)]
    params = {"quick": quick, "settings": rec["settings"], "experiment": "training.learn_step",
              "caption": CAPTION}
    results = {t: {"construction_exact": v["info"]["construction"]["exact"],
                   "construction_certified": v["info"].get("construction_certificate", {})
                   .get("certified"),
                   "sgd_success_rate": {str(w["mult"]): w["success_rate"] for w in v["width"]},
                   "sgd_certified_rate": {str(w["mult"]): w["certified_rate"]
                                          for w in v["width"]}}
               for t, v in data["tasks"].items()}
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=CAPTION)

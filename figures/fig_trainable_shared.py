"""Algorithm 1 with trainable shared weights (issue 7, experiment 3), against eta_shared.

Three panels, one line per network (the compiled learner networks and the memorisation-only
network), x axis the shared weights' learning rate ``eta_shared`` on a log scale with
``eta_shared = 0`` (the construction, Algorithm 1 as in the paper) drawn at the left edge:
(a) the fraction of runs in which memorisation survives exactly (output 0, ``W`` rows exactly
``y [x, 1] / 3`` after every step), (b) the drift of the shared weights (max ``|θ - θ0|``
after the last step, log scale; non-finite drift drawn at the top), (c) agreement of the
final network with the reference learner on all ``2^d`` test points (learner networks
only): ``|ŷ - ref| < 1/2`` solid, ``sign(ŷ) = ref`` dotted, exactly ``ŷ = ref`` dashed.

The numbers come from :mod:`training.trainable_shared` (run here with the quick or full
settings, or reused from a results directory holding the same settings and seed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from figures import style

NAME = "fig_trainable_shared"
REPO = Path(__file__).resolve().parents[1]
COLOURS = [style.OKABE_ITO[c] for c in ("blue", "orange", "green", "purple")]
MARKERS = ["o", "s", "^", "D"]


def _load_or_run(out_dir: Path, quick: bool, seed: int) -> dict[str, Any]:
    from training import trainable_shared as ts
    from training._common import saved_results

    settings = ts.settings_for(quick)
    res_dir = Path(out_dir) / "trainable_shared"
    found = saved_results("trainable_shared", settings, seed,
                          [res_dir, REPO / "results" / "trainable_shared"], [])
    if found is not None:
        return json.loads((found / "trainable_shared.json").read_text(encoding="utf-8"))
    return ts.run(settings, seed, res_dir)


def summarise(rec: dict[str, Any]) -> dict[str, Any]:
    """The plotted numbers (the experiment's per-(network, eta) summary rows)."""
    rows = rec["summary"]
    nets = list(dict.fromkeys(r["network"] for r in rows))
    etas = sorted({float(r["eta_shared"]) for r in rows})
    positive = [e for e in etas if e > 0]
    zero_x = min(positive) / 100 if positive else 1e-3
    return {"networks": nets, "etas": etas, "zero_x": zero_x, "rows": rows,
            "settings": rec["settings"], "seed": rec["seed"], "seeds": rec["seeds"]}


def _x(eta: float, zero_x: float) -> float:
    return eta if eta > 0 else zero_x


def _label(net: str, rows: list[dict[str, Any]]) -> str:
    r = rows[0]
    kind = "memorisation-only" if net == "memorisation" else f"{net} learner"
    return f"{kind} (L = {r['layers']}, {r['shared_parameters']:,} shared)"


def _tick_label(e: float) -> str:
    if abs(e - 1 / 3) < 1e-12:
        return "1/3"
    exp = math.log10(e)
    return f"1e{int(round(exp))}" if abs(exp - round(exp)) < 1e-9 else f"{e:g}"


def plot(data: dict[str, Any]):
    from matplotlib.lines import Line2D

    fig = style.new_figure(12.0, 4.6)
    axes = fig.subplots(1, 3)
    zero_x = data["zero_x"]
    etas = data["etas"]
    positive = [e for e in etas if e > 0]
    ticks = [zero_x] + positive
    tick_labels = ["0\n(constr.)"] + [_tick_label(e) for e in positive]
    finite_drifts = [r["drift_max_abs_max"] for r in data["rows"]
                     if math.isfinite(r["drift_max_abs_max"]) and r["drift_max_abs_max"] > 0]
    top = 10.0 ** (math.ceil(math.log10(max(finite_drifts))) + 9) if finite_drifts else 1.0
    floor = 10.0 ** (math.floor(math.log10(min(finite_drifts))) - 6) if finite_drifts else 1e-20
    twin = axes[1].twinx()
    handles = []
    for k, net in enumerate(data["networks"]):
        rows = sorted([r for r in data["rows"] if r["network"] == net],
                      key=lambda r: r["eta_shared"])
        xs = [_x(r["eta_shared"], zero_x) for r in rows]
        st = {"color": COLOURS[k % len(COLOURS)], "marker": MARKERS[k % len(MARKERS)]}
        label = _label(net, rows)
        handles.append(Line2D([], [], label=label, **st))
        axes[0].plot(xs, [r["survival_rate"] for r in rows], ms=9 - 3 * k,
                     lw=2.6 - 1.0 * k, alpha=0.9, **st)
        # (b): finite drifts on the line; a non-finite drift (a weight overflowed to inf or
        # became NaN) is an 'x' on the band above the axis' finite range, not on the line
        # (the line breaks at non-finite points: NaN is not drawn)
        drift = [(r["drift_max_abs_max"] if r["drift_max_abs_max"] > 0 else floor)
                 if math.isfinite(r["drift_max_abs_max"]) else math.nan for r in rows]
        axes[1].plot(xs, drift, **st)
        bad = [x for x, r in zip(xs, rows) if not math.isfinite(r["drift_max_abs_max"])]
        axes[1].plot(bad, [top] * len(bad), marker="x", ms=8, mew=1.6, color=st["color"],
                     ls="")
        twin.plot(xs, [r["frac_changed_mean"] for r in rows], ls="-.", lw=1.0,
                  color=st["color"], marker=st["marker"], mfc="none", ms=3.5)
        if rows[0]["test_close_agreement_mean"] is not None:
            axes[2].plot(xs, [r["test_close_agreement_mean"] for r in rows], **st)
            axes[2].plot(xs, [r["test_sign_agreement_mean"] for r in rows], ls=":",
                         color=st["color"], lw=1.2)
            axes[2].plot(xs, [r["test_exact_agreement_mean"] for r in rows], ls="--",
                         color=st["color"], lw=1.0, marker=st["marker"], mfc="none")
        zero = [r for r in rows if r["eta_shared"] == 0]
        if zero:
            axes[0].plot([zero_x], [zero[0]["survival_rate"]], marker="*", ms=12,
                         color="black", ls="", zorder=5)
            if zero[0]["test_close_agreement_mean"] is not None:
                axes[2].plot([zero_x], [zero[0]["test_close_agreement_mean"]], marker="*",
                             ms=12, color="black", ls="", zorder=5)
    axes[1].axhline(top, color=style.GREY, lw=0.8, ls=":")
    axes[1].axhline(floor, color=style.GREY, lw=0.8, ls=":")
    axes[1].set_yscale("log")
    axes[1].set_ylim(floor / 30, top * 1e4)
    inner = range(int(math.log10(floor)) + 6, int(math.log10(top)) - 5, 9)
    axes[1].set_yticks([floor, *[10.0 ** e for e in inner], top],
                       ["0 (no drift)", *[f"1e{e}" for e in inner], "not finite"])
    twin.set_ylim(-0.04, 1.06)
    twin.set_ylabel("fraction of shared weights changed (dash-dot)", fontsize=8)
    twin.spines["right"].set_visible(True)
    titles = ["(a) memorisation survives exactly\n(output 0, W = y[x,1]/3 at every step)",
              "(b) shared-weight drift after memorisation",
              "(c) final network vs the reference learner\n(all 2^d test points)"]
    ylabels = ["fraction of runs (seeds)", "max |θ − θ₀| over shared weights (log)",
               "fraction of test points in agreement"]
    for ax, title, yl in zip(axes, titles, ylabels):
        ax.set_xscale("log")
        ax.set_xticks(ticks, tick_labels, fontsize=6.5, rotation=45, ha="right",
                      rotation_mode="anchor")
        ax.minorticks_off()
        ax.axvspan(zero_x / 3, zero_x * 3, color=style.LIGHT, zorder=0)
        ax.set_xlabel("η_shared, learning rate of the shared weights")
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.grid(True, axis="y")
    for ax in (axes[0], axes[2]):
        ax.set_ylim(-0.04, 1.06)
    grey = style.GREY
    handles += [
        Line2D([], [], marker="*", ms=10, color="black", ls="",
               label="the construction (η_shared = 0, shaded)"),
        Line2D([], [], color=grey, ls="-", label="(c) solid: |ŷ − reference| < 1/2"),
        Line2D([], [], color=grey, ls=":", label="(c) dotted: sign(ŷ) = reference"),
        Line2D([], [], color=grey, ls="--", marker="o", mfc="none",
               label="(c) dashed: ŷ = reference exactly"),
        Line2D([], [], color=grey, marker="x", ls="", mew=1.6,
               label="(b) x: drift not finite (a weight overflowed to inf or became NaN)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7.5)
    s = data["settings"]
    fig.suptitle(f"Algorithm 1 with trainable shared weights: any η_shared > 0 breaks exact "
                 f"memorisation\n(m = {s['m']}, d = {s['d']}, {len(data['seeds'])} seeds, "
                 f"seed {data['seed']}, {s['size']} settings; W keeps η = 1/3)")
    return fig


def caption(data: dict[str, Any]) -> str:
    """What the figure draws, and from which data."""
    s = data["settings"]
    nets = ", ".join(data["networks"])
    nonfinite = sorted({f"{r['network']} at η_shared = {_tick_label(r['eta_shared'])}"
                        for r in data["rows"] if not math.isfinite(r["drift_max_abs_max"])})
    return (f"Algorithm 1 run with every shared weight trainable at learning rate η_shared "
            f"(W keeps η = 1/3), for the networks {nets}, m = {s['m']} examples, d = {s['d']} "
            f"features, {len(data['seeds'])} seeds from seed {data['seed']} "
            f"(training.trainable_shared, {s['size']} settings). (a) fraction of runs in "
            f"which memorisation stays exact at every step; (b) the largest change of any "
            f"shared weight after the last step (log scale; 0 drawn at the bottom line) and, "
            f"dash-dot on the right axis, the fraction of shared weights that changed; an "
            f"'x' on the top line marks runs where some weight overflowed to inf or became "
            f"NaN, so the drift is not finite ({'; '.join(nonfinite) or 'none'}); (c) for "
            f"the learner networks, agreement with the reference learner on all 2^d test "
            f"points. η_shared = 0 is the construction.")


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Run (or reuse) the experiment, write the plotted numbers, then draw and save."""
    out_dir = Path(out_dir)
    rec = _load_or_run(out_dir, quick, seed)
    data = summarise(rec)
    files = [style.write_csv(out_dir, NAME, data["rows"]), style.write_data(out_dir, NAME, data)]
    params = {"quick": quick, "settings": rec["settings"],
              "experiment": "training.trainable_shared"}
    results = {f"{r['network']}|{r['eta_shared']:g}": {
        "survival_rate": r["survival_rate"], "drift_max_abs_max": r["drift_max_abs_max"],
        "test_close_agreement_mean": r["test_close_agreement_mean"]} for r in data["rows"]}
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption(data))

"""Space-time diagram: the reference simulator's tape against the decoded RCNN rollout.

Both runs are computed, compared configuration by configuration (tape, head, state, step),
and the comparison is written to the data file and the provenance before anything is drawn.
The figure is only drawn when the two agree at every step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from figures import style

NAME = "fig_spacetime"
MACHINE = "bb4"
STEPS = 107


class Mismatch(AssertionError):
    """The network rollout and the reference disagree."""


def _record(machine, cfg) -> dict[str, Any]:
    return {"step": cfg.steps, "state": machine.state_name(cfg.state),
            "head": list(cfg.head),
            "tape": sorted([r, c, a] for (r, c), a in cfg.tape.items())}


def compute(machine_name: str = MACHINE, steps: int = STEPS,
            engine: str = "float32") -> dict[str, Any]:
    """Run ``machine_name`` on both engines and compare every configuration."""
    from constructions.engine import run_network
    from constructions.tm import compile_tm
    from simulators.formats import load_machine
    from simulators.turing import trace

    machine = load_machine(machine_name)
    if not machine.is_one_dimensional:
        raise ValueError(f"{machine_name} is not a one-dimensional machine")
    reference = list(trace(machine, steps))
    network: list = []
    ctm = compile_tm(machine)
    run_network(ctm, steps, engine=engine, on_step=network.append)
    ref_rec = [_record(machine, c) for c in reference]
    net_rec = [_record(machine, c) for c in network]
    first_diff = next((i for i, (a, b) in enumerate(zip(ref_rec, net_rec)) if a != b), None)
    if first_diff is None and len(ref_rec) != len(net_rec):
        first_diff = min(len(ref_rec), len(net_rec))
    identical = first_diff is None
    return {
        "machine": machine_name,
        "s": machine.n_states,
        "k": machine.n_symbols,
        "state_names": [machine.state_name(q) for q in range(machine.n_states)],
        "steps_requested": steps,
        "engine": engine,
        "comparison": {
            "identical": identical,
            "configurations_compared": min(len(ref_rec), len(net_rec)),
            "reference_configurations": len(ref_rec),
            "network_configurations": len(net_rec),
            "first_difference": first_diff,
            "fields": ["step", "state", "head", "tape"],
        },
        "halted": reference[-1].is_halted(machine),
        "final_step": reference[-1].steps,
        "reference": ref_rec,
        "network": net_rec,
    }


def _arrays(records: list[dict[str, Any]], lo: int, hi: int) -> tuple[np.ndarray, list, list]:
    tape = np.zeros((len(records), hi - lo + 1), dtype=np.int64)
    heads, states = [], []
    for t, rec in enumerate(records):
        for r, c, a in rec["tape"]:
            if r == 0:
                tape[t, c - lo] = a
        heads.append(rec["head"][1])
        states.append(rec["state"])
    return tape, heads, states


def plot(data: dict[str, Any]):
    """Two panels, time running down: reference tape (left), decoded RCNN rollout (right)."""
    if not data["comparison"]["identical"]:
        raise Mismatch(f"network differs from the reference at configuration "
                       f"{data['comparison']['first_difference']}")
    recs = data["reference"] + data["network"]
    cols = [c for rec in recs for (_, c, _) in rec["tape"]] + [rec["head"][1] for rec in recs]
    lo, hi = min(cols) - 1, max(cols) + 1
    k = data["k"]
    greys = ["#FFFFFF", "#9A9A9A", "#4A4A4A", "#1A1A1A"][:max(k, 2)]
    cmap = ListedColormap(greys)
    names = data["state_names"] + ["Z"]
    palette = [style.OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple",
                                             "sky", "yellow")]
    colour = {n: palette[i % len(palette)] for i, n in enumerate(data["state_names"])}
    colour["Z"] = style.OKABE_ITO["black"]
    n_rows = len(data["reference"])
    width = 7.0
    height = min(8.5, 2.2 + 0.055 * n_rows)
    fig = style.new_figure(width, height)
    axes = fig.subplots(1, 2, sharey=True)
    panels = [("reference simulator", data["reference"]),
              (f"RCNN rollout, decoded ({data['engine']})", data["network"])]
    for ax, (title, records) in zip(axes, panels):
        tape, heads, states = _arrays(records, lo, hi)
        ax.imshow(tape, cmap=cmap, vmin=0, vmax=len(greys) - 1, aspect="auto",
                  interpolation="nearest", extent=(lo - 0.5, hi + 0.5, n_rows - 0.5, -0.5))
        steps = np.arange(n_rows)
        ax.plot(heads, steps, color=style.GREY, lw=0.6, zorder=2)
        for name in names:
            idx = [i for i, s in enumerate(states) if s == name]
            if idx:
                ax.scatter([heads[i] for i in idx], idx, s=9, color=colour[name], zorder=3,
                           edgecolors="white", linewidths=0.3)
        ax.set_title(title)
        ax.set_xlabel("tape cell (column)")
        ax.set_xlim(lo - 0.5, hi + 0.5)
    axes[0].set_ylabel("step (time runs down)")
    handles = [Line2D([], [], marker="o", ls="", color=colour[n],
                      label="head, halted (Z)" if n == "Z" else f"head, state {n}")
               for n in names if any(rec["state"] == n for rec in data["reference"])]
    handles += [Patch(facecolor=greys[a], edgecolor=style.GREY, label=f"symbol {a}")
                for a in range(k)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4))
    cmp_ = data["comparison"]
    halted = f", halts at step {data['final_step']}" if data["halted"] else ""
    fig.suptitle(f"{data['machine']} (s = {data['s']}, k = {data['k']}){halted}:\n"
                 f"all {cmp_['configurations_compared']} configurations identical "
                 f"(tape, head, state), checked before plotting")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Compute, compare, write the data and provenance, then draw and save the figure."""
    data = compute()
    files = [style.write_data(out_dir, NAME, data)]
    params = {"machine": data["machine"], "steps": data["steps_requested"],
              "engine": data["engine"], "quick": quick}
    results = {"comparison": data["comparison"], "halted": data["halted"],
               "final_step": data["final_step"]}
    cmp_ = data["comparison"]
    caption = (f"Space-time diagram of {data['machine']}: row 0 of the tape at every step "
               f"0..{data['final_step']}, from the reference simulator beside the "
               f"configurations decoded from the compiled RCNN's rollout ({data['engine']}, one "
               f"layer per step); compared configuration by configuration (step, state, "
               f"head, tape): {cmp_['configurations_compared']} compared, "
               + ("identical." if cmp_["identical"] else
                  f"first difference {cmp_['first_difference']} (not drawn)."))
    files.append(style.write_caption(out_dir, NAME, caption))
    # provenance first: a mismatch is on record even though plot() then refuses to draw
    prov = style.provenance(out_dir, NAME, seed=seed, params=params, results=results,
                            files=[*files, Path(f"{NAME}.pdf"), Path(f"{NAME}.png")],
                            caption=caption)
    with style.style():
        fig = plot(data)
        files += style.save(fig, out_dir, NAME)
    return [*files, prov]

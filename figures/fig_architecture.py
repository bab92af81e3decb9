"""Figure 1 of the paper, redrawn from the real module (Definition 5).

memory layer ``[W diag(z) | 1]`` -> grid with ``l`` columns of ones -> ``L`` x the shared
3x3 patch network -> pixel-wise head -> sum. Every number on the figure is read from a real
run: the compiled ``majority`` learner network (constructions/learner.py) memorises a seeded
random ``±1`` dataset (``d = 4`` features, ``m = 3`` examples) by Algorithm 1, so ``W``
holds ``±1/3``; the test point ``x`` is a seeded ``±1`` vector, ``z = [x; 1]``; the grid
cells show the actual output of ``memory(z)`` (``W_ab z_b = ±1/3`` and the ones column), and
``f(z)`` is the network's output on it (its prediction, ``±1``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from figures import style

NAME = "fig_architecture"
LEARNER = "majority"
D, M = 4, 3
PATCH_NAMES = ("A1", "b1", "A2", "b2", "A3", "b3")
HEAD_NAMES = ("U2", "c2", "U1", "c1")


def compute(quick: bool = True, seed: int = 0) -> dict[str, Any]:
    """Memorise a seeded ±1 dataset with the learner network, run one ±1 test point, and read
    every size and value off the torch module."""
    import numpy as np
    import torch

    from constructions.learner import compile_library_learner, learn, memory_inputs
    from simulators.datasets import random_dataset

    learner = compile_library_learner(LEARNER)
    X, y = random_dataset(D, M, seed=seed)
    x = 1 - 2 * np.random.default_rng(seed).integers(0, 2, size=D)
    run = learn(learner, X, y, x[None], torch.float32)
    model = run.model
    with torch.no_grad():
        z = memory_inputs(x[None], torch.float32)
        grid = model.memory(z)[0]
        value = float(model(z)[0])
    params = dict(model.named_parameters())
    return {
        "learner": LEARNER,
        "s": learner.machine.n_states,
        "k": learner.machine.n_symbols,
        "d": D, "m": M, "l": learner.l, "d_in": D + 1, "d_mem": M + 1, "layers": model.layers,
        "patch_widths": [int(params["A1"].shape[1]), int(params["A1"].shape[0]),
                         int(params["A2"].shape[0]), int(params["A3"].shape[0])],
        "head_widths": [int(params["U2"].shape[1]), int(params["U2"].shape[0]),
                        int(params["U1"].shape[0])],
        "patch_parameters": sum(params[n].numel() for n in PATCH_NAMES),
        "head_parameters": sum(params[n].numel() for n in HEAD_NAMES),
        "shared_parameters": model.n_shared_parameters,
        "W_shape": list(model.W.shape),
        "W_entries": model.W.numel(),
        "padding": model.padding,
        "X": X.tolist(), "y": y.tolist(),
        "z": z[0].tolist(),
        "W": model.W.tolist(),
        "grid": grid.tolist(),
        "f_z": value,
        "prediction": int(run.predictions[0]),
    }


def caption(data: dict[str, Any]) -> str:
    """What the figure draws, and from which data."""
    return (f"Definition 5's RCNN with a memory layer, drawn from a real run: the compiled "
            f"{data['learner']} learner network ({data['shared_parameters']:,} shared "
            f"parameters, L = {data['layers']} layers) after Algorithm 1 memorised a seeded "
            f"random ±1 dataset (m = {data['m']}, d = {data['d']}; W holds ±1/3), on a seeded "
            f"±1 test point x. The grid shows the memory layer's actual output [W diag(z) | 1] "
            f"for z = [x; 1] (padding {_fmt(data['padding'])} outside), the boxes the sizes "
            f"read from the torch module; f(z) = {_fmt(data['f_z'])} is the network's output "
            f"(its prediction).")


def _box(ax, x: float, y: float, w: float, h: float, colour: str, text: str,
         size: float = 8.5) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.25",
                                fc=colour, ec="#333333", lw=1.0))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size,
            linespacing=1.35)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], **kw: Any) -> None:
    opts = {"arrowstyle": "-|>", "mutation_scale": 12, "lw": 1.2, "color": "#333333"}
    opts.update(kw)
    ax.add_patch(FancyArrowPatch(start, end, **opts))


def _fmt(v: float) -> str:
    """Cell values as exact text: ``1``, ``-1``, ``1/3`` (the memory layer's rounded thirds
    are shown as the thirds they stand for)."""
    from constructions.explain import fmt
    from constructions.explorer import exact_value

    return fmt(exact_value(float(v)))


def plot(data: dict[str, Any]):
    """Boxes and arrows in data coordinates (1 unit = one grid cell)."""
    fig = style.new_figure(12.0, 4.6)
    ax = fig.subplots()
    ax.set_xlim(0, 32)
    ax.set_ylim(-2.6, 6.4)
    ax.set_aspect("equal")
    ax.axis("off")
    blue_fill, orange_fill = "#CFE3F3", "#FBE3B3"
    grey_fill, green_fill = "#EFEFEF", "#CDEBDD"
    cy = 2.0  # vertical centre line of the flow

    # -- input z = [x; 1]
    z = data["z"]
    n_in = len(z)
    top = cy + n_in / 2
    for i, v in enumerate(z):
        y = top - (i + 1)
        ax.add_patch(Rectangle((0.6, y), 1.0, 1.0, fc=orange_fill if i == n_in - 1 else "white",
                               ec="#333333", lw=0.9))
        ax.text(1.1, y + 0.5, _fmt(v), ha="center", va="center", fontsize=8.5)
        label = "1" if i == n_in - 1 else f"x$_{i + 1}$"
        ax.text(0.45, y + 0.5, label, ha="right", va="center", fontsize=8)
    ax.text(1.1, top + 0.35, f"z = [x; 1]\nd + 1 = {n_in}", ha="center", va="bottom",
            fontsize=8.5)

    # -- memory layer
    dm, di = data["W_shape"]
    _box(ax, 2.4, cy - 1.3, 4.2, 2.6, blue_fill,
         "memory layer\n$f_{mem}(z) = [\\,W\\,\\mathrm{diag}(z)\\;|\\;\\mathbf{1}\\,]$\n"
         f"W: {dm} × {di} = {data['W_entries']} entries\n(written by SGD: ±1/3)")
    _arrow(ax, (1.75, cy), (2.35, cy))

    # -- the grid: the actual output of model.memory(z)
    grid = data["grid"]
    rows, cols = len(grid), len(grid[0])
    gx, gy = 7.6, cy - rows / 2
    for r in range(rows):
        for c in range(cols):
            fill = orange_fill if c >= di else blue_fill
            ax.add_patch(Rectangle((gx + c, gy + rows - 1 - r), 1, 1, fc=fill,
                                   ec="#555555", lw=0.6))
            ax.text(gx + c + 0.5, gy + rows - 0.5 - r, _fmt(grid[r][c]), ha="center",
                    va="center", fontsize=7)
    # one 3x3 patch, highlighted
    pr, pc = 1, di - 1
    ax.add_patch(Rectangle((gx + pc - 1, gy + rows - 2 - pr), 3, 3, fc="none",
                           ec=style.OKABE_ITO["vermillion"], lw=2.0))
    ax.text(gx + di / 2, gy + rows + 0.25, "$W_{ab}\\, z_b$", ha="center", va="bottom",
            fontsize=8.5)
    ax.text(gx + di + data["l"] / 2 + 0.6, gy + rows + 0.25,
            f"l = {data['l']} column{'s' if data['l'] > 1 else ''} of 1",
            ha="center", va="bottom", fontsize=8.5)
    ax.text(gx + cols / 2, gy - 0.3,
            f"grid (m+1) × (d+1+l) = {rows} × {cols}, one channel\n"
            f"padding p = {_fmt(data['padding'])} outside; outlined: one 3×3 patch",
            ha="center", va="top", fontsize=8)
    _arrow(ax, (6.65, cy), (gx - 0.05, cy))

    # -- the shared patch network, applied L times
    pw = data["patch_widths"]
    px = gx + cols + 1.2
    _box(ax, px, cy - 1.3, 5.2, 2.6, green_fill,
         "shared 3×3 patch network\n"
         f"{pw[0]} → {pw[1]} → {pw[2]} → {pw[3]}  (2 ReLUs)\n"
         f"{data['patch_parameters']:,} parameters\nsame weights at every cell")
    _arrow(ax, (gx + cols + 0.05, gy + rows - 0.5 - pr), (px - 0.05, cy + 0.5),
           color=style.OKABE_ITO["vermillion"])
    _arrow(ax, (px + 2.6, cy + 1.35), (gx + cols / 2 + 0.5, gy + rows + 1.0),
           connectionstyle="arc3,rad=0.35", color=style.OKABE_ITO["blue"], lw=1.4)
    ax.text(px + 0.2, gy + rows + 1.75,
            "× L layers: new grid = patch net on every cell's 3×3 patch,\n"
            "the same weights at every one of the L iterations",
            ha="center", va="bottom", fontsize=8, color=style.OKABE_ITO["blue"])

    # -- pixel-wise head, sum, output
    hw = data["head_widths"]
    hx = px + 6.4
    _box(ax, hx, cy - 1.3, 4.0, 2.6, grey_fill,
         f"pixel-wise head\n{hw[0]} → {hw[1]} → {hw[2]}  (ReLU)\n"
         f"on every cell\n{data['head_parameters']} parameters")
    _arrow(ax, (px + 5.25, cy), (hx - 0.05, cy))
    sx = hx + 5.0
    ax.add_patch(Circle((sx, cy), 0.55, fc="white", ec="#333333", lw=1.0))
    ax.text(sx, cy, "Σ", ha="center", va="center", fontsize=12)
    ax.text(sx, cy - 0.75, "sum over\nthe grid", ha="center", va="top", fontsize=8)
    _arrow(ax, (hx + 4.05, cy), (sx - 0.6, cy))
    _arrow(ax, (sx + 0.6, cy), (sx + 1.5, cy))
    ax.text(sx + 1.6, cy, f"f(z) = {_fmt(data['f_z'])}", ha="left", va="center",
            fontsize=9.5)

    ax.text(15.5, -2.0,
            f"Weights compiled for the {data['learner']} learner (s = {data['s']}, k = "
            f"{data['k']}); W written by Algorithm 1 from m = {data['m']} examples in ±1; "
            f"sizes read from the torch module.\nShared parameters: "
            f"{data['patch_parameters']:,} (patch) + {data['head_parameters']} (head) = "
            f"{data['shared_parameters']:,}, independent of d, m and L. Only the memory "
            f"layer W ((m+1) × (d+1) = {data['W_entries']} entries here) grows with the data.",
            ha="center", va="center", fontsize=8.5, color="#333333")
    fig.suptitle("The RCNN with a memory layer (Definition 5, Figure 1): "
                 "f(z) = sum(f$_{head}$(f$_{conv}^{(L)}$(f$_{mem}$(z))))")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Build the module, write its sizes and provenance, then draw and save."""
    data = compute(quick, seed)
    files = [style.write_data(out_dir, NAME, data)]
    params = {"learner": LEARNER, "d": D, "m": M, "l": data["l"],
              "dataset": "simulators.datasets.random_dataset(d, m, seed=seed)",
              "x": "seeded random ±1 (numpy default_rng(seed))", "quick": quick}
    results = {k: data[k] for k in ("patch_widths", "head_widths", "patch_parameters",
                                     "head_parameters", "shared_parameters", "W_shape")}
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption(data))

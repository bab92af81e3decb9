"""The memory layer ``W`` across the SGD steps of Algorithm 1 (Lemma 1 (1)).

A dataset is memorised by Algorithm 1 through a real learner network (the compiled
``nearest`` learner, ``L = 1 + t(m, d)`` layers, float64): the dummy example ``(1_d, 1)``
appended, ``W = 0``, one SGD step per example on ``W`` alone with ``η = 1/3``,
``loss.backward()`` through all layers (:func:`constructions.learner.learn`). ``W`` is
recorded after every step. The dataset is a seeded random one (``m = 6`` examples, ``d = 5``
features) or, with ``srcnn figures --only memory --train FILE.csv``, the user's own.

One heatmap per step (``m + 1`` panels, the dummy step last): rows are the memory rows (one
per example, the dummy last), columns hold ``y·x_1 .. y·x_d`` (the label times each feature)
and then ``y``; a diverging colour map centred at 0 shows the values ``-1/3, 0, +1/3``; the
row written at that step is outlined. A final panel shows the expected ``W = y [x, 1] / 3``
(dummy row ``[1_d, 1] / 3``), which the last step must equal exactly: this is asserted, with
every intermediate step (rows ``<= i`` written, later rows still 0), before anything is
drawn. The recorded sequence is written as JSON (in units of ``1/3``, and as floats) first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from figures import style

NAME = "fig_memory"
LEARNER = "nearest"
M, D = 6, 5
MAX_ALL_POINTS_D = 10
"""Check the memorised network on all ``2^d`` points up to this ``d``; beyond, on the
training inputs."""


def expected_memory(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``3 W`` after Algorithm 1: rows ``y^a [x^a, 1]``, then the dummy row ``[1_d, 1]``."""
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    return np.vstack([np.hstack([X * y[:, None], y[:, None]]),
                      np.ones((1, X.shape[1] + 1), dtype=np.int64)])


def caption(data: dict[str, Any]) -> str:
    """What the figure draws, and from which data (provenance and docs)."""
    source = (f"the training set of {data['train']}" if data.get("train")
              else f"a random dataset (simulators.datasets.random_dataset, seed {data['seed']})")
    return (f"The memory layer W of the {data['learner']} learner network (L = "
            f"{data['layers']} layers, float64) after each of the {data['m'] + 1} SGD steps "
            f"of Algorithm 1 on {source}: m = {data['m']} examples, d = {data['d']} features, "
            f"plus the dummy example (1_d, 1). Row a holds y_a·x_a,1 .. y_a·x_a,d and y_a, in "
            f"units of 1/3 (colour: −1/3 red, 0 white, +1/3 blue); the outlined row is the one "
            f"written by that step. The last panel is the expected W = y[x, 1]/3; the "
            f"recorded W equals it exactly, and the network's output was exactly 0 at every "
            f"step (both asserted before drawing).")


def compute(quick: bool = True, seed: int = 0, learner: str = LEARNER, m: int = M,
            d: int = D, train: Path | str | None = None) -> dict[str, Any]:
    """Run Algorithm 1 through the compiled ``learner`` network on a random dataset (or the
    training set in the CSV file ``train``) and record ``W`` after each step; check it
    against ``y [x, 1] / 3`` exactly (raises ``AssertionError`` otherwise)."""
    import torch

    from constructions.explorer import learn_with_trace
    from constructions.learner import compile_library_learner
    from simulators.datasets import all_points, random_dataset, read_train
    from simulators.learners import predict as reference_predict

    if train is not None:
        X, y = read_train(train)
        d = X.shape[1]
    else:
        X, y = random_dataset(d, m, seed=seed)
    tests = all_points(d) if d <= MAX_ALL_POINTS_D else X
    run, Ws, outputs = learn_with_trace(compile_library_learner(learner), X, y, tests,
                                        torch.float64)
    data = record(learner, X, y, run, Ws, outputs)
    data.update(seed=seed, quick=quick, train=None if train is None else str(train),
                test_points=int(len(tests)),
                test_points_are=("all 2^d points" if d <= MAX_ALL_POINTS_D
                                 else "the training inputs"),
                test_agreement_with_reference=float(np.mean(
                    run.predictions == reference_predict(learner, X, y, tests))))
    return data


def record(learner: str, X: np.ndarray, y: np.ndarray, run, Ws: list[np.ndarray],
           outputs: list[float]) -> dict[str, Any]:
    """The figure's data from one run of Algorithm 1 (:func:`constructions.explorer.
    learn_with_trace`): ``W`` after every step, checked exactly against ``y [x, 1] / 3``
    with an output of exactly 0 at every step (``AssertionError`` otherwise). Also used by
    ``srcnn learn --trace-out``."""
    import torch

    dtype = run.W.dtype  # the W's were recorded as float64, holding exactly its values
    third = float(torch.tensor(1 / 3, dtype=dtype))
    expected3 = expected_memory(X, y)
    check_sequence(Ws, expected3, third)
    if any(o != 0.0 for o in outputs):
        raise AssertionError(f"the network's output during memorisation was {outputs}, "
                             f"not exactly 0")
    m, d = np.asarray(X).reshape(len(y), -1).shape
    return {
        "learner": learner, "m": m, "d": d, "dtype": str(dtype).removeprefix("torch."),
        "lr": "1/3", "seed": None, "train": None,
        "layers": run.layers, "grid": list(run.grid), "shared_parameters": run.shared_parameters,
        "X": np.asarray(X).tolist(), "y": np.asarray(y).tolist(),
        "steps": [{"step": i + 1, "row_written": i, "example": "dummy" if i == m else i + 1,
                   "output": outputs[i],
                   "W_thirds": np.rint(W / third).astype(int).tolist(),
                   "W": W.tolist()} for i, W in enumerate(Ws)],
        "expected_W_thirds": expected3.tolist(),
        "final_equals_expected": True,
    }


def check_sequence(Ws: list[np.ndarray], expected3: np.ndarray, third: float) -> None:
    """After step ``i`` (0-based): rows ``<= i`` equal ``expected3 * third`` exactly, later
    rows are exactly 0; after the last step ``W`` equals the expected memory exactly."""
    expected = expected3 * third
    if len(Ws) != expected.shape[0]:
        raise AssertionError(f"{len(Ws)} SGD steps recorded, expected {expected.shape[0]}")
    for i, W in enumerate(Ws):
        if not np.array_equal(W[:i + 1], expected[:i + 1]):
            raise AssertionError(f"after step {i + 1} rows 1..{i + 1} of W are not y[x,1]/3")
        if np.any(W[i + 1:] != 0):
            raise AssertionError(f"after step {i + 1} a row after {i + 1} is not 0")
    if not np.array_equal(Ws[-1], expected):
        raise AssertionError("the final W is not y[x,1]/3")


def _heatmap(ax, W3: np.ndarray, cmap, norm, *, highlight: int | None, title: str,
             ylabels: list[str], xlabels: list[str], show_y: bool):
    from matplotlib.patches import Rectangle

    im = ax.imshow(W3 / 3.0, cmap=cmap, norm=norm, aspect="equal", interpolation="nearest")
    rows, cols = W3.shape
    for a in range(rows):
        for b in range(cols):
            v = int(W3[a, b])
            if v:
                ax.text(b, a, "+" if v > 0 else "−", ha="center", va="center", fontsize=8,
                        color="white", fontweight="bold")
    ax.set_xticks(range(cols), xlabels, fontsize=6.5)
    ax.set_yticks(range(rows), ylabels if show_y else [""] * rows, fontsize=6.5)
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="#B0B0B0", lw=0.6)
    ax.tick_params(which="minor", length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if highlight is not None:
        ax.add_patch(Rectangle((-0.5, highlight - 0.5), cols, 1, fill=False,
                               edgecolor=style.OKABE_ITO["black"], lw=2.0, clip_on=False))
        ax.annotate("written", xy=(cols - 0.5, highlight), xytext=(cols + 0.1, highlight),
                    fontsize=6.5, va="center", ha="left", annotation_clip=False,
                    arrowprops={"arrowstyle": "-|>", "lw": 0.8, "color": "black"})
    ax.set_title(title, fontsize=8.5)
    return im


def plot(data: dict[str, Any]):
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    m, d = data["m"], data["d"]
    n = len(data["steps"]) + 1
    ncols = 4
    nrows = -(-n // ncols)
    fig = style.new_figure(9.2, 2.35 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    # diverging, colour-blind safe (Okabe-Ito vermillion / white / blue), centred at 0
    cmap = LinearSegmentedColormap.from_list(
        "div", [style.OKABE_ITO["vermillion"], "#FFFFFF", style.OKABE_ITO["blue"]])
    norm = TwoSlopeNorm(vmin=-1 / 3, vcenter=0.0, vmax=1 / 3)
    ylabels = [f"ex {a + 1}" for a in range(m)] + ["dummy"]
    xlabels = [f"y·x{b + 1}" for b in range(d)] + ["y"]
    im = None
    for k, st in enumerate(data["steps"]):
        ax = axes[k // ncols][k % ncols]
        ex = st["example"]
        label = "dummy (1_d, 1)" if ex == "dummy" else f"example {ex}"
        im = _heatmap(ax, np.asarray(st["W_thirds"]), cmap, norm, highlight=st["row_written"],
                      title=f"after SGD step {st['step']}: {label}\n"
                            f"(output ŷ = {st['output']:g} exactly)",
                      ylabels=ylabels, xlabels=xlabels, show_y=k % ncols == 0)
    ax = axes[(n - 1) // ncols][(n - 1) % ncols]
    _heatmap(ax, np.asarray(data["expected_W_thirds"]), cmap, norm, highlight=None,
             title="expected  W = y [x, 1] / 3\n(identical to step "
                   f"{len(data['steps'])}: asserted)",
             ylabels=ylabels, xlabels=xlabels, show_y=(n - 1) % ncols == 0)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linestyle("--")
        spine.set_color(style.GREY)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    cb = fig.colorbar(im, ax=axes, shrink=0.6, ticks=[-1 / 3, 0, 1 / 3], pad=0.02)
    cb.ax.set_yticklabels(["−1/3", "0", "+1/3"])
    cb.set_label("memory weight W_ab (unitless; + is +1/3, − is −1/3, blank 0)")
    fig.supxlabel("memory column b: y·x_b (label times feature b), then the label y",
                  fontsize=9)
    fig.supylabel("memory row (one per training example)", fontsize=9)
    fig.suptitle(f"Algorithm 1 writes the training set into W, one row per SGD step "
                 f"({data['learner']} learner network, L = {data['layers']} layers, "
                 f"m = {m}, d = {d}, η = 1/3)")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0,
         train: Path | str | None = None) -> list[Path]:
    """Run Algorithm 1 (on the CSV ``train`` if given), write the W sequence (JSON) and
    provenance, then draw and save."""
    data = compute(quick, seed, train=train)
    rows = [{"step": st["step"], "row": a, "col": b, "W_thirds": st["W_thirds"][a][b]}
            for st in data["steps"] for a in range(len(st["W_thirds"]))
            for b in range(len(st["W_thirds"][a]))]
    files = [style.write_data(out_dir, NAME, data), style.write_csv(out_dir, NAME, rows)]
    params = {"learner": data["learner"], "m": data["m"], "d": data["d"],
              "dtype": data["dtype"], "lr": data["lr"], "layers": data["layers"],
              "dataset": (data["train"] if data["train"] else
                          "simulators.datasets.random_dataset(d, m, seed=seed)"),
              "quick": quick}
    results = {"final_equals_expected": data["final_equals_expected"],
               "outputs_during_memorisation": [st["output"] for st in data["steps"]],
               "test_agreement_with_reference": data["test_agreement_with_reference"]}
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption(data))

"""The cost of learning parity through the construction, against d.

For each ``d``: ``m = 2d`` examples of a random parity (``k = d / 2``) with a full-rank
training set, Algorithm 1 (SGD on the memory layer) and then the Gaussian-elimination
machine on ``n`` test points, all through the network on the event-driven executor
(docs/events.md). Three panels against ``d`` (log-log): wall time, the depth
``L = 1 + t(m, d)``, and the patch-network evaluations next to the dense executor's
cell-updates for the same layers; each with the least-squares slope of its log-log line over
``d >= 8`` (the fitted polynomial degree), and the dense executor's time where it ran. Every
point's predictions are checked equal to the true parity and to the reference learner (a
mismatch is an error, not a point).

Quick: ``d`` in 3..8, 8 test points, computed here (a minute). Full: the rows of
``results/events/bench.json`` written by ``benchmarks/bench_events.py --json`` when present
(``d`` up to 32 with 32 test points), else ``d`` in 4..16 computed here.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from figures import style

NAME = "fig_parity_cost"
REPO = Path(__file__).resolve().parents[1]
SAVED = REPO / "results" / "events" / "bench.json"


def parity_problem(d: int, m: int, n_tests: int, seed: int):
    """A full-rank random parity problem: (X, y, test points, their true labels)."""
    from simulators.datasets import parity_labels, random_parity
    from simulators.gf2 import rank

    for attempt in range(100):
        ds = random_parity(d, max(1, d // 2), m, seed=seed + 1000 * attempt)
        if rank(((1 - ds.X) // 2).tolist()) == min(d, m):
            break
    rng = np.random.default_rng([seed, d])
    tests = rng.choice(np.array([-1, 1]), size=(n_tests, d))
    return ds.X, ds.y, tests, parity_labels(tests, ds.S)


def measure(d: int, m: int, n_tests: int, engine: str = "events", seed: int = 0) -> dict:
    """Learn one parity problem through the network; time, depth, counts, peak memory."""
    import torch

    from constructions.learner import compile_library_learner, learn
    from simulators.learners import predict as reference_predict

    torch.set_num_threads(1)
    learner = compile_library_learner("parity")
    X, y, tests, truth = parity_problem(d, m, n_tests, seed)
    if engine == "events":  # load the compiled kernel outside the measurement
        learn(learner, X[:1, :1], y[:1], tests[:1, :1], torch.float32, engine=engine)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    run = learn(learner, X, y, tests, torch.float32, engine=engine)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ref = reference_predict("parity", X, y, tests)
    if not (np.array_equal(run.predictions, truth) and np.array_equal(run.predictions, ref)):
        raise AssertionError(f"d = {d}: the network's predictions differ from the true parity "
                             "or from the reference learner")
    out: dict[str, Any] = {"d": d, "m": m, "tests": n_tests, "engine": engine,
                           "layers": run.layers, "grid": list(run.grid), "seconds": secs,
                           "peak_rss_mib": peak / 1024, "peak_growth_mib": (peak - base) / 1024,
                           "correct": True, "equal_to_reference_learner": True}
    if run.stats is not None:
        out.update(run.stats.as_dict())
    else:  # every cell at every layer, per SGD step and per test point
        out["dense_cell_updates"] = run.layers * run.grid[0] * run.grid[1] * (m + 1 + n_tests)
    return out


def fitted_degree(ds: list[float], ys: list[float], from_d: int = 8) -> float | None:
    """Slope of log y against log d over the points with d >= ``from_d`` (or all if fewer
    than two): the polynomial degree of the growth."""
    pts = [(a, b) for a, b in zip(ds, ys) if a >= from_d and b > 0]
    if len(pts) < 2:
        pts = [(a, b) for a, b in zip(ds, ys) if b > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def rows_for(quick: bool, seed: int) -> tuple[list[dict], str]:
    """The measured rows (events, and dense where it ran) and where they come from."""
    if quick:
        rows = [measure(d, 2 * d, 8, seed=seed) for d in (3, 4, 5, 6, 8)]
        return rows + [measure(3, 6, 8, "dense", seed)], "computed (quick)"
    if SAVED.is_file():
        rec = json.loads(SAVED.read_text(encoding="utf-8"))
        rows = [r for r in rec.get("parity", []) if r["engine"] in ("events", "dense")]
        if any(r["engine"] == "events" for r in rows):
            return rows, f"read from {SAVED.relative_to(REPO)}"
    rows = [measure(d, 2 * d, 32, seed=seed) for d in (4, 6, 8, 12, 16)]
    return rows + [measure(4, 8, 32, "dense", seed)], "computed (full)"


def plot(data: dict[str, Any]):
    rows = data["rows"]
    dense_rows = data.get("dense", [])
    d = [r["d"] for r in rows]
    fig = style.new_figure(10.0, 3.2)
    axes = fig.subplots(1, 3)
    panels = [
        ("seconds", "wall time (s)", "time"),
        ("layers", "depth L = 1 + t(m, d)", "layers"),
        ("patch_evaluations", "patch-network evaluations", "evaluations"),
    ]
    for ax, (key, label, short) in zip(axes, panels):
        ys = [r[key] for r in rows]
        k = data["degrees"][short]
        ax.plot(d, ys, marker="o", ms=4, color=style.OKABE_ITO["green"],
                label=f"events executor (slope {k:.1f})" if k is not None else "events")
        if key == "seconds" and dense_rows:
            ax.plot([r["d"] for r in dense_rows], [r["seconds"] for r in dense_rows],
                    marker="s", ms=4, ls="none", color=style.GREY,
                    label="dense executor, same problem")
        if key == "patch_evaluations":
            dense = [r["dense_cell_updates"] for r in rows]
            kd = data["degrees"]["dense_cell_updates"]
            ax.plot(d, dense, marker="s", ms=3.5, ls="--", color=style.GREY,
                    label=f"dense cell-updates (slope {kd:.1f})" if kd is not None else "dense")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("input dimension d (m = 2d)")
        ax.set_ylabel(label)
        ax.grid(True, which="major")
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle("Learning parity through the construction (Algorithm 1 + Gaussian "
                 f"elimination machine), {rows[0]['tests']} test points per d")
    return fig


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Measure (or read) the cost rows, write them, then draw and save."""
    out_dir = Path(out_dir)
    measured, source = rows_for(quick, seed)
    rows = sorted((r for r in measured if r["engine"] == "events"), key=lambda r: r["d"])
    dense = sorted((r for r in measured if r["engine"] == "dense"), key=lambda r: r["d"])
    ds = [r["d"] for r in rows]
    degrees = {short: fitted_degree(ds, [r[key] for r in rows])
               for key, short in (("seconds", "time"), ("layers", "layers"),
                                  ("patch_evaluations", "evaluations"),
                                  ("dense_cell_updates", "dense_cell_updates"))}
    data = {"rows": rows, "dense": dense, "degrees": degrees, "source": source, "seed": seed}
    files = [style.write_csv(out_dir, NAME, rows), style.write_data(out_dir, NAME, data)]
    return style.publish(out_dir, NAME, plot, data, seed=seed,
                         params={"quick": quick, "source": source, "m": "2d", "k": "d/2"},
                         results={"fitted_degrees": degrees,
                                  "largest_d": rows[-1]["d"],
                                  "seconds_at_largest_d": round(rows[-1]["seconds"], 2)},
                         files=files, caption=caption(data))


def caption(data: dict[str, Any]) -> str:
    """What the figure draws and from which data, with this run's numbers."""
    rows = data["rows"]
    deg = {k: ("n/a" if v is None else f"{v:.2f}") for k, v in data["degrees"].items()}
    ds = [r["d"] for r in rows]
    dense = f" and the dense executor at d = {[r['d'] for r in data['dense']]}" \
        if data["dense"] else ""
    return ("The cost of learning parity through the construction against d (log-log): for "
            f"each d in {ds}, m = 2d examples of a random parity (k = d/2) with a full-rank "
            "training set, Algorithm 1 (SGD on W) and then the Gaussian-elimination machine "
            "on every test point, all through the compiled parity network on the event-driven "
            "executor (docs/events.md); every prediction checked equal to the true parity and "
            "the reference learner. Panels: wall time, depth L = 1 + t(m, d), and patch-network "
            "evaluations beside the dense executor's cell-updates for the same layers" + dense
            + ". Fitted degrees (least-squares slope of log-log over d >= 8): time "
            f"{deg.get('time')}, layers {deg.get('layers')}, evaluations "
            f"{deg.get('evaluations')}, dense cell-updates {deg.get('dense_cell_updates')}. "
            f"Data: {data['source']}, seed {data['seed']}.")

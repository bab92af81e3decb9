"""``srcnn learn --trace``: what Algorithm 1 and the learner network did, step by step.

The trace is built from the run itself: ``W`` as recorded after every SGD step of
:func:`constructions.learner.learn` (through :func:`constructions.explorer.learn_with_trace`),
then the grids of the test phase on one test point, computed by the same network with that
``W`` (:func:`constructions.explorer.test_phase_grids`) and decoded into the learner tape,
and for parity the feature set ``S`` read off the network by probing it
(:func:`constructions.explorer.parity_set_from_network`), beside the reference learner's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class TraceError(ValueError):
    """A bad --trace option (one line, exit code 2)."""


def parse_layers(text: str, L: int) -> list[int]:
    """``--trace-layers``: comma-separated layer numbers ``0..L``, ``L`` for the last."""
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            n = L if part == "L" else int(part)
        except ValueError:
            raise TraceError(f"--trace-layers: {part!r} is not a layer number or L") from None
        if not 0 <= n <= L:
            raise TraceError(f"--trace-layers: layer {n} is outside 0..{L} (L = {L})")
        out.append(n)
    return sorted(set(out))


def _raw_grid_text(grid: np.ndarray) -> str:
    from constructions.explain import fmt
    from constructions.explorer import exact_value

    cells = [[fmt(exact_value(float(v))) for v in row] for row in grid]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("  " + " ".join(f"{c:>{width}}" for c in row) for row in cells)


def build_trace(learner, X: np.ndarray, y: np.ndarray, tests: np.ndarray, run,
                Ws: list[np.ndarray], outputs: list[float], layers: list[int],
                point: int) -> dict[str, Any]:
    """The trace record (JSON-ready): W per step, the chosen layers of test point ``point``
    (1-based), the predictions and, for parity, ``S``."""
    from constructions.explorer import (
        decode_learner_grid,
        parity_set_from_network,
        test_phase_grids,
    )

    model = run.model  # the network Algorithm 1 memorised, W as it left it
    grids = test_phase_grids(model, tests[point - 1])
    m = len(y)
    record: dict[str, Any] = {
        "W_steps": [{"step": i + 1, "example": "dummy" if i == m else i + 1,
                     "output": outputs[i], "W_thirds": np.rint(W * 3).astype(int).tolist()}
                    for i, W in enumerate(Ws)],
        "point": point, "x": [int(v) for v in tests[point - 1]],
        "layers": {str(n): (None if n == 0 else decode_learner_grid(learner, grids[n]))
                   for n in layers},
        "raw_layer0": grids[0].tolist(),
        "predictions": [int(v) for v in run.predictions],
    }
    if learner.name == "parity":
        from simulators.learners import fit_parity

        record["parity_S_network"] = parity_set_from_network(model)
        record["parity_S_reference"] = list(fit_parity(np.asarray(X), np.asarray(y)).S)
    return record


def trace_text(rec: dict[str, Any], d: int, tests: np.ndarray) -> str:
    """The trace as text: W tables, the chosen layers (head in brackets), predictions, S."""
    from constructions.explain import tape_text, w_table_text

    lines = ["trace: W after every SGD step of Algorithm 1, in units of 1/3 (row a holds "
             "y_a·x_a and y_a; the dummy example last)"]
    for st in rec["W_steps"]:
        what = "the dummy example" if st["example"] == "dummy" else f"example {st['example']}"
        lines += [f"step {st['step']} ({what}; network output during the step "
                  f"{st['output']:g}):", w_table_text(st["W_thirds"], d)]
    lines.append("")
    lines.append(f"trace: test point {rec['point']}, x = {rec['x']}")
    for n, view in rec["layers"].items():
        if n == "0":
            lines += ["layer 0 (the memory layer's output [W diag(x, 1) | 1]; ±1/3 stands "
                      "for the dtype's rounding of it):",
                      _raw_grid_text(np.asarray(rec["raw_layer0"]))]
        else:
            lines += [f"layer {n} (learner tape after {int(n) - 1} machine step(s); head in "
                      "brackets):", tape_text(view)]
    lines.append("")
    lines.append("trace: prediction per test point")
    for i, (x, p) in enumerate(zip(tests, rec["predictions"]), start=1):
        lines.append(f"  {i:>3}  x = {[int(v) for v in x]}  ->  {p:+d}")
    if "parity_S_network" in rec:
        def names(S):
            return "{" + ", ".join(f"x{i + 1}" for i in S) + "}"
        net, ref = rec["parity_S_network"], rec["parity_S_reference"]
        lines.append(f"trace: parity S = {names(net)} (read off the network: it predicts -1 "
                     f"exactly on the probes x = (1, .., -1 at i, .., 1) with i in S); the "
                     f"reference parity learner finds {names(ref)}"
                     + ("" if net == ref else "  -- DIFFERENT"))
    return "\n".join(lines)


def write_trace_image(path: Path, learner_name: str, X, y, run, Ws, outputs,
                      train: str) -> Path:
    """``--trace-out``: the W-per-step figure (figures/fig_memory.py's drawing) of this run,
    as PNG (or PDF by suffix); returns the path."""
    from figures import fig_memory, style

    data = fig_memory.record(learner_name, X, y, run, Ws, outputs)
    data["train"] = train
    with style.style():
        fig = fig_memory.plot(data)
        fig.savefig(path, dpi=style.DPI)
    return path

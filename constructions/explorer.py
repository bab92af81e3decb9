"""The data behind the interactive explorer (``srcnn explain MACHINE --html``), the notebook
and ``srcnn learn --trace``: real rollouts of a compiled network, layer by layer.

Everything shown is computed here, in Python, by the real network: the grids come from
:meth:`constructions.rcnn.RCNN.rollout` (float64) with the compiled (or stored) weights,
and each cell's explanation (the units that fire on its 3x3 patch and what they add) from
:func:`constructions.explain.patch_activity` on the same weights, which is checked to
reproduce the rollout's next value at every cell of every layer before anything is
returned. The reference simulator's configurations are computed independently
(:func:`simulators.turing.trace`, :func:`simulators.gridrun.trace_grid`) and compared with
the network's decoded configurations at every layer.

Machine mode (:func:`machine_rollout`): one layer = one machine step, on a grid covering
every cell the run visits (padding is the blank code, so the grid is exact).
Learner mode (:func:`learner_rollout`): ``W`` after every SGD step of Algorithm 1, then the
``L`` layers of the test phase on one test point.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from constructions.explain import (
    ExplainError,
    float_weights,
    fmt,
    learner_label,
    patch_activity,
    tm_label,
)
from constructions.patchnet import OFFSETS

MAX_EMBEDDED_CELLS = 400_000
"""Refuse rollouts whose layers x cells exceed this (the page embeds every layer)."""


def _patches(grid: np.ndarray, padding: float) -> np.ndarray:
    """(H, W) -> (H, W, 9): every cell's 3x3 patch, row-major, padded."""
    H, W = grid.shape
    padded = np.full((H + 2, W + 2), float(padding))
    padded[1:-1, 1:-1] = grid
    return np.stack([padded[1 + dr:1 + dr + H, 1 + dc:1 + dc + W] for dr, dc in OFFSETS],
                    axis=-1)


def explain_cells(weights: dict[str, np.ndarray], grids: list[np.ndarray], padding: float,
                  keep_layer1: bool) -> tuple[list[dict], list[list[list[int]]]]:
    """For every layer ``i < len(grids) - 1`` and cell: the id of its patch in a list of
    distinct patches, each with its :func:`~constructions.explain.patch_activity`. Raises
    ``AssertionError`` if an activity's value differs from the next grid's value."""
    ids: dict[tuple, int] = {}
    table: list[dict] = []
    per_layer = []
    for i in range(len(grids) - 1):
        patches = _patches(grids[i], padding)
        layer_ids = []
        for r in range(patches.shape[0]):
            row = []
            for c in range(patches.shape[1]):
                key = tuple(float(v) for v in patches[r, c])
                if key not in ids:
                    ids[key] = len(table)
                    with np.errstate(over="ignore", invalid="ignore"):
                        act = patch_activity(weights, key, keep_layer1)
                    act["patch"] = list(key)
                    table.append(act)
                pid = ids[key]
                want, got = float(grids[i + 1][r, c]), table[pid]["value"]
                if got != want and not (np.isnan(got) and np.isnan(want)):
                    # Exact networks give one value in every evaluation order; weights
                    # edited off that grid (or overflowing) need not.
                    raise ExplainError(
                        f"layer {i + 1}, cell ({r}, {c}): the patch network evaluated alone "
                        f"gives {got!r}, the batched rollout {want!r}; this network's float "
                        "arithmetic depends on the evaluation order (its weights are not "
                        "exact), so the explorer cannot show one value per cell ('srcnn "
                        "certify' shows where it goes wrong)")
                row.append(pid)
            layer_ids.append(row)
        per_layer.append(layer_ids)
    return table, per_layer


def _rollout(patch, head, grid: np.ndarray, padding: float, layers: int) -> list[np.ndarray]:
    from constructions.rcnn import RCNN

    model = RCNN(patch, head, layers=layers, padding=padding, dtype=torch.float64)
    with torch.no_grad():
        t = torch.as_tensor(grid, dtype=torch.float64)[None]
        return [g[0].numpy().copy() for g in model.rollout(t, layers, keep=True)]


def _config_view(machine, cfg, origin: tuple[int, int], shape: tuple[int, int]) -> dict:
    """A configuration as grid rows of symbol names, with the head in grid coordinates."""
    H, W = shape
    symbols = [[machine.symbol_names[cfg.tape.get((r - origin[0], c - origin[1]), 0)]
                for c in range(W)] for r in range(H)]
    return {"symbols": symbols, "head": [cfg.head[0] + origin[0], cfg.head[1] + origin[1]],
            "state": machine.state_name(cfg.state), "steps": cfg.steps}


def _same(a: dict | None, b: dict) -> bool:
    return a is not None and all(a[k] == b[k] for k in ("symbols", "head", "state"))


def machine_rollout(ctm, steps: int, patch=None, head=None) -> dict[str, Any]:
    """Run ``ctm`` (a :class:`constructions.tm.CompiledTM`) for up to ``steps`` steps through
    the network (its own weights, or ``patch``/``head``) and the reference simulator.

    Returns ``{"grids": [...], "decoded": [...], "reference": [...], "match": [...],
    "patches": [...], "patch_ids": [...], "labels": {...}}``: one grid (cell values) per
    layer 0..n, the network's decoded configuration (``None`` where the grid does not
    decode, with ``decode_errors``), the reference's, and the cell explanations.
    """
    from constructions.tm import DecodeError
    from simulators.turing import trace

    machine = ctm.machine
    configs = list(trace(machine, steps))
    cells = [cell for cfg in configs for cell in [*cfg.tape, cfg.head]]
    r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
    c0, c1 = min(c for _, c in cells), max(c for _, c in cells)
    shape, origin = (r1 - r0 + 1, c1 - c0 + 1), (-r0, -c0)
    n = len(configs) - 1
    if (n + 1) * shape[0] * shape[1] > MAX_EMBEDDED_CELLS:
        raise ExplainError(f"{n} steps on a {shape[0]}x{shape[1]} grid is too large to embed "
                           f"(limit {MAX_EMBEDDED_CELLS:,} cells over all layers); ask for "
                           f"fewer --steps")
    patch = ctm.patch if patch is None else patch
    head = ctm.head if head is None else head
    grid0 = ctm.encode(configs[0], shape, origin).astype(np.float64)
    grids = _rollout(patch, head, grid0, float(ctm.padding), n)
    decoded, errors = [], []
    for i, g in enumerate(grids):
        try:
            decoded.append(_config_view(machine, ctm.decode(g, origin, i), origin, shape))
            errors.append("")
        except DecodeError as e:
            decoded.append(None)
            errors.append(str(e))
    reference = [_config_view(machine, cfg, origin, shape) for cfg in configs]
    table, ids = explain_cells(float_weights(patch), grids, float(ctm.padding), True)
    value_text, labels = value_maps([*grids, np.full((1, 1), float(ctm.padding))],
                                    tm_label(machine, ctm.encoding))
    return {
        "mode": "machine",
        "shape": list(shape), "origin": list(origin), "padding": float(ctm.padding),
        "grids": [g.tolist() for g in grids],
        "decoded": decoded, "decode_errors": errors, "reference": reference,
        "match": [_same(a, b) for a, b in zip(decoded, reference)],
        "halted": configs[-1].is_halted(machine),
        "patches": table, "patch_ids": ids,
        "labels": labels, "value_text": value_text,
        "readout": [float(_readout(head, g)) for g in grids],
    }


def exact_value(v: float) -> Fraction:
    """The exact cell value a float stands for: itself, or ``k/3`` for the memory layer's
    thirds rounded to float32 or float64 (``float(1/3)`` is not ``1/3``; every other cell
    value is a small dyadic rational, far from any ``k/3`` that is not one)."""
    f = Fraction(v)
    if not math.isfinite(3 * v):
        return f
    third = Fraction(round(3 * v), 3)
    return third if f != third and abs(float(third) - v) < 1e-6 else f


def value_maps(grids: list[np.ndarray], label) -> tuple[dict[str, str], dict[str, str]]:
    """For every distinct cell value in ``grids``, keyed by ``String(v)`` (what the page
    looks up, :func:`js_key`): its exact text (``"-1/3"``) and its meaning under ``label``."""
    values = {float(v) for g in grids for v in g.ravel()}
    finite = [v for v in values if np.isfinite(v)]  # weights from a file may overflow
    text = {js_key(v): fmt(exact_value(v)) for v in finite}
    words = {js_key(v): label(exact_value(v)) for v in finite}
    return text, words


def js_key(v: float) -> str:
    """``String(v)`` in JavaScript for the values that occur here (integers without ``.0``,
    other floats as their shortest round-trip repr, which both languages print alike)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _readout(head, grid: np.ndarray) -> float:
    w = float_weights(head)
    v = grid.reshape(-1, 1)
    with np.errstate(over="ignore", invalid="ignore"):  # stored weights may overflow
        return float((np.maximum(v @ w["U2"].T + w["c2"], 0.0) @ w["U1"].T + w["c1"]).sum())


# ---------------------------------------------------------------------------------------
# learners
# ---------------------------------------------------------------------------------------
def decode_learner_grid(learner, grid: np.ndarray) -> dict | None:
    """A grid after layer ``>= 1`` as learner-tape symbols, head cell and state; ``None``
    if some cell is not ``CODE_OFFSET + code`` (e.g. during memorisation)."""
    from constructions.encoding import EncodingError
    from constructions.learner import CODE_OFFSET

    m = learner.machine
    symbols, head, state = [], None, None
    for r, row in enumerate(grid):
        out = []
        for c, v in enumerate(row):
            code = v - CODE_OFFSET
            try:
                digits = learner.encoding.decode(int(code)) if code == int(code) else None
            except EncodingError:
                digits = None
            if digits is None:
                return None
            out.append(m.symbol_names[digits["symbol"]])
            if digits["head"]:
                head = [r, c]
                state = ("Z" if digits["state"] == m.n_states
                         else m.state_names[digits["state"]])
        symbols.append(out)
    return {"symbols": symbols, "head": head, "state": state}


def learn_with_trace(learner, X: np.ndarray, y: np.ndarray, tests: np.ndarray,
                     dtype: torch.dtype = torch.float32, steps: int | None = None,
                     on_step=None, on_batch=None, engine: str = "dense"):
    """:func:`constructions.learner.learn` (on ``engine``), recording ``W`` (as float64,
    exactly the values of ``dtype``) and the output after every SGD step: returns
    ``(run, Ws, outputs)``. ``on_step``/``on_batch`` are passed on."""
    from constructions.learner import learn

    Ws: list[np.ndarray] = []
    outputs: list[float] = []

    def record(i: int, y_hat: torch.Tensor, W: torch.Tensor) -> None:
        outputs.append(float(y_hat))
        Ws.append(W.to(torch.float64).numpy().copy())
        if on_step is not None:
            on_step(i, y_hat, W)

    run = learn(learner, X, y, tests, dtype, steps=steps, on_step=record, on_batch=on_batch,
                engine=engine)
    return run, Ws, outputs


def test_phase_grids(model, x: np.ndarray) -> list[np.ndarray]:
    """The grids of the test phase on test point ``x`` of a memorised ``model``:
    ``memory([x; 1])`` (layer 0), then every one of its layers."""
    from constructions.learner import memory_inputs

    with torch.no_grad():
        z = memory_inputs(np.asarray(x).reshape(1, -1), model.W.dtype)
        return [g[0].to(torch.float64).numpy().copy()
                for g in model.rollout(model.memory(z), keep=True)]


def parity_set_from_network(model) -> list[int]:
    """The set ``S`` of the parity a memorised parity network computes, read off the network:
    its prediction on the point with only ``x_i = -1`` is ``-1`` iff ``i`` is in ``S``
    (0-based). Also checks the all-ones point predicts ``+1`` (``ValueError`` otherwise)."""
    from constructions.learner import predict

    d = model.W.shape[1] - 1
    probes = np.ones((d + 1, d), dtype=np.int64)
    for i in range(d):
        probes[i + 1, i] = -1
    out = predict(model, probes)
    if out[0] != 1:
        raise ValueError(f"the network predicts {out[0]} on the all-ones point; a parity "
                         f"predicts +1 there")
    return [i for i in range(d) if out[i + 1] == -1]


def learner_rollout(learner, X: np.ndarray, y: np.ndarray, x: np.ndarray,
                    steps: int | None = None) -> dict[str, Any]:
    """Algorithm 1 on ``(X, y)`` (float64), ``W`` after every step, then the test phase on
    the test point ``x``: every layer's grid, its decoded learner tape, the reference grid
    machine's configuration (:func:`simulators.gridrun.trace_grid`) and the cell
    explanations."""
    from simulators.gridrun import trace_grid
    from simulators.learner_tape import learner_tape, start_cell

    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    x = np.asarray(x, dtype=np.int64).reshape(-1)
    m, d = X.shape
    L = learner.layers(m, d, steps)
    cells = (m + 1) * (d + 1 + learner.l)
    if (L + 1) * cells > MAX_EMBEDDED_CELLS:
        raise ExplainError(f"L = {L} layers on a {m + 1}x{d + 1 + learner.l} grid is too "
                           f"large to embed (limit {MAX_EMBEDDED_CELLS:,} cells over all "
                           f"layers); use fewer examples or features")
    from constructions.learner import LEARNING_RATE, single_thread
    from constructions.memorisation import algorithm1

    model = learner.rcnn(m, d, torch.float64, steps=steps)
    Ws: list[np.ndarray] = []
    outputs: list[float] = []

    def on_step(i: int, y_hat: torch.Tensor, W: torch.Tensor) -> None:
        outputs.append(float(y_hat))
        Ws.append(W.numpy().copy())

    with single_thread():
        algorithm1(model, X, y, lr=float(LEARNING_RATE), on_step=on_step)
        grids = test_phase_grids(model, x)
    machine = learner.machine
    tape = learner_tape(X, y, x, learner.l, symbols=machine)
    ref_configs = list(trace_grid(machine, tape, start_cell(m, d), max_steps=L - 1))
    shape = tape.shape
    reference = [None] + [_config_view(machine, ref_configs[min(i, len(ref_configs) - 1)],
                                       (0, 0), shape) for i in range(L)]
    decoded = [None] + [decode_learner_grid(learner, g) for g in grids[1:]]
    keep1 = learner.patch.hidden[0] <= 64
    from constructions.learner import PAD

    table, ids = explain_cells(float_weights(learner.patch), grids, float(PAD), keep1)
    prediction = round(_readout(learner.head, grids[-1]))
    if prediction not in (1, -1) or prediction != _readout(learner.head, grids[-1]):
        raise ExplainError(f"the network wrote no single answer within {L - 1} steps "
                           f"(output {_readout(learner.head, grids[-1])!r})")
    value_text, labels = value_maps([*grids, np.full((1, 1), float(PAD))],
                                    learner_label(learner))
    return {
        "mode": "learner",
        "learner": learner.name, "m": m, "d": d, "layers": L,
        "X": X.tolist(), "y": y.tolist(), "x": x.tolist(),
        "W_steps": [{"step": i + 1, "example": "dummy" if i == m else i + 1,
                     "output": outputs[i], "W_thirds": np.rint(W * 3).astype(int).tolist()}
                    for i, W in enumerate(Ws)],
        "shape": list(shape), "padding": float(PAD),
        "grids": [g.tolist() for g in grids],
        "decoded": decoded, "reference": reference,
        "match": [None] + [_same(a, b) for a, b in zip(decoded[1:], reference[1:])],
        "patches": table, "patch_ids": ids,
        "labels": labels, "value_text": value_text,
        "prediction": prediction,
        "readout": [float(_readout(learner.head, g)) for g in grids],
    }

"""The event-driven executor computes what the dense executor computes (docs/events.md).

Definition 5's RCNN applies one patch network at every cell of every layer; the
event-driven executor applies it only where a cell's input changed. These comparisons are
used by the ``events-agree`` check and by tests/test_events.py:

* :func:`tm_mismatches`: a compiled machine run by ``run_network`` (dense) and by
  ``run_events``, every intermediate configuration compared;
* :func:`rollout_mismatches`: ``RCNN.rollout`` against ``EventsRCNN.rollout`` on one grid,
  every layer's grid compared with ``torch.equal``;
* :func:`algorithm1_mismatches`: Algorithm 1 on a learner network, dense against events:
  the output, the gradient with respect to ``W`` and ``W`` after every SGD step, then the
  test outputs.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from constructions.engine import run_network
from constructions.events import EventsError, EventsRCNN
from constructions.events_learn import events_rcnn
from constructions.events_tm import run_events
from constructions.learner import compile_library_learner, memory_inputs
from constructions.rcnn import RCNN
from constructions.tm import CompiledTM, DecodeError, compile_tm
from proofs_check.registry import Result, check
from simulators.sampling import ALL_MOVES, random_machine
from simulators.turing import Configuration, TuringMachine


def random_config(machine: TuringMachine, rng: random.Random, width: int = 8) -> Configuration:
    """A random tape around the origin (a width x width square for grid machines), the
    head on it in a random running state."""
    rows = range(-(width // 2), width - width // 2) if not machine.is_one_dimensional else [0]
    cols = range(-(width // 2), width - width // 2)
    tape = {(r, c): rng.randrange(machine.n_symbols) for r in rows for c in cols}
    tape = {cell: a for cell, a in tape.items() if a}
    head = (rng.choice(list(rows)), rng.choice(list(cols)))
    return Configuration(tape, head, rng.randrange(machine.n_states))


def _same(a: Configuration, b: Configuration) -> bool:
    return (a.tape, a.head, a.state, a.steps) == (b.tape, b.head, b.state, b.steps)


def tm_mismatches(machine: TuringMachine | CompiledTM, steps: int, dtype: str = "float32",
                  config: Configuration | None = None, backend: str = "auto",
                  margin: int = 64) -> list[str]:
    """Every step where the events engine's configuration differs from the dense one's
    (``margin``: the events grid's initial blank margin; small values make it grow often)."""
    ctm = machine if isinstance(machine, CompiledTM) else compile_tm(machine)
    dense: list[Configuration] = []
    events: list[Configuration] = []
    a = run_network(ctm, steps, dtype, config=config, on_step=dense.append, chunk=16)
    try:
        b = run_events(ctm, steps, dtype, config=config, on_step=events.append,
                       backend=backend, margin=margin).config
    except (DecodeError, EventsError) as e:  # the dense run decoded every step
        return [f"events run failed after {len(events)} configurations: {e}"]
    out = [f"step {x.steps}: dense {x} events {y}" for x, y in zip(dense, events)
           if not _same(x, y)]
    if len(dense) != len(events):
        out.append(f"dense saw {len(dense)} configurations, events {len(events)}")
    if not _same(a, b):
        out.append(f"final: dense {a} events {b}")
    return out


def reference_mismatches(machine: TuringMachine | CompiledTM, steps: int,
                         config: Configuration | None = None, margin: int = 64) -> list[str]:
    """Every step where the events engine differs from the reference simulator. Where the
    dense network is proven equal to the reference at every step (every local view of
    every 2-state 2-symbol machine, check ``tm-step-exhaustive-2x2``), this is the
    comparison with the dense executor at a fraction of its cost."""
    from simulators.turing import trace

    ctm = machine if isinstance(machine, CompiledTM) else compile_tm(machine)
    ref = list(trace(ctm.machine, steps, config.copy() if config is not None else None))
    got: list[Configuration] = []
    try:
        run_events(ctm, steps, "float32", config=config, on_step=got.append, margin=margin)
    except (DecodeError, EventsError) as e:
        return [f"events run failed after {len(got)} configurations: {e}"]
    out = [f"step {x.steps}: reference {x} events {y}" for x, y in zip(ref, got)
           if not _same(x, y)]
    if len(ref) != len(got):
        out.append(f"reference saw {len(ref)} configurations, events {len(got)}")
    return out


def rollout_mismatches(dense: RCNN, events: EventsRCNN, grid: torch.Tensor,
                       layers: int) -> list[str]:
    """Every layer whose grid differs between the dense and the events rollout."""
    with torch.no_grad():
        a = dense.rollout(grid, layers, keep=True)
        b = events.rollout(grid, layers, keep=True)
    return [f"layer {k}: grids differ at {(x != y).nonzero()[0].tolist()}"
            for k, (x, y) in enumerate(zip(a, b)) if not torch.equal(x, y)]


def algorithm1_mismatches(name: str, X: np.ndarray, y: np.ndarray, tests: np.ndarray,
                          dtype: torch.dtype = torch.float32, backend: str = "auto",
                          checkpoint_every: int | None = None) -> list[str]:
    """Algorithm 1 step by step on both executors (the loop of
    :func:`constructions.memorisation.algorithm1`, with the gradient kept for comparison),
    then the test outputs: every difference. ``checkpoint_every`` overrides the dense
    model's activation checkpointing."""
    learner = compile_library_learner(name)
    m, d = X.shape
    models = [learner.rcnn(m, d, dtype), events_rcnn(learner, m, d, dtype, backend=backend)]
    if checkpoint_every is not None:
        models[0].checkpoint_every = checkpoint_every
    Xd = np.vstack([X.reshape(m, d), np.ones((1, d), dtype=np.int64)])
    yd = np.append(y, 1)
    opts = [torch.optim.SGD([mod.W], lr=1 / 3) for mod in models]
    errors: list[str] = []
    for i, (x, label) in enumerate(zip(Xd, yd)):
        z = torch.tensor(np.append(x, 1), dtype=dtype)[None]
        seen = []
        for mod, opt in zip(models, opts):
            opt.zero_grad()
            y_hat = mod(z)[0]
            (0.5 * (float(label) - y_hat) ** 2).backward()
            grad = mod.W.grad.clone()
            opt.step()
            seen.append((y_hat.detach(), grad, mod.W.detach().clone()))
        for what, u, v in zip(("output", "gradient", "W"), seen[0], seen[1]):
            if not torch.equal(u, v):
                errors.append(f"SGD step {i + 1}: {what} differs")
    z = memory_inputs(tests, dtype)
    with torch.no_grad():
        outs = [mod(z) for mod in models]
    if not torch.equal(*outs):
        errors.append(f"test outputs differ: dense {outs[0].tolist()} events {outs[1].tolist()}")
    return errors


@check("events-agree", "Definition 5 executed event by event: the dense network's values",
       "property-based",
       "the event-driven executor equals the dense executor bit for bit: every configuration "
       "of random machines (all five moves), Algorithm 1 on random parity data",
       params=lambda mode: {"machines": 8 if mode == "quick" else 60, "steps": 60,
                            "datasets": 1 if mode == "quick" else 4})
def events_agree(mode: str, seed: int) -> Result:
    rng = random.Random(seed)
    n_machines = 8 if mode == "quick" else 60
    bad: dict[str, list[str]] = {}
    for i in range(n_machines):
        machine = random_machine(rng, rng.randint(1, 4), rng.randint(2, 3),
                                 ALL_MOVES if i % 2 else (ALL_MOVES[0], ALL_MOVES[1]))
        config = random_config(machine, rng) if i % 3 else None
        for dtype in ("float32", "float64"):
            errs = tm_mismatches(machine, 60, dtype, config, margin=1 + i % 3)
            if errs:
                bad[f"machine {i} {dtype}"] = errs[:3]
                break
        if bad:  # the first counterexample is enough
            break
    nprng = np.random.default_rng(seed)
    n_data = 1 if mode == "quick" else 4
    for j in range(n_data if not bad else 0):
        d, m = 3 + j, 4 + j
        X = nprng.choice([-1, 1], size=(m, d))
        y = nprng.choice([-1, 1], size=m)
        tests = nprng.choice([-1, 1], size=(4, d))
        errs = algorithm1_mismatches("parity", X, y, tests)
        if errs:
            bad[f"parity data {j}"] = errs[:3]
    if bad:
        return Result(False, {"mismatches": bad}, f"counterexample: {next(iter(bad))}")
    return Result(True, {"machines": n_machines, "datasets": n_data, "mismatches": {}},
                  f"{n_machines} machines x 2 dtypes x 60 steps and {n_data} Algorithm 1 "
                  f"run(s): all equal")

"""Experiment 1's networks and measurements: the patch network trained by Adam, its domain
accuracy, rollouts with raw or rounded feedback, Gaussian weight noise, and the
certificate of every trained net (is it exact on every valid view?)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from training.learn_step_tasks import Task, grid_patches

# --------------------------------------------------------------------------- networks


class PatchMLP(nn.Module):
    """``A3 relu(A2 relu(A1 x + b1) + b2) + b3`` on (N, 9) patches: the RCNN's patch network."""

    def __init__(self, h1: int, h2: int) -> None:
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(9, h1), nn.Linear(h1, h2), nn.Linear(h2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l3(torch.relu(self.l2(torch.relu(self.l1(x))))).squeeze(-1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"A1": self.l1.weight, "b1": self.l1.bias, "A2": self.l2.weight,
                "b2": self.l2.bias, "A3": self.l3.weight, "b3": self.l3.bias}


def as_arrays(net: PatchMLP) -> dict[str, np.ndarray]:
    return {k: v.detach().to(torch.float64).numpy().copy() for k, v in net.arrays().items()}


def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = torch.relu(x @ params["A1"].T + params["b1"])
    h = torch.relu(h @ params["A2"].T + params["b2"])
    return (h @ params["A3"].T + params["b3"])[:, 0]


DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
          "bfloat16": torch.bfloat16}


def to_params(arrays: dict[str, np.ndarray], dtype: str = "float64") -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v, dtype=torch.float64).to(DTYPES[dtype])
            for k, v in arrays.items()}


def nearest_code(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Round every value to the nearest valid code (ties to the smaller code); a non-finite
    value becomes NaN, which equals no code (so it always counts as wrong)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    idx = np.abs(np.where(finite, v, 0.0)[..., None] - codes).argmin(axis=-1)
    return np.where(finite, codes[idx], np.nan)


def evaluate(task: Task, arrays: dict[str, np.ndarray], dtype: str = "float64"
             ) -> dict[str, Any]:
    """Domain accuracy of the patch network ``arrays`` evaluated in ``dtype``."""
    p = to_params(arrays, dtype)
    with torch.no_grad():
        out = forward(p, torch.as_tensor(task.domain).to(DTYPES[dtype])).to(torch.float64)
    ok = nearest_code(out.numpy(), task.codes) == task.targets
    return {"domain_acc": float(ok.mean()), "exact": bool(ok.all()),
            "domain_acc_1d": float(ok[task.mask_1d].mean()),
            "wrong": int((~ok).sum()),
            "max_abs_err": float(np.max(np.abs(out.numpy() - task.targets)))}


# --------------------------------------------------------------------------- training


def train(task: Task, hidden: tuple[int, int], seed: int, settings: dict[str, Any]
          ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Adam from PyTorch's default initialisation; returns float64 copies of the weights."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = PatchMLP(*hidden)
    opt = torch.optim.Adam(net.parameters(), lr=settings["lr"])
    steps = settings["steps"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))
    # codes are scaled to [0, 1] while training; the scale is folded back into A1 and A3, b3
    # afterwards, so the result is a patch network on raw codes of exactly the same shape
    scale = float(task.codes.max()) if settings.get("normalise", False) else 1.0
    start = time.perf_counter()
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        x, y = task.sample(rng, settings["batch"])
        xt = torch.as_tensor(x / scale, dtype=torch.float32)
        yt = torch.as_tensor(y / scale, dtype=torch.float32)
        loss = torch.mean((net(xt) - yt) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    arrays = as_arrays(net)
    arrays["A1"] = arrays["A1"] / scale
    arrays["A3"], arrays["b3"] = arrays["A3"] * scale, arrays["b3"] * scale
    # the folded weights are rounded to float32, the precision the net was trained in
    arrays = {k: v.astype(np.float32).astype(np.float64) for k, v in arrays.items()}
    loss = loss * scale**2
    # evaluate in float32, the precision it was trained in; then certify it
    res = evaluate(task, arrays, "float32")
    res.update(certify_trained(task, arrays))
    res.update({"final_loss": float(loss.detach()), "train_seconds": time.perf_counter() - start,
                "patches_seen": steps * settings["batch"] * int(np.prod(settings["grid"]))})
    return arrays, res


def learning_rate(settings: dict[str, Any], mult: int) -> float:
    """Adam's learning rate at width ``mult`` x the construction's: ``lr / sqrt(mult)`` with
    ``lr_scaling = "inv_sqrt_mult"`` (wider nets diverge at the narrow nets' rate), else
    ``lr``."""
    if settings.get("lr_scaling") == "inv_sqrt_mult":
        return settings["lr"] / math.sqrt(mult)
    return settings["lr"]


# --------------------------------------------------------------------------- rollouts


def layer(params: dict[str, torch.Tensor], grids: torch.Tensor) -> torch.Tensor:
    B, H, W = grids.shape
    padded = torch.nn.functional.pad(grids, (1, 1, 1, 1), value=0.0)
    x = torch.stack([padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3)], dim=-1)
    return forward(params, x.reshape(-1, 9)).reshape(B, H, W)


def rollout(task: Task, arrays: dict[str, np.ndarray], runs: int, T: int, seed: int,
            round_each_step: bool = False, dtype: str = "float32") -> np.ndarray:
    """First failing step of each run (``T + 1`` if it never fails within ``T`` steps).

    ``round_each_step=False`` feeds the raw float output back (the RCNN as it is). With
    ``round_each_step=True`` every output is rounded to the nearest code before the next step;
    then every input patch is a grid of codes, so the step is the net's rounded value table on
    the domain (computed once; patches outside the domain, e.g. with two heads, go through the
    net), which gives the same result as running the net and is much cheaper.
    """
    rng = np.random.default_rng(10_000 + seed)
    grid0, st = task.rollout_init(rng, runs, T)
    p = to_params(arrays, dtype)
    first_fail = np.full(runs, T + 1, dtype=np.int64)

    def net_np(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = forward(p, torch.as_tensor(x).to(DTYPES[dtype]))
        return nearest_code(out.to(torch.float64).numpy(), task.codes)

    table = net_np(task.domain) if round_each_step else None
    g = grid0 if round_each_step else torch.as_tensor(grid0).to(DTYPES[dtype])
    with torch.no_grad():
        for t in range(1, T + 1):
            if round_each_step:
                x = grid_patches(g)
                idx, found = task.domain_index(x)
                out = table[idx]
                if not found.all():
                    out[~found] = net_np(x[~found])
                got = g = out.reshape(g.shape)
            else:
                g = layer(p, g)
                got = nearest_code(g.to(torch.float64).numpy(), task.codes)
            ref = task.rollout_reference(st, t)
            bad = np.any((got != ref).reshape(runs, -1), axis=1)
            first_fail = np.where(bad & (first_fail > T), t, first_fail)
            if np.all(first_fail <= T):
                break
    return first_fail


def rollout_curve(first_fail: np.ndarray, checkpoints: list[int]) -> list[float]:
    return [float(np.mean(first_fail > t)) for t in checkpoints]


# --------------------------------------------------------------------------- robustness


def perturbed(arrays: dict[str, np.ndarray], sigma: float, rng: np.random.Generator
              ) -> dict[str, np.ndarray]:
    return {k: v + sigma * rng.standard_normal(v.shape) for k, v in arrays.items()}


# --------------------------------------------------------------------------- certificates


def certify_trained(task: Task, arrays: dict[str, np.ndarray], dtype: str = "float32"
                    ) -> dict[str, Any]:
    """The certificate of a patch network on the task's valid views (docs/certificates.md):
    ``certified`` when its output equals the next code *bit for bit* on every view (then the
    RCNN with raw float feedback runs the rule forever, from every configuration), else the
    first counterexample (view, expected, computed). SGD-trained networks read every
    position, so their views are enumerated with the executor's own float32 arithmetic
    (torch addmm on the CPU); the construction is proven in every summation order."""
    from proofs_check.certificates import certify_patch, reads_of
    from proofs_check.certificates_views import eca_views, tm_views
    from simulators.formats import parse_bbchallenge

    reads = reads_of(arrays)
    views = (tm_views(parse_bbchallenge(task.info["machine"]), reads) if task.kind == "tm"
             else eca_views(int(task.info["rule"]), reads))
    res = certify_patch(arrays, dtype, views.families)
    out: dict[str, Any] = {"certified": res.proven, "cert_views": res.views,
                           "cert_enumerated": res.views_enumerated}
    ce = res.counterexample
    if ce is not None:
        out.update(cert_view=" ".join(f"{v:g}" for v in ce["view"]),
                   cert_expected=ce["expected"], cert_computed=ce["computed"])
    return out

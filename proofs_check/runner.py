"""``srcnn verify``: run every registered check, print a table, write JSON and Markdown."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from proofs_check.registry import REGISTRY, Check, Result

CHECK_MODULES = (
    "proofs_check.sizes",
    "proofs_check.tm_step",
    "proofs_check.certificates_checks",
    "proofs_check.memorisation",
    "proofs_check.learners",
    "proofs_check.classifiers",
    "proofs_check.pao",
    "proofs_check.turing_optimal",
    "proofs_check.restarts",
    "proofs_check.events",
)


def load_checks() -> dict[str, Check]:
    import importlib

    for name in CHECK_MODULES:
        importlib.import_module(name)
    return REGISTRY


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import sympy
    import torch

    try:
        own = version("succinct-rcnn")
    except PackageNotFoundError:
        own = "unknown"
    return {"succinct-rcnn": own, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__, "sympy": sympy.__version__,
            "platform": platform.platform()}


def _plain(value: Any) -> Any:
    """JSON stand-ins for numpy scalars and arrays, fractions, sets and paths."""
    import numbers
    from fractions import Fraction

    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, numbers.Number):
        return float(value)
    return str(value)


def _run_one(chk: Check, mode: str, seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = chk.run(mode, seed)
    except Exception as e:  # a crashing check is a failing check, reported with its error
        result = Result(False, {"error": f"{type(e).__name__}: {e}"}, "error")
    evidence = json.loads(json.dumps(result.evidence, default=_plain))
    return {"id": chk.id, "paper": chk.paper, "method": chk.method, "title": chk.title,
            "params": json.loads(json.dumps(chk.params(mode), default=_plain)),
            "status": "pass" if bool(result.passed) else "fail",
            "key_figure": result.key_figure, "evidence": evidence,
            "duration_s": round(time.perf_counter() - start, 3)}


def run_check(cid: str, mode: str, seed: int) -> dict[str, Any]:
    """One check by id, in this process or on a sweep worker (which imports the checks)."""
    return _run_one(load_checks()[cid], mode, seed)


def run_all(mode: str = "quick", seed: int = 0, only: list[str] | None = None,
            progress: bool = True, scheduler: str | None = None,
            workers: int | None = None) -> dict[str, Any]:
    """Run the checks (all, or ``only`` these ids) and return the report dict.

    Thorough runs go through the sweep layer (:mod:`sweeps`): one task per check on an
    embedded Dask cluster (``workers`` processes) or on ``scheduler``; the report is the
    same, in the same order. Quick runs stay in this process, and so do thorough runs when
    the ``[sweep]`` extra is not installed."""
    checks = load_checks()
    ids = list(checks) if not only else only
    if mode == "thorough" or scheduler is not None:
        from sweeps import available

        if available():
            return _run_swept(ids, mode, seed, progress, scheduler, workers)
        print("srcnn verify: dask.distributed is not installed (pip install "
              "'succinct-rcnn[sweep]'); running the checks in this process", file=sys.stderr)
    start = time.perf_counter()
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(ids), desc="srcnn verify", unit="check", file=sys.stderr)
    claims = []
    for cid in ids:
        if bar is not None:
            bar.set_postfix_str(cid)
        claims.append(_run_one(checks[cid], mode, seed))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return {"claims": claims, "mode": mode, "seed": seed, "versions": versions(),
            "duration_s": round(time.perf_counter() - start, 3)}


def _run_swept(ids: list[str], mode: str, seed: int, progress: bool, scheduler: str | None,
               workers: int | None) -> dict[str, Any]:
    import functools

    from sweeps import cluster, map_items

    start = time.perf_counter()
    with cluster(scheduler, workers) as client:
        claims = map_items(client, functools.partial(_run_check_item, mode=mode, seed=seed),
                           ids, keys=ids, desc="srcnn verify", unit="check",
                           progress=progress and sys.stderr.isatty())
    return {"claims": claims, "mode": mode, "seed": seed, "versions": versions(),
            "duration_s": round(time.perf_counter() - start, 3),
            "executor": {"scheduler": scheduler or "embedded",
                         "workers": workers if scheduler is None else None}}


def _run_check_item(cid: str, mode: str, seed: int) -> dict[str, Any]:
    return run_check(cid, mode, seed)


def table(report: dict[str, Any]) -> str:
    rows = [("claim", "paper", "method", "status", "key figure")]
    for c in report["claims"]:
        rows.append((c["id"], c["paper"].split(":")[0], c["method"], c["status"].upper(),
                     c["key_figure"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    n_pass = sum(c["status"] == "pass" for c in report["claims"])
    lines.append(f"\n{n_pass} of {len(report['claims'])} checks pass "
                 f"({report['mode']}, seed {report['seed']}, {report['duration_s']:.1f} s)")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    out = ["# srcnn verify report", "",
           f"Mode `{report['mode']}`, seed {report['seed']}, {report['duration_s']:.1f} s; "
           + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), "",
           "| id | paper | method | status | key figure |", "|---|---|---|---|---|"]
    for c in report["claims"]:
        out.append(f"| `{c['id']}` | {c['paper']} | {c['method']} | {c['status']} | "
                   f"{c['key_figure']} |")
    out.append("")
    for c in report["claims"]:
        out += [f"## `{c['id']}`: {c['title']}", "", f"- paper: {c['paper']}",
                f"- method: {c['method']}", f"- parameters: `{json.dumps(c['params'])}`",
                f"- status: **{c['status']}**", "", "```json",
                json.dumps(c["evidence"], indent=1), "```", ""]
    return "\n".join(out)


def run_checks(mode: str, json_path: Path | None, markdown_path: Path | None,
               seed: int, scheduler: str | None = None, workers: int | None = None) -> int:
    """The ``srcnn verify`` command: exit code 0 iff every check passes."""
    report = run_all(mode, seed, scheduler=scheduler, workers=workers)
    print(table(report))
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=1) + "\n")
    if markdown_path is not None:
        Path(markdown_path).write_text(markdown(report))
    return 0 if all(c["status"] == "pass" for c in report["claims"]) else 1

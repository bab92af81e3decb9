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


def run_all(mode: str = "quick", seed: int = 0, only: list[str] | None = None,
            progress: bool = True) -> dict[str, Any]:
    """Run the checks (all, or ``only`` these ids) and return the report dict."""
    checks = load_checks()
    ids = list(checks) if not only else only
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
               seed: int) -> int:
    """The ``srcnn verify`` command: exit code 0 iff every check passes."""
    report = run_all(mode, seed)
    print(table(report))
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=1) + "\n")
    if markdown_path is not None:
        Path(markdown_path).write_text(markdown(report))
    return 0 if all(c["status"] == "pass" for c in report["claims"]) else 1

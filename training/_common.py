"""Small helpers shared by the training experiments: versions, output files, progress bars.

Nothing here imports matplotlib: experiments write their results (JSON, CSV) first, and the
figure modules read them afterwards.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import platform
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch


def versions() -> dict[str, str]:
    """Python, torch and numpy versions (recorded in every results file)."""
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "platform": sys.platform}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def progress(iterable: Iterable, total: int | None = None, desc: str = "") -> Iterable:
    """A tqdm progress bar on stderr when stderr is a terminal; the bare iterable otherwise."""
    if not sys.stderr.isatty():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a declared dependency
        return iterable
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False)


GRID_ENV = ("SRCNN_SWEEP", "SRCNN_SWEEP_SCHEDULER", "SRCNN_SWEEP_WORKERS", "SRCNN_SWEEP_JOURNAL")
"""Environment variables that steer :func:`run_grid`: ``SRCNN_SWEEP=dask`` or ``=local``
forces one executor; ``SRCNN_SWEEP_SCHEDULER=tcp://HOST:PORT`` runs on a Dask cluster;
``SRCNN_SWEEP_WORKERS=N`` sizes the embedded one; ``SRCNN_SWEEP_JOURNAL=DIR`` streams each
grid's results to ``DIR/<name>.grid.jsonl`` so an interrupted grid resumes."""


def run_grid(fn: Callable[[Any], Any], points: Sequence[Any], settings: Mapping[str, Any],
             desc: str = "") -> list[Any]:
    """``[fn(p) for p in points]``, in order: the one way the experiments run their grids.

    ``--full`` grids (``settings["size"] == "full"``) go through the sweep layer
    (:mod:`sweeps`: an embedded Dask cluster of one process per core, or the scheduler in
    ``SRCNN_SWEEP_SCHEDULER``); quick grids run in this process. ``SRCNN_SWEEP=dask|local``
    overrides the choice. Every grid point seeds its own randomness and runs torch on one
    thread, so both executors give the same results (tests/test_sweep_grid.py). With
    ``SRCNN_SWEEP_JOURNAL=DIR`` results stream to ``DIR/<desc>.grid.jsonl`` (the settings
    and the points are its parameters), and a grid run again skips what it recorded."""
    mode = os.environ.get("SRCNN_SWEEP", "")
    scheduler = os.environ.get("SRCNN_SWEEP_SCHEDULER") or None
    use_dask = mode == "dask" or (mode != "local" and (settings.get("size") == "full"
                                                       or scheduler is not None))
    from sweeps import Journal, available, cluster, map_items

    if use_dask and not available():
        print("dask.distributed is not installed (pip install 'succinct-rcnn[sweep]'); "
              "running the grid in this process", file=sys.stderr)
        use_dask = False
    journal = None
    if os.environ.get("SRCNN_SWEEP_JOURNAL"):
        name = "".join(c if c.isalnum() else "_" for c in desc or "grid")
        journal = Journal(Path(os.environ["SRCNN_SWEEP_JOURNAL"]) / f"{name}.grid.jsonl",
                          {"grid": desc, "settings": dict(settings), "points": list(points)},
                          len(points))
        if journal.open():  # complete from an earlier run
            return [r["result"] for r in journal.records if r["kind"] == "item"]
    try:
        if not use_dask:
            if journal is None:
                shown = progress(points, total=len(points), desc=desc) if desc else points
                return [fn(p) for p in shown]
            results = map_items(None, fn, list(points), journal=journal, desc=desc)
        else:
            workers = os.environ.get("SRCNN_SWEEP_WORKERS")
            with cluster(scheduler, int(workers) if workers else None) as client:
                results = map_items(client, functools.partial(_one_thread, fn), list(points),
                                    journal=journal, desc=desc, unit="run")
        if journal is not None:
            journal.complete({"points": len(points)})
        return results
    finally:
        if journal is not None:
            journal.close()


def _one_thread(fn: Callable[[Any], Any], point: Any) -> Any:
    torch.set_num_threads(1)
    return fn(point)


def write_json(path: Path, record: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=_default) + "\n", encoding="utf-8")
    return path


def _default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]],
              columns: Sequence[str] | None = None) -> Path:
    """Write flat records (columns from ``columns`` or the first row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def sized_settings(quick: bool, quick_settings: Mapping[str, Any], full_settings: Mapping[str, Any],
                   overrides: Mapping[str, Any]) -> dict[str, Any]:
    """An experiment's settings: the quick or full preset, then every override that is not
    ``None``, and ``size`` naming the preset (recorded with the results)."""
    s = dict(quick_settings if quick else full_settings)
    s.update({k: v for k, v in overrides.items() if v is not None})
    s["size"] = "quick" if quick else "full"
    return s


def results_dirs(name: str, dirs: Sequence[Path] = ()) -> list[Path]:
    """Where saved results of experiment ``name`` are looked for: ``dirs`` (e.g. the
    figures' output directory and the repository's ``results/<name>``), then
    ``./results/<name>`` in the current directory, where the commands in docs/training.md
    and docs/tutorial.md write them; duplicates removed, order kept."""
    out: list[Path] = []
    for d in [*dirs, Path.cwd() / "results" / name]:
        if Path(d).resolve() not in [p.resolve() for p in out]:
            out.append(Path(d))
    return out


def saved_results(name: str, settings: Mapping[str, Any], seed: int,
                  dirs: Sequence[Path], files: Sequence[str]) -> Path | None:
    """The first of :func:`results_dirs` ``(name, dirs)`` holding ``files`` whose
    ``<name>.json`` record was made with exactly these ``settings`` and ``seed`` (so a
    figure can reuse it), else ``None``."""
    want = json.loads(json.dumps(dict(settings), default=_default))
    for d in results_dirs(name, dirs):
        path = Path(d) / f"{name}.json"
        if not path.exists() or not all((Path(d) / f).exists() for f in files):
            continue
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec.get("settings") == want and rec.get("seed") == seed:
            return Path(d)
    return None

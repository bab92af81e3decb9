"""One shared look for every figure, plus saving and provenance sidecars.

Figures are built as :class:`matplotlib.figure.Figure` objects (no pyplot, no global backend
state; rendering goes through Agg), inside :func:`style` so fonts and colours match.
:func:`save` writes ``<name>.pdf`` (vector) and ``<name>.png`` (200 dpi); :func:`provenance`
writes ``<name>.json`` with the seed, the parameters and the package versions; :func:`write_data`
writes the computed results next to the figure before anything is plotted.
"""

from __future__ import annotations

import contextlib
import csv
import json
import platform
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
"""The Okabe-Ito colour-blind-safe palette."""

CYCLE = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky",
                                 "yellow", "black")]
GREY = "#6E6E6E"
LIGHT = "#EDEDED"
DPI = 200

RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.titlesize": 11,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "legend.frameon": False,
    "pdf.fonttype": 42,  # embed TrueType: text stays selectable in the PDF
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the shared rc parameters while a figure is built and saved."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure of ``width`` x ``height`` inches."""
    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, out_dir: Path | str, name: str) -> list[Path]:
    """Write ``<name>.pdf`` and ``<name>.png`` (200 dpi) into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    # No creation date in the PDF: the same inputs give the same bytes.
    fig.savefig(pdf, format="pdf", metadata={"CreationDate": None})
    fig.savefig(png, format="png", dpi=DPI)
    return [pdf, png]


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of Python and of the packages the figures depend on."""
    import numpy
    import torch

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__, "matplotlib": matplotlib.__version__,
            "platform": sys.platform}


def provenance(out_dir: Path | str, name: str, *, seed: int, params: Mapping[str, Any],
               results: Mapping[str, Any] | None = None,
               files: Sequence[Path] = (), caption: str = "") -> Path:
    """Write the sidecar ``<name>.json``: the caption (what is drawn, from which data), seed,
    parameters, key results, versions, files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "figure": name,
        "caption": caption,
        "seed": seed,
        "params": dict(params),
        "results": dict(results or {}),
        "files": [Path(f).name for f in files],
        "versions": versions(),
        "git_commit": _git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def write_data(out_dir: Path | str, name: str, data: Mapping[str, Any]) -> Path:
    """Write the computed results of a figure as ``<name>_data.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}_data.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    return path


def write_csv(out_dir: Path | str, name: str, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write a list of flat records as ``<name>_data.csv`` (columns from the first row)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}_data.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
    return path


def publish(out_dir: Path | str, name: str, plot: Callable[[Any], Figure], data: Any, *,
            seed: int, params: Mapping[str, Any], results: Mapping[str, Any],
            files: list[Path], caption: str = "") -> list[Path]:
    """Plot ``data`` in the shared style, save PDF and PNG, then write the provenance record
    listing every file written (``files`` holds the data files written before plotting).

    ``caption`` says what the figure draws and from which data, in words, with the numbers
    of this run; it goes into the provenance record and into ``<name>.caption.txt`` (the
    docs quote it), so a figure and its caption come from the same run."""
    with style():
        files = files + save(plot(data), out_dir, name)
    if caption:
        files.append(write_caption(out_dir, name, caption))
    return [*files, provenance(out_dir, name, seed=seed, params=params, results=results,
                               files=files, caption=caption)]


def write_caption(out_dir: Path | str, name: str, caption: str) -> Path:
    """Write ``<name>.caption.txt`` (one paragraph, the figure's caption)."""
    path = Path(out_dir) / f"{name}.caption.txt"
    path.write_text(caption.strip() + "\n", encoding="utf-8")
    return path

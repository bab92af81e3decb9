"""Build every figure: ``build_all(out_dir, quick, seed)``.

Each figure module exposes ``make(out_dir, quick, seed) -> list[Path]``; it computes its
results first, writes them (JSON/CSV) and a provenance sidecar next to the figure, and only
then draws and saves the PDF and PNG.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

FIGURES: tuple[str, ...] = ("architecture", "spacetime", "parameters", "precision", "memory",
                            "restarts", "learn_step", "parity", "trainable_shared",
                            "parity_cost")
"""Figure names; the module of ``NAME`` is ``figures.fig_NAME``."""
SLOW_FIGURES: tuple[str, ...] = ("learn_step", "parity", "trainable_shared", "parity_cost")
"""Figures whose quick experiment takes minutes (SGD training) rather than seconds."""


TAKES_TRAIN: tuple[str, ...] = ("memory",)
"""Figures that can draw the user's own training set (``srcnn figures --train FILE.csv``)."""


def build_all(out_dir: Path | str, quick: bool = True, seed: int = 0,
              only: Sequence[str] | None = None,
              progress: Callable[[str], None] | None = None,
              train: Path | str | None = None) -> list[Path]:
    """Run the figure scripts (all, or those named in ``only``); return the written paths.

    ``progress`` receives one line before and after each figure (the CLI prints them to
    stderr). ``train`` (a training CSV) goes to the figures of :data:`TAKES_TRAIN`.
    """
    names = list(FIGURES) if only is None else list(dict.fromkeys(only))
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}; choose from {', '.join(FIGURES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in names:
        module = importlib.import_module(f"figures.fig_{name}")
        if progress is not None:
            progress(f"figure {name}: computing and drawing ...")
        start = time.perf_counter()
        extra = {"train": train} if train is not None and name in TAKES_TRAIN else {}
        paths = module.make(out, quick=quick, seed=seed, **extra)
        written.extend(paths)
        if progress is not None:
            progress(f"figure {name}: {len(paths)} files in {time.perf_counter() - start:.1f} s")
    return written

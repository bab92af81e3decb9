"""Sweeps on Dask: embarrassingly parallel work (every machine of a class, an experiment's
grid, the checks of ``srcnn verify --thorough``) spread over an embedded ``LocalCluster`` or
a Dask scheduler, with results streamed to a resumable JSON-lines file.

This package depends on nothing else in the project (only on dask.distributed, tqdm and the
standard library), so every layer of the project may use it. See docs/sweeps.md.
"""

from sweeps.engine import (
    SweepReport,
    SweepTaskError,
    available,
    cluster,
    map_items,
    run_ranges,
)
from sweeps.journal import Journal, SweepError, read_records

__all__ = ["Journal", "SweepError", "SweepReport", "SweepTaskError", "available", "cluster",
           "map_items", "read_records", "run_ranges"]

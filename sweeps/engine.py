"""Run a sweep on Dask: an embedded ``LocalCluster`` of processes by default, or the
scheduler at ``tcp://HOST:PORT``.

Two shapes of sweep share one engine:

* :func:`run_ranges`: items ``0 .. total - 1`` cut into index ranges (chunks); the task
  ``task(start, stop) -> dict`` returns one JSON record per chunk. Used for machine classes.
* :func:`map_items`: a list of items (grid points, checks), ``fn(item) -> result``, results
  returned in the order of the items. Used for experiment grids and ``srcnn verify``.

Both stream finished work to a :class:`sweeps.journal.Journal` when given one, skip what it
already holds, keep only a bounded window of tasks in flight (so memory stays flat and Ctrl-C
is prompt), show a progress bar on a terminal (done/total, rate, ETA) and cancel what is
still running on Ctrl-C. A task that raises is never swallowed: its range or item and the
exception are reported (and recorded as an ``error`` record, so the file stays incomplete
and a resume runs that task again).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sweeps.journal import Journal, SweepError, chunks, missing

DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass
class SweepReport:
    """What a run did: chunk records (all of them, including those found in the journal),
    task errors, and timing of this run."""

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    done_before: int = 0
    done_now: int = 0
    seconds: float = 0.0
    workers: int = 0
    complete: bool = False


def available() -> bool:
    """Whether dask.distributed is installed (the ``[sweep]`` extra)."""
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None,
            timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler`` (``tcp://HOST:PORT``), or to a
    new embedded ``LocalCluster`` of ``workers`` single-threaded processes (default: one per
    core). Raises :class:`SweepError` (one line) if the scheduler cannot be reached or has
    no worker within ``timeout`` seconds."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("sweeps need dask.distributed: pip install "
                         "'succinct-rcnn[sweep]'") from None
    if scheduler is not None:
        if workers is not None:
            raise SweepError("--workers sizes the embedded cluster; a scheduler's workers "
                             "are started with `dask worker`")
        try:
            client = Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise SweepError(f"cannot reach the scheduler at {scheduler}: {msg}") from None
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError):
                raise SweepError(f"the scheduler at {scheduler} has no workers (waited "
                                 f"{timeout:g} s); start some with `dask worker {scheduler}`"
                                 ) from None
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else default_workers()
    if n < 1:
        raise SweepError(f"--workers must be >= 1, got {n}")
    with _workers_ignore_ctrl_c():
        local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(local, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        local.close()


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start processes with SIGINT ignored (an ignored signal stays ignored in a child, and
    Python then installs no KeyboardInterrupt handler): Ctrl-C on a terminal reaches the
    whole process group, and only this process should handle it, by cancelling the tasks
    and closing the cluster, not every worker with a traceback of its own."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _bar(total: int, initial: int, desc: str, unit: str, show: bool | None):
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def _task_error(future: Any) -> str:
    if future.status == "cancelled":
        return "cancelled (its worker or the scheduler went away)"
    exc = future.exception()
    tb = future.traceback()
    where = "".join(traceback.format_tb(tb)[-2:]).strip() if tb is not None else ""
    return f"{type(exc).__name__}: {exc}" + (f" [{where.splitlines()[0].strip()}]"
                                              if where else "")


def _drive(client: Any, jobs: Sequence[tuple], submit: Callable[[tuple], Any],
           on_done: Callable[[tuple, Any], None], on_error: Callable[[tuple, str], None],
           window: int, deadline: float | None = None) -> None:
    """Keep at most ``window`` jobs in flight; call back as each finishes. After
    ``deadline`` (a ``time.monotonic()`` value) no new job starts; running ones finish."""
    from distributed import as_completed

    pending = iter(jobs)
    running: dict[Any, tuple] = {}
    ac = as_completed(loop=client.loop)
    try:
        for job in pending:
            f = submit(job)
            running[f] = job
            ac.add(f)
            if len(running) >= window:
                break
        for f in ac:
            job = running.pop(f)
            if f.status == "finished":
                on_done(job, f.result())
            else:
                on_error(job, _task_error(f))
            f.release()
            late = deadline is not None and time.monotonic() >= deadline
            nxt = None if late else next(pending, None)
            if nxt is not None:
                g = submit(nxt)
                running[g] = nxt
                ac.add(g)
    finally:
        if running:
            client.cancel(list(running))


def run_ranges(client: Any, task: Callable[[int, int], dict], total: int, chunk: int,
               journal: Journal | None = None, desc: str = "sweep", unit: str = "item",
               progress: bool | None = None, window: int | None = None,
               time_limit: float | None = None) -> SweepReport:
    """Run ``task(start, stop)`` on every chunk of ``0 .. total - 1`` not yet in ``journal``.

    Each finished chunk's record (``{"start", "stop", **task record}``) is written to the
    journal at once. With ``time_limit`` (seconds) no chunk starts after that time, so a
    budgeted run stops cleanly with what it finished recorded. Returns every chunk record
    (old and new) and the errors of this run."""
    if chunk < 1:
        raise SweepError(f"chunk size must be >= 1, got {chunk}")
    report = SweepReport(workers=len(client.scheduler_info()["workers"]))
    done = journal.done_ranges() if journal is not None else []
    report.done_before = sum(b - a for a, b in done)
    jobs = chunks(missing(total, done), chunk)
    if journal is not None:
        report.records = [r for r in journal.records if r["kind"] == "chunk"]
    bar = _bar(total, report.done_before, desc, unit, progress)
    t0 = time.perf_counter()

    def on_done(job: tuple, rec: dict) -> None:
        rec = {"kind": "chunk", "start": job[0], "stop": job[1], **rec}
        if journal is not None:
            journal.append(rec)
        report.records.append(rec)
        report.done_now += job[1] - job[0]
        if bar is not None:
            bar.update(job[1] - job[0])

    def on_error(job: tuple, err: str) -> None:
        rec = {"kind": "error", "start": job[0], "stop": job[1], "error": err}
        if journal is not None:
            journal.append(rec)
        report.errors.append(rec)
        if bar is not None:
            bar.write(f"task [{job[0]}, {job[1]}) failed: {err}", file=sys.stderr)

    try:
        _drive(client, jobs, lambda j: client.submit(task, j[0], j[1], pure=False),
               on_done, on_error, window or 4 * max(1, report.workers),
               None if time_limit is None else time.monotonic() + time_limit)
    finally:
        if bar is not None:
            bar.close()
        report.seconds = time.perf_counter() - t0
    report.complete = not report.errors and \
        report.done_before + report.done_now == total
    return report


def map_items(client: Any | None, fn: Callable[[Any], Any], items: Sequence[Any],
              keys: Sequence[str] | None = None, journal: Journal | None = None,
              desc: str = "sweep", unit: str = "task", progress: bool | None = None
              ) -> list[Any]:
    """``[fn(item) for item in items]`` on the cluster (in-process when ``client`` is None),
    in the order of ``items``. With a journal, results are recorded under ``keys`` as they
    finish and items already recorded are not run again. A task that raises raises
    :class:`SweepTaskError` naming its item, after the others have finished."""
    keys = [str(i) for i in range(len(items))] if keys is None else list(keys)
    if len(set(keys)) != len(keys):
        raise ValueError("map_items needs distinct keys")
    results: dict[str, Any] = {}
    if journal is not None:
        results = {r["key"]: r["result"] for r in journal.records if r["kind"] == "item"}
    todo = [(k, it) for k, it in zip(keys, items) if k not in results]
    bar = _bar(len(items), len(items) - len(todo), desc, unit, progress)
    errors: list[str] = []

    def on_done(job: tuple, result: Any) -> None:
        if journal is not None:  # what a resumed run would read back, so both look alike
            journal.append({"kind": "item", "key": job[0], "result": result})
            result = journal.records[-1]["result"]
        results[job[0]] = result
        if bar is not None:
            bar.update()

    def on_error(job: tuple, err: str) -> None:
        errors.append(f"{job[0]}: {err}")
        if journal is not None:
            journal.append({"kind": "error", "key": job[0], "error": err})

    try:
        if client is None:
            for job in todo:
                on_done(job, fn(job[1]))
        else:
            _drive(client, todo, lambda j: client.submit(fn, j[1], pure=False),
                   on_done, on_error, 4 * max(1, len(client.scheduler_info()["workers"])))
    finally:
        if bar is not None:
            bar.close()
    if errors:
        raise SweepTaskError(f"{len(errors)} task(s) failed; first: {errors[0]}")
    return [results[k] for k in keys]


class SweepTaskError(RuntimeError):
    """A task of a sweep raised; the message names the item and the exception."""

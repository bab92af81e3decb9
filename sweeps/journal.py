"""The results file of a sweep: JSON lines that stream in as tasks finish, so a sweep can be
resumed after Ctrl-C, a crash or a SIGKILL without redoing or losing finished work.

Layout (one JSON object per line, each line written whole and flushed before the next)::

    {"kind": "header", "format": "sweeps/1", "params": {...}, "total": N, "created": ...}
    {"kind": "chunk", "start": a, "stop": b, "run": 0, ...the task's record...}
    {"kind": "item", "key": "...", "run": 0, "result": ...}        (item sweeps)
    {"kind": "error", "start": a, "stop": b, "run": 0, "error": "..."}   (not complete)
    {"kind": "resume", "run": 1, "time": ...}
    {"kind": "summary", ...}                                        (only when complete)

While a sweep runs, the file is ``FILE.partial``; only when every item is done is the summary
appended and the file renamed (atomically) to ``FILE``, so a file named ``FILE`` is always a
complete sweep. A crash can leave a torn last line in ``FILE.partial``; reading detects it
(no newline at the end, or not JSON) and cuts it off, and the chunk it was recording is
simply run again. A bad line anywhere else is corruption and is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FORMAT = "sweeps/1"


class SweepError(ValueError):
    """Bad input to a sweep (a results file that does not fit, an unreachable scheduler,
    an unwritable path): the message is one line naming what and where."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _plain(value: Any) -> Any:
    """JSON form of numpy arrays and scalars (exact: floats print as their shortest repr)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is always there in this project
        np = None
    if np is not None:
        if isinstance(value, np.ndarray):
            return {"__ndarray__": value.tolist(), "dtype": str(value.dtype),
                    "shape": list(value.shape)}
        if isinstance(value, np.generic):
            return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a sweep journal")


def _restore(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            import numpy as np

            return np.array(obj["__ndarray__"], dtype=obj["dtype"]).reshape(obj["shape"])
        return {k: _restore(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore(v) for v in obj]
    return obj


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, default=_plain, sort_keys=False)


def loads(text: str) -> Any:
    return _restore(json.loads(text))


def read_records(path: Path, repair: bool = False) -> list[dict[str, Any]]:
    """Every record of a results file. A torn last line (no newline: the writer stopped in
    the middle of it) is dropped, and with ``repair`` cut off the file; any other bad line
    raises :class:`SweepError`."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SweepError(f"cannot read {path}: {e.strerror or e}") from None
    *lines, tail = data.split(b"\n")  # ``tail``: what follows the last newline
    records = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rec = loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            rec = None
        if not isinstance(rec, dict) or "kind" not in rec:
            raise SweepError(f"{path}:{lineno}: corrupted record (not a JSON object with a "
                             "'kind'); the results file cannot be used")
        records.append(rec)
    if tail and repair:  # a line without its newline: the writer stopped mid-line
        with path.open("r+b") as f:
            f.truncate(len(data) - len(tail))
    if not records or records[0].get("kind") != "header":
        raise SweepError(f"{path}:1: not a sweep results file (no header record)")
    if records[0].get("format") != FORMAT:
        raise SweepError(f"{path}:1: unknown results format {records[0].get('format')!r}, "
                         f"expected {FORMAT!r}")
    return records


class Journal:
    """A results file being written: append records, then :meth:`complete` it."""

    def __init__(self, path: Path | str, params: dict[str, Any], total: int) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.params = json.loads(dumps(params))
        self.total = total
        self.records: list[dict[str, Any]] = []
        self.run = 0
        self._file = None

    # -- opening ---------------------------------------------------------------------
    def _check_header(self, header: dict[str, Any], where: Path) -> None:
        if header.get("params") != self.params or header.get("total") != self.total:
            raise SweepError(f"{where} holds a sweep with other parameters "
                             f"({json.dumps(header.get('params'))}); use another output "
                             "file or the same parameters to resume")

    def open(self) -> bool:
        """Open for appending (resuming ``FILE.partial`` if there is one). Returns True if
        ``FILE`` already holds this sweep complete (then nothing is opened)."""
        if self.path.exists():
            recs = read_records(self.path)
            self._check_header(recs[0], self.path)
            if recs[-1].get("kind") != "summary":
                raise SweepError(f"{self.path}: complete file without a summary record")
            self.records = recs
            return True
        try:
            if self.partial.exists():
                self.records = read_records(self.partial, repair=True)
                self._check_header(self.records[0], self.partial)
                self.run = 1 + max(r.get("run", 0) for r in self.records)
                self._file = self.partial.open("a", encoding="utf-8")
                self.append({"kind": "resume", "run": self.run, "time": now()})
            else:
                self.partial.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.partial.open("x", encoding="utf-8")
                self.append({"kind": "header", "format": FORMAT, "params": self.params,
                             "total": self.total, "created": now()})
        except OSError as e:
            raise SweepError(f"cannot write {self.partial}: {e.strerror or e}") from None
        return False

    # -- writing ---------------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line and push it to the disk before returning."""
        record = {**record, "run": record.get("run", self.run)} if record["kind"] != "header" \
            else record
        self._file.write(dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records.append(json.loads(dumps(record)) if record["kind"] == "header"
                            else loads(dumps(record)))

    def complete(self, summary: dict[str, Any]) -> None:
        """Append the summary and rename ``FILE.partial`` to ``FILE`` (atomic)."""
        self.append({"kind": "summary", **summary, "time": now()})
        self.close()
        os.replace(self.partial, self.path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- what is done ------------------------------------------------------------------
    def done_ranges(self) -> list[tuple[int, int]]:
        """Index ranges recorded complete, sorted and merged."""
        return merge(sorted((r["start"], r["stop"]) for r in self.records
                            if r["kind"] == "chunk"))

    def done_keys(self) -> set[str]:
        return {r["key"] for r in self.records if r["kind"] == "item"}


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def missing(total: int, done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges of ``0 .. total - 1`` not covered by the merged ``done`` ranges."""
    out, pos = [], 0
    for a, b in done:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < total:
        out.append((pos, total))
    return out


def chunks(ranges: Iterable[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Split ranges into pieces of at most ``size`` items."""
    return [(a, min(a + size, b)) for lo, b in ranges for a in range(lo, b, size)]

"""Sweeps on Dask (sweeps/, srcnn sweep): the results file, resuming after SIGKILL and Ctrl-C
without redoing or losing work, failing tasks reported with their range or machine, a real
`dask scheduler` + `dask worker` on loopback, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweeps import Journal, SweepError, SweepTaskError, cluster, map_items, read_records
from sweeps.journal import chunks, merge, missing, partial_path

SRCNN = [sys.executable, "-m", "srcnn.cli"]
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------- ranges
@given(total=st.integers(0, 200), done=st.lists(st.tuples(st.integers(0, 200),
                                                          st.integers(0, 60))),
       size=st.integers(1, 50))
def test_missing_ranges_and_chunks_cover_exactly_the_rest(total, done, size) -> None:
    ranges = merge(sorted((a, min(a + n, total)) for a, n in done if a < total))
    rest = chunks(missing(total, ranges), size)
    covered = [i for a, b in ranges for i in range(a, b)] + \
        [i for a, b in rest for i in range(a, b)]
    assert sorted(covered) == list(range(total))
    assert all(0 < b - a <= size for a, b in rest)


# --------------------------------------------------------------------------- journal
def _journal(tmp_path: Path, params=None, total=10) -> Journal:
    j = Journal(tmp_path / "r.jsonl", params or {"x": 1}, total)
    assert j.open() is False
    return j


def test_journal_torn_last_line_is_cut_and_the_rest_kept(tmp_path) -> None:
    j = _journal(tmp_path)
    j.append({"kind": "chunk", "start": 0, "stop": 5, "n": 5})
    j.close()
    with j.partial.open("a") as f:
        f.write('{"kind": "chunk", "start": 5, "st')  # the writer died here
    again = Journal(tmp_path / "r.jsonl", {"x": 1}, 10)
    assert again.open() is False
    assert again.done_ranges() == [(0, 5)] and again.run == 1
    again.close()
    lines = again.partial.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # the torn line is gone
    assert json.loads(lines[-1])["kind"] == "resume"


def test_journal_corruption_and_other_parameters_are_refused(tmp_path) -> None:
    j = _journal(tmp_path)
    j.append({"kind": "chunk", "start": 0, "stop": 5})
    j.close()
    with pytest.raises(SweepError, match="other parameters"):
        Journal(tmp_path / "r.jsonl", {"x": 2}, 10).open()
    text = j.partial.read_text().splitlines()
    j.partial.write_text("\n".join([text[0], "{not json", text[1]]) + "\n")
    with pytest.raises(SweepError, match=r"r\.jsonl\.partial:2: corrupted record"):
        read_records(j.partial)


def test_journal_complete_renames_atomically(tmp_path) -> None:
    j = _journal(tmp_path)
    j.append({"kind": "chunk", "start": 0, "stop": 10})
    assert not j.path.exists()
    j.complete({"checked": 10})
    assert j.path.exists() and not j.partial.exists()
    assert read_records(j.path)[-1]["kind"] == "summary"
    assert Journal(j.path, {"x": 1}, 10).open() is True  # already done: nothing to run


# --------------------------------------------------------------------------- engine
def _square(x: int) -> int:
    return x * x


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x


def _chunk_sum(start: int, stop: int) -> dict:
    if start <= 13 < stop:
        raise ArithmeticError("unlucky 13")
    return {"sum": sum(range(start, stop))}


@pytest.fixture(scope="module")
def client():
    with cluster(workers=2) as c:
        yield c


def test_map_items_in_order_and_resumes_from_its_journal(client, tmp_path) -> None:
    items = list(range(12))
    assert map_items(client, _square, items) == [i * i for i in items]
    assert map_items(None, _square, items) == [i * i for i in items]
    j = Journal(tmp_path / "g.jsonl", {"grid": 1}, len(items))
    j.open()
    map_items(client, _square, items[:5], keys=[str(i) for i in items[:5]], journal=j)
    j.close()
    j2 = Journal(tmp_path / "g.jsonl", {"grid": 1}, len(items))
    j2.open()
    ran = []
    got = map_items(None, lambda x: ran.append(x) or x * x, items,
                    keys=[str(i) for i in items], journal=j2)
    assert got == [i * i for i in items] and ran == items[5:]  # nothing done twice


def test_a_failing_item_is_reported_with_its_item(client) -> None:
    with pytest.raises(SweepTaskError, match="3: ValueError: three is bad"):
        map_items(client, _fails_on_three, list(range(6)))


def test_a_failing_chunk_is_reported_and_left_to_redo(client, tmp_path) -> None:
    from sweeps import run_ranges

    j = Journal(tmp_path / "c.jsonl", {"c": 1}, 40)
    j.open()
    rep = run_ranges(client, _chunk_sum, 40, 5, j, progress=False)
    j.close()
    assert not rep.complete
    assert [(e["start"], e["stop"]) for e in rep.errors] == [(10, 15)]
    assert "ArithmeticError: unlucky 13" in rep.errors[0]["error"]
    assert j.done_ranges() == [(0, 10), (15, 40)]
    assert sum(r["sum"] for r in rep.records) == sum(range(40)) - sum(range(10, 15))


# --------------------------------------------------------------------------- CLI
def _sweep(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*SRCNN, "sweep", "machines", *args], capture_output=True,
                          text=True, env=ENV, timeout=600, **kw)


def _chunk_records(path: Path) -> list[dict]:
    return [r for r in read_records(path) if r["kind"] == "chunk"]


def _assert_exact_cover(records: list[dict], total: int) -> None:
    spans = sorted((r["start"], r["stop"]) for r in records)
    assert spans[0][0] == 0 and spans[-1][1] == total
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # no gap, no overlap


def _interrupt_then_resume(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "all2x2.jsonl"
    args = ["--class", "2x2", "--out", str(out), "--workers", "1", "--chunk", "400", "--json"]
    proc = subprocess.Popen([*SRCNN, "sweep", "machines", *args], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    part = partial_path(out)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if part.exists() and part.read_text().count('"kind": "chunk"') >= 3:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    # the whole process group, as SIGKILL of a session or Ctrl-C on a terminal does
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:  # one line, no worker tracebacks
        assert proc.returncode == 130 and "resume" in err and "Traceback" not in err, err
    before = _chunk_records(part)
    assert 3 <= len(before) < 72 and not out.exists()
    if sig == signal.SIGKILL:
        with part.open("a") as f:
            f.write('{"kind": "chunk", "start": 99')  # as if killed mid-write
    r = _sweep(*args)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["complete"] and summary["checked"] == 28_561 and summary["failed"] == 0
    after = _chunk_records(out)
    _assert_exact_cover(after, 28_561)
    assert [r for r in after if r["run"] == 0] == before  # kept, not redone
    assert summary["checked_this_run"] == 28_561 - sum(r["stop"] - r["start"] for r in before)


def test_sigkill_mid_sweep_resumes_without_redoing_or_losing_work(tmp_path) -> None:
    _interrupt_then_resume(tmp_path, signal.SIGKILL)


def test_ctrl_c_mid_sweep_stops_cleanly_and_resumes(tmp_path) -> None:
    _interrupt_then_resume(tmp_path, signal.SIGINT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_on_a_dask_scheduler_on_loopback(tmp_path) -> None:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard"], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(bindir / "dask"), "worker", address, "--nthreads", "1",
                               "--no-dashboard", "--host", "127.0.0.1"], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = tmp_path / "sample.jsonl"
        r = _sweep("--class", "3x2", "--sample", "3000", "--seed", "7", "--out", str(out),
                   "--scheduler", address, "--timeout", "60", "--chunk", "500", "--json")
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary["checked"] == 3000 and summary["failed"] == 0
        assert summary["workers"] == 1 and summary["complete"]
        _assert_exact_cover(_chunk_records(out), 3000)
    finally:
        for p in (worker, sched):
            p.terminate()
            p.wait(timeout=30)


def test_bad_input_is_one_line_with_exit_code_2(tmp_path) -> None:
    out = tmp_path / "r.jsonl"
    for args, words in [
        (["--class", "3y2", "--out", str(out)], "unknown class"),
        (["--class", "9x2", "--out", str(out)], "unknown class"),
        (["--class", "2x2", "--out", str(out), "--scheduler",
          f"tcp://127.0.0.1:{_free_port()}", "--timeout", "1"], "cannot reach the scheduler"),
        (["--class", "2x2", "--out", str(tmp_path / "f" / "r.jsonl" / "x")], "cannot write"),
        (["--class", "2x2", "--out", str(out), "--sample", "0"], "--sample must be >= 1"),
    ]:
        if "cannot write" in words:
            (tmp_path / "f").mkdir()
            (tmp_path / "f" / "r.jsonl").write_text("a file, not a folder")
        r = _sweep(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
    part = partial_path(out)
    part.write_text('{"kind": "header", "format": "sweeps/1"}\n{oops\n{"kind": "x"}\n')
    r = _sweep("--class", "2x2", "--out", str(out))
    assert r.returncode == 2 and "r.jsonl.partial:2: corrupted record" in r.stderr
    assert not out.exists()

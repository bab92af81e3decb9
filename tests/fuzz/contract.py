"""Running one fuzz case in-process and judging it against the contract.

The contract (issue #15, ``docs/limits.md``): bad input ends with exit 2 and exactly one
line on stderr naming where (a file and line:col, the argument, or the field), or a parser
raises its own error type with a one-line message; good input ends with exit 0 and an
answer that agrees with an independent computation; never a traceback, never the
``internal error`` safety net, never a hang (a per-case alarm on CPU time, and a wider one on
wall time for a case that waits), and nothing a terminal
cannot print. Memory is bounded by the runner (an address-space limit on its process).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.cases import Case, write_files

GOOD = ("ok", "refused")
"""Outcomes that keep the contract."""
BAD = ("traceback", "guard", "hang", "multiline", "unlocated", "long", "wrong", "exit",
       "unencodable", "memory")
"""Outcomes that break it: an exception escaped, the safety net caught a bug, the alarm
fired, an error took more than one line, named no place, was longer than
:data:`MAX_LINE`, an answer disagreed with the cross-check, an unexpected exit code, output
that is not valid UTF-8, or memory ran out."""
WALL_FACTOR = 5
"""A case may take this many times its CPU-time alarm in wall time (a busy machine)."""
MAX_LINE = 1000
"""Longest acceptable error line (the CLI cuts at 600; parsers' quoted tokens are capped)."""


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


@dataclass
class Result:
    outcome: str
    detail: str
    seconds: float


class _StrictOut(io.StringIO):
    """stdout that accepts only text a UTF-8 terminal can print."""

    def write(self, s: str) -> int:
        s.encode("utf-8")  # UnicodeEncodeError on a lone surrogate, as a real stdout would
        return super().write(s)


def _alarm(signum, frame):
    raise CaseTimeout()


def _clean(where: Path) -> None:
    for entry in where.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


class EndlessFifo:
    """A FIFO at ``path`` with a thread writing to it until :meth:`stop` (or until its
    reader goes away): an input that never ends and is not a regular file."""

    def __init__(self, path: Path) -> None:
        self.path, self.done = path, threading.Event()
        os.mkfifo(path)
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self) -> None:
        try:
            with open(self.path, "wb") as f:  # blocks until a reader opens the FIFO
                while not self.done.is_set():
                    f.write(b"#" * 4096)
        except OSError:  # the reader went away
            pass

    def stop(self) -> None:
        """End the writer whatever it is doing: blocked opening (no reader came), blocked
        writing (the reader stopped reading) or writing into a closed pipe."""
        self.done.set()
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while self.thread.is_alive():
                try:
                    os.read(fd, 1 << 16)
                except BlockingIOError:
                    pass
                self.thread.join(0.001)
        finally:
            os.close(fd)


def _located(message: str, case: Case) -> bool:
    """Does a one-line error name where: an argument of the case (a path, a value, an option),
    or say which argument (argparse's 'argument ...'), or the bbchallenge column?"""
    from simulators.inputs import printable

    if "argument" in message or "bbchallenge string" in message or "<text>" in message:
        return True
    tokens = list(case.argv[1:] if case.argv else []) + list(case.files) + \
        ([case.fifo] if case.fifo else []) + list(case.sources)
    for t in tokens:
        if not t:
            if "''" in message or message.startswith(".:"):  # the empty path (Path: ".")
                return True
            continue
        shown = printable(t)[:40]
        stripped = printable(t.strip())[:40]  # loaders strip the whitespace around a text
        if shown in message or repr(t)[1:41] in message or (stripped and stripped in message):
            return True
    return False


def run_case(case: Case, where: Path, timeout: float) -> Result:
    """Run ``case`` in directory ``where`` (emptied first) and judge it."""
    _clean(where)
    old_cwd = os.getcwd()
    os.chdir(where)
    fifo = None
    start = time.perf_counter()
    # a hang spins (CPU time) or waits (wall time): CPU seconds are judged against
    # ``timeout`` whatever the machine's load, wall seconds against WALL_FACTOR x timeout
    old_handlers = signal.signal(signal.SIGALRM, _alarm), signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    signal.setitimer(signal.ITIMER_REAL, WALL_FACTOR * timeout)
    try:
        write_files(case, where)
        if case.fifo:
            fifo = EndlessFifo(where / case.fifo)
        outcome, detail = _run_cli(case) if case.argv is not None else _run_call(case)
    except CaseTimeout:
        outcome, detail = "hang", (f"no answer within {timeout:g} s of CPU time or "
                                   f"{WALL_FACTOR * timeout:g} s of wall time")
    except MemoryError:
        outcome, detail = "memory", "MemoryError under the address-space limit"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, old_handlers[0])
        signal.signal(signal.SIGPROF, old_handlers[1])
        if fifo is not None:
            fifo.stop()
        os.chdir(old_cwd)
    return Result(outcome, detail, time.perf_counter() - start)


def _run_call(case: Case) -> tuple[str, str]:
    assert case.call is not None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library API warns; main() prints warnings
            value = case.call()
    except case.allowed as e:
        message = str(e)
        if "\n" in message or "\r" in message:
            return "multiline", message[:300]
        if len(message) > MAX_LINE:
            return "long", f"{len(message)} characters: {message[:200]}"
        try:
            message.encode("utf-8")
        except UnicodeEncodeError:
            return "unencodable", repr(message[:200])
        return ("refused", message) if _located(message, case) else ("unlocated", message)
    except (CaseTimeout, MemoryError):
        raise
    except BaseException as e:  # noqa: BLE001 - any other exception breaks the contract
        return "traceback", f"{type(e).__name__}: {str(e)[:300]}"
    return _check_value(value)


def _check_value(value: object) -> tuple[str, str]:
    """A parsed value must be well formed: machines with printable names, circuits, data."""
    from simulators.turing import TuringMachine

    machines = [value] if isinstance(value, TuringMachine) else []
    for m in machines:
        for name in (*m.state_names, *m.symbol_names, m.name):
            if name and not name.isprintable():
                return "unencodable", f"a parsed machine has the name {name!r}"
    return "ok", ""


def _run_cli(case: Case) -> tuple[str, str]:
    from srcnn.cli import main

    out, err = _StrictOut(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(case.argv))
    except (CaseTimeout, MemoryError):
        raise
    except BaseException as e:  # noqa: BLE001 - anything escaping main is a traceback
        return "traceback", f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        sys.stdout, sys.stderr = old
    stdout, stderr = out.getvalue(), err.getvalue()
    lines = stderr.splitlines()
    if "internal error" in stderr:
        return "guard", stderr.strip()[:400]
    errors = [ln for ln in lines if ": error: " in ln]
    if code != 0 and any(not ln.startswith("srcnn") for ln in lines):
        return "multiline", stderr[:400]  # (a successful run may report on stderr)
    if code == 2:
        if len(errors) != 1 or len(lines) != 1 + sum(": warning: " in ln for ln in lines):
            return "multiline", stderr[:400]
        if len(errors[0]) > MAX_LINE:
            return "long", errors[0][:200]
        return ("refused", errors[0]) if _located(errors[0], case) else ("unlocated", errors[0])
    if code in case.ok_codes:
        if errors:
            return "exit", f"exit {code} with an error line: {errors[0][:200]}"
        if case.check is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    problem = case.check(stdout)
            except (CaseTimeout, MemoryError):
                raise
            except Exception as e:  # noqa: BLE001 - the cross-check could not even run
                problem = f"cross-check failed: {type(e).__name__}: {str(e)[:200]}"
            if problem is not None:
                return "wrong", problem
        return "ok", ""
    return "exit", f"exit {code}: {stderr.strip()[:300]}"

"""What every ``srcnn`` subcommand shares: exit codes, the one-line usage error, argument
types (step counts, output paths checked before any work starts), progress bars, and
loading a machine argument.

A subcommand reports bad input by raising :class:`UsageError`; ``srcnn.cli.main`` prints it
as one line ``srcnn <cmd>: error: ...`` and exits 2. An output option declared with
``type=output_file`` or ``type=output_dir`` is checked by argparse while the command line is
read, so an unwritable path is refused before a minute of work, never after.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from pathlib import Path

from simulators.inputs import clipped, is_file, shown, source_label

__all__ = [
    "EXIT_BROKEN_PIPE", "EXIT_FAIL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE",
    "MAX_MESSAGE", "MAX_REFERENCE_STEPS", "Parser", "UsageError", "is_file",
    "load_machine_arg", "one_line", "output_dir", "output_file", "output_problem",
    "progress_bar", "step_count",
]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as a shell reports it."""
EXIT_BROKEN_PIPE = 141
"""The reader of stdout went away (``srcnn ... | head -1``): 128 + SIGPIPE, as ``yes | head``."""

MAX_REFERENCE_STEPS = 10**9
"""Reference 1-D runs up to this many steps (BB(5)'s 47,176,870 takes seconds)."""
MAX_MESSAGE = 600
"""Characters of an error or warning line; longer messages are cut (the place comes first)."""


class UsageError(Exception):
    """Bad input from the user: reported as one line ``srcnn <cmd>: error: ...``, exit 2."""


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` made safe for one line of a terminal: long quoted tokens cut, characters
    that are not printable escaped, at most ``limit`` characters."""
    return clipped(message, limit)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)}\n")


def step_count(text: str) -> int:
    """``--steps``: a non-negative integer (``_`` separators allowed) up to the limit."""
    compact = text.replace("_", "")
    if not re.fullmatch(r"[+-]?[0-9]{1,30}", compact):
        raise argparse.ArgumentTypeError(f"--steps must be an integer, got {shown(text)}")
    n = int(compact)
    if n < 0:
        raise argparse.ArgumentTypeError(f"--steps must be >= 0, got {n}")
    if n > MAX_REFERENCE_STEPS:
        raise argparse.ArgumentTypeError(
            f"--steps {n} is beyond the limit of {MAX_REFERENCE_STEPS:,} steps"
        )
    return n


# --------------------------------------------------------------------------- output paths


def output_problem(path: str | os.PathLike[str], directory: bool = False) -> str | None:
    """Why ``path`` cannot be written (as a file, or as a directory to create files in), or
    ``None``. Checks only, creates nothing: a missing parent, a directory where a file is
    wanted (or the reverse), an existing file that is not a regular file (a device or a
    pipe, which a writer that renames a temporary file over it would replace), a name the
    system refuses (too long, NUL), no write permission.
    A missing output directory is fine if its nearest existing ancestor is writable (it
    will be created)."""
    text = os.fspath(path)
    if not text:
        return "empty path"
    if "\0" in text:
        return "the path holds a NUL character"
    p = Path(text)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        return f"not a usable path ({e.strerror or e})"
    if mode is not None:
        if directory:
            if not stat.S_ISDIR(mode):
                return "exists and is not a directory"
            return None if os.access(p, os.W_OK | os.X_OK) else "directory is not writable"
        if stat.S_ISDIR(mode):
            return "is a directory"
        if not stat.S_ISREG(mode):  # a device or a pipe: writers replace files by renaming
            return "exists and is not a regular file"
        return None if os.access(p, os.W_OK) else "file is not writable"
    parent = p.absolute().parent
    if directory:  # created with its parents: the nearest existing ancestor decides
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    try:
        pmode = os.stat(parent).st_mode
    except FileNotFoundError:
        return f"no such directory: {source_label(parent)}"
    except OSError as e:
        return f"not a usable path ({e.strerror or e})"
    if not stat.S_ISDIR(pmode):
        return f"{source_label(parent)} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {source_label(parent)} is not writable"
    try:  # the system's limit on one name (checked here as open() would)
        if len(os.fsencode(p.name)) > os.pathconf(parent, "PC_NAME_MAX"):
            return "file name too long"
    except (OSError, ValueError):
        pass
    return None


def output_file(text: str) -> Path:
    """argparse ``type=`` of an output file option: refused while the command line is read
    if it cannot be written (see :func:`output_problem`)."""
    problem = output_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"cannot write {shown(text)}: {problem}")
    return Path(text)


def output_dir(text: str) -> Path:
    """argparse ``type=`` of an output directory option (created if missing)."""
    problem = output_problem(text, directory=True)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"cannot write into {shown(text)}: {problem}")
    return Path(text)


# --------------------------------------------------------------------------- progress


def progress_bar(total: int | None, desc: str, unit: str = "step"):
    """A tqdm bar on stderr when stderr is a terminal (else ``None``): long runs show one,
    pipes and logs stay clean. Close it with ``.close()``."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                unit_scale=True, dynamic_ncols=True)


# --------------------------------------------------------------------------- machines


def load_machine_arg(spec: str):
    """The machine named by a command-line argument; :class:`UsageError` if it is bad."""
    from simulators.formats import load_machine
    from simulators.turing import MachineError

    try:
        return load_machine(spec)
    except MachineError as e:
        raise UsageError(str(e)) from None


def compile_learner_arg(spec: str, work_columns: int = 1):
    """The compiled learner named by a command-line argument: a library learner name or a
    learner machine file (``.tm``); :class:`UsageError` if it is neither or does not
    compile."""
    from constructions.learner import LearnerError, compile_learner_file, compile_library_learner
    from constructions.tm import CompileError
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError

    try:
        if spec in LIBRARY_LEARNERS:
            return compile_library_learner(spec)
        if is_file(spec):
            return compile_learner_file(spec, work_columns)
    except (AssemblyError, LearnerTapeError, LearnerError, CompileError) as e:
        raise UsageError(naming(spec, e)) from None
    raise UsageError(f"unknown learner {shown(spec)}: not a library learner "
                     f"({', '.join(LIBRARY_LEARNERS)}) and no such file")


def naming(spec: str, error: Exception | str) -> str:
    """The error's message, starting with the (printable) argument it is about."""
    label = source_label(spec)
    message = str(error)
    return message if message.startswith(label) else f"{label}: {message}"

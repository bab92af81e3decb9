"""What every ``srcnn`` subcommand shares: exit codes, the one-line usage error, argument
types, and loading a machine argument."""

from __future__ import annotations

import argparse

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

MAX_REFERENCE_STEPS = 10**9
"""Reference 1-D runs up to this many steps (BB(5)'s 47,176,870 takes seconds)."""


class UsageError(Exception):
    """Bad input from the user: reported as one line ``srcnn <cmd>: error: ...``, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def step_count(text: str) -> int:
    """``--steps``: a non-negative integer (``_`` separators allowed) up to the limit."""
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps must be an integer, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"--steps must be >= 0, got {n}")
    if n > MAX_REFERENCE_STEPS:
        raise argparse.ArgumentTypeError(
            f"--steps {n} is beyond the limit of {MAX_REFERENCE_STEPS:,} steps"
        )
    return n


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
    from pathlib import Path

    from constructions.learner import LearnerError, compile_learner_file, compile_library_learner
    from constructions.tm import CompileError
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError

    try:
        if spec in LIBRARY_LEARNERS:
            return compile_library_learner(spec)
        if Path(spec).is_file():
            return compile_learner_file(spec, work_columns)
    except (AssemblyError, LearnerTapeError, LearnerError, CompileError) as e:
        raise UsageError(f"{spec}: {e}") from None
    raise UsageError(f"unknown learner {spec!r}: not a library learner "
                     f"({', '.join(LIBRARY_LEARNERS)}) and no such file")

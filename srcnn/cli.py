"""``srcnn``: the command line of the succinct-rcnn verification suite.

Each subcommand lives in its own module (``srcnn/<name>_cmd.py``) with ``add_parser(sub)``;
this file only assembles them and runs one. Every subcommand reports bad input as one line
``srcnn <cmd>: error: ...`` on stderr with exit code 2; :func:`main` makes every other way
out one line too (see its docstring), so no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence

from simulators.inputs import source_label
from srcnn.common import (
    EXIT_BROKEN_PIPE,
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    UsageError,
    one_line,
    output_file,
)

__all__ = ["EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


# --------------------------------------------------------------------------- verify
def cmd_verify(args: argparse.Namespace) -> int:
    from proofs_check.runner import run_checks
    from sweeps import SweepError

    try:
        return run_checks(
            mode="thorough" if args.thorough else "quick",
            json_path=args.json, markdown_path=args.markdown, seed=args.seed,
            scheduler=args.scheduler, workers=args.workers,
        )
    except SweepError as e:
        raise UsageError(str(e)) from None
    except OSError as e:  # the paths were checked writable first; a full disk still lands here
        where = f" {source_label(e.filename)}" if e.filename else ""
        raise UsageError(f"cannot write the report{where}: {e.strerror or e}") from None


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="run every executable check of the paper's claims and report",
        description="Run the checks in proofs_check/, print a table, exit 0 iff all pass.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the fast profile (default)")
    mode.add_argument("--thorough", action="store_true", help="more examples, longer runs")
    p.add_argument("--json", type=output_file, metavar="FILE",
                   help="write the JSON report here (checked writable before the checks run)")
    p.add_argument("--markdown", type=output_file, metavar="FILE",
                   help="write a Markdown report here (checked writable before the checks run)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="--thorough: run the checks on this Dask scheduler (docs/sweeps.md)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="--thorough: processes of the embedded Dask cluster (default: cores)")
    p.set_defaults(func=cmd_verify)


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="srcnn",
        description=(
            "Verification suite for 'Recurrent Convolutional Neural Networks Learn Succinct "
            "Learning Algorithms' (Goel, Kakade, Kalai, Zhang, NeurIPS 2022): hand-compiled "
            "RCNNs checked exactly against reference simulators."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    from srcnn import (
        certify_cmd,
        circuit_cmd,
        compile_cmd,
        explain_cmd,
        figures_cmd,
        learn_cmd,
        simulate_cmd,
        sweep_cmd,
    )

    simulate_cmd.add_parser(sub)
    compile_cmd.add_parser(sub)
    _add_verify(sub)
    for module in (circuit_cmd, learn_cmd, figures_cmd, sweep_cmd, certify_cmd):
        module.add_parser(sub)
    explain_cmd.add_parser(sub)
    return parser


_DASHED_MACHINE = re.compile(r"-[0-9-][0-9A-Z_-]*")


def _machine_strings_last(argv: list[str]) -> list[str]:
    """Move tokens that are bbchallenge-shaped but start with ``-`` (``---`` is an undefined
    first transition; ``-1RB1LB_1LA1RZ`` a mistyped machine; never an option or a negative
    number) behind ``--`` so argparse reads them as positionals, not as unknown options."""
    if "--" in argv:
        return argv
    dashed = [a for a in argv if _is_dashed_machine(a)]
    if not dashed:
        return argv
    return [a for a in argv if not _is_dashed_machine(a)] + ["--", *dashed]


def _is_dashed_machine(token: str) -> bool:
    return (_DASHED_MACHINE.fullmatch(token) is not None and token != "--"
            and not token[1:].isdigit())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``srcnn``; returns the exit code (0 ok, 1 a check failed, 2 bad input, 130
    interrupted, 141 stdout closed early).

    Every outcome is at most one line on stderr: bad input (:class:`UsageError`, argparse
    errors), Ctrl-C, a reader that closed the pipe (quiet, as Unix tools do), warnings
    (``srcnn <cmd>: warning: ...``), and, as a last safety net that the fuzz suite shows is
    never reached, any other exception (``internal error``, exit 1, with a request to report
    it; ``SRCNN_DEBUG=1`` re-raises it with its traceback).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(_machine_strings_last(list(sys.argv[1:] if argv is None
                                                            else argv)))
    except SystemExit as e:  # argparse: --help (0) or a one-line usage error (2)
        return e.code if isinstance(e.code, int) else EXIT_OK
    command = args.command
    func: Callable[[argparse.Namespace], int] = args.func
    _survive_unencodable_stdout()
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning(command)
        try:
            code = func(args)
            sys.stdout.flush()
            return code
        except UsageError as e:
            print(f"srcnn {command}: error: {one_line(str(e))}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(f"srcnn {command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else EXIT_OK
        except Exception as e:  # the safety net: a bug, never bad input
            if os.environ.get("SRCNN_DEBUG"):
                raise
            print(f"srcnn {command}: internal error: {type(e).__name__}: "
                  f"{one_line(str(e), 300)} (a bug: please report it with the command line; "
                  "SRCNN_DEBUG=1 shows the traceback)", file=sys.stderr)
            return EXIT_FAIL


def _one_line_warning(command: str):
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"srcnn {command}: warning: {one_line(str(message))}", file=sys.stderr)
    return show


def _survive_unencodable_stdout() -> None:
    """On the real stdout, write what cannot be encoded (a lone surrogate from a file name)
    as an escape rather than dying; names read from files are already printable."""
    if sys.stdout is sys.__stdout__ and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """After the reader closed the pipe, point stdout at /dev/null so the interpreter's
    final flush cannot fail again (and print a traceback) on the way out."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (in-process callers)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

"""Reading Turing machines from the command line and from files, the built-in machine
library, and the run summary used by ``srcnn simulate``.

A machine is given as a bbchallenge string (:mod:`simulators.bbchallenge`, e.g.
``1RB1LB_1LA1RZ``), a YAML/JSON machine document (:mod:`simulators.machine_doc`, see
``docs/simulators.md``), a grid-machine assembly file (``.tm``, :mod:`simulators.assembler`)
or the name of a built-in machine. Files are read through :mod:`simulators.inputs` (at most
:data:`~simulators.inputs.MAX_DOCUMENT_BYTES`, strict UTF-8). All errors raise
:class:`MachineFormatError` with a one-line message naming the position. The names of the
two format modules are re-exported here, so ``from simulators.formats import
parse_bbchallenge`` keeps working.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulators.bbchallenge import (
    MAX_BB_STATES,
    MAX_BB_SYMBOLS,
    MachineFormatError,
    format_bbchallenge,
    looks_like_bbchallenge,
    parse_bbchallenge,
)
from simulators.inputs import (
    MAX_DOCUMENT_BYTES,
    InputError,
    is_file,
    printable,
    read_text,
    shown,
    source_label,
)
from simulators.machine_doc import (
    dump_machine,
    machine_from_dict,
    machine_from_text,
    machine_to_dict,
    parse_document,
    parse_expect,
)
from simulators.turing import Configuration, TuringMachine

__all__ = [
    "MAX_BB_STATES",
    "MAX_BB_SYMBOLS",
    "MachineFormatError",
    "parse_bbchallenge",
    "format_bbchallenge",
    "load_machine",
    "load_machine_file",
    "machine_from_dict",
    "machine_to_dict",
    "dump_machine",
    "summarize",
    "builtin_machines",
    "builtin_names",
    "builtin_expectations",
    "check_expectation",
]

_BB_CHARS = re.compile(r"[0-9A-Za-z_\-]+")
_DOC_SUFFIXES = (".json", ".yaml", ".yml", ".tm")


def _read_file(path: str | os.PathLike[str]) -> str:
    try:  # the path as given: errors name what the user typed (``a/`` stays ``a/``)
        return read_text(path, MAX_DOCUMENT_BYTES, "machine file")
    except InputError as e:
        raise MachineFormatError(str(e)) from None


def _looks_like_assembly(text: str) -> bool:
    """True for grid-machine assembly (see docs/assembler.md) rather than a bare string."""
    return re.search(r"^\s*(symbols|state|macro|start|name|set|use)\b", text, re.M) is not None


def load_machine_file(path: str | os.PathLike[str]) -> TuringMachine:
    """Load a ``.json``, ``.yaml``/``.yml`` or ``.tm`` file.

    A ``.tm``/``.asm`` file holds grid-machine assembly (``simulators.assembler``) or a bare
    bbchallenge string.

    JSON is used for ``.json`` files and for content starting with ``{``; anything else is
    read as YAML (a document that is a single string is parsed as a bbchallenge string). The
    machine's name defaults to the file stem (non-printable characters escaped).
    """
    p = Path(path)
    text = _read_file(path)
    source = source_label(path)
    if p.suffix.lower() in (".tm", ".asm") and _looks_like_assembly(text):
        from simulators.assembler import AssemblyError, assemble

        try:
            return assemble(text, source)
        except AssemblyError as e:
            raise MachineFormatError(str(e)) from None
    as_json = p.suffix.lower() == ".json" or (
        p.suffix.lower() not in (".yaml", ".yml") and text.lstrip().startswith("{")
    )
    return machine_from_text(text, source, printable(p.stem), as_json)


def load_machine(path_or_text: str | os.PathLike[str]) -> TuringMachine:
    """Load a machine from a bbchallenge string, a file path, a built-in name, or a document.

    Resolution order for a ``str``, by content first: inline YAML/JSON text (contains a
    newline or starts with ``{``); a string shaped like a bbchallenge string (however long,
    and even if a file of that name exists); a path (ends in ``.json``/``.yaml``/``.yml``/
    ``.tm``, contains a path separator, or names an existing file; a string that cannot be a
    path, e.g. longer than the system allows, is not one); a built-in machine name (see
    :func:`builtin_names`); else a bbchallenge string. ``os.PathLike`` arguments
    are always files.
    """
    if isinstance(path_or_text, os.PathLike):
        return load_machine_file(path_or_text)
    if not isinstance(path_or_text, str):
        raise MachineFormatError(
            f"expected a path or a machine string, got {type(path_or_text).__name__}"
        )
    s = path_or_text.strip()
    if "\n" in s or s.startswith("{"):
        if len(s) > MAX_DOCUMENT_BYTES:
            raise MachineFormatError(f"<text>: {len(s):,} characters, more than the limit of "
                                     f"{MAX_DOCUMENT_BYTES:,} for a machine document")
        return machine_from_text(s, "<text>", "", s.startswith("{"))
    if looks_like_bbchallenge(s):
        return parse_bbchallenge(s)
    if s.lower().endswith(_DOC_SUFFIXES) or "/" in s or os.sep in s or (s and is_file(s)):
        return load_machine_file(s)
    builtins = builtin_machines()
    if s in builtins:
        return builtins[s]
    try:
        return parse_bbchallenge(s)
    except MachineFormatError as e:
        if s and _BB_CHARS.fullmatch(s) and not re.search(r"[0-9-]", s[:1]):
            # Looks like a name rather than a machine: say what was tried.
            raise MachineFormatError(
                f"{shown(s)} is not a file, a built-in machine ({', '.join(builtin_names())}) "
                f"or a bbchallenge string ({e})"
            ) from None
        raise


# --------------------------------------------------------------------------- summary


def summarize(machine: TuringMachine, config: Configuration) -> dict[str, Any]:
    """The ``srcnn simulate --json`` record of ``config``; depends only on its arguments.

    Keys: ``halted``, ``steps``, ``state`` (name; ``"Z"`` after a halting transition),
    ``head`` (column relative to the start cell), ``head_row`` (grid machines only, i.e.
    machines using U, D or S), ``ones`` (non-blank cells), ``tape`` (symbol digits of row 0
    from its leftmost to its rightmost non-blank cell; ``""`` if none). Cells explicitly
    holding the blank (0) are ignored, so decoded dense tapes summarize like sparse ones.
    """
    cells = {cell: a for cell, a in config.tape.items() if a}
    cols = [c for (r, c) in cells if r == 0]
    tape = (
        "".join(str(cells.get((0, c), 0)) for c in range(min(cols), max(cols) + 1))
        if cols
        else ""
    )
    out: dict[str, Any] = {
        "halted": bool(config.is_halted(machine)),
        "steps": int(config.steps),
        "state": machine.state_name(config.state),
        "head": int(config.head[1]),
    }
    if not machine.is_one_dimensional:
        out["head_row"] = int(config.head[0])
    out["ones"] = len(cells)
    out["tape"] = tape
    return out


# --------------------------------------------------------------------------- library


@functools.lru_cache(maxsize=1)
def _library() -> tuple[dict[str, TuringMachine], dict[str, dict[str, Any]]]:
    root = importlib.resources.files("simulators") / "library"
    machines: dict[str, TuringMachine] = {}
    expectations: dict[str, dict[str, Any]] = {}
    entries = sorted(
        (e for e in root.iterdir() if e.name.lower().endswith(_DOC_SUFFIXES)),
        key=lambda e: e.name,
    )
    for entry in entries:
        stem = entry.name.rsplit(".", 1)[0]
        source = f"library/{entry.name}"
        text = entry.read_text(encoding="utf-8")
        as_json = entry.name.lower().endswith(".json")
        data = parse_document(text, source, as_json)
        if isinstance(data, str):
            machine = machine_from_text(text, source, stem, as_json)
            expect = None
        else:
            machine = machine_from_dict(data, source, stem)
            expect = (
                parse_expect(source, data["expect"])
                if isinstance(data, Mapping) and "expect" in data
                else None
            )
        if machine.name != stem:
            raise MachineFormatError(
                f"{source}: name {machine.name!r} does not match the file name {stem!r}"
            )
        if stem in machines:
            raise MachineFormatError(f"{source}: duplicate built-in machine {stem!r}")
        machines[stem] = machine
        if expect is not None:
            expectations[stem] = expect
    return machines, expectations


def builtin_names() -> list[str]:
    """Names of the built-in machines (``simulators/library/*``), sorted."""
    return sorted(_library()[0])


def builtin_machines() -> dict[str, TuringMachine]:
    """All built-in machines by name (a fresh dict; the machines are immutable)."""
    return dict(_library()[0])


def builtin_expectations() -> dict[str, dict[str, Any]]:
    """Recorded expectations of the built-in machines, by name.

    Each is a partial :func:`summarize` record: running the machine with
    ``max_steps=expect["steps"]`` must give a summary agreeing on every recorded key.
    """
    return {k: dict(v) for k, v in _library()[1].items()}


def check_expectation(
    machine: TuringMachine, expect: Mapping[str, Any], config: Configuration
) -> list[str]:
    """Mismatches between ``summarize(machine, config)`` and ``expect`` (empty if none)."""
    summary = summarize(machine, config)
    return [
        f"{key}: expected {value!r}, got {summary.get(key)!r}"
        for key, value in expect.items()
        if summary.get(key) != value
    ]

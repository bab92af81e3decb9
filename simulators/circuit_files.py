"""Reading a circuit file of either supported format (Bristol Fashion or AIGER ASCII).

:func:`load_circuit` reads at most :data:`~simulators.inputs.MAX_CIRCUIT_BYTES` bytes, refuses
binary AIGER by its ``aig`` header, decodes strict UTF-8 (a bad byte is reported with its line,
column and offset, whatever the format), then picks the format: the one asked for, else the
file's suffix (``.aag``/``.aig``: AIGER; ``.bristol``/``.brs``: Bristol), else the content (a
Bristol file starts with a number, an AIGER file with ``aag``). Every error is a
:class:`~simulators.circuits.CircuitError` whose message starts with ``file:line:col:``.
"""

from __future__ import annotations

import os

from simulators.aiger import parse_aiger
from simulators.bristol import parse_bristol
from simulators.circuits import Circuit, CircuitError
from simulators.inputs import MAX_CIRCUIT_BYTES, InputError, decode_text, read_bytes, source_label

__all__ = ["CIRCUIT_FORMATS", "detect_format", "load_circuit"]

CIRCUIT_FORMATS = ("bristol", "aiger")
_SUFFIXES = {".aag": "aiger", ".aig": "aiger", ".bristol": "bristol", ".brs": "bristol"}


def detect_format(path: str | os.PathLike[str], text: str) -> str:
    """``"aiger"`` or ``"bristol"`` for a file with this name and content (see the module)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    first = text.split(None, 1)[0] if text.strip() else ""
    return "bristol" if first.isascii() and first.isdigit() else "aiger"


def load_circuit(path: str | os.PathLike[str], fmt: str | None = None) -> tuple[Circuit, str]:
    """The circuit in the file at ``path`` and the format it was read as."""
    source = source_label(path)
    try:
        data = read_bytes(path, MAX_CIRCUIT_BYTES, "circuit file")
        if data[:4] in (b"aig ", b"aig\n", b"aig\r", b"aig\t"):
            raise InputError(source, "binary AIGER ('aig') is not supported; convert it to the "
                                     "ASCII format ('aag'), e.g. with aigtoaig", 1, 1)
        text = decode_text(data, source)
    except InputError as e:
        raise CircuitError(e.message, line=e.line, col=e.col, source=source) from None
    if fmt is None:
        fmt = detect_format(path, text)
    if fmt not in CIRCUIT_FORMATS:
        raise ValueError(f"unknown circuit format {fmt!r}; choose from {CIRCUIT_FORMATS}")
    parse = parse_aiger if fmt == "aiger" else parse_bristol
    return parse(text, source), fmt

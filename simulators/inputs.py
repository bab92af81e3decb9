"""Bounded, safe reading of every input format: the one place that decides how many bytes
are read, how deep a document may nest, how long its integers and names may be, and how an
error names its place (``file:line:col: message``, always one line).

Every parser of the project (machine documents, ``.tm`` assembly, Bristol, AIGER, CSV
datasets) reads files through :func:`read_text` and quotes offending tokens through
:func:`shown`, so a hostile file (an endless special file such as ``/dev/zero``, a document
nested thousands deep, a YAML alias bomb, a 5,000-digit integer, a name holding a newline or
a lone surrogate) is refused with one line instead of a traceback, a hang or gigabytes of
memory. The limits are listed in ``docs/limits.md``. Plain Python; no torch.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import stat
from typing import Any

import yaml

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_CIRCUIT_BYTES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NAME_LENGTH",
    "MAX_STATES",
    "MAX_TABLE_ENTRIES",
    "MAX_YAML_NODES",
    "InputError",
    "check_name",
    "check_table_size",
    "clipped",
    "decode_text",
    "is_file",
    "load_json",
    "load_yaml",
    "printable",
    "position",
    "read_bytes",
    "read_text",
    "shown",
    "source_label",
]

MAX_DOCUMENT_BYTES = 1 << 20
"""Machine documents (YAML, JSON) and ``.tm`` assembly files: at most 1 MiB."""
MAX_CIRCUIT_BYTES = 4 << 20
"""Bristol and AIGER files: at most 4 MiB (about 250,000 gate lines)."""
MAX_CSV_BYTES = 16 << 20
"""CSV datasets: at most 16 MiB (a full ``TEST.csv``, 65,536 points of d = 64, is 12.6 MB)."""
MAX_DEPTH = 64
"""JSON and YAML documents: nesting at most 64 levels deep (a machine file needs 4)."""
MAX_YAML_NODES = 100_000
"""YAML documents: at most 100,000 nodes once every alias is expanded (stops alias bombs)."""
MAX_INT_DIGITS = 100
"""Integers in any input: at most 100 digits (Python refuses to convert more than 4,300)."""
MAX_NAME_LENGTH = 256
"""State, symbol and machine names: at most 256 printable characters."""
MAX_STATES = 10_000
"""Machines: at most 10,000 states (after ``.tm`` macro expansion)."""
MAX_TABLE_ENTRIES = 1_000_000
"""Machines: at most 10^6 transition-table entries (states x symbols)."""
MAX_QUOTED = 48
"""Characters of an offending token quoted in an error message; longer ones are cut."""


class InputError(ValueError):
    """Unreadable or hostile input. ``str(e)`` is one line: ``source:line:col: message``
    (``line``/``col`` are omitted when unknown)."""

    def __init__(self, source: str, message: str, line: int | None = None,
                 col: int | None = None) -> None:
        self.source, self.message, self.line, self.col = source, message, line, col
        where = source
        if line is not None:
            where += f":{line}" + (f":{col}" if col is not None else "")
        super().__init__(f"{where}: {message}" if where else message)


# --------------------------------------------------------------------------- quoting


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 6, 6, 4
_REPR.maxset = _REPR.maxfrozenset = 6
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = MAX_QUOTED


def shown(value: Any, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` for an error message: one line, at most about ``limit`` characters.

    Strings longer than ``limit`` are cut and their length given; containers are cut after a
    few items and a few levels. Non-printable characters (newlines, controls, lone
    surrogates) appear escaped, as ``repr`` writes them.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{repr(value[:limit])[:-1]}...' ({len(value):,} characters)"
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # e.g. an int beyond Python's str conversion limit
        text = f"<{type(value).__name__}>"
    return printable(text)


_QUOTED_RUN = re.compile(rf"'[^']{{{MAX_QUOTED + 1},}}'|\"[^\"]{{{MAX_QUOTED + 1},}}\"")


def clipped(text: str, limit: int = 300) -> str:
    """A message from elsewhere (a parser library, argparse) made one short printable line:
    quoted tokens longer than :data:`MAX_QUOTED` cut as :func:`shown` cuts them, characters
    that are not printable escaped, at most ``limit`` characters."""
    text = printable(_QUOTED_RUN.sub(lambda m: shown(m.group()[1:-1]), text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` itself if every character is printable, else with the others escaped
    (``\\n``, ``\\x00``, ``\\ud800``): safe to print on one line in any encoding."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def source_label(path: str | os.PathLike[str]) -> str:
    """How error messages name a file: the path as given, printable, with the middle of a
    very long path cut out (``''`` for the empty path)."""
    text = printable(os.fspath(path))
    if len(text) > _LABEL_MAX:
        text = f"{text[:_LABEL_MAX // 2]}...{text[-_LABEL_MAX // 3:]}"
    return text or "''"


_LABEL_MAX = 160


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of character ``offset`` of ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_name(value: str, what: str) -> str | None:
    """Why ``value`` cannot be a name (of a state, symbol or machine), or ``None`` if it can:
    names are non-empty, at most :data:`MAX_NAME_LENGTH` characters, all printable (no
    newline, tab, control character or lone surrogate)."""
    if not value:
        return f"{what} is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"{what} {shown(value)} is longer than {MAX_NAME_LENGTH} characters"
    if not value.isprintable():
        bad = next(ch for ch in value if not ch.isprintable())
        return (f"{what} {shown(value)} holds the non-printable character U+{ord(bad):04X}; "
                "names must be printable")
    return None


def check_table_size(n_states: int, n_symbols: int) -> str | None:
    """Why a machine of this size is refused before its table is allocated, or ``None``."""
    if n_states > MAX_STATES:
        return f"{n_states:,} states, more than the limit of {MAX_STATES:,}"
    if n_states * n_symbols > MAX_TABLE_ENTRIES:
        return (f"{n_states:,} states x {n_symbols:,} symbols = {n_states * n_symbols:,} "
                f"table entries, more than the limit of {MAX_TABLE_ENTRIES:,}")
    return None


# --------------------------------------------------------------------------- files


def is_file(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` names an existing regular file (or a special file that is not a
    directory); False for anything that cannot be a path at all: a name too long for the
    system, a NUL byte, a missing file. Never raises."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISDIR(mode)


def read_bytes(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """At most ``limit`` bytes of ``path``, or :class:`InputError`.

    A regular file larger than ``limit`` is refused before it is read; any other file (a
    device such as ``/dev/zero``, a pipe) is read in one bounded call and refused if more
    than ``limit`` bytes arrive, so no input can take more than ``limit`` bytes of memory.
    """
    source = source_label(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except ValueError as e:  # a NUL byte in the path
        raise InputError(source, f"not a valid path ({e})") from None
    except OSError as e:
        raise InputError(source, f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(source, f"is a directory, not a {what}")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise InputError(source, f"{st.st_size:,} bytes, more than the limit of "
                                 f"{limit:,} for a {what}")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(source, f"cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise InputError(source, f"more than {limit:,} bytes (the limit for a {what}); "
                                 "an endless special file?")
    return data


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text (a leading byte-order mark dropped), or :class:`InputError`
    naming the line, column and byte offset of the first bad byte, or of a NUL character."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        col = len(data[line_start:start].decode("utf-8", "replace")) + 1
        raise InputError(source, f"not UTF-8 text: byte 0x{data[start]:02x} at offset "
                                 f"{start:,} ({e.reason})", line, col) from None
    nul = text.find("\0")
    if nul >= 0:
        raise InputError(source, "NUL character: not a text file", *position(text, nul))
    return text


def read_text(path: str | os.PathLike[str], limit: int, what: str = "file") -> str:
    """:func:`read_bytes` then :func:`decode_text`: bounded, strict UTF-8, no NUL."""
    return decode_text(read_bytes(path, limit, what), source_label(path))


# --------------------------------------------------------------------------- JSON

_JSON_TOKEN = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"|[\[\]{}:,]|-?\d+|"')


def _scan_json(text: str, source: str, max_depth: int) -> None:
    """Check what ``json.loads`` would not: nesting depth (its C parser recurses), duplicate
    keys and integer lengths, each reported at its line and column. Stops at the first
    unterminated string (everything after it is inside the string)."""
    objects: list[set[str] | None] = []  # per open bracket: the keys seen ({}) or None ([])
    last = None
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok == '"':
            return
        if tok in "[{":
            if len(objects) >= max_depth:
                raise InputError(source, f"JSON nested deeper than {max_depth} levels",
                                 *position(text, m.start()))
            objects.append(set() if tok == "{" else None)
        elif tok in "]}":
            if objects:
                objects.pop()
        elif tok == ":" and last is not None and last.group().startswith('"'):
            keys = objects[-1] if objects else None
            if keys is not None:
                try:
                    key = json.loads(last.group())
                except ValueError:
                    key = last.group()
                if key in keys:
                    raise InputError(source, f"duplicate key {shown(key)}",
                                     *position(text, last.start()))
                keys.add(key)
        elif tok[-1].isdigit() and len(tok.lstrip("-")) > MAX_INT_DIGITS:
            raise InputError(source, f"integer of {len(tok.lstrip('-')):,} digits, more than "
                                     f"the limit of {MAX_INT_DIGITS}", *position(text, m.start()))
        last = m


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:  # _scan_json reports these with a position first
            raise ValueError(f"duplicate key {shown(k)}")
        out[k] = v
    return out


def load_json(text: str, source: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON ``text`` with depth, duplicate-key and integer-size limits; every error is
    an :class:`InputError` at ``source:line:col``."""
    _scan_json(text, source, max_depth)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise InputError(source, f"JSON syntax error: {e.msg}", e.lineno, e.colno) from None
    except (ValueError, RecursionError) as e:
        raise InputError(source, f"JSON error: {clipped(str(e))}") from None


# --------------------------------------------------------------------------- YAML


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits: nesting depth, node count after alias expansion,
    integer length, and no duplicate mapping keys. Every refusal is a ``MarkedYAMLError``
    carrying the line and column of the offending node."""

    max_depth = MAX_DEPTH
    max_nodes = MAX_YAML_NODES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._size: dict[int, int] = {}  # id(node) -> node count with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            return node  # its expanded size is counted by the collection holding it
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > self.max_depth:
            raise yaml.composer.ComposerError(
                None, None, f"nesting deeper than {self.max_depth} levels", mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size.get(id(c), 1) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size.get(id(k), 1) + self._size.get(id(v), 1)
                        for k, v in node.value)
        if size > self.max_nodes:
            raise yaml.composer.ComposerError(
                None, None, f"{size:,} nodes once aliases are expanded, more than the limit "
                            f"of {self.max_nodes:,} (an alias bomb?)", node.start_mark)
        self._size[id(node)] = size
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as e:  # e.g. an invalid date
            raise yaml.constructor.ConstructorError(
                None, None, clipped(str(e)), node.start_mark) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = len(node.value.lstrip("+-").replace("_", ""))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"integer of {digits:,} digits, more than the limit of "
                            f"{MAX_INT_DIGITS}", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key; the base class says so with its mark
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shown(key)}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


SafeLoader.add_constructor("tag:yaml.org,2002:int", SafeLoader.construct_yaml_int)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML ``text`` with :class:`SafeLoader`; every error is an :class:`InputError`
    at ``source:line:col``."""
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = clipped(e.problem or e.context or "invalid document")
        if mark is None:
            raise InputError(source, f"YAML error: {problem}") from None
        raise InputError(source, f"YAML error: {problem}", mark.line + 1,
                         mark.column + 1) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, by position
        raise InputError(source, f"YAML error: character U+{e.character:04X} is not allowed"
                         if isinstance(e.character, int) else "YAML error: unreadable text",
                         *position(text, e.position)) from None
    except (yaml.YAMLError, RecursionError) as e:
        raise InputError(source, f"YAML error: {clipped(' '.join(str(e).split()))}") from None

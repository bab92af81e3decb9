"""Reading and writing Turing machines: the bbchallenge text format and a readable YAML/JSON
file format, the built-in machine library, and the run summary used by ``srcnn simulate``.

bbchallenge format (https://bbchallenge.org), e.g. ``1RB1LB_1LA1RZ``: one ``_``-separated group
per state (A, B, ... in order); each group holds one 3-character transition per symbol
(0, 1, ... in order): ``<write digit><move><next state letter>``. ``---`` is an undefined
transition (the machine halts *without* executing a step); a next-state letter past the last
state (conventionally ``Z``) is a halting transition (the write and move are executed, the step
is counted, then the machine halts). Moves are ``L`` and ``R``; as an extension for grid machines
this module also accepts ``U`` (row - 1), ``D`` (row + 1) and ``S`` (stay).

File format (YAML or JSON), see ``docs/simulators.md``::

    name: bb2
    symbols: ["0", "1"]      # first symbol is the blank
    states: [A, B]           # first state is the start state
    halt: Z                  # optional; name of the halting state (default Z)
    transitions:
      A: {"0": [1, R, B], "1": [1, L, B]}
      B: {"0": [1, L, A], "1": [1, R, Z]}

All errors raise :class:`MachineFormatError` with a one-line message naming the position.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from simulators.turing import (
    HALT,
    HALT_LETTER,
    Configuration,
    MachineError,
    Move,
    Transition,
    TuringMachine,
)

__all__ = [
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


class MachineFormatError(MachineError):
    """A machine text or file is malformed; the message names the position."""


# --------------------------------------------------------------------------- bbchallenge

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_BB_STATES = 25  # A..Y; Z is the conventional halt letter
MAX_BB_SYMBOLS = 10  # write symbols are single digits
_MOVE_LETTERS = ", ".join(m.name for m in Move)  # "L, R, U, D, S"


def _group_label(g: int) -> str:
    return f"group {g + 1} (state {_LETTERS[g] if g < 26 else '?'})"


def parse_bbchallenge(text: str, name: str = "") -> TuringMachine:
    """Parse a bbchallenge string such as ``1RB1LB_1LA1RZ`` into a :class:`TuringMachine`.

    Surrounding whitespace is ignored. Columns in error messages are 1-based positions in the
    stripped string. Raises :class:`MachineFormatError` on any malformed input.
    """
    if not isinstance(text, str):
        raise MachineFormatError(
            f"bbchallenge string: expected a str, got {type(text).__name__}"
        )
    s = text.strip()
    where = "bbchallenge string"
    if not s:
        raise MachineFormatError(f"{where}: empty string")
    for i, ch in enumerate(s):
        if ch.isspace():
            raise MachineFormatError(
                f"{where}, column {i + 1}: whitespace {ch!r} inside the string "
                "(only surrounding whitespace is ignored)"
            )
    groups = s.split("_")
    if len(groups) > MAX_BB_STATES:
        raise MachineFormatError(
            f"{where}: {len(groups)} groups, but at most {MAX_BB_STATES} states (A-Y) can be "
            f"written; Z is the halt letter"
        )
    starts = []
    col = 0
    for grp in groups:
        starts.append(col)
        col += len(grp) + 1

    first = len(groups[0])
    if first == 0:
        raise MachineFormatError(f"{where}, {_group_label(0)}, column 1: empty group")
    if first % 3:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first}, expected a multiple of 3 "
            "(3 characters per transition, one transition per symbol)"
        )
    n_symbols = first // 3
    if n_symbols < 2:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first}, expected at least 6 "
            "(a machine needs at least 2 symbols, 3 characters each)"
        )
    if n_symbols > MAX_BB_SYMBOLS:
        raise MachineFormatError(
            f"{where}, {_group_label(0)}, column 1: length {first} means {n_symbols} symbols, "
            f"but the format allows at most {MAX_BB_SYMBOLS} (single-digit writes)"
        )
    for g, grp in enumerate(groups[1:], start=1):
        if len(grp) != first:
            what = "empty group" if not grp else f"length {len(grp)}"
            raise MachineFormatError(
                f"{where}, {_group_label(g)}, column {starts[g] + 1}: {what}, expected "
                f"{first} ({n_symbols} symbols x 3 characters, like group 1)"
            )

    n_states = len(groups)
    table: list[tuple[Transition | None, ...]] = []
    for g, grp in enumerate(groups):
        row: list[Transition | None] = []
        for t in range(n_symbols):
            triple = grp[3 * t : 3 * t + 3]
            pos = starts[g] + 3 * t  # 0-based column of the write digit
            here = f"{where}, {_group_label(g)}, transition {t + 1}"
            if triple == "---":
                row.append(None)
                continue
            w, m, q = triple
            if "-" in triple:
                k = triple.index("-")
                raise MachineFormatError(
                    f"{here}, column {pos + k + 1}: '-' is only allowed in '---' "
                    f"(an undefined transition), got {triple!r}"
                )
            if not ("0" <= w <= "9"):
                raise MachineFormatError(
                    f"{here}, column {pos + 1}: write {w!r} is not a digit"
                )
            if int(w) >= n_symbols:
                raise MachineFormatError(
                    f"{here}, column {pos + 1}: write {w!r} is not a symbol of this "
                    f"{n_symbols}-symbol machine (0-{n_symbols - 1})"
                )
            if m not in Move.__members__:
                hint = " (letters are upper case)" if m.upper() in Move.__members__ else ""
                raise MachineFormatError(
                    f"{here}, column {pos + 2}: move {m!r} is not one of {_MOVE_LETTERS}{hint}"
                )
            if q not in _LETTERS:
                hint = " (letters are upper case)" if q.upper() in _LETTERS else ""
                raise MachineFormatError(
                    f"{here}, column {pos + 3}: next state {q!r} is not a letter A-Z{hint}"
                )
            nxt = _LETTERS.index(q)
            row.append(Transition(int(w), Move[m], nxt if nxt < n_states else HALT))
        table.append(tuple(row))
    return TuringMachine(n_states, n_symbols, tuple(table), name=name)


def format_bbchallenge(machine: TuringMachine) -> str:
    """The bbchallenge string of ``machine`` (halting transitions written with ``Z``).

    State and symbol names are not part of the format (states print as A, B, ...). Raises
    :class:`MachineFormatError` for machines with more than 25 states or 10 symbols.
    """
    if machine.n_states > MAX_BB_STATES:
        raise MachineFormatError(
            f"bbchallenge format: at most {MAX_BB_STATES} states, machine has "
            f"{machine.n_states}"
        )
    if machine.n_symbols > MAX_BB_SYMBOLS:
        raise MachineFormatError(
            f"bbchallenge format: at most {MAX_BB_SYMBOLS} symbols, machine has "
            f"{machine.n_symbols}"
        )
    groups = []
    for row in machine.table:
        parts = []
        for tr in row:
            if tr is None:
                parts.append("---")
            else:
                q = HALT_LETTER if tr.next_state == HALT else _LETTERS[tr.next_state]
                parts.append(f"{tr.write}{tr.move.name}{q}")
        groups.append("".join(parts))
    return "_".join(groups)


# --------------------------------------------------------------------------- YAML / JSON

_FIELDS = ("name", "description", "symbols", "states", "halt", "transitions", "bbchallenge",
           "expect")
_EXPECT_FIELDS = {
    "halted": bool,
    "steps": int,
    "state": str,
    "head": int,
    "head_row": int,
    "ones": int,
    "tape": str,
}


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key; let the base class complain
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = None
        return super().construct_mapping(node, deep=deep)


class _FlowDict(dict):
    """A mapping the YAML dumper writes on one line (one state's transitions)."""


class _Dumper(yaml.SafeDumper):
    """Safe dumper that double-quotes strings PyYAML would not round-trip in plain or single
    quotes (line separators such as U+0085, control characters)."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if any(not ch.isprintable() for ch in data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)


_Dumper.add_representer(str, _Dumper.represent_str)


_Dumper.add_representer(
    _FlowDict,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data, flow_style=True
    ),
)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _quote(name: str) -> str:
    return "'" + name.replace("'", "\\'") + "'"


class _Ctx:
    """Error context: the source name (file or ``<text>``) prefixed to every message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, msg: str) -> MachineFormatError:
        where = f"{self.source}: " if self.source else ""
        return MachineFormatError(f"{where}{path}: {msg}" if path else f"{where}{msg}")


def _name(ctx: _Ctx, path: str, value: Any, what: str) -> str:
    """A state or symbol name: a non-empty string (YAML integers are accepted as strings)."""
    if isinstance(value, bool):
        raise ctx.error(path, f"{what} {value!r} was read as a boolean; quote the name")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ctx.error(path, f"{what} must be a non-empty string, got {value!r}")
    return value


def _names(ctx: _Ctx, field: str, value: Any, what: str, minimum: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ctx.error(field, f"expected a list of {what} names, got {type(value).__name__}")
    if len(value) < minimum:
        raise ctx.error(field, f"a machine needs at least {minimum} {what}s, got {len(value)}")
    out: list[str] = []
    for i, v in enumerate(value):
        n = _name(ctx, f"{field}[{i}]", v, f"{what} name")
        if n in out:
            raise ctx.error(f"{field}[{i}]", f"duplicate {what} name {n!r}")
        out.append(n)
    return tuple(out)


def _listing(names: tuple[str, ...], quoted: bool) -> str:
    return ", ".join(_quote(n) if quoted else n for n in names)


def machine_from_dict(data: Any, source: str = "", default_name: str = "") -> TuringMachine:
    """Build a machine from a parsed YAML/JSON document (see the module docstring).

    ``source`` prefixes error messages (a file name); ``default_name`` is used when the
    document has no ``name``. A document may give ``bbchallenge: <string>`` instead of (or as
    a cross-check of) ``transitions``; ``expect`` is validated but not part of the machine.
    """
    ctx = _Ctx(source)
    if not isinstance(data, Mapping):
        raise ctx.error(
            "",
            "expected a mapping with fields states, symbols, transitions (or bbchallenge), "
            f"got {type(data).__name__}",
        )
    for key in data:
        if key not in _FIELDS:
            raise ctx.error("", f"unknown field {key!r} (fields: {', '.join(_FIELDS)})")

    name = data.get("name", default_name)
    if name is None:
        name = default_name
    if not isinstance(name, str):
        raise ctx.error("name", f"expected a string, got {name!r}")
    if "description" in data and not isinstance(data["description"], str):
        raise ctx.error("description", f"expected a string, got {data['description']!r}")
    if "expect" in data:
        _parse_expect(ctx, data["expect"])

    from_bb: TuringMachine | None = None
    if "bbchallenge" in data:
        bb = data["bbchallenge"]
        if not isinstance(bb, str):
            raise ctx.error("bbchallenge", f"expected a string, got {bb!r}")
        try:
            from_bb = parse_bbchallenge(bb)
        except MachineFormatError as e:
            raise ctx.error("bbchallenge", str(e)) from None

    if "transitions" not in data:
        if from_bb is None:
            raise ctx.error("", "missing field 'transitions' (or 'bbchallenge')")
        states = (
            _names(ctx, "states", data["states"], "state", 1)
            if "states" in data
            else from_bb.state_names
        )
        symbols = (
            _names(ctx, "symbols", data["symbols"], "symbol", 2)
            if "symbols" in data
            else from_bb.symbol_names
        )
        if len(states) != from_bb.n_states:
            raise ctx.error(
                "states", f"{len(states)} names, but bbchallenge has {from_bb.n_states} states"
            )
        if len(symbols) != from_bb.n_symbols:
            raise ctx.error(
                "symbols",
                f"{len(symbols)} names, but bbchallenge has {from_bb.n_symbols} symbols",
            )
        _check_halt(ctx, data, states)
        return TuringMachine(
            from_bb.n_states, from_bb.n_symbols, from_bb.table, name, states, symbols
        )

    for field in ("states", "symbols"):
        if field not in data:
            raise ctx.error("", f"missing field {field!r}")
    states = _names(ctx, "states", data["states"], "state", 1)
    symbols = _names(ctx, "symbols", data["symbols"], "symbol", 2)
    halt = _check_halt(ctx, data, states)
    table = _parse_transitions(ctx, data["transitions"], states, symbols, halt)
    machine = TuringMachine(len(states), len(symbols), table, name, states, symbols)
    if from_bb is not None and from_bb.table != machine.table:
        raise ctx.error(
            "bbchallenge",
            f"{format_bbchallenge(from_bb)!r} does not match transitions "
            f"({format_bbchallenge(machine)!r})",
        )
    return machine


def _check_halt(ctx: _Ctx, data: Mapping, states: tuple[str, ...]) -> str:
    halt = data.get("halt", HALT_LETTER)
    halt = _name(ctx, "halt", HALT_LETTER if halt is None else halt, "halt state name")
    if halt in states:
        raise ctx.error(
            "halt",
            f"{halt!r} is also a state name (states: {_listing(states, False)}); "
            "set 'halt' to another name",
        )
    return halt


def _parse_transitions(
    ctx: _Ctx, value: Any, states: tuple[str, ...], symbols: tuple[str, ...], halt: str
) -> tuple[tuple[Transition | None, ...], ...]:
    table: list[list[Transition | None]] = [[None] * len(symbols) for _ in states]
    if value is None:
        return tuple(tuple(r) for r in table)
    if not isinstance(value, Mapping):
        raise ctx.error(
            "transitions", f"expected a mapping from state names, got {type(value).__name__}"
        )
    state_list = _listing(states, False)
    symbol_list = _listing(symbols, True)
    for skey, row in value.items():
        sname = _name(ctx, "transitions", skey, "state")
        if sname not in states:
            raise ctx.error("transitions", f"unknown state {sname!r} (states: {state_list})")
        q = states.index(sname)
        spath = f"transitions.{sname}"
        if row is None:
            continue
        if not isinstance(row, Mapping):
            raise ctx.error(spath, f"expected a mapping from symbols, got {type(row).__name__}")
        for akey, entry in row.items():
            aname = _name(ctx, spath, akey, "symbol")
            if aname not in symbols:
                raise ctx.error(spath, f"unknown symbol {aname!r} (symbols: {symbol_list})")
            a = symbols.index(aname)
            path = f"{spath}.{_quote(aname)}"
            if entry is None:
                continue
            if not isinstance(entry, list) or len(entry) != 3:
                raise ctx.error(
                    path, f"expected [write, move, next state] or null, got {entry!r}"
                )
            w, m, nxt = entry
            wname = None if isinstance(w, bool) else (str(w) if isinstance(w, int) else w)
            if not isinstance(wname, str) or wname not in symbols:
                raise ctx.error(path, f"unknown write symbol {w!r} (symbols: {symbol_list})")
            if not isinstance(m, str) or m not in Move.__members__:
                raise ctx.error(path, f"move {m!r} is not one of {_MOVE_LETTERS}")
            nname = _name(ctx, path, nxt, "next state")
            if nname == halt:
                nq = HALT
            elif nname in states:
                nq = states.index(nname)
            else:
                raise ctx.error(
                    path, f"unknown state {nname!r} (states: {state_list}; halt: {halt})"
                )
            table[q][a] = Transition(symbols.index(wname), Move[m], nq)
    return tuple(tuple(r) for r in table)


def _parse_expect(ctx: _Ctx, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ctx.error("expect", f"expected a mapping, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in _EXPECT_FIELDS:
            raise ctx.error(
                "expect", f"unknown field {key!r} (fields: {', '.join(_EXPECT_FIELDS)})"
            )
        kind = _EXPECT_FIELDS[key]
        if kind is str and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # YAML reads an unquoted tape such as 1111 as an integer
        if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
            raise ctx.error(f"expect.{key}", f"expected {kind.__name__}, got {v!r}")
        if key in ("steps", "ones") and v < 0:
            raise ctx.error(f"expect.{key}", f"must be >= 0, got {v}")
        out[key] = v
    if "steps" not in out:
        raise ctx.error("expect", "needs 'steps' (the run length the other values refer to)")
    return out


def _halt_name(machine: TuringMachine) -> str:
    halt = HALT_LETTER
    i = 0
    while halt in machine.state_names:
        i += 1
        halt = "HALT" if i == 1 else f"HALT{i}"
    return halt


def machine_to_dict(machine: TuringMachine) -> dict[str, Any]:
    """The file-format document of ``machine`` (inverse of :func:`machine_from_dict`).

    Writes are given as integers when the symbol's name is its index (``"0"``, ``"1"``, ...),
    else by name; undefined transitions are ``None``; ``name`` is omitted when empty.
    """
    halt = _halt_name(machine)
    syms = machine.symbol_names

    def write(a: int) -> int | str:
        return a if syms[a] == str(a) else syms[a]

    transitions: dict[str, dict[str, list | None]] = {}
    for q, row in enumerate(machine.table):
        entries: dict[str, list | None] = {}
        for a, tr in enumerate(row):
            if tr is None:
                entries[syms[a]] = None
            else:
                nxt = halt if tr.next_state == HALT else machine.state_names[tr.next_state]
                entries[syms[a]] = [write(tr.write), tr.move.name, nxt]
        transitions[machine.state_names[q]] = entries
    doc: dict[str, Any] = {}
    if machine.name:
        doc["name"] = machine.name
    doc["symbols"] = list(syms)
    doc["states"] = list(machine.state_names)
    doc["halt"] = halt
    doc["transitions"] = transitions
    return doc


def dump_machine(machine: TuringMachine, fmt: str = "yaml") -> str:
    """Serialize ``machine`` as a YAML (``fmt="yaml"``) or JSON (``fmt="json"``) document.

    One line per state; :func:`load_machine` reads the result back to an equal machine.
    """
    doc = machine_to_dict(machine)
    if fmt == "yaml":
        doc["transitions"] = {q: _FlowDict(row) for q, row in doc["transitions"].items()}
        return yaml.dump(
            doc,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=None,
            allow_unicode=True,
            width=1 << 16,
        )
    if fmt == "json":
        lines = ["{"]
        for key, value in doc.items():
            if key != "transitions":
                lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
        lines.append('  "transitions": {')
        rows = [
            f"    {json.dumps(q, ensure_ascii=False)}: {json.dumps(row, ensure_ascii=False)}"
            for q, row in doc["transitions"].items()
        ]
        lines.append(",\n".join(rows))
        lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r} (expected 'yaml' or 'json')")


def _parse_document(text: str, source: str, as_json: bool) -> Any:
    """Parse YAML or JSON text; syntax errors name the source, line and column."""
    label = source or "<text>"
    if as_json:
        try:
            return json.loads(text, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as e:
            raise MachineFormatError(
                f"{label}: line {e.lineno}, column {e.colno}: JSON syntax error: {e.msg}"
            ) from None
        except ValueError as e:  # duplicate keys from the pairs hook
            raise MachineFormatError(f"{label}: JSON error: {e}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = e.problem or e.context or "invalid document"
        raise MachineFormatError(f"{label}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as e:
        msg = " ".join(str(e).split())
        raise MachineFormatError(f"{label}: YAML error: {msg}") from None


def _machine_from_text(text: str, source: str, default_name: str, as_json: bool) -> TuringMachine:
    data = _parse_document(text, source, as_json)
    if isinstance(data, str):  # a file holding a bare bbchallenge string
        try:
            return parse_bbchallenge(data, name=default_name)
        except MachineFormatError as e:
            raise MachineFormatError(f"{source or '<text>'}: {e}") from None
    return machine_from_dict(data, source or "<text>", default_name)


_BB_CHARS = re.compile(r"[0-9A-Za-z_\-]+")
_DOC_SUFFIXES = (".json", ".yaml", ".yml", ".tm")


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MachineFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MachineFormatError(f"{path}: is a directory, not a machine file") from None
    except UnicodeDecodeError as e:
        raise MachineFormatError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise MachineFormatError(f"{path}: cannot read file: {e.strerror or e}") from None


def _looks_like_assembly(text: str) -> bool:
    """True for grid-machine assembly (see docs/assembler.md) rather than a bare string."""
    return re.search(r"^\s*(symbols|state|macro|start|name|set|use)\b", text, re.M) is not None


def load_machine_file(path: str | os.PathLike[str]) -> TuringMachine:
    """Load a ``.json``, ``.yaml``/``.yml`` or ``.tm`` file.

    A ``.tm``/``.asm`` file holds grid-machine assembly (``simulators.assembler``) or a bare
    bbchallenge string.

    JSON is used for ``.json`` files and for content starting with ``{``; anything else is
    read as YAML (a document that is a single string is parsed as a bbchallenge string). The
    machine's name defaults to the file stem.
    """
    p = Path(path)
    text = _read_file(p)
    if p.suffix.lower() in (".tm", ".asm") and _looks_like_assembly(text):
        from simulators.assembler import AssemblyError, assemble

        try:
            return assemble(text, str(path))
        except AssemblyError as e:
            raise MachineFormatError(str(e)) from None
    as_json = p.suffix.lower() == ".json" or (
        p.suffix.lower() not in (".yaml", ".yml") and text.lstrip().startswith("{")
    )
    return _machine_from_text(text, str(path), p.stem, as_json)


def load_machine(path_or_text: str | os.PathLike[str]) -> TuringMachine:
    """Load a machine from a bbchallenge string, a file path, a built-in name, or a document.

    Resolution order for a ``str``: inline YAML/JSON text (contains a newline or starts with
    ``{``); a path (ends in ``.json``/``.yaml``/``.yml``/``.tm``, contains a path separator,
    or names an existing file); a built-in machine name (see :func:`builtin_names`); else a
    bbchallenge string. ``os.PathLike`` arguments are always files.
    """
    if isinstance(path_or_text, os.PathLike):
        return load_machine_file(path_or_text)
    if not isinstance(path_or_text, str):
        raise MachineFormatError(
            f"expected a path or a machine string, got {type(path_or_text).__name__}"
        )
    s = path_or_text.strip()
    if "\n" in s or s.startswith("{"):
        return _machine_from_text(s, "<text>", "", s.startswith("{"))
    if (
        s.lower().endswith(_DOC_SUFFIXES)
        or "/" in s
        or os.sep in s
        or (s and Path(s).is_file())
    ):
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
                f"{s!r} is not a file, a built-in machine ({', '.join(builtin_names())}) "
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
        data = _parse_document(text, source, as_json)
        if isinstance(data, str):
            machine = _machine_from_text(text, source, stem, as_json)
            expect = None
        else:
            machine = machine_from_dict(data, source, stem)
            expect = (
                _parse_expect(_Ctx(source), data["expect"])
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

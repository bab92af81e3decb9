"""Machine documents: the readable YAML/JSON file format of a Turing machine.

See ``docs/simulators.md``::

    name: bb2
    symbols: ["0", "1"]      # first symbol is the blank
    states: [A, B]           # first state is the start state
    halt: Z                  # optional; name of the halting state (default Z)
    transitions:
      A: {"0": [1, R, B], "1": [1, L, B]}
      B: {"0": [1, L, A], "1": [1, R, Z]}

Documents are parsed by :mod:`simulators.inputs` (depth, alias, integer and duplicate-key
limits). Every error is a :class:`MachineFormatError` with one line naming the source and the
field (``file: transitions.B.'1': ...``) or the line and column (``file:3:7: ...``). Names
must be printable (:func:`simulators.inputs.check_name`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from simulators.bbchallenge import (
    _MOVE_LETTERS,
    MachineFormatError,
    format_bbchallenge,
    parse_bbchallenge,
)
from simulators.inputs import (
    InputError,
    check_name,
    check_table_size,
    load_json,
    load_yaml,
    shown,
)
from simulators.turing import HALT, HALT_LETTER, Move, Transition, TuringMachine

__all__ = [
    "dump_machine",
    "machine_from_dict",
    "machine_from_text",
    "machine_to_dict",
    "parse_document",
    "parse_expect",
]

FIELDS = ("name", "description", "symbols", "states", "halt", "transitions", "bbchallenge",
          "expect")
"""The top-level fields of a machine document."""
_EXPECT_FIELDS = {
    "halted": bool,
    "steps": int,
    "state": str,
    "head": int,
    "head_row": int,
    "ones": int,
    "tape": str,
}
_LISTED = 8
"""Names listed in an error message before the rest is summarised."""


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
    """A state or symbol name: a non-empty printable string (YAML integers are accepted as
    strings)."""
    if isinstance(value, bool):
        raise ctx.error(path, f"{what} {value!r} was read as a boolean; quote the name")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ctx.error(path, f"{what} must be a non-empty string, got {shown(value)}")
    problem = check_name(value, what)
    if problem is not None:
        raise ctx.error(path, problem)
    return value


def _names(ctx: _Ctx, field: str, value: Any, what: str, minimum: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ctx.error(field, f"expected a list of {what} names, got {type(value).__name__}")
    if len(value) < minimum:
        raise ctx.error(field, f"a machine needs at least {minimum} {what}s, got {len(value)}")
    out: dict[str, None] = {}
    for i, v in enumerate(value):
        n = _name(ctx, f"{field}[{i}]", v, f"{what} name")
        if n in out:
            raise ctx.error(f"{field}[{i}]", f"duplicate {what} name {shown(n)}")
        out[n] = None
    return tuple(out)


def _listing(names: tuple[str, ...], quoted: bool) -> str:
    shown_names = [_quote(n) if quoted else n for n in names[:_LISTED]]
    if len(names) > _LISTED:
        shown_names.append(f"... ({len(names):,} in all)")
    return ", ".join(shown_names)


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
        if key not in FIELDS:
            raise ctx.error("", f"unknown field {shown(key)} (fields: {', '.join(FIELDS)})")

    name = data.get("name", default_name)
    if name is None:
        name = default_name
    if not isinstance(name, str):
        raise ctx.error("name", f"expected a string, got {shown(name)}")
    if name and name is not default_name:
        problem = check_name(name, "the machine name")
        if problem is not None:
            raise ctx.error("name", problem)
    if "description" in data and not isinstance(data["description"], str):
        raise ctx.error("description", f"expected a string, got {shown(data['description'])}")
    if "expect" in data:
        parse_expect(ctx, data["expect"])

    from_bb: TuringMachine | None = None
    if "bbchallenge" in data:
        bb = data["bbchallenge"]
        if not isinstance(bb, str):
            raise ctx.error("bbchallenge", f"expected a string, got {shown(bb)}")
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
    too_big = check_table_size(len(states), len(symbols))
    if too_big is not None:
        raise ctx.error("states", too_big)
    halt = _check_halt(ctx, data, states)
    table = _parse_transitions(ctx, data["transitions"], states, symbols, halt)
    machine = TuringMachine(len(states), len(symbols), table, name, states, symbols)
    if from_bb is not None and from_bb.table != machine.table:
        raise ctx.error(
            "bbchallenge",
            f"{format_bbchallenge(from_bb)!r} does not match transitions "
            f"({shown(_bb_or_size(machine), 80)})",
        )
    return machine


def _bb_or_size(machine: TuringMachine) -> str:
    try:
        return format_bbchallenge(machine)
    except MachineFormatError:
        return f"{machine.n_states} states x {machine.n_symbols} symbols"


def _check_halt(ctx: _Ctx, data: Mapping, states: tuple[str, ...]) -> str:
    halt = data.get("halt", HALT_LETTER)
    halt = _name(ctx, "halt", HALT_LETTER if halt is None else halt, "halt state name")
    if halt in states:
        raise ctx.error(
            "halt",
            f"{shown(halt)} is also a state name (states: {_listing(states, False)}); "
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
    state_index = {s: i for i, s in enumerate(states)}
    symbol_index = {a: i for i, a in enumerate(symbols)}
    state_list = _listing(states, False)
    symbol_list = _listing(symbols, True)
    for skey, row in value.items():
        sname = _name(ctx, "transitions", skey, "state")
        if sname not in state_index:
            raise ctx.error("transitions",
                            f"unknown state {shown(sname)} (states: {state_list})")
        q = state_index[sname]
        spath = f"transitions.{sname}"
        if row is None:
            continue
        if not isinstance(row, Mapping):
            raise ctx.error(spath, f"expected a mapping from symbols, got {type(row).__name__}")
        for akey, entry in row.items():
            aname = _name(ctx, spath, akey, "symbol")
            if aname not in symbol_index:
                raise ctx.error(spath,
                                f"unknown symbol {shown(aname)} (symbols: {symbol_list})")
            a = symbol_index[aname]
            path = f"{spath}.{_quote(aname)}"
            if entry is None:
                continue
            if not isinstance(entry, list) or len(entry) != 3:
                raise ctx.error(
                    path, f"expected [write, move, next state] or null, got {shown(entry)}"
                )
            w, m, nxt = entry
            wname = None if isinstance(w, bool) else (str(w) if isinstance(w, int) else w)
            if not isinstance(wname, str) or wname not in symbol_index:
                raise ctx.error(path,
                                f"unknown write symbol {shown(w)} (symbols: {symbol_list})")
            if not isinstance(m, str) or m not in Move.__members__:
                raise ctx.error(path, f"move {shown(m)} is not one of {_MOVE_LETTERS}")
            nname = _name(ctx, path, nxt, "next state")
            if nname == halt:
                nq = HALT
            elif nname in state_index:
                nq = state_index[nname]
            else:
                raise ctx.error(
                    path, f"unknown state {shown(nname)} (states: {state_list}; halt: {halt})"
                )
            table[q][a] = Transition(symbol_index[wname], Move[m], nq)
    return tuple(tuple(r) for r in table)


def parse_expect(ctx: _Ctx | str, value: Any) -> dict[str, Any]:
    """The ``expect`` field: a partial ``summarize`` record (``ctx``: the source name or an
    error context)."""
    if isinstance(ctx, str):
        ctx = _Ctx(ctx)
    if not isinstance(value, Mapping):
        raise ctx.error("expect", f"expected a mapping, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in _EXPECT_FIELDS:
            raise ctx.error(
                "expect", f"unknown field {shown(key)} (fields: {', '.join(_EXPECT_FIELDS)})"
            )
        kind = _EXPECT_FIELDS[key]
        if kind is str and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # YAML reads an unquoted tape such as 1111 as an integer
        if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
            raise ctx.error(f"expect.{key}", f"expected {kind.__name__}, got {shown(v)}")
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

    One line per state; :func:`simulators.formats.load_machine` reads the result back to an
    equal machine.
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


def parse_document(text: str, source: str, as_json: bool) -> Any:
    """Parse YAML or JSON ``text`` within the limits of :mod:`simulators.inputs`; every error
    is a :class:`MachineFormatError` naming ``source:line:col``."""
    label = source or "<text>"
    try:
        return load_json(text, label) if as_json else load_yaml(text, label)
    except InputError as e:
        raise MachineFormatError(str(e)) from None


def machine_from_text(text: str, source: str, default_name: str, as_json: bool) -> TuringMachine:
    """The machine of a YAML/JSON document, or of a document holding a bare bbchallenge
    string."""
    data = parse_document(text, source, as_json)
    if isinstance(data, str):  # a file holding a bare bbchallenge string
        try:
            return parse_bbchallenge(data, name=default_name)
        except MachineFormatError as e:
            raise MachineFormatError(f"{source or '<text>'}: {e}") from None
    return machine_from_dict(data, source or "<text>", default_name)


"""A small assembly language for grid Turing machines, compiled to :class:`TuringMachine`.

The language is line based; indentation is free and ``#`` starts a comment. Example::

    name toy
    symbols _ 0 1 X              # the first symbol is the blank
    set bits = 0 1               # a named symbol set, usable in `on` lines
    start scan                   # optional: defaults to the first declared state
    state scan:
        on 0: write X, move R    # goto defaults to the same state
        on 1: move R             # write defaults to the symbol read
        on _: move L, goto back
        on *: goto go_up         # `*` = every symbol not covered above (must be last)
    state back:
        on X bits: move L
        on _: halt               # write + move (default S), then stop in HALT
    macro seek(dir, target, next):
        state $self:
            on $target: goto $next
            on *: move $dir
    end
    use seek(U, X, back) as go_up   # a state go_up; its locals would be go_up.<name>

Macro bodies hold ``state`` blocks and nested ``use`` lines. ``$param`` is replaced by the
argument's tokens (one or more), ``$self`` by the instance name. State names *declared*
inside a body (``state loop:`` or ``use m(...) as loop``) are local: instance ``go_up`` turns
them into ``go_up.loop``; other bare names refer to top-level states. Arguments keep the scope
of the caller, so a macro can be handed one of its caller's local states. See
``docs/assembler.md`` for the full reference.

Every error is an :class:`AssemblyError` whose message starts with ``file:line:column:``.
The parser lives in :mod:`simulators.assembler_syntax`, macro expansion (bounded in states,
table entries and tokens while it runs) in :mod:`simulators.assembler_expand`; this module
is the public interface.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from simulators.assembler_expand import MAX_EXPANDED_TOKENS, Assembler, Assembly
from simulators.assembler_syntax import _PUNCT, _RESERVED_STATES, _STATE_RE, AssemblyError, Parser
from simulators.inputs import MAX_DOCUMENT_BYTES, InputError, printable, read_text, source_label
from simulators.turing import HALT, Move, TuringMachine

__all__ = [
    "MAX_EXPANDED_TOKENS",
    "MAX_MACRO_DEPTH",
    "Assembly",
    "AssemblyError",
    "AssemblyWarning",
    "assemble",
    "assemble_file",
    "assemble_program",
    "disassemble",
]

MAX_MACRO_DEPTH = 32
"""Default limit on nested macro expansion (recursive use is always an error)."""


class AssemblyWarning(UserWarning):
    """A suspicious but valid program (e.g. an unreachable state)."""


# --------------------------------------------------------------------------- public API


def assemble_program(
    text: str, filename: str = "<string>", *, max_depth: int = MAX_MACRO_DEPTH
) -> Assembly:
    """Assemble ``text``; return the machine, state locations and warnings.

    Raises :class:`AssemblyError` (message ``"file:line:column: ..."``) on any error.
    State 0 is the ``start`` state (default: the first declared); the other states follow in
    declaration order (macro instances expanded in place).
    """
    prog = Parser(text, filename).parse()
    return Assembler(prog, filename, max_depth).run()


def assemble(
    text: str,
    filename: str = "<string>",
    *,
    strict: bool = False,
    max_depth: int = MAX_MACRO_DEPTH,
) -> TuringMachine:
    """Assemble ``text`` into a :class:`TuringMachine` with state and symbol names filled in.

    Warnings (unreachable states) are issued as :class:`AssemblyWarning`, or raised as
    :class:`AssemblyError` when ``strict``.
    """
    result = assemble_program(text, filename, max_depth=max_depth)
    for w in result.warnings:
        if strict:
            raise w
        warnings.warn(str(w), AssemblyWarning, stacklevel=2)
    return result.machine


def assemble_file(path: str | Path, *, strict: bool = False) -> TuringMachine:
    """Assemble the file at ``path`` (read through :func:`simulators.inputs.read_text`: at
    most 1 MiB of UTF-8); the machine name defaults to the file's stem."""
    p = Path(path)
    try:
        text = read_text(p, MAX_DOCUMENT_BYTES, "machine file")
    except InputError as e:
        raise AssemblyError(e.source, e.line, e.col, e.message) from None
    machine = assemble(text, source_label(p), strict=strict)
    if not machine.name:
        machine = replace(machine, name=printable(p.stem))
    return machine


def _valid_symbol_name(s: str) -> bool:
    return (
        bool(s)
        and s != "*"
        and not s.startswith("$")
        and not any(c.isspace() or c in _PUNCT or c == "#" for c in s)
    )


def _valid_state_name(s: str) -> bool:
    return bool(_STATE_RE.match(s)) and s not in _RESERVED_STATES


def disassemble(machine: TuringMachine) -> str:
    """A readable program that :func:`assemble` turns back into ``machine``.

    The table, state order and start state always survive the round trip. Names survive
    too when the language can spell them; otherwise all states become ``q0, q1, ...``
    (or all symbols ``s0, s1, ...``) and a comment says so. Symbols with the same action
    share an ``on`` line; a state with every symbol defined puts its largest group last as
    ``on *``. Defaults are omitted (``write`` of the symbol read, ``move S``, ``goto`` to the
    same state) except that every line keeps at least one action.
    """
    states = list(machine.state_names)
    symbols = list(machine.symbol_names)
    lines = []
    if machine.name:
        if "#" in machine.name or "\n" in machine.name or machine.name != machine.name.strip():
            lines.append("# (machine name not representable)")
        else:
            lines.append(f"name {machine.name}")
    if not all(_valid_state_name(s) for s in states):
        states = [f"q{i}" for i in range(machine.n_states)]
        lines.append("# state names were renamed q0, q1, ...")
    if not all(_valid_symbol_name(s) for s in symbols):
        symbols = [f"s{i}" for i in range(machine.n_symbols)]
        lines.append("# symbol names were renamed s0, s1, ...")
    lines.append(f"# {machine.n_states} states, {machine.n_symbols} symbols")
    lines.append("symbols " + " ".join(symbols))
    lines.append(f"start {states[0]}")
    for q, row in enumerate(machine.table):
        lines.append("")
        lines.append(f"state {states[q]}:")
        groups: dict[tuple[int | None, Move, int], list[int]] = {}
        for a, tr in enumerate(row):
            if tr is None:
                continue
            key = (None if tr.write == a else tr.write, tr.move, tr.next_state)
            groups.setdefault(key, []).append(a)
        items = list(groups.items())
        star = None
        if all(tr is not None for tr in row) and items:
            best = max(range(len(items)), key=lambda i: len(items[i][1]))
            if len(items[best][1]) >= 2:
                star = items.pop(best)
        for key, syms in items + ([star] if star else []):
            write, move, nxt = key
            acts = []
            if write is not None:
                acts.append(f"write {symbols[write]}")
            if move is not Move.S:
                acts.append(f"move {move.name}")
            if nxt == HALT:
                acts.append("halt")
            elif nxt != q:
                acts.append(f"goto {states[nxt]}")
            if not acts:
                acts.append("move S")  # a stationary self-loop: write = read, stay
            is_star = star is not None and syms is star[1]
            head = "*" if is_star else " ".join(symbols[a] for a in syms)
            lines.append(f"    on {head}: {', '.join(acts)}")
    return "\n".join(lines) + "\n"

"""The assembly language of grid machines, part 2: macro expansion and resolution.

:class:`Assembler` expands every ``use`` of a macro in place (scoping the names declared in
its body, at most ``max_depth`` levels deep, never recursively), resolves symbols, sets and
states, and builds the :class:`~simulators.turing.TuringMachine` table. Expansion is bounded
while it runs: at most :data:`~simulators.inputs.MAX_STATES` states, at most
:data:`~simulators.inputs.MAX_TABLE_ENTRIES` table entries and at most
:data:`MAX_EXPANDED_TOKENS` tokens produced, so a small file cannot expand into millions of
states. Errors are :class:`~simulators.assembler_syntax.AssemblyError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from simulators.assembler_syntax import (
    _RESERVED_STATES,
    _STATE_RE,
    AssemblyError,
    Program,
    _Action,
    _On,
    _Scope,
    _State,
    _Tok,
    _Use,
)
from simulators.inputs import check_table_size, shown
from simulators.turing import HALT, Move, Transition, TuringMachine

__all__ = ["MAX_EXPANDED_TOKENS", "Assembler", "Assembly"]

MAX_EXPANDED_TOKENS = 1_000_000
"""Macro expansion stops with an error once it has produced this many tokens."""

@dataclass(frozen=True)
class Assembly:
    """The result of :func:`assemble_program`.

    ``locations`` maps each state name to the ``(line, column)`` of its declaration (inside
    the macro body for macro-made states). ``warnings`` are not raised; each is an
    :class:`AssemblyError` whose ``str`` is ``"file:line:column: message"``.
    """

    machine: TuringMachine
    locations: dict[str, tuple[int, int]]
    warnings: tuple[AssemblyError, ...] = ()


# --------------------------------------------------------------------------- assembly


@dataclass
class _Decl:
    name: str
    tok: _Tok
    ons: list[_On]


class Assembler:
    """A parsed :class:`Program` -> :class:`Assembly` (expansion, resolution, table)."""

    def __init__(self, prog: Program, filename: str, max_depth: int) -> None:
        self.prog = prog
        self.filename = filename
        self.max_depth = max_depth
        self.decls: dict[str, _Decl] = {}
        self.sym_index: dict[str, int] = {}
        self.sets: dict[str, list[int]] = {}
        self.sym_names: list[str] = []
        self.tokens = 0  # produced by macro expansion so far

    def error(self, tok: _Tok, message: str) -> AssemblyError:
        return AssemblyError(self.filename, tok.line, tok.col, message, tok.trail)

    def at(self, tok: _Tok) -> str:
        return f"{self.filename}:{tok.line}:{tok.col}"

    def single(self, toks: list[_Tok], what: str) -> _Tok:
        if len(toks) != 1:
            text = " ".join(t.text for t in toks)
            raise self.error(toks[0], f"expected one {what}, got {len(toks)} tokens {shown(text)}")
        return toks[0]

    def run(self) -> Assembly:
        prog = self.prog
        if prog.symbols is None:
            raise AssemblyError(self.filename, 1, 1, "missing 'symbols' directive")
        self.sym_names = [t.text for t in prog.symbols]
        self.sym_index = {s: i for i, s in enumerate(self.sym_names)}
        for name, members in prog.sets:
            if name.text in self.sym_index:
                raise self.error(name, f"set name {shown(name.text)} is already a symbol")
            if name.text in self.sets:
                raise self.error(name, f"duplicate set {shown(name.text)}")
            idx: list[int] = []
            for t in members:
                for a, _ in self.symref(t):
                    if a not in idx:
                        idx.append(a)
            self.sets[name.text] = idx
        for item in prog.items:
            self.expand(item, 0, ())
        if not self.decls:
            raise AssemblyError(self.filename, 1, 1, "no states defined")
        order = list(self.decls)
        if prog.start is not None:
            start = prog.start.qualified()
            if start not in self.decls:
                raise self.error(prog.start, self.unknown_state(start))
            order.remove(start)
            order.insert(0, start)
        self.index = {name: i for i, name in enumerate(order)}
        table = tuple(self.build_row(self.decls[name]) for name in order)
        mname = prog.name[1] if prog.name else ""
        machine = TuringMachine(
            n_states=len(order),
            n_symbols=len(self.sym_names),
            table=table,
            name=mname,
            state_names=tuple(order),
            symbol_names=tuple(self.sym_names),
        )
        locations = {n: (self.decls[n].tok.line, self.decls[n].tok.col) for n in order}
        return Assembly(machine, locations, tuple(self.reachability(machine, order)))

    # ---- macro expansion

    def expand(self, item: _State | _Use, depth: int, chain: tuple[str, ...]) -> None:
        if isinstance(item, _State):
            tok = self.single(item.name, "state name")
            self.declare(tok, item.ons)
            return
        mtok = item.macro
        macro = self.prog.macros.get(mtok.text)
        if macro is None:
            hint = difflib.get_close_matches(mtok.text, list(self.prog.macros), n=1)
            extra = f" (did you mean {shown(hint[0])}?)" if hint else ""
            raise self.error(mtok, f"unknown macro {shown(mtok.text)}{extra}")
        if len(item.args) != len(macro.params):
            raise self.error(
                mtok,
                f"macro {shown(macro.name.text)} takes {len(macro.params)} argument"
                f"{'' if len(macro.params) == 1 else 's'}, got {len(item.args)}",
            )
        if macro.name.text in chain:
            cycle = " -> ".join((*chain, macro.name.text))
            raise self.error(mtok, f"recursive use of macro {shown(macro.name.text)} ({cycle})")
        if depth >= self.max_depth:
            raise self.error(mtok, f"macro expansion deeper than {self.max_depth} levels")
        inst_tok = self.single(item.name, "instance name")
        inst = inst_tok.qualified()
        if inst in _RESERVED_STATES or not _STATE_RE.match(inst):
            raise self.error(inst_tok, f"invalid state name {shown(inst)}")
        scope = _Scope(inst, macro.locals)
        trail = (
            f"in macro {shown(macro.name.text)} used as {shown(inst)} at {self.at(item.head)}",
            *item.head.trail,
        )
        binding = {f"${p.text}": arg for p, arg in zip(macro.params, item.args, strict=True)}
        binding["$self"] = [inst_tok]

        def sub(toks: list[_Tok]) -> list[_Tok]:
            out: list[_Tok] = []
            for t in toks:
                if t.text.startswith("$"):
                    out.extend(binding[t.text])
                else:
                    out.append(replace(t, scope=scope, trail=trail))
            self.count_tokens(len(out), mtok)
            return out

        def one(t: _Tok) -> _Tok:
            self.count_tokens(1, mtok)
            return replace(t, scope=scope, trail=trail)

        for body_item in macro.body:
            new: _State | _Use
            if isinstance(body_item, _State):
                new = _State(
                    one(body_item.head),
                    sub(body_item.name),
                    [
                        _On(
                            one(on.head),
                            sub(on.syms),
                            [_Action(one(a.kind), sub(a.args)) for a in on.actions],
                        )
                        for on in body_item.ons
                    ],
                )
            else:
                new = _Use(
                    one(body_item.head),
                    one(body_item.macro),
                    [sub(arg) for arg in body_item.args],
                    sub(body_item.name),
                )
            self.expand(new, depth + 1, (*chain, macro.name.text))
        if inst not in self.decls:
            raise self.error(
                item.macro,
                f"macro {shown(macro.name.text)} does not define its instance state $self",
            )

    def count_tokens(self, n: int, where: _Tok) -> None:
        """Count ``n`` tokens produced by expanding the macro used at ``where``."""
        self.tokens += n
        if self.tokens > MAX_EXPANDED_TOKENS:
            raise self.error(where, f"macro expansion produced more than "
                                    f"{MAX_EXPANDED_TOKENS:,} tokens (the limit)")

    def declare(self, tok: _Tok, ons: list[_On]) -> None:
        too_big = check_table_size(len(self.decls) + 1, len(self.sym_names))
        if too_big is not None:
            raise self.error(tok, f"the machine would have {too_big}")
        name = tok.qualified()
        if name in _RESERVED_STATES or not _STATE_RE.match(name):
            raise self.error(tok, f"invalid state name {shown(name)}")
        if name in self.decls:
            first = self.decls[name].tok
            raise self.error(tok, f"state {shown(name)} is already defined at {self.at(first)}")
        self.decls[name] = _Decl(name, tok, ons)

    # ---- resolution

    def unknown_state(self, name: str) -> str:
        hint = difflib.get_close_matches(name, list(self.decls), n=1)
        extra = f" (did you mean {shown(hint[0])}?)" if hint else ""
        return f"unknown state {shown(name)}{extra}"

    def symref(self, tok: _Tok) -> list[tuple[int, _Tok]]:
        if tok.text in self.sym_index:
            return [(self.sym_index[tok.text], tok)]
        if tok.text in self.sets:
            return [(a, tok) for a in self.sets[tok.text]]
        candidates = list(self.sym_index) + list(self.sets)
        hint = difflib.get_close_matches(tok.text, candidates, n=1)
        extra = f" (did you mean {shown(hint[0])}?)" if hint else ""
        raise self.error(tok, f"unknown symbol {shown(tok.text)}{extra}")

    def build_row(self, decl: _Decl) -> tuple[Transition | None, ...]:
        n = len(self.sym_names)
        row: list[Transition | None] = [None] * n
        covered: dict[int, _Tok] = {}
        for k, on in enumerate(decl.ons):
            pairs: list[tuple[int, _Tok]] = []
            stars = [t for t in on.syms if t.text == "*"]
            if stars:
                if len(on.syms) > 1:
                    raise self.error(stars[0], "'*' cannot be combined with other symbols")
                if k != len(decl.ons) - 1:
                    raise self.error(
                        stars[0], f"'*' must be the last 'on' line of state {shown(decl.name)}"
                    )
                pairs = [(a, stars[0]) for a in range(n) if a not in covered]
            else:
                for t in on.syms:
                    pairs.extend(self.symref(t))
            make = self.actions(decl, on)
            for a, t in pairs:
                if a in covered:
                    raise self.error(
                        t,
                        f"symbol {shown(self.sym_names[a])} already has a transition in state "
                        f"{shown(decl.name)} (line {covered[a].line})",
                    )
                covered[a] = t
                row[a] = make(a)
        return tuple(row)

    def actions(self, decl: _Decl, on: _On) -> Callable[[int], Transition | None]:
        """The transition maker of an `on` line: read symbol -> transition."""
        seen: dict[str, _Tok] = {}
        write: int | None = None
        move = Move.S
        target = self.index[decl.name]
        for act in on.actions:
            kind = act.kind.text
            if kind in seen:
                raise self.error(act.kind, f"duplicate {shown(kind)} in one transition")
            seen[kind] = act.kind
            if kind == "write":
                t = self.single(act.args, "symbol")
                if t.text not in self.sym_index:
                    if t.text == "*":
                        raise self.error(t, "'write' needs a single symbol, not '*'")
                    if t.text in self.sets:
                        raise self.error(
                            t, f"'write' needs a single symbol, {shown(t.text)} is a set")
                    self.symref(t)  # raises unknown symbol
                write = self.sym_index[t.text]
            elif kind == "move":
                t = self.single(act.args, "move")
                if t.text not in Move.__members__:
                    raise self.error(t, f"unknown move {shown(t.text)} (expected L, R, U, D or S)")
                move = Move[t.text]
            elif kind == "goto":
                t = self.single(act.args, "state name")
                if t.text == "halt":
                    target = HALT
                else:
                    name = t.qualified()
                    if name not in self.index:
                        raise self.error(t, self.unknown_state(name))
                    target = self.index[name]
            elif kind == "halt":
                target = HALT
        if "stop" in seen and len(on.actions) > 1:
            raise self.error(seen["stop"], "'stop' cannot be combined with other actions")
        if "halt" in seen and "goto" in seen:
            raise self.error(seen["halt"], "'halt' and 'goto' cannot be combined")
        if "stop" in seen:
            return lambda a: None
        return lambda a: Transition(a if write is None else write, move, target)

    def reachability(self, machine: TuringMachine, order: list[str]) -> Iterable[AssemblyError]:
        seen = {0}
        todo = [0]
        while todo:
            q = todo.pop()
            for tr in machine.table[q]:
                if tr is not None and tr.next_state != HALT and tr.next_state not in seen:
                    seen.add(tr.next_state)
                    todo.append(tr.next_state)
        for q, name in enumerate(order):
            if q not in seen:
                tok = self.decls[name].tok
                yield self.error(
                    tok, f"state {shown(name)} is unreachable from start {shown(order[0])}")


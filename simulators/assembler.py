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
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from simulators.turing import HALT, Move, Transition, TuringMachine

__all__ = [
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

_PUNCT = ",:()="
_ACTIONS = ("write", "move", "goto", "halt", "stop")
_DIRECTIVES = ("name", "symbols", "set", "start", "state", "on", "use", "macro", "end")
_STATE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED_STATES = frozenset({"halt"})


class AssemblyError(ValueError):
    """An invalid program; ``str(err)`` is ``"file:line:column: message"`` (plus macro trail)."""

    def __init__(
        self, filename: str, line: int, column: int, message: str, trail: tuple[str, ...] = ()
    ) -> None:
        self.filename = filename
        self.line = line
        self.column = column
        self.message = message
        self.trail = trail
        text = f"{filename}:{line}:{column}: {message}"
        if trail:
            text += " (" + ", ".join(trail) + ")"
        super().__init__(text)


class AssemblyWarning(UserWarning):
    """A suspicious but valid program (e.g. an unreachable state)."""


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


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Scope:
    """Naming scope of one macro instance: its full name and the names declared in its body."""

    prefix: str = ""
    locals: frozenset[str] = frozenset()


_GLOBAL = _Scope()


@dataclass(frozen=True)
class _Tok:
    text: str
    line: int
    col: int
    scope: _Scope = _GLOBAL
    trail: tuple[str, ...] = ()  # innermost macro expansion first

    def qualified(self) -> str:
        """The full state name this token denotes in its scope."""
        if self.scope.prefix and self.text in self.scope.locals:
            return f"{self.scope.prefix}.{self.text}"
        return self.text


def _tokenize(text: str, lineno: int) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            break
        if ch.isspace():
            i += 1
        elif ch in _PUNCT:
            toks.append(_Tok(ch, lineno, i + 1))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _PUNCT and text[j] != "#":
                j += 1
            toks.append(_Tok(text[i:j], lineno, i + 1))
            i = j
    return toks


# --------------------------------------------------------------------------- syntax tree


@dataclass
class _Action:
    kind: _Tok
    args: list[_Tok]


@dataclass
class _On:
    head: _Tok
    syms: list[_Tok]
    actions: list[_Action]


@dataclass
class _State:
    head: _Tok
    name: list[_Tok]
    ons: list[_On] = field(default_factory=list)


@dataclass
class _Use:
    head: _Tok
    macro: _Tok
    args: list[list[_Tok]]
    name: list[_Tok]


@dataclass
class _Macro:
    head: _Tok
    name: _Tok
    params: list[_Tok]
    body: list[_State | _Use] = field(default_factory=list)
    locals: frozenset[str] = frozenset()


@dataclass
class _Program:
    name: tuple[_Tok, str] | None = None
    symbols: list[_Tok] | None = None
    symbols_head: _Tok | None = None
    sets: list[tuple[_Tok, list[_Tok]]] = field(default_factory=list)
    start: _Tok | None = None
    items: list[_State | _Use] = field(default_factory=list)
    macros: dict[str, _Macro] = field(default_factory=dict)


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.prog = _Program()

    def error(self, tok: _Tok, message: str) -> AssemblyError:
        return AssemblyError(self.filename, tok.line, tok.col, message, tok.trail)

    def parse(self) -> _Program:
        prog = self.prog
        state: _State | None = None
        macro: _Macro | None = None
        for lineno, raw in enumerate(self.text.splitlines(), start=1):
            toks = _tokenize(raw, lineno)
            if not toks:
                continue
            kw = toks[0]
            if kw.text != "macro":
                self._check_params(toks, macro)
            if kw.text == "on":
                if state is None:
                    raise self.error(kw, "'on' outside a state block")
                state.ons.append(self._parse_on(toks))
                continue
            state = None
            if kw.text == "state":
                state = self._parse_state(toks)
                (macro.body if macro else prog.items).append(state)
            elif kw.text == "use":
                (macro.body if macro else prog.items).append(self._parse_use(toks))
            elif kw.text == "macro":
                if macro is not None:
                    raise self.error(kw, "macro definitions cannot be nested")
                macro = self._parse_macro(toks)
            elif kw.text == "end":
                if macro is None:
                    raise self.error(kw, "'end' without a macro")
                if len(toks) > 1:
                    raise self.error(toks[1], f"unexpected {toks[1].text!r} after 'end'")
                self._finish_macro(macro)
                macro = None
            elif kw.text in ("name", "symbols", "set", "start"):
                if macro is not None:
                    raise self.error(kw, f"{kw.text!r} is not allowed inside a macro")
                getattr(self, f"_parse_{kw.text}")(toks, raw)
            else:
                raise self.error(
                    kw,
                    f"unknown directive {kw.text!r} (expected one of {', '.join(_DIRECTIVES)})",
                )
        if macro is not None:
            raise self.error(macro.head, f"macro {macro.name.text!r} is missing 'end'")
        return prog

    def _check_params(self, toks: list[_Tok], macro: _Macro | None) -> None:
        for t in toks:
            if not t.text.startswith("$"):
                continue
            if macro is None:
                raise self.error(t, f"parameter {t.text!r} used outside a macro")
            names = {p.text for p in macro.params} | {"self"}
            if t.text[1:] not in names:
                raise self.error(t, f"unknown parameter {t.text!r} in macro {macro.name.text!r}")

    def _expect_end(self, toks: list[_Tok], i: int) -> None:
        if len(toks) > i:
            raise self.error(toks[i], f"unexpected {toks[i].text!r}")

    def _words(self, toks: list[_Tok], what: str) -> list[_Tok]:
        for t in toks:
            if t.text in _PUNCT:
                raise self.error(t, f"unexpected {t.text!r} in {what}")
        return toks

    def _state_name(self, tok: _Tok) -> _Tok:
        if tok.text.startswith("$"):
            return tok
        if tok.text in _PUNCT or not _STATE_RE.match(tok.text):
            raise self.error(tok, f"invalid state name {tok.text!r}")
        if tok.text in _RESERVED_STATES:
            raise self.error(tok, f"{tok.text!r} is reserved and cannot name a state")
        return tok

    def _parse_name(self, toks: list[_Tok], raw: str) -> None:
        if self.prog.name is not None:
            raise self.error(toks[0], "duplicate 'name' directive")
        value = raw.split("#", 1)[0][toks[0].col - 1 + len("name") :].strip()
        if not value:
            raise self.error(toks[0], "'name' needs a value")
        self.prog.name = (toks[0], value)

    def _parse_symbols(self, toks: list[_Tok], raw: str) -> None:
        if self.prog.symbols is not None:
            raise self.error(toks[0], "duplicate 'symbols' directive")
        syms = self._words(toks[1:], "the symbol list")
        seen: set[str] = set()
        for t in syms:
            if t.text == "*" or t.text.startswith("$"):
                raise self.error(t, f"invalid symbol name {t.text!r}")
            if t.text in seen:
                raise self.error(t, f"duplicate symbol {t.text!r}")
            seen.add(t.text)
        if len(syms) < 2:
            raise self.error(toks[0], "'symbols' needs at least 2 symbols (the first is the blank)")
        self.prog.symbols = syms
        self.prog.symbols_head = toks[0]

    def _parse_set(self, toks: list[_Tok], raw: str) -> None:
        if len(toks) < 2 or toks[1].text in _PUNCT:
            raise self.error(toks[0], "expected 'set <name> = <symbols>'")
        if len(toks) < 3 or toks[2].text != "=":
            raise self.error(toks[min(2, len(toks) - 1)], "expected '=' after the set name")
        name = toks[1]
        if not _IDENT_RE.match(name.text):
            raise self.error(name, f"invalid set name {name.text!r}")
        members = self._words(toks[3:], "a set")
        if not members:
            raise self.error(toks[2], f"set {name.text!r} is empty")
        self.prog.sets.append((name, members))

    def _parse_start(self, toks: list[_Tok], raw: str) -> None:
        if self.prog.start is not None:
            raise self.error(toks[0], "duplicate 'start' directive")
        if len(toks) < 2:
            raise self.error(toks[0], "'start' needs a state name")
        self._expect_end(toks, 2)
        self.prog.start = self._state_name(toks[1])

    def _parse_state(self, toks: list[_Tok]) -> _State:
        if len(toks) < 2 or toks[1].text in _PUNCT:
            raise self.error(toks[0], "expected 'state <name>:'")
        if len(toks) < 3 or toks[2].text != ":":
            raise self.error(toks[min(2, len(toks) - 1)], "expected ':' after the state name")
        self._expect_end(toks, 3)
        return _State(toks[0], [self._state_name(toks[1])])

    def _parse_on(self, toks: list[_Tok]) -> _On:
        colon = next((i for i, t in enumerate(toks) if t.text == ":"), None)
        if colon is None:
            raise self.error(toks[0], "expected ':' after the symbols of 'on'")
        syms = self._words(toks[1:colon], "the symbols of 'on'")
        if not syms:
            raise self.error(toks[0], "'on' needs at least one symbol")
        groups: list[list[_Tok]] = [[]]
        for t in toks[colon + 1 :]:
            if t.text == ",":
                if not groups[-1]:
                    raise self.error(t, "empty action")
                groups.append([])
            elif t.text in _PUNCT:
                raise self.error(t, f"unexpected {t.text!r} in actions")
            else:
                groups[-1].append(t)
        if not groups[-1]:
            where = toks[-1] if len(groups) > 1 else toks[colon]
            raise self.error(where, "expected an action (write, move, goto, halt or stop)")
        actions = []
        for g in groups:
            kind = g[0]
            if kind.text not in _ACTIONS:
                raise self.error(
                    kind, f"unknown action {kind.text!r} (expected write, move, goto, halt or stop)"
                )
            want = 1 if kind.text in ("write", "move", "goto") else 0
            if len(g) - 1 < want:
                raise self.error(kind, f"{kind.text!r} needs an argument")
            if len(g) - 1 > want:
                extra = g[want + 1]
                raise self.error(extra, f"unexpected {extra.text!r} after {kind.text!r}")
            actions.append(_Action(kind, g[1:]))
        return _On(toks[0], syms, actions)

    def _parse_use(self, toks: list[_Tok]) -> _Use:
        if len(toks) < 2 or not _IDENT_RE.match(toks[1].text):
            where = toks[min(1, len(toks) - 1)]
            raise self.error(where, "expected 'use <macro>(<args>) as <name>'")
        args: list[list[_Tok]] = []
        i = 2
        if i < len(toks) and toks[i].text == "(":
            close = next((j for j in range(i, len(toks)) if toks[j].text == ")"), None)
            if close is None:
                raise self.error(toks[i], "missing ')'")
            inner = toks[i + 1 : close]
            if inner:
                args = [[]]
                for t in inner:
                    if t.text == ",":
                        if not args[-1]:
                            raise self.error(t, "empty argument")
                        args.append([])
                    elif t.text in _PUNCT:
                        raise self.error(t, f"unexpected {t.text!r} in macro arguments")
                    else:
                        args[-1].append(t)
                if not args[-1]:
                    raise self.error(toks[close], "empty argument")
            i = close + 1
        if i >= len(toks) or toks[i].text != "as":
            where = toks[i] if i < len(toks) else toks[-1]
            raise self.error(where, "expected 'as <name>' after the macro call")
        if i + 1 >= len(toks):
            raise self.error(toks[i], "expected a state name after 'as'")
        self._expect_end(toks, i + 2)
        return _Use(toks[0], toks[1], args, [self._state_name(toks[i + 1])])

    def _parse_macro(self, toks: list[_Tok]) -> _Macro:
        if len(toks) < 2 or not _IDENT_RE.match(toks[1].text):
            raise self.error(toks[min(1, len(toks) - 1)], "expected 'macro <name>(<params>):'")
        name = toks[1]
        if name.text in self.prog.macros:
            first = self.prog.macros[name.text].head
            raise self.error(name, f"macro {name.text!r} is already defined at line {first.line}")
        params: list[_Tok] = []
        i = 2
        if i < len(toks) and toks[i].text == "(":
            close = next((j for j in range(i, len(toks)) if toks[j].text == ")"), None)
            if close is None:
                raise self.error(toks[i], "missing ')'")
            inner = toks[i + 1 : close]
            expect_name = True
            for t in inner:
                if expect_name:
                    if not _IDENT_RE.match(t.text):
                        raise self.error(t, f"invalid parameter name {t.text!r}")
                    if t.text == "self":
                        raise self.error(t, "'self' is reserved (it names the instance)")
                    if any(p.text == t.text for p in params):
                        raise self.error(t, f"duplicate parameter {t.text!r}")
                    params.append(t)
                elif t.text != ",":
                    raise self.error(t, "expected ',' between parameters")
                expect_name = not expect_name
            if inner and expect_name:
                raise self.error(toks[close], "expected a parameter name")
            i = close + 1
        if i >= len(toks) or toks[i].text != ":":
            where = toks[i] if i < len(toks) else toks[-1]
            raise self.error(where, "expected ':' after the macro header")
        self._expect_end(toks, i + 1)
        return _Macro(toks[0], name, params)

    def _finish_macro(self, macro: _Macro) -> None:
        local = set()
        for item in macro.body:
            t = item.name[0]
            if not t.text.startswith("$"):
                local.add(t.text)
        macro.locals = frozenset(local)
        self.prog.macros[macro.name.text] = macro


# --------------------------------------------------------------------------- assembly


@dataclass
class _Decl:
    name: str
    tok: _Tok
    ons: list[_On]


class _Assembler:
    def __init__(self, prog: _Program, filename: str, max_depth: int) -> None:
        self.prog = prog
        self.filename = filename
        self.max_depth = max_depth
        self.decls: dict[str, _Decl] = {}
        self.sym_index: dict[str, int] = {}
        self.sets: dict[str, list[int]] = {}

    def error(self, tok: _Tok, message: str) -> AssemblyError:
        return AssemblyError(self.filename, tok.line, tok.col, message, tok.trail)

    def at(self, tok: _Tok) -> str:
        return f"{self.filename}:{tok.line}:{tok.col}"

    def single(self, toks: list[_Tok], what: str) -> _Tok:
        if len(toks) != 1:
            shown = " ".join(t.text for t in toks)
            raise self.error(toks[0], f"expected one {what}, got {len(toks)} tokens {shown!r}")
        return toks[0]

    def run(self) -> Assembly:
        prog = self.prog
        if prog.symbols is None:
            raise AssemblyError(self.filename, 1, 1, "missing 'symbols' directive")
        self.sym_names = [t.text for t in prog.symbols]
        self.sym_index = {s: i for i, s in enumerate(self.sym_names)}
        for name, members in prog.sets:
            if name.text in self.sym_index:
                raise self.error(name, f"set name {name.text!r} is already a symbol")
            if name.text in self.sets:
                raise self.error(name, f"duplicate set {name.text!r}")
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
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise self.error(mtok, f"unknown macro {mtok.text!r}{extra}")
        if len(item.args) != len(macro.params):
            raise self.error(
                mtok,
                f"macro {macro.name.text!r} takes {len(macro.params)} argument"
                f"{'' if len(macro.params) == 1 else 's'}, got {len(item.args)}",
            )
        if macro.name.text in chain:
            cycle = " -> ".join((*chain, macro.name.text))
            raise self.error(mtok, f"recursive use of macro {macro.name.text!r} ({cycle})")
        if depth >= self.max_depth:
            raise self.error(mtok, f"macro expansion deeper than {self.max_depth} levels")
        inst_tok = self.single(item.name, "instance name")
        inst = inst_tok.qualified()
        if inst in _RESERVED_STATES or not _STATE_RE.match(inst):
            raise self.error(inst_tok, f"invalid state name {inst!r}")
        scope = _Scope(inst, macro.locals)
        trail = (
            f"in macro {macro.name.text!r} used as {inst!r} at {self.at(item.head)}",
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
            return out

        def one(t: _Tok) -> _Tok:
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
                item.macro, f"macro {macro.name.text!r} does not define its instance state $self"
            )

    def declare(self, tok: _Tok, ons: list[_On]) -> None:
        name = tok.qualified()
        if name in _RESERVED_STATES or not _STATE_RE.match(name):
            raise self.error(tok, f"invalid state name {name!r}")
        if name in self.decls:
            first = self.decls[name].tok
            raise self.error(tok, f"state {name!r} is already defined at {self.at(first)}")
        self.decls[name] = _Decl(name, tok, ons)

    # ---- resolution

    def unknown_state(self, name: str) -> str:
        hint = difflib.get_close_matches(name, list(self.decls), n=1)
        return f"unknown state {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")

    def symref(self, tok: _Tok) -> list[tuple[int, _Tok]]:
        if tok.text in self.sym_index:
            return [(self.sym_index[tok.text], tok)]
        if tok.text in self.sets:
            return [(a, tok) for a in self.sets[tok.text]]
        candidates = list(self.sym_index) + list(self.sets)
        hint = difflib.get_close_matches(tok.text, candidates, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise self.error(tok, f"unknown symbol {tok.text!r}{extra}")

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
                        stars[0], f"'*' must be the last 'on' line of state {decl.name!r}"
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
                        f"symbol {self.sym_names[a]!r} already has a transition in state "
                        f"{decl.name!r} (line {covered[a].line})",
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
                raise self.error(act.kind, f"duplicate {kind!r} in one transition")
            seen[kind] = act.kind
            if kind == "write":
                t = self.single(act.args, "symbol")
                if t.text not in self.sym_index:
                    if t.text == "*":
                        raise self.error(t, "'write' needs a single symbol, not '*'")
                    if t.text in self.sets:
                        raise self.error(t, f"'write' needs a single symbol, {t.text!r} is a set")
                    self.symref(t)  # raises unknown symbol
                write = self.sym_index[t.text]
            elif kind == "move":
                t = self.single(act.args, "move")
                if t.text not in Move.__members__:
                    raise self.error(t, f"unknown move {t.text!r} (expected L, R, U, D or S)")
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
                yield self.error(tok, f"state {name!r} is unreachable from start {order[0]!r}")


# --------------------------------------------------------------------------- public API


def assemble_program(
    text: str, filename: str = "<string>", *, max_depth: int = MAX_MACRO_DEPTH
) -> Assembly:
    """Assemble ``text``; return the machine, state locations and warnings.

    Raises :class:`AssemblyError` (message ``"file:line:column: ..."``) on any error.
    State 0 is the ``start`` state (default: the first declared); the other states follow in
    declaration order (macro instances expanded in place).
    """
    prog = _Parser(text, filename).parse()
    return _Assembler(prog, filename, max_depth).run()


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
    """Assemble the file at ``path``; the machine name defaults to the file's stem."""
    p = Path(path)
    machine = assemble(p.read_text(encoding="utf-8"), str(p), strict=strict)
    if not machine.name:
        machine = replace(machine, name=p.stem)
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

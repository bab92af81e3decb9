"""The assembly language of grid machines, part 1: tokens and the syntax tree.

:class:`Parser` turns the lines of a program into a :class:`Program` (directives, state
blocks, macro definitions and uses) without expanding anything; every error is an
:class:`AssemblyError` whose message starts with ``file:line:column:``. Tokens must be
printable (no control characters or lone surrogates; comments may hold anything). The
language is described in :mod:`simulators.assembler` and ``docs/assembler.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulators.inputs import check_name, shown

__all__ = ["AssemblyError", "Parser", "Program"]

_PUNCT = ",:()="
_ACTIONS = ("write", "move", "goto", "halt", "stop")
_DIRECTIVES = ("name", "symbols", "set", "start", "state", "on", "use", "macro", "end")
_STATE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED_STATES = frozenset({"halt"})
_TRAIL_SHOWN = 3
"""Macro expansions named in an error message (innermost first); deeper ones are counted."""


class AssemblyError(ValueError):
    """An invalid program; ``str(err)`` is ``"file:line:column: message"`` (plus macro trail;
    ``"file: message"`` for a file that could not be read at all)."""

    def __init__(
        self, filename: str, line: int | None, column: int | None, message: str,
        trail: tuple[str, ...] = ()
    ) -> None:
        self.filename = filename
        self.line = line
        self.column = column
        self.message = message
        self.trail = trail
        where = "".join(f":{n}" for n in (line, column) if n is not None)
        text = f"{filename}{where}: {message}"
        if trail:
            shown_trail = list(trail[:_TRAIL_SHOWN])
            if len(trail) > _TRAIL_SHOWN:
                shown_trail.append(f"... {len(trail) - _TRAIL_SHOWN} more")
            text += " (" + ", ".join(shown_trail) + ")"
        super().__init__(text)


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
class Program:
    name: tuple[_Tok, str] | None = None
    symbols: list[_Tok] | None = None
    symbols_head: _Tok | None = None
    sets: list[tuple[_Tok, list[_Tok]]] = field(default_factory=list)
    start: _Tok | None = None
    items: list[_State | _Use] = field(default_factory=list)
    macros: dict[str, _Macro] = field(default_factory=dict)


class Parser:
    """Lines of a program -> :class:`Program` (no expansion)."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.prog = Program()

    def error(self, tok: _Tok, message: str) -> AssemblyError:
        return AssemblyError(self.filename, tok.line, tok.col, message, tok.trail)

    def parse(self) -> Program:
        prog = self.prog
        state: _State | None = None
        macro: _Macro | None = None
        for lineno, raw in enumerate(self.text.split("\n"), start=1):
            toks = _tokenize(raw, lineno)
            if not toks:
                continue
            for t in toks:
                if not t.text.isprintable():
                    bad = next(ch for ch in t.text if not ch.isprintable())
                    raise self.error(t, f"non-printable character U+{ord(bad):04X} in "
                                        f"{shown(t.text)}; names and symbols must be printable")
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
                    raise self.error(toks[1], f"unexpected {shown(toks[1].text)} after 'end'")
                self._finish_macro(macro)
                macro = None
            elif kw.text in ("name", "symbols", "set", "start"):
                if macro is not None:
                    raise self.error(kw, f"{shown(kw.text)} is not allowed inside a macro")
                getattr(self, f"_parse_{kw.text}")(toks, raw)
            else:
                raise self.error(
                    kw,
                    f"unknown directive {shown(kw.text)} "
                    f"(expected one of {', '.join(_DIRECTIVES)})",
                )
        if macro is not None:
            raise self.error(macro.head, f"macro {shown(macro.name.text)} is missing 'end'")
        return prog

    def _check_params(self, toks: list[_Tok], macro: _Macro | None) -> None:
        for t in toks:
            if not t.text.startswith("$"):
                continue
            if macro is None:
                raise self.error(t, f"parameter {shown(t.text)} used outside a macro")
            names = {p.text for p in macro.params} | {"self"}
            if t.text[1:] not in names:
                raise self.error(t, f"unknown parameter {shown(t.text)} in macro "
                                    f"{shown(macro.name.text)}")

    def _expect_end(self, toks: list[_Tok], i: int) -> None:
        if len(toks) > i:
            raise self.error(toks[i], f"unexpected {shown(toks[i].text)}")

    def _words(self, toks: list[_Tok], what: str) -> list[_Tok]:
        for t in toks:
            if t.text in _PUNCT:
                raise self.error(t, f"unexpected {shown(t.text)} in {what}")
        return toks

    def _state_name(self, tok: _Tok) -> _Tok:
        if tok.text.startswith("$"):
            return tok
        if tok.text in _PUNCT or not _STATE_RE.match(tok.text):
            raise self.error(tok, f"invalid state name {shown(tok.text)}")
        if tok.text in _RESERVED_STATES:
            raise self.error(tok, f"{shown(tok.text)} is reserved and cannot name a state")
        return tok

    def _parse_name(self, toks: list[_Tok], raw: str) -> None:
        if self.prog.name is not None:
            raise self.error(toks[0], "duplicate 'name' directive")
        value = raw.split("#", 1)[0][toks[0].col - 1 + len("name") :].strip()
        if not value:
            raise self.error(toks[0], "'name' needs a value")
        problem = check_name(value, "the machine name")
        if problem is not None:
            raise self.error(toks[0], problem)
        self.prog.name = (toks[0], value)

    def _parse_symbols(self, toks: list[_Tok], raw: str) -> None:
        if self.prog.symbols is not None:
            raise self.error(toks[0], "duplicate 'symbols' directive")
        syms = self._words(toks[1:], "the symbol list")
        seen: set[str] = set()
        for t in syms:
            if t.text == "*" or t.text.startswith("$"):
                raise self.error(t, f"invalid symbol name {shown(t.text)}")
            if t.text in seen:
                raise self.error(t, f"duplicate symbol {shown(t.text)}")
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
            raise self.error(name, f"invalid set name {shown(name.text)}")
        members = self._words(toks[3:], "a set")
        if not members:
            raise self.error(toks[2], f"set {shown(name.text)} is empty")
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
        groups = self._split(toks[colon + 1 :], "action", "actions")
        if not groups[-1]:
            where = toks[-1] if len(groups) > 1 else toks[colon]
            raise self.error(where, "expected an action (write, move, goto, halt or stop)")
        actions = []
        for g in groups:
            kind = g[0]
            if kind.text not in _ACTIONS:
                raise self.error(
                    kind, f"unknown action {shown(kind.text)} "
                          "(expected write, move, goto, halt or stop)"
                )
            want = 1 if kind.text in ("write", "move", "goto") else 0
            if len(g) - 1 < want:
                raise self.error(kind, f"{shown(kind.text)} needs an argument")
            if len(g) - 1 > want:
                extra = g[want + 1]
                raise self.error(extra, f"unexpected {shown(extra.text)} after {shown(kind.text)}")
            actions.append(_Action(kind, g[1:]))
        return _On(toks[0], syms, actions)

    def _split(self, toks: list[_Tok], piece: str, where: str) -> list[list[_Tok]]:
        """``toks`` cut at commas; an empty piece before a comma and any other punctuation
        are errors (the last piece may be empty: the caller says what was expected)."""
        groups: list[list[_Tok]] = [[]]
        for t in toks:
            if t.text == ",":
                if not groups[-1]:
                    raise self.error(t, f"empty {piece}")
                groups.append([])
            elif t.text in _PUNCT:
                raise self.error(t, f"unexpected {shown(t.text)} in {where}")
            else:
                groups[-1].append(t)
        return groups

    def _parenthesised(self, toks: list[_Tok], i: int) -> tuple[list[_Tok], int]:
        """The tokens between ``toks[i]`` (a ``(``) and the next ``)``, and that ``)``'s
        index."""
        close = next((j for j in range(i, len(toks)) if toks[j].text == ")"), None)
        if close is None:
            raise self.error(toks[i], "missing ')'")
        return toks[i + 1 : close], close

    def _parse_use(self, toks: list[_Tok]) -> _Use:
        if len(toks) < 2 or not _IDENT_RE.match(toks[1].text):
            where = toks[min(1, len(toks) - 1)]
            raise self.error(where, "expected 'use <macro>(<args>) as <name>'")
        args: list[list[_Tok]] = []
        i = 2
        if i < len(toks) and toks[i].text == "(":
            inner, close = self._parenthesised(toks, i)
            if inner:
                args = self._split(inner, "argument", "macro arguments")
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
            raise self.error(
                name, f"macro {shown(name.text)} is already defined at line {first.line}")
        params: list[_Tok] = []
        i = 2
        if i < len(toks) and toks[i].text == "(":
            inner, close = self._parenthesised(toks, i)
            expect_name = True
            for t in inner:
                if expect_name:
                    if not _IDENT_RE.match(t.text):
                        raise self.error(t, f"invalid parameter name {shown(t.text)}")
                    if t.text == "self":
                        raise self.error(t, "'self' is reserved (it names the instance)")
                    if any(p.text == t.text for p in params):
                        raise self.error(t, f"duplicate parameter {shown(t.text)}")
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


"""Tests of the grid-machine assembler (simulators.assembler) and grid tooling (gridrun)."""

from __future__ import annotations

import random
import re
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simulators.assembler as assembler_module
from simulators.assembler import (
    MAX_MACRO_DEPTH,
    AssemblyError,
    AssemblyWarning,
    assemble,
    assemble_file,
    assemble_program,
    disassemble,
)
from simulators.gridrun import (
    GRID_LIBRARY,
    Grid,
    grid_machines,
    load_grid_machine,
    render,
    render_trace,
    run_grid,
    trace_grid,
)
from simulators.turing import HALT, HeadLeftGrid, Move, Transition, TuringMachine, run

T = Transition
L, R, U, D, S = Move.L, Move.R, Move.U, Move.D, Move.S

TOY = """\
# majority-ish toy
symbols _ 0 1 X          # first is the blank
start scan
state scan:
    on 0: write X, move R, goto scan
    on 1: move R, goto scan          # write defaults to the read symbol
    on _: move L, goto back
    on *: halt                       # wildcard for the remaining symbols
state back:
    on X 0 1: move L                 # goto defaults to the same state
    on _: halt                       # halting transition
"""

SEEK = """\
symbols _ 0 1 X
macro seek(dir, target, next):      # move in dir until reading target, then go to next
    state $self:
        on $target: goto $next
        on *: move $dir
end
state start:
    on *: move R, goto go_up
use seek(U, X, found) as go_up
state found:
    on X: write 0, halt
"""


def table_of(src: str) -> dict[tuple[str, str], Transition | None]:
    """``(state name, symbol name) -> transition`` of the assembled program."""
    m = quiet(src)
    return {
        (m.state_names[q], m.symbol_names[a]): m.table[q][a]
        for q in range(m.n_states)
        for a in range(m.n_symbols)
    }


def quiet(src: str) -> TuringMachine:
    """Assemble without warnings (many small test programs have unreachable states)."""
    return assemble_program(src).machine


def err(src: str, **kw) -> AssemblyError:
    with pytest.raises(AssemblyError) as info:
        assemble(src, "prog.tm", **kw)
    return info.value


# --------------------------------------------------------------------------- the language


def test_toy_table() -> None:
    m = assemble(TOY)
    assert m.state_names == ("scan", "back")
    assert m.symbol_names == ("_", "0", "1", "X")
    assert m.table == (
        (T(0, L, 1), T(3, R, 0), T(2, R, 0), T(3, S, HALT)),
        (T(0, S, HALT), T(1, L, 1), T(2, L, 1), T(3, L, 1)),
    )
    assert m.name == ""
    assert isinstance(m, TuringMachine)


def test_defaults_write_move_goto() -> None:
    src = "symbols a b c\nstate s:\n  on b: goto t\n  on c: write a\nstate t:\n  on a: move U\n"
    t = table_of(src)
    assert t["s", "b"] == T(1, S, 1)  # write = read, move = S
    assert t["s", "c"] == T(0, S, 0)  # goto = same state
    assert t["t", "a"] == T(0, U, 1)
    assert t["s", "a"] is None  # uncovered symbols are undefined


def test_all_moves() -> None:
    src = "symbols _ x\nstate s:\n  on _: move L, goto t\n  on x: move R\n" + (
        "state t:\n  on _: move U\n  on x: move D, goto u\nstate u:\n  on *: move S\n"
    )
    m = assemble(src)
    assert m.moves_used == {L, R, U, D, S}
    assert not m.is_one_dimensional


def test_halt_forms_and_stop() -> None:
    src = """
symbols _ 1 2 3
state s:
    on _: write 1, move R, halt      # executes write and move, then HALT
    on 1: goto halt                  # same as `halt`
    on 2: stop                       # undefined: halts without a step
    on *: move D, halt
"""
    t = table_of(src)
    assert t["s", "_"] == T(1, R, HALT)
    assert t["s", "1"] == T(1, S, HALT)
    assert t["s", "2"] is None
    assert t["s", "3"] == T(3, D, HALT)
    m = assemble(src)
    cfg = run(m, 10)
    assert (cfg.steps, cfg.state, cfg.head, cfg.tape) == (1, HALT, (0, 1), {(0, 0): 1})


def test_stop_with_wildcard_leaves_the_rest_undefined() -> None:
    t = table_of("symbols _ a b\nstate s:\n  on a: move R\n  on *: stop\n")
    assert t["s", "_"] is None and t["s", "b"] is None and t["s", "a"] == T(1, R, 0)


def test_several_symbols_sets_and_nested_sets() -> None:
    src = """
symbols _ 0 1 + -
set bits = 0 1
set signs = + -
set nonblank = bits signs    # sets may contain earlier sets
state s:
    on nonblank: move R
    on _: halt
state t:
    on bits +: write -, goto s
"""
    t = table_of(src)
    for a in "01+-":
        assert t["s", a] == T("_01+-".index(a), R, 0)
    assert t["t", "0"] == t["t", "1"] == t["t", "+"] == T(4, S, 0)
    assert t["t", "-"] is None


def test_wildcard_covers_only_remaining_and_may_be_empty() -> None:
    t = table_of("symbols _ a b\nstate s:\n  on _ a b: move R\n  on *: halt\n")
    assert all(tr == T(i, R, 0) for i, tr in enumerate(t[("s", c)] for c in "_ab"))
    t = table_of("symbols _ a b\nstate s:\n  on a: move L\n  on *: write a, move R\n")
    assert t["s", "a"] == T(1, L, 0)
    assert t["s", "_"] == t["s", "b"] == T(1, R, 0)


def test_comments_blank_lines_and_free_indentation() -> None:
    src = "# header\n\n   symbols _ a   # trailing\nstate s:   # c\non a: halt # c\n\n  # x\n"
    assert table_of(src)["s", "a"] == T(1, S, HALT)


def test_start_directive_and_default_start() -> None:
    src = "symbols _ a\nstate one:\n  on _: goto two\nstate two:\n  on _: goto one\n"
    assert assemble(src).state_names == ("one", "two")
    m = assemble("start two\n" + src)
    assert m.state_names == ("two", "one")
    assert m.table[0][0] == T(0, S, 1) and m.table[1][0] == T(0, S, 0)


def test_name_directive() -> None:
    m = assemble("name my machine v2   # comment\nsymbols _ a\nstate s:\n on a: halt\n")
    assert m.name == "my machine v2"


def test_state_without_on_lines_is_all_undefined() -> None:
    m = assemble("symbols _ a\nstate s:\n  on a: goto t\nstate t:\n")
    assert m.table[1] == (None, None)


def test_seek_macro_example() -> None:
    m = assemble(SEEK)
    assert m.state_names == ("start", "go_up", "found")
    t = table_of(SEEK)
    assert t["go_up", "X"] == T(3, S, 2)
    assert all(t["go_up", a] == T(i, U, 1) for i, a in enumerate("_01"))
    # On a 3x2 grid with an X at (0, 1): start moves R, go_up climbs 2 cells and sees X,
    # found writes 0.
    grid = Grid.from_rows(["_X", "__", "__"], m)
    rep = run_grid(m, grid, head=(2, 0))
    assert rep.halted_by == "halt" and rep.steps == 5
    assert rep.rows == ["_0", "__", "__"]


def test_macro_locals_are_prefixed_and_instances_independent() -> None:
    src = """
symbols _ a
macro bounce(dir, next):            # go one step $dir and back, then to $next
    state $self:
        on *: move $dir, goto back
    state back:
        on *: move S, goto ret
    state ret:
        on *: goto $next
end
use bounce(R, second) as first
use bounce(L, halt) as second
"""
    m = assemble(src)
    assert m.state_names == (
        "first", "first.back", "first.ret", "second", "second.back", "second.ret",
    )
    t = table_of(src)
    assert t["first", "_"] == T(0, R, 1)
    assert t["first.ret", "a"] == T(1, S, 3)
    assert t["second", "a"] == T(1, L, 4)
    assert t["second.ret", "_"] == T(0, S, HALT)


def test_nested_macros_and_caller_scoped_arguments() -> None:
    src = """
symbols _ X
macro seek(dir, target, next):
    state $self:
        on $target: goto $next
        on *: move $dir
end
macro there_and_back(out, home, next):  # seek X going $out, then seek _ going $home
    use seek($out, X, back) as $self     # `back` is a local of there_and_back...
    use seek($home, _, $next) as back    # ...passed into seek, which has no `back`
end
use there_and_back(R, L, done) as trip
state done:
    on *: halt
"""
    m = assemble(src)
    assert m.state_names == ("trip", "trip.back", "done")
    t = table_of(src)
    assert t["trip", "X"] == T(1, S, 1)
    assert t["trip", "_"] == T(0, R, 0)
    assert t["trip.back", "_"] == T(0, S, 2)
    assert t["trip.back", "X"] == T(1, L, 1)


def test_deeply_nested_local_names() -> None:
    src = """
symbols _ a
macro leaf(next):
    state $self:
        on *: move R, goto inner
    state inner:
        on *: goto $next
end
macro mid(next):
    use leaf(second) as $self
    use leaf($next) as second
end
macro top(next):
    use mid(other) as $self
    use mid($next) as other
end
use top(halt) as t
"""
    m = assemble(src)
    assert m.state_names == (
        "t", "t.inner", "t.second", "t.second.inner",
        "t.other", "t.other.inner", "t.other.second", "t.other.second.inner",
    )
    cfg = run(m, 100)
    assert (cfg.state, cfg.steps, cfg.head) == (HALT, 8, (0, 4))


def test_macro_multi_token_and_set_arguments() -> None:
    src = """
symbols _ 0 1 X
set bits = 0 1
macro skip(syms, dir):
    state $self:
        on $syms: move $dir
        on *: halt
end
use skip(0 1, R) as a
use skip(bits, L) as b
"""
    t = table_of(src)
    for s in "ab":
        assert [t[s, c] is not None and t[s, c].next_state != HALT for c in "_01X"] == [
            False, True, True, False,
        ]


def test_wildcard_argument() -> None:
    src = "symbols _ a b\nmacro all(syms):\n  state $self:\n    on a: halt\n    on $syms: move R\n"
    t = table_of(src + "end\nuse all(*) as x\n")
    assert t["x", "_"] == T(0, R, 0) and t["x", "b"] == T(2, R, 0)
    assert t["x", "a"] == T(1, S, HALT)


def test_zero_argument_macros_and_use_before_definition() -> None:
    src = """
symbols _ a
use loop() as x
use loop as y
macro loop:
    state $self:
        on *: move R
end
"""
    with pytest.warns(AssemblyWarning, match=r"<string>:4:13: state 'y' is unreachable"):
        m = assemble(src)
    assert m.state_names == ("x", "y")


def test_global_names_from_macro_bodies_and_qualified_gotos() -> None:
    src = """
symbols _ a
macro m():
    state $self:
        on _: goto finish       # not declared in m: the top-level state
        on a: goto inner
    state inner:
        on *: halt
end
use m() as x
state finish:
    on *: goto x.inner          # instance locals are ordinary (dotted) names
"""
    t = table_of(src)
    assert t["x", "_"] == T(0, S, 2) and t["x", "a"] == T(1, S, 1)
    assert t["finish", "a"] == T(1, S, 1)


def test_unreachable_warnings_and_strict() -> None:
    src = "symbols _ a\nstate s:\n  on *: halt\nstate lost:\n  on *: halt\n"
    result = assemble_program(src, "w.tm")
    assert [str(w) for w in result.warnings] == [
        "w.tm:4:7: state 'lost' is unreachable from start 's'"
    ]
    assert result.locations == {"s": (2, 7), "lost": (4, 7)}
    with pytest.warns(AssemblyWarning, match="unreachable"):
        assemble(src)
    with pytest.raises(AssemblyError, match=r"^w\.tm:4:7: state 'lost' is unreachable"):
        assemble(src, "w.tm", strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assemble(TOY)  # no warnings for a clean program


def test_assemble_file(tmp_path) -> None:
    path = tmp_path / "toy.tm"
    path.write_text(TOY)
    m = assemble_file(path)
    assert m.name == "toy" and m == assemble_file(str(path))
    path.write_text("name given\n" + TOY)
    assert assemble_file(path).name == "given"
    path.write_text("symbols _ a\nstate s:\n  on b: halt\n")
    with pytest.raises(AssemblyError, match=re.escape(f"{path}:3:6: unknown symbol 'b'")):
        assemble_file(path)


# --------------------------------------------------------------------------- errors

ERRORS = [
    # (source, line, column, message fragment)
    ("symbols _ a\non a: halt\n", 2, 1, "'on' outside a state block"),
    ("symbols _ a\nstate s:\n  on a: halt\nsymbols _ a\n  on a: halt\n", 4, 1,
     "duplicate 'symbols' directive"),
    ("symbols _ a\nstate s:\n  on a: halt\nset b = a\n  on _: halt\n", 5, 3,
     "'on' outside a state block"),
    ("macro a:\nmacro b:\nend\n", 2, 1, "macro definitions cannot be nested"),
    ("symbols _ a\nend\n", 2, 1, "'end' without a macro"),
    ("macro a:\nend now\n", 2, 5, "unexpected 'now' after 'end'"),
    ("macro a:\n  set x = _\nend\n", 2, 3, "'set' is not allowed inside a macro"),
    ("macro a:\n  symbols _ a\nend\n", 2, 3, "'symbols' is not allowed inside a macro"),
    ("symbols _ a\nstat s:\n", 2, 1, "unknown directive 'stat'"),
    ("symbols _ a\n\nmacro m(x):\n  state $self:\n", 3, 1, "macro 'm' is missing 'end'"),
    ("symbols _ a\nstate s:\n  on $x: halt\n", 3, 6, "parameter '$x' used outside a macro"),
    ("macro m(x):\n  state $self:\n    on $y: halt\nend\n", 3, 8,
     "unknown parameter '$y' in macro 'm'"),
    ("symbols _ a\nstart s t\n", 2, 9, "unexpected 't'"),
    ("symbols _ a :\n", 1, 13, "unexpected ':' in the symbol list"),
    ("symbols _ a\nstate 9lives:\n", 2, 7, "invalid state name '9lives'"),
    ("symbols _ a\nstate halt:\n", 2, 7, "'halt' is reserved and cannot name a state"),
    ("name a\nname b\n", 2, 1, "duplicate 'name' directive"),
    ("name   # nothing\n", 1, 1, "'name' needs a value"),
    ("symbols _ *\n", 1, 11, "invalid symbol name '*'"),
    ("symbols _ a _\n", 1, 13, "duplicate symbol '_'"),
    ("symbols _\n", 1, 1, "'symbols' needs at least 2 symbols"),
    ("set\n", 1, 1, "expected 'set <name> = <symbols>'"),
    ("set x 0 1\n", 1, 7, "expected '=' after the set name"),
    ("set 0x = a\n", 1, 5, "invalid set name '0x'"),
    ("set x =\n", 1, 7, "set 'x' is empty"),
    ("start a\nstart b\n", 2, 1, "duplicate 'start' directive"),
    ("start\n", 1, 1, "'start' needs a state name"),
    ("state\n", 1, 1, "expected 'state <name>:'"),
    ("state s\n", 1, 7, "expected ':' after the state name"),
    ("state s: on\n", 1, 10, "unexpected 'on'"),
    ("symbols _ a\nstate s:\n  on a halt\n", 3, 3, "expected ':' after the symbols of 'on'"),
    ("symbols _ a\nstate s:\n  on : halt\n", 3, 3, "'on' needs at least one symbol"),
    ("symbols _ a\nstate s:\n  on a: , halt\n", 3, 9, "empty action"),
    ("symbols _ a\nstate s:\n  on a: move(R)\n", 3, 13, "unexpected '(' in actions"),
    ("symbols _ a\nstate s:\n  on a:\n", 3, 7, "expected an action"),
    ("symbols _ a\nstate s:\n  on a: halt,\n", 3, 13, "expected an action"),
    ("symbols _ a\nstate s:\n  on a: jump s\n", 3, 9, "unknown action 'jump'"),
    ("symbols _ a\nstate s:\n  on a: write\n", 3, 9, "'write' needs an argument"),
    ("symbols _ a\nstate s:\n  on a: move R L\n", 3, 16, "unexpected 'L' after 'move'"),
    ("symbols _ a\nstate s:\n  on a: halt now\n", 3, 14, "unexpected 'now' after 'halt'"),
    ("symbols _ a\nuse\n", 2, 1, "expected 'use <macro>(<args>) as <name>'"),
    ("symbols _ a\nuse m(a, b as x\n", 2, 6, "missing ')'"),
    ("symbols _ a\nuse m(a, , b) as x\n", 2, 10, "empty argument"),
    ("symbols _ a\nuse m(a, ) as x\n", 2, 10, "empty argument"),
    ("symbols _ a\nuse m(a: b) as x\n", 2, 8, "unexpected ':' in macro arguments"),
    ("symbols _ a\nuse m(a) x\n", 2, 10, "expected 'as <name>' after the macro call"),
    ("symbols _ a\nuse m(a)\n", 2, 8, "expected 'as <name>' after the macro call"),
    ("symbols _ a\nuse m(a) as\n", 2, 10, "expected a state name after 'as'"),
    ("symbols _ a\nuse m(a) as x y\n", 2, 15, "unexpected 'y'"),
    ("macro\n", 1, 1, "expected 'macro <name>(<params>):'"),
    ("macro m:\nend\nmacro m:\nend\n", 3, 7, "macro 'm' is already defined at line 1"),
    ("macro m(1x):\nend\n", 1, 9, "invalid parameter name '1x'"),
    ("macro m($x):\nend\n", 1, 9, "invalid parameter name '$x'"),
    ("macro m(self):\nend\n", 1, 9, "'self' is reserved"),
    ("macro m(a, a):\nend\n", 1, 12, "duplicate parameter 'a'"),
    ("macro m(a b):\nend\n", 1, 11, "expected ',' between parameters"),
    ("macro m(a,):\nend\n", 1, 11, "expected a parameter name"),
    ("macro m(a:\nend\n", 1, 8, "missing ')'"),
    ("macro m(a)\nend\n", 1, 10, "expected ':' after the macro header"),
    ("state s:\n  on a: halt\n", 1, 1, "missing 'symbols' directive"),
    ("symbols _ a\nset a = _\n", 2, 5, "set name 'a' is already a symbol"),
    ("symbols _ a\nset x = _\nset x = a\n", 3, 5, "duplicate set 'x'"),
    ("symbols _ a\nset x = y\n", 2, 9, "unknown symbol 'y'"),
    ("symbols _ a\n", 1, 1, "no states defined"),
    ("symbols _ a\nstart nowhere\nstate s:\n", 2, 7, "unknown state 'nowhere'"),
    ("symbols _ a\nstate scan:\n  on a: goto sacn\n", 3, 14,
     "unknown state 'sacn' (did you mean 'scan'?)"),
    ("symbols _ a\nstate s:\n  on b: halt\n", 3, 6, "unknown symbol 'b'"),
    ("symbols _ a\nset bits = a\nstate s:\n  on bist: halt\n", 4, 6,
     "unknown symbol 'bist' (did you mean 'bits'?)"),
    ("symbols _ a\nstate s:\n  on a: write b\n", 3, 15, "unknown symbol 'b'"),
    ("symbols _ a\nset x = a\nstate s:\n  on a: write x\n", 4, 15,
     "'write' needs a single symbol, 'x' is a set"),
    ("symbols _ a\nstate s:\n  on a: write *\n", 3, 15, "'write' needs a single symbol, not '*'"),
    ("symbols _ a\nstate s:\n  on * a: halt\n", 3, 6, "'*' cannot be combined with other symbols"),
    ("symbols _ a\nstate s:\n  on *: halt\n  on a: halt\n", 3, 6,
     "'*' must be the last 'on' line of state 's'"),
    ("symbols _ a\nstate s:\n  on a: halt\n  on _ a: halt\n", 4, 8,
     "symbol 'a' already has a transition in state 's' (line 3)"),
    ("symbols _ a\nstate s:\n  on a a: halt\n", 3, 8,
     "symbol 'a' already has a transition in state 's' (line 3)"),
    ("symbols _ a\nset x = a\nstate s:\n  on x a: halt\n", 4, 8,
     "symbol 'a' already has a transition in state 's' (line 4)"),
    ("symbols _ a\nstate s:\n  on a: move R, move L\n", 3, 17,
     "duplicate 'move' in one transition"),
    ("symbols _ a\nstate s:\n  on a: move X\n", 3, 14,
     "unknown move 'X' (expected L, R, U, D or S)"),
    ("symbols _ a\nstate s:\n  on a: move R, stop\n", 3, 17,
     "'stop' cannot be combined with other actions"),
    ("symbols _ a\nstate s:\n  on a: halt, goto s\n", 3, 9, "'halt' and 'goto' cannot be combined"),
    ("symbols _ a\nstate s:\nstate s:\n", 3, 7, "state 's' is already defined at prog.tm:2:7"),
    ("symbols _ a\nuse seel(R) as x\nmacro seek(d):\n  state $self:\nend\n", 2, 5,
     "unknown macro 'seel' (did you mean 'seek'?)"),
    ("symbols _ a\nuse nothing as x\n", 2, 5, "unknown macro 'nothing'"),
    ("symbols _ a\nmacro m(a, b):\n  state $self:\nend\nuse m(R) as x\n", 5, 5,
     "macro 'm' takes 2 arguments, got 1"),
    ("symbols _ a\nmacro m(a):\n  state $self:\nend\nuse m as x\n", 5, 5,
     "macro 'm' takes 1 argument, got 0"),
    ("symbols _ a\nmacro m:\n  state other:\nend\nuse m as x\n", 5, 5,
     "macro 'm' does not define its instance state $self"),
    # `state $self:` declares the name written after `as`: reported there
    ("symbols _ a\nstate x:\nmacro m:\n  state $self:\nend\nuse m as x\n", 6, 10,
     "state 'x' is already defined at prog.tm:2:7"),
]


@pytest.mark.parametrize(("src", "line", "col", "message"), ERRORS)
def test_error_locations(src: str, line: int, col: int, message: str) -> None:
    e = err(src)
    assert (e.filename, e.line, e.column) == ("prog.tm", line, col), str(e)
    assert message in e.message, str(e)
    assert str(e).startswith(f"prog.tm:{line}:{col}: {e.message}")
    assert isinstance(e, ValueError)


def test_every_error_message_of_the_module_is_tested() -> None:
    """Each error-message literal of assembler.py (its fixed prefix, as far as a regex finds
    it) appears among the tested messages: a guard against adding untested errors."""
    source = Path(assembler_module.__file__).read_text()
    tested = " ".join(m for *_, m in ERRORS) + " ".join(EXTRA_MESSAGES)
    fragments = re.findall(r'(?:self\.error|AssemblyError)\([^"]*?f?"([^"{]{6,})', source)
    missing = [f for f in fragments if f.split(" (")[0] not in tested]
    assert not missing, missing


EXTRA_MESSAGES = [  # messages tested in the tests below
    "recursive use of macro",
    "macro expansion deeper than",
    "expected one state name, got 2 tokens",
    "invalid state name",
    "is unreachable from start",
]


def test_errors_inside_macros_report_body_location_and_trail() -> None:
    src = """\
symbols _ a
macro seek(dir, next):
    state $self:
        on a: goto $next
        on *: move $dir
end
macro outer(next):
    use seek(R, nowhere) as $self
end
use seek(Q, halt) as s1
"""
    e = err(src)
    # A bad argument is reported where it was written (here: at top level, no trail).
    assert str(e) == "prog.tm:10:10: unknown move 'Q' (expected L, R, U, D or S)"
    e = err(src.replace("use seek(Q, halt) as s1", "use outer(halt) as o"))
    assert str(e) == (
        "prog.tm:8:17: unknown state 'nowhere' "
        "(in macro 'outer' used as 'o' at prog.tm:10:1)"
    )
    e = err(src.replace("goto $next", "goto nxt").replace("Q", "R"))
    assert (e.line, e.column, e.message) == (4, 20, "unknown state 'nxt'")
    assert e.trail == ("in macro 'seek' used as 's1' at prog.tm:10:1",)
    e = err(src.replace("use seek(Q, halt) as s1", "use outer(halt) as o").replace("$dir", "$next"))
    assert (e.line, e.column) == (8, 17)  # the argument's own location


def test_nested_trail_lists_innermost_first() -> None:
    src = """\
symbols _ a
macro inner:
    state $self:
        on a: write b
end
macro outer:
    use inner as $self
end
use outer as o
"""
    e = err(src)
    assert e.trail == (
        "in macro 'inner' used as 'o' at prog.tm:7:5",
        "in macro 'outer' used as 'o' at prog.tm:9:1",
    )
    assert str(e).startswith("prog.tm:4:21: unknown symbol 'b' (in macro 'inner'")


def test_recursive_macros_are_rejected() -> None:
    direct = "symbols _ a\nmacro m:\n  use m as $self\nend\nuse m as x\n"
    e = err(direct)
    assert (e.line, e.column) == (3, 7)
    assert "recursive use of macro 'm' (m -> m)" in e.message
    indirect = (
        "symbols _ a\nmacro a:\n  use b as $self\nend\nmacro b:\n  use a as $self\nend\n"
        "use a as x\n"
    )
    e = err(indirect)
    assert (e.line, e.column) == (6, 7) and "(a -> b -> a)" in e.message


def test_expansion_depth_limit() -> None:
    chain = ["symbols _ a"]
    for i in range(5):
        chain.append(f"macro m{i}:\n  use m{i + 1} as $self\nend")
    chain.append("macro m5:\n  state $self:\n    on *: halt\nend\nuse m0 as x")
    src = "\n".join(chain) + "\n"
    assert assemble(src).state_names == ("x",)
    assert MAX_MACRO_DEPTH >= 8
    with pytest.raises(AssemblyError, match=r"prog\.tm:\d+:7: macro expansion deeper than 3"):
        assemble(src, "prog.tm", max_depth=3)


def test_multi_token_argument_in_single_token_position() -> None:
    src = "symbols _ a\nmacro m(n):\n  state $self:\n    on a: goto $n\nend\nuse m(x y) as z\n"
    e = err(src)
    assert (e.line, e.column) == (6, 7)
    assert "expected one state name, got 2 tokens 'x y'" in e.message


def test_invalid_names_after_substitution() -> None:
    src = "symbols _ a\nmacro m(n):\n  state $n:\n  state $self:\nend\nuse m(halt) as z\n"
    e = err(src)
    assert (e.line, e.column, e.message) == (6, 7, "invalid state name 'halt'")
    src = "symbols _ a\nmacro m(n):\n  use k as $n\nend\nmacro k:\n state $self:\nend\n" + (
        "use m(halt) as z\n"
    )
    e = err(src)
    assert (e.line, e.column, e.message) == (8, 7, "invalid state name 'halt'")


# --------------------------------------------------------------------------- disassembly

NAME_CHARS = "abcXYZ_019+-|<>!~@"


@st.composite
def machines(draw, named: bool = True) -> TuringMachine:
    n_states = draw(st.integers(1, 7))
    n_symbols = draw(st.integers(2, 5))
    entry = st.one_of(
        st.none(),
        st.builds(
            Transition,
            st.integers(0, n_symbols - 1),
            st.sampled_from(list(Move)),
            st.integers(-1, n_states - 1),
        ),
    )
    table = tuple(
        tuple(draw(entry) for _ in range(n_symbols)) for _ in range(n_states)
    )
    state_names: tuple[str, ...] = ()
    symbol_names: tuple[str, ...] = ()
    name = ""
    if named:
        state_names = tuple(
            draw(
                st.lists(
                    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,5}", fullmatch=True).filter(
                        lambda s: s != "halt"
                    ),
                    min_size=n_states,
                    max_size=n_states,
                    unique=True,
                )
            )
        )
        symbol_names = tuple(
            draw(
                st.lists(
                    st.text(NAME_CHARS, min_size=1, max_size=3),
                    min_size=n_symbols,
                    max_size=n_symbols,
                    unique=True,
                )
            )
        )
        name = draw(st.sampled_from(["", "toy", "busy beaver 2"]))
    return TuringMachine(n_states, n_symbols, table, name, state_names, symbol_names)


@given(machines())
def test_disassemble_round_trip(m: TuringMachine) -> None:
    text = disassemble(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)  # random machines have dead states
        back = assemble(text)
    assert back == m, text
    assert disassemble(back) == text


@given(machines(named=False))
def test_disassemble_round_trip_default_names(m: TuringMachine) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        assert assemble(disassemble(m)) == m


@pytest.mark.parametrize(
    ("states", "symbols", "name", "note"),
    [
        (("s 1", "t"), ("_", "a"), "x", "state names were renamed"),
        (("halt", "t"), ("_", "a"), "x", "state names were renamed"),
        (("s", "t"), ("_", "*"), "x", "symbol names were renamed"),
        (("s", "t"), ("#", "a"), "x", "symbol names were renamed"),
        (("s", "t"), ("_", "$a"), "x", "symbol names were renamed"),
        (("s", "t"), ("_", "a"), "a#b", "machine name not representable"),
    ],
)
def test_disassemble_unrepresentable_names(states, symbols, name, note) -> None:
    table = ((T(1, R, 1), None), (T(0, D, HALT), T(1, U, 0)))
    m = TuringMachine(2, 2, table, name, states, symbols)
    text = disassemble(m)
    assert note in text
    back = assemble(text)
    assert back.table == m.table and back.n_states == 2 and back.n_symbols == 2


def test_disassembly_is_readable() -> None:
    text = disassemble(assemble(TOY))
    assert "state scan:\n    on _: move L, goto back\n    on 0: write X, move R\n" in text
    assert "    on 1: move R\n    on X: halt\n" in text
    assert "state back:\n    on _: halt\n    on *: move L\n" in text
    # a stationary self-loop keeps one explicit action
    m = TuringMachine(1, 2, ((T(0, S, 0), None),))
    assert "on 0: move S" in disassemble(m)


# --------------------------------------------------------------------------- example machines


def test_library_has_the_examples_with_header_comments() -> None:
    assert {"spiral", "snake", "copy_up"} <= set(grid_machines())
    moves: set[Move] = set()
    for name in grid_machines():
        text = (GRID_LIBRARY / f"{name}.tm").read_text()
        assert text.startswith(f"# {name}.tm -- "), name
        assert "Halts after exactly" in text and "Grid:" in text, name
        m = load_grid_machine(name)  # strict: no unreachable states
        assert m.name == name
        assert assemble(disassemble(m)) == m
        moves |= m.moves_used
    assert moves == set(Move)
    assert load_grid_machine("spiral").moves_used == set(Move)
    with pytest.raises(FileNotFoundError):
        load_grid_machine("no_such_machine")


def spiral_expected(shape: tuple[int, int], head: tuple[int, int]) -> list[str]:
    """Cells of the spiral: start, then arms R1 U1 L2 D2 R3 U3 L4 D4 R1 (plain Python)."""
    grid = [["_"] * shape[1] for _ in range(shape[0])]
    r, c = head
    grid[r][c] = "o"
    for (dr, dc), n in zip(
        [(0, 1), (-1, 0), (0, -1), (1, 0)] * 2 + [(0, 1)], [1, 1, 2, 2, 3, 3, 4, 4, 1], strict=True
    ):
        for _ in range(n):
            r, c = r + dr, c + dc
            grid[r][c] = "o"
    return ["".join(row) for row in grid]


@pytest.mark.parametrize(
    ("shape", "head"), [((5, 5), (2, 2)), ((6, 8), (3, 4)), ((7, 7), (2, 4)), ((9, 5), (6, 2))]
)
def test_spiral(shape: tuple[int, int], head: tuple[int, int]) -> None:
    m = load_grid_machine("spiral")
    rep = run_grid(m, Grid.blank(*shape, m), head)
    assert rep.halted_by == "halt" and rep.state == "halt"
    assert rep.steps == 55
    assert rep.rows == spiral_expected(shape, head)
    assert sum(row.count("o") for row in rep.rows) == 22
    assert rep.head == (head[0] + 2, head[1] - 1)
    assert rep.max_excursion == 2
    assert rep.visited_rows == (head[0] - 2, head[0] + 2)
    # the same run on the unbounded reference simulator
    cfg = run(m, 1000, Grid.blank(*shape, m).configuration(head))
    assert cfg.steps == 55 and cfg.state == HALT


def test_spiral_too_close_to_the_edge_leaves_the_grid() -> None:
    m = load_grid_machine("spiral")
    with pytest.raises(HeadLeftGrid):
        run_grid(m, Grid.blank(4, 4, m), (1, 1))


def snake_case(rng: random.Random, n_rows: int, width: int) -> list[str]:
    data = ["".join(rng.choice("+-") for _ in range(width)) for _ in range(n_rows)]
    return [f"|{row}|" for row in data] + ["|" * (width + 2)]


@pytest.mark.parametrize(("n_rows", "width"), [(1, 1), (1, 4), (2, 3), (3, 1), (4, 5), (5, 2)])
def test_snake(n_rows: int, width: int) -> None:
    rng = random.Random(n_rows * 100 + width)
    rows = snake_case(rng, n_rows, width)
    m = load_grid_machine("snake")
    grid = Grid.from_rows(rows, m)
    rep = run_grid(m, grid, (0, 1))
    expected = [row.replace("+", "p").replace("-", "m") for row in rows]
    assert rep.rows == expected
    assert rep.halted_by == "halt"
    assert rep.steps == n_rows * (width + 2) + 1
    assert rep.head == (n_rows, width if n_rows % 2 else 1)
    # the data cells are marked in snake order
    order = [
        (r, c)
        for r in range(n_rows)
        for c in (range(1, width + 1) if r % 2 == 0 else range(width, 0, -1))
    ]
    marked = []
    prev = grid.configuration((0, 1))
    for cfg in trace_grid(m, grid, (0, 1)):
        if cfg.tape != prev.tape:
            (cell,) = [k for k in cfg.tape if cfg.tape[k] != prev.tape.get(k)]
            marked.append(cell)
        prev = cfg
    assert marked == order


@pytest.mark.parametrize(("height", "width"), [(2, 0), (2, 1), (2, 5), (3, 4), (5, 7)])
def test_copy_up(height: int, width: int) -> None:
    rng = random.Random(height * 100 + width)
    above = ["".join(rng.choice("_+-|") for _ in range(width + 1)) for _ in range(height - 1)]
    bottom = "".join(rng.choice("+-") for _ in range(width)) + "|"
    rows = above + [bottom]
    m = load_grid_machine("copy_up")
    rep = run_grid(m, Grid.from_rows(rows, m), (height - 1, 0))
    expected = list(rows)
    expected[height - 2] = bottom[:width] + rows[height - 2][width]
    assert rep.rows == expected
    assert rep.steps == 3 * width + 1
    assert rep.halted_by == "halt" and rep.head == (height - 1, width)
    assert rep.max_excursion == max(1 if width else 0, width)


# --------------------------------------------------------------------------- gridrun


def test_grid_from_rows_and_back() -> None:
    names = ("_", "+", "-")
    g = Grid.from_rows(["+-+", "--+", "___"], names)
    assert g.shape == (3, 3)
    assert g.cells[0] == (1, 2, 1)
    assert g.rows() == ["+-+", "--+", "___"]
    assert g.configuration((1, 2)).tape == {
        (0, 0): 1, (0, 1): 2, (0, 2): 1, (1, 0): 2, (1, 1): 2, (1, 2): 1,
    }
    wide = ("blank", "x1", "y")
    g = Grid.from_rows(["x1 y blank", ["y", "y", "x1"]], wide)
    assert g.cells == ((1, 2, 0), (2, 2, 1))
    assert g.rows() == ["x1 y blank", "y y x1"]
    with pytest.raises(ValueError, match="row 1: unknown symbol 'q'"):
        Grid.from_rows(["+-", "+q"], names)
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        Grid.from_rows(["+-", "+"], names)
    with pytest.raises(ValueError, match="outside the 2x2 grid"):
        Grid.from_rows(["+-", "+-"], names).configuration((2, 0))
    with pytest.raises(ValueError, match="at least one row"):
        Grid.from_rows([], names)


def test_render_marks_the_head() -> None:
    m = assemble(TOY)
    g = Grid.from_rows(["01X", "___"], m)
    text = render(g.configuration((0, 1)), m, g.shape)
    assert text == "step 0  state scan  head (0, 1)\n 0 [1] X\n _  _  _"
    rep = run_grid(m, g, (0, 0))
    assert rep.halted_by == "halt" and rep.rows == ["X1X", "___"] and rep.steps == 3
    assert rep.render().startswith("step 3  state halt  head (0, 2)")
    frames = render_trace(m, g, (0, 0), every=2).split("\n\n")
    assert [f.split("  ")[0] for f in frames] == ["step 0", "step 2", "step 3"]


def test_report_undefined_halt_and_step_limit() -> None:
    m = assemble("symbols _ a\nstate s:\n  on _: write a, move R\n")
    rep = run_grid(m, Grid.from_rows(["__a"], m), (0, 1))
    assert rep.halted_by == "undefined" and rep.halted and rep.state == "s"
    assert rep.steps == 1 and rep.rows == ["_aa"]
    m = assemble("symbols _ a\nstate s:\n on _: move R, goto t\nstate t:\n on _: move L, goto s\n")
    rep = run_grid(m, Grid.blank(1, 2, m), (0, 0), max_steps=7)
    assert rep.halted_by is None and not rep.halted and rep.steps == 7
    assert rep.visited_cols == (0, 1) and rep.max_excursion == 1
    with pytest.raises(HeadLeftGrid):
        run_grid(m, Grid.blank(1, 1, m), (0, 0))
    with pytest.raises(ValueError, match="differ from the machine"):
        run_grid(m, Grid.blank(1, 2, ("_", "b")), (0, 0))


def lookup_expected(rows: list[str]) -> tuple[str, int]:
    """The label of the nearest example above the test row with its feature, and the step
    count 2 * d + 4 (d = rows between them), in plain Python."""
    feature = rows[-1][0]
    for d in range(1, len(rows)):
        if rows[-1 - d][0] == feature:
            return rows[-1 - d][1], 2 * d + 4
    raise AssertionError("no matching example")


@pytest.mark.parametrize("height", [2, 3, 5, 8])
def test_lookup(height: int) -> None:
    m = load_grid_machine("lookup")
    rng = random.Random(height)
    for _ in range(10):
        rows = [rng.choice("01") + rng.choice("+-") for _ in range(height - 1)]
        rows.append(rng.choice([r[0] for r in rows]) + "?")
        label, steps = lookup_expected(rows)
        rep = run_grid(m, Grid.from_rows(rows, m), (height - 1, 0))
        assert rep.rows == rows[:-1] + [rows[-1][0] + label]
        assert (rep.steps, rep.halted_by, rep.head) == (steps, "halt", (height - 1, 1))


# --------------------------------------------------------------------------- the docs page

DOCS = Path(__file__).resolve().parent.parent / "docs" / "assembler.md"


def doc_table(m: TuringMachine) -> list[str]:
    names = m.symbol_names
    lines = ["| state | " + " | ".join(f"`{s}`" for s in names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    for q, row in enumerate(m.table):
        cells = []
        for tr in row:
            if tr is None:
                cells.append("")
            else:
                nxt = "halt" if tr.next_state == HALT else m.state_names[tr.next_state]
                cells.append(f"`{names[tr.write]} {tr.move.name} {nxt}`")
        lines.append(f"| {q} `{m.state_names[q]}` | " + " | ".join(cells) + " |")
    return lines


def test_docs_worked_example_is_current() -> None:
    text = DOCS.read_text()
    section = text[text.index("## Worked example") :]
    source = re.search(r"```tm\n(.*?)```", section, re.S).group(1)
    m = assemble(source, strict=True)
    assert replace(load_grid_machine("lookup"), name="") == m
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert table == doc_table(m)
    listing = re.search(r"```\n(state find1:.*?)```", section, re.S).group(1)
    assert listing in disassemble(m)
    run_text = re.search(r"```text\n(.*?)\n```", section, re.S).group(1)
    grid = Grid.from_rows(["0+", "1-", "1+", "0-", "1?"], m)
    assert run_text == render_trace(m, grid, (4, 0), every=4)

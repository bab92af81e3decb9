"""simulators/formats.py: bbchallenge strings, YAML/JSON files, the library, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from simulators.fast import run_fast
from simulators.formats import (
    MachineFormatError,
    builtin_expectations,
    builtin_machines,
    builtin_names,
    check_expectation,
    dump_machine,
    format_bbchallenge,
    load_machine,
    load_machine_file,
    machine_from_dict,
    machine_to_dict,
    parse_bbchallenge,
    summarize,
)
from simulators.turing import (
    HALT,
    Configuration,
    MachineError,
    Move,
    Transition,
    TuringMachine,
    run,
    trace,
)

L, R = Move.L, Move.R

BB2_YAML = """\
name: bb2
symbols: ["0", "1"]      # first symbol is the blank
states: [A, B]           # first state is the start state
halt: Z                  # optional; name of the halting state (default Z)
transitions:
  A: {"0": [1, R, B], "1": [1, L, B]}
  B: {"0": [1, L, A], "1": [1, R, Z]}
"""

BB2_TABLE = (
    (Transition(1, R, 1), Transition(1, L, 1)),
    (Transition(1, L, 0), Transition(1, R, HALT)),
)


@st.composite
def machines(
    draw: st.DrawFn, max_states: int = 25, max_symbols: int = 10, names: bool = False
) -> TuringMachine:
    """Random machines of every bbchallenge-representable shape, grid moves included."""
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(2, max_symbols))
    entry = st.one_of(
        st.none(),
        st.builds(
            Transition, st.integers(0, k - 1), st.sampled_from(list(Move)), st.integers(-1, n - 1)
        ),
    )
    rows = draw(st.lists(st.lists(entry, min_size=k, max_size=k), min_size=n, max_size=n))
    table = tuple(tuple(r) for r in rows)
    if not names:
        return TuringMachine(n, k, table)
    # names in files are printable (simulators.inputs.check_name): no controls, separators
    # other than the space, or lone surrogates
    printable = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp",
                                                    "Zs")) | st.just(" ")
    name_text = st.text(printable, min_size=1, max_size=6)
    state_names = draw(st.lists(name_text, min_size=n, max_size=n, unique=True))
    symbol_names = draw(st.lists(name_text, min_size=k, max_size=k, unique=True))
    return TuringMachine(
        n, k, table, draw(st.text(printable, max_size=8)), tuple(state_names),
        tuple(symbol_names)
    )


# --------------------------------------------------------------------------- bbchallenge


def test_parse_bb2() -> None:
    m = parse_bbchallenge("1RB1LB_1LA1RZ")
    assert (m.n_states, m.n_symbols, m.table) == (2, 2, BB2_TABLE)
    assert m.state_names == ("A", "B") and m.symbol_names == ("0", "1")
    assert m.name == ""
    assert parse_bbchallenge("1RB1LB_1LA1RZ", name="bb2").name == "bb2"


def test_parse_three_symbols_undefined_and_grid_moves() -> None:
    m = parse_bbchallenge("1RB2LA1RA_2LA2RZ0RA")
    assert m.n_symbols == 3
    assert m.table[1][1] == Transition(2, R, HALT)
    g = parse_bbchallenge("1UB---1SA_2DA---0RA")
    assert g.table[0] == (Transition(1, Move.U, 1), None, Transition(1, Move.S, 0))
    assert g.table[1][0] == Transition(2, Move.D, 0)
    assert not g.is_one_dimensional


@pytest.mark.parametrize("letter", ["C", "Q", "Y", "Z"])
def test_any_letter_past_the_last_state_halts(letter: str) -> None:
    m = parse_bbchallenge(f"1RB1LB_1LA1R{letter}")
    assert m.table[1][1].next_state == HALT
    assert format_bbchallenge(m) == "1RB1LB_1LA1RZ"


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_bbchallenge("  \t1RB1LB_1LA1RZ \n").table == BB2_TABLE


@pytest.mark.parametrize(
    "text",
    [
        "1RB1LB_1LA1RZ",
        "1RB2LB1RZ_2LA2RB1LB",
        "1RB1LC_1RC1RB_1RD0LE_1LA1LD_1RZ0LA",
        "------_------",
        "0RZ1SZ",
        "1UB0DA_1LZ---",
        "_".join(["1RA2LB3RZ4LA5RB6LA7RZ8LA9RB0LA"] * 25),
    ],
)
def test_round_trip_canonical_strings(text: str) -> None:
    assert format_bbchallenge(parse_bbchallenge(text)) == text


@given(machines())
def test_round_trip_random_machines(machine: TuringMachine) -> None:
    text = format_bbchallenge(machine)
    assert parse_bbchallenge(text) == machine
    assert format_bbchallenge(parse_bbchallenge(text)) == text


def test_brief_example_message_exactly() -> None:
    with pytest.raises(MachineFormatError) as info:
        parse_bbchallenge("1RB1LB_1XA1RZ")
    assert str(info.value) == (
        "bbchallenge string, group 2 (state B), transition 1, column 9: "
        "move 'X' is not one of L, R, U, D, S"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "bbchallenge string: empty string"),
        ("  \n ", "bbchallenge string: empty string"),
        ("1RB1LB_1LA1R", "group 2 (state B), column 8: length 5, expected 6 "
                         "(2 symbols x 3 characters, like group 1)"),
        ("1RB1L_1LA1RZ", "group 1 (state A), column 1: length 5, expected a multiple of 3"),
        ("1RB_1LA", "group 1 (state A), column 1: length 3, expected at least 6"),
        ("1RB1LB_1LA1RZ1RZ", "group 2 (state B), column 8: length 9, expected 6"),
        ("1RB1LB_1LA1RZ_1RA", "group 3 (state C), column 15: length 3, expected 6"),
        ("1RB1LB__1LA1RZ", "group 2 (state B), column 8: empty group, expected 6"),
        ("1RB1LB_1LA1RZ_", "group 3 (state C), column 15: empty group, expected 6"),
        ("_1RB1LB", "group 1 (state A), column 1: empty group"),
        ("1RB1LB_1LA1RZ".replace("1LB", "2LB"),
         "group 1 (state A), transition 2, column 4: write '2' is not a symbol of this "
         "2-symbol machine (0-1)"),
        ("xRB1LB_1LA1RZ", "group 1 (state A), transition 1, column 1: write 'x' is not a digit"),
        ("1rB1LB_1LA1RZ", "transition 1, column 2: move 'r' is not one of L, R, U, D, S "
                          "(letters are upper case)"),
        ("1RB1LB_1LA1Ra", "group 2 (state B), transition 2, column 13: next state 'a' is not "
                          "a letter A-Z (letters are upper case)"),
        ("1R#1LB_1LA1RZ", "column 3: next state '#' is not a letter A-Z"),
        ("1-B1LB_1LA1RZ", "transition 1, column 2: '-' is only allowed in '---'"),
        ("1RB--B_1LA1RZ", "transition 2, column 4: '-' is only allowed in '---'"),
        ("1RB1LB_1LA 1RZ", "column 11: whitespace ' ' inside the string"),
        ("1RB1LB\n_1LA1RZ", "column 7: whitespace '\\n' inside the string"),
        ("_".join(["1RA1RA"] * 26), "26 groups, but at most 25 states"),
        ("1RA" * 11, "11 symbols, but the format allows at most 10"),
        ("1RB1LB_1LA1RZ\u00a0x", "whitespace"),
        ("1RB1LB_1LA1R\u00c9", "next state '\u00c9' is not a letter A-Z"),
    ],
)
def test_parse_errors_name_the_position(text: str, expected: str) -> None:
    with pytest.raises(MachineFormatError) as info:
        parse_bbchallenge(text)
    message = str(info.value)
    assert expected in message
    assert message.startswith("bbchallenge string")
    assert "\n" not in message


def test_parse_error_types() -> None:
    assert issubclass(MachineFormatError, MachineError)
    with pytest.raises(MachineFormatError, match="expected a str"):
        parse_bbchallenge(None)  # type: ignore[arg-type]


def test_format_limits() -> None:
    row = (None, None)
    with pytest.raises(MachineFormatError, match="at most 25 states"):
        format_bbchallenge(TuringMachine(26, 2, (row,) * 26))
    with pytest.raises(MachineFormatError, match="at most 10 symbols"):
        format_bbchallenge(TuringMachine(1, 11, ((None,) * 11,)))


# --------------------------------------------------------------------------- YAML / JSON


def test_load_brief_yaml_example() -> None:
    m = load_machine(BB2_YAML)
    assert m == parse_bbchallenge("1RB1LB_1LA1RZ", name="bb2")


def test_load_files_and_names(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(BB2_YAML.replace("name: bb2\n", ""))
    assert load_machine(p).name == "mine"  # default: the file stem
    assert load_machine(str(p)).table == BB2_TABLE
    assert load_machine_file(p) == load_machine(p)
    j = tmp_path / "bb2.json"
    j.write_text(json.dumps(machine_to_dict(load_machine(BB2_YAML))))
    assert load_machine(j) == load_machine(BB2_YAML)
    # Content detection: JSON without a .json suffix, a bare bbchallenge string in a .tm file.
    odd = tmp_path / "machine.txt"
    odd.write_text(j.read_text())
    assert load_machine(odd).table == BB2_TABLE
    tm = tmp_path / "bb2.tm"
    tm.write_text("# BB(2)\n1RB1LB_1LA1RZ\n")
    assert load_machine(tm) == parse_bbchallenge("1RB1LB_1LA1RZ", name="bb2")


def test_load_machine_resolution() -> None:
    assert load_machine("1RB1LB_1LA1RZ").table == BB2_TABLE
    assert load_machine("  bb4 ") == builtin_machines()["bb4"]
    assert load_machine('{"states": ["A"], "symbols": ["0", "1"], "transitions": {}}').n_states == 1
    with pytest.raises(MachineFormatError, match=r"'bb9' is not a file, a built-in machine \(bb2"):
        load_machine("bb9")
    with pytest.raises(MachineFormatError, match="column 2: move 'Q'"):
        load_machine("1QB1LB_1LA1RZ")
    with pytest.raises(MachineFormatError, match="expected a path or a machine string"):
        load_machine(42)  # type: ignore[arg-type]


def test_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(MachineFormatError, match=r"nope.yaml: no such file"):
        load_machine(missing)
    with pytest.raises(MachineFormatError, match=r"nope.yaml: no such file"):
        load_machine(str(missing))
    with pytest.raises(MachineFormatError, match="is a directory"):
        load_machine(tmp_path)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(MachineFormatError,
                       match=r"bin.yaml:1:1: not UTF-8 text: byte 0xff at offset 0"):
        load_machine(binary)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(MachineFormatError, match="list.yaml: expected a mapping"):
        load_machine(listing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("states: [A, B\nsymbols: [0, 1]\n", r"bad.yaml:2:8: YAML error"),
        ("a: b: c\n", r"bad.yaml:1:5: YAML error: mapping values"),
        ("states: [A]\nstates: [B]\n", r"bad.yaml:2:1: YAML error: "
                                       r"duplicate key 'states'"),
        ("transitions:\n  A: {'0': [1, R, A], '0': null}\n",
         r"bad.yaml:2:23: YAML error: duplicate key '0'"),
    ],
)
def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(MachineFormatError, match=expected):
        load_machine(p)


def test_json_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{\n  "states": ["A"],\n  "symbols": ["0" "1"]\n}\n')
    with pytest.raises(MachineFormatError, match=r"bad.json:3:19: JSON syntax"):
        load_machine(p)
    p.write_text('{"states": ["A"], "states": ["B"]}')
    with pytest.raises(MachineFormatError, match=r"bad.json:1:19: duplicate key 'states'"):
        load_machine(p)


def _doc(**changes: object) -> dict:
    doc = yaml.safe_load(BB2_YAML)
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([1, 2], "expected a mapping with fields states, symbols, transitions"),
        (_doc(transition={}), "unknown field 'transition'"),
        (_doc(states=None), "missing field 'states'"),
        (_doc(transitions=None), "missing field 'transitions' (or 'bbchallenge')"),
        (_doc(states="A B"), "states: expected a list of state names, got str"),
        (_doc(states=[]), "states: a machine needs at least 1 states"),
        (_doc(symbols=["0"]), "symbols: a machine needs at least 2 symbols"),
        (_doc(states=["A", "A"]), "states[1]: duplicate state name 'A'"),
        (_doc(states=["A", None]), "states[1]: state name must be a non-empty string"),
        (_doc(states=["A", True]), "states[1]: state name True was read as a boolean"),
        (_doc(name=3), "name: expected a string, got 3"),
        (_doc(halt="A"), "halt: 'A' is also a state name (states: A, B)"),
        (_doc(transitions={"Q": {}}), "transitions: unknown state 'Q' (states: A, B)"),
        (_doc(transitions=[1]), "transitions: expected a mapping from state names"),
        (_doc(transitions={"A": [1]}), "transitions.A: expected a mapping from symbols"),
        (_doc(transitions={"A": {"2": None}}), "transitions.A: unknown symbol '2' "
                                               "(symbols: '0', '1')"),
        (_doc(transitions={"B": {1: [1, "R", "Q"]}}),
         "transitions.B.'1': unknown state 'Q' (states: A, B; halt: Z)"),
        (_doc(transitions={"B": {"1": [1, "X", "A"]}}),
         "transitions.B.'1': move 'X' is not one of L, R, U, D, S"),
        (_doc(transitions={"B": {"1": [2, "R", "A"]}}),
         "transitions.B.'1': unknown write symbol 2 (symbols: '0', '1')"),
        (_doc(transitions={"B": {"1": ["1", "R"]}}),
         "transitions.B.'1': expected [write, move, next state] or null"),
        (_doc(bbchallenge="1RB1LB_1LA1RA"), "bbchallenge: '1RB1LB_1LA1RA' does not match"),
        (_doc(bbchallenge="1RB1LB_1XA1RZ"), "bbchallenge: bbchallenge string, group 2"),
        (_doc(bbchallenge=5), "bbchallenge: expected a string"),
        (_doc(transitions=None, bbchallenge="1RB1LB1RZ_1LA1RZ1RZ"),
         "symbols: 2 names, but bbchallenge has 3 symbols"),
        (_doc(transitions=None, bbchallenge="1RB1LB_1LA1RZ_1RZ1RZ"),
         "states: 2 names, but bbchallenge has 3 states"),
        (_doc(expect=[1]), "expect: expected a mapping"),
        (_doc(expect={"steps": 6, "score": 1}), "expect: unknown field 'score'"),
        (_doc(expect={"ones": 4}), "expect: needs 'steps'"),
        (_doc(expect={"steps": "six"}), "expect.steps: expected int, got 'six'"),
        (_doc(expect={"steps": -1}), "expect.steps: must be >= 0"),
        (_doc(expect={"steps": 6, "halted": "yes"}), "expect.halted: expected bool"),
        (_doc(description=1), "description: expected a string"),
    ],
)
def test_semantic_errors_name_the_field(doc: object, expected: str) -> None:
    with pytest.raises(MachineFormatError) as info:
        machine_from_dict(doc, "bb2.yaml")
    message = str(info.value)
    assert message.startswith("bb2.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_brief_semantic_example_in_a_file(tmp_path: Path) -> None:
    p = tmp_path / "bb2.yaml"
    p.write_text(BB2_YAML.replace("[1, R, Z]", "[1, R, Q]"))
    with pytest.raises(MachineFormatError) as info:
        load_machine(p)
    assert str(info.value) == (
        f"{p}: transitions.B.'1': unknown state 'Q' (states: A, B; halt: Z)"
    )


def test_document_variants() -> None:
    # Missing entries and nulls are undefined; writes may be symbol names.
    doc = {
        "symbols": ["_", "x"],
        "states": ["go", "stop"],
        "halt": "H",
        "transitions": {"go": {"_": ["x", "R", "stop"]}, "stop": None},
    }
    m = machine_from_dict(doc)
    assert m.table == ((Transition(1, R, 1), None), (None, None))
    assert m.state_names == ("go", "stop") and m.symbol_names == ("_", "x")
    # YAML reads unquoted digits as integers: names and writes accept them.
    m2 = load_machine("symbols: [0, 1]\nstates: [1, 2]\ntransitions:\n  1: {0: [1, R, Z]}\n")
    assert m2.table[0][0] == Transition(1, R, HALT)
    assert m2.state_names == ("1", "2")
    # bbchallenge alone, optionally with names.
    m3 = machine_from_dict({"bbchallenge": "1RB1LB_1LA1RZ", "states": ["p", "q"]}, "", "x")
    assert m3.table == BB2_TABLE and m3.state_names == ("p", "q") and m3.name == "x"
    # A halt state named like a default letter is fine when no state uses that name.
    m4 = machine_from_dict({**doc, "halt": "Z", "states": ["A", "B"],
                            "transitions": {"A": {"_": ["x", "L", "Z"]}}})
    assert m4.table[0][0] == Transition(1, L, HALT)


def test_dump_matches_the_documented_layout() -> None:
    m = load_machine(BB2_YAML)
    text = dump_machine(m)
    assert text == (
        "name: bb2\n"
        "symbols: ['0', '1']\n"
        "states: [A, B]\n"
        "halt: Z\n"
        "transitions:\n"
        "  A: {'0': [1, R, B], '1': [1, L, B]}\n"
        "  B: {'0': [1, L, A], '1': [1, R, Z]}\n"
    )
    assert json.loads(dump_machine(m, "json")) == machine_to_dict(m)
    with pytest.raises(ValueError, match="unknown format"):
        dump_machine(m, "toml")


def test_dump_avoids_a_halt_name_clash() -> None:
    m = TuringMachine(
        2, 2, ((Transition(1, R, 1), None), (Transition(1, L, HALT), None)),
        state_names=("Z", "HALT"),
    )
    doc = machine_to_dict(m)
    assert doc["halt"] == "HALT2"
    assert doc["transitions"]["HALT"]["0"] == [1, "L", "HALT2"]
    assert load_machine(dump_machine(m)) == m


@given(machines(max_states=6, max_symbols=4, names=True), st.sampled_from(["yaml", "json"]))
def test_dump_load_round_trip_with_arbitrary_names(machine: TuringMachine, fmt: str) -> None:
    assert load_machine(dump_machine(machine, fmt)) == machine
    assert machine_from_dict(machine_to_dict(machine)) == machine


@pytest.mark.parametrize("bad", ["A\nB", "\ud800", "a\x00", "\u2028", "x" * 300, "tab\t"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_files_refuse_names_that_are_not_printable(bad: str, fmt: str) -> None:
    m = TuringMachine(1, 2, ((None, None),), state_names=(bad,))
    with pytest.raises(MachineFormatError, match=r"states\[0\]: state name .*(printable|longer)"):
        load_machine(dump_machine(m, fmt))


@given(machines(max_states=5, max_symbols=4))
def test_dump_load_file_round_trip(tmp_path_factory: pytest.TempPathFactory,
                                   machine: TuringMachine) -> None:
    d = tmp_path_factory.mktemp("rt")
    for fmt in ("yaml", "json"):
        p = d / f"m.{fmt}"
        p.write_text(dump_machine(machine, fmt))
        loaded = load_machine(p)
        assert loaded.table == machine.table
        assert loaded.name == "m"


# --------------------------------------------------------------------------- summaries

KEYS_1D = ["halted", "steps", "state", "head", "ones", "tape"]


def test_summarize_bb2() -> None:
    m = builtin_machines()["bb2"]
    s = summarize(m, run(m, 100))
    assert s == {"halted": True, "steps": 6, "state": "Z", "head": 0, "ones": 4, "tape": "1111"}
    assert list(s) == KEYS_1D
    s0 = summarize(m, Configuration())
    assert s0 == {"halted": False, "steps": 0, "state": "A", "head": 0, "ones": 0, "tape": ""}
    json.dumps(s)  # serializable


def test_summarize_undefined_vs_halt() -> None:
    m = builtin_machines()["bb2_undefined"]
    assert summarize(m, run(m, 100)) == {
        "halted": True, "steps": 5, "state": "B", "head": -1, "ones": 4, "tape": "1111",
    }


def test_summarize_grid_and_rows() -> None:
    m = builtin_machines()["grid_square"]
    c = run(m, 2)
    s = summarize(m, c)
    assert list(s) == ["halted", "steps", "state", "head", "head_row", "ones", "tape"]
    assert (s["head"], s["head_row"], s["ones"], s["tape"], s["state"]) == (1, 1, 2, "11", "C")
    # Only row 0 is printed, but every non-blank cell counts.
    c2 = Configuration({(0, -1): 2, (0, 2): 1, (5, 9): 1}, (3, 4), 0, 9)
    s2 = summarize(parse_bbchallenge("1RB2DA1RA_2LA2RZ0RA"), c2)
    assert (s2["tape"], s2["ones"], s2["head"], s2["head_row"]) == ("2001", 3, 4, 3)


def test_summarize_ignores_explicit_blanks() -> None:
    m = builtin_machines()["bb2"]
    sparse = run(m, 4)
    dense = sparse.copy()
    for col in range(-5, 6):
        dense.tape.setdefault((0, col), 0)
    assert summarize(m, dense) == summarize(m, sparse)
    assert summarize(m, Configuration({(0, 3): 0})) == summarize(m, Configuration())


def test_summarize_uses_state_names() -> None:
    m = builtin_machines()["counter"]
    assert summarize(m, Configuration())["state"] == "inc"
    assert summarize(m, Configuration(state=HALT))["state"] == "Z"


# --------------------------------------------------------------------------- library


def test_library_contents() -> None:
    names = builtin_names()
    assert {"bb2", "bb3", "bb4", "bb2x3", "bb5", "counter", "bb2_undefined",
            "grid_square"} <= set(names)
    assert names == sorted(names)
    machines = builtin_machines()
    assert list(sorted(machines)) == names
    expectations = builtin_expectations()
    assert set(expectations) == set(names)
    canonical = {
        "bb2": "1RB1LB_1LA1RZ",
        "bb3": "1RB1RZ_1LB0RC_1LC1LA",
        "bb4": "1RB1LB_1LA0LC_1RZ1LD_1RD0RA",
        "bb2x3": "1RB2LB1RZ_2LA2RB1LB",
        "bb5": "1RB1LC_1RC1RB_1RD0LE_1LA1LD_1RZ0LA",
    }
    for name, text in canonical.items():
        assert format_bbchallenge(machines[name]) == text
        assert machines[name].name == name
    # Fresh containers: callers cannot corrupt the cache.
    machines.clear()
    expectations["bb2"]["steps"] = 0
    assert builtin_machines() and builtin_expectations()["bb2"]["steps"] == 6


@pytest.mark.parametrize(
    ("name", "steps", "ones"),
    [("bb2", 6, 4), ("bb3", 21, 5), ("bb4", 107, 13), ("bb2x3", 38, 9)],
)
def test_published_busy_beaver_values(name: str, steps: int, ones: int) -> None:
    m = builtin_machines()[name]
    c = run(m, 10_000)
    assert c.state == HALT and c.is_halted(m)
    assert (c.steps, c.ones) == (steps, ones)
    e = builtin_expectations()[name]
    assert (e["steps"], e["ones"], e["halted"]) == (steps, ones, True)


def test_library_expectations_hold() -> None:
    for name, machine in builtin_machines().items():
        if name == "bb5":
            continue  # tests/test_fast.py::test_bb5 (slow)
        expect = builtin_expectations()[name]
        config = run(machine, expect["steps"])
        assert check_expectation(machine, expect, config) == [], name


def test_check_expectation_reports_mismatches() -> None:
    m = builtin_machines()["bb2"]
    c = run(m, 100)
    assert check_expectation(m, {"steps": 7, "tape": "1111"}, c) == ["steps: expected 7, got 6"]


def test_bb5_expectation_is_the_published_value() -> None:
    e = builtin_expectations()["bb5"]
    assert (e["steps"], e["ones"], e["halted"], e["state"]) == (47_176_870, 4098, True, "Z")
    # The first steps agree between both runners (the full run is in test_fast).
    m = builtin_machines()["bb5"]
    assert run_fast(m, 3000) == run(m, 3000)


def test_counter_counts() -> None:
    m = builtin_machines()["counter"]
    values = []
    for c in trace(m, 3000):
        if c.state == 0 and c.head == (0, 0):  # about to increment
            bits = "".join({"1": "0", "2": "1"}[d] for d in summarize(m, c)["tape"])
            values.append(int(bits, 2) if bits else 0)
    assert values[:40] == list(range(40))


def test_grid_square_stays_in_bounds() -> None:
    m = builtin_machines()["grid_square"]
    c = run(m, 100, bounds=(2, 2))
    assert check_expectation(m, builtin_expectations()["grid_square"], c) == []

"""Hypothesis strategies for the fuzz suite: structured hostile inputs, drawn from grammars
rather than mutated from seeds (deeply nested documents of every YAML/JSON type, machine
documents whose names are arbitrary Unicode, assembly programs, circuit and CSV lines of
arbitrary tokens, command lines of arbitrary options). Each strategy yields a
:class:`~tests.fuzz.cases.Case`."""

from __future__ import annotations

import json

import yaml
from hypothesis import strategies as st

from tests.fuzz.cases import Case

# names: any code point, lone surrogates included (JSON carries them as \\ud800 escapes)
names = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                              blacklist_categories=()), min_size=0, max_size=8)
big_ints = st.one_of(st.integers(-10, 10), st.integers(-(10**120), 10**120))
leaves = st.one_of(st.none(), st.booleans(), big_ints, st.floats(allow_nan=True), names)
documents = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)), max_leaves=40)
symbols = st.lists(st.one_of(names, st.integers(0, 9)), min_size=0, max_size=5)
entries = st.one_of(st.none(), st.lists(st.one_of(names, st.integers(-2, 12),
                                                  st.sampled_from("LRUDS")), max_size=4),
                    leaves)
machine_docs = st.fixed_dictionaries(
    {"states": st.one_of(symbols, leaves), "symbols": st.one_of(symbols, leaves)},
    optional={"name": leaves, "halt": leaves, "description": leaves,
              "bbchallenge": st.one_of(names, st.from_regex(r"[0-9-][LRUDS-][A-Z-]{1,30}")),
              "transitions": st.dictionaries(names, st.one_of(
                  leaves, st.dictionaries(st.one_of(names, st.integers(0, 3)), entries,
                                          max_size=3)), max_size=4),
              "expect": st.dictionaries(st.sampled_from(["steps", "halted", "tape", "ones",
                                                         "head", "x"]), leaves, max_size=3)})


def _serialise(doc, as_json: bool, ensure_ascii: bool) -> str:
    if as_json:
        return json.dumps(doc, ensure_ascii=ensure_ascii)
    try:
        return yaml.safe_dump(doc, allow_unicode=not ensure_ascii)
    except (yaml.YAMLError, UnicodeEncodeError):
        return json.dumps(doc)  # YAML is a superset of JSON


@st.composite
def machine_documents(draw) -> Case:
    from simulators.machine_doc import machine_from_text
    from simulators.turing import MachineError

    doc = draw(st.one_of(machine_docs, documents))
    as_json = draw(st.booleans())
    text = _serialise(doc, as_json, draw(st.booleans()))
    return Case("hyp:machine-doc", "json" if as_json else "yaml",
                call=lambda: machine_from_text(text, "<text>", "", as_json),
                allowed=(MachineError,), sources=("<text>",))


tokens = st.one_of(st.sampled_from(["symbols", "state", "on", "write", "move", "goto", "halt",
                                    "stop", "macro", "end", "use", "as", "set", "start",
                                    "name", "*", ":", ",", "(", ")", "=", "$self", "$x",
                                    "L", "R", "U", "D", "S", "_", "1", "#"]),
                   names.filter(lambda t: t.strip() == t and " " not in t))
lines = st.lists(tokens, min_size=0, max_size=7).map(" ".join)


@st.composite
def assembly_programs(draw) -> Case:
    from simulators.assembler import AssemblyError, assemble_program

    body = draw(st.lists(lines, min_size=1, max_size=25))
    text = "\n".join(["symbols _ 1", *body]) if draw(st.booleans()) else "\n".join(body)
    return Case("hyp:assembly", "tm", call=lambda: assemble_program(text, "<text>"),
                allowed=(AssemblyError,), sources=("<text>",))


numbers = st.one_of(st.integers(0, 12), st.integers(0, 10**30).map(str), st.just("9" * 200),
                    st.sampled_from(["-1", "x", "", "AND", "XOR", "INV", "EQ", "EQW", "MAND",
                                     "aag", "aig", "i0", "o0", "c"]))
circuit_lines = st.lists(numbers.map(str), min_size=0, max_size=7).map(" ".join)


@st.composite
def circuit_texts(draw) -> Case:
    from simulators.aiger import parse_aiger
    from simulators.bristol import parse_bristol
    from simulators.circuits import CircuitError

    fmt = draw(st.sampled_from(["bristol", "aiger"]))
    head = draw(st.lists(numbers.map(str), min_size=0, max_size=10))
    text = " ".join((["aag"] if fmt == "aiger" and draw(st.booleans()) else []) + head) + \
        "\n" + "\n".join(draw(st.lists(circuit_lines, max_size=20)))
    parse = parse_aiger if fmt == "aiger" else parse_bristol
    return Case(f"hyp:{fmt}", fmt, call=lambda: parse(text, "c.txt"), allowed=(CircuitError,),
                sources=("c.txt",))


fields = st.one_of(st.sampled_from(["1", "-1", "+1", " 1", "", "0", "2", "1.0"]), names)


@st.composite
def csv_texts(draw) -> Case:
    from simulators.datasets import DatasetError, parse_test, parse_train

    rows = draw(st.lists(st.lists(fields, min_size=0, max_size=6).map(",".join), max_size=8))
    text = "\n".join(rows) + draw(st.sampled_from(["", "\n", "\n\n", "\r\n"]))
    if draw(st.booleans()):
        return Case("hyp:csv", "csv", call=lambda: parse_train(text, "train.csv"),
                    allowed=(DatasetError,), sources=("train.csv",))
    d = draw(st.one_of(st.none(), st.integers(1, 4)))
    return Case("hyp:csv", "csv", call=lambda: parse_test(text, "test.csv", d=d),
                allowed=(DatasetError,), sources=("test.csv",))


options = st.sampled_from(["--steps", "--engine", "--dtype", "--json", "--show", "--inputs",
                           "--format", "-o", "--learner", "--train", "--test", "--help",
                           "--work-columns", "--", "-"])
values = st.one_of(st.sampled_from(["reference", "rcnn", "exact", "float32", "float16", "0",
                                    "5", "-5", "bb2", "bb4", "1RB1LB_1LA1RZ", "---", "aiger",
                                    "01", "x.csv", "/dev/zero", "1DA1DA"]), names)


@st.composite
def command_lines(draw) -> Case:
    """``srcnn <subcommand>`` followed by arbitrary options and values (only cheap runs:
    steps stay small, no subcommand that runs for minutes is reachable)."""
    sub = draw(st.sampled_from(["simulate", "compile", "circuit", "learn", "verify",
                                "figures"]))
    argv = [sub] + draw(st.lists(st.one_of(options, values), max_size=8))
    if sub in ("verify", "figures"):
        argv += ["--seed", "not-a-number"]  # always refused before any check or figure runs
    if "--steps" in argv:
        i = argv.index("--steps")
        if i + 1 < len(argv) and argv[i + 1].isdigit() and int(argv[i + 1]) > 500:
            argv[i + 1] = "500"
    return Case(f"hyp:argv-{sub}", "argv", argv=argv)


STRATEGIES = {
    "hyp:machine-doc": machine_documents(),
    "hyp:assembly": assembly_programs(),
    "hyp:circuit": circuit_texts(),
    "hyp:csv": csv_texts(),
    "hyp:argv": command_lines(),
}
"""Hypothesis target name -> strategy of cases."""

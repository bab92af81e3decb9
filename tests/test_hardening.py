"""Regression tests for the crash classes of issue #15, one named test per class, plus the
smaller findings listed with them. Each runs ``srcnn`` in-process and checks the contract:
exit 2 with ONE line naming where (``file:line:col`` or the field / option), or exit 0 with
the right answer; never a traceback. A guard alarm turns a hang into a failure."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from simulators.formats import builtin_machines, load_machine
from simulators.turing import run as reference_run
from srcnn.cli import main

LIMIT_S = 120  # generous: a case that needs it is hung, not slow


@contextlib.contextmanager
def _alarm(seconds: int = LIMIT_S):
    def hung(signum, frame):
        raise AssertionError(f"no answer within {seconds} s: hung")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def srcnn(capsys, *argv: str) -> tuple[int, str, str]:
    with _alarm():
        code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def refused(capsys, *argv: str, where: str, what: str) -> str:
    """Exit 2, one line on stderr, naming ``where`` and saying ``what``."""
    code, out, err = srcnn(capsys, *argv)
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and err.startswith(f"srcnn {argv[0]}: error: "), err
    assert where in err and what in err, err
    assert len(err) < 700, f"{len(err)} characters"
    return err


# --------------------------------------------------------------------------- the 15 classes


def test_class_01_long_machine_argument_is_a_machine_not_a_file_name(capsys):
    """9 states x 10 symbols is a valid 279-character bbchallenge string: it simulates."""
    text = "_".join([f"1R{'BCDEFGHIZ'[i]}" * 10 for i in range(9)])  # A -> B -> ... -> halt
    assert len(text) > 255
    code, out, _ = srcnn(capsys, "simulate", text, "--steps", "20", "--json")
    assert code == 0
    want = reference_run(load_machine(text), 20)
    assert json.loads(out)["steps"] == want.steps == 9
    # a long string that is neither a machine nor a path: a one-line refusal, not OSError
    refused(capsys, "simulate", "x" * 5000, where="bbchallenge string", what="group 1")
    refused(capsys, "compile", "--learner", "y" * 5000, where="unknown learner",
            what="characters")
    refused(capsys, "learn", "z" * 5000, "--train", "t.csv", "--test", "t.csv",
            where="t.csv", what="no such file")


@pytest.mark.parametrize("suffix, text, where", [
    (".json", "[" * 3000 + "]" * 3000, ":1:65:"),
    (".yaml", "a: " + "[" * 3000 + "]" * 3000, ":1:67:"),
    (".yaml", "".join(f"{' ' * i}-\n" for i in range(1000)), ":65:65:"),
])
def test_class_02_deep_nesting(tmp_path, capsys, suffix, text, where):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    refused(capsys, "simulate", str(path), where=f"{path}{where}", what="deeper than 64 levels")


@pytest.mark.parametrize("suffix, text, where", [
    (".yaml", "name: x\nstates: [A]\nsymbols: ['0', '1']\nhalt: " + "9" * 5000 + "\n", ":4:7:"),
    (".json", '{"name": "x", "states": [' + "9" * 5000 + "]}", ":1:26:"),
])
def test_class_03_huge_integers(tmp_path, capsys, suffix, text, where):
    path = tmp_path / f"big{suffix}"
    path.write_text(text)
    refused(capsys, "simulate", str(path), where=where, what="5,000 digits")


def test_class_04_yaml_alias_bomb(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("states: *a9")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 600
    err = refused(capsys, "simulate", str(path), where=f"{path}:", what="aliases are expanded")
    assert len(err) < 300
    # a smaller bomb passes the node limit but its error message stays short
    small = tmp_path / "small.yaml"
    small.write_text("states:\n  - &a0 [x, x, x, x, x, x, x, x, x]\n"
                     + "".join(f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
                               for i in range(1, 4)) + "symbols: [a, b]\ntransitions: {}\n")
    err = refused(capsys, "simulate", str(small), where="states[0]", what="state name")
    assert len(err) < 300


@pytest.mark.parametrize("doc, field", [
    ({"states": ["A\nB"], "symbols": ["0", "1"], "transitions": {}}, "states[0]"),
    ({"states": ["A"], "symbols": ["0", "1\n2"], "transitions": {}}, "symbols[1]"),
    ({"name": "two\nlines", "states": ["A"], "symbols": ["0", "1"]}, "name"),
    ({"states": ["A"], "symbols": ["0", "1"], "halt": "H\r", "transitions": {}}, "halt"),
])
def test_class_05_names_with_newlines(tmp_path, capsys, doc, field):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    refused(capsys, "simulate", str(path), where=field, what="non-printable")


def test_class_05_assembly_names_must_be_printable(tmp_path, capsys):
    path = tmp_path / "m.tm"
    path.write_text("symbols _ 1\nstate a\x01b:\n  on _: halt\n")
    refused(capsys, "simulate", str(path), where=f"{path}:2:7:", what="U+0001")
    path.write_text("name two\x1bwords\nsymbols _ 1\nstate a:\n  on _: halt\n")
    refused(capsys, "simulate", str(path), where=f"{path}:1:6:", what="U+001B")
    path.write_text("name two \u2028 words\nsymbols _ 1\nstate a:\n  on _: halt\n")
    refused(capsys, "simulate", str(path), where=f"{path}:1:1:", what="U+2028")


@pytest.mark.parametrize("command", ["simulate", "compile"])
def test_class_06_lone_surrogates(tmp_path, capsys, command):
    path = tmp_path / "m.json"
    path.write_text('{"states": ["\\ud800"], "symbols": ["0", "1"], "transitions": {}}')
    refused(capsys, command, str(path), where="states[0]", what="U+D800")
    path.write_text('{"name": "\\udfff", "states": ["A"], "symbols": ["0", "1"]}')
    refused(capsys, command, str(path), where="name", what="U+DFFF")


def test_class_06_text_output_is_encodable(capsys):
    """An argument that is not valid UTF-8 (argv holds it as a lone surrogate) is echoed
    escaped, and stdout of a successful run is always encodable."""
    code, out, err = srcnn(capsys, "simulate", "no/such/m\udcff.yaml")
    assert code == 2 and "m\\udcff.yaml: no such file" in err
    code, out, _ = srcnn(capsys, "simulate", "bb2")
    assert code == 0
    out.encode("utf-8")


def test_class_07_compile_learner_non_utf8(tmp_path, capsys):
    path = tmp_path / "bad.tm"
    path.write_bytes(b"symbols _ 1\nstate a\xff:\n  on _: halt\n")
    refused(capsys, "compile", "--learner", str(path), where=f"{path}:2:8:",
            what="not UTF-8 text: byte 0xff at offset 19")
    refused(capsys, "learn", str(path), "--train", str(path), "--test", str(path),
            where=f"{path}:2:8:", what="not UTF-8")


@pytest.mark.parametrize("target, what", [
    ("{tmp}/missing/bb2.safetensors", "no such directory"),
    ("{tmp}", "is a directory"),
    ("/", "is a directory"),
    ("{tmp}/" + "n" * 300, "too long"),
    ("{tmp}/file/bb2.safetensors", "Not a directory"),
    ("{tmp}/fifo", "not a regular file"),
])
def test_class_08_unwritable_output_paths(tmp_path, capsys, target, what):
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    target = target.format(tmp=tmp_path)
    refused(capsys, "compile", "bb2", "-o", target, where="-o/--output", what=what)
    assert not list((tmp_path).glob("*.safetensors"))


def test_class_08_write_failure_after_the_check_is_one_line(tmp_path, capsys, monkeypatch):
    import errno

    import constructions.export as export

    def disk_full(*a, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export, "save_compiled", disk_full)
    target = tmp_path / "bb2.safetensors"
    refused(capsys, "compile", "bb2", "-o", str(target), where=f"cannot write {target}",
            what="No space left on device")


def test_class_09_bristol_declaring_10_12_wires(tmp_path, capsys):
    path = tmp_path / "w.bristol"
    path.write_text("1 1000000000000\n1 1\n1 1\n2 1 0 0 999999999999 AND\n")
    for engine in ("reference", "rcnn"):
        refused(capsys, "circuit", str(path), "--inputs", "1", "--engine", engine,
                where=f"{path}:1:3:", what="1,000,000,000,000 wires declared")


def test_class_10_bristol_declaring_10_8_inputs(tmp_path, capsys):
    path = tmp_path / "i.bristol"
    path.write_text("1 100000001\n1 100000000\n1 1\n")
    assert path.stat().st_size == 28
    refused(capsys, "circuit", str(path), where=f"{path}:1:3:", what="more than the limit")
    # within the wire limit but far beyond the exhaustive check: refused by size, quickly
    path.write_text("1 1000001\n1 1000000\n1 1\n2 1 0 1 1000000 AND\n")
    refused(capsys, "circuit", str(path), where=f"{path}: the circuit has 1000000 inputs",
            what="limited to 20")


def test_class_11_show_is_streamed_or_refused(capsys):
    refused(capsys, "simulate", "1RA1RA", "--steps", "100000", "--show", where="--show",
            what="more than the limit of 1,000,000 cells")
    refused(capsys, "simulate", "bb5", "--steps", "100000000", "--show", where="--show",
            what="lines")
    # within the limit: one line per configuration, the last one the final record
    code, out, _ = srcnn(capsys, "simulate", "bb4", "--show", "--json")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 107 + 2 and json.loads(lines[-1])["steps"] == 107


class _ClosedPipe(io.StringIO):
    """stdout whose reader went away after ``after`` characters."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def write(self, s: str) -> int:
        if self.tell() + len(s) > self.after:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(s)


def test_class_12_broken_pipe_is_quiet(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe(200))
    with _alarm():
        code = main(["simulate", "bb4", "--show"])
    err = capsys.readouterr().err
    assert code == 141 and err == ""


def test_class_12_broken_pipe_in_a_real_pipe():
    """``srcnn simulate ... --show | head -1``: exit 141, nothing on stderr."""
    import subprocess

    srcnn_bin = Path(sys.executable).parent / "srcnn"
    cmd = [str(srcnn_bin), "simulate", "1RB1LA_1LA1RB", "--steps", "7000", "--show"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=LIMIT_S) == 141 and first.startswith(b"     0   A |") and err == ""


def test_class_13_macro_expansion_is_bounded_while_expanding(tmp_path, capsys):
    lines = ["symbols _ 1", "use m0 as root"]
    for i in range(20):
        lines += [f"macro m{i}:", "  state $self:", "    on *: goto a"]
        lines += ([f"  use m{i + 1} as a", f"  use m{i + 1} as b"] if i < 19
                  else ["  state a:", "    on *: halt"])
        lines.append("end")
    path = tmp_path / "bomb.tm"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 1600  # 2^20 states if expanded
    refused(capsys, "simulate", str(path), where=f"{path}:", what="more than the limit of 10,000")
    refused(capsys, "compile", "--learner", str(path), where=f"{path}:",
            what="more than the limit of 10,000")


def test_class_14_verify_output_paths_are_checked_first(tmp_path, capsys, monkeypatch):
    import proofs_check.runner as runner

    def must_not_run(**kw):
        raise AssertionError("the checks ran before the output path was checked")

    monkeypatch.setattr(runner, "run_checks", must_not_run)
    refused(capsys, "verify", "--json", str(tmp_path / "missing" / "a.json"), where="--json",
            what="no such directory")
    refused(capsys, "verify", "--markdown", str(tmp_path), where="--markdown",
            what="is a directory")
    refused(capsys, "figures", "--out", "/dev/null", where="--out", what="not a directory")


@pytest.mark.parametrize("argv", [
    ["simulate", "{dev}"],
    ["compile", "--learner", "{dev}"],
    ["circuit", "{dev}"],
    ["learn", "majority", "--train", "{dev}", "--test", "{dev}"],
])
@pytest.mark.parametrize("dev", ["/dev/zero", "/dev/urandom"])
def test_class_15_endless_special_files(capsys, argv, dev):
    if not os.path.exists(dev):
        pytest.skip(f"no {dev}")
    argv = [a.format(dev=dev) for a in argv]
    refused(capsys, *argv, where=dev, what="bytes")


def test_class_15_fifo_is_read_with_a_cap(tmp_path, capsys):
    from tests.fuzz.contract import EndlessFifo

    fifo = EndlessFifo(tmp_path / "m.yaml")
    try:
        refused(capsys, "simulate", str(fifo.path), where=str(fifo.path),
                what="more than 1,048,576 bytes")
    finally:
        fifo.stop()


# --------------------------------------------------------------------------- also


def test_also_quoted_tokens_are_capped(tmp_path, capsys):
    path = tmp_path / "m.tm"
    path.write_text("symbols _ 1\nstate a:\n  on _: goto " + "q" * 100_000 + "\n")
    err = refused(capsys, "simulate", str(path), where=f"{path}:3:14:", what="100,000 characters")
    assert len(err) < 300
    refused(capsys, "simulate", "bb2", "--steps", "9" * 100_000, where="--steps",
            what="characters")


def test_also_non_utf8_bristol_names_the_byte_not_aiger(tmp_path, capsys):
    path = tmp_path / "c.bristol"
    path.write_bytes(b"1 3\n1 2\n1 1\n2 1 0 1 2 X\xffOR\n")
    err = refused(capsys, "circuit", str(path), where=f"{path}:4:12:",
                  what="byte 0xff at offset 23")
    assert "AIGER" not in err
    binary = tmp_path / "c.aig"
    binary.write_bytes(b"aig 1 1 0 1 0\n\x02\xff")
    refused(capsys, "circuit", str(binary), where=f"{binary}:1:1:", what="binary AIGER")


def test_also_json_duplicate_keys_have_a_line(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text('{\n  "states": ["A"],\n  "symbols": ["0", "1"],\n  "states": ["B"]\n}\n')
    refused(capsys, "simulate", str(path), where=f"{path}:4:3:", what="duplicate key 'states'")


def test_also_dash_led_machine_is_read_as_a_machine(capsys):
    refused(capsys, "simulate", "-1RB1LB_1LA1RZ", where="bbchallenge string",
            what="group 1 (state A)")
    code, out, _ = srcnn(capsys, "simulate", "------_1RA1RA", "--json")
    assert code == 0 and json.loads(out) == {"halted": True, "steps": 0, "state": "A",
                                             "head": 0, "ones": 0, "tape": ""}
    refused(capsys, "simulate", "bb2", "--steps", "-1", where="--steps", what=">= 0")


def test_also_unreachable_state_warning_is_one_line(tmp_path, capsys):
    path = tmp_path / "m.tm"
    path.write_text("symbols _ 1\nstate a:\n  on _: halt\nstate b:\n  on _: halt\n")
    code, out, err = srcnn(capsys, "simulate", str(path), "--json")
    assert code == 0 and json.loads(out)["halted"]
    assert err == (f"srcnn simulate: warning: {path}:4:7: state 'b' is unreachable from "
                   "start 'a'\n")


def test_also_broken_aag_header_is_an_aiger_error(tmp_path, capsys):
    path = tmp_path / "c.aag"
    path.write_text("aa 3 2 0 1 1\n2\n4\n6\n6 2 4\n")
    err = refused(capsys, "circuit", str(path), where=f"{path}:1:1:",
                  what="header must start with 'aag'")
    assert "bristol" not in err
    other = tmp_path / "c.txt"  # no telling suffix: the content decides
    other.write_text("aa 3 2 0 1 1\n2\n4\n6\n6 2 4\n")
    refused(capsys, "circuit", str(other), where=f"{other}:1:1:", what="'aag'")


def test_also_exact_engine_budget(capsys, monkeypatch):
    refused(capsys, "simulate", "bb4", "--engine", "exact", "--steps", "1000000",
            where="--steps", what="beyond the limit of 100,000")
    import srcnn.simulate_cmd as simulate_cmd

    monkeypatch.setattr(simulate_cmd, "MAX_EXACT_CELL_UPDATES", 2_000)
    refused(capsys, "simulate", "1RA1RA", "--engine", "exact", "--steps", "500",
            where="--engine exact: after", what="would exceed 2,000 cell updates")


def test_also_reference_grid_runs_in_linear_time_with_a_tape_budget(capsys, monkeypatch):
    """1DA1DA writes a new cell every step; the reference used to copy its tape every step."""
    import simulators.turing as turing

    code, out, _ = srcnn(capsys, "simulate", "1DA1DA", "--steps", "300000", "--json")
    assert code == 0 and json.loads(out)["ones"] == 300_000
    monkeypatch.setattr(turing, "MAX_TAPE_CELLS", 1000)
    monkeypatch.setattr(turing, "PROGRESS_EVERY", 256)
    refused(capsys, "simulate", "1DA1DA", "--steps", "5000", where="--engine reference: after",
            what="more than the reference simulator's limit of 1,000")


def test_also_exhaustive_check_refused_before_the_layout(tmp_path, capsys, monkeypatch):
    import constructions.circuit as cc

    n = 20_000  # a chain of ANDs: depth 20,000, so at least 20,000^2 cell updates a run
    lines = [f"aag {n + 6} 6 0 1 {n}", *[str(2 * i) for i in range(1, 7)], str(2 * (n + 6))]
    prev = 2
    for i in range(n):
        lines.append(f"{2 * (7 + i)} {prev} 4")
        prev = 2 * (7 + i)
    path = tmp_path / "chain.aag"
    path.write_text("\n".join(lines) + "\n")

    def no_layout(*a, **kw):
        raise AssertionError("the layout was computed before the budget refused the run")

    monkeypatch.setattr(cc, "compile_circuit", no_layout)
    refused(capsys, "circuit", str(path), where=f"{path}: evaluating all 64 assignments",
            what="at least")


def test_also_large_compile_is_fast(capsys):
    """A 557-state machine (the compiler's limit for 2 symbols) used to take minutes in
    ``metadata()`` (the weight set and bits recomputed per key); it is computed once."""
    import random

    from constructions.tm import compile_tm
    from simulators.sampling import random_machine

    machine = random_machine(random.Random(5), 557, 2, p_undefined=0.0)
    with _alarm(300):
        ctm = compile_tm(machine)
        meta = ctm.metadata()
    assert meta["s"] == 557 and meta["bits_needed"] == ctm.bits
    assert meta["exact_dtypes"] == [d for d in ("float16", "bfloat16", "float32", "float64")
                                    if ctm.exact_in(d)]


def test_guard_turns_a_bug_into_one_line_exit_1(capsys, monkeypatch):
    import srcnn.simulate_cmd as simulate_cmd

    def bug(*a, **kw):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(simulate_cmd.ENGINES, "reference", bug)
    code, _, err = (main(["simulate", "bb2"]), *capsys.readouterr())
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("srcnn simulate: internal error: ZeroDivisionError: a bug")
    assert "please report" in err
    monkeypatch.setenv("SRCNN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["simulate", "bb2"])


def test_builtin_library_still_loads():
    assert {"bb2", "bb4", "bb5"} <= set(builtin_machines())


def test_limits_page_states_the_code_constants():
    """docs/limits.md's closing block asserts every constant of its table."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text()
    blocks = text.split("```python\n")[1:]
    assert len(blocks) == 1
    exec(compile(blocks[0].split("```")[0], "docs/limits.md", "exec"), {})


@pytest.mark.parametrize("engine", ["reference", "rcnn"])
def test_found_by_fuzzing_learner_run_errors_name_the_file(tmp_path, capsys, engine):
    """The thorough fuzz run found ``test point 1: ... 0 answer cells`` naming no file."""
    learner = tmp_path / "mine.tm"
    learner.write_bytes((Path(__file__).resolve().parents[1] / "simulators" / "library"
                         / "learners" / "first_agree.tm").read_bytes())
    (tmp_path / "train.csv").write_text("1,1,1\n-1,1,-1\n")
    (tmp_path / "test.csv").write_text("1,1\n")
    refused(capsys, "learn", str(learner), "--train", str(tmp_path / "train.csv"),
            "--test", str(tmp_path / "test.csv"), "--engine", engine, "--steps", "5",
            where=f"{learner}: test point 1", what="")


def test_aiger_symbol_index_of_thousands_of_digits_is_located():
    """Found by the thorough fuzz run: an AIGER symbol line ``o0999...`` (5,000 digits)
    reached ``int()`` and raised Python's own digit-limit ValueError."""
    from simulators.aiger import parse_aiger
    from simulators.circuits import CircuitError

    text = "aag 1 1 0 1 0\n2\n2\ni0 a\no0" + "9" * 5001 + " x\n"
    with pytest.raises(CircuitError, match=r"^c:5: the index of symbol .* more than the limit"):
        parse_aiger(text, "c")

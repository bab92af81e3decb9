"""Fuzz targets: each draws one case (a parser call or a ``srcnn`` command line, with the
files it reads) from a seeded ``random.Random``.

Two kinds of targets:

* ``parse:<format>``: a parser called directly on a mutated file (machine documents,
  bbchallenge strings, ``.tm`` assembly, learner machines, Bristol, AIGER, CSV);
* ``cli:<subcommand>``: ``srcnn.cli.main(argv)`` in-process. Subcommands are discovered from
  ``build_parser()``: the four that read user files (simulate, compile, circuit, learn) get
  generators that know their inputs (valid, mutated and special files; every engine, with
  small sizes); every subcommand, including ones added later, also gets a generic generator
  that builds an argv from its argparse actions with at least one argument made invalid
  (so a long valid run, e.g. ``verify``, is never started).

A case carries a ``check`` for the answers it can cross-check: ``simulate`` against the
literal reference simulator (``simulators.turing.run``), ``circuit`` against an evaluator
written here, ``learn`` against the plain-Python learners.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.mutate import HOSTILE_TOKENS, mutate

Check = Callable[[str], "str | None"]


@dataclass
class Case:
    """One fuzz case: either ``argv`` for ``srcnn`` or ``call`` (a parser call), the files to
    write first (name -> bytes, relative to the case directory), the exception types a parser
    may raise, and ``check(stdout)`` returning a problem (or None) for an exit-0 answer."""

    target: str
    fmt: str
    argv: list[str] | None = None
    call: Callable[[], object] | None = None
    allowed: tuple[type[BaseException], ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    check: Callable[[str], str | None] | None = None
    fifo: str | None = None  # a file name to create as a FIFO with an endless writer
    sources: tuple[str, ...] = ()  # names a parser call's errors may use for its input
    ok_codes: tuple[int, ...] = (0,)  # exit codes of an answer (certify: 1 = counterexample)


# --------------------------------------------------------------------------- seeds

_ROOT = Path(__file__).resolve().parents[2]
_LIB = _ROOT / "simulators" / "library"


def _library_files(pattern: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted(_LIB.glob(pattern))]


_SEEDS: dict[str, list[bytes]] = {}


def seeds(kind: str) -> list[bytes]:
    """Valid inputs of one kind, computed once."""
    if kind not in _SEEDS:
        _SEEDS[kind] = _make_seeds(kind)
    return _SEEDS[kind]


def _make_seeds(kind: str) -> list[bytes]:
    from simulators.aiger import dump_aiger
    from simulators.assembler import disassemble
    from simulators.bristol import dump_bristol
    from simulators.circuits import random_circuit
    from simulators.formats import dump_machine, format_bbchallenge
    from simulators.sampling import ALL_MOVES, ONE_D, random_machine

    rng = random.Random(1234)
    if kind == "yaml":
        out = _library_files("*.yaml")
        out += [dump_machine(random_machine(rng, rng.randint(1, 5), rng.randint(2, 4)), "yaml")
                .encode() for _ in range(8)]
        return out
    if kind == "json":
        return [dump_machine(random_machine(rng, rng.randint(1, 5), rng.randint(2, 4),
                                            ALL_MOVES if i % 3 == 0 else ONE_D), "json").encode()
                for i in range(10)]
    if kind == "bb":
        out = []
        for _ in range(20):
            moves = ALL_MOVES if rng.random() < 0.3 else ONE_D
            m = random_machine(rng, rng.randint(1, 6), rng.randint(2, 4), moves)
            out.append(format_bbchallenge(m).encode())
        return out + [b"1RB1LB_1LA1RZ", b"1RB1LB_1LA0LC_1RZ1LD_1RD0RA", b"1DA1DA", b"1RA1RA"]
    if kind == "tm":
        out = _library_files("grid/*.tm") + _library_files("learners/*.tm")
        out += [disassemble(random_machine(rng, rng.randint(1, 5), rng.randint(2, 3),
                                           ALL_MOVES)).encode() for _ in range(6)]
        out.append(b"symbols _ 1\nmacro m(d):\n  state $self:\n    on _: move $d, goto halt\n"
                   b"    on 1: goto $self\nend\nuse m(R) as a\n")
        return out
    if kind == "weights":
        return _weight_seeds()
    if kind == "learner-tm":
        return _library_files("learners/*.tm")
    if kind == "bristol":
        out = _library_files("circuits/*.bristol")
        out += [dump_bristol(random_circuit(rng, rng.randint(1, 6), rng.randint(1, 12),
                                            rng.randint(1, 3))).encode() for _ in range(8)]
        return out
    if kind == "aiger":
        return [dump_aiger(random_circuit(rng, rng.randint(1, 6), rng.randint(1, 12),
                                          rng.randint(1, 3)), symbols=i % 2 == 0).encode()
                for i in range(10)]
    if kind in ("train", "test"):  # train[i] and test[i] share d
        out = []
        for _ in range(10):
            m, n, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 3)
            rows = [[rng.choice(("-1", "1")) for _ in range(d + 1)] for _ in range(m)]
            points = [[rng.choice(("-1", "1")) for _ in range(d)] for _ in range(n)]
            out.append("".join(",".join(r) + "\n"
                               for r in (rows if kind == "train" else points)).encode())
        return out
    raise KeyError(kind)


def _weight_seeds() -> list[bytes]:
    """Weight files as ``srcnn compile -o`` writes them: 1-D, 3-symbol, grid, undefined
    transitions, float64, and a learner network."""
    import tempfile

    from constructions.export import save_compiled
    from constructions.learner import compile_library_learner
    from constructions.tm import compile_tm
    from simulators.formats import load_machine

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.safetensors"
        for spec, dtype in (("bb2", "float32"), ("bb3", "float64"), ("bb2x3", "float32"),
                            ("grid_square", "float32"), ("bb2_undefined", "float32")):
            save_compiled(compile_tm(load_machine(spec)), path, dtype, source=spec)
            out.append(path.read_bytes())
        save_compiled(compile_library_learner("majority"), path, "float32", source="majority")
        out.append(path.read_bytes())
    return out


def _mutate_weights(rng: random.Random, data: bytes) -> bytes:
    """A weight file changed in its bytes (anywhere), in its metadata JSON (re-framed with
    the right header length, so the change reaches the validator), or in one weight."""
    import struct

    r = rng.random()
    if r < 0.3:
        return mutate(rng, data)
    (n,) = struct.unpack("<Q", data[:8])
    header, body = data[8:8 + n], data[8 + n:]
    if r < 0.75:
        header = mutate(rng, header)
        return struct.pack("<Q", len(header)) + header + body
    if not body:
        return data
    body = bytearray(body)  # one weight's bytes: the certificate must notice or prove it harmless
    at = rng.randrange(len(body))
    body[at] ^= 1 << rng.randrange(8)
    return data[:8 + n] + bytes(body)


def _maybe_mutate(rng: random.Random, data: bytes, p: float = 0.75) -> bytes:
    return mutate(rng, data) if rng.random() < p else data


SPECIAL_PATHS = ("/dev/zero", "/dev/urandom", "/dev/null", "/", "/no/such/dir/file.yaml",
                 "x" * 300, "a/" * 3000, "-", "")
"""Paths every file argument is also tried with: endless devices, an empty one, a directory,
missing paths, names too long for the system, and the empty string."""


def _file_arg(rng: random.Random, case: Case, name: str, data: bytes) -> str:
    """A file argument: usually ``name`` holding ``data``; sometimes a special path or FIFO."""
    r = rng.random()
    if r < 0.06:
        return rng.choice(SPECIAL_PATHS)
    if r < 0.07 and case.fifo is None and name not in case.files:
        case.fifo = name
        return name
    if name == case.fifo:
        return name
    case.files[name] = data
    return name


# --------------------------------------------------------------------------- checks


def _check_simulate(spec: str, steps: int, as_json: bool, show: bool) -> Check:
    def check(out: str) -> str | None:
        from simulators.formats import load_machine, summarize
        from simulators.turing import run

        want = summarize(machine := load_machine(spec), run(machine, steps))
        lines = out.splitlines()
        if show:
            shown = [ln for ln in lines if ln[:6].strip().isdigit() and "|" in ln]
            if len(shown) != want["steps"] + 1:
                return f"--show printed {len(shown)} steps, expected {want['steps'] + 1}"
        if as_json:
            got = json.loads(lines[-1])
            return None if got == want else f"JSON {got} != reference {want}"
        text = "\n".join(lines)
        for key in ("halted", "steps", "state", "head", "ones"):
            if f"\n{key:<8} {want[key]}" not in "\n" + text:
                return f"text output lacks '{key} {want[key]}'"
        return None
    return check


def _evaluate(circuit, bits: list[int]) -> list[int]:
    """An evaluator independent of ``simulators.circuits.evaluate``: gates in file order."""
    value = dict(zip(circuit.inputs, bits))
    ops = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "XOR": lambda a, b: a ^ b,
           "NAND": lambda a, b: 1 - (a & b), "NOR": lambda a, b: 1 - (a | b),
           "XNOR": lambda a, b: 1 - (a ^ b), "NOT": lambda a: 1 - a, "COPY": lambda a: a,
           "CONST0": lambda: 0, "CONST1": lambda: 1}
    for g in circuit.gates:
        value[g.output] = ops[g.op.value](*(value[w] for w in g.inputs))
    return [value[w] for w in circuit.outputs]


def _check_circuit(path: str, fmt: str | None, inputs: str | None, as_json: bool) -> Check:
    def check(out: str) -> str | None:
        from simulators.circuit_files import load_circuit

        circuit, _ = load_circuit(path, fmt)
        if inputs is None:
            if as_json:
                rec = json.loads(out)
                ok = rec["agree"] == rec["assignments"] == 1 << circuit.n_inputs
            else:
                ok = f"all {1 << circuit.n_inputs} agree" in out
            return None if ok else f"exhaustive check did not agree: {out[-200:]!r}"
        want = "".join(map(str, _evaluate(circuit, [int(b) for b in inputs])))
        got = json.loads(out)["outputs"] if as_json else out.split("outputs  ")[-1].strip()
        return None if got == want else f"outputs {got} != independent evaluation {want}"
    return check


def _check_learn(learner: str, train: str, test: str, as_json: bool) -> Check:
    def check(out: str) -> str | None:
        from simulators.datasets import read_train_test
        from simulators.learners import predict

        X, y, tests = read_train_test(train, test)
        want = [int(v) for v in predict(learner, X, y, tests)]
        got = json.loads(out)["predictions"] if as_json else [int(v) for v in out.split()]
        return None if got == want else f"predictions {got} != reference {want}"
    return check


def _check_compile(spec: str, learner: bool, output: str | None) -> Check:
    def check(out: str) -> str | None:
        meta = json.loads(out)
        if not learner:
            from simulators.formats import load_machine

            m = load_machine(spec)
            if (meta["s"], meta["k"]) != (m.n_states, m.n_symbols):
                return f"compiled s, k = {meta['s']}, {meta['k']} for a {m.n_states} x " \
                       f"{m.n_symbols} machine"
        if output is not None:
            from constructions.export import load_compiled

            _, saved = load_compiled(output)
            if saved["shared_parameters"] != meta["shared_parameters"]:
                return "the written file disagrees with the printed metadata"
        return None
    return check


# --------------------------------------------------------------------------- parser targets


def _parse_case(rng: random.Random, fmt: str, kind: str, name: str, load, allowed) -> Case:
    case = Case(f"parse:{fmt}", fmt, allowed=allowed)
    data = _maybe_mutate(rng, rng.choice(seeds(kind)), 0.9)
    path = _file_arg(rng, case, name, data)
    case.call = lambda: load(path)
    case.sources = (path,)
    return case


def parse_machine_file(rng: random.Random, fmt: str) -> Case:
    from simulators.formats import load_machine
    from simulators.turing import MachineError

    kind = {"yaml": "yaml", "json": "json", "tm": "tm"}[fmt]
    return _parse_case(rng, fmt, kind, f"m.{fmt}", load_machine, (MachineError,))


def parse_bbchallenge(rng: random.Random) -> Case:
    from simulators.formats import load_machine
    from simulators.turing import MachineError

    text = _maybe_mutate(rng, rng.choice(seeds("bb")), 0.9).decode("utf-8", "surrogateescape")
    if rng.random() < 0.2:
        text = "_".join([text] * rng.choice((2, 9, 30)))
    return Case("parse:bbchallenge", "bbchallenge", call=lambda: load_machine(text),
                allowed=(MachineError,), sources=(text, "<text>"))


def parse_learner_tm(rng: random.Random) -> Case:
    from simulators.assembler import AssemblyError
    from simulators.learner_tape import LearnerTapeError, load_learner_file

    return _parse_case(rng, "learner-tm", "learner-tm", "l.tm", load_learner_file,
                       (AssemblyError, LearnerTapeError))


def parse_circuit(rng: random.Random, fmt: str) -> Case:
    from simulators.circuit_files import load_circuit
    from simulators.circuits import CircuitError

    suffix = rng.choice({"bristol": (".bristol", ".txt"), "aiger": (".aag", "")}[fmt])
    return _parse_case(rng, fmt, fmt, f"c{suffix}", load_circuit, (CircuitError,))


def parse_csv(rng: random.Random) -> Case:
    from simulators.datasets import DatasetError, read_train_test

    case = Case("parse:csv", "csv", allowed=(DatasetError,))
    i = rng.randrange(len(seeds("train")))
    train = _file_arg(rng, case, "train.csv", _maybe_mutate(rng, seeds("train")[i]))
    test = _file_arg(rng, case, "test.csv", _maybe_mutate(rng, seeds("test")[i]))
    case.call = lambda: read_train_test(train, test)
    case.sources = (train, test)
    return case


# --------------------------------------------------------------------------- CLI targets

BUILTINS = ("bb2", "bb3", "bb4", "bb2x3", "bb2_undefined", "counter", "grid_square")


def _steps(rng: random.Random, engine: str) -> str:
    if rng.random() < 0.1:  # hostile: refused by the argument type or the engine's budget
        return rng.choice(("-1", "ten", "1e3", "10000000000", "9" * 400, "", "0x10", "1_000",
                           "2000000", "1000001", "100001" if engine == "exact" else "-0"))
    top = {"reference": 100_000, "rcnn": 150, "exact": 40}[engine]  # grid machines: n^2 cells
    return str(rng.choice((0, 1, 6, 50, rng.randint(0, top), top)))


def _machine_arg(rng: random.Random, case: Case, small: bool) -> tuple[str, str]:
    """(argument, format) for a machine: built-in, bbchallenge string, or a file."""
    r = rng.random()
    if r < 0.15:
        return rng.choice(BUILTINS), "builtin"
    if r < 0.45:
        text = _maybe_mutate(rng, rng.choice(seeds("bb")), 0.5).decode("utf-8", "surrogateescape")
        if not small and rng.random() < 0.1:
            text = "_".join([text] * rng.choice((2, 9, 30)))
        if rng.random() < 0.05:
            text = "-" + text
        return text, "bbchallenge"
    fmt = rng.choice(("yaml", "json", "tm"))
    data = _maybe_mutate(rng, rng.choice(seeds(fmt)), 0.6)
    return _file_arg(rng, case, f"m.{fmt}", data), fmt


def cli_simulate(rng: random.Random) -> Case:
    case = Case("cli:simulate", "")
    engine = rng.choices(("reference", "rcnn", "exact"), (0.8, 0.15, 0.05))[0]
    spec, case.fmt = _machine_arg(rng, case, small=engine != "reference")
    steps = _steps(rng, engine)
    argv = ["simulate", spec, "--steps", steps, "--engine", engine]
    as_json, show = rng.random() < 0.6, rng.random() < 0.15
    argv += ["--json"] * as_json + ["--show"] * show
    if engine != "reference" and rng.random() < 0.5:
        argv += ["--dtype", rng.choice(("float32", "float64"))]
    case.argv = argv
    if steps.isdigit() and int(steps) <= 100_000:
        case.check = _check_simulate(spec, int(steps), as_json, show)
    return case


def cli_compile(rng: random.Random) -> Case:
    case = Case("cli:compile", "")
    if rng.random() < 0.25:
        case.fmt = "learner"
        if rng.random() < 0.3:
            spec = rng.choice(("majority", "first_agree", "nearest", "parity", "median"))
        else:
            data = _maybe_mutate(rng, rng.choice(seeds("learner-tm")), 0.8)
            spec = _file_arg(rng, case, "l.tm", data)
        argv = ["compile", "--learner", spec]
    else:
        spec, case.fmt = _machine_arg(rng, case, small=True)
        argv = ["compile", spec]
    output = None
    if rng.random() < 0.3:
        output = rng.choice(("w.safetensors", "w.safetensors", "missing/w.safetensors", ".",
                             "/", "n" * 300, "/dev/null"))
        argv += ["-o", output]
    as_json = rng.random() < 0.7
    argv += ["--json"] * as_json + ["--dtype", rng.choice(("float32", "float64", "float16"))]
    case.argv = argv
    if as_json and "float16" not in argv:
        case.check = _check_compile(spec, "--learner" in argv, output)
    return case


def cli_circuit(rng: random.Random) -> Case:
    from simulators.aiger import parse_aiger
    from simulators.bristol import parse_bristol
    from simulators.circuit_files import detect_format
    from simulators.circuits import CircuitError

    case = Case("cli:circuit", rng.choice(("bristol", "aiger")))
    suffix = rng.choice({"bristol": (".bristol", ".txt"), "aiger": (".aag", "")}[case.fmt])
    data = _maybe_mutate(rng, rng.choice(seeds(case.fmt)), 0.6)
    path = _file_arg(rng, case, f"c{suffix}", data)
    argv = ["circuit", path]
    fmt = rng.choice((None, None, None, "bristol", "aiger"))
    if fmt:
        argv += ["--format", fmt]
    n_inputs = None
    if path in case.files:
        try:  # to give --inputs of the right length most of the time
            text = case.files[path].decode("utf-8")
            parse = parse_aiger if (fmt or detect_format(path, text)) == "aiger" else parse_bristol
            n_inputs = parse(text, path).n_inputs
        except (CircuitError, ValueError):
            pass
    inputs = None
    if rng.random() < 0.6 or (n_inputs or 0) > 8:
        n = n_inputs if n_inputs is not None and rng.random() < 0.85 else rng.randint(0, 9)
        inputs = "".join(rng.choice("01") for _ in range(n))
        if rng.random() < 0.05:
            inputs = rng.choice(HOSTILE_TOKENS)
        argv += ["--inputs", inputs]
    engine = rng.choice(("reference", "rcnn"))
    argv += ["--engine", engine]
    as_json = rng.random() < 0.6
    argv += ["--json"] * as_json
    case.argv = argv
    if inputs is None or set(inputs) <= {"0", "1"}:
        case.check = _check_circuit(path, fmt, inputs, as_json)
    return case


_CLIENT: dict = {}


def _doc_client() -> dict:
    """The numpy-only client of docs/weight_files.md (the block defining ``run_file``): an
    evaluator of a weight file written without this project's code."""
    if not _CLIENT:
        text = (_ROOT / "docs" / "weight_files.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        block = next(b for b in blocks if "def run_file" in b)
        exec(compile(block, "weight_files.md", "exec"), _CLIENT)  # noqa: S102
    return _CLIENT


def _check_certify(path: str) -> Check:
    """A certified Turing-machine file must run like its machine: the docs' numpy client on
    the file against the reference simulator on the metadata's machine, 40 steps."""
    def check(out: str) -> str | None:
        from constructions.export import load_compiled
        from simulators.formats import load_machine, summarize
        from simulators.turing import run

        cert = json.loads(out)
        if not cert.get("proven"):
            return None
        _, meta = load_compiled(path)
        if meta.get("kind") != "turing-machine":
            return None
        machine = load_machine(meta["machine"])
        want = summarize(machine, run(machine, 40))
        got = _doc_client()["run_file"](path, 40)
        if (got["halted"], got["steps"]) != (want["halted"], want["steps"]):
            return f"certified, but the file runs {got} where the machine gives {want}"
        return None
    return check


def cli_certify(rng: random.Random) -> Case:
    case = Case("cli:certify", "safetensors", ok_codes=(0, 1))
    data = rng.choice(seeds("weights"))
    if rng.random() < 0.9:
        data = _mutate_weights(rng, data)
    path = _file_arg(rng, case, rng.choice(("w.safetensors", "w.bin")), data)
    as_json = rng.random() < 0.8
    case.argv = ["certify", path] + ["--json"] * as_json
    if as_json and path in case.files:
        case.check = _check_certify(path)
    return case


def cli_explain(rng: random.Random) -> Case:
    case = Case("cli:explain", "")
    if rng.random() < 0.35:
        case.fmt = "safetensors"
        data = rng.choice(seeds("weights"))
        if rng.random() < 0.9:
            data = _mutate_weights(rng, data)
        spec = _file_arg(rng, case, "w.safetensors", data)
    else:
        spec, case.fmt = _machine_arg(rng, case, small=True)
    argv = ["explain", spec]
    if rng.random() < 0.2:
        argv += ["--html", rng.choice(("page.html", "missing/page.html", "/", "/dev/null"))]
    as_json = rng.random() < 0.6
    case.argv = argv + ["--json"] * as_json
    if as_json:
        case.check = lambda out: None if isinstance(json.loads(out), dict) else "not a JSON object"
    return case


def cli_learn(rng: random.Random) -> Case:
    case = Case("cli:learn", "csv")
    r = rng.random()
    if r < 0.7:
        learner = rng.choice(("majority", "first_agree", "nearest", "parity"))
    elif r < 0.9:
        case.fmt = "learner-tm"
        data = _maybe_mutate(rng, rng.choice(seeds("learner-tm")), 0.7)
        learner = _file_arg(rng, case, "l.tm", data)
    else:
        learner = rng.choice(("median", "", "x" * 5000, "-1RB", "..", "/"))
    i = rng.randrange(len(seeds("train")))
    train = _file_arg(rng, case, "train.csv", _maybe_mutate(rng, seeds("train")[i], 0.3))
    test = _file_arg(rng, case, "test.csv", _maybe_mutate(rng, seeds("test")[i], 0.3))
    engine = rng.choices(("reference", "rcnn"), (0.7, 0.3))[0]
    argv = ["learn", learner, "--train", train, "--test", test, "--engine", engine]
    if case.fmt == "learner-tm" or rng.random() < 0.1:
        argv += ["--steps", rng.choice(("0", "5", "200", "2000", "-3", "x", "9" * 50))]
    if rng.random() < 0.1:
        argv += ["--work-columns", rng.choice(("1", "2", "0", "5000", "-1"))]
    as_json = rng.random() < 0.6
    argv += ["--json"] * as_json
    case.argv = argv
    if learner in ("majority", "first_agree", "nearest", "parity"):
        case.check = _check_learn(learner, train, test, as_json)
    return case


# --------------------------------------------------------------------------- any subcommand


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand of ``srcnn``, from ``build_parser()`` (so new ones are included)."""
    from srcnn.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("srcnn has no subcommands")


def _type_name(action: argparse.Action) -> str:
    t = action.type
    return getattr(t, "__name__", type(t).__name__) if t is not None else "str"


def _value(rng: random.Random, action: argparse.Action, case: Case) -> str:
    if action.choices:
        return str(rng.choice(list(action.choices)))
    kind = _type_name(action)
    if kind in ("int", "step_count", "float"):
        return rng.choice(("0", "1", "3", "-2", "x", "9" * 200))
    if kind in ("output_file", "output_dir"):  # relative: inside the case's directory
        return rng.choice(("out.json", "outdir", "missing/x.json", "n" * 300, "/dev/null"))
    r = rng.random()
    if r < 0.3:
        return rng.choice(BUILTINS + ("majority", "bb2x3"))
    if r < 0.6:
        fmt = rng.choice(("yaml", "bristol", "train", "tm"))
        return _file_arg(rng, case, f"g.{fmt}", _maybe_mutate(rng, rng.choice(seeds(fmt))))
    return rng.choice(HOSTILE_TOKENS)[:2000]


def _invalid(rng: random.Random, actions: list[argparse.Action]) -> list[str]:
    """Arguments argparse (or an argument type) must refuse before any work starts."""
    typed = [a for a in actions if a.option_strings and a.nargs != 0
             and (a.choices or _type_name(a) in ("int", "step_count", "float", "output_file",
                                                   "output_dir"))]
    if typed and rng.random() < 0.7:
        a = rng.choice(typed)
        if a.choices:
            bad = rng.choice(("gpu", "", "FLOAT32", "x" * 3000))
        elif _type_name(a) == "output_file":  # unwritable even for root
            bad = rng.choice(("/no/such/dir/x", "/", "n" * 300, "", "/dev/null/x", "."))
        elif _type_name(a) == "output_dir":  # (a missing directory is created: not invalid)
            bad = rng.choice(("/dev/null", "/dev/null/x", "n" * 300, ""))
        else:
            bad = rng.choice(("ten", "9" * 5000, "1.5.2", "", "0x"))
        return [rng.choice(a.option_strings), bad]
    return [rng.choice(("--no-such-option", "--" + "x" * 3000, "-Z", "--=", "---x"))]


def cli_generic(rng: random.Random, name: str, parser: argparse.ArgumentParser) -> Case:
    """An argv for subcommand ``name`` built from its actions, with one invalid argument."""
    case = Case(f"cli:{name}:argv", "argv")
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    argv = [name]
    for a in actions:
        if a.option_strings:
            if not (a.required or rng.random() < 0.3):
                continue
            argv.append(rng.choice(a.option_strings))
            if a.nargs == 0:
                continue
            count = {None: 1, "?": 1, "+": rng.randint(1, 3), "*": rng.randint(0, 2)}.get(
                a.nargs, a.nargs if isinstance(a.nargs, int) else 1)
        else:
            count = {None: 1, "?": rng.randint(0, 1), "+": rng.randint(1, 3),
                     "*": rng.randint(0, 2)}.get(a.nargs, 1)
        argv += [_value(rng, a, case) for _ in range(count)]
    bad = _invalid(rng, actions)
    at = rng.randint(1, len(argv))
    case.argv = argv[:at] + bad + argv[at:]
    if rng.random() < 0.05:
        case.argv = [name, "--help"]
        case.check = lambda out: None if "usage:" in out else "--help printed no usage"
    return case


def cli_top(rng: random.Random) -> Case:
    """The top level: unknown subcommands, no subcommand, options before it, --help."""
    names = list(subcommands())
    argv = rng.choice([[], ["--help"], ["-h"], [rng.choice(HOSTILE_TOKENS)[:300]],
                       ["--steps", "5", rng.choice(names)], [rng.choice(names).upper()],
                       [rng.choice(names)[:-1]], ["--version"], [""]])
    case = Case("cli:top", "argv", argv=argv)
    if argv in (["--help"], ["-h"]):
        case.check = lambda out: None if "usage:" in out else "--help printed no usage"
    return case


# --------------------------------------------------------------------------- the table

KNOWN = {"simulate": cli_simulate, "compile": cli_compile, "circuit": cli_circuit,
         "learn": cli_learn, "certify": cli_certify, "explain": cli_explain}
"""Subcommands whose inputs the fuzz suite knows how to generate, valid or not."""


def targets() -> dict[str, tuple[float, Callable[[random.Random], Case]]]:
    """Target name -> (weight, case generator). Weights favour cheap targets so a profile
    of N cases takes about N x 10 ms."""
    out: dict[str, tuple[float, Callable[[random.Random], Case]]] = {
        "parse:bbchallenge": (1.0, parse_bbchallenge),
        "parse:yaml": (1.5, lambda r: parse_machine_file(r, "yaml")),
        "parse:json": (1.0, lambda r: parse_machine_file(r, "json")),
        "parse:tm": (1.5, lambda r: parse_machine_file(r, "tm")),
        "parse:learner-tm": (0.5, parse_learner_tm),
        "parse:bristol": (1.0, lambda r: parse_circuit(r, "bristol")),
        "parse:aiger": (1.0, lambda r: parse_circuit(r, "aiger")),
        "parse:csv": (1.0, parse_csv),
        "cli:top": (0.2, cli_top),
    }
    for name, parser in subcommands().items():
        if name in KNOWN:
            out[f"cli:{name}"] = (1.0, KNOWN[name])
        out[f"cli:{name}:argv"] = (0.3, lambda r, n=name, p=parser: cli_generic(r, n, p))
    return out


def write_files(case: Case, where: Path) -> None:
    """Write the case's files into ``where`` (the current directory of the case)."""
    for name, data in case.files.items():
        p = where / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def describe(case: Case) -> dict:
    """A JSON-able record to reproduce the case: argv or target, the files as readable text
    (cut at 4,000 characters) and whole, byte for byte, in base64 (``files_base64``, up to
    16 MiB each), and for a parser call the text it was given (``sources``)."""
    import base64

    return {"target": case.target, "fmt": case.fmt, "argv": case.argv,
            "files": {k: v.decode("utf-8", "backslashreplace")[:4000]
                      for k, v in case.files.items()},
            "files_base64": {k: base64.b64encode(v[:16 << 20]).decode("ascii")
                             for k, v in case.files.items()},
            "sources": [t[:100_000] for t in case.sources if isinstance(t, str)],
            "fifo": case.fifo}


__all__ = ["Case", "KNOWN", "SPECIAL_PATHS", "describe", "seeds", "subcommands", "targets",
           "write_files"]
assert os.sep == "/", "the fuzz suite's special paths assume a POSIX system"

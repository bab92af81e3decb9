"""``srcnn certify`` on good, wrong and broken weight files (exit 0, 1, 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from constructions.export import load_compiled, save_compiled, save_weights
from constructions.tm import compile_tm
from simulators.formats import builtin_machines
from srcnn.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def bb4_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w") / "bb4.safetensors"
    save_compiled(compile_tm(builtin_machines()["bb4"]), path)
    return path


def edited(src: Path, dst: Path, tensors=None, meta=None) -> Path:
    """A copy of ``src`` with tensors and metadata changed by the given functions."""
    t, m = load_compiled(src)
    if tensors is not None:
        tensors(t)
    if meta is not None:
        meta(m)
    save_weights(t, m, dst)
    return dst


def test_a_compiled_file_is_certified(capsys, bb4_file) -> None:
    code, out, _ = run(capsys, "certify", str(bb4_file), "--json")
    rec = json.loads(out)
    assert code == 0 and rec["proven"] and rec["dtype"] == "float32"
    assert rec["views"] == 832 + 12 and rec["kind"] == "turing-machine"
    assert "every summation order" in rec["how"] and "1RB1LB_1LA0LC_1RZ1LD_1RD0RA" in rec["rule"]
    code, out, _ = run(capsys, "certify", str(bb4_file))
    assert code == 0 and out.startswith("certified") and "views" in out


def test_a_harmful_edit_gets_a_counterexample(capsys, bb4_file, tmp_path) -> None:
    def bump(t):
        t["A2"][0, 17] += np.float32(2.0**-10)
    bad = edited(bb4_file, tmp_path / "bad.safetensors", tensors=bump)
    code, out, _ = run(capsys, "certify", str(bad), "--json")
    rec = json.loads(out)
    assert code == 1 and not rec["proven"]
    ce = rec["counterexample"]
    assert len(ce["view"]) == 9 and ce["computed"] != ce["expected"]
    code, out, _ = run(capsys, "certify", str(bad))
    assert code == 1 and "NOT certified" in out and "expected" in out and "computed" in out


def test_a_trained_looking_file_is_refuted_by_enumeration(capsys, bb4_file, tmp_path) -> None:
    """Dense random weights (every unit reads every position, like an SGD-trained net): the
    views are enumerated with the executor and the first wrong one reported."""
    rng = np.random.default_rng(0)

    def dense(t):
        for k in ("A1", "b1", "A2", "b2", "A3", "b3"):
            t[k] = rng.normal(size=t[k].shape).astype(np.float32)
    bad = edited(bb4_file, tmp_path / "dense.safetensors", tensors=dense)
    code, out, _ = run(capsys, "certify", str(bad), "--json")
    rec = json.loads(out)
    assert code == 1 and rec["counterexample"]["family"]


def test_a_learner_file_is_certified(capsys, tmp_path) -> None:
    from constructions.learner import compile_library_learner

    path = tmp_path / "majority.safetensors"
    save_compiled(compile_library_learner("majority"), path)
    code, out, err = run(capsys, "certify", str(path), "--json")
    rec = json.loads(out)
    assert code == 0, err
    assert list(rec["parts"]) == ["layer 1", "layers 2..L", "head"] and rec["proven"]


def _one_line(code: int, out: str, err: str) -> str:
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err)
    return err


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all",
                                     b"\xff" * 64, b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_garbage_files(capsys, tmp_path, content) -> None:
    p = tmp_path / "g.safetensors"
    p.write_bytes(content)
    err = _one_line(*run(capsys, "certify", str(p)))
    assert "g.safetensors" in err


def test_truncated_file(capsys, bb4_file, tmp_path) -> None:
    data = bb4_file.read_bytes()
    for n in (7, 100, len(data) - 5):
        p = tmp_path / f"t{n}.safetensors"
        p.write_bytes(data[:n])
        err = _one_line(*run(capsys, "certify", str(p)))
        assert "not a safetensors file" in err


def test_missing_file(capsys, tmp_path) -> None:
    err = _one_line(*run(capsys, "certify", str(tmp_path / "none.safetensors")))
    assert "no such file" in err


def test_foreign_safetensors(capsys, tmp_path) -> None:
    p = tmp_path / "foreign.safetensors"
    save_file({"weight": np.zeros((2, 2), dtype=np.float32)}, str(p))
    assert "field 'srcnn': missing" in _one_line(*run(capsys, "certify", str(p)))
    save_file({"weight": np.zeros(2, dtype=np.float32)}, str(p), metadata={"srcnn": "{oops"})
    assert "field 'srcnn':1:2: JSON syntax error" in _one_line(*run(capsys, "certify", str(p)))


@pytest.mark.parametrize("metadata, message", [
    ("[" * 5000 + "]" * 5000, "nested deeper than"),
    ('{"format": 1, "format": 2}', "duplicate key"),
    ('{"s": ' + "9" * 5000 + "}", "digits"),
])
def test_hostile_metadata_is_one_line(capsys, tmp_path, metadata, message) -> None:
    """The metadata JSON goes through the same limits as every other input (docs/limits.md)."""
    p = tmp_path / "hostile.safetensors"
    save_file({"weight": np.zeros(2, dtype=np.float32)}, str(p), metadata={"srcnn": metadata})
    for command in ("certify", "explain"):
        err = _one_line(*run(capsys, command, str(p)))
        assert message in err and len(err) < 700, (command, err)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null"])
def test_special_files_are_refused(capsys, special) -> None:
    err = _one_line(*run(capsys, "certify", special))
    assert "not a regular file" in err


def _drop(key):
    return lambda m: m.pop(key)


def _set(key, value):
    return lambda m: m.__setitem__(key, value)


@pytest.mark.parametrize("edit", [_drop("work_columns"), _set("work_columns", 0)])
def test_a_learner_file_needs_its_work_columns(capsys, tmp_path, edit) -> None:
    """The numpy client needs ``work_columns``; a file without it is not a valid weight file."""
    from constructions.learner import compile_library_learner

    path = tmp_path / "majority.safetensors"
    save_compiled(compile_library_learner("majority"), path)
    bad = edited(path, tmp_path / "bad.safetensors", meta=edit)
    assert "field 'work_columns'" in _one_line(*run(capsys, "certify", str(bad)))


@pytest.mark.parametrize("meta_edit, field", [
    (_drop("table"), "table"),
    (_drop("machine"), "machine"),
    (_drop("kind"), "kind"),
    (_drop("format"), "format"),
    (_set("format_version", 2), "format_version"),
    (_set("kind", "oracle"), "kind"),
    (_set("s", 5), "s"),
    (_set("hidden", [1, 2]), "hidden"),
    (_set("d_head", 3), "d_head"),
    (_set("machine", "1RB1LB_1LA0LC_1RZ1LD_1RD0RB"), "table"),
    (_set("machine", "no machine"), "machine"),
    (_set("dtype", "float64"), "dtype"),
    (_set("dtype", "int8"), "dtype"),
    (_set("padding", 1), "padding"),
    (lambda m: m["encoding"].reverse(), "encoding"),
    (lambda m: m["network"].__setitem__("patch_order", list("abcdefghi")),
     "network.patch_order"),
    (lambda m: m["start"].__setitem__("state", 1), "start"),
    (_drop("one_dimensional"), "one_dimensional"),  # found by the thorough fuzz run
    (_set("one_dimensional", False), "one_dimensional"),
    (_set("one_dimensional", 1), "one_dimensional"),
])
def test_bad_metadata_names_the_field(capsys, bb4_file, tmp_path, meta_edit, field) -> None:
    bad = edited(bb4_file, tmp_path / "m.safetensors", meta=meta_edit)
    err = _one_line(*run(capsys, "certify", str(bad)))
    assert f"field '{field}'" in err, err


@pytest.mark.parametrize("tensor_edit, what", [
    (lambda t: t.pop("A3"), "tensor 'A3': missing"),
    (lambda t: t.__setitem__("extra", np.zeros(1, dtype=np.float32)), "tensor 'extra'"),
    (lambda t: t.__setitem__("b2", t["b2"][:-1]), "tensor 'b2': shape"),
    (lambda t: t.__setitem__("A1", t["A1"][:, :8].copy()), "tensor 'A1': shape"),
    (lambda t: t.__setitem__("c1", t["c1"].astype(np.float64)), "field 'dtype'"),
    (lambda t: t["U1"].__setitem__((0, 0), np.inf), "non-finite"),
])
def test_bad_tensors_are_refused(capsys, bb4_file, tmp_path, tensor_edit, what) -> None:
    bad = edited(bb4_file, tmp_path / "t.safetensors", tensors=tensor_edit)
    err = _one_line(*run(capsys, "certify", str(bad)))
    assert what in err, err


def test_help_teaches(capsys) -> None:
    assert main(["certify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "every valid local view" in out and "Exit 0" in out


def _python_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    blocks, inside, cur = [], False, []
    for line in text.splitlines():
        if line.strip() == "```python":
            inside, cur = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(cur))
        elif inside:
            cur.append(line)
    return blocks


DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["weight_files.md", "certificates.md"])
def test_python_blocks_in_the_docs_run(page: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks(DOCS / page)
    assert blocks
    for code in blocks:
        exec(compile(code, f"{page}", "exec"), {"__name__": "__doc_block__"})  # noqa: S102


def test_the_numpy_client_of_the_docs_runs_machines_like_the_simulator(tmp_path) -> None:
    """The documented numpy-only client, on machines with halts, an undefined ('---')
    transition, two dimensions and a non-halting run, agrees with the reference."""
    from simulators.turing import HALT, trace

    block = next(b for b in _python_blocks(DOCS / "weight_files.md") if "def run_file" in b)
    ns: dict = {"__name__": "__doc_block__"}
    exec(compile(block, "weight_files.md", "exec"), ns)  # noqa: S102
    for name, steps in (("bb2", 20), ("bb3", 30), ("bb2_undefined", 10), ("grid_square", 40),
                        ("counter", 25)):
        machine = builtin_machines()[name]
        path = tmp_path / f"{name}.safetensors"
        save_compiled(compile_tm(machine), path)
        got = ns["run_file"](str(path), steps)
        *_, last = trace(machine, steps)
        halted = last.state == HALT or machine.transition(
            last.state, last.tape.get(last.head, 0)) is None
        assert got["steps"] == last.steps and got["halted"] == halted, name
        assert got["ones"] == sum(1 for a in last.tape.values() if a), name


@pytest.mark.parametrize("name, value", [
    ("A1", 1.7976931348623157e308), ("U1", 5e-324), ("c1", 2.0**-1070), ("A2", -1e300),
])
def test_extreme_weights_get_a_verdict(capsys, tmp_path, name, value) -> None:
    """Found by the thorough fuzz run: one weight near the ends of float64 overflowed the
    certificate's exact arithmetic (a shift by 2^1000+ in int64, an infinite float). Any
    finite weight gets a verdict: proven (exit 0) or a counterexample (exit 1)."""
    from constructions.tm import compile_tm
    from simulators.formats import load_machine

    src = tmp_path / "bb3.safetensors"
    save_compiled(compile_tm(load_machine("bb3")), src, "float64")
    bad = edited(src, tmp_path / "x.safetensors",
                 tensors=lambda t: t[name].reshape(-1).__setitem__(0, value))
    code, out, err = run(capsys, "certify", str(bad), "--json")
    assert code in (0, 1) and err == "" and json.loads(out)["proven"] == (code == 0)

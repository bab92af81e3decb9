"""The ``srcnn`` command line: engines agree, bad input is one line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings

from simulators.formats import format_bbchallenge
from srcnn.cli import main
from tests.machines import machines


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_issue_example_bb4_through_the_network(capsys):
    code, out, _ = run_cli(capsys, "simulate", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA", "--steps", "200",
                           "--engine", "rcnn", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["halted"] is True and record["steps"] == 107 and record["ones"] == 13
    assert set(record) == {"halted", "steps", "state", "head", "ones", "tape"}


@settings(max_examples=15)
@given(machines(max_states=4, max_symbols=3))
def test_engines_print_identical_json(machine):
    text = format_bbchallenge(machine)
    outs = []
    for engine, dtype in [("reference", "float32"), ("rcnn", "float32"), ("rcnn", "float64")]:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["simulate", text, "--steps", "60", "--engine", engine,
                         "--dtype", dtype, "--json"]) == 0
        outs.append(buf.getvalue())
    assert outs[0] == outs[1] == outs[2]


def test_exact_engine_and_show(capsys):
    code, out, _ = run_cli(capsys, "simulate", "bb2", "--engine", "exact", "--show", "--json")
    assert code == 0
    lines = out.strip().splitlines()
    assert json.loads(lines[-1])["steps"] == 6
    assert len(lines) == 1 + 7  # JSON + one line per configuration 0..6
    assert "[" in lines[0] and lines[-2].split()[1] == "Z"


def test_grid_machine_json_has_head_row(capsys):
    code, out, _ = run_cli(capsys, "simulate", "grid_square", "--engine", "rcnn", "--json")
    ref_code, ref_out, _ = run_cli(capsys, "simulate", "grid_square", "--json")
    assert code == ref_code == 0 and out == ref_out and "head_row" in json.loads(out)


@pytest.mark.parametrize("argv, fragment", [
    (["simulate", "1RB1LB_1LX"], "group 2"),
    (["simulate", "1RB1LB_1LA1R"], "expected 6"),
    (["simulate", "1RB3LB_1LA1RZ"], "symbol"),
    (["simulate", "no/such/file.yaml"], "no such file"),
    (["simulate", "bb4", "--steps", "-1"], "--steps must be >= 0"),
    (["simulate", "bb4", "--steps", "ten"], "must be an integer"),
    (["simulate", "bb4", "--steps", "10000000000"], "beyond the limit"),
    (["simulate", "bb5", "--steps", "2000000", "--engine", "rcnn"], "cell updates"),
    (["simulate", "bb4", "--engine", "gpu"], "invalid choice"),
    (["compile", "1RB---_"], "bbchallenge"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, fragment):
    code = main(argv)  # argparse errors included: main returns the code, never exits
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unreadable_machine_file(tmp_path, capsys):
    bad = tmp_path / "m.yaml"
    bad.write_text("states: [A\n")
    code, _, err = run_cli(capsys, "simulate", str(bad))
    assert code == 2 and "m.yaml" in err and len(err.strip().splitlines()) == 1


def test_compile_writes_safetensors(tmp_path, capsys):
    from constructions.export import load_compiled
    from constructions.tm import compile_tm
    from simulators.formats import builtin_machines

    path = tmp_path / "bb4.safetensors"
    code, out, _ = run_cli(capsys, "compile", "bb4", "-o", str(path), "--json")
    assert code == 0
    meta_cli = json.loads(out)
    tensors, meta = load_compiled(path)
    ctm = compile_tm(builtin_machines()["bb4"])
    assert meta["shared_parameters"] == meta_cli["shared_parameters"] == ctm.n_shared_parameters
    assert meta["machine"] == "1RB1LB_1LA0LC_1RZ1LD_1RD0RA" and meta["dtype"] == "float32"
    assert sum(t.size for t in tensors.values()) == ctm.n_shared_parameters
    for name, a in {**ctm.patch.arrays(), **ctm.head.arrays()}.items():
        assert [float(v) for v in a.ravel()] == tensors[name].ravel().tolist()


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "srcnn.cli", "simulate", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "bbchallenge" in out and "--engine" in out


def test_machine_string_starting_with_dashes(capsys):
    code, out, _ = run_cli(capsys, "simulate", "---1RZ", "--json")
    assert code == 0 and json.loads(out)["steps"] == 0
    code, out, _ = run_cli(capsys, "simulate", "1RB---_---1LA", "--steps", "3", "--json")
    assert code == 0 and json.loads(out)["steps"] == 1


def test_runtime_work_budget(capsys, monkeypatch):
    import srcnn.simulate_cmd as simulate_cmd

    monkeypatch.setattr(simulate_cmd, "MAX_RCNN_CELL_UPDATES", 10_000)
    code, _, err = run_cli(capsys, "simulate", "counter", "--steps", "5000", "--engine", "rcnn")
    assert code == 2 and "would exceed 10,000 cell updates" in err

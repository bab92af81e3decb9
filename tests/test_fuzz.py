"""The fuzz suite in CI: the ``ci`` profile in a process of its own (address-space limit,
per-case alarm), and tests that the contract judge can fail in every way it claims to.

``python -m tests.fuzz.runner --profile thorough`` runs 100,000 cases (docs/limits.md)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.cases import Case, cli_generic, subcommands, targets
from tests.fuzz.contract import BAD, run_case

ROOT = Path(__file__).resolve().parents[1]


def test_ci_profile_keeps_the_contract(tmp_path):
    """A few thousand hostile cases over every parser and subcommand: no traceback, no
    hang, no multi-line or unlocated error, no wrong answer, no safety-net catch."""
    report = tmp_path / "fuzz.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.runner", "--profile", "ci", "--quiet",
         "--json", str(report), "--failures", str(tmp_path / "failures")],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads(report.read_text())
    assert record["cases"] >= 2000 and not record["failures"]
    assert set(record["targets"]) >= {f"cli:{name}" for name in ("simulate", "compile",
                                                                  "circuit", "learn")}
    # every subcommand was reached, and cases ended both ways
    for name in subcommands():
        assert record["targets"].get(f"cli:{name}:argv", {}).get("refused", 0) > 0, name
    assert sum(t.get("ok", 0) for t in record["targets"].values()) > 200


def test_every_subcommand_has_a_target():
    names = set(subcommands())
    assert {"simulate", "compile", "verify", "circuit", "learn", "figures"} <= names
    assert {f"cli:{n}:argv" for n in names} <= set(targets())


def test_a_new_subcommand_is_fuzzed_by_its_arguments(tmp_path):
    """The generic generator builds argvs from any parser's actions, with one argument
    argparse must refuse, so a subcommand added later is covered without new code."""
    import random

    from srcnn.common import output_file, step_count

    p = argparse.ArgumentParser(prog="srcnn sweep")
    p.add_argument("machine")
    p.add_argument("--steps", type=step_count)
    p.add_argument("--report", type=output_file)
    p.add_argument("--mode", choices=("a", "b"))
    rng = random.Random(0)
    cases = [cli_generic(rng, "sweep", p) for _ in range(200)]
    for case in cases:
        assert case.argv[0] == "sweep"
        try:
            with contextlib.redirect_stderr(io.StringIO()), \
                    contextlib.redirect_stdout(io.StringIO()):
                p.parse_args(case.argv[1:])
        except SystemExit as e:
            assert e.code in (0, 2)
        else:
            raise AssertionError(f"argparse accepted {case.argv}: not forced invalid")


# --------------------------------------------------------------------------- the judge fails


def _raise(exc: BaseException):
    def call():
        raise exc
    return call


@pytest.mark.parametrize("case, outcome", [
    (Case("t", "x", call=_raise(KeyError("k")), allowed=(ValueError,)), "traceback"),
    (Case("t", "x", call=_raise(ValueError("a\nb")), allowed=(ValueError,),
          sources=("a",)), "multiline"),
    (Case("t", "x", call=_raise(ValueError("somewhere")), allowed=(ValueError,),
          sources=("f.yaml",)), "unlocated"),
    (Case("t", "x", call=_raise(ValueError("f.yaml: " + "x" * 2000)), allowed=(ValueError,),
          sources=("f.yaml",)), "long"),
    (Case("t", "x", call=_raise(ValueError("f.yaml:1:1: bad")), allowed=(ValueError,),
          sources=("f.yaml",)), "refused"),
    (Case("t", "x", call=lambda: 1), "ok"),
])
def test_judge_of_parser_calls(tmp_path, case, outcome):
    assert run_case(case, tmp_path, 10).outcome == outcome


def test_judge_catches_hangs(tmp_path):
    def forever():
        while True:
            pass
    result = run_case(Case("t", "x", call=forever), tmp_path, 0.5)
    assert result.outcome == "hang" and result.seconds < 5
    import time

    blocked = run_case(Case("t", "x", call=lambda: time.sleep(30)), tmp_path, 0.2)
    assert blocked.outcome == "hang" and blocked.seconds < 5  # the wall-time alarm


def test_judge_of_command_lines(tmp_path, monkeypatch):
    import srcnn.simulate_cmd as simulate_cmd

    ok = Case("cli:simulate", "", argv=["simulate", "bb2", "--json"],
              check=lambda out: None if json.loads(out)["steps"] == 6 else "wrong")
    assert run_case(ok, tmp_path, 30).outcome == "ok"
    wrong = Case("cli:simulate", "", argv=["simulate", "bb2", "--json"],
                 check=lambda out: "the answer disagrees")
    assert run_case(wrong, tmp_path, 30).outcome == "wrong"
    refused = Case("cli:simulate", "", argv=["simulate", "bb2", "--steps", "x"])
    assert run_case(refused, tmp_path, 30).outcome == "refused"

    def bug(*a, **kw):
        raise RuntimeError("a bug")

    monkeypatch.setitem(simulate_cmd.ENGINES, "reference", bug)
    assert run_case(Case("cli:simulate", "", argv=["simulate", "bb2"]),
                    tmp_path, 30).outcome == "guard"

    def two_lines(*a, **kw):
        print("first\nsecond", file=sys.stderr)
        return 2

    monkeypatch.setitem(simulate_cmd.ENGINES, "reference", two_lines)
    monkeypatch.setattr(simulate_cmd, "summarize", lambda m, c: {}, raising=False)
    assert run_case(Case("cli:simulate", "", argv=["simulate", "bb2"]),
                    tmp_path, 30).outcome in ("multiline", "guard")

    def surrogate(*a, **kw):
        print("\ud800")
        return None

    monkeypatch.setitem(simulate_cmd.ENGINES, "reference", surrogate)
    assert run_case(Case("cli:simulate", "", argv=["simulate", "bb2"]),
                    tmp_path, 30).outcome == "guard"  # the strict stdout made main fail


def test_bad_outcomes_are_all_named():
    assert set(BAD) == {"traceback", "guard", "hang", "multiline", "unlocated", "long",
                        "wrong", "exit", "unencodable", "memory"}

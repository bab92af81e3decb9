"""Every ```python block in docs/*.md runs as written.

Each block is executed on its own, in a fresh namespace, with the current directory a new
temporary directory and the repository on ``sys.path``, so a block must be self-contained
(define its data, import what it uses). A block that must not run (output, a shell session,
a sketch) uses another fence: ```text, ```console, or a bare ```. The blocks are found by
:func:`python_blocks`; a block that raises fails its test with the file and line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FENCE = re.compile(r"^```(\S*)\s*$")


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line, source)`` of every block fenced exactly ```python in the Markdown file
    ``path`` (line = the 1-based line of its first source line)."""
    blocks, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if j == len(lines):
            raise ValueError(f"{path.name}:{i + 1}: unclosed code fence")
        if lang == "python":
            blocks.append((start + 1, "\n".join(lines[start:j]) + "\n"))
        i = j + 1
    return blocks


BLOCKS = [(p, line, src) for p in sorted(DOCS.glob("*.md")) for line, src in python_blocks(p)]


def test_there_are_blocks_to_run():
    assert len(BLOCKS) >= 8
    assert {p.name for p, _, _ in BLOCKS} >= {"algorithm1.md", "parity_machine.md",
                                              "explain.md", "assembler.md"}


@pytest.mark.parametrize("path, line, source", BLOCKS,
                         ids=[f"{p.name}:{line}" for p, line, _ in BLOCKS])
def test_python_block_runs(path, line, source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(REPO), *sys.path])
    code = compile(source, f"{path.name}:{line}", "exec")
    namespace: dict = {"__name__": "__docs_example__"}
    exec(code, namespace)  # noqa: S102 -- the documented example, run as written


def test_the_block_finder_sees_fences(tmp_path):
    """The finder can fail: a python block is found with its line, other fences are not."""
    md = tmp_path / "x.md"
    md.write_text("text\n```python\nx = 1\n```\n```text\nnot code\n```\n```python\n"
                  "raise ValueError('boom')\n```\n")
    blocks = python_blocks(md)
    assert [line for line, _ in blocks] == [3, 9]
    with pytest.raises(ValueError, match="boom"):
        exec(compile(blocks[1][1], "x.md:9", "exec"), {})
    md.write_text("```python\nx = 1\n")
    with pytest.raises(ValueError, match="unclosed"):
        python_blocks(md)


@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_parity_answer_cell_is_as_documented(m, d, seed):
    """docs/parity_machine.md: the answer is written on the label column of row m - rank."""
    from simulators.datasets import random_dataset
    from simulators.learner_tape import load_learner_machine, run_learner
    from simulators.learners import fit_parity

    X, y = random_dataset(d, m, seed=seed)
    x = 1 - 2 * np.random.default_rng(seed).integers(0, 2, size=d)
    run = run_learner(load_learner_machine("parity"), X, y, x)
    assert run.answer_cell == (m - fit_parity(X, y).diagnostics.rank, d)

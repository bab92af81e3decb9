"""Checks of the paper's claims: each has an id, a paper reference, a method and parameters,
and returns a status with numeric evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PAPER_REFERENCE = re.compile(
    r"^(Definition 5|Lemma 1 \(1\)|Lemma 1 \(2\)|Theorem 1|Corollary 2|Observation 1|"
    r"Claim 1|Claim 2)( .*)?$"
)
METHODS = ("symbolic", "exhaustive", "property-based", "statistical")
MODES = ("quick", "thorough")


@dataclass
class Result:
    """What a check found: ``passed`` and the numbers that show it."""

    passed: bool
    evidence: dict[str, Any]
    key_figure: str = ""


@dataclass
class Check:
    id: str
    paper: str
    method: str
    title: str
    run: Callable[[str, int], Result]  # (mode, seed) -> Result
    params: Callable[[str], dict[str, Any]] = field(default=lambda mode: {})


REGISTRY: dict[str, Check] = {}


def check(id: str, paper: str, method: str, title: str,
          params: Callable[[str], dict[str, Any]] | None = None):
    """Register a check function ``f(mode, seed) -> Result`` under ``id``."""
    if not PAPER_REFERENCE.match(paper):
        raise ValueError(f"check {id}: paper reference {paper!r} is not of a recognised form")
    if method not in METHODS:
        raise ValueError(f"check {id}: method {method!r} not in {METHODS}")

    def register(f: Callable[[str, int], Result]) -> Callable[[str, int], Result]:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        REGISTRY[id] = Check(id, paper, method, title, f, params or (lambda mode: {}))
        return f

    return register

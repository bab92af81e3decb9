"""Explain a safetensors file written by ``srcnn compile -o`` (layout: docs/weight_files.md).

The machine (or learner) named in the file's metadata is compiled afresh and compared with
the stored weights entry by entry. When they are equal the explanation is the compiled one
(:func:`constructions.explain.explain_machine` / ``explain_learner``, with the compiler's
unit names); otherwise every unit is described from the stored weights alone and the
explanation says so, naming the first differing entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from constructions.explain import ExplainError, explain_learner, explain_machine
from constructions.patchnet import PixelHead


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightFile:
    """A safetensors file of ``srcnn compile``, read back: ``compiled`` is a fresh compile of
    the machine (or learner) named in its metadata, ``patch``/``head`` the stored weights
    (exact ``Fraction`` arrays), ``difference`` the first entry where they differ from the
    fresh compile (``""``: identical)."""

    path: str
    meta: dict
    compiled: Any
    patch: Any
    head: PixelHead
    difference: str

    @property
    def matches(self) -> bool:
        return not self.difference

    @property
    def note(self) -> str:
        if self.matches:
            return (f"{self.path}: the stored weights equal a fresh compile of the "
                    f"{'learner' if 'learner' in self.meta else 'machine'} in its metadata")
        return (f"{self.path}: the stored weights differ from a fresh compile of the machine "
                f"in its metadata ({self.difference}); the units below are described from "
                f"the stored weights alone, without the compiler's names")


def _frac_array(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    out.reshape(-1)[:] = [Fraction(float(v)) for v in a.reshape(-1)]
    return out


def _compile_from_meta(meta: dict, path: str):
    from constructions.learner import (
        LearnerError,
        compile_learner,
        compile_library_learner,
    )
    from constructions.tm import CompileError, compile_tm
    from simulators.formats import load_machine
    from simulators.learner_tape import LIBRARY_LEARNERS, LearnerTapeError
    from simulators.turing import MachineError

    text = meta.get("machine")
    if not isinstance(text, str):
        raise ExplainError(f"{path}: the metadata names no machine (field 'machine')")
    try:
        learner = meta.get("learner")
        if learner is None:
            return compile_tm(load_machine(text))
        if learner in LIBRARY_LEARNERS:
            return compile_library_learner(learner)
        return compile_learner(load_machine(text), str(learner), int(meta.get("work_columns", 1)))
    except (MachineError, CompileError, LearnerError, LearnerTapeError, ValueError) as e:
        raise ExplainError(f"{path}: the machine in the metadata cannot be compiled: {e}") \
            from None


def read_weight_file(path: str) -> WeightFile:
    """Read a safetensors file written by ``srcnn compile -o`` (layout: docs/weight_files.md)
    and compare it with a fresh compile; :class:`ExplainError` if it is not such a file."""


    from constructions.export import read_container
    from constructions.patchnet import PatchNetwork
    from simulators.inputs import InputError

    try:
        tensors, meta = read_container(path)
    except InputError as e:
        raise ExplainError(str(e)) from None
    names = ("A1", "b1", "A2", "b2", "A3", "b3", "U2", "c2", "U1", "c1")
    missing = [n for n in names if n not in tensors]
    if missing:
        raise ExplainError(f"{path}: missing tensor(s) {', '.join(missing)}")
    t = {n: np.asarray(tensors[n], dtype=np.float64) for n in names}
    h1, h2 = t["A1"].shape[0] if t["A1"].ndim == 2 else -1, t["A2"].shape[0]
    want = {"A1": (h1, 9), "b1": (h1,), "A2": (h2, h1), "b2": (h2,), "A3": (1, h2), "b3": (1,)}
    d = t["U2"].shape[0]
    want.update({"U2": (d, 1), "c2": (d,), "U1": (1, d), "c1": (1,)})
    for n, shape in want.items():
        if t[n].shape != shape:
            raise ExplainError(f"{path}: tensor {n} has shape {t[n].shape}, expected {shape}")
        if not np.all(np.isfinite(t[n])):
            raise ExplainError(f"{path}: tensor {n} holds a non-finite value")
    compiled = _compile_from_meta(meta, str(path))
    fresh = {**compiled.patch.arrays(), **compiled.head.arrays()}
    difference = ""
    for n in names:
        if fresh[n].shape != t[n].shape:
            difference = f"{n} has shape {t[n].shape}, a fresh compile {fresh[n].shape}"
            break
        ref = np.array([float(v) for v in fresh[n].ravel()]).reshape(fresh[n].shape)
        bad = np.argwhere(ref != t[n])
        if len(bad):
            idx = tuple(int(i) for i in bad[0])
            difference = (f"first difference: {n}{list(idx)} = {t[n][idx]:g}, "
                          f"compiled {ref[idx]:g}")
            break
    patch = PatchNetwork(*(_frac_array(t[n]) for n in names[:6]), units1=(), units2=())
    head = PixelHead(*(_frac_array(t[n]) for n in names[6:]))
    return WeightFile(str(path), meta, compiled, patch, head, difference)


def explain_weight_file(path: str) -> dict[str, Any]:
    """:func:`explain_machine` / :func:`explain_learner` of the file's machine; units from the
    compiler when the stored weights equal a fresh compile, else from the weights alone."""
    wf = read_weight_file(path)
    if "learner" in wf.meta:
        if wf.matches:
            return explain_learner(wf.compiled, note=wf.note)
        return explain_learner(wf.compiled, note=wf.note, net=wf.patch, head=wf.head)
    if wf.matches:
        return explain_machine(wf.compiled, note=wf.note)
    return explain_machine(wf.compiled, note=wf.note, net=wf.patch, head=wf.head)

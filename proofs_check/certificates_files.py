"""Certificates of weight files and of compiled networks: ``srcnn certify``'s engine.

:func:`read_weight_file` validates a safetensors file on its own (tensor names, shapes,
dtypes, finiteness, and a complete, self-consistent metadata record, docs/weight_files.md)
and raises :class:`WeightFileError` naming the first bad field. :func:`certify_weights`
reads the rule from the metadata alone (the machine, the learner's cell values, the circuit
interpreter's semantics, an ECA rule number), builds the valid views
(:mod:`proofs_check.certificates_views`) and proves the patch network and the head right on
all of them (:mod:`proofs_check.certificates`), or returns the first counterexample. It
does not care what made the weights: compiled here, edited by hand or trained by SGD.

:func:`certify_compiled` certifies a compiled object through the very same path (metadata
built by :func:`constructions.export.export_metadata`, then validated);
:func:`certify_machine` is the one-call verdict for a machine (sweeps).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from constructions.export import (
    FORMAT,
    FORMAT_VERSION,
    HEAD_TENSORS,
    PATCH_TENSORS,
    export_metadata,
    weight_arrays,
)
from constructions.patchnet import POSITION_NAMES
from proofs_check.certificates import PartResult, certify_head, certify_patch
from proofs_check.certificates_views import (
    HeadSpec,
    LearnerValues,
    ViewSet,
    circuit_head,
    circuit_views,
    eca_views,
    learner_head,
    learner_layer1_views,
    learner_step_views,
    tm_head,
    tm_views,
)
from simulators.turing import TuringMachine

KINDS = ("turing-machine", "learner", "circuit-interpreter", "elementary-ca")
DTYPES = ("float16", "float32", "float64")


class WeightFileError(ValueError):
    """The file is not a valid weight file; the message names the field (one line)."""


@dataclass
class WeightFile:
    """A validated weight file: float64 copies of the tensors, the dtype and the metadata."""

    path: str
    tensors: dict[str, np.ndarray]
    dtype: str
    meta: dict[str, Any]
    machine: TuringMachine | None = None
    values: LearnerValues | None = None

    @property
    def kind(self) -> str:
        return self.meta["kind"]


# --------------------------------------------------------------------------- reading
def read_weight_file(path: str | Path) -> WeightFile:
    """Read and validate ``path`` (:class:`WeightFileError` on the first problem)."""
    from constructions.export import read_container
    from simulators.inputs import InputError, source_label

    try:
        tensors, meta = read_container(path)
    except InputError as e:
        raise WeightFileError(str(e)) from None
    return validate(tensors, meta, source_label(path))


def _field(meta: dict, name: str, where: str, kind: type | tuple = object) -> Any:
    if name not in meta:
        raise WeightFileError(f"{where}: field '{name}': missing")
    value = meta[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise WeightFileError(f"{where}: field '{name}': expected {want}, got "
                              f"{type(value).__name__}")
    return value


def _require(cond: bool, where: str, name: str, message: str) -> None:
    if not cond:
        raise WeightFileError(f"{where}: field '{name}': {message}")


def validate(tensors: dict[str, np.ndarray], meta: dict[str, Any], where: str) -> WeightFile:
    """Check tensors and metadata against each other and the format; return the file."""
    fmt = _field(meta, "format", where, str)
    _require(fmt == FORMAT, where, "format", f"expected {FORMAT!r}, got {fmt!r}")
    version = _field(meta, "format_version", where, int)
    _require(version == FORMAT_VERSION, where, "format_version",
             f"this reader knows version {FORMAT_VERSION}, the file says {version}")
    kind = _field(meta, "kind", where, str)
    _require(kind in KINDS, where, "kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    dtype = _field(meta, "dtype", where, str)
    _require(dtype in DTYPES, where, "dtype", f"{dtype!r} is not one of {', '.join(DTYPES)}")
    names = set(PATCH_TENSORS) | set(HEAD_TENSORS)
    for name in sorted(names - set(tensors)):
        raise WeightFileError(f"{where}: tensor '{name}': missing")
    for name in sorted(set(tensors) - names):
        raise WeightFileError(f"{where}: tensor '{name}': unexpected (the format has "
                              f"{', '.join(PATCH_TENSORS + HEAD_TENSORS)})")
    for name in PATCH_TENSORS + HEAD_TENSORS:
        got = str(tensors[name].dtype)
        _require(got == dtype, where, "dtype", f"says {dtype} but tensor {name} is {got}")
    h1, h2 = tensors["A1"].shape[0] if tensors["A1"].ndim == 2 else -1, \
        tensors["A2"].shape[0] if tensors["A2"].ndim == 2 else -1
    dh = tensors["U2"].shape[0] if tensors["U2"].ndim == 2 else -1
    shapes = {"A1": (h1, 9), "b1": (h1,), "A2": (h2, h1), "b2": (h2,), "A3": (1, h2),
              "b3": (1,), "U2": (dh, 1), "c2": (dh,), "U1": (1, dh), "c1": (1,)}
    for name, want in shapes.items():
        got = tuple(tensors[name].shape)
        if got != want or min(want) < 1:
            raise WeightFileError(f"{where}: tensor '{name}': shape {list(got)}, expected "
                                  f"{list(want)} (from A1 {list(tensors['A1'].shape)}, A2 "
                                  f"{list(tensors['A2'].shape)}, U2 {list(tensors['U2'].shape)})")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
    for name, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise WeightFileError(f"{where}: tensor '{name}': holds a non-finite value")
    hidden = _field(meta, "hidden", where, list)
    _require(hidden == [h1, h2], where, "hidden", f"says {hidden} but the tensors have "
                                                  f"{[h1, h2]}")
    d_head = _field(meta, "d_head", where, int)
    _require(d_head == dh, where, "d_head", f"says {d_head} but U2 has {dh} rows")
    net = _field(meta, "network", where, dict)
    _require(net.get("patch_order") == list(POSITION_NAMES), where, "network.patch_order",
             f"must be {list(POSITION_NAMES)}")
    _require(net.get("tensors") == {k: list(v) for k, v in shapes.items()}, where,
             "network.tensors", "the recorded shapes differ from the tensors'")
    _require(isinstance(net.get("padding"), (int, float)), where, "network.padding",
             "missing or not a number")
    wf = WeightFile(where, arrays, dtype, meta)
    _CHECK_KIND[kind](wf)
    return wf


def parse_machine_field(meta: dict, where: str) -> TuringMachine:
    """The machine of the metadata (bbchallenge text or a JSON machine document; never a
    path or a built-in name)."""
    from simulators.formats import machine_from_dict, parse_bbchallenge
    from simulators.turing import MachineError

    text = _field(meta, "machine", where, str)
    try:
        if text.lstrip().startswith("{"):
            return machine_from_dict(json.loads(text), "metadata")
        return parse_bbchallenge(text.strip(), name=str(meta.get("name", "")))
    except (MachineError, json.JSONDecodeError, ValueError) as e:
        raise WeightFileError(f"{where}: field 'machine': {str(e).splitlines()[0]}") from None


def _check_table(meta: dict, machine: TuringMachine, where: str) -> None:
    from constructions.tm import MOVE_DELTAS, table_digits

    _require(meta.get("table") == table_digits(machine), where, "table",
             "missing or contradicts the machine")
    _require(meta.get("moves") == MOVE_DELTAS, where, "moves", f"must be {MOVE_DELTAS}")
    s = _field(meta, "s", where, int)
    k = _field(meta, "k", where, int)
    _require((s, k) == (machine.n_states, machine.n_symbols), where, "s",
             f"s={s}, k={k} but the machine has {machine.n_states} states and "
             f"{machine.n_symbols} symbols")


def _check_tm(wf: WeightFile) -> None:
    meta, where = wf.meta, wf.path
    machine = parse_machine_field(meta, where)
    _check_table(meta, machine, where)
    s, k = machine.n_states, machine.n_symbols
    want = [["symbol", k, 1], ["head", 2, k], ["state", s + 1, 2 * k]]
    got = [[f.get("field"), f.get("radix"), f.get("scale")]
           for f in _field(meta, "encoding", where, list) if isinstance(f, dict)]
    _require(got == want, where, "encoding", f"expected fields {want}, got {got}")
    _require(meta.get("padding") == 0 and meta["network"]["padding"] == 0, where, "padding",
             "a Turing-machine file pads with code 0 (blank, no head)")
    start = _field(meta, "start", where, dict)
    _require(start.get("state") == 0 and start.get("code") == k, where, "start",
             f"the head starts in state 0 on a blank cell (code {k})")
    one_d = _field(meta, "one_dimensional", where, bool)
    _require(one_d == machine.is_one_dimensional, where, "one_dimensional",
             f"says {str(one_d).lower()} but the machine "
             f"{'only' if machine.is_one_dimensional else 'not only'} moves L and R")
    for name in ("halt", "readout"):
        _field(meta, name, where, str)
    wf.machine = machine


def learner_values(meta: dict, dtype: str, where: str) -> LearnerValues:
    """The learner's cell values from the metadata; ``1/3`` is the learning rate rounded to
    ``dtype``, which is what SGD writes into ``W`` (``lr * (+-1)``)."""
    vals = _field(meta, "values", where, dict)
    try:
        nums = {k: Fraction(str(vals[k])) for k in ("padding", "carrier", "empty",
                                                    "code_offset")}
        lr = Fraction(str(_field(meta, "learning_rate", where, str)))
    except (KeyError, ValueError, ZeroDivisionError) as e:
        raise WeightFileError(f"{where}: field 'values': bad or missing entry ({e})") from None
    import torch

    from proofs_check.certificates import TORCH_DTYPES

    third = float(torch.tensor(float(lr), dtype=TORCH_DTYPES[dtype]))
    v = LearnerValues(float(nums["padding"]), third, float(nums["carrier"]),
                      float(nums["empty"]), float(nums["code_offset"]))
    raw = {v.pad, -third, 0.0, third, 1.0}
    _require(len(raw) == 5, where, "values", "padding collides with a raw memory value")
    _require(float(meta["network"]["padding"]) == v.pad, where, "network.padding",
             "differs from values.padding")
    return v


def _check_learner(wf: WeightFile) -> None:
    from simulators.learner_tape import TAPE_SYMBOLS

    meta, where = wf.meta, wf.path
    machine = parse_machine_field(meta, where)
    _check_table(meta, machine, where)
    symbols = _field(meta, "symbols", where, list)
    _require(symbols == list(machine.symbol_names), where, "symbols",
             "contradicts the machine's alphabet")
    _require(tuple(symbols[:len(TAPE_SYMBOLS)]) == TAPE_SYMBOLS, where, "symbols",
             f"a learner's alphabet starts with {' '.join(TAPE_SYMBOLS)}")
    v = learner_values(meta, wf.dtype, where)
    k = machine.n_symbols
    codes = {v.offset + c for c in range(2 * k * (machine.n_states + 1))}
    _require(not ({v.carrier, v.empty, v.pad} & codes) and len({v.carrier, v.empty, v.pad}) == 3,
             where, "values", "carrier, empty and padding must differ from each other and "
                              "from every code")
    for name in ("memory", "dummy_example", "start"):
        _field(meta, name, where, dict)
    for name in ("halt", "readout", "layers", "sgd"):
        _field(meta, name, where, str)
    if meta.get("time_bound") is not None:
        _field(meta, "time_bound", where, str)
    _require(isinstance(meta.get("work_columns"), int) and not isinstance(
        meta.get("work_columns"), bool) and meta["work_columns"] >= 1, where, "work_columns",
        "missing, or not a positive integer (the l work columns beside the memory)")
    wf.machine, wf.values = machine, v


def _check_circuit(wf: WeightFile) -> None:
    from constructions.circuit import universal_machine

    meta, where = wf.meta, wf.path
    ref = universal_machine().metadata()
    for name in ("encoding", "kinds", "capacity", "routes", "padding", "code_formula"):
        _require(meta.get(name) == ref[name], where, name,
                 "does not match the circuit interpreter's cell semantics")
    _require(meta["network"]["padding"] == 0, where, "network.padding", "must be 0 (empty)")


def _check_eca(wf: WeightFile) -> None:
    meta, where = wf.meta, wf.path
    rule = _field(meta, "rule", where, int)
    _require(0 <= rule <= 255, where, "rule", f"{rule} is not an elementary CA rule (0..255)")
    _require(meta["network"]["padding"] == 0, where, "network.padding", "must be 0")


_CHECK_KIND = {"turing-machine": _check_tm, "learner": _check_learner,
               "circuit-interpreter": _check_circuit, "elementary-ca": _check_eca}


# --------------------------------------------------------------------------- certifying
@dataclass
class Certificate:
    """What was proven about a weight file (or the first counterexample)."""

    kind: str
    rule: str
    dtype: str
    parts: list[PartResult]
    statement: str
    seconds: float = 0.0
    file: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def proven(self) -> bool:
        return all(p.proven for p in self.parts)

    @property
    def views(self) -> int:
        return sum(p.views for p in self.parts)

    @property
    def counterexample(self) -> dict[str, Any] | None:
        for p in self.parts:
            if p.counterexample:
                return {"part": p.name, **p.counterexample}
        return None

    @property
    def unproven(self) -> str:
        return "; ".join(f"{p.name}: {p.unproven}" for p in self.parts if p.unproven)

    @property
    def how(self) -> str:
        """``any order`` when every view was proven symbolically, else what was enumerated."""
        n = sum(p.views_enumerated for p in self.parts)
        if not n:
            return f"exact in {self.dtype} in every summation order"
        return (f"exact in {self.dtype}; {n:,} views checked with the executor's own "
                f"arithmetic (torch CPU addmm/addmv), the rest in every summation order")

    def to_json(self) -> dict[str, Any]:
        out = {"file": self.file, "kind": self.kind, "rule": self.rule, "dtype": self.dtype,
               "proven": self.proven, "views": self.views,
               "parts": {p.name: p.summary() for p in self.parts},
               "seconds": round(self.seconds, 3), **self.extra}
        if self.proven:
            out["statement"] = self.statement
            out["how"] = self.how
        elif self.counterexample:
            out["counterexample"] = self.counterexample
        else:
            out["unproven"] = self.unproven
        return out


def _reads(arrays: dict[str, np.ndarray]) -> list[int]:
    return [int(q) for q in np.flatnonzero(np.any(arrays["A1"] != 0, axis=0))]


def _run(arrays: dict[str, np.ndarray], dtype: str, views: list[ViewSet],
         head: HeadSpec) -> list[PartResult]:
    parts = []
    for vs in views:
        res = certify_patch(arrays, dtype, vs.families, name=vs.name)
        parts.append(res)
        if not res.proven:
            return parts  # the first counterexample is the answer
    parts.append(certify_head(arrays, dtype, head.values, head.targets, head.slopes))
    return parts


def certify_weights(wf: WeightFile) -> Certificate:
    """Prove the file's network on every valid view of its rule (module docstring)."""
    start = time.perf_counter()
    arrays, dtype, meta = wf.tensors, wf.dtype, wf.meta
    reads = _reads(arrays)
    if wf.kind == "turing-machine":
        m = wf.machine
        text = meta["machine"] if "\n" not in meta["machine"] else (m.name or "machine")
        rule = f"Turing machine {text} (s={m.n_states}, k={m.n_symbols})"
        views, head = [tm_views(m, reads)], tm_head(m)
        statement = ("on every valid view (at most one head among the 9 cells, in any state "
                     "including Z, on any symbols; padding = blank) the network returns the "
                     "reference simulator's next centre code, so by induction every rollout "
                     "from every valid configuration is the machine's, step for step, halted "
                     "or not; the head is 1 exactly on non-blank cells")
    elif wf.kind == "learner":
        m, v = wf.machine, wf.values
        rule = f"learner {meta.get('learner', m.name)} (s={m.n_states}, k={m.n_symbols})"
        views = [learner_layer1_views(m, v, reads), learner_step_views(m, v, reads)]
        head = learner_head(m, v)
        statement = ("layer 1 converts every valid memory view to its learner-tape code (with "
                     "Jacobian e_c on carrier views); layers 2..L step the machine on every "
                     "valid view (at most one head) and keep carrier (Jacobian e_c) and empty "
                     "cells; the head reads +-1 on answers and slope 1 on the carrier: Lemma "
                     "1 (1) (SGD writes each example) and (2) (the machine runs) hold in float "
                     "for every m, d")
    elif wf.kind == "circuit-interpreter":
        rule = "circuit interpreter (sender-driven cells, 24 codes)"
        views, head = [circuit_views(reads)], circuit_head()
        statement = ("on every view whose centre has no more senders than its kind allows, "
                     "the network returns the centre's kind and route with s = the number of "
                     "senders holding a 1; the head reads 1 on OUT cells holding 1")
    else:
        r = int(meta["rule"])
        rule = f"elementary CA rule {r}"
        views, head = [eca_views(r, reads)], HeadSpec(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
        statement = f"on every 0/1 view the network returns rule {r} of (west, centre, east)"
    parts = _run(arrays, dtype, views, head)
    return Certificate(wf.kind, rule, dtype, parts, statement, time.perf_counter() - start,
                       wf.path)


def certify_file(path: str | Path) -> Certificate:
    """Read, validate and certify a weight file (:class:`WeightFileError` if invalid)."""
    return certify_weights(read_weight_file(path))


def compiled_weight_file(compiled, dtype: str = "float32", name: str = "<memory>"
                         ) -> WeightFile:
    """A compiled machine, learner or the circuit interpreter as a validated weight file,
    built by the exporter's own functions (the path ``srcnn compile -o`` takes)."""
    tensors = weight_arrays(compiled, dtype)
    meta = json.loads(json.dumps(export_metadata(compiled, dtype, name)))
    return validate(tensors, meta, name)


def certify_compiled(compiled, dtype: str = "float32", name: str = "<memory>") -> Certificate:
    """:func:`certify_weights` of :func:`compiled_weight_file`."""
    return certify_weights(compiled_weight_file(compiled, dtype, name))


def certify_machine(machine: TuringMachine, dtype: str = "float32",
                    cheap: bool = True) -> dict[str, Any]:
    """The verdict for one machine, for sweeps: compile it and prove it on every valid view.

    Returns ``{"proven", "views", "seconds", "how"}`` plus ``"counterexample"`` or
    ``"unproven"``; a machine the compiler refuses gets ``{"proven": False, "refused": ...}``.

    With ``cheap`` (the default), a compiled network whose ``A1`` reads only the 5 cross
    cells and whose proven mantissa bound (:func:`constructions.patchnet.bits_needed`: exact
    in every summation order) fits ``dtype`` is checked by evaluating it once on each of the
    ``k^5 + 5k(s+1)k^4`` views (float64 = exact there) against the reference: the same
    statement, in milliseconds for small machines. Anything else, and any disagreement,
    goes through the full certificate (a test checks both agree)."""
    from constructions.tm import CompileError, compile_tm

    start = time.perf_counter()
    try:
        ctm = compile_tm(machine)
        ctm.check_dtype(dtype)
    except CompileError as e:
        return {"proven": False, "refused": str(e), "seconds": time.perf_counter() - start}
    arrays = {k: v.astype(np.float64) for k, v in weight_arrays(ctm, dtype).items()}
    reads = _reads(arrays)
    if cheap and set(reads) <= {4, 1, 7, 3, 5}:
        from proofs_check.certificates_exact import MANTISSA

        if ctm.bits <= MANTISSA[dtype]:
            views = tm_views(machine, reads)
            ok, n = True, 0
            for fam in views.families:
                for r in range(len(fam.rows)):
                    x, want = fam.row_views(r)
                    h = np.maximum(x @ arrays["A1"].T + arrays["b1"], 0)
                    h = np.maximum(h @ arrays["A2"].T + arrays["b2"], 0)
                    ok &= bool(np.array_equal(h @ arrays["A3"][0] + arrays["b3"][0], want))
                    n += len(x)
            head = tm_head(machine)
            hh = np.maximum(head.values[:, None] * arrays["U2"][:, 0] + arrays["c2"], 0)
            ok &= bool(np.array_equal(hh @ arrays["U1"][0] + arrays["c1"][0], head.targets))
            if ok:
                return {"proven": True, "views": n + len(head.values),
                        "seconds": round(time.perf_counter() - start, 4),
                        "how": f"every view evaluated; exact in {dtype} in every order by the "
                               f"compiler's bound ({ctm.bits} bits)"}
    parts = _run(arrays, dtype, [tm_views(machine, reads)], tm_head(machine))
    cert = Certificate("turing-machine", "", dtype, parts, "")
    out: dict[str, Any] = {"proven": cert.proven, "views": cert.views,
                           "seconds": round(time.perf_counter() - start, 4),
                           "how": cert.how}
    if cert.counterexample:
        out["counterexample"] = cert.counterexample
    elif not cert.proven:
        out["unproven"] = cert.unproven
    return out


__all__ = ["Certificate", "WeightFile", "WeightFileError", "certify_compiled",
           "certify_file", "certify_machine", "certify_weights", "compiled_weight_file",
           "read_weight_file", "validate"]

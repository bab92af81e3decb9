"""Check every machine of a class (s states, k symbols, moves L/R): the per-machine check and
the chunk function that a sweep (:mod:`sweeps`) runs on index ranges.

Paper: §4.2 "Computation" (Lemma 1 (2)): one shared patch-network layer performs one step of
*any* machine. ``tm-step-exhaustive-2x2`` checks it for every 2x2 table; this module does the
same for any class, one machine at a time, so that a sweep can spread the class over workers.

The per-machine check is ONE pluggable function, :data:`MACHINE_CHECKS` ``[name]``: a
``TuringMachine -> str | None`` (``None``: the machine passes; otherwise the reason it fails).
Today there is one, ``"local-views"``: the compiled patch network, run in float64, returns the
reference's next centre code on every valid local view (:mod:`proofs_check.local_views`),
which proves every rollout right by induction. Another check (e.g. a certificate) is one more
entry; a check may also name a fast path that reads the table as mixed-radix digits.

The fast path of ``local-views`` (:func:`local_views_fast`) computes the same thing from the
same definitions with the per-class work cached, and is checked bit for bit against the
literal path in ``tests/test_sweep_fast.py``:

* weights: :func:`constructions.tm_fast.compile_tm_arrays` (the literal ``compile_tm`` arrays,
  entry for entry);
* arithmetic: numpy float64 instead of the torch module. Every weight of every network of
  the class is an integer and the views hold integer codes, so when a class-wide bound on
  every partial sum is below 2^53 (``ClassStructure.float64_exact``, 2^12 or so for 3x2)
  every partial sum is an integer that float64 holds exactly, in any order; the fast path
  fails every machine of a class for which this does not hold;
* oracle: the reference's next centre code of a view depends on the machine only through
  the one transition at the head's (state, symbol), so it is read from a per-class table
  built by :func:`proofs_check.local_views.expected_centres` once per entry choice.
"""

from __future__ import annotations

import functools
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulators.sampling import all_transitions, machine_at, machine_digits, n_machines
from simulators.turing import TuringMachine

MachineCheck = Callable[[TuringMachine], "str | None"]
FastCheck = Callable[[int, int, list[int]], "str | None"]


@dataclass(frozen=True)
class MachineClass:
    """All transition tables of s-state k-symbol 1-D machines (moves L and R)."""

    s: int
    k: int

    @property
    def name(self) -> str:
        return f"{self.s}x{self.k}"

    @property
    def size(self) -> int:
        return n_machines(self.s, self.k)


MAX_CLASS_STATES, MAX_CLASS_SYMBOLS = 6, 4


def parse_class(text: str) -> MachineClass:
    """``"3x2"`` -> MachineClass(3, 2); ValueError naming the problem otherwise."""
    try:
        s_text, k_text = text.lower().split("x")
        s, k = int(s_text), int(k_text)
    except ValueError:
        raise ValueError(f"unknown class {text!r}: expected STATESxSYMBOLS, e.g. 2x2 or 3x2"
                         ) from None
    if not (1 <= s <= MAX_CLASS_STATES and 2 <= k <= MAX_CLASS_SYMBOLS):
        raise ValueError(f"unknown class {text!r}: states must be 1..{MAX_CLASS_STATES} and "
                         f"symbols 2..{MAX_CLASS_SYMBOLS}")
    return MachineClass(s, k)


# --------------------------------------------------------------------------- local views
@functools.cache
def _views(s: int, k: int):
    from constructions.tm import tm_encoding
    from proofs_check.local_views import local_views

    enc = tm_encoding(s, k)
    patches, keys = local_views(enc, s, k)
    return enc, patches, keys


def local_views_literal(machine: TuringMachine) -> str | None:
    """The literal check, as ``tm-step-exhaustive-2x2`` does it: ``compile_tm``, the torch
    patch network in float64 on every valid local view, compared with the reference."""
    import torch

    from constructions.engine import network_model
    from constructions.tm import compile_tm
    from proofs_check.local_views import CORNERS, expected_centres

    enc, patches, keys = _views(machine.n_states, machine.n_symbols)
    ctm = compile_tm(machine)
    if ctm.patch.A1[:, list(CORNERS)].any():
        return "the patch network reads a corner of the patch"
    with torch.no_grad():
        got = network_model(ctm, "float64").patch_network(torch.from_numpy(patches)).numpy()
    return _compare(got, expected_centres(machine, enc, patches, keys), patches)


def _compare(got: np.ndarray, want: np.ndarray, patches: np.ndarray) -> str | None:
    bad = np.flatnonzero(got != want)
    if len(bad) == 0:
        return None
    i = int(bad[0])
    return (f"{len(bad)} of {len(want)} local views wrong, first: patch "
            f"{patches[i].astype(int).tolist()} -> {got[i]!r}, reference {want[i]!r}")


@functools.cache
def _oracle(s: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(E, entry): E[i, c] is view i's reference next centre when the head's entry is choice
    c; entry[i] is the table entry ``q * k + a`` that view i reads (-1: none)."""
    from proofs_check.local_views import expected_centres

    enc, patches, keys = _views(s, k)
    choices = all_transitions(s, k)
    cols = [expected_centres(TuringMachine(s, k, tuple((tr,) * k for _ in range(s))),
                             enc, patches, keys) for tr in choices]
    entry = np.array([-1 if key is None or key[1] == s else key[1] * k + key[2]
                      for key in keys], dtype=np.int64)
    return np.stack(cols, axis=1), entry


def local_views_fast(s: int, k: int, digits: list[int]) -> str | None:
    """:func:`local_views_literal` for machine ``digits`` from cached per-class pieces."""
    from constructions.tm_fast import class_structure, compile_tm_arrays
    from proofs_check.local_views import CORNERS

    _, patches, _ = _views(s, k)
    integral, bound = class_structure(s, k).float64_exact()
    if not integral or bound >= 2.0**53:
        return "float64 is not provably exact for the networks of this class"
    a = compile_tm_arrays(s, k, digits)
    if a["A1"][:, list(CORNERS)].any():
        return "the patch network reads a corner of the patch"
    h = np.maximum(patches @ a["A1"].T + a["b1"], 0.0)
    h = np.maximum(h @ a["A2"].T + a["b2"], 0.0)
    got = h @ a["A3"][0] + a["b3"][0]
    E, entry = _oracle(s, k)
    choice = np.asarray(digits, dtype=np.int64)[entry]
    choice[entry < 0] = 0
    return _compare(got, E[np.arange(len(entry)), choice], patches)


# --------------------------------------------------------------------------- certificates
def certificate_literal(machine: TuringMachine) -> str | None:
    """The certificate of docs/certificates.md for the machine's compiled float32 network
    (:func:`proofs_check.certificates_files.certify_machine`): ``None`` when it is proven on
    every valid view, exact in float32 in every summation order; otherwise why not."""
    from proofs_check.certificates_files import certify_machine

    verdict = certify_machine(machine, "float32")
    if verdict["proven"]:
        return None
    for key in ("counterexample", "unproven", "refused"):
        if key in verdict:
            return f"not certified ({key}): {verdict[key]}"
    return "not certified"


@functools.cache
def _class_head_reason(s: int, k: int) -> str | None:
    """The pixel head of ``compile_tm`` depends on (s, k) only (it counts the codes whose
    symbol is not blank), so it is certified once per class: evaluated in float32 on every
    code against the certificate's head specification."""
    from constructions.export import weight_arrays
    from constructions.tm import compile_tm
    from proofs_check.certificates_views import tm_head

    machine = machine_at(0, s, k)
    a = {n: v.astype(np.float32) for n, v in weight_arrays(compile_tm(machine)).items()}
    spec = tm_head(machine)
    v = spec.values.astype(np.float32)
    h = np.maximum(v[:, None] * a["U2"][:, 0] + a["c2"], np.float32(0))
    got = h @ a["U1"][0] + a["c1"][0]
    if not np.array_equal(got.astype(np.float64), spec.targets):
        return "the class's pixel head does not count the non-blank cells"
    return None


def certificate_fast(s: int, k: int, digits: list[int]) -> str | None:
    """:func:`certificate_literal` from cached per-class pieces: the same statement, proven
    the same way where it matters and by a class-wide bound where it does not.

    * every valid view: :func:`local_views_fast` (the literal ``compile_tm`` weights, every
      view with at most one head among the cells read, corners unread, compared with the
      reference's next centre in float64, exact there);
    * exact in float32 in every summation order: every weight of every network of the class
      is an integer and every partial sum on codes is bounded by ``float64_exact``'s bound;
      below ``2^24`` every partial sum is an integer float32 holds exactly, in any order
      (the certificate uses each machine's own ``bits_needed`` for the same conclusion);
    * the head: once per class (:func:`_class_head_reason`).
    A test checks the verdicts against :func:`certificate_literal` on samples, failures
    included."""
    from constructions.tm_fast import class_structure

    integral, bound = class_structure(s, k).float64_exact()
    if not integral or bound >= 2.0**24:
        return certificate_literal(machine_at(machine_index_of(s, k, digits), s, k))
    reason = local_views_fast(s, k, digits)
    if reason is not None:
        return f"not certified: {reason}"
    return _class_head_reason(s, k)


def machine_index_of(s: int, k: int, digits: list[int]) -> int:
    """The class index of the table with these digits (the inverse of ``machine_digits``)."""
    radix, index = len(all_transitions(s, k)), 0
    for c in digits:
        index = index * radix + int(c)
    return index


MACHINE_CHECKS: dict[str, tuple[MachineCheck, FastCheck | None]] = {
    "certificate": (certificate_literal, certificate_fast),
    "local-views": (local_views_literal, local_views_fast),
}
"""Check name -> (per-machine check, optional fast path on (s, k, digits)). A new check is
one entry here; DEFAULT_CHECK picks the default."""
DEFAULT_CHECK = "certificate"


# --------------------------------------------------------------------------- chunks
@functools.cache
def sample_indices(size: int, n: int, seed: int) -> tuple[int, ...]:
    """``n`` distinct machine indices of a class of ``size`` tables, seeded, ascending."""
    return tuple(sorted(random.Random(seed).sample(range(size), n)))


def check_chunk(s: int, k: int, start: int, stop: int, check: str = DEFAULT_CHECK,
                sample: tuple[int, int] | None = None, literal: bool = False) -> dict:
    """Check machines ``start .. stop - 1`` of the class (positions in the seeded sample
    ``(n, seed)`` when given) and return the chunk's record: how many were checked and every
    failing machine with its index, bbchallenge text and reason. A check that raises on a
    machine is a failure of that machine (with the exception), not of the chunk."""
    from simulators.formats import format_bbchallenge

    slow, fast = MACHINE_CHECKS[check]
    if literal:
        fast = None
    size = n_machines(s, k)
    indices = (sample_indices(size, *sample)[start:stop] if sample is not None
               else range(start, stop))
    failed = []
    t0 = time.perf_counter()
    for index in indices:
        try:
            if fast is not None:
                reason = fast(s, k, machine_digits(index, s, k))
            else:
                reason = slow(machine_at(index, s, k))
        except Exception as e:  # noqa: BLE001 - reported with its machine
            reason = f"{type(e).__name__}: {e} ({traceback.format_exc(limit=-1).strip()})"
        if reason is not None:
            failed.append({"index": index,
                           "machine": format_bbchallenge(machine_at(index, s, k)),
                           "reason": reason})
    return {"checked": len(indices), "failed": failed,
            "seconds": round(time.perf_counter() - t0, 6)}

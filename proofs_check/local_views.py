"""The finite set of local views of a Turing-machine configuration, and the reference
answer for each: the oracle of the exhaustive "one layer = one step" check.

A valid configuration has one head, so the five cells a patch network reads (centre and
its four neighbours; corners are never read) hold at most one head. If the compiled patch
network returns the reference's next centre code on every such view, every rollout of the
machine is correct by induction on the number of steps.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from constructions.encoding import CellEncoding
from constructions.patchnet import CENTER, EAST, NORTH, OFFSETS, SOUTH, WEST
from simulators.turing import TuringMachine

READ = (CENTER, NORTH, SOUTH, WEST, EAST)
CORNERS = tuple(p for p in range(9) if p not in READ)


def local_views(enc: CellEncoding, s: int, k: int) -> tuple[np.ndarray, list]:
    """Every view with at most one head among the five read cells.

    Returns (patches of shape (N, 9), keys); a key is ``None`` (no head in view) or
    (head position, state digit, scanned symbol, centre symbol).
    """
    plain = [enc.encode(symbol=a) for a in range(k)]
    patches, keys = [], []
    for view in itertools.product(plain, repeat=len(READ)):
        patch = [0] * 9
        for p, v in zip(READ, view):
            patch[p] = v
        patches.append(patch)
        keys.append(None)
    for p, q, a in itertools.product(READ, range(s + 1), range(k)):
        for others in itertools.product(range(k), repeat=len(READ) - 1):
            syms = dict(zip([r for r in READ if r != p], others))
            syms[p] = a
            patch = [0] * 9
            for r, sym in syms.items():
                patch[r] = enc.encode(symbol=sym)
            patch[p] = enc.encode(symbol=a, head=1, state=q)
            patches.append(patch)
            keys.append((p, q, a, syms[CENTER]))
    return np.array(patches, dtype=np.float64), keys


def expected_centres(machine: TuringMachine, enc: CellEncoding, patches: np.ndarray,
                     keys: list) -> np.ndarray:
    """The next centre code of every view, from the reference simulator
    (:func:`proofs_check.certificates_views.next_centre`)."""
    from proofs_check.certificates_views import NextCentre

    next_centre = NextCentre(machine)
    code = _code_table(enc)
    out = patches[:, CENTER].copy()
    for i, key in enumerate(keys):
        if key is None:
            continue
        p, q, a, sym_c = key
        out[i] = code[next_centre(OFFSETS[p], q, a, sym_c)]
    return out


@functools.cache
def _code_table(enc: CellEncoding) -> dict[tuple[int, int, int], int]:
    return {(d["symbol"], d["head"], d["state"]): c
            for c, d in ((c, enc.decode(c)) for c in enc.codes())}

"""A fast path to the float64 weights of :func:`constructions.tm.compile_tm`, for sweeps over
whole machine classes (24 million 3-state 2-symbol tables).

``compile_tm`` builds the patch network in exact ``Fraction`` arithmetic; that is the point
of it, and it costs milliseconds per machine. Everything it computes, though, is assembled
from pieces that depend only on ``(s, k)`` and on one table entry at a time:

* the domain (the valid codes) and the ramp units of layer 1 (``Ramp.between`` of two
  consecutive codes, at one patch position) depend on ``(s, k)`` only;
* the local rule (:func:`constructions.tm.tm_local_rule`) is a sum over the *defined*
  transitions, each adding at most one entry to the centre table and at most one entry to
  one arrival table, and which entry depends only on ``(q, a)`` and the transition there.

:func:`compile_tm_arrays` caches those pieces per ``(s, k)`` (computed by the literal code:
``tm_local_rule`` on one-transition machines and ``_Layer1`` on the domain) and then lays
out the units in the order ``compile_local_rule`` does: the centre pass-through first, then
the tables (centre, then arrivals from the north, west, east, south), entries by ascending
pattern, ramp units numbered at first use. The result is the same network, not a similar
one: ``tests/test_sweep_fast.py`` checks it bit for bit against ``compile_tm`` on every 2x2
machine and on random samples of larger classes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from constructions.patchnet import CENTER, _Layer1
from constructions.tm import tm_encoding, tm_local_rule
from simulators.sampling import all_transitions
from simulators.turing import Transition, TuringMachine

Entry = tuple[int, int, float]
"""One lookup-table entry: (patch position, pattern value = old code, output value)."""


@dataclass(frozen=True)
class ClassStructure:
    """What ``compile_tm`` computes the same way for every machine of one (s, k) class."""

    pass_shift: float
    # indicator(p, v) as ((ramp key, coefficient on the up unit), ...) and a constant
    indicators: dict[tuple[int, int], tuple[tuple[tuple[int, int], int], ...]]
    constants: dict[tuple[int, int], int]
    ramps: dict[tuple[int, int], tuple[float, float, float]]  # (1/w, -a, -a-1)
    # per (q, a, entry choice): (centre entry or None, arrival entry or None)
    entries: dict[tuple[int, int, int], tuple[Entry | None, Entry | None]]
    max_code: int

    def float64_exact(self) -> tuple[bool, float]:
        """(every weight of every network of the class is an integer, an upper bound on
        the absolute value of every partial sum of every network of the class on codes).

        Layer 1: a unit is ``w x_p + b`` (|.| <= |w| max_code + |b|). Layer 2: a row has the
        pass-through (coefficient 1) or one indicator's <= 4 ramp units (coefficients +-2)
        and a constant. Output: at most ``1 + 2 s k`` rows (the pass-through plus one centre
        and one arrival entry per table entry), each weighted by its value. When the bound
        is below 2^53 and everything is an integer, float64 holds every partial sum exactly.
        """
        nums = [self.pass_shift] + [v for r in self.ramps.values() for v in r]
        nums += [e[2] for pair in self.entries.values() for e in pair if e is not None]
        integral = all(float(v).is_integer() for v in nums)
        b1 = max([self.max_code + self.pass_shift]
                 + [abs(w) * self.max_code + max(abs(u), abs(d))
                    for w, u, d in self.ramps.values()])
        b2 = max(b1, max(sum(4 * abs(c) for _, c in ind) * b1
                         + abs(2 * self.constants[key] - 1)
                         for key, ind in self.indicators.items()))
        n_rows = 1 + 2 * len({(q, a) for q, a, _ in self.entries})
        biggest = max([1.0] + [abs(e[2]) for pair in self.entries.values()
                               for e in pair if e is not None])
        b3 = n_rows * biggest * b2 + self.pass_shift
        return integral, max(b1, b2, b3)


@functools.cache
def class_structure(s: int, k: int) -> ClassStructure:
    """The per-(s, k) pieces, computed once per process with the literal compiler's code."""
    enc = tm_encoding(s, k)
    choices = all_transitions(s, k)
    entries: dict[tuple[int, int, int], tuple[Entry | None, Entry | None]] = {}
    for q in range(s):
        for a in range(k):
            for c, tr in enumerate(choices):
                table: list[list[Transition | None]] = [[None] * k for _ in range(s)]
                table[q][a] = tr
                rule = tm_local_rule(TuringMachine(s, k, tuple(map(tuple, table))), enc)
                centre = arrive = None
                for t in rule.tables:
                    for (v,), value in t.values.items():
                        if value == 0:
                            continue  # compile_local_rule skips zero entries
                        entry = (t.positions[0], int(v), float(value))
                        if t.positions == (CENTER,) and t.name == "step":
                            centre = entry
                        else:
                            arrive = entry
                entries[q, a, c] = (centre, arrive)
    rule = tm_local_rule(TuringMachine(s, k, tuple((None,) * k for _ in range(s))), enc)
    probe = _Layer1(rule.domain)
    _, shift = probe.passthrough(CENTER)
    indicators, constants, ramps = {}, {}, {}
    for p in {e[0] for pair in entries.values() for e in pair if e is not None}:
        for v in rule.domain:
            coef, const = probe.indicator(p, v)
            unit_key = {u: key for key, pair in probe._ramps.items() for u in pair}
            ups = []
            for u, w in coef.items():
                key = unit_key[u]
                if u == probe._ramps[key][0]:
                    ups.append((key, int(w)))
                    assert coef[probe._ramps[key][1]] == -w
            indicators[p, int(v)] = tuple(ups)
            constants[p, int(v)] = int(const)
    for key, (up, dn) in probe._ramps.items():
        (_, w_up, b_up), (_, _, b_dn) = probe.rows[up], probe.rows[dn]
        ramps[key] = (float(w_up), float(b_up), float(b_dn))
    return ClassStructure(float(shift), indicators, constants, ramps, entries,
                          int(max(rule.domain)))


def compile_tm_arrays(s: int, k: int, digits: list[int]) -> dict[str, np.ndarray]:
    """The float64 patch-network arrays ``A1 .. b3`` of ``compile_tm`` for the 1-D machine
    whose table entry ``(q, a)`` is ``all_transitions(s, k)[digits[q * k + a]]`` (see
    :func:`simulators.sampling.machine_digits`). Equal, entry for entry, to the exact
    arrays of ``compile_tm(machine_at(index, s, k)).patch`` converted to float64."""
    st = class_structure(s, k)
    centre: list[Entry] = []
    arrive: dict[int, list[Entry]] = {}
    for i, c in enumerate(digits):
        ce, ae = st.entries[i // k, i % k, c]
        if ce is not None:
            centre.append(ce)
        if ae is not None:
            arrive.setdefault(ae[0], []).append(ae)
    tables = [sorted(centre, key=_old_code)]
    tables += [sorted(arrive[p], key=_old_code) for p in sorted(arrive)]
    # layer 1: the centre pass-through is unit 0; ramp pairs are numbered at first use
    rows1: list[tuple[int, float, float]] = [(CENTER, 1.0, st.pass_shift)]
    ramp_unit: dict[tuple[int, int], int] = {}
    rows2: list[tuple[dict[int, float], float]] = [({0: 1.0}, 0.0)]
    out_w: list[float] = [1.0]
    for table in tables:
        for p, v, value in table:
            coef: dict[int, float] = {}
            for key, up_w in st.indicators[p, v]:
                if key not in ramp_unit:
                    w, b_up, b_dn = st.ramps[key]
                    ramp_unit[key] = len(rows1)
                    rows1 += [(key[0], w, b_up), (key[0], w, b_dn)]
                u = ramp_unit[key]
                coef[u] = coef.get(u, 0.0) + 2.0 * up_w
                coef[u + 1] = coef.get(u + 1, 0.0) - 2.0 * up_w
            rows2.append(({u: w for u, w in coef.items() if w != 0},
                          2.0 * st.constants[p, v] - 1.0))
            out_w.append(value)
    h1, h2 = len(rows1), len(rows2)
    A1, b1 = np.zeros((h1, 9)), np.zeros(h1)
    for i, (p, w, b) in enumerate(rows1):
        A1[i, p], b1[i] = w, b
    A2, b2 = np.zeros((h2, h1)), np.zeros(h2)
    for i, (coef, const) in enumerate(rows2):
        for u, w in coef.items():
            A2[i, u] = w
        b2[i] = const
    return {"A1": A1, "b1": b1, "A2": A2, "b2": b2, "A3": np.array([out_w]),
            "b3": np.array([-st.pass_shift])}


def _old_code(entry: Entry) -> int:
    return entry[1]


def literal_arrays(machine: TuringMachine) -> dict[str, np.ndarray]:
    """The same arrays from the literal compiler (for the bit-for-bit comparison)."""
    from constructions.tm import compile_tm

    return {name: np.array([float(v) for v in a.ravel()]).reshape(a.shape)
            for name, a in compile_tm(machine).patch.arrays().items()}

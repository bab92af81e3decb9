"""compile_tm: one application of the shared patch network = one Turing-machine step.

Paper reference: §4.2 "Computation" (one TM step is a local update around the head, so a
3x3 convolution performs it when each cell's value encodes symbol, head and state).

Encoding (:func:`tm_encoding`), digits least significant first::

    code = symbol + k * head + 2k * state        symbol in 0..k-1, head in {0,1},
                                                 state in 0..s (s = halted, letter Z)

with ``state = 0`` whenever ``head = 0``. The padding value is code 0 (blank, no head), so the
border of a finite grid looks like blank tape.

Local rule (the sum of five independent lookups, since a configuration has one head):

* centre: identity, plus ``new - old`` on codes with the head here and a defined transition
  (write the symbol; the head stays only on a move S);
* the west, east, north and south neighbours: ``k * 1 + 2k * q'`` when that neighbour holds
  the head in a state whose transition moves it here (R, L, D, U respectively).

A halted head (state Z, or an undefined transition) matches no entry, so a halted
configuration is a fixed point of the layer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from constructions.encoding import CellEncoding, Field
from constructions.patchnet import (
    CENTER,
    EAST,
    MANTISSA_BITS,
    NORTH,
    SOUTH,
    WEST,
    LocalRule,
    PatchNetwork,
    PixelHead,
    Table,
    bits_needed,
    compile_local_rule,
    compile_lookup_head,
)
from simulators.turing import HALT, Configuration, Move, TuringMachine

# Which neighbour the head arrives from for each move, as a patch position.
ARRIVES_FROM = {Move.R: WEST, Move.L: EAST, Move.D: NORTH, Move.U: SOUTH}

MAX_SHARED_PARAMETERS = 2 * 10**7
"""Compiler limit on the (estimated) shared parameter count: the dense ``A2`` grows
quadratically with the number of defined transitions (2e7 float32 weights = 80 MB)."""


def estimated_shared_parameters(machine: TuringMachine) -> int:
    """An upper bound on the compiled patch network's and head's parameter count, computed
    before anything is allocated: h1 <= 1 + 8t and h2 <= 1 + 2t for t defined transitions."""
    t = sum(tr is not None for row in machine.table for tr in row)
    h1, h2 = 1 + 8 * t, 1 + 2 * t
    d_head = 2 * machine.n_symbols * (machine.n_states + 2)
    return 10 * h1 + (h1 + 2) * h2 + 1 + 3 * d_head + 1


class CompileError(ValueError):
    """The compiler refuses a machine or a dtype; the message says why and how large."""


def require_exact_dtype(dtype: str, bits: int, what: str) -> None:
    """Raise :class:`CompileError` unless ``dtype`` is known and has ``>= bits`` mantissa
    bits; ``what`` names the network in the message."""
    if dtype not in MANTISSA_BITS:
        raise CompileError(f"unknown dtype {dtype!r}; choose from {sorted(MANTISSA_BITS)}")
    if MANTISSA_BITS[dtype] < bits:
        raise CompileError(f"{dtype} has {MANTISSA_BITS[dtype]} mantissa bits but {what} "
                           f"needs {bits}")


class DecodeError(ValueError):
    """A grid value is not a valid encoding, or the grid is not one configuration."""


def tm_encoding(n_states: int, n_symbols: int) -> CellEncoding:
    """The named fields of a cell: ``symbol`` (radix k), ``head`` (2), ``state`` (s + 1)."""
    return CellEncoding(
        (
            Field("symbol", n_symbols, "tape symbol, 0 = blank"),
            Field("head", 2, "1 if the head is on this cell"),
            Field("state", n_states + 1, f"machine state when head = 1; {n_states} = halted (Z)"),
        ),
        valid=lambda d: d["head"] == 1 or d["state"] == 0,
    )


MOVE_DELTAS = {m.name: list(m.delta) for m in Move}
"""Move name -> (row delta, column delta); rows grow downwards (U is row - 1)."""

HALT_RULE = ("the machine has halted when the head cell's state digit is s (the halting "
             "state Z) or table[state][symbol] is null (an undefined transition, written "
             "'---': the head keeps its non-halting state code); a halted grid is a fixed "
             "point of the layer, so a client decodes the head cell after each layer and "
             "stops there")


def size_fields(compiled) -> dict:
    """The size record of compiled shared weights (a machine, the circuit interpreter):
    hidden widths, head width, shared parameters, ``|U_s|``, bits and exact dtypes."""
    h1, h2 = compiled.patch.hidden
    return {"hidden": [h1, h2], "d_head": compiled.head.U2.shape[0],
            "shared_parameters": compiled.n_shared_parameters,
            "weight_set_size": len(compiled.weight_set), "bits_needed": compiled.bits,
            "exact_dtypes": [d for d in MANTISSA_BITS if compiled.exact_in(d)]}


def encoding_fields(encoding: CellEncoding) -> list[dict]:
    """The metadata record of a cell encoding: each field's name, radix, scale, meaning."""
    return [{"field": f.name, "radix": f.radix, "scale": encoding.scales[f.name],
             "meaning": f.doc} for f in encoding.fields]


def table_digits(machine: TuringMachine) -> list[list[list | None]]:
    """``table[q][a]`` as ``[write, move, next state digit]`` (digit ``s`` = halt) or
    ``None`` for an undefined transition: the transition table a client needs."""
    return [[None if tr is None else [tr.write, tr.move.name, _state_digit(machine,
                                                                           tr.next_state)]
             for tr in row] for row in machine.table]


def _state_digit(machine: TuringMachine, state: int) -> int:
    return machine.n_states if state == HALT else state


def tm_local_rule(machine: TuringMachine, enc: CellEncoding) -> LocalRule:
    """The step of ``machine`` as a :class:`LocalRule` on codes of ``enc``."""
    k = machine.n_symbols
    centre: dict[tuple[Fraction, ...], Fraction] = {}
    arrive: dict[int, dict[tuple[Fraction, ...], Fraction]] = {p: {} for p in ARRIVES_FROM.values()}
    for q in range(machine.n_states):
        for a in range(k):
            tr = machine.table[q][a]
            if tr is None:
                continue
            old = enc.encode(symbol=a, head=1, state=q)
            nq = _state_digit(machine, tr.next_state)
            if tr.move is Move.S:
                new = enc.encode(symbol=tr.write, head=1, state=nq)
            else:
                new = enc.encode(symbol=tr.write)
                arrive[ARRIVES_FROM[tr.move]][(Fraction(old),)] = Fraction(
                    enc.encode(head=1, state=nq)
                )
            if new != old:
                centre[(Fraction(old),)] = Fraction(new - old)
    names = {WEST: "from_w", EAST: "from_e", NORTH: "from_n", SOUTH: "from_s"}
    tables = [Table((CENTER,), centre, "step")]
    tables += [Table((p,), arrive[p], names[p]) for p in sorted(arrive) if arrive[p]]
    return LocalRule(
        domain=tuple(Fraction(c) for c in enc.codes()),
        passthrough={CENTER: Fraction(1)},
        tables=tables,
    )


@dataclass(frozen=True)
class CompiledTM:
    """A machine compiled to shared RCNN weights, with its encoding and metadata."""

    machine: TuringMachine
    encoding: CellEncoding
    rule: LocalRule
    patch: PatchNetwork
    head: PixelHead
    padding: int = 0

    @property
    def weight_set(self) -> set[Fraction]:
        """``U_s``: every distinct value among the shared weights (patch network and head)."""
        return set(self._weight_set)

    @functools.cached_property
    def _weight_set(self) -> frozenset[Fraction]:
        return frozenset(self.patch.weight_values() | self.head.weight_values())

    @property
    def n_shared_parameters(self) -> int:
        return self.patch.n_parameters + self.head.n_parameters

    @functools.cached_property
    def bits(self) -> int:
        """Mantissa bits that keep every layer exact (see :func:`bits_needed`); computed
        once (the weights never change)."""
        return bits_needed(self.patch, self.rule.domain)

    def exact_in(self, dtype: str) -> bool:
        return self.bits <= MANTISSA_BITS[dtype]

    def check_dtype(self, dtype: str) -> None:
        """Refuse a dtype that cannot run this machine exactly."""
        require_exact_dtype(dtype, self.bits, f"this machine (s={self.machine.n_states}, "
                                              f"k={self.machine.n_symbols})")

    def metadata(self) -> dict:
        """Everything a client needs to run the weights without this project's code, beside
        the sizes (docs/weight_files.md): the encoding, the transition table as digits, the
        move directions, the start configuration, how a halt is detected and the readout."""
        k = self.machine.n_symbols
        return {
            "kind": "turing-machine",
            "s": self.machine.n_states,
            "k": self.machine.n_symbols,
            "codes": len(self.rule.domain),
            "encoding": encoding_fields(self.encoding),
            "padding": self.padding,
            **size_fields(self),
            "flops_per_cell": self.patch.flops_per_cell(),
            "code_formula": "symbol + k * head + 2 * k * state",
            "table": table_digits(self.machine),
            "moves": MOVE_DELTAS,
            "one_dimensional": self.machine.is_one_dimensional,
            "start": {"head": [0, 0], "state": 0, "code": k,
                      "tape": "every other cell blank (code 0); a 1-D machine runs on a grid "
                              "of one row"},
            "halt": HALT_RULE,
            "readout": "head(v) = 1 if v % k != 0 (a non-blank symbol) else 0; the sum over "
                       "the grid counts the non-blank cells",
        }

    # -- grids <-> configurations ---------------------------------------------------------
    def encode(self, config: Configuration, shape: tuple[int, int],
               origin: tuple[int, int]) -> np.ndarray:
        """The grid (int64 codes) of ``config``; tape cell (r, c) sits at ``origin + (r, c)``."""
        H, W = shape
        grid = np.zeros(shape, dtype=np.int64)
        cells = dict(config.tape)
        hr, hc = config.head
        for (r, c), a in cells.items():
            gr, gc = r + origin[0], c + origin[1]
            if not (0 <= gr < H and 0 <= gc < W):
                raise DecodeError(f"tape cell {(r, c)} lies outside the {H}x{W} grid")
            grid[gr, gc] = self.encoding.encode(symbol=a)
        gr, gc = hr + origin[0], hc + origin[1]
        if not (0 <= gr < H and 0 <= gc < W):
            raise DecodeError(f"head {(hr, hc)} lies outside the {H}x{W} grid")
        grid[gr, gc] = self.encoding.encode(
            symbol=cells.get((hr, hc), 0), head=1,
            state=_state_digit(self.machine, config.state))
        return grid

    def decode(self, grid: np.ndarray, origin: tuple[int, int], steps: int = 0) -> Configuration:
        """The configuration a grid encodes; :class:`DecodeError` names the first bad cell."""
        values = np.asarray(grid, dtype=np.float64)
        if values.ndim != 2:
            raise DecodeError(f"expected a 2-D grid, got shape {values.shape}")
        codes = np.where(np.isfinite(values), np.rint(values), -1.0)
        bad = (codes != values) | (codes < 0) | (codes >= self.encoding.span)
        valid = np.zeros(self.encoding.span, dtype=bool)
        valid[self.encoding.codes()] = True
        bad |= ~valid[np.clip(codes, 0, self.encoding.span - 1).astype(np.int64)]
        if bad.any():
            r, c = map(int, np.argwhere(bad)[0])
            raise DecodeError(
                f"cell ({r}, {c}) holds {values[r, c]!r}, which is not a valid code "
                f"(valid codes: {self.encoding.codes()})"
            )
        codes = codes.astype(np.int64)
        k = self.machine.n_symbols
        symbols = codes % k
        heads = np.argwhere((codes // k) % 2 == 1)
        if len(heads) != 1:
            raise DecodeError(f"expected exactly one head on the grid, found {len(heads)}")
        hr, hc = map(int, heads[0])
        state = int(codes[hr, hc] // (2 * k))
        tape = {(int(r) - origin[0], int(c) - origin[1]): int(symbols[r, c])
                for r, c in np.argwhere(symbols != 0)}
        return Configuration(
            tape=tape,
            head=(hr - origin[0], hc - origin[1]),
            state=HALT if state == self.machine.n_states else state,
            steps=steps,
        )


def compile_tm(machine: TuringMachine) -> CompiledTM:
    """Hand-set shared weights so one patch-network layer performs one step of ``machine``.

    Realises §4.2 "Computation" of the paper (Lemma 1's computation part for a plain TM).
    Every weight is a dyadic rational from a finite set determined by ``(s, k)`` alone.
    """
    estimate = estimated_shared_parameters(machine)
    if estimate > MAX_SHARED_PARAMETERS:
        raise CompileError(
            f"machine with s={machine.n_states} states and k={machine.n_symbols} symbols "
            f"may need up to {estimate:,} shared parameters "
            f"({estimate * 4 / 2**20:,.0f} MiB in float32); the compiler's limit is "
            f"{MAX_SHARED_PARAMETERS:,}"
        )
    enc = tm_encoding(machine.n_states, machine.n_symbols)
    rule = tm_local_rule(machine, enc)
    patch = compile_local_rule(rule)
    head = compile_lookup_head(
        rule.domain,
        {Fraction(c): Fraction(1) for c in enc.codes() if enc.decode(c)["symbol"] != 0},
    )
    return CompiledTM(machine, enc, rule, patch, head, padding=0)

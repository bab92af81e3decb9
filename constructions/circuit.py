"""compile_circuit: a Boolean circuit as the *program* of one universal RCNN.

Paper reference: §2 (learners output their classifiers as Boolean circuits) and Definition 5
(the RCNN). The shared weights are built once, for every circuit: they are a small
*machine* whose instructions are written into the grid values, and the circuit is the
*program*. Columns are circuit stages; after ``L = columns - 1`` applications of the shared
3x3 patch network every column holds its final values (a wave moving one column per layer)
and the output cells hold the circuit's outputs. See docs/circuit_compiler.md.

The cell encoding (:func:`circuit_encoding`), digits least significant first::

    code = kind + 6 * route + 36 * s

* ``kind`` (what the cell computes from ``s``): WIRE (``s``), NOT (``1 - s``), AND
  (``s == 2``), OR (``s >= 1``), XOR (``s == 1``), OUT (a sink the head reads: ``s``);
* ``route`` (where the cell sends its bit, relative to the next column): NONE, E, NE (one
  row up), SE (one row down), E+NE, E+SE; only WIRE cells route freely (AND/OR/XOR/NOT send E,
  OUT sends nothing). WIRE with route NONE and ``s = 0`` is the *empty* cell, code 0, which is
  also the padding;
* ``s``: how many of the cell's senders (among its NW, W, SW neighbours) currently hold a 1.

The local rule is *sender-driven*: ``new = centre + 36 * (sum_X out(X) [X sends to me] - s)``
over ``X in {NW, W, SW}``, a pass-through plus four single-position lookups, so the patch
network is small (9 -> 67 -> 26 -> 1) and every code the network can ever produce is valid as
long as no cell has more senders than its kind allows -- which the compiler checks.

Layout (:func:`compile_circuit`): nodes are scheduled into stages (sinks early, everything
else just in time); before each stage's column, values are forked for fan-out and moved to
their slots by odd-even transposition rounds (a swap is one cell sending SE and its lower
neighbour sending NE); then one column computes every node of the stage.

Inputs are not carried in from the left edge: an input is a *source* cell with no senders,
written as WIRE (bit 0) or NOT (bit 1) with ``s = 0`` at the column where it is first needed
(``initial_grid``). Every output ends in an OUT cell, so the Definition-5 readout (head, then
the sum over the grid) is the number of distinct output wires that are 1, which for a
one-output classifier is exactly the classifier's value.
"""

from __future__ import annotations

import enum
import functools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import torch

from constructions.encoding import CellEncoding, EncodingError, Field
from constructions.patchnet import (
    CENTER,
    MANTISSA_BITS,
    NORTH_WEST,
    SOUTH_WEST,
    WEST,
    LocalRule,
    PatchNetwork,
    PixelHead,
    Table,
    bits_needed,
    compile_local_rule,
    compile_lookup_head,
    exact_grid_layer,
)
from constructions.rcnn import DTYPES, RCNN
from constructions.tm import encoding_fields, size_fields
from simulators.circuits import Circuit, Op, depth, width

ENGINES = ("float64", "float32", "exact", "rule")
"""``float*``: the RCNN in torch; ``exact``: the patch network in rational arithmetic;
``rule``: the local rule itself on integer codes (the specification the network must match)."""

MAX_GRID_CELLS = 1 << 24
"""Torch rollouts take at most this many grid cells per call; larger batches are split."""


class CompileError(ValueError):
    """The compiler cannot lay out this circuit, or a dtype cannot run it exactly."""


class DecodeError(ValueError):
    """A grid value is not a valid cell code, or a cell's instruction was overwritten."""


# --------------------------------------------------------------------------- the machine


class Kind(enum.IntEnum):
    """What a cell computes from ``s``, the number of its senders holding a 1."""

    WIRE = 0  # s        (also the empty cell, with route NONE)
    NOT = 1  # 1 - s
    AND = 2  # s == 2
    OR = 3  # s >= 1
    XOR = 4  # s == 1
    OUT = 5  # s, never sent on; the head reads it


class Route(enum.IntEnum):
    """Which cells of the next column a cell sends its bit to."""

    NONE = 0
    E = 1
    NE = 2
    SE = 3
    E_NE = 4
    E_SE = 5


ROUTE_DELTAS: dict[Route, frozenset[int]] = {
    Route.NONE: frozenset(),
    Route.E: frozenset({0}),
    Route.NE: frozenset({-1}),
    Route.SE: frozenset({1}),
    Route.E_NE: frozenset({0, -1}),
    Route.E_SE: frozenset({0, 1}),
}
"""Row offsets (in the next column) each route sends to: NE is one row up (-1)."""

_DELTA_ROUTE = {v: k for k, v in ROUTE_DELTAS.items()}

CAPACITY = {Kind.WIRE: 1, Kind.NOT: 1, Kind.AND: 2, Kind.OR: 2, Kind.XOR: 2, Kind.OUT: 1}
"""The most senders a cell of each kind may have (the empty cell: none)."""

_FIXED_ROUTE = {Kind.NOT: Route.E, Kind.AND: Route.E, Kind.OR: Route.E, Kind.XOR: Route.E,
                Kind.OUT: Route.NONE}


def out_bit(kind: int, s: int) -> int:
    """The bit a cell of ``kind`` holds when ``s`` of its senders hold a 1."""
    k = Kind(kind)
    if k in (Kind.WIRE, Kind.OUT):
        return int(s >= 1)
    if k is Kind.NOT:
        return int(s == 0)
    if k is Kind.AND:
        return int(s == 2)
    if k is Kind.OR:
        return int(s >= 1)
    return int(s == 1)


def _valid(d: dict[str, int]) -> bool:
    kind, route, s = Kind(d["kind"]), Route(d["route"]), d["s"]
    if kind in _FIXED_ROUTE and route != _FIXED_ROUTE[kind]:
        return False
    if s > CAPACITY[kind]:
        return False
    return not (kind is Kind.WIRE and route is Route.NONE and s != 0)


def circuit_encoding() -> CellEncoding:
    """The named fields of a cell: ``kind`` (radix 6), ``route`` (6), ``s`` (3); 24 codes.

    ``s`` is the most significant digit, so ``code % 36`` is the cell's instruction (kind and
    route) and ``code // 36`` its count; this order gives the smallest patch network.
    """
    return CellEncoding(
        (
            Field("kind", len(Kind), "what the cell computes: " + ", ".join(k.name for k in Kind)),
            Field("route", len(Route), "where the bit goes: " + ", ".join(r.name for r in Route)),
            Field("s", 3, "how many senders currently hold a 1 (0..capacity)"),
        ),
        valid=_valid,
    )


ENCODING = circuit_encoding()
_S = ENCODING.scales["s"]  # code % _S is the instruction (kind, route), code // _S is s
EMPTY = 0
"""The code of the empty cell (WIRE, route NONE, s = 0); also the padding value."""


def cell_code(kind: int, route: int, s: int = 0) -> int:
    """The code of a cell (raises :class:`EncodingError` on an invalid combination)."""
    return ENCODING.encode(kind=int(kind), route=int(route), s=int(s))


_INPUT_CODES = (cell_code(Kind.WIRE, Route.E), cell_code(Kind.NOT, Route.E))
"""An input cell with bit 0 / bit 1: a sender-less WIRE (holds 0) or NOT (holds 1)."""


def universal_local_rule() -> LocalRule:
    """The machine's step as a :class:`LocalRule`: a sum of four single-position lookups.

    ``new = centre - s(centre) * S + S * sum_{X in NW, W, SW} out(X) [X sends to the centre]``
    with ``S`` the scale of the ``s`` digit.
    """
    reset: dict[tuple[Fraction, ...], Fraction] = {}
    sends: dict[int, dict[tuple[Fraction, ...], Fraction]] = {
        WEST: {}, NORTH_WEST: {}, SOUTH_WEST: {}}
    # the sender at NW reaches the centre by moving one row down (+1), etc.
    towards = {WEST: 0, NORTH_WEST: 1, SOUTH_WEST: -1}
    for code in ENCODING.codes():
        d = ENCODING.decode(code)
        key = (Fraction(code),)
        if d["s"]:
            reset[key] = Fraction(-d["s"] * _S)
        if out_bit(d["kind"], d["s"]):
            deltas = ROUTE_DELTAS[Route(d["route"])]
            for pos, delta in towards.items():
                if delta in deltas:
                    sends[pos][key] = Fraction(_S)
    return LocalRule(
        domain=tuple(Fraction(c) for c in ENCODING.codes()),
        passthrough={CENTER: Fraction(1)},
        tables=[
            Table((CENTER,), reset, "reset_s"),
            Table((WEST,), sends[WEST], "from_w"),
            Table((NORTH_WEST,), sends[NORTH_WEST], "from_nw"),
            Table((SOUTH_WEST,), sends[SOUTH_WEST], "from_sw"),
        ],
    )


@dataclass(frozen=True)
class UniversalMachine:
    """The one set of shared weights that runs every compiled circuit."""

    encoding: CellEncoding
    rule: LocalRule
    patch: PatchNetwork
    head: PixelHead
    padding: int = EMPTY

    @property
    def weight_set(self) -> set[Fraction]:
        """``U``: every distinct value among the shared weights (patch network and head)."""
        return self.patch.weight_values() | self.head.weight_values()

    @property
    def n_shared_parameters(self) -> int:
        return self.patch.n_parameters + self.head.n_parameters

    @functools.cached_property
    def bits(self) -> int:
        """Mantissa bits that keep every layer exact (see :func:`bits_needed`)."""
        return bits_needed(self.patch, self.rule.domain)

    def exact_in(self, dtype: str) -> bool:
        return dtype in MANTISSA_BITS and self.bits <= MANTISSA_BITS[dtype]

    def check_dtype(self, dtype: str) -> None:
        """Refuse a dtype that cannot run the interpreter exactly."""
        if not self.exact_in(dtype):
            raise CompileError(f"{dtype} cannot run the circuit interpreter exactly "
                               f"(it needs {self.bits} mantissa bits)")

    def metadata(self) -> dict:
        """Sizes and the cell semantics a client needs (docs/weight_files.md); the program
        (which cell holds which instruction) belongs to each compiled circuit."""
        return {
            "kind": "circuit-interpreter",
            "codes": len(self.rule.domain),
            "encoding": encoding_fields(self.encoding),
            "code_formula": "kind + 6 * route + 36 * s",
            "kinds": {k.name: int(k) for k in Kind},
            "capacity": {k.name: CAPACITY[k] for k in Kind},
            "routes": {r.name: sorted(ROUTE_DELTAS[r]) for r in Route},
            "padding": self.padding,
            "rule": "a cell keeps kind and route; s becomes the number of its senders (the "
                    "west, north-west and south-west neighbours whose route includes the row "
                    "offset 0, +1 and -1 that reaches it) whose bit is 1; bit(kind, s): WIRE "
                    "and OUT s >= 1, NOT s == 0, AND s == 2, OR s >= 1, XOR s == 1; the empty "
                    "cell (WIRE, NONE, s = 0) is code 0 and the padding",
            "readout": "head(v) = 1 on an OUT cell with s = 1, else 0",
            **size_fields(self),
        }

    @functools.cached_property
    def lookup(self) -> dict[str, np.ndarray]:
        """The rule's tables as int64 arrays indexed by code (for the ``rule`` engine)."""
        span = self.encoding.span
        out = {}
        for t in self.rule.tables:
            a = np.zeros(span, dtype=np.int64)
            for (v,), w in t.values.items():
                a[int(v)] = int(w)
            out[t.name] = a
        valid = np.zeros(span, dtype=bool)
        valid[self.encoding.codes()] = True
        out["valid"] = valid
        digits = [self.encoding.decode(c) if valid[c] else None for c in range(span)]
        out["kind"] = np.array([d["kind"] if d else -1 for d in digits], dtype=np.int64)
        out["route"] = np.array([d["route"] if d else -1 for d in digits], dtype=np.int64)
        out["bit"] = np.array([out_bit(d["kind"], d["s"]) if d else 0 for d in digits],
                              dtype=np.uint8)
        return out


@functools.cache
def universal_machine() -> UniversalMachine:
    """Build (once) the universal shared weights with :func:`compile_local_rule`."""
    rule = universal_local_rule()
    patch = compile_local_rule(rule)
    out_one = cell_code(Kind.OUT, Route.NONE, 1)
    head = compile_lookup_head(rule.domain, {Fraction(out_one): Fraction(1)})
    return UniversalMachine(ENCODING, rule, patch, head)


def universal_patch_network() -> PatchNetwork:
    """The shared patch network every compiled circuit runs on (built once, cached)."""
    return universal_machine().patch


# --------------------------------------------------------------------------- normalising


@dataclass
class _Node:
    """A value the grid carries: an input, a constant, a gate, or an output sink."""

    role: str  # "input" | "const" | "gate" | "out"
    kind: Kind  # the kind of the node's own cell
    inputs: tuple[int, ...] = ()
    negate: bool = False  # AND/OR/XOR followed by a NOT cell (NAND, NOR, XNOR)
    index: int = -1  # input index (inputs) or constant value (consts)


_BINARY = {
    Op.AND: (Kind.AND, False), Op.NAND: (Kind.AND, True),
    Op.OR: (Kind.OR, False), Op.NOR: (Kind.OR, True),
    Op.XOR: (Kind.XOR, False), Op.XNOR: (Kind.XOR, True),
}


def _normalise(circuit: Circuit) -> tuple[list[_Node], list[int]]:
    """Nodes in topological order and, per circuit output, the id of its OUT node.

    COPY gates become aliases; a binary gate reading one wire twice is simplified (a cell
    counts each sender once); NAND/NOR/XNOR become AND/OR/XOR with a negated output.
    """
    nodes: list[_Node] = []
    ref: dict[int, int] = {}
    consts: dict[int, int] = {}

    def new(node: _Node) -> int:
        nodes.append(node)
        return len(nodes) - 1

    def const(v: int) -> int:
        if v not in consts:
            consts[v] = new(_Node("const", Kind.NOT if v else Kind.WIRE, index=v))
        return consts[v]

    for k, w in enumerate(circuit.inputs):
        ref[w] = new(_Node("input", Kind.WIRE, index=k))
    for g in circuit.gates:
        ins = [ref[w] for w in g.inputs]
        if g.op is Op.COPY:
            ref[g.output] = ins[0]
        elif g.op in (Op.CONST0, Op.CONST1):
            ref[g.output] = const(int(g.op is Op.CONST1))
        elif g.op is Op.NOT:
            ref[g.output] = new(_Node("gate", Kind.NOT, (ins[0],)))
        else:
            kind, neg = _BINARY[g.op]
            a, b = ins
            if a != b:
                ref[g.output] = new(_Node("gate", kind, (a, b), neg))
            elif kind is Kind.XOR:
                ref[g.output] = const(int(neg))
            elif neg:
                ref[g.output] = new(_Node("gate", Kind.NOT, (a,)))
            else:
                ref[g.output] = a
    out_of: dict[int, int] = {}
    outputs = []
    for w in circuit.outputs:
        n = ref[w]
        if n not in out_of:
            out_of[n] = new(_Node("out", Kind.OUT, (n,)))
        outputs.append(out_of[n])
    return nodes, outputs


def _schedule(nodes: list[_Node]) -> tuple[list[int], list[list[int]]]:
    """Stage of every live node (-1 for dead ones) and each node's live consumers.

    OUT sinks go as early as possible; every other node (sources included) as late as its
    consumers allow, so values are computed just before they are needed and dropped soon
    after: the number of values alive at once (the grid's height) stays small.
    """
    n = len(nodes)
    live = [False] * n
    for i in range(n - 1, -1, -1):
        if nodes[i].role == "out":
            live[i] = True
        if live[i]:
            for j in nodes[i].inputs:
                live[j] = True
    consumers: list[list[int]] = [[] for _ in range(n)]
    asap = [0] * n
    for i, node in enumerate(nodes):
        if not live[i]:
            continue
        asap[i] = 1 + max((asap[j] for j in node.inputs), default=-1) if node.inputs else 0
        for j in node.inputs:
            consumers[j].append(i)
    level = [-1] * n
    for i in range(n - 1, -1, -1):
        if not live[i]:
            continue
        if nodes[i].role == "out":
            level[i] = asap[i]
        else:
            level[i] = min(level[c] for c in consumers[i]) - 1
    # two binary nodes on the same inputs share them in one slot: bring them together
    first: dict[frozenset[int], int] = {}
    for i, node in enumerate(nodes):
        if live[i] and len(node.inputs) == 2:
            key = frozenset(node.inputs)
            if key in first:
                j = first.pop(key)
                level[i] = level[j] = min(level[i], level[j])
            else:
                first[key] = i
    return level, consumers


# --------------------------------------------------------------------------- the layout


def _legalize(sizes: Sequence[int], anchors: Sequence[float], rows: int) -> list[int]:
    """Top rows for consecutive groups (in the given order) as close to ``anchors`` as the
    order and ``rows`` allow: isotonic regression (pool adjacent violators), rounded."""
    offsets, total = [], 0
    for s in sizes:
        offsets.append(total)
        total += s
    blocks: list[list[float]] = []  # [sum, count]
    for a, o in zip(anchors, offsets):
        blocks.append([a - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    z: list[float] = []
    for s, c in blocks:
        z += [s / c] * int(c)
    hi = rows - total
    return [o + int(round(min(max(v, 0.0), hi))) for o, v in zip(offsets, z)]


@dataclass
class _Slot:
    """How one or two nodes' inputs sit in the column before their stage, and what they send.

    Patterns (rows top to bottom, before -> after the stage column; ``t``/``b`` the top and
    bottom input, ``g`` the node's cell, ``_`` an empty cell, ``'`` a copy that continues):

    * ``binary``: both inputs continue ``[t, _, b] -> [t', g, b']`` (t sends E+SE, b E+NE);
      one continues ``[t, b] -> [t', g]`` or ``[g, b']``; none ``[t, b] -> [g, _]``;
    * ``pair`` (two binary nodes on the same two inputs): ``[t, b] -> [g1, g2]``;
    * ``unary``: ``[a] -> [g]`` (a sends E) or, if ``a`` continues, ``[a, _] -> [a', g]``;
    * ``source`` (an input or a constant): ``[_] -> [g]``; ``pass`` (a value not read at this
      stage): ``[w] -> [w']``.
    """

    form: str
    nodes: list[int]  # the node(s) computed; for "pass" the passing value
    ins: list[int]  # input values, top to bottom once placed
    keep: list[bool] = field(default_factory=list)  # whether each input continues
    centre: float = 0.0
    top: int = 0

    def __post_init__(self) -> None:
        if not self.keep:
            self.keep = [False] * len(self.ins)

    def pattern(self) -> list[int | None]:
        if self.form == "source":
            return [None]
        if self.form in ("unary", "binary") and all(self.keep) and self.keep:
            return [self.ins[0], None] + self.ins[1:]
        return list(self.ins)

    def in_rows(self) -> list[int]:
        """Rows of the inputs in the column before the stage (``top`` must be set)."""
        if not self.ins:
            return []
        return [self.top] if len(self.ins) == 1 else [self.top, self.top + len(self.pattern()) - 1]

    def plan(self) -> tuple[list[set[int]], list[int | None], list[tuple[int, int]]]:
        """(sends of each input, which input continues on each pattern row, and the
        (row offset, node) of each computed cell)."""
        if self.form == "pass":
            return [{0}], [0], []
        if self.form == "source":
            return [], [None], [(0, self.nodes[0])]
        if self.form == "pair":
            return [{0, 1}, {0, -1}], [None, None], [(0, self.nodes[0]), (1, self.nodes[1])]
        g = self.nodes[0]
        if self.form == "unary":
            if self.keep[0]:
                return [{0, 1}], [0, None], [(1, g)]
            return [{0}], [None], [(0, g)]
        kt, kb = self.keep
        if kt and kb:
            return [{0, 1}, {0, -1}], [0, None, 1], [(1, g)]
        if kt:
            return [{0, 1}, {0}], [0, None], [(1, g)]
        if kb:
            return [{0}, {0, -1}], [None, 1], [(0, g)]
        return [{0}, {-1}], [None, None], [(0, g)]


class _Layout:
    """Builds the program column by column while tracking which value sits on which row.

    Every transition from one column to the next is a set of sends; the route of each cell
    is set when the next column is emitted. Invariant: every receiving cell has exactly the
    senders its kind expects (checked again on the finished program by
    :func:`_check_program`).
    """

    def __init__(self, nodes: list[_Node], level: list[int], consumers: list[list[int]]):
        self.nodes, self.level, self.consumers = nodes, level, consumers
        # the latest stage reading each value (-1: none); one scan instead of one per stage
        self.last_use = [max((level[c] for c in cs), default=-1) for cs in consumers]
        self.kinds: list[list[Kind]] = []
        self.routes: list[list[Route]] = []
        self.items: list[int | None] = []  # value on each row of the last column
        self.frozen: list[bool] = []  # the value's cell can only send E (not a WIRE)
        self.pending: list[bool] = []  # the value still needs its NOT cell
        self.place: dict[int, tuple[int, int]] = {}  # source/OUT node -> (row, col)
        self.parity = 0
        self.stats = {"routing_columns": 0, "fork_columns": 0, "gate_columns": 0,
                      "wait_columns": 0}

    @property
    def rows(self) -> int:
        return len(self.items)

    def grow(self, rows: int) -> None:
        """Add empty rows at the bottom of every column."""
        extra = rows - self.rows
        if extra <= 0:
            return
        for col in self.kinds:
            col.extend([Kind.WIRE] * extra)
        for col in self.routes:
            col.extend([Route.NONE] * extra)
        self.items.extend([None] * extra)
        self.frozen.extend([False] * extra)
        self.pending.extend([False] * extra)

    def first_column(self, sources: list[int]) -> None:
        self.items = list(sources) or [None]
        self.kinds = [[self.nodes[n].kind if n is not None else Kind.WIRE for n in self.items]]
        self.routes = [[Route.NONE] * self.rows]
        self.frozen = [n is not None for n in self.items]
        self.pending = [False] * self.rows
        for r, n in enumerate(sources):
            self.place[n] = (r, 0)

    # -- transitions ------------------------------------------------------------------
    def _emit(self, sends: dict[int, set[int]], items: list[int | None], kinds: list[Kind],
              frozen: list[bool], pending: list[bool], what: str) -> None:
        cur = self.routes[-1]
        for r, deltas in sends.items():
            route = _DELTA_ROUTE[frozenset(deltas)]
            if self.frozen[r] and route is not Route.E:
                raise CompileError(
                    f"internal layout error: fixed-route cell on row {r} must send {route.name}")
            cur[r] = route
        self.kinds.append(kinds)
        self.routes.append([Route.NONE] * self.rows)
        self.items, self.frozen, self.pending = items, frozen, pending
        self.stats[what] += 1

    def _move(self, delta: dict[int, int], forks: dict[int, int] | None = None,
              what: str = "routing_columns") -> None:
        """Each value on row r goes to row r + delta.get(r, 0); ``forks`` adds a copy at
        r + forks[r]. A value with a pending negation lands in a NOT cell."""
        R = self.rows
        items: list[int | None] = [None] * R
        kinds = [Kind.WIRE] * R
        frozen = [False] * R
        pending = [False] * R
        sends: dict[int, set[int]] = {}
        for r, n in enumerate(self.items):
            if n is None:
                continue
            targets = {delta.get(r, 0)}
            if forks and r in forks:
                targets.add(forks[r])
            sends[r] = targets
            for d in targets:
                t = r + d
                if items[t] is not None:
                    raise CompileError(f"internal layout error: two values sent to row {t}")
                items[t] = n
                if self.pending[r]:
                    kinds[t], frozen[t] = Kind.NOT, True
        self._emit(sends, items, kinds, frozen, pending, what)

    def straight(self) -> None:
        """A column in which every value stays on its row (lets fixed-route cells thaw)."""
        self._move({}, what="wait_columns")

    def sort_to(self, target: list[int | None]) -> None:
        """Odd-even transposition rounds (one column each) until the values sit as in
        ``target``; identical values and empty rows keep their relative order."""
        want: dict[int | None, deque[int]] = {}
        for t, n in enumerate(target):
            want.setdefault(n, deque()).append(t)
        keys = [want[n].popleft() for n in self.items]
        R = self.rows
        while True:
            movable = [i for i in range(R - 1) if keys[i] > keys[i + 1]]
            if not movable:
                return
            movable = [i for i in movable if not self.frozen[i] and not self.frozen[i + 1]]
            if not movable:  # only fixed-route cells are in the way: let them thaw
                self.straight()
                continue
            # the odd-even transposition round of this parity, plus any other disjoint swap
            chosen = [i for i in movable if i % 2 == self.parity]
            busy = {j for i in chosen for j in (i, i + 1)}
            for i in movable:
                if i not in busy and i + 1 not in busy:
                    chosen.append(i)
                    busy.update((i, i + 1))
            self.parity = 1 - self.parity
            delta = {}
            for i in chosen:
                keys[i], keys[i + 1] = keys[i + 1], keys[i]
                delta[i], delta[i + 1] = 1, -1
            self._move(delta)

    def arrange(self, sizes: list[int], centres: list[float],
                patterns: list[list[int | None]]) -> list[int]:
        """Place the patterns in order around their centres, sort the values there, and
        return each pattern's top row."""
        self.grow(sum(sizes))
        tops = _legalize(sizes, [c - (s - 1) / 2 for s, c in zip(sizes, centres)], self.rows)
        target: list[int | None] = [None] * self.rows
        for top, pat in zip(tops, patterns):
            target[top:top + len(pat)] = pat
        if len(self.kinds) == 1:  # the first column holds only sources: put them there
            self.items = target
            self.kinds[0] = [self.nodes[n].kind if n is not None else Kind.WIRE for n in target]
            self.frozen = [n is not None for n in target]
            for r, n in enumerate(target):
                if n is not None:
                    self.place[n] = (r, 0)
        else:
            self.sort_to(target)
        return tops

    # -- one stage --------------------------------------------------------------------
    def rows_of(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for r, n in enumerate(self.items):
            if n is not None:
                out.setdefault(n, []).append(r)
        return out

    def source_centre(self, node: int, rows: dict[int, list[int]]) -> float:
        """Where to open a cell for a new source: next to the values nearest in the graph."""
        seen = {node}
        frontier = [node]
        while frontier:
            found = [r for n in frontier for r in rows.get(n, [])]
            if found:
                return sum(found) / len(found)
            nxt = []
            for n in frontier:
                for m in (*self.nodes[n].inputs, *self.consumers[n]):
                    if m not in seen:
                        seen.add(m)
                        nxt.append(m)
            frontier = nxt
        return float(self.rows)

    def _slots(self, k: int, members: list[int]) -> list[_Slot]:
        """The slots of stage ``k`` (inputs not yet placed) with continuations decided:
        each value read later continues through one slot that can carry it, else passes."""
        nodes = self.nodes
        slots: list[_Slot] = []
        alone: dict[frozenset[int], int] = {}
        for m in members:
            ins = list(nodes[m].inputs)
            if not ins:
                slots.append(_Slot("source", [m], []))
            elif len(ins) == 1:
                slots.append(_Slot("unary", [m], ins))
            elif frozenset(ins) in alone:  # a second node on the same two inputs: share them
                i = alone.pop(frozenset(ins))
                slots[i] = _Slot("pair", [slots[i].nodes[0], m], ins)
            else:
                alone[frozenset(ins)] = len(slots)
                slots.append(_Slot("binary", [m], ins))
        read = {j for s in slots for j in s.ins}
        for n in dict.fromkeys(x for x in self.items if x is not None):
            if self.last_use[n] <= k:  # no consumer after stage k
                continue
            carrier = next((s for s in slots if s.form in ("unary", "binary") and n in s.ins
                            and not s.keep[s.ins.index(n)]), None) if n in read else None
            if carrier is None:
                slots.append(_Slot("pass", [n], [n]))
            else:
                carrier.keep[carrier.ins.index(n)] = True
        return slots

    def _order(self, slots: list[_Slot], upcoming: Sequence[int]) -> list[_Slot]:
        """Order the slots top to bottom: by centre, except that slots whose results the
        next stage reads together are kept next to each other (clusters ordered by their
        mean centre)."""
        holder: dict[int, int] = {}
        for i, s in enumerate(slots):
            for j, kept in zip(s.ins, s.keep):
                if kept or s.form == "pass":
                    holder[j] = i
            for n in s.nodes:
                holder.setdefault(n, i)
        parent = list(range(len(slots)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for m in upcoming:
            ins = self.nodes[m].inputs
            if len(ins) == 2 and ins[0] in holder and ins[1] in holder:
                parent[find(holder[ins[0]])] = find(holder[ins[1]])
        clusters: dict[int, list[int]] = {}
        for i in range(len(slots)):
            clusters.setdefault(find(i), []).append(i)
        ordered = sorted(clusters.values(),
                         key=lambda c: (sum(slots[i].centre for i in c) / len(c), c[0]))
        return [slots[i] for c in ordered for i in sorted(c, key=lambda i: slots[i].centre)]

    def stage(self, k: int, members: list[int], upcoming: Sequence[int] = ()) -> None:
        """Route, then compute every node of stage ``k`` in one column (``upcoming``: the
        nodes of the next stage, whose inputs are best placed next to each other)."""
        slots = self._slots(k, members)
        copies: dict[int, int] = {}
        for s in slots:
            for j in s.ins:
                copies[j] = copies.get(j, 0) + 1
        # 1. fork values read by several slots: empty rows are opened above and below, and
        #    the block of copies grows at both ends (E+NE at the top, E+SE at the bottom)
        if any(c > 1 for c in copies.values()):
            present = [(r, n) for r, n in enumerate(self.items) if n is not None]
            pats: list[list[int | None]] = []
            for _, n in present:
                up = (copies[n] - 1) // 2
                pats.append([None] * up + [n] + [None] * (copies[n] - 1 - up))
            self.arrange([len(p) for p in pats],
                         [r - p.index(n) + (len(p) - 1) / 2 for (r, n), p in zip(present, pats)],
                         pats)
            tops = {n: r for r, n in enumerate(self.items) if n is not None}  # the originals
            ups = {n: (copies[n] - 1) // 2 for n in tops}
            while True:
                have = self.rows_of()
                if all(len(have[n]) >= copies[n] for n in have):
                    break
                forks = {}
                for n, rs in have.items():
                    first, last = rs[0], rs[-1]
                    if len(rs) >= copies[n] or self.frozen[first] or self.pending[first]:
                        continue
                    above = tops[n] - first < ups[n]  # room reserved above is not yet used
                    below = len(rs) - 1 - (tops[n] - first) < copies[n] - 1 - ups[n]
                    if above:
                        forks[first] = -1
                    if below and (last != first or not above):
                        forks[last] = 1
                if forks:
                    self._move({}, forks, what="fork_columns")
                else:
                    self.straight()
        # 2. place the slots around the rows of their inputs, in that order
        rows = self.rows_of()
        taken: dict[int, int] = {}
        for s in slots:
            rs = []
            for j in s.ins:
                rs.append(rows[j][taken.get(j, 0)])
                taken[j] = taken.get(j, 0) + 1
            if len(s.ins) == 2 and rs[1] < rs[0]:
                s.ins.reverse()
                s.keep.reverse()
            s.centre = sum(rs) / len(rs) if rs else self.source_centre(s.nodes[0], rows)
        slots = self._order(slots, upcoming)
        patterns = [s.pattern() for s in slots]
        tops = self.arrange([len(p) for p in patterns], [s.centre for s in slots], patterns)
        for s, top in zip(slots, tops):
            s.top = top
        # 3. a value read by a node must hold its final bit, and diagonal senders be WIREs
        while any(self.pending[r] or (self.frozen[r] and deltas != {0})
                  for s in slots if s.form != "pass"
                  for r, deltas in zip(s.in_rows(), s.plan()[0])):
            self.straight()
        self._stage_column(slots)

    def _stage_column(self, slots: list[_Slot]) -> None:
        R = self.rows
        col = len(self.kinds)
        items: list[int | None] = [None] * R
        kinds = [Kind.WIRE] * R
        frozen = [False] * R
        pending = [False] * R
        sends: dict[int, set[int]] = {}
        filled: set[int] = set()

        def put(row: int, n: int | None, kind: Kind, pend: bool = False,
                source: bool = False) -> None:
            if row in filled:
                raise CompileError(f"internal layout error: row {row} of column {col} reused")
            filled.add(row)
            items[row], kinds[row], pending[row] = n, kind, pend
            # a source's own cell, like every non-WIRE cell, may only send E
            frozen[row] = n is not None and (kind is not Kind.WIRE or source)

        for s in slots:
            in_rows = s.in_rows()
            for r, j in zip(in_rows, s.ins):
                if self.items[r] != j:
                    raise CompileError(f"internal layout error: row {r} does not hold {j}")
            send, cont, cells = s.plan()
            for r, deltas in zip(in_rows, send):
                sends[r] = deltas
            for i, which in enumerate(cont):
                if which is not None:
                    r = s.top + i
                    pend = s.form == "pass" and self.pending[r]
                    put(r, s.ins[which], Kind.NOT if pend else Kind.WIRE)
            for offset, n in cells:
                node = self.nodes[n]
                g = s.top + offset
                put(g, None if node.role == "out" else n, node.kind, node.negate,
                    source=node.role in ("input", "const"))
                if node.role in ("out", "input", "const"):
                    self.place[n] = (g, col)
        self._emit(sends, items, kinds, frozen, pending, "gate_columns")


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class CompiledCircuit:
    """A circuit laid out as a program for the universal machine.

    ``program`` holds every cell's code before the run (``s = 0``, input cells as bit 0);
    ``input_cells[k]`` is the cell of input ``k`` (``None`` if no output depends on it) and
    ``output_cells[k]`` the OUT cell holding output ``k``.
    """

    circuit: Circuit
    program: np.ndarray
    input_cells: tuple[tuple[int, int] | None, ...]
    output_cells: tuple[tuple[int, int], ...]
    stages: int
    stats: dict = field(default_factory=dict)

    @property
    def machine(self) -> UniversalMachine:
        return universal_machine()

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (int(self.program.shape[0]), int(self.program.shape[1]))

    @property
    def layers(self) -> int:
        """``L``: layers after which every column (the last one included) is final."""
        return self.grid_shape[1] - 1

    def _bits_matrix(self, bits: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
        a = np.asarray(bits)
        n = self.circuit.n_inputs
        if a.ndim != 2 or a.shape[1] != n:
            raise ValueError(f"expected input bits of shape (batch, {n}), got {a.shape}")
        if a.size and not np.isin(a, (0, 1)).all():
            raise ValueError("input bits must be 0 or 1")
        return a.astype(np.int64)

    def initial_grids(self, bits: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
        """Grids (B, rows, cols) of int64 codes: the program with the inputs written in."""
        a = self._bits_matrix(bits)
        grids = np.repeat(self.program[None], a.shape[0], axis=0)
        one = cell_code(Kind.NOT, Route.E)
        for k, cell in enumerate(self.input_cells):
            if cell is not None:
                r, c = cell
                grids[:, r, c] = np.where(a[:, k] == 1, one, self.program[r, c])
        return grids

    def initial_grid(self, input_bits: Sequence[int]) -> np.ndarray:
        """The grid (rows, cols) of int64 codes for one input assignment."""
        if len(input_bits) != self.circuit.n_inputs:
            raise ValueError(
                f"expected {self.circuit.n_inputs} input bits, got {len(input_bits)}")
        return self.initial_grids([list(input_bits)])[0]

    def check_grids(self, grids: np.ndarray) -> np.ndarray:
        """Validate (B, rows, cols) grid values; return them as int64 codes.

        Raises :class:`DecodeError` naming the first cell that is not a valid code or whose
        instruction (kind and route) differs from the program's.
        """
        values = np.asarray(grids, dtype=np.float64)
        if values.ndim == 2:
            values = values[None]
        if values.ndim != 3 or values.shape[1:] != self.program.shape:
            raise DecodeError(
                f"expected grids of shape (B, {self.grid_shape[0]}, {self.grid_shape[1]}), "
                f"got {np.asarray(grids).shape}")
        codes = np.rint(values)
        span = ENCODING.span
        bad = (codes != values) | (codes < 0) | (codes >= span) | ~np.isfinite(values)
        safe = np.where(bad, 0, codes).astype(np.int64)
        bad |= ~universal_machine().lookup["valid"][safe]
        if not bad.any():
            bad = (safe % _S) != (self.program % _S)[None]
            for cell in self.input_cells:  # an input cell is WIRE (bit 0) or NOT (bit 1)
                if cell is not None:
                    r, c = cell
                    bad[:, r, c] = ~np.isin(safe[:, r, c], _INPUT_CODES)
            if bad.any():
                b, r, c = map(int, np.argwhere(bad)[0])
                got, want = ENCODING.decode(int(safe[b, r, c])), ENCODING.decode(
                    int(self.program[r, c]))
                raise DecodeError(
                    f"cell ({r}, {c}) of grid {b} holds {_describe(got)} but the program "
                    f"has {_describe(want)} there")
            return safe
        b, r, c = map(int, np.argwhere(bad)[0])
        raise DecodeError(
            f"cell ({r}, {c}) of grid {b} holds {values[b, r, c]!r}, which is not a valid "
            f"cell code (valid codes: {ENCODING.codes()})")

    def read_outputs_batch(self, grids: np.ndarray) -> np.ndarray:
        """Output bits (B, n_outputs) uint8 of final grids (B, rows, cols); checks codes."""
        codes = self.check_grids(grids)
        bit = universal_machine().lookup["bit"]
        out = np.zeros((codes.shape[0], len(self.output_cells)), dtype=np.uint8)
        for k, (r, c) in enumerate(self.output_cells):
            out[:, k] = bit[codes[:, r, c]]
        return out

    def read_outputs(self, grid: np.ndarray) -> list[int]:
        """The circuit's outputs (in ``circuit.outputs`` order) from a final grid."""
        return [int(v) for v in self.read_outputs_batch(np.asarray(grid)[None])[0]]

    def program_text(self) -> str:
        """The program drawn one character per cell (legend in docs/circuit_compiler.md):
        ``.`` empty, ``-`` ``/`` ``\\`` WIRE sending E/NE/SE, ``^`` ``v`` forks E+NE/E+SE,
        ``~`` NOT, ``&`` AND, ``|`` OR, ``x`` XOR, ``O`` OUT, ``i`` an input cell."""
        chars = []
        inputs = {c for c in self.input_cells if c is not None}
        for r in range(self.grid_shape[0]):
            line = []
            for c in range(self.grid_shape[1]):
                d = ENCODING.decode(int(self.program[r, c]))
                line.append("i" if (r, c) in inputs else _GLYPH[Kind(d["kind"]), Route(d["route"])])
            chars.append("".join(line))
        return "\n".join(chars)

    def metadata(self) -> dict:
        m = universal_machine()
        h1, h2 = m.patch.hidden
        R, C = self.grid_shape
        return {
            "gates": len(self.circuit.gates),
            "inputs": self.circuit.n_inputs,
            "outputs": self.circuit.n_outputs,
            "depth": depth(self.circuit),
            "width": width(self.circuit),
            "stages": self.stages,
            "grid": [R, C],
            "layers": self.layers,
            "cells": R * C,
            "cell_updates": R * C * self.layers,
            **{k: int(v) for k, v in self.stats.items()},
            "codes": len(m.rule.domain),
            "hidden": [h1, h2],
            "shared_parameters": m.n_shared_parameters,
            "weight_set_size": len(m.weight_set),
            "bits_needed": m.bits,
            "exact_dtypes": [d for d in MANTISSA_BITS if m.exact_in(d)],
            "flops_per_cell": m.patch.flops_per_cell(),
        }


_GLYPH = {
    (Kind.WIRE, Route.NONE): ".", (Kind.WIRE, Route.E): "-", (Kind.WIRE, Route.NE): "/",
    (Kind.WIRE, Route.SE): "\\", (Kind.WIRE, Route.E_NE): "^", (Kind.WIRE, Route.E_SE): "v",
    (Kind.NOT, Route.E): "~", (Kind.AND, Route.E): "&", (Kind.OR, Route.E): "|",
    (Kind.XOR, Route.E): "x", (Kind.OUT, Route.NONE): "O",
}


def _describe(d: dict[str, int]) -> str:
    return f"{Kind(d['kind']).name}/{Route(d['route']).name}/s={d['s']}"


def _check_program(program: np.ndarray, sources: list[tuple[int, int]]) -> None:
    """Every cell has at most as many senders as its kind allows; sources have none."""
    R, C = program.shape
    lk = universal_machine().lookup
    kind, route = lk["kind"][program], lk["route"][program]
    senders = np.zeros((R, C), dtype=np.int64)
    for rt, deltas in ROUTE_DELTAS.items():
        sel = route[:, :-1] == rt
        for d in deltas:
            for r in range(R):
                if 0 <= r + d < R:
                    senders[r + d, 1:] += sel[r]
    cap = np.vectorize(lambda k: CAPACITY[Kind(k)])(kind)
    cap[(kind == Kind.WIRE) & (route == Route.NONE)] = 0
    over = senders > cap
    if over.any():
        r, c = map(int, np.argwhere(over)[0])
        raise CompileError(f"internal layout error: cell ({r}, {c}) has {senders[r, c]} senders")
    for r, c in sources:
        if senders[r, c]:
            raise CompileError(f"internal layout error: source cell ({r}, {c}) has senders")


def _levels(circuit: Circuit) -> tuple[list[_Node], list[int], list[int], list[list[int]],
                                      list[list[int]]]:
    """Nodes, OUT node per output, stage of every node, consumers, and the nodes by stage."""
    nodes, outputs = _normalise(circuit)
    level, consumers = _schedule(nodes)
    stages = max((lv for lv in level if lv >= 0), default=0)
    by_level: list[list[int]] = [[] for _ in range(stages + 1)]
    for i, lv in enumerate(level):
        if lv >= 0:
            by_level[lv].append(i)
    return nodes, outputs, level, consumers, by_level


def cell_updates_lower_bound(circuit: Circuit) -> int:
    """A lower bound on ``compile_circuit(circuit).metadata()["cell_updates"]`` (rows x
    columns x layers) from the schedule alone, in linear time, so that a run too large for
    its budget is refused before the layout is computed: every stage takes at least one
    column (``columns >= stages + 1``, ``layers = columns - 1``) and puts each of its nodes
    on its own row (``rows >=`` the largest stage)."""
    *_, by_level = _levels(circuit)
    stages = len(by_level) - 1
    rows = max(1, max(len(members) for members in by_level))
    return rows * (stages + 1) * stages


def compile_circuit(circuit: Circuit,
                    on_stage: Callable[[int, int], None] | None = None) -> CompiledCircuit:
    """Lay ``circuit`` out as a grid program for the universal machine.

    One stage (one gate column, after a few routing columns) per level of the schedule;
    values move by at most one row per column (odd-even transposition rounds, forks for
    fan-out), so after ``layers`` applications of the universal patch network the OUT cells
    hold ``evaluate(circuit, bits)``. ``on_stage(k, stages)`` (e.g. a progress bar) is
    called after each stage is laid out.
    """
    nodes, outputs, level, consumers, by_level = _levels(circuit)
    stages = len(by_level) - 1
    layout = _Layout(nodes, level, consumers)
    first = sorted(by_level[0], key=lambda n: (min(level[c] for c in consumers[n]),
                                                min(consumers[n]), n))
    layout.first_column(first)
    for k in range(1, stages + 1):
        layout.stage(k, by_level[k], by_level[k + 1] if k < stages else [])
        if on_stage is not None:
            on_stage(k, stages)
    if any(n is not None for n in layout.items):
        raise CompileError("internal layout error: values left over after the last stage")
    R, C = layout.rows, len(layout.kinds)
    program = np.zeros((R, C), dtype=np.int64)
    for c in range(C):
        for r in range(R):
            program[r, c] = cell_code(layout.kinds[c][r], layout.routes[c][r])
    source_cells = [layout.place[i] for i, n in enumerate(nodes)
                    if level[i] >= 0 and n.role in ("input", "const")]
    _check_program(program, source_cells)
    input_cells: list[tuple[int, int] | None] = [None] * circuit.n_inputs
    for i, n in enumerate(nodes):
        if n.role == "input" and level[i] >= 0:
            input_cells[n.index] = layout.place[i]
    return CompiledCircuit(
        circuit=circuit,
        program=program,
        input_cells=tuple(input_cells),
        output_cells=tuple(layout.place[o] for o in outputs),
        stages=stages,
        stats=layout.stats,
    )


# --------------------------------------------------------------------------- running


@functools.cache
def network_model(dtype: str = "float64") -> RCNN:
    """The Definition-5 module with the universal weights (one per dtype, cached)."""
    m = universal_machine()
    if dtype not in DTYPES or dtype not in MANTISSA_BITS:
        raise CompileError(f"unknown dtype {dtype!r}; choose from float32, float64")
    if not m.exact_in(dtype):
        raise CompileError(
            f"{dtype} has {MANTISSA_BITS[dtype]} mantissa bits but the universal machine "
            f"needs {m.bits}")
    return RCNN(m.patch, m.head, layers=0, padding=m.padding, dtype=DTYPES[dtype])


def rule_layer(grids: np.ndarray) -> np.ndarray:
    """One application of the local rule on (B, rows, cols) int64 code grids."""
    lk = universal_machine().lookup
    B, R, C = grids.shape
    padded = np.zeros((B, R + 2, C + 2), dtype=np.int64)
    padded[:, 1:-1, 1:-1] = grids
    w = padded[:, 1:-1, :-2]
    nw = padded[:, :-2, :-2]
    sw = padded[:, 2:, :-2]
    return (grids + lk["reset_s"][grids] + lk["from_w"][w] + lk["from_nw"][nw]
            + lk["from_sw"][sw])


_EXACT_CACHE: dict[tuple, Fraction] = {}
"""Exact outputs of the universal patch network by patch (the weights never change)."""


def exact_layer(grid: np.ndarray, cache: dict[tuple, Fraction] | None = None) -> np.ndarray:
    """One layer of the patch network in exact rational arithmetic (object array of codes);
    each distinct patch is evaluated once by :meth:`PatchNetwork.evaluate_exact` and kept
    in ``cache`` (by default one shared by all circuits: the weights are universal)."""
    m = universal_machine()
    if cache is None:
        cache = _EXACT_CACHE
        if len(cache) > 1 << 20:
            cache.clear()
    return exact_grid_layer(m.patch, grid, Fraction(m.padding), cache)


def rollout(compiled: CompiledCircuit, grids: np.ndarray, engine: str = "float64",
            on_layer: Callable[[], None] | None = None) -> np.ndarray:
    """Apply ``compiled.layers`` layers to (B, rows, cols) grids with ``engine``; the result
    is float64 (torch engines), int64 (``rule``) or object/Fraction (``exact``). With a torch
    engine, ``on_layer()`` (e.g. a progress bar) is called after every layer of every chunk
    of the batch."""
    steps = compiled.layers
    if engine == "rule":
        g = np.asarray(grids, dtype=np.int64)
        for _ in range(steps):
            g = rule_layer(g)
        return g
    if engine == "exact":
        out = []
        for grid in grids:
            g = np.vectorize(Fraction, otypes=[object])(np.asarray(grid, dtype=object))
            for _ in range(steps):
                g = exact_layer(g)
            out.append(g)
        return np.stack(out) if out else np.zeros((0, *compiled.grid_shape), dtype=object)
    if engine not in ("float32", "float64"):
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    model = network_model(engine)
    cells = int(np.prod(compiled.grid_shape))
    per_call = max(1, MAX_GRID_CELLS // max(cells, 1))
    parts = []
    with torch.no_grad():
        for i in range(0, len(grids), per_call):
            t = torch.as_tensor(np.asarray(grids[i:i + per_call], dtype=np.float64),
                                dtype=DTYPES[engine])
            for _ in range(steps):  # = model.rollout(t, steps), one layer at a time
                t = model.layer(t)
                if on_layer is not None:
                    on_layer()
            parts.append(t.to(torch.float64).numpy())
    if not parts:
        return np.zeros((0, *compiled.grid_shape))
    return np.concatenate(parts)


def run_circuit_batch(compiled: CompiledCircuit, bits_matrix: np.ndarray | Sequence[Sequence[int]],
                      engine: str = "float64",
                      on_layer: Callable[[], None] | None = None) -> np.ndarray:
    """Outputs (B, n_outputs) uint8 for every row of input bits ``bits_matrix`` (B, n_inputs),
    computed by ``layers`` applications of the universal network (or ``engine``)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")
    grids = compiled.initial_grids(bits_matrix)
    final = rollout(compiled, grids, engine, on_layer)
    if engine == "exact":
        final = np.vectorize(float, otypes=[np.float64])(final) if final.size else \
            final.astype(np.float64)
    return compiled.read_outputs_batch(final)


def run_circuit(compiled: CompiledCircuit, bits: Sequence[int],
                engine: str = "float64", on_layer: Callable[[], None] | None = None) -> list[int]:
    """The circuit's output bits on input ``bits``, computed by the network."""
    if len(bits) != compiled.circuit.n_inputs:
        raise ValueError(f"expected {compiled.circuit.n_inputs} input bits, got {len(bits)}")
    return [int(v) for v in run_circuit_batch(compiled, [list(bits)], engine, on_layer)[0]]


__all__ = [
    "CAPACITY", "ENCODING", "ENGINES", "EMPTY", "CompileError", "CompiledCircuit",
    "DecodeError", "EncodingError", "Kind", "Route", "ROUTE_DELTAS", "UniversalMachine",
    "cell_code", "cell_updates_lower_bound", "circuit_encoding", "compile_circuit",
    "exact_layer", "network_model", "out_bit", "rollout", "rule_layer", "run_circuit",
    "run_circuit_batch",
    "universal_local_rule", "universal_machine", "universal_patch_network",
]

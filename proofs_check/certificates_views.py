"""The valid local views of every compiled network, and what each must map to.

A *view* is the 3x3 neighbourhood (row-major, ``constructions.patchnet.OFFSETS``) of one
cell of a valid grid; a certificate (:mod:`proofs_check.certificates`) proves the network
right on all of them. Definitions, one per kind of network (docs/certificates.md):

**Turing machines** (``s`` states, ``k`` symbols, code ``symbol + k head + 2k state``,
state digit ``s`` = halted ``Z``). A valid configuration has exactly one head on the whole
grid, so a view holds *at most one head among its 9 cells*; every other cell is a plain
code ``0..k-1``, the padding (code 0, blank) included, so borders need no case of their
own. The head may be in any state, ``Z`` included, and on any symbol, undefined
(``---``) transitions included: views *after* the halt are valid views. The next centre
value is computed from the reference simulator (:func:`simulators.turing.step`): a halted
head or an undefined transition changes nothing; otherwise the centre is rewritten when
the head is on it, and receives the head when the head's move brings it there.

**Learner networks** (constructions/learner.py), two view sets:

* *layer 1* reads the raw memory grid: ``±t`` (``t = 1/3`` rounded to the dtype, what
  SGD writes), ``0`` (an empty row), ``1`` (a work column) and the padding ``-1``. The
  valid views are those of a memory grid ``(m + 1) x (d + 1 + l)`` (``m >= 0``,
  ``d >= 1``, ``l >= 1``) during SGD step ``i`` (rows ``< i`` filled) or at test time (all
  rows filled, the dummy row last with label ``+t``), by the cell's role:
  work cell (``c = 1``), filled data cell (``c = ±t``, ``e = ±t``), filled label cell
  (``c = ±t``, ``e = 1``), empty cell (``c = 0``); each with the neighbours its role allows
  (:func:`learner_layer1_views`, cross-checked in the tests against views harvested from
  real memory grids). The value is the learner tape's code (``docs/learner_tape.md``);
  on *carrier* views (``c = 0`` under a filled row or the border) the Jacobian must be
  exactly ``e_c``, which is what makes Algorithm 1's SGD write the example (Lemma 1 (1)).
* *layers 2..L* read tape codes (``2 + code``), the carrier ``-4``, the empty value ``-2``
  and the padding: during memorisation there is no head (carrier, empty and codes mix);
  at test time there is at most one head in view and no carrier or empty cell. Codes step
  as a Turing machine (above); the carrier keeps its value with Jacobian exactly ``e_c``;
  an empty cell stays empty.

**The circuit interpreter** (constructions/circuit.py): a cell code ``kind + 6 route +
36 s`` reads its west, north-west and south-west neighbours (its possible *senders*). A
view is valid when the centre has no more senders (neighbours whose route points at it)
than its kind's capacity (0 for the empty cell), as in every compiled program; the next
code keeps kind and route and sets ``s`` to the number of senders holding a 1.

**Elementary cellular automata** (the learn-one-step experiment): every 0/1 view; the next
centre is the rule applied to (west, centre, east).

Positions the network does not read (zero columns of ``A1``) are left out of the views;
positions it reads beyond the rule's own are varied over every value a cell can take, so
the views stay a superset of the valid ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from constructions.patchnet import CENTER, EAST, NORTH, NORTH_WEST, SOUTH, SOUTH_WEST, WEST
from proofs_check.certificates import Family
from simulators.turing import HALT, Configuration, TuringMachine, step

CROSS = (CENTER, NORTH, SOUTH, WEST, EAST)
CORNERS = tuple(p for p in range(9) if p not in CROSS)
E_C = np.eye(9)[CENTER]
"""The Jacobian ``e_c``: slope 1 in the centre, 0 in every neighbour."""


@dataclass
class ViewSet:
    """One set of valid views (families) of a network, with a name for reports."""

    name: str
    families: list[Family]


@dataclass
class HeadSpec:
    """What the pixel head must return on each cell value (and its slope, if required)."""

    values: np.ndarray
    targets: np.ndarray
    slopes: np.ndarray | None = None


# --------------------------------------------------------------------------- machines
class NextCentre:
    """The reference simulator's next centre value of a view (module docstring), with the
    reference step from every (state digit, symbol) computed once."""

    def __init__(self, machine: TuringMachine) -> None:
        self.machine = machine
        self.after: dict[tuple[int, int], Configuration | None] = {}
        for q in range(machine.n_states + 1):
            for a in range(machine.n_symbols):
                state = HALT if q == machine.n_states else q
                cfg = Configuration(tape={(0, 0): a} if a else {}, head=(0, 0), state=state)
                self.after[q, a] = None if cfg.is_halted(machine) else step(machine, cfg)

    def __call__(self, head_at: tuple[int, int], q: int, a: int,
                 centre_symbol: int) -> tuple[int, int, int]:
        """``(symbol, head, state digit)`` of the centre after one step: the head at offset
        ``head_at`` from the centre, in state digit ``q``, on symbol ``a``
        (``centre_symbol`` is the centre's symbol when the head is elsewhere)."""
        s = self.machine.n_states
        nxt = self.after[q, a]
        if head_at == (0, 0):
            if nxt is None:
                return a, 1, q
            sym = nxt.tape.get((0, 0), 0)
            if nxt.head == (0, 0):
                return sym, 1, s if nxt.state == HALT else nxt.state
            return sym, 0, 0
        if nxt is None:
            return centre_symbol, 0, 0
        centre = (-head_at[0], -head_at[1])  # the centre relative to the head
        if nxt.head == centre:
            return centre_symbol, 1, s if nxt.state == HALT else nxt.state
        return centre_symbol, 0, 0


def next_centre(machine: TuringMachine, head_at: tuple[int, int], q: int, a: int,
                centre_symbol: int) -> tuple[int, int, int]:
    """One call of :class:`NextCentre` (build the class once for many views)."""
    return NextCentre(machine)(head_at, q, a, centre_symbol)


def machine_step_families(
    machine: TuringMachine, code: Callable[[int, int, int], float], reads: Iterable[int],
    *, kept_centres: list[float], quiet_neighbours: list[float], head_neighbours: list[float],
    filler: float, carrier: float | None = None,
) -> list[Family]:
    """Families of a machine step. Without a head in view, a centre from ``kept_centres``
    keeps its value (one row, the centre free, spec = the centre) and ``carrier`` (if
    given) keeps its value with Jacobian ``e_c``, neighbours from ``quiet_neighbours``.
    With the head at the centre, at a neighbour or (when read) at a corner, the other cells
    come from ``head_neighbours`` and the centre's next value is the reference's; when the
    head is elsewhere that value is the centre plus what arrives (0 or ``k + 2k q'``), the
    same for every centre symbol, so the centre stays free. ``code(symbol, head, state
    digit)`` is the cell value."""
    s, k = machine.n_states, machine.n_symbols
    next_centre = NextCentre(machine)
    positions = sorted(set(CROSS) | set(reads))
    heads = [(q, a) for q in range(s + 1) for a in range(k)]
    plain = [code(a, 0, 0) for a in range(k)]
    quiet = np.array(quiet_neighbours)
    busy = np.array(head_neighbours)
    others = [p for p in positions if p != CENTER]
    fams = [Family("no head in view", (), np.zeros((1, 0)),
                   {CENTER: np.array(kept_centres), **{p: quiet for p in others}},
                   np.zeros(1), filler=filler, spec_slope={CENTER: 1.0})]
    if carrier is not None:
        fams.append(Family("carrier (Jacobian e_c)", (CENTER,), np.array([[carrier]]),
                           {p: quiet for p in others}, np.array([carrier]), E_C, filler))
    rows = [code(a, 1, q) for q, a in heads]
    spec = [code(*next_centre((0, 0), q, a, a)) for q, a in heads]
    fams.append(Family("head on the centre", (CENTER,), np.array(rows)[:, None],
                       {p: busy for p in others}, np.array(spec), filler=filler))
    for p in others:
        offset = (p // 3 - 1, p % 3 - 1)
        delta = []
        for q, a in heads:
            arrive = {code(*next_centre(offset, q, a, c)) - plain[c] for c in range(k)}
            assert len(arrive) == 1, "what arrives at the centre depends on its symbol"
            delta.append(arrive.pop())
        fams.append(Family(f"head at {_NAMES[p]}", (p,), np.array(rows)[:, None],
                           {CENTER: np.array(plain), **{r: busy for r in others if r != p}},
                           np.array(delta), filler=filler, spec_slope={CENTER: 1.0}))
    return fams


_NAMES = ("nw", "n", "ne", "w", "c", "e", "sw", "s", "se")


def tm_views(machine: TuringMachine, reads: Iterable[int]) -> ViewSet:
    """The valid views of a compiled Turing machine (module docstring)."""
    k = machine.n_symbols

    def code(a: int, head: int, q: int) -> float:
        return float(a + k * head + 2 * k * q)
    plain = [code(a, 0, 0) for a in range(k)]
    fams = machine_step_families(machine, code, reads, kept_centres=plain,
                                 quiet_neighbours=plain, head_neighbours=plain, filler=0.0)
    return ViewSet("step", fams)


def tm_head(machine: TuringMachine) -> HeadSpec:
    """The TM head: 1 on every code whose symbol is not blank, else 0 (the readout counts
    the non-blank cells)."""
    s, k = machine.n_states, machine.n_symbols
    values = [float(a + k * h + 2 * k * q) for q in range(s + 1) for h in (0, 1)
              for a in range(k) if h or not q]
    return HeadSpec(np.array(values), np.array([float(int(v) % k != 0) for v in values]))


# --------------------------------------------------------------------------- learners
@dataclass(frozen=True)
class LearnerValues:
    """The cell values of a learner network (constructions/learner.py; in the metadata)."""

    pad: float
    third: float  # 1/3 rounded to the network's dtype: what SGD writes into W
    carrier: float
    empty: float
    offset: float


_ROLES = ("blank", "cell+", "cell-", "edge+", "edge-", "label+", "label-", "top+", "top-",
          "answer+", "answer-")


def learner_symbols(machine: TuringMachine) -> dict[str, int]:
    """Role -> symbol index (the learner tape's fixed alphabet prefix)."""
    from simulators.learner_tape import SYMBOL_NAMES

    names = list(machine.symbol_names)
    return {role: names.index(SYMBOL_NAMES[role]) for role in _ROLES}


def learner_layer1_views(machine: TuringMachine, v: LearnerValues,
                         reads: Iterable[int]) -> ViewSet:
    """Layer 1: every raw view of a memory grid (module docstring), by the cell's role."""
    k = machine.n_symbols
    sym = learner_symbols(machine)
    T, P = v.third, v.pad

    def code(role: str, head: int = 0) -> float:
        return v.offset + sym[role] + k * head  # state 0

    rows: list[tuple[float, ...]] = []  # (c, n, s, e, w)
    spec: list[float] = []
    carrier_rows: list[tuple[float, ...]] = []
    for n, s_, e, w in itertools.product((1.0, P), (1.0, P), (1.0, P), (1.0, T, -T, 0.0)):
        rows.append((1.0, n, s_, e, w))  # a work cell
        spec.append(code("blank"))
    for c, w, e, n, s_ in itertools.product((T, -T), (T, -T, P), (T, -T), (T, -T, P),
                                            (T, -T, 0.0, P)):
        rows.append((c, n, s_, e, w))  # a filled data cell
        plus = c > 0
        spec.append(code(("edge" if w == P else "cell") + ("+" if plus else "-")))
    for c, w, n, s_ in itertools.product((T, -T), (T, -T), (T, -T, P), (T, -T, 0.0, P)):
        if s_ == P and c < 0:
            continue  # the dummy row's label is +1/3
        rows.append((c, n, s_, 1.0, w))  # a filled label cell; the head is born on the dummy's
        role = ("top" if n == P else "label") + ("+" if c > 0 else "-")
        spec.append(code(role, head=1 if s_ == P else 0))
    for w, e, n, s_ in itertools.product((0.0, P), (0.0, 1.0), (T, -T, P, 0.0), (0.0, P)):
        if n == 0.0:
            rows.append((0.0, n, s_, e, w))  # a later empty row
            spec.append(v.empty)
        else:
            carrier_rows.append((0.0, n, s_, e, w))  # the first empty row: the carrier
    raw = [P, -T, 0.0, T, 1.0]
    order = (CENTER, NORTH, SOUTH, EAST, WEST)
    free = {p: np.array(raw) for p in set(reads) if p not in order}
    fams = [Family("layer 1", order, np.array(rows), free, np.array(spec), filler=P),
            Family("layer 1 carrier (Jacobian e_c)", order, np.array(carrier_rows), free,
                   np.full(len(carrier_rows), v.carrier), E_C, filler=P)]
    return ViewSet("layer 1", fams)


def learner_step_views(machine: TuringMachine, v: LearnerValues, reads: Iterable[int]) -> ViewSet:
    """Layers 2..L (module docstring): memorisation views without a head, carrier views with
    Jacobian ``e_c``, test-time views with at most one head."""
    k = machine.n_symbols

    def code(a: int, head: int, q: int) -> float:
        return v.offset + a + k * head + 2 * k * q
    plain = [code(a, 0, 0) for a in range(k)]
    quiet = plain + [v.pad, v.carrier, v.empty]
    fams = machine_step_families(
        machine, code, reads, kept_centres=plain + [v.empty], quiet_neighbours=quiet,
        head_neighbours=plain + [v.pad], filler=v.pad, carrier=v.carrier)
    return ViewSet("layers 2..L", fams)


def learner_head(machine: TuringMachine, v: LearnerValues) -> HeadSpec:
    """The learner head: ``+1`` / ``-1`` on codes whose symbol is ``A+`` / ``A-``, ``v -
    carrier`` (value 0, slope 1) on the carrier, 0 with slope 0 everywhere else."""
    s, k = machine.n_states, machine.n_symbols
    sym = learner_symbols(machine)
    answer = {sym["answer+"]: 1.0, sym["answer-"]: -1.0}
    values, targets, slopes = [v.carrier, v.empty], [0.0, 0.0], [1.0, 0.0]
    for q in range(s + 1):
        for h in (0, 1):
            if q and not h:
                continue
            for a in range(k):
                values.append(v.offset + a + k * h + 2 * k * q)
                targets.append(answer.get(a, 0.0))
                slopes.append(0.0)
    return HeadSpec(np.array(values), np.array(targets), np.array(slopes))


# --------------------------------------------------------------------------- circuits
def circuit_views(reads: Iterable[int]) -> ViewSet:
    """The circuit interpreter's valid views (module docstring): every centre code and
    sender codes, no more senders than the centre's capacity."""
    from constructions.circuit import CAPACITY, ENCODING, ROUTE_DELTAS, Kind, Route, out_bit

    codes = ENCODING.codes()
    digits = {c: ENCODING.decode(c) for c in codes}
    scale = ENCODING.scales
    # a sender at NW reaches the centre by moving one row down (+1), W straight, SW up (-1)
    towards = {NORTH_WEST: 1, WEST: 0, SOUTH_WEST: -1}
    order = (CENTER, WEST, NORTH_WEST, SOUTH_WEST)
    rows, spec = [], []
    for c, w, nw, sw in itertools.product(codes, repeat=4):
        d = digits[c]
        kind, route = Kind(d["kind"]), Route(d["route"])
        cap = 0 if (kind is Kind.WIRE and route is Route.NONE) else CAPACITY[kind]
        senders = ones = 0
        for pos, x in ((WEST, w), (NORTH_WEST, nw), (SOUTH_WEST, sw)):
            dx = digits[x]
            if towards[pos] in ROUTE_DELTAS[Route(dx["route"])]:
                senders += 1
                ones += out_bit(dx["kind"], dx["s"])
        if senders > cap:
            continue
        rows.append((c, w, nw, sw))
        spec.append(d["kind"] * scale["kind"] + d["route"] * scale["route"] + ones * scale["s"])
    free = {p: np.array(codes, dtype=np.float64) for p in set(reads) if p not in order}
    return ViewSet("step", [Family("senders within capacity", order, np.array(rows), free,
                                   np.array(spec), filler=0.0)])


def circuit_head() -> HeadSpec:
    """The circuit head: 1 on an OUT cell holding a 1, else 0."""
    from constructions.circuit import ENCODING, Kind, Route, cell_code

    one = cell_code(Kind.OUT, Route.NONE, 1)
    codes = np.array(ENCODING.codes(), dtype=np.float64)
    return HeadSpec(codes, (codes == one).astype(np.float64))


# --------------------------------------------------------------------------- ECA
def eca_views(rule: int, reads: Iterable[int]) -> ViewSet:
    """Every 0/1 view; the next centre is bit ``4 w + 2 c + e`` of ``rule``."""
    order = (WEST, CENTER, EAST)
    rows = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    spec = np.array([(rule >> int(4 * w + 2 * c + e)) & 1 for w, c, e in rows], dtype=float)
    free = {p: np.array([0.0, 1.0]) for p in set(reads) if p not in order}
    return ViewSet("step", [Family("every 0/1 view", order, rows, free, spec, filler=0.0)])

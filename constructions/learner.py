"""Lemma 1 in one network: Algorithm 1 memorises, then a learner machine computes.

``compile_learner(machine)`` extends :func:`constructions.tm.compile_tm` to the whole of the
paper's construction: ONE shared 3x3 patch network and ONE pixel head such that, for any
``m`` and ``d`` and ``L = 1 + t(m, d)`` layers (``t`` the machine's time bound),

* **Lemma 1 (1), memorisation.** During SGD step ``i`` of Algorithm 1 (grid rows ``< i``
  hold ``±1/3``, rows ``>= i`` hold 0) the output is exactly 0 and ``∂ŷ/∂G`` is 1 on row
  ``i``'s data and label cells and 0 elsewhere, so SGD with ``η = 1/3`` writes example ``i``
  into row ``i`` of ``W``;
* **Lemma 1 (2), computation.** After memorisation, on any test point ``x`` the output is
  exactly ``A(S)[x]`` (``±1``), where ``A`` is the learner the machine computes on the
  learner tape (docs/learner_tape.md).

Cell values (the one place they are laid out; see docs/algorithm1.md)::

    value            meaning                                      present
    -------------    ------------------------------------------   ----------------------
    PAD = -1         outside the grid (the convolution's padding)  every layer's input
    -1/3, +1/3       a memorised cell: sign of c_ab (or y^a, x_b)  input of layer 1
    0                an empty memory row                           input of layer 1
    1                a work column (the memory layer's ones)       input of layer 1
    CARRIER = -4     the first empty row (carries slope 1)         after layer 1
    EMPTY = -2       a later empty row                             after layer 1
    2 + code         a learner-tape cell, code = symbol + k*head   after layer 1
                     + 2k*state (constructions.tm.tm_encoding)

Layer 1 (*conversion*) turns raw values into tape codes using only signs and the
neighbours that tell a cell's role: the east neighbour is ``1`` only for label cells, the
west neighbour is padding only in column 0, the north one only in row 0, and the south one
only in the last (dummy) row. The machine's head is born at the dummy row's label cell in
the start state. During memorisation that cell is 0 (the dummy example is memorised last),
so no head is ever born and no phase broadcast is needed: the test phase is recognised at
one cell, in the same first layer. Every later layer is one machine step
(:func:`constructions.tm.tm_local_rule`: identity on codes plus the step's lookups), while
``CARRIER`` passes through with slope 1 and ``EMPTY`` stays. A halted machine, and a grid
without a head, are fixed points.

Realisation: :func:`constructions.representation.realise_gates` (exact values and exact
Jacobians on the whole union of cell values, no unit at a kink; the hinges reading
``±1/3`` absorb its rounding). The head is ``v - CARRIER`` (slope 1) on the carrier,
``+1``/``-1`` on codes whose symbol is ``A+``/``A-``, 0 (slope 0) on every other value.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from constructions.encoding import CellEncoding
from constructions.memorisation import algorithm1
from constructions.patchnet import (
    CENTER,
    EAST,
    MANTISSA_BITS,
    NORTH,
    SOUTH,
    WEST,
    PatchNetwork,
    PixelHead,
    bits_needed,
)
from constructions.rcnn import RCNN
from constructions.representation import (
    Gate,
    ReluNetwork,
    gate_bits_needed,
    gates_spec,
    realise_gates,
)
from constructions.tm import (
    HALT_RULE,
    MOVE_DELTAS,
    require_exact_dtype,
    table_digits,
    tm_encoding,
    tm_local_rule,
)
from simulators.gridrun import Grid
from simulators.learner_tape import (
    ANSWER_SYMBOLS,
    LIBRARY_LEARNERS,
    MIN_WORK_COLUMNS,
    SYMBOL_NAMES,
    check_learner_machine,
    learner_tape,
    load_learner_file,
    load_learner_machine,
    start_cell,
    time_bound,
)
from simulators.turing import HALT, TuringMachine

PAD = Fraction(-1)
THIRD = Fraction(1, 3)
RAW = (-THIRD, Fraction(0), THIRD, Fraction(1))
CARRIER = Fraction(-4)
EMPTY = Fraction(-2)
CODE_OFFSET = 2
LEARNING_RATE = THIRD

CHECKPOINT_ABOVE_BYTES = 512 * 2**20
"""Backward passes whose saved activations would exceed this use activation checkpointing
every ``ceil(sqrt(L))`` layers (memory ``O(sqrt(L) x cells x width)``, about 1.66x the
time); smaller ones keep everything (the faster plain backward)."""

MAX_LAYERS = 10**6
"""Refuse depths beyond this before allocating anything (``L = 1 + t(m, d)``)."""


TIME_BOUND_EXPRESSIONS: dict[str, str] = {
    "majority": "(m + 1) * (m + 2)",
    "first_agree": "2 * m * (d + 1) + (m + 1) * (m + 2)",
    "nearest": "m * (d + 1) * (d + 2) + 2 * d + 1 if m else 1",
    "parity": "1 if m == 0 else ((12 * d * min(m, d) ** 2 + 60 * d * min(m, d) - min(m, d) ** 3"
              " + 9 * min(m, d) ** 2 + 70 * min(m, d) + 18) // 6 - (min(m, d) - 1) ** 2 // 4"
              " + ((7 * d * d + 7 * d) // 2 - d // 2 + 11 * d + 12 + (m - d - 1) * ((7 * d * d"
              " + 7 * d) // 2 - d // 2 + 12 * d + 10 + d % 2) if m > d else 0))",
}
"""``t(m, d)`` of each library learner (simulators.learner_tape.time_bound) as a Python
expression in ``m``, ``d`` and ``min`` (integer arithmetic), for the weight-file metadata;
a test checks it equals :func:`simulators.learner_tape.time_bound`."""


class LearnerError(ValueError):
    """A learner network cannot be built or run as asked; the message says why."""


def _box(**positions: tuple | None) -> tuple:
    """A 9-coordinate box from named patch positions (c, n, s, e, w)."""
    names = {"c": CENTER, "n": NORTH, "s": SOUTH, "e": EAST, "w": WEST}
    box: list = [None] * 9
    for key, interval in positions.items():
        box[names[key]] = interval
    return tuple(box)


def _point(v: Fraction) -> tuple[Fraction, Fraction]:
    return (v, v)


FILLED = (-THIRD, THIRD)
"""The values a neighbour of a memorised cell can hold in its own row or column (0 only
below the last memorised row, where it does not matter)."""


@dataclass(frozen=True)
class CompiledLearner:
    """A learner machine compiled, with Algorithm 1's memorisation, into one weight set."""

    machine: TuringMachine
    name: str
    encoding: CellEncoding
    gates: tuple[Gate, ...]
    net: ReluNetwork
    patch: PatchNetwork
    head: PixelHead
    l: int  # noqa: E741 -- the paper's number of work columns
    bound: Callable[[int, int], int] | None

    # -- sizes ----------------------------------------------------------------------------
    @property
    def n_shared_parameters(self) -> int:
        return self.patch.n_parameters + self.head.n_parameters

    @property
    def weight_set(self) -> set[Fraction]:
        """``U_s``: every distinct value among the shared weights."""
        return self.patch.weight_values() | self.head.weight_values()

    def code(self, **digits: int) -> Fraction:
        """The cell value of a learner-tape cell with the given fields."""
        return Fraction(CODE_OFFSET + self.encoding.encode(**digits))

    @property
    def code_values(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(CODE_OFFSET + c) for c in self.encoding.codes())

    @property
    def domain(self) -> tuple[Fraction, ...]:
        """Every value a cell or the padding can hold, in any layer."""
        return tuple(sorted({PAD, *RAW, CARRIER, EMPTY, *self.code_values}))

    @property
    def step_domain(self) -> tuple[Fraction, ...]:
        """The values of layers 2..L (all integers): codes, carrier, empty, padding."""
        return tuple(sorted({PAD, CARRIER, EMPTY, *self.code_values}))

    @functools.cached_property
    def bits(self) -> int:
        """Mantissa bits that make layers 2..L exact in value and Jacobian, in any summation
        order (a proven bound, :func:`constructions.representation.gate_bits_needed`);
        layer 1 reads the non-dyadic ``±1/3`` and is checked exhaustively instead
        (:func:`conversion_mismatches`)."""
        return gate_bits_needed(self.net, self.net.units1, self.step_domain,
                                self.patch.exclusive)

    @functools.cached_property
    def bits_all_partial_sums(self) -> int:
        """The stricter bound of :func:`constructions.patchnet.bits_needed` (every partial
        sum of every unit exact), reported for comparison."""
        return bits_needed(self.patch, self.step_domain)

    def exact_in(self, dtype: str) -> bool:
        return self.bits <= MANTISSA_BITS[dtype]

    def check_dtype(self, dtype: str) -> None:
        """Refuse a dtype that cannot run this network exactly."""
        require_exact_dtype(dtype, self.bits, f"the {self.name} learner network")

    # -- depth ----------------------------------------------------------------------------
    def time_bound(self, m: int, d: int) -> int:
        if self.bound is None:
            raise LearnerError(f"learner {self.name!r} has no proven time bound; give the "
                               f"number of machine steps to allow (--steps)")
        return self.bound(m, d)

    def layers(self, m: int, d: int, steps: int | None = None) -> int:
        """Theorem 1's depth, fixed before training: one conversion layer, then one layer
        per machine step, ``L = 1 + t(m, d)``."""
        t = self.time_bound(m, d) if steps is None else steps
        return 1 + t

    def rcnn(self, m: int, d: int, dtype: torch.dtype = torch.float64,
             layers: int | None = None, steps: int | None = None) -> RCNN:
        """Definition 5's RCNN for ``m`` examples (``m + 1`` memory rows with the dummy) and
        ``d`` features, with this weight set, ``W = 0``, and activation checkpointing every
        ``ceil(sqrt(L))`` layers when the saved activations would exceed
        :data:`CHECKPOINT_ABOVE_BYTES`."""
        L = self.layers(m, d, steps) if layers is None else layers
        if L < 1:
            raise LearnerError("the learner network needs at least the conversion layer")
        if L > MAX_LAYERS:
            raise LearnerError(f"depth L = {L:,} exceeds the limit {MAX_LAYERS:,}")
        model = RCNN(self.patch, self.head, layers=L, padding=float(PAD), d_in=d + 1,
                     d_mem=m + 1, l=self.l, dtype=dtype)
        if self.activation_bytes(m, d, L, dtype) > CHECKPOINT_ABOVE_BYTES:
            model.checkpoint_every = math.isqrt(L - 1) + 1
        return model

    def activation_bytes(self, m: int, d: int, layers: int,
                         dtype: torch.dtype = torch.float32) -> int:
        """What autograd keeps for one SGD step without checkpointing: per layer and cell
        the patch, both hidden layers and the output (about ``L x cells x width``)."""
        h1, h2 = self.patch.hidden
        cells = (m + 1) * (d + 1 + self.l)
        return layers * cells * (9 + h1 + h2 + 2) * torch.finfo(dtype).bits // 8

    def metadata(self) -> dict:
        """Sizes, and everything a client needs to run Algorithm 1 and the test phase without
        this project's code (docs/weight_files.md): cell values, memory layout, learning
        rate, dummy example, depth ``1 + t(m, d)``, alphabet, transition table, halt rule
        and readout."""
        h1, h2 = self.patch.hidden
        bound = TIME_BOUND_EXPRESSIONS.get(self.name) if self.bound is not None else None
        return {
            "kind": "learner",
            "learner": self.name,
            "s": self.machine.n_states,
            "k": self.machine.n_symbols,
            "transitions": sum(tr is not None for row in self.machine.table for tr in row),
            "work_columns": self.l,
            "hidden": [h1, h2],
            "d_head": self.head.U2.shape[0],
            "shared_parameters": self.n_shared_parameters,
            "weight_set_size": len(self.weight_set),
            "bits_needed": self.bits,
            "bits_all_partial_sums_exact": self.bits_all_partial_sums,
            "exact_dtypes": [d for d in ("float32", "float64") if self.exact_in(d)],
            "values": {"padding": str(PAD), "carrier": str(CARRIER), "empty": str(EMPTY),
                       "code_offset": CODE_OFFSET},
            "code_formula": "code_offset + symbol + k * head + 2 * k * state",
            "symbols": list(self.machine.symbol_names),
            "table": table_digits(self.machine),
            "moves": MOVE_DELTAS,
            "memory": {
                "rows": "m + 1: the m training examples in order, then the dummy example",
                "columns": "d + 1 + work_columns: the d features, the label, the work columns",
                "cell": "G[a][b] = W[a][b] * z[b] with z = [x; 1] (x the input, 1 for the "
                        "label column); every work-column cell holds 1",
                "W_init": 0,
            },
            "learning_rate": str(LEARNING_RATE),
            "sgd": "one step of plain SGD on W alone per example (the dummy last), on the loss "
                   "0.5 * (y - yhat)^2 with yhat = readout after all layers",
            "dummy_example": {"x": "all +1", "y": 1},
            "time_bound": bound,
            "layers": "L = 1 + t(m, d): one conversion layer, then one layer per machine step",
            "start": {"cell": "(m, d): the dummy row's label cell", "state": 0,
                      "how": "layer 1 writes the head there at test time (the dummy label is "
                             "+1/3 and the cell below is padding)"},
            "halt": HALT_RULE,
            "readout": "head(v) = +1 on codes whose symbol is A+, -1 on A-, v - carrier on "
                       "the carrier (slope 1), 0 elsewhere; the sum over the grid is the "
                       "prediction (exactly 0 during memorisation)",
        }

    # -- tapes <-> grids ------------------------------------------------------------------
    def tape_values(self, grid: Grid, head: tuple[int, int] | None = None,
                    state: int = 0) -> np.ndarray:
        """Cell values (float64) of a learner tape, with the head at ``head`` (or none)."""
        out = np.array([[float(self.code(symbol=a)) for a in row] for row in grid.cells])
        if head is not None:
            r, c = head
            s = self.machine.n_states if state == HALT else state
            out[r, c] = float(self.code(symbol=grid.cells[r][c], head=1, state=s))
        return out

    def input_tape(self, X: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The grid after layer 1 on test point ``x``: the learner tape, head at the start."""
        m, d = np.asarray(X).reshape(len(y), -1).shape
        tape = learner_tape(X, y, x, self.l, symbols=self.machine)
        return self.tape_values(tape, start_cell(m, d), 0)


# ---------------------------------------------------------------------------------------
# the compiler
# ---------------------------------------------------------------------------------------
def _conversion_gates(enc: CellEncoding, sym: dict[str, int]) -> list[Gate]:
    """Layer 1: raw memory values -> learner-tape codes, carrier and empty (group 1)."""
    def code(symbol: str, head: int = 0) -> Fraction:
        return Fraction(CODE_OFFSET + enc.encode(symbol=sym[symbol], head=head, state=0))

    pad, one = _point(PAD), _point(Fraction(1))
    gates = []
    for sign, c in ((1, _point(THIRD)), (-1, _point(-THIRD))):
        plus = sign > 0
        cell, edge = ("cell+", "edge+") if plus else ("cell-", "edge-")
        label, top = ("label+", "top+") if plus else ("label-", "top-")
        gates.append(Gate(_box(c=c, e=FILLED, w=FILLED), code(SYMBOL_NAMES[cell]), group=1,
                          name=f"conv:{SYMBOL_NAMES[cell]}"))
        gates.append(Gate(_box(c=c, e=FILLED, w=pad), code(SYMBOL_NAMES[edge]), group=1,
                          name=f"conv:{SYMBOL_NAMES[edge]}"))
        for north, lab in ((FILLED, label), (pad, top)):
            gates.append(Gate(_box(c=c, e=one, n=north, s=FILLED), code(SYMBOL_NAMES[lab]),
                              group=1, name=f"conv:{SYMBOL_NAMES[lab]}"))
            # the dummy row's label cell (south = padding): the head is born here at test
            # time; its value is +1/3 (dummy label 1), so -1/3 there is unreachable
            gates.append(Gate(_box(c=c, e=one, n=north, s=pad),
                              code(SYMBOL_NAMES[lab], head=1 if plus else 0), group=1,
                              name=f"conv:{SYMBOL_NAMES[lab]}" + ("+head" if plus else "")))
    zero = _point(Fraction(0))
    unit = (Fraction(0),) * CENTER + (Fraction(1),) + (Fraction(0),) * (8 - CENTER)
    gates.append(Gate(_box(c=zero, n=(PAD, -THIRD)), CARRIER, unit, group=1, name="carrier"))
    gates.append(Gate(_box(c=zero, n=_point(THIRD)), CARRIER, unit, group=1, name="carrier"))
    gates.append(Gate(_box(c=zero, n=zero), EMPTY, group=1, name="empty"))
    gates.append(Gate(_box(c=one), code(SYMBOL_NAMES["blank"]), group=1, name="conv:work"))
    return gates


def _step_gates(machine: TuringMachine, enc: CellEncoding) -> list[Gate]:
    """Layers 2..L: identity on codes, the machine's step lookups (one group per table),
    the carrier's slope-1 pass-through and the empty row's constant."""
    lo = Fraction(CODE_OFFSET)
    hi = Fraction(CODE_OFFSET + max(enc.codes()))
    unit = (Fraction(0),) * CENTER + (Fraction(1),) + (Fraction(0),) * (8 - CENTER)
    gates = [
        Gate(_box(c=(lo, hi)), lo, unit, group=2, name="identity"),
        Gate(_box(c=_point(CARRIER)), CARRIER, unit, group=3, name="carrier"),
        Gate(_box(c=_point(EMPTY)), EMPTY, group=3, name="empty"),
    ]
    rule = tm_local_rule(machine, enc)
    for g, table in enumerate(rule.tables, start=4):
        (position,) = table.positions
        for (code,), delta in sorted(table.values.items()):
            box: list = [None] * 9
            box[position] = _point(Fraction(CODE_OFFSET) + code)
            gates.append(Gate(tuple(box), delta, group=g, name=f"{table.name}:{code}"))
    return gates


def _interpolating_head(points: dict[Fraction, tuple[Fraction, Fraction]]) -> PixelHead:
    """A one-hidden-layer head ``c1 + sum_j a_j relu(v - t_j)`` with the given value and
    slope at each point: kinks only at quarter points between consecutive points (or one
    unit below the first), so no point sits on a kink."""
    xs = sorted(points)
    ts: list[Fraction] = []
    ws: list[Fraction] = []
    f0, s0 = points[xs[0]]
    c1 = f0
    if s0 != 0:
        ts.append(xs[0] - 1)
        ws.append(s0)
        c1 = f0 - s0
    for u, w in zip(xs, xs[1:]):
        (fu, su), (fw, sw) = points[u], points[w]
        if fw == fu + su * (w - u) and sw == su:
            continue
        t1, t2 = u + (w - u) / 4, w - (w - u) / 4
        mid = (fw - fu - su * (t1 - u) - sw * (w - t2)) / (t2 - t1)
        ts += [t1, t2]
        ws += [mid - su, sw - mid]
    n = max(1, len(ts))
    U2, c2, U1 = (np.empty((n, 1), dtype=object), np.empty(n, dtype=object),
                  np.empty((1, n), dtype=object))
    U2[...], c2[...], U1[...] = Fraction(1), Fraction(-1), Fraction(0)
    for j, (t, a) in enumerate(zip(ts, ws)):
        c2[j], U1[0, j] = -t, a
    if not ts:  # a dead unit keeps shapes non-empty
        c2[0] = Fraction(-xs[-1] - 1)
    c = np.empty(1, dtype=object)
    c[0] = c1
    return PixelHead(U2, c2, U1, c)


def compile_learner(machine: TuringMachine, name: str | None = None,
                    l: int = 1,  # noqa: E741
                    bound: Callable[[int, int], int] | None = None) -> CompiledLearner:
    """Shared weights that run Algorithm 1 (Lemma 1 (1)) and then ``machine`` on the learner
    tape (Lemma 1 (2)), with ``l`` work columns; ``bound(m, d)`` is the machine's time bound
    (``None``: depth must be given when a network is built)."""
    check_learner_machine(machine)
    if l < 1:
        raise LearnerError(f"the learner tape needs l >= 1 work columns, got {l}")
    enc = tm_encoding(machine.n_states, machine.n_symbols)
    sym = {s: i for i, s in enumerate(machine.symbol_names)}
    gates = tuple(_conversion_gates(enc, sym) + _step_gates(machine, enc))
    codes = [Fraction(CODE_OFFSET + c) for c in enc.codes()]
    domain = sorted({PAD, *RAW, CARRIER, EMPTY, *codes})
    net, groups = realise_gates(gates, [domain] * 9)
    patch = PatchNetwork(net.A1, net.b1, net.A2, net.b2, net.A3, net.b3, net.units1,
                         net.units2, groups)
    answer = {sym[ANSWER_SYMBOLS[0]]: Fraction(1), sym[ANSWER_SYMBOLS[1]]: Fraction(-1)}
    points = {v: (Fraction(0), Fraction(0)) for v in (EMPTY, *codes)}
    points[CARRIER] = (Fraction(0), Fraction(1))
    for c in enc.codes():
        a = enc.decode(c)["symbol"]
        if a in answer:
            points[Fraction(CODE_OFFSET + c)] = (answer[a], Fraction(0))
    head = _interpolating_head(points)
    return CompiledLearner(machine, name or machine.name or "learner", enc, gates, net, patch,
                           head, l, bound)


@functools.cache
def compile_library_learner(name: str) -> CompiledLearner:
    """The compiled network of a library learner machine (cached)."""
    if name not in LIBRARY_LEARNERS:
        raise LearnerError(f"unknown learner {name!r}; library learners: "
                           f"{', '.join(LIBRARY_LEARNERS)}")
    return compile_learner(load_learner_machine(name), name, MIN_WORK_COLUMNS[name],
                           functools.partial(time_bound, name))


def compile_learner_file(path: str | Path, l: int = 1) -> CompiledLearner:  # noqa: E741
    """Assemble a learner machine file (``.tm``) and compile it (no time bound known)."""
    machine = load_learner_file(path)
    return compile_learner(machine, Path(path).stem, l, None)


# ---------------------------------------------------------------------------------------
# running Algorithm 1 and the test phase
# ---------------------------------------------------------------------------------------
def memory_inputs(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """The memory-layer inputs ``z = [x; 1]`` for a batch of test points ``x`` (B, d)."""
    x = np.asarray(x, dtype=np.int64).reshape(len(x), -1)
    return torch.tensor(np.hstack([x, np.ones((len(x), 1), dtype=np.int64)]), dtype=dtype)


def predict(model: RCNN, x: np.ndarray, batch: int = 256, early_exit: bool = True,
            on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Forward passes of the (memorised) network on test points ``x`` (B, d): ``ŷ`` (B,).

    Uses :meth:`constructions.rcnn.RCNN.rollout_incremental` (only cells next to a change
    are re-evaluated; bit for bit the full rollout). With ``early_exit`` a batch stops once
    a layer leaves every grid unchanged, when all later layers would too.
    ``on_batch(n)`` sees progress.
    """
    outs = []
    for start in range(0, len(x), batch):
        z = memory_inputs(x[start:start + batch], model.W.dtype)
        with torch.no_grad():
            grid, _ = model.rollout_incremental(model.memory(z),
                                                stop_at_fixed_point=early_exit)
            outs.append(model.readout(grid))
        if on_batch is not None:
            on_batch(len(z))
    return torch.cat(outs).to(torch.float64).numpy() if outs else np.zeros(0)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: the learner grids are small (tens to thousands of cells),
    where intra-op threading costs more than it gives (up to 15x slower backward passes on
    a loaded 2-core machine, measured in benchmarks/bench_algorithm1.py)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class LearnRun:
    """The result of :func:`learn`: Algorithm 1's ``W``, each step's output, the test
    outputs and predictions, and the sizes that made them."""

    W: torch.Tensor
    train_outputs: list[float]
    test_outputs: np.ndarray
    predictions: np.ndarray
    layers: int
    grid: tuple[int, int]
    shared_parameters: int
    model: RCNN | None = None
    """The memorised network itself (``W`` as Algorithm 1 left it), e.g. to look inside."""
    stats: object = None
    """The events engine's :class:`constructions.events.EventStats` (None for dense)."""


def learn(learner: CompiledLearner, X: np.ndarray, y: np.ndarray, tests: np.ndarray,
          dtype: torch.dtype = torch.float32, steps: int | None = None,
          on_step: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
          on_batch: Callable[[int], None] | None = None, early_exit: bool = True,
          engine: str = "dense") -> LearnRun:
    """Algorithm 1 end to end: build the RCNN for ``(m, d)`` with ``L = 1 + t(m, d)``
    (or ``1 + steps``), memorise ``(X, y)`` by SGD on ``W`` (the dummy example appended),
    then run the test points. ``on_step(i, y_hat, W)`` sees every SGD step. ``engine``:
    ``"dense"`` (every cell, every layer) or ``"events"`` (the same network evaluated only
    where a cell's input changed, :mod:`constructions.events_learn`; bit for bit the same)."""
    X = np.asarray(X, dtype=np.int64)
    tests = np.asarray(tests, dtype=np.int64)
    if X.ndim != 2 or tests.ndim != 2 or X.shape[1] != tests.shape[1]:
        raise LearnerError(f"training inputs {X.shape} and test points {tests.shape} must be "
                           f"2-D with the same number of features")
    m, d = X.shape
    dt = {torch.float32: "float32", torch.float64: "float64"}.get(dtype)
    if dt is None:
        raise LearnerError(f"dtype {dtype} is not supported; use float32 or float64")
    learner.check_dtype(dt)
    if engine == "events":
        from constructions.events_learn import events_rcnn

        model = events_rcnn(learner, m, d, dtype, steps=steps)
    elif engine == "dense":
        model = learner.rcnn(m, d, dtype, steps=steps)
    else:
        raise LearnerError(f"unknown engine {engine!r}; choose dense or events")
    outputs: list[float] = []

    def record(i: int, y_hat: torch.Tensor, W: torch.Tensor) -> None:
        outputs.append(float(y_hat))
        if on_step is not None:
            on_step(i, y_hat, W)

    with single_thread():
        W = algorithm1(model, X, y, lr=float(LEARNING_RATE), on_step=record)
        y_hat = predict(model, tests, early_exit=early_exit, on_batch=on_batch)
    return LearnRun(W, outputs, y_hat, predictions_from_outputs(y_hat, model.layers),
                    model.layers, (m + 1, d + 1 + learner.l), model.n_shared_parameters,
                    model, getattr(model, "stats", None))


def predictions_from_outputs(y_hat: np.ndarray, layers: int) -> np.ndarray:
    """``±1`` from the network's outputs; anything else means no answer was written."""
    bad = np.flatnonzero((y_hat != 1) & (y_hat != -1))
    if len(bad):
        i = int(bad[0])
        raise LearnerError(f"test point {i + 1}: the network's output is "
                           f"{float(y_hat[i])!r}, not ±1: the machine wrote no single answer "
                           f"within {layers - 1} steps")
    return y_hat.astype(np.int64)


def conversion_patches(dtype: torch.dtype) -> list[tuple[float, ...]]:
    """Every patch layer 1 can see (centre, north, south, east, west from padding and the
    raw values, with ``1/3`` rounded to ``dtype``; corners are not read), as 9-tuples."""
    third = torch.tensor(1 / 3, dtype=dtype).item()
    values = (float(PAD), -third, 0.0, third, 1.0)
    out = []
    for c in values:
        for n in values:
            for s in values:
                for e in values:
                    for w in values:
                        p = [0.0] * 9
                        p[CENTER], p[NORTH], p[SOUTH], p[EAST], p[WEST] = c, n, s, e, w
                        out.append(tuple(p))
    return out


def conversion_mismatches(learner: CompiledLearner, dtype: torch.dtype) -> list[str]:
    """Exhaustive float check of layer 1: on every patch of :func:`conversion_patches`, the
    float network's value and autograd Jacobian equal the specification (the sum of the
    gates, :func:`constructions.representation.gates_spec`, with ``1/3`` exact), so the
    rounding of ``1/3`` never reaches the output."""
    pts = conversion_patches(dtype)
    third = torch.tensor(1 / 3, dtype=dtype).item()
    model = learner.net.to_torch(dtype)
    x = torch.tensor(pts, dtype=dtype, requires_grad=True)
    y = model(x)[:, 0]
    (grad,) = torch.autograd.grad(y.sum(), x)
    exact_of = {float(PAD): PAD, -third: -THIRD, 0.0: Fraction(0), third: THIRD, 1.0: Fraction(1)}
    exact_pts = [tuple(exact_of[v] for v in p) for p in pts]
    errors = []
    for q, yv, gv, (want_v, want_j) in zip(exact_pts, y.detach().tolist(), grad.tolist(),
                                           gates_spec(learner.gates, exact_pts)):
        if Fraction(yv) != want_v or tuple(Fraction(g) for g in gv) != want_j:
            errors.append(f"patch {[str(c) for c in q]}: float value {yv} / jacobian {gv}, "
                          f"specified {want_v} / {[str(j) for j in want_j]}")
    return errors


def describe_values(learner: CompiledLearner) -> Iterable[tuple[str, str]]:
    """(value, meaning) rows of the cell-value table, for docs and reports."""
    yield str(PAD), "padding"
    yield "±1/3", "memorised cell (layer-1 input)"
    yield "0", "empty memory row (layer-1 input)"
    yield "1", "work column (layer-1 input)"
    yield str(CARRIER), "carrier: first empty row (slope 1)"
    yield str(EMPTY), "later empty row"
    yield f"{CODE_OFFSET}..{CODE_OFFSET + max(learner.encoding.codes())}", \
        "learner-tape code + 2 (symbol + k*head + 2k*state)"


__all__: Sequence[str] = (
    "CARRIER", "CODE_OFFSET", "EMPTY", "LEARNING_RATE", "PAD", "CompiledLearner",
    "LearnerError", "compile_learner", "compile_learner_file", "compile_library_learner",
    "LearnRun", "conversion_mismatches", "learn", "memory_inputs", "predict",
    "predictions_from_outputs", "single_thread",
)

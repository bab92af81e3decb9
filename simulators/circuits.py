"""Boolean circuits: the classifiers our learners output, and their reference evaluator.

A :class:`Circuit` has ``n_wires`` wires numbered ``0 .. n_wires-1``. Some wires are the
circuit's *inputs* (in a fixed order); every other wire that is used is driven by exactly one
:class:`Gate`. Gates are listed in a topological order: a gate reads only circuit inputs and
wires driven by gates listed before it. The *outputs* are a sequence of wires (each an input or
a driven wire; the same wire may be listed more than once).

Ops and arities (see :class:`Op`): ``AND OR XOR NAND NOR XNOR`` take two inputs, ``NOT`` and
``COPY`` one, ``CONST0`` and ``CONST1`` none. The Bristol names ``INV``, ``EQW`` and ``EQ`` are
accepted as aliases by :meth:`Op.parse` (``EQ`` needs its constant and is handled by the
Bristol parser).

Construction validates the whole circuit and raises :class:`CircuitError` (a ``ValueError``)
naming the offending wire, and the source line when gates came from a file.

Evaluation conventions: a bit is the ``int`` 0 or 1. :func:`evaluate` returns the outputs in
the order of ``circuit.outputs``. :func:`evaluate_all` enumerates assignments ``a = 0 ..
2**n-1`` where input ``k`` takes bit ``k`` of ``a`` (input 0 is the least significant bit).

This module never imports torch.
"""

from __future__ import annotations

import enum
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_EVALUATE_ALL_INPUTS = 20
""":func:`evaluate_all` refuses circuits with more inputs than this (2**20 assignments)."""


class CircuitError(ValueError):
    """An invalid circuit or circuit file. ``line`` (and ``col``) and ``source`` locate it
    when known: ``source:line:col: message``."""

    def __init__(self, message: str, *, line: int | None = None, source: str | None = None,
                 col: int | None = None):
        self.message = message
        self.line = line
        self.col = col
        self.source = source
        where = ""
        if source is not None and line is not None:
            where = f"{source}:{line}:" + (f"{col}:" if col is not None else "") + " "
        elif source is not None:
            where = f"{source}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


def read_circuit_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(text, source)`` of the circuit file at ``path``: at most
    :data:`~simulators.inputs.MAX_CIRCUIT_BYTES` of UTF-8 (:func:`simulators.inputs.read_text`),
    and the name errors give it; a file that cannot be read is a :class:`CircuitError`."""
    from simulators.inputs import MAX_CIRCUIT_BYTES, InputError, read_text, source_label

    source = source_label(path)
    try:
        return read_text(path, MAX_CIRCUIT_BYTES, "circuit file"), source
    except InputError as e:
        raise CircuitError(e.message, line=e.line, col=e.col, source=source) from None


class Op(str, enum.Enum):
    """Gate operations."""

    AND = "AND"
    OR = "OR"
    XOR = "XOR"
    NOT = "NOT"
    NAND = "NAND"
    NOR = "NOR"
    XNOR = "XNOR"
    COPY = "COPY"
    CONST0 = "CONST0"
    CONST1 = "CONST1"

    @property
    def arity(self) -> int:
        """Number of input wires the op reads."""
        return _ARITY[self]

    @classmethod
    def parse(cls, name: str | Op) -> Op:
        """The op called ``name`` (case-insensitive; ``INV`` = NOT, ``EQW`` = COPY)."""
        if isinstance(name, Op):
            return name
        if not isinstance(name, str):
            raise CircuitError(f"gate op must be a string, got {name!r}")
        key = name.strip().upper()
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(sorted([o.value for o in cls] + list(_ALIASES)))
            raise CircuitError(f"unknown gate op {name!r} (known: {known})") from None

    def __str__(self) -> str:
        return self.value


_ARITY: dict[Op, int] = {
    Op.AND: 2,
    Op.OR: 2,
    Op.XOR: 2,
    Op.NAND: 2,
    Op.NOR: 2,
    Op.XNOR: 2,
    Op.NOT: 1,
    Op.COPY: 1,
    Op.CONST0: 0,
    Op.CONST1: 0,
}
_ALIASES = {"INV": "NOT", "EQW": "COPY"}


@dataclass(frozen=True)
class Gate:
    """``output = op(*inputs)``. ``line`` is the source line (not part of equality)."""

    op: Op
    inputs: tuple[int, ...]
    output: int
    line: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", Op.parse(self.op))
        try:
            inputs = tuple(self.inputs)
        except TypeError:
            raise CircuitError(
                f"gate inputs must be a sequence of wire ids, got {self.inputs!r}", line=self.line
            ) from None
        object.__setattr__(self, "inputs", inputs)
        for w in (*inputs, self.output):
            if not _is_int(w):
                raise CircuitError(f"wire ids must be integers, got {w!r}", line=self.line)
        if len(inputs) != self.op.arity:
            raise CircuitError(
                f"{self.op} takes {self.op.arity} input(s), got {len(inputs)}: {inputs}",
                line=self.line,
            )


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _gate_name(gate: Gate, index: int) -> str:
    where = f" at line {gate.line}" if gate.line is not None else ""
    return f"gate #{index} ({gate.op} -> wire {gate.output}){where}"


@dataclass(frozen=True)
class Circuit:
    """A validated combinational circuit (see the module docstring for the model).

    ``input_sizes``/``output_sizes`` optionally group the inputs/outputs into values as
    Bristol Fashion does (sums must match); ``input_names``/``output_names`` optionally name
    them one by one (AIGER symbols; entries may be ``None``). ``source`` names the file the
    circuit came from, for error messages; it is not part of equality.
    """

    n_wires: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    gates: tuple[Gate, ...]
    input_sizes: tuple[int, ...] | None = None
    output_sizes: tuple[int, ...] | None = None
    input_names: tuple[str | None, ...] | None = None
    output_names: tuple[str | None, ...] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("inputs", "outputs", "gates"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("input_sizes", "output_sizes", "input_names", "output_names"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        _validate(self)

    @property
    def n_inputs(self) -> int:
        """Number of input wires."""
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return len(self.outputs)

    def __repr__(self) -> str:
        return (
            f"Circuit(n_wires={self.n_wires}, n_inputs={self.n_inputs}, "
            f"n_outputs={self.n_outputs}, n_gates={len(self.gates)})"
        )


def _validate(c: Circuit) -> None:
    src = c.source

    def err(message: str, line: int | None = None) -> CircuitError:
        return CircuitError(message, line=line, source=src)

    if not _is_int(c.n_wires) or c.n_wires < 0:
        raise err(f"n_wires must be a non-negative integer, got {c.n_wires!r}")
    n = c.n_wires

    def check_wire(w: object, what: str, line: int | None = None) -> None:
        if not _is_int(w):
            raise err(f"{what}: wire ids must be integers, got {w!r}", line)
        if not 0 <= w < n:  # type: ignore[operator]
            raise err(f"{what}: wire {w} out of range (n_wires={n})", line)

    for k, w in enumerate(c.inputs):
        check_wire(w, f"input {k}")
    for k, w in enumerate(c.outputs):
        check_wire(w, f"output {k}")
    for i, g in enumerate(c.gates):
        if not isinstance(g, Gate):
            raise err(f"gates[{i}] is not a Gate: {g!r}")
        for w in (*g.inputs, g.output):
            check_wire(w, _gate_name(g, i), g.line)

    is_input: dict[int, int] = {}
    for k, w in enumerate(c.inputs):
        if w in is_input:
            raise err(f"wire {w} is listed as input {is_input[w]} and again as input {k}")
        is_input[w] = k

    driver: dict[int, int] = {}
    for i, g in enumerate(c.gates):
        w = g.output
        if w in is_input:
            raise err(
                f"wire {w} is doubly driven: it is circuit input {is_input[w]} and is also "
                f"driven by {_gate_name(g, i)}",
                g.line,
            )
        if w in driver:
            j = driver[w]
            raise err(
                f"wire {w} is doubly driven: by {_gate_name(c.gates[j], j)} and by "
                f"{_gate_name(g, i)}",
                g.line,
            )
        driver[w] = i

    for i, g in enumerate(c.gates):
        for w in g.inputs:
            if w not in is_input and w not in driver:
                raise err(
                    f"wire {w} is read by {_gate_name(g, i)} but is neither an input nor driven "
                    "by any gate",
                    g.line,
                )

    cycle = _find_cycle(c.gates, driver)
    if cycle is not None:
        g = c.gates[driver[cycle[0]]]
        path = " -> ".join(str(w) for w in cycle + [cycle[0]])
        raise err(
            f"combinational cycle through wire {cycle[0]} ({path}: each wire's driver reads "
            "the next wire)",
            g.line,
        )

    for i, g in enumerate(c.gates):
        for w in g.inputs:
            if w in driver and driver[w] > i:
                j = driver[w]
                raise err(
                    f"wire {w} is read by {_gate_name(g, i)} before it is driven (by "
                    f"{_gate_name(c.gates[j], j)}): gates must be listed in topological order",
                    g.line,
                )

    for k, w in enumerate(c.outputs):
        if w not in is_input and w not in driver:
            raise err(f"output {k} is wire {w}, which is neither an input nor driven by any gate")

    for sizes_name, sizes, count in (
        ("input_sizes", c.input_sizes, len(c.inputs)),
        ("output_sizes", c.output_sizes, len(c.outputs)),
    ):
        if sizes is None:
            continue
        if any(not _is_int(s) or s < 0 for s in sizes):
            raise err(f"{sizes_name} must be non-negative integers, got {sizes}")
        if sum(sizes) != count:
            raise err(f"{sizes_name} {sizes} sum to {sum(sizes)}, but there are {count}")
    for names_name, names, count in (
        ("input_names", c.input_names, len(c.inputs)),
        ("output_names", c.output_names, len(c.outputs)),
    ):
        if names is None:
            continue
        if len(names) != count:
            raise err(f"{names_name} has {len(names)} entries, but there are {count}")
        if any(s is not None and not isinstance(s, str) for s in names):
            raise err(f"{names_name} entries must be strings or None, got {names}")


def _find_cycle(gates: Sequence[Gate], driver: dict[int, int]) -> list[int] | None:
    """A list of wires forming a cycle (each driven by a gate reading the next), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[int, int] = {}
    for start in driver:
        if colour.get(start, WHITE) != WHITE:
            continue
        colour[start] = GREY
        stack: list[tuple[int, int]] = [(start, 0)]
        while stack:
            w, k = stack[-1]
            ins = gates[driver[w]].inputs
            if k == len(ins):
                colour[w] = BLACK
                stack.pop()
                continue
            stack[-1] = (w, k + 1)
            v = ins[k]
            if v not in driver:
                continue
            cv = colour.get(v, WHITE)
            if cv == GREY:
                path = [x for x, _ in stack]
                return path[path.index(v) :]
            if cv == WHITE:
                colour[v] = GREY
                stack.append((v, 0))
    return None


# --------------------------------------------------------------------------- evaluation

_FUNCS: dict[Op, Callable[..., Any]] = {
    Op.AND: lambda a, b: a & b,
    Op.OR: lambda a, b: a | b,
    Op.XOR: lambda a, b: a ^ b,
    Op.NAND: lambda a, b: (a & b) ^ 1,
    Op.NOR: lambda a, b: (a | b) ^ 1,
    Op.XNOR: lambda a, b: a ^ b ^ 1,
    Op.NOT: lambda a: a ^ 1,
    Op.COPY: lambda a: a,
}


def evaluate(circuit: Circuit, bits: Sequence[int]) -> list[int]:
    """The circuit's output bits (in ``circuit.outputs`` order) on input bits ``bits``.

    ``bits[k]`` (0/1 or bool) is the value of input ``k``; its length must be ``n_inputs``.
    """
    if len(bits) != len(circuit.inputs):
        raise ValueError(f"expected {len(circuit.inputs)} input bits, got {len(bits)}")
    values = [0] * circuit.n_wires
    for k, (w, b) in enumerate(zip(circuit.inputs, bits, strict=True)):
        if b not in (0, 1):
            raise ValueError(f"input bit {k} must be 0 or 1, got {b!r}")
        values[w] = int(b)
    for g in circuit.gates:
        if g.op is Op.CONST0:
            values[g.output] = 0
        elif g.op is Op.CONST1:
            values[g.output] = 1
        else:
            values[g.output] = _FUNCS[g.op](*(values[w] for w in g.inputs))
    return [values[w] for w in circuit.outputs]


def evaluate_all(circuit: Circuit) -> np.ndarray:
    """Truth table: a ``uint8`` array of shape ``(2**n_inputs, n_outputs)``.

    Row ``a`` holds the outputs when input ``k`` is bit ``k`` of ``a``. Vectorised by bit
    slicing: each wire is a ``uint8`` array over all assignments, freed after its last use.
    Refuses circuits with more than ``MAX_EVALUATE_ALL_INPUTS`` (20) inputs.
    """
    n = len(circuit.inputs)
    if n > MAX_EVALUATE_ALL_INPUTS:
        raise ValueError(
            f"evaluate_all enumerates all 2**n assignments and is limited to "
            f"{MAX_EVALUATE_ALL_INPUTS} inputs; this circuit has {n} (use evaluate on chosen "
            "inputs instead)"
        )
    size = 1 << n
    index = np.arange(size, dtype=np.uint32)
    keep = set(circuit.outputs)
    last_use: dict[int, int] = {}
    for i, g in enumerate(circuit.gates):
        for w in g.inputs:
            last_use[w] = i
    values: dict[int, np.ndarray] = {}
    for k, w in enumerate(circuit.inputs):
        values[w] = ((index >> k) & 1).astype(np.uint8)
    for i, g in enumerate(circuit.gates):
        if g.op is Op.CONST0:
            out = np.zeros(size, dtype=np.uint8)
        elif g.op is Op.CONST1:
            out = np.ones(size, dtype=np.uint8)
        else:
            out = _FUNCS[g.op](*(values[w] for w in g.inputs))  # arrays are never mutated
        values[g.output] = out
        for w in set(g.inputs):
            if last_use[w] == i and w not in keep:
                del values[w]
    result = np.empty((size, len(circuit.outputs)), dtype=np.uint8)
    for j, w in enumerate(circuit.outputs):
        result[:, j] = values[w]
    return result


# --------------------------------------------------------------------------- structure


def levels(circuit: Circuit) -> list[int]:
    """The level of each gate, aligned with ``circuit.gates``.

    Input wires are at level 0; a gate is one more than the deepest wire it reads, so a gate
    with no inputs (a constant) is at level 1. A wire's level is that of its driver.
    """
    wire_level: dict[int, int] = {w: 0 for w in circuit.inputs}
    result = []
    for g in circuit.gates:
        lvl = 1 + max((wire_level[w] for w in g.inputs), default=0)
        wire_level[g.output] = lvl
        result.append(lvl)
    return result


def depth(circuit: Circuit) -> int:
    """The largest gate level (0 for a circuit without gates)."""
    return max(levels(circuit), default=0)


def width(circuit: Circuit) -> int:
    """The largest number of gates on one level (0 for a circuit without gates)."""
    counts: dict[int, int] = {}
    for lvl in levels(circuit):
        counts[lvl] = counts.get(lvl, 0) + 1
    return max(counts.values(), default=0)


# --------------------------------------------------------------------------- random circuits


def random_circuit(
    rng: random.Random,
    n_inputs: int,
    n_gates: int,
    n_outputs: int,
    *,
    ops: Sequence[Op | str] | None = None,
    spare_wires: int = 0,
    permute: bool = False,
) -> Circuit:
    """A random circuit: each gate applies an op from ``ops`` (default: all) to earlier wires.

    Outputs are drawn from all inputs and gate outputs, with repetition. ``spare_wires`` adds
    wires nobody uses; ``permute`` shuffles wire ids (so inputs need not come first). Raises
    ``ValueError`` if a gate cannot be formed (no constants in ``ops`` and no inputs) or if an
    output is requested from a circuit without wires.
    """
    pool = [Op.parse(o) for o in (ops if ops is not None else list(Op))]
    if not pool:
        raise ValueError("ops must not be empty")
    n_wires = n_inputs + n_gates + spare_wires
    ids = list(range(n_wires))
    if permute:
        rng.shuffle(ids)
    available = [ids[k] for k in range(n_inputs)]
    gates = []
    for i in range(n_gates):
        # A gate may read the same wire twice (e.g. AND(w, w)).
        usable = [o for o in pool if o.arity == 0 or available]
        if not usable:
            raise ValueError("cannot form a gate: no inputs and no constant op in ops")
        op = rng.choice(usable)
        inputs = tuple(rng.choice(available) for _ in range(op.arity))
        out = ids[n_inputs + i]
        gates.append(Gate(op, inputs, out))
        available.append(out)
    if n_outputs and not available:
        raise ValueError("cannot choose outputs: the circuit has no inputs and no gates")
    outputs = tuple(rng.choice(available) for _ in range(n_outputs))
    return Circuit(n_wires, tuple(ids[:n_inputs]), outputs, tuple(gates))

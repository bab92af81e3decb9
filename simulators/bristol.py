"""Bristol Fashion circuit files: parser and writer.

Format (one item per line; blank lines are ignored)::

    ngates nwires
    niv n_1 .. n_niv          # number of input values and their bit sizes
    nov m_1 .. m_nov          # number of output values and their bit sizes
    nin nout in_1 .. in_nin out_1 .. out_nout OP     # one line per gate

Input wires are ``0 .. sum(n)-1`` (value 1's bits first), output wires are the last
``sum(m)`` wires, in order. OP is one of ``XOR AND`` (2 in, 1 out), ``INV EQW`` (1 in, 1 out:
negation, copy), ``EQ`` (1 in, 1 out, the "input" is the constant 0 or 1), and ``MAND``
(``2k`` in, ``k`` out: ``out_i = in_i AND in_{k+i}``), which is expanded into ``k`` AND gates.
Gates must be listed in topological order and ``ngates`` counts gate lines (a MAND line is
one). Errors are :class:`~simulators.circuits.CircuitError` with the 1-based line number and the
offending token.

:func:`dump_bristol` writes any :class:`~simulators.circuits.Circuit`: ops outside Bristol's
set are rewritten (``OR(a,b) = (a XOR b) XOR (a AND b)``, ``NAND = INV(AND)``,
``NOR(a,b) = AND(INV a, INV b)``, ``XNOR = INV(XOR)``), and wires are renumbered into the
Bristol layout (inputs first, outputs last, unused wires dropped; an output that is an input
or repeats an earlier output gets an ``EQW`` copy) unless the circuit already has that layout
and needs no rewriting, in which case wire numbers are kept. The result is functionally equal,
with the same input/output counts and group sizes (one group each when the circuit has none).
"""

from __future__ import annotations

import os
import re

from simulators.circuits import Circuit, CircuitError, Gate, Op, read_circuit_text
from simulators.inputs import (
    MAX_INT_DIGITS,
    shown,
)

BRISTOL_OPS = ("XOR", "AND", "INV", "EQ", "EQW", "MAND")
"""The gate names of Bristol Fashion."""

_SIMPLE_OPS = {"XOR": Op.XOR, "AND": Op.AND, "INV": Op.NOT, "EQW": Op.COPY}
_TOKEN = re.compile(r"\S+")

MAX_WIRES = 1 << 20
"""Bristol files may declare at most this many wires (1,048,576), checked before any list of
wires is built."""


def parse_bristol(text: str, filename: str | None = None) -> Circuit:
    """Parse Bristol Fashion ``text``; ``filename`` is used in error messages only.

    Errors name ``file:line:col`` of the offending token. Declared sizes are bounded before
    anything is allocated: at most :data:`MAX_WIRES` wires, integers of at most
    :data:`~simulators.inputs.MAX_INT_DIGITS` digits.
    """
    lines = [(no, _tokens(ln)) for no, ln in enumerate(text.split("\n"), start=1) if ln.strip()]

    def err(message: str, line: int | None, col: int | None = None) -> CircuitError:
        return CircuitError(message, line=line, source=filename, col=col)

    def integer(tok: tuple[str, int], what: str, line: int) -> int:
        t, col = tok
        if not t.isascii() or not t.isdigit():
            raise err(f"expected a non-negative integer for {what}, got {shown(t)}", line, col)
        if len(t) > MAX_INT_DIGITS:
            raise err(f"{what} has {len(t):,} digits, more than the limit of {MAX_INT_DIGITS}",
                      line, col)
        return int(t)

    last_line = text.count("\n") + 1
    for k, what in enumerate(("header 'ngates nwires'", "inputs line", "outputs line")):
        if len(lines) <= k:
            raise err(f"file ends before the {what}", max(last_line, 1))

    hline, htoks = lines[0]
    if len(htoks) != 2:
        raise err(f"header must be 'ngates nwires' (2 tokens), got {len(htoks)}: "
                  f"{shown([t for t, _ in htoks])}", hline, htoks[0][1])
    ngates = integer(htoks[0], "ngates", hline)
    nwires = integer(htoks[1], "nwires", hline)
    if nwires > MAX_WIRES:
        raise err(f"{nwires:,} wires declared, more than the limit of {MAX_WIRES:,}", hline,
                  htoks[1][1])

    def sizes_line(index: int, what: str) -> tuple[int, tuple[int, ...]]:
        line, toks = lines[index]
        count = integer(toks[0], f"the number of {what} values", line)
        if len(toks) != count + 1:
            raise err(
                f"{what} line declares {count:,} values, so it needs {count + 1:,} tokens, "
                f"got {len(toks)}",
                line, toks[0][1],
            )
        sizes = tuple(integer(t, f"an {what} value's bit size", line) for t in toks[1:])
        return line, sizes

    in_line, in_sizes = sizes_line(1, "input")
    out_line, out_sizes = sizes_line(2, "output")
    n_in, n_out = sum(in_sizes), sum(out_sizes)
    if n_in > nwires:
        raise err(f"{n_in:,} input wires declared, but the header has only {nwires:,} wires",
                  in_line)
    if n_out > nwires:
        raise err(
            f"{n_out:,} output wires declared, but the header has only {nwires:,} wires",
            out_line,
        )

    def wire(tok: tuple[str, int], line: int) -> int:
        w = integer(tok, "a wire", line)
        if w >= nwires:
            raise err(
                f"wire {shown(tok[0])} out of range: the header declares {nwires:,} wires "
                f"(0..{nwires - 1})",
                line, tok[1],
            )
        return w

    gates: list[Gate] = []
    gate_lines = lines[3:]
    for count, (line, toks) in enumerate(gate_lines, start=1):
        if count > ngates:
            raise err(
                f"more gate lines than the {ngates:,} declared in the header (line {hline})", line
            )
        if len(toks) < 3:
            raise err(f"a gate line needs at least 3 tokens 'nin nout ... OP', got "
                      f"{shown([t for t, _ in toks])}", line, toks[0][1])
        nin = integer(toks[0], "nin", line)
        nout = integer(toks[1], "nout", line)
        if len(toks) != nin + nout + 3:
            raise err(
                f"gate line with nin={nin}, nout={nout} needs {nin + nout + 3} tokens, "
                f"got {len(toks)}",
                line, toks[0][1],
            )
        op, op_col = toks[-1]
        if op not in BRISTOL_OPS:
            raise err(f"unknown op {shown(op)} (Bristol Fashion ops: {', '.join(BRISTOL_OPS)})",
                      line, op_col)
        if op == "MAND":
            if nin != 2 * nout or nout < 1:
                raise err(f"MAND needs nin = 2*nout >= 2, got nin={nin}, nout={nout}", line,
                          op_col)
        elif op in ("XOR", "AND"):
            if (nin, nout) != (2, 1):
                raise err(f"{op} needs nin=2 nout=1, got nin={nin}, nout={nout}", line, op_col)
        elif (nin, nout) != (1, 1):
            raise err(f"{op} needs nin=1 nout=1, got nin={nin}, nout={nout}", line, op_col)

        outs = [wire(t, line) for t in toks[2 + nin : 2 + nin + nout]]
        if op == "EQ":
            const, const_col = toks[2]
            if const not in ("0", "1"):
                raise err(f"EQ assigns a constant, which must be 0 or 1, got {shown(const)}",
                          line, const_col)
            gates.append(Gate(Op.CONST1 if const == "1" else Op.CONST0, (), outs[0], line=line))
            continue
        ins = [wire(t, line) for t in toks[2 : 2 + nin]]
        if op == "MAND":
            for i in range(nout):
                gates.append(Gate(Op.AND, (ins[i], ins[nout + i]), outs[i], line=line))
        else:
            gates.append(Gate(_SIMPLE_OPS[op], tuple(ins), outs[0], line=line))
    if len(gate_lines) < ngates:
        raise err(
            f"header declares {ngates:,} gates, but the file has only {len(gate_lines):,} gate "
            "lines",
            hline, htoks[0][1],
        )

    inputs = tuple(range(n_in))
    outputs = tuple(range(nwires - n_out, nwires))
    # Validate the gates first (their errors carry gate lines), then the implied outputs.
    Circuit(n_wires=nwires, inputs=inputs, outputs=(), gates=tuple(gates), source=filename)
    driven = {g.output for g in gates} | set(inputs)
    for k, w in enumerate(outputs):
        if w not in driven:
            raise err(
                f"output wire {w} (output bit {k} of {n_out}) is never driven by a gate", out_line
            )
    return Circuit(
        n_wires=nwires,
        inputs=inputs,
        outputs=outputs,
        gates=tuple(gates),
        input_sizes=in_sizes,
        output_sizes=out_sizes,
        source=filename,
    )


def _tokens(line: str) -> list[tuple[str, int]]:
    """The whitespace-separated tokens of ``line`` with their 1-based columns."""
    return [(m.group(), m.start() + 1) for m in _TOKEN.finditer(line)]


def load_bristol(path: str | os.PathLike[str]) -> Circuit:
    """Read (at most :data:`~simulators.inputs.MAX_CIRCUIT_BYTES`, UTF-8) and parse the
    Bristol Fashion file at ``path``."""
    text, source = read_circuit_text(path)
    return parse_bristol(text, filename=source)


def _to_bristol_ops(circuit: Circuit) -> tuple[list[Gate], int]:
    """Gates using only AND/XOR/NOT/COPY/CONST ops, and the new wire count."""
    next_wire = circuit.n_wires
    out: list[Gate] = []

    def fresh() -> int:
        nonlocal next_wire
        next_wire += 1
        return next_wire - 1

    for g in circuit.gates:
        if g.op is Op.OR:
            a, b = g.inputs
            t, u = fresh(), fresh()
            out += [
                Gate(Op.XOR, (a, b), t),
                Gate(Op.AND, (a, b), u),
                Gate(Op.XOR, (t, u), g.output),
            ]
        elif g.op is Op.NAND:
            t = fresh()
            out += [Gate(Op.AND, g.inputs, t), Gate(Op.NOT, (t,), g.output)]
        elif g.op is Op.NOR:
            a, b = g.inputs
            t, u = fresh(), fresh()
            out += [Gate(Op.NOT, (a,), t), Gate(Op.NOT, (b,), u), Gate(Op.AND, (t, u), g.output)]
        elif g.op is Op.XNOR:
            t = fresh()
            out += [Gate(Op.XOR, g.inputs, t), Gate(Op.NOT, (t,), g.output)]
        else:
            out.append(g)
    return out, next_wire


def _bristol_layout(circuit: Circuit) -> tuple[list[Gate], int]:
    """Gates renumbered into the Bristol layout, and the wire count."""
    gates, n_wires = _to_bristol_ops(circuit)
    n_in, n_out = circuit.n_inputs, circuit.n_outputs
    if (
        n_wires == circuit.n_wires
        and circuit.inputs == tuple(range(n_in))
        and circuit.outputs == tuple(range(n_wires - n_out, n_wires))
        and n_in + n_out <= n_wires
    ):
        return gates, n_wires
    driven = {g.output for g in gates}
    internal = sum(1 for w in driven if w not in circuit.outputs)
    total = n_in + internal + n_out
    mapping = {w: k for k, w in enumerate(circuit.inputs)}
    copies: list[tuple[int, int]] = []  # (old wire, new output wire)
    for k, w in enumerate(circuit.outputs):
        if w in driven and w not in mapping:
            mapping[w] = total - n_out + k
        else:
            copies.append((w, total - n_out + k))
    next_id = n_in
    result: list[Gate] = []
    for g in gates:
        if g.output not in mapping:
            mapping[g.output] = next_id
            next_id += 1
        result.append(Gate(g.op, tuple(mapping[w] for w in g.inputs), mapping[g.output]))
    for w, new in copies:
        result.append(Gate(Op.COPY, (mapping[w],), new))
    # Outputs that were copied did not consume an internal slot (they are in circuit.outputs),
    # so ids are dense: n_in + internal == next_id.
    assert next_id == n_in + internal
    return result, total


def dump_bristol(circuit: Circuit) -> str:
    """Bristol Fashion text for ``circuit`` (see the module docstring for the rewriting)."""
    gates, n_wires = _bristol_layout(circuit)
    n_in, n_out = circuit.n_inputs, circuit.n_outputs
    in_sizes = circuit.input_sizes if circuit.input_sizes is not None else (n_in,) * (n_in > 0)
    out_sizes = circuit.output_sizes if circuit.output_sizes is not None else (n_out,) * (n_out > 0)
    lines = [
        f"{len(gates)} {n_wires}",
        " ".join(str(x) for x in (len(in_sizes), *in_sizes)),
        " ".join(str(x) for x in (len(out_sizes), *out_sizes)),
        "",
    ]
    names = {Op.AND: "AND", Op.XOR: "XOR", Op.NOT: "INV", Op.COPY: "EQW"}
    for g in gates:
        if g.op is Op.CONST0 or g.op is Op.CONST1:
            lines.append(f"1 1 {1 if g.op is Op.CONST1 else 0} {g.output} EQ")
        else:
            ins = " ".join(str(w) for w in g.inputs)
            lines.append(f"{len(g.inputs)} 1 {ins} {g.output} {names[g.op]}")
    return "\n".join(lines) + "\n"

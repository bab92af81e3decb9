"""AIGER ASCII (``aag``) and-inverter graphs: parser and writer, combinational only.

Format (AIGER 1.9, ASCII variant)::

    aag M I L O A            # max variable index, inputs, latches, outputs, AND gates
    <I lines: input literal>
    <O lines: output literal>
    <A lines: lhs rhs0 rhs1>
    [symbol table: "i<k> name" / "o<k> name" lines]
    [c                       # comment section: everything after a line "c"]

A literal is ``2*var`` or ``2*var + 1`` (negated); literals 0 and 1 are the constants false and
true. Input and AND left-hand-side literals are even and define their variable once; the AND
lines may come in any order but must be acyclic. Latches (``L > 0``) and the AIGER 1.9 extra
header fields (bad, constraint, justice, fairness) are rejected: only combinational circuits
are supported. Blank lines before the comment section are ignored. Errors are
:class:`~simulators.circuits.CircuitError` with the 1-based line number and offending token.

:func:`parse_aiger` builds a :class:`~simulators.circuits.Circuit` of ``AND``, ``NOT``,
``CONST0`` and ``CONST1`` gates (one ``NOT`` per negated variable, one constant gate per
constant used); inputs are wires ``0 .. I-1``; symbols become ``input_names``/``output_names``.
:func:`dump_aiger` writes any circuit, expressing each op with ANDs and negated literals
(``XOR`` costs three ANDs, ``OR``/``NAND``/``NOR``/``XNOR`` at most three, ``NOT``/``COPY``/
constants none).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from simulators.circuits import Circuit, CircuitError, Gate, Op, read_circuit_text
from simulators.inputs import (
    MAX_INT_DIGITS,
    check_name,
    shown,
)

_KINDS = {
    "l": "latch",
    "b": "bad-state property",
    "c": "constraint",
    "j": "justice property",
    "f": "fairness property",
}
_SYMBOL = re.compile(r"([ilobcjf])(\d+) (.*)\Z", re.DOTALL)


def parse_aiger(text: str, filename: str | None = None) -> Circuit:
    """Parse AIGER ASCII ``text``; ``filename`` is used in error messages only."""
    all_lines = text.split("\n")
    if all_lines and all_lines[-1] == "":
        all_lines.pop()  # the final newline

    def err(message: str, line: int | None, col: int | None = None) -> CircuitError:
        return CircuitError(message, line=line, source=filename, col=col)

    def col_of(tok: str, line: int) -> int | None:
        """Column of the first whole token ``tok`` on ``line``."""
        if not 0 < line <= len(all_lines):
            return None
        m = re.search(rf"(?<!\S){re.escape(tok)}(?!\S)", all_lines[line - 1])
        return m.start() + 1 if m else None

    def integer(tok: str, what: str, line: int) -> int:
        if not tok.isascii() or not tok.isdigit():
            raise err(f"expected a non-negative integer for {what}, got {shown(tok)}", line,
                      col_of(tok, line))
        if len(tok) > MAX_INT_DIGITS:
            raise err(f"{what} has {len(tok):,} digits, more than the limit of "
                      f"{MAX_INT_DIGITS}", line, col_of(tok, line))
        return int(tok)

    pos = 0

    def next_line(what: str) -> tuple[int, list[str]]:
        nonlocal pos
        while pos < len(all_lines) and not all_lines[pos].strip():
            pos += 1
        if pos >= len(all_lines):
            raise err(f"file ends before {what}", max(len(all_lines), 1))
        pos += 1
        return pos, all_lines[pos - 1].split()

    hline, htoks = next_line("the header")
    if htoks[0] == "aig":
        raise err("binary AIGER ('aig') is not supported; use the ASCII format ('aag')", hline)
    if htoks[0] != "aag":
        raise err(f"header must start with 'aag', got {shown(htoks[0])}", hline,
                  col_of(htoks[0], hline))
    if not 6 <= len(htoks) <= 10:
        raise err(
            f"header must be 'aag M I L O A' (6 tokens; AIGER 1.9 allows up to 10 with "
            f"B C J F), got {len(htoks)}",
            hline,
        )
    fields = "MILOABCJF"
    nums = {f: integer(t, f, hline) for f, t in zip(fields, htoks[1:], strict=False)}
    m, n_in, n_latch, n_out, n_and = (nums[f] for f in "MILOA")
    if n_latch:
        raise err(
            f"sequential AIGER is not supported: L={n_latch} latches, only combinational "
            "circuits (L = 0)",
            hline,
        )
    for f, name in zip("BCJF", ("bad-state", "constraint", "justice", "fairness"), strict=True):
        if nums.get(f, 0):
            raise err(f"{name} properties ({f}={nums[f]}) are not supported (must be 0)", hline)
    if m < n_in + n_and:
        raise err(f"M={m} is less than I + L + A = {n_in + n_and}", hline)
    max_lit = 2 * m + 1

    def literal(tok: str, what: str, line: int) -> int:
        lit = integer(tok, what, line)
        if lit > max_lit:
            raise err(f"literal {shown(tok)} out of range: M={m} allows literals up to "
                      f"{max_lit}", line, col_of(tok, line))
        return lit

    defined: dict[int, int] = {0: 0}  # variable -> line that defines it (0: the constant)

    def define(lit: int, tok: str, what: str, line: int) -> int:
        if lit & 1:
            raise err(f"{what} literal must be even (unnegated), got {shown(tok)}", line,
                      col_of(tok, line))
        if lit < 2:
            raise err(f"{what} literal must not be a constant, got {shown(tok)}", line,
                      col_of(tok, line))
        var = lit >> 1
        if var in defined:
            raise err(
                f"variable {var} (literal {shown(tok)}) is defined twice: first at line "
                f"{defined[var]}",
                line,
            )
        defined[var] = line
        return var

    input_vars: list[int] = []
    for _ in range(n_in):
        line, toks = next_line(f"all {n_in} input lines")
        if len(toks) != 1:
            raise err(f"an input line holds 1 literal, got {len(toks)} tokens: {shown(toks)}",
                      line)
        input_vars.append(define(literal(toks[0], "an input", line), toks[0], "input", line))

    output_lits: list[tuple[int, int]] = []  # (literal, line)
    for _ in range(n_out):
        line, toks = next_line(f"all {n_out} output lines")
        if len(toks) != 1:
            raise err(f"an output line holds 1 literal, got {len(toks)} tokens: {shown(toks)}",
                      line)
        output_lits.append((literal(toks[0], "an output", line), line))

    ands: dict[int, tuple[int, int, int]] = {}  # lhs variable -> (rhs0, rhs1, line)
    for _ in range(n_and):
        line, toks = next_line(f"all {n_and} AND lines")
        if len(toks) != 3:
            raise err(f"an AND line is 'lhs rhs0 rhs1', got {len(toks)} tokens: {shown(toks)}",
                      line)
        lhs = literal(toks[0], "an AND output", line)
        var = define(lhs, toks[0], "AND output", line)
        ands[var] = (
            literal(toks[1], "an AND input", line),
            literal(toks[2], "an AND input", line),
            line,
        )

    for var, (r0, r1, line) in ands.items():
        for lit in (r0, r1):
            if lit >> 1 not in defined:
                raise err(
                    f"AND {2 * var} reads literal {lit} (variable {lit >> 1}), which is never "
                    "defined",
                    line,
                )
    for lit, line in output_lits:
        if lit >> 1 not in defined:
            raise err(f"output literal {lit} (variable {lit >> 1}) is never defined", line)

    input_names: list[str | None] = [None] * n_in
    output_names: list[str | None] = [None] * n_out
    while pos < len(all_lines):
        raw = all_lines[pos]
        pos += 1
        if not raw.strip():
            continue
        if raw.rstrip() == "c":
            break
        match = _SYMBOL.match(raw)
        if match is None:
            raise err(
                f"expected a symbol 'i<k> name' / 'o<k> name' or the comment marker 'c', got "
                f"{shown(raw)}",
                pos,
            )
        kind, name = match.group(1), match.group(3)
        index = integer(match.group(2), f"the index of symbol {shown(raw.split()[0])}", pos)
        if kind not in "io":
            raise err(
                f"symbol {shown(raw.split()[0])} names a {_KINDS[kind]}, but the circuit has "
                "none", pos
            )
        names, count = (input_names, n_in) if kind == "i" else (output_names, n_out)
        if index >= count:
            raise err(f"symbol {kind}{index} out of range: there are {count}", pos)
        if names[index] is not None:
            raise err(f"symbol {kind}{index} is given twice", pos)
        if not name:
            raise err(f"symbol {kind}{index} has an empty name", pos)
        problem = check_name(name, f"symbol {kind}{index}")
        if problem is not None:
            raise err(problem, pos, len(match.group(1)) + len(match.group(2)) + 2)
        names[index] = name

    order = _topological_ands(ands, err)

    gates: list[Gate] = []
    var_wire: dict[int, int] = {v: k for k, v in enumerate(input_vars)}
    lit_wire: dict[int, int] = {}
    n_wires = n_in

    def wire_for(lit: int, line: int) -> int:
        nonlocal n_wires
        if lit in lit_wire:
            return lit_wire[lit]
        if lit < 2:
            gates.append(Gate(Op.CONST1 if lit else Op.CONST0, (), n_wires, line=line))
        elif lit & 1:
            gates.append(Gate(Op.NOT, (var_wire[lit >> 1],), n_wires, line=line))
        else:
            return var_wire[lit >> 1]
        lit_wire[lit] = n_wires
        n_wires += 1
        return n_wires - 1

    for var in order:
        r0, r1, line = ands[var]
        a, b = wire_for(r0, line), wire_for(r1, line)
        gates.append(Gate(Op.AND, (a, b), n_wires, line=line))
        var_wire[var] = n_wires
        n_wires += 1
    outputs = [wire_for(lit, line) for lit, line in output_lits]

    has_in = any(s is not None for s in input_names)
    has_out = any(s is not None for s in output_names)
    return Circuit(
        n_wires=n_wires,
        inputs=tuple(range(n_in)),
        outputs=tuple(outputs),
        gates=tuple(gates),
        input_names=tuple(input_names) if has_in else None,
        output_names=tuple(output_names) if has_out else None,
        source=filename,
    )


def _topological_ands(
    ands: dict[int, tuple[int, int, int]], err: Callable[[str, int | None], CircuitError]
) -> list[int]:
    """AND variables ordered so each comes after the ANDs it reads (file order when possible)."""
    done: set[int] = set()
    on_stack: set[int] = set()
    order: list[int] = []
    for start in ands:
        if start in done:
            continue
        stack = [(start, 0)]
        on_stack.add(start)
        while stack:
            var, k = stack[-1]
            r0, r1, line = ands[var]
            if k == 2:
                stack.pop()
                on_stack.discard(var)
                done.add(var)
                order.append(var)
                continue
            stack[-1] = (var, k + 1)
            child = (r0, r1)[k] >> 1
            if child not in ands or child in done:
                continue
            if child in on_stack:
                path = [v for v, _ in stack]
                cycle = path[path.index(child) :] + [child]
                shown = " -> ".join(str(2 * v) for v in cycle)
                raise err(
                    f"combinational cycle through AND {2 * child} (literals {shown}, each AND "
                    "reading the next)",
                    ands[child][2],
                )
            on_stack.add(child)
            stack.append((child, 0))
    return order


def load_aiger(path: str | os.PathLike[str]) -> Circuit:
    """Read (at most :data:`~simulators.inputs.MAX_CIRCUIT_BYTES`, UTF-8) and parse the AIGER
    ASCII file at ``path``."""
    text, source = read_circuit_text(path)
    return parse_aiger(text, filename=source)


def dump_aiger(circuit: Circuit, *, symbols: bool | None = None, comment: str | None = None) -> str:
    """AIGER ASCII text for ``circuit``: inputs are variables ``1 .. I``, ANDs follow.

    ``symbols``: ``None`` writes the circuit's own names (if any); ``True`` writes a name for
    every input and output (``x<k>``/``y<k>`` where the circuit has none); ``False`` writes
    none. ``comment`` (any text) is written after a ``c`` line.
    """
    lit: dict[int, int] = {w: 2 * (k + 1) for k, w in enumerate(circuit.inputs)}
    ands: list[tuple[int, int, int]] = []

    def conj(a: int, b: int) -> int:
        lhs = 2 * (circuit.n_inputs + len(ands) + 1)
        ands.append((lhs, a, b))
        return lhs

    for g in circuit.gates:
        x = [lit[w] for w in g.inputs]
        op = g.op
        if op is Op.CONST0:
            out = 0
        elif op is Op.CONST1:
            out = 1
        elif op is Op.COPY:
            out = x[0]
        elif op is Op.NOT:
            out = x[0] ^ 1
        elif op is Op.AND:
            out = conj(x[0], x[1])
        elif op is Op.NAND:
            out = conj(x[0], x[1]) ^ 1
        elif op is Op.OR:
            out = conj(x[0] ^ 1, x[1] ^ 1) ^ 1
        elif op is Op.NOR:
            out = conj(x[0] ^ 1, x[1] ^ 1)
        elif op in (Op.XOR, Op.XNOR):
            both = conj(x[0], x[1])
            neither = conj(x[0] ^ 1, x[1] ^ 1)
            out = conj(both ^ 1, neither ^ 1) ^ (op is Op.XNOR)
        else:  # pragma: no cover - Op is closed
            raise AssertionError(op)
        lit[g.output] = out

    n_in, n_out = circuit.n_inputs, circuit.n_outputs
    lines = [f"aag {n_in + len(ands)} {n_in} 0 {n_out} {len(ands)}"]
    lines += [str(2 * (k + 1)) for k in range(n_in)]
    lines += [str(lit[w]) for w in circuit.outputs]
    lines += [f"{a} {b} {c}" for a, b, c in ands]
    if symbols is not False:
        for kind, names, count, default in (
            ("i", circuit.input_names, n_in, "x"),
            ("o", circuit.output_names, n_out, "y"),
        ):
            for k in range(count):
                name = names[k] if names is not None else None
                if name is None and symbols:
                    name = f"{default}{k}"
                if name is None:
                    continue
                if not name or "\n" in name or "\r" in name:
                    raise ValueError(f"symbol {kind}{k} must be a non-empty line, got {name!r}")
                lines.append(f"{kind}{k} {name}")
    if comment is not None:
        lines.append("c")
        lines += comment.splitlines()
    return "\n".join(lines) + "\n"

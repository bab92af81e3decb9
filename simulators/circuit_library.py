"""Generators for classical circuits, and the committed Bristol files made from them.

Every multi-bit value is little-endian: bit ``i`` of a value is its ``i``-th wire (least
significant bit first). All generators use only ``XOR``, ``AND``, ``COPY`` and ``CONST0``, so
their Bristol files need no rewriting. ``python -m simulators.circuit_library`` regenerates
``simulators/library/circuits/*.bristol``; a test checks the committed files match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from simulators.bristol import dump_bristol, load_bristol
from simulators.circuits import Circuit, Gate, Op

LIBRARY_DIR = Path(__file__).parent / "library" / "circuits"
"""Where the generated ``.bristol`` files live."""


class _Builder:
    """Allocates wires after ``n_inputs`` input wires and records gates in order."""

    def __init__(self, n_inputs: int) -> None:
        self.n_inputs = n_inputs
        self.n_wires = n_inputs
        self.gates: list[Gate] = []

    def gate(self, op: Op, *inputs: int) -> int:
        w = self.n_wires
        self.n_wires += 1
        self.gates.append(Gate(op, inputs, w))
        return w

    def xor_tree(self, wires: Sequence[int]) -> int:
        """A wire holding the XOR of ``wires`` via a balanced tree (fresh wire always)."""
        if not wires:
            return self.gate(Op.CONST0)
        if len(wires) == 1:
            return self.gate(Op.COPY, wires[0])
        layer = list(wires)
        while len(layer) > 1:
            nxt = [self.gate(Op.XOR, layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
            if len(layer) % 2:
                nxt.append(layer[-1])
            layer = nxt
        return layer[0]

    def build(
        self,
        outputs: Sequence[int],
        input_sizes: Sequence[int],
        output_sizes: Sequence[int],
    ) -> Circuit:
        return Circuit(
            n_wires=self.n_wires,
            inputs=tuple(range(self.n_inputs)),
            outputs=tuple(outputs),
            gates=tuple(self.gates),
            input_sizes=tuple(input_sizes),
            output_sizes=tuple(output_sizes),
        )


def _positive(name: str, n: int, minimum: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")


def ripple_carry_adder(n: int) -> Circuit:
    """``a + b`` for ``n``-bit ``a`` (inputs ``0..n-1``) and ``b`` (``n..2n-1``).

    ``n + 1`` outputs: the sum's ``n`` bits then the carry out. Groups: ``(n, n) -> (n+1,)``.
    """
    _positive("n", n)
    b_ = _Builder(2 * n)
    a, b = range(n), range(n, 2 * n)
    sums = [b_.gate(Op.XOR, a[0], b[0])]
    carry = b_.gate(Op.AND, a[0], b[0])
    for i in range(1, n):
        t = b_.gate(Op.XOR, a[i], b[i])
        sums.append(b_.gate(Op.XOR, t, carry))
        # The two carry terms are never both 1, so XOR serves as OR.
        carry = b_.gate(Op.XOR, b_.gate(Op.AND, a[i], b[i]), b_.gate(Op.AND, t, carry))
    return b_.build(sums + [carry], (n, n), (n + 1,))


def comparator(n: int) -> Circuit:
    """``a < b`` (unsigned) for ``n``-bit ``a`` (inputs ``0..n-1``) and ``b`` (``n..2n-1``).

    One output. Scans from the least significant bit: ``lt = b_i`` where ``a_i != b_i``, else
    the result for the lower bits. Groups: ``(n, n) -> (1,)``.
    """
    _positive("n", n)
    b_ = _Builder(2 * n)
    a, b = range(n), range(n, 2 * n)
    lt = b_.gate(Op.AND, b_.gate(Op.XOR, a[0], b[0]), b[0])
    for i in range(1, n):
        diff = b_.gate(Op.XOR, a[i], b[i])
        # lt' = lt XOR (diff AND (b_i XOR lt)): lt if a_i == b_i, else b_i.
        lt = b_.gate(Op.XOR, lt, b_.gate(Op.AND, diff, b_.gate(Op.XOR, b[i], lt)))
    return b_.build([lt], (n, n), (1,))


def multiplexer(select_bits: int) -> Circuit:
    """``data[s]``: inputs are ``select_bits`` bits of ``s`` then the ``2**select_bits`` data bits.

    One output. Groups: ``(select_bits, 2**select_bits) -> (1,)`` (just ``(1,)`` for 0 select
    bits).
    """
    _positive("select_bits", select_bits, minimum=0)
    k = select_bits
    b_ = _Builder(k + (1 << k))
    layer = list(range(k, k + (1 << k)))
    if k == 0:
        return b_.build([b_.gate(Op.COPY, layer[0])], (1,), (1,))
    for j in range(k):
        s = j
        # x0 XOR (s AND (x0 XOR x1)) picks x1 when s = 1.
        layer = [
            b_.gate(Op.XOR, x0, b_.gate(Op.AND, s, b_.gate(Op.XOR, x0, x1)))
            for x0, x1 in zip(layer[::2], layer[1::2], strict=True)
        ]
    return b_.build(layer, (k, 1 << k), (1,))


def xor_of(indices: Iterable[int], n_inputs: int) -> Circuit:
    """The parity classifier ``XOR(x_i for i in indices)`` over ``n_inputs`` inputs.

    A balanced XOR tree; the empty set gives constant 0 and one index a ``COPY``. Indices must
    be distinct and in ``range(n_inputs)``. Groups: ``(n_inputs,) -> (1,)``.
    """
    _positive("n_inputs", n_inputs, minimum=0)
    idx = list(indices)
    for i in idx:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_inputs:
            raise ValueError(f"index {i!r} is not an input index in range({n_inputs})")
    if len(set(idx)) != len(idx):
        raise ValueError(f"indices must be distinct, got {idx}")
    b_ = _Builder(n_inputs)
    out = b_.xor_tree(idx)
    return b_.build([out], (n_inputs,) if n_inputs else (), (1,))


def parity_tree(n: int) -> Circuit:
    """XOR of all ``n`` inputs as a balanced tree of depth ``ceil(log2 n)``."""
    _positive("n", n)
    return xor_of(range(n), n)


LIBRARY: dict[str, Callable[[], Circuit]] = {
    "adder4": lambda: ripple_carry_adder(4),
    "adder64": lambda: ripple_carry_adder(64),
    "comparator8": lambda: comparator(8),
    "mux2": lambda: multiplexer(2),
    "parity8": lambda: parity_tree(8),
}
"""Name -> generator of each committed file ``LIBRARY_DIR / f"{name}.bristol"``."""


def library_text(name: str) -> str:
    """The Bristol text the generator for ``name`` produces (what the file should hold)."""
    return dump_bristol(LIBRARY[name]())


def load_library_circuit(name: str) -> Circuit:
    """Parse the committed file for ``name``."""
    if name not in LIBRARY:
        raise KeyError(f"no library circuit {name!r}; known: {', '.join(sorted(LIBRARY))}")
    return load_bristol(LIBRARY_DIR / f"{name}.bristol")


def write_library(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write every library circuit into ``directory`` (default ``LIBRARY_DIR``)."""
    target = Path(directory) if directory is not None else LIBRARY_DIR
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in LIBRARY:
        path = target / f"{name}.bristol"
        path.write_text(library_text(name), encoding="ascii")
        written.append(path)
    return written


if __name__ == "__main__":
    write_library()

"""Say in words what a compiled network is: its cell encoding and every hidden unit.

Used by ``srcnn explain`` (text and ``--json``), the interactive explorer
(:mod:`constructions.explorer`) and the notebook in docs/notebooks/. Nothing here re-derives
the construction: the encoding comes from :func:`constructions.tm.tm_encoding` (through the
compiled object), the units' names from the compiler (``PatchNetwork.units1``/``units2``,
the learner's ``Gate`` list), and every statement about *when a unit fires* and *what it
adds* is computed from the weights themselves, by evaluating the unit exactly (rational
arithmetic) on every combination of domain values of the patch positions it reads. So a
description is true of the weights it describes, whatever their names say; a test checks
that, for compiled machines, the two agree.

Layer-2 units of a learner network read up to five positions of a domain of hundreds of
values, too many combinations to enumerate; they are described from the gate the compiler
realised (:class:`constructions.representation.Gate`), whose realisation is proven exact
by :func:`constructions.representation.realise_gates` and checked in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from constructions.patchnet import POSITION_NAMES, PixelHead, TwoLayerWeights

MAX_ENUMERATION = 1 << 12
"""Enumerate a layer-2 unit on every combination of the values of the positions it reads
only up to this many combinations; beyond, describe it from its gate or its formula."""

Label = Callable[[Fraction], str]
"""What a cell value means, e.g. ``6 -> "head in B on 0"`` (``""`` if nothing to add)."""


class ExplainError(ValueError):
    """A network or a weight file cannot be explained; the message says why."""


def fmt(v: Fraction | float | int) -> str:
    """A weight or value as an exact short string: ``3``, ``-1/3``, ``21/4``."""
    f = Fraction(v)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def signed(v: Fraction | float | int) -> str:
    """``+6``, ``-1``, ``+1/3``: a contribution to a sum."""
    f = Fraction(v)
    return ("+" if f >= 0 else "") + fmt(f)


# ---------------------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------------------
def tm_cell_meaning(machine, digits: dict[str, int]) -> str:
    """Words for a Turing-machine cell: ``"blank"``, ``"symbol 1"``, ``"head in B on 0"``."""
    sym = machine.symbol_names[digits["symbol"]]
    if not digits["head"]:
        return "blank" if digits["symbol"] == 0 else f"symbol {sym}"
    state = digits["state"]
    name = "Z (halted)" if state == machine.n_states else machine.state_names[state]
    return f"head in {name} on {sym}"


def encoding_rows(machine, encoding, offset: int = 0) -> list[dict[str, Any]]:
    """One row per valid code of ``encoding`` (a :class:`~constructions.encoding.CellEncoding`
    laid out by :func:`constructions.tm.tm_encoding`): the cell value (``offset + code``),
    the symbol's name, head, the state's name (``None`` without head) and the words."""
    rows = []
    for code in encoding.codes():
        d = encoding.decode(code)
        state = None
        if d["head"]:
            state = "Z" if d["state"] == machine.n_states else machine.state_names[d["state"]]
        rows.append({"value": offset + code, "code": code,
                     "symbol": machine.symbol_names[d["symbol"]], "head": d["head"],
                     "state": state, "meaning": tm_cell_meaning(machine, d)})
    return rows


def encoding_formula(encoding, offset: int = 0) -> str:
    """``"code = symbol + 2*head + 4*state"`` (with ``value = 2 + code`` for an offset)."""
    terms = " + ".join(f.name if encoding.scales[f.name] == 1 else
                       f"{encoding.scales[f.name]}*{f.name}" for f in encoding.fields)
    return f"value = {offset} + code, code = {terms}" if offset else f"code = {terms}"


def tm_label(machine, encoding) -> Label:
    """The :data:`Label` of a compiled Turing machine's codes."""
    valid = set(encoding.codes())

    def label(v: Fraction) -> str:
        if v.denominator != 1 or int(v) not in valid:
            return ""
        return tm_cell_meaning(machine, encoding.decode(int(v)))
    return label


# ---------------------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """One hidden unit in words. ``formula`` is its pre-activation from the weights;
    ``fires`` says on which domain values it is positive; ``adds`` (layer 2) what it
    contributes to the patch network's output when it fires."""

    layer: int
    index: int
    name: str
    reads: tuple[str, ...]
    formula: str
    fires: str
    adds: str = ""

    def line(self) -> str:
        head = f"h{self.layer}[{self.index}]" + (f" {self.name}" if self.name else "")
        text = f"{head}: fires {self.fires}" if self.fires else head
        return text + (f"; adds {self.adds}" if self.adds else "")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reads"] = list(self.reads)
        return d


def _linear(coefs: dict[int, Fraction], bias: Fraction, var: Callable[[int], str]) -> str:
    parts = []
    for j, w in coefs.items():
        mag = "" if abs(w) == 1 else fmt(abs(w)) + "·"
        parts.append(("− " if w < 0 else "+ ") + mag + var(j))
    if bias != 0 or not parts:
        parts.append(("− " if bias < 0 else "+ ") + fmt(abs(bias)))
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "−" + text[2:]


POSITION_WORDS = ("north-west", "north", "north-east", "west", "centre", "east",
                  "south-west", "south", "south-east")
"""The patch positions in words, row-major (short names: ``patchnet.POSITION_NAMES``)."""


def _value_words(p: int, v: Fraction, label: Label) -> str:
    words = label(v)
    return f"{POSITION_WORDS[p]} = {fmt(v)}" + (f" ({words})" if words else "")


def _ramp_pair(net: TwoLayerWeights, j: int, domain: Sequence[Fraction]) -> str:
    """For units ``j``, ``j + 1`` reading one position with the same slope and biases one
    apart, ``h1[j] - h1[j+1]`` is a ramp clamped to [0, 1]; say where it is 0 and 1."""
    if j + 1 >= net.A1.shape[0] or any(net.A1[j, p] != net.A1[j + 1, p] for p in range(9)):
        return ""
    if net.b1[j] - net.b1[j + 1] != 1:
        return ""
    (p,) = [p for p in range(9) if net.A1[j, p] != 0] or [None]
    if p is None:
        return ""
    w, b = Fraction(net.A1[j, p]), Fraction(net.b1[j])
    diff = [min(max(w * v + b, Fraction(0)), Fraction(1)) for v in domain]
    if any(d not in (0, 1) for d in diff) or w <= 0:
        return ""
    ones = [v for v, d in zip(domain, diff) if d == 1]
    zeros = [v for v, d in zip(domain, diff) if d == 0]
    if not ones or not zeros:
        return ""
    pos = POSITION_NAMES[p]
    return (f"; h1[{j}] - h1[{j + 1}] = 1 when {pos} >= {fmt(ones[0])}, "
            f"0 when {pos} <= {fmt(zeros[-1])}")


def _layer1(net: TwoLayerWeights, domain: Sequence[Fraction], names: Sequence[str]) -> list[Unit]:
    out = []
    for j in range(net.A1.shape[0]):
        coefs = {p: Fraction(w) for p, w in enumerate(net.A1[j]) if w != 0}
        b = Fraction(net.b1[j])
        formula = "relu(" + _linear(coefs, b, lambda p: POSITION_NAMES[p]) + ")"
        if len(coefs) == 1:
            ((p, w),) = coefs.items()
            on = [v for v in domain if w * v + b > 0]
            pos = POSITION_NAMES[p]
            if len(on) == len(domain):
                fires = "always (on every domain value)"
            elif not on:
                fires = "never on the domain"
            elif w > 0:
                fires = f"when {pos} >= {fmt(on[0])}"
            else:
                fires = f"when {pos} <= {fmt(on[-1])}"
        elif not coefs:
            fires = "always" if b > 0 else "never"
        else:
            fires = "when " + formula[5:-1] + " > 0"
        out.append(Unit(1, j, names[j] if j < len(names) else "",
                        tuple(POSITION_NAMES[p] for p in coefs), formula,
                        fires + _ramp_pair(net, j, domain)))
    return out


def _enumerate_unit(net: TwoLayerWeights, i: int, positions: list[int],
                    domain: Sequence[Fraction]) -> list[tuple[tuple[Fraction, ...], Fraction]]:
    """(values at ``positions``, contribution ``A3_i h2_i``) for every combination where
    layer-2 unit ``i`` is positive, in exact arithmetic (other positions do not matter: the
    unit reads only these)."""
    js = [j for j in range(net.A2.shape[1]) if net.A2[i, j] != 0]
    fired = []
    for combo in np.ndindex(*([len(domain)] * len(positions))):
        x = [Fraction(0)] * 9
        for p, c in zip(positions, combo):
            x[p] = domain[c]
        z = Fraction(net.b2[i])
        for j in js:
            pre = sum((Fraction(net.A1[j, p]) * x[p] for p in range(9) if net.A1[j, p] != 0),
                      Fraction(net.b1[j]))
            z += Fraction(net.A2[i, j]) * max(pre, Fraction(0))
        if z > 0:
            fired.append((tuple(x[p] for p in positions), Fraction(net.A3[0, i]) * z))
    return fired


def _affine_words(positions: list[int], fired, label: Label) -> str | None:
    """``"+1·c + 1"`` when the contribution is affine in a single read position."""
    if len(positions) != 1 or len(fired) < 2:
        return None
    (x0,), c0 = fired[0]
    (x1,), c1 = fired[1]
    if x1 == x0:
        return None
    slope = (c1 - c0) / (x1 - x0)
    if any(c != c0 + slope * (x - x0) for (x,), c in fired):
        return None
    return _linear({0: slope}, c0 - slope * x0, lambda _: POSITION_NAMES[positions[0]])


def _gate_words(gate, label: Label, domain: Sequence[Fraction]) -> tuple[str, str]:
    conds = []
    for p, interval in enumerate(gate.box):
        if interval is None:
            continue
        lo, hi = Fraction(interval[0]), Fraction(interval[1])
        inside = [v for v in domain if lo <= v <= hi]
        if len(inside) == 1:
            conds.append(_value_words(p, inside[0], label))
        elif len(inside) <= 3:
            conds.append(f"{POSITION_WORDS[p]} in {{" + ", ".join(
                fmt(v) + (f" ({label(v)})" if label(v) else "") for v in inside) + "}")
        else:
            conds.append(f"{POSITION_WORDS[p]} in [{fmt(lo)}, {fmt(hi)}]")
    value = Fraction(gate.value)
    words = label(value)
    adds = signed(value) + (f" ({words})" if words else "")
    if gate.slope is not None and any(s != 0 for s in gate.slope):
        for p, s in enumerate(gate.slope):
            if s != 0:
                anchor = (gate.anchor[p] if gate.anchor is not None and gate.anchor[p] is not None
                          else gate.box[p][0])
                adds += f" {signed(s)}·({POSITION_NAMES[p]} − {fmt(anchor)})"
    return "when " + (", ".join(conds) if conds else "always"), adds


def _layer2(net: TwoLayerWeights, domain: Sequence[Fraction], names: Sequence[str],
            label: Label, gates: Sequence | None) -> list[Unit]:
    reads1 = [frozenset(int(p) for p in np.flatnonzero(net.A1[j] != 0))
              for j in range(net.A1.shape[0])]
    out = []
    for i in range(net.A2.shape[0]):
        coefs = {j: Fraction(w) for j, w in enumerate(net.A2[i]) if w != 0}
        positions = sorted(set().union(*[reads1[j] for j in coefs]) if coefs else set())
        formula = "relu(" + _linear(coefs, Fraction(net.b2[i]), lambda j: f"h1[{j}]") + ")"
        name = names[i] if i < len(names) else ""
        reads = tuple(POSITION_NAMES[p] for p in positions)
        weight = Fraction(net.A3[0, i])
        if len(domain) ** len(positions) <= MAX_ENUMERATION:
            fired = _enumerate_unit(net, i, positions, domain)
            total = len(domain) ** len(positions)
            if not fired:
                fires, adds = "never on the domain", ""
            else:
                contributions = {c for _, c in fired}
                affine = _affine_words(positions, fired, label)
                if len(fired) == total and not positions:
                    fires = "always"
                elif len(fired) == total:
                    fires = "on every value of " + ", ".join(POSITION_WORDS[p]
                                                              for p in positions)
                elif len(fired) <= 8:
                    fires = "when " + " or ".join(
                        ", ".join(_value_words(p, v, label) for p, v in zip(positions, combo))
                        for combo, _ in fired)
                else:
                    fires = f"on {len(fired)} of the {total} combinations of {', '.join(reads)}"
                if len(contributions) == 1:
                    (c,) = contributions
                    adds = signed(c)
                elif affine is not None:
                    adds = affine
                else:
                    adds = "A3[i]·h2 = " + ", ".join(sorted({signed(c) for c in contributions}))
        elif gates is not None and i < len(gates):
            fires, adds = _gate_words(gates[i], label, domain)
        else:
            fires = (f"when {formula[5:-1]} > 0 (reads {', '.join(reads)}: "
                     f"{len(domain) ** len(positions):,} combinations, not enumerated)")
            adds = f"{fmt(weight)}·h2[{i}]"
        out.append(Unit(2, i, name, reads, formula, fires, adds))
    return out


def describe_units(net: TwoLayerWeights, domain: Sequence[Fraction], label: Label,
                   names1: Sequence[str] = (), names2: Sequence[str] = (),
                   gates: Sequence | None = None) -> dict[str, Any]:
    """Every hidden unit of ``net`` (weights as exact ``Fraction`` arrays) on patches of
    ``domain`` values, in words: ``{"units1": [...], "units2": [...], "output_bias": str}``
    of :class:`Unit` objects. ``gates`` (one per layer-2 unit) describes units whose read
    positions have too many value combinations to enumerate."""
    dom = tuple(sorted({Fraction(v) for v in domain}))
    return {"units1": _layer1(net, dom, names1),
            "units2": _layer2(net, dom, names2, label, gates),
            "output_bias": fmt(net.b3[0])}


def describe_head(head: PixelHead, domain: Sequence[Fraction], label: Label) -> list[dict]:
    """The pixel-wise head on every domain value, grouped by output: ``[{"output": str,
    "values": [str, ...]}]`` (evaluated exactly)."""
    dom = tuple(sorted({Fraction(v) for v in domain}))
    outs = head.evaluate_exact(np.array(dom, dtype=object))
    groups: dict[Fraction, list[str]] = {}
    for v, o in zip(dom, outs):
        words = label(v)
        groups.setdefault(Fraction(o), []).append(fmt(v) + (f" ({words})" if words else ""))
    return [{"output": fmt(o), "values": vals} for o, vals in sorted(groups.items())]


# ---------------------------------------------------------------------------------------
# whole explanations (JSON-ready dicts) and their text
# ---------------------------------------------------------------------------------------
def explain_machine(ctm, note: str = "", net: TwoLayerWeights | None = None,
                    head: PixelHead | None = None) -> dict[str, Any]:
    """The explanation of a compiled machine (:class:`constructions.tm.CompiledTM`): its
    encoding table, every hidden unit and the head. ``net``/``head`` replace the compiled
    weights (e.g. weights read from a file that differ from a fresh compile): they are then
    described from the weights alone, without the compiler's names."""
    m = ctm.machine
    own = net is None
    net = ctm.patch if net is None else net
    head = ctm.head if head is None else head
    label = tm_label(m, ctm.encoding)
    units = describe_units(net, ctm.rule.domain, label,
                           ctm.patch.units1 if own else (), ctm.patch.units2 if own else ())
    h1, h2 = net.A1.shape[0], net.A2.shape[0]
    return {
        "kind": "machine",
        "name": m.name or "",
        "s": m.n_states, "k": m.n_symbols,
        "states": list(m.state_names), "symbols": list(m.symbol_names),
        "encoding": {"formula": encoding_formula(ctm.encoding), "padding": fmt(ctm.padding),
                     "rows": encoding_rows(m, ctm.encoding)},
        "network": {"shape": [9, h1, h2, 1], "positions": list(POSITION_NAMES),
                    "units1": [u.as_dict() for u in units["units1"]],
                    "units2": [u.as_dict() for u in units["units2"]],
                    "output_bias": units["output_bias"],
                    "head": describe_head(head, ctm.rule.domain, label),
                    "weights": "compiled" if own else "from the file (described from weights)"},
        "note": note,
    }


def learner_label(learner) -> Label:
    """The :data:`Label` of a learner network's cell values (raw, special and codes)."""
    from constructions import learner as L

    specials = {L.PAD: "padding", L.CARRIER: "carrier", L.EMPTY: "empty row",
                L.THIRD: "memorised +", -L.THIRD: "memorised −", Fraction(0): "empty memory",
                Fraction(1): "work column"}
    base = tm_label(learner.machine, learner.encoding)

    def label(v: Fraction) -> str:
        if v in specials:  # disjoint from the codes, which start at CODE_OFFSET = 2
            return specials[v]
        words = base(v - L.CODE_OFFSET)
        return f"tape {words}" if words else ""
    return label


def explain_learner(learner, note: str = "", net: TwoLayerWeights | None = None,
                    head: PixelHead | None = None) -> dict[str, Any]:
    """The explanation of a compiled learner (:class:`constructions.learner.CompiledLearner`):
    its cell values, the learner-tape codes, every hidden unit and the head; ``net``/``head``
    as in :func:`explain_machine`."""
    from constructions import learner as L

    m = learner.machine
    label = learner_label(learner)
    own = net is None
    net = learner.patch if net is None else net
    head = learner.head if head is None else head
    if own:
        units = describe_units(net, learner.domain, label, net.units1, net.units2,
                               learner.gates)
    else:
        units = describe_units(net, learner.domain, label)
    h1, h2 = net.hidden
    return {
        "kind": "learner",
        "name": learner.name,
        "s": m.n_states, "k": m.n_symbols,
        "states": list(m.state_names), "symbols": list(m.symbol_names),
        "encoding": {"formula": encoding_formula(learner.encoding, L.CODE_OFFSET),
                     "padding": fmt(L.PAD),
                     "values": [{"value": v, "meaning": w}
                                for v, w in L.describe_values(learner)],
                     "rows": encoding_rows(m, learner.encoding, L.CODE_OFFSET)},
        "network": {"shape": [9, h1, h2, 1], "positions": list(POSITION_NAMES),
                    "units1": [u.as_dict() for u in units["units1"]],
                    "units2": [u.as_dict() for u in units["units2"]],
                    "output_bias": units["output_bias"],
                    "head": describe_head(head, learner.domain, label),
                    "weights": "compiled" if own else "from the file (described from weights)"},
        "note": note,
    }


def to_text(exp: dict[str, Any], max_codes: int | None = None) -> str:
    """The explanation as plain text (``srcnn explain``); ``max_codes`` limits the code
    table's rows (``None``: all)."""
    lines = []
    kind = "learner" if exp["kind"] == "learner" else "machine"
    lines.append(f"{kind} {exp['name']}: s = {exp['s']} states "
                 f"({' '.join(exp['states'])}), k = {exp['k']} symbols "
                 f"({' '.join(exp['symbols'])})")
    if exp["note"]:
        lines.append(f"note: {exp['note']}")
    enc = exp["encoding"]
    lines += ["", f"encoding  {enc['formula']}   (padding outside the grid: {enc['padding']})"]
    for row in enc.get("values", []):
        lines.append(f"  {row['value']:>10}  {row['meaning']}")
    rows = enc["rows"] if max_codes is None else enc["rows"][:max_codes]
    sw = max([5] + [len(r["state"] or "") for r in rows])
    lines.append(f"  {'value':>5}  {'symbol':<6} {'head':>4}  {'state':<{sw}}  cell")
    for r in rows:
        lines.append(f"  {r['value']:>5}  {r['symbol']:<6} {r['head']:>4}  "
                     f"{r['state'] or '-':<{sw}}  {r['meaning']}")
    if len(rows) < len(enc["rows"]):
        lines.append(f"  ... {len(enc['rows']) - len(rows)} more codes (--json lists all)")
    net = exp["network"]
    h1, h2 = net["shape"][1], net["shape"][2]
    lines += ["", f"patch network  9 -> {h1} -> {h2} -> 1:  "
              "f(x) = A3 relu(A2 relu(A1 x + b1) + b2) + b3",
              "  x = the 3x3 patch, row-major: nw n ne / w c e / sw s se  "
              f"(weights: {net['weights']})",
              "", f"layer 1 ({h1} units, each reads the patch):"]
    for u in net["units1"]:
        lines.append(f"  h1[{u['index']}]" + (f" {u['name']}" if u["name"] else "")
                     + f" = {u['formula']}: active {u['fires']}")
    lines += ["", f"layer 2 ({h2} units, each reads layer 1; the output adds what fires):"]
    for u in net["units2"]:
        lines.append("  " + Unit(**{**u, "reads": tuple(u["reads"])}).line())
    lines += ["", f"output bias b3 = {net['output_bias']}: the next cell value is b3 plus "
              "what the firing layer-2 units add", "", "pixel-wise head (read out, summed "
              "over the grid):"]
    for g in net["head"]:
        vals = g["values"]
        shown = ", ".join(vals[:12]) + (f", ... ({len(vals)} values)" if len(vals) > 12 else "")
        lines.append(f"  {g['output']:>4} on {shown}")
    return "\n".join(lines)


def float_weights(net: TwoLayerWeights) -> dict[str, np.ndarray]:
    """The patch network's arrays as float64 (exact: every weight is dyadic)."""
    return {k: np.array([float(v) for v in a.ravel()], dtype=np.float64).reshape(a.shape)
            for k, a in net.arrays().items()}


def patch_activity(weights: dict[str, np.ndarray], patch: Sequence[float],
                   keep_layer1: bool = True) -> dict[str, Any]:
    """One forward pass of the patch network (float64 arrays ``A1..b3``) on a 3x3 ``patch``
    (9 values, row-major): the layer-1 and layer-2 units that fire (index, activation) and
    each layer-2 unit's contribution ``A3_i h2_i``; ``value`` is the network's output."""
    x = np.asarray(patch, dtype=np.float64)
    h1 = np.maximum(weights["A1"] @ x + weights["b1"], 0.0)
    h2 = np.maximum(weights["A2"] @ h1 + weights["b2"], 0.0)
    value = float(weights["A3"][0] @ h2 + weights["b3"][0])
    on2 = np.flatnonzero(h2 > 0)
    out = {"value": value, "bias": float(weights["b3"][0]),
           "h2": [[int(i), float(h2[i]), float(weights["A3"][0, i] * h2[i])] for i in on2],
           "h1_active": int(np.count_nonzero(h1 > 0))}
    if keep_layer1:
        out["h1"] = [[int(j), float(h1[j])] for j in np.flatnonzero(h1 > 0)]
    return out


# ---------------------------------------------------------------------------------------
# small text views shared by `srcnn explain` and `srcnn learn --trace`
# ---------------------------------------------------------------------------------------
def w_table_text(W_thirds: Sequence[Sequence[int]], d: int) -> str:
    """``W`` in units of 1/3 as a table: rows ``ex 1 .. ex m, dummy``, columns ``y·x1 ..
    y·xd | y`` (row ``a`` holds ``y_a x_a / 3`` and ``y_a / 3``)."""
    rows = len(W_thirds)
    head = "         " + " ".join(f"{'y·x' + str(b + 1):>5}" for b in range(d)) + " |     y"
    lines = [head]
    for a, row in enumerate(W_thirds):
        name = "dummy" if a == rows - 1 else f"ex {a + 1}"
        cells = [f"{int(v):>+5d}" if v else f"{0:>5d}" for v in row]
        lines.append(f"  {name:<6} " + " ".join(cells[:d]) + " | " + " ".join(cells[d:]))
    return "\n".join(lines)


def tape_text(view: dict | None) -> str:
    """A decoded grid (``{"symbols", "head", "state"}``) with the head cell in brackets and
    its state named; ``"(not a learner tape)"`` for ``None``."""
    if view is None:
        return "  (not a valid tape)"
    width = max(len(s) for row in view["symbols"] for s in row)
    lines = []
    for r, row in enumerate(view["symbols"]):
        cells = [(f"[{s:<{width}}]" if view["head"] == [r, c] else f" {s:<{width}} ")
                 for c, s in enumerate(row)]
        lines.append("  " + "".join(cells).rstrip())
    state = view["state"] if view["head"] is not None else "-"
    lines.append(f"  head at {tuple(view['head']) if view['head'] else None}, state {state}")
    return "\n".join(lines)

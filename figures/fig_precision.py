"""Bits of precision against the number of states (Theorem 1: ``ceil(log2 s) + c3``).

For every s (and k = 2, 3) a seeded random machine is compiled and ``CompiledTM.bits`` (the
mantissa bits that keep every layer exact, implicit bit included) is recorded, together with
the shared parameter count and ``|U_s|``. Beside the points the plot draws only what is true
of them: for each k, a formula ``floor(log2 s) + c`` or ``ceil(log2 s) + c`` that equals
*every* point if one does (found by :func:`exact_formula`; for k = 2 it is
``floor(log2 s) + 8``), else the band between ``ceil(log2 s) + c_min`` and
``ceil(log2 s) + c_max``, the tightest bounds of that form (labelled as bounds, not as a
fit). The float16/float32 mantissa widths are drawn as horizontal lines.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from figures import style

NAME = "fig_precision"
SYMBOLS = (2, 3)


def _log2_ceil(s: int) -> int:
    return math.ceil(math.log2(s)) if s > 1 else 0


def _log2_floor(s: int) -> int:
    return s.bit_length() - 1


FORMS = {"floor": (_log2_floor, "⌊log₂ s⌋"), "ceil": (_log2_ceil, "⌈log₂ s⌉")}


def exact_formula(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"form": "floor"|"ceil", "c": c}`` if ``bits == form(log2 s) + c`` for every row
    (floor tried first), else ``None``."""
    for form, (f, _) in FORMS.items():
        cs = {r["bits"] - f(r["s"]) for r in rows}
        if len(cs) == 1:
            return {"form": form, "c": cs.pop()}
    return None


def compute(quick: bool = True, seed: int = 0) -> dict[str, Any]:
    """Compile one random machine per (s, k); s = 1..32 (quick) or 1..64."""
    from constructions.patchnet import MANTISSA_BITS
    from constructions.tm import compile_tm
    from simulators.sampling import random_machine

    s_max = 32 if quick else 64
    rows = []
    for k in SYMBOLS:
        rng = random.Random(f"{seed}-{k}")
        for s in range(1, s_max + 1):
            ctm = compile_tm(random_machine(rng, s, k, p_undefined=0.0))
            rows.append({"s": s, "k": k, "bits": ctm.bits, "log2_s_ceil": _log2_ceil(s),
                         "shared_parameters": ctm.n_shared_parameters,
                         "weight_set_size": len(ctm.weight_set)})
    offsets = {}
    for k in SYMBOLS:
        diffs = [r["bits"] - r["log2_s_ceil"] for r in rows if r["k"] == k]
        offsets[str(k)] = {"c_min": min(diffs), "c_max": max(diffs),
                           "exact": exact_formula([r for r in rows if r["k"] == k])}
    limits = {name: MANTISSA_BITS[name] for name in ("float16", "float32")}
    first_over = {str(k): next((r["s"] for r in rows if r["k"] == k
                                and r["bits"] > limits["float16"]), None) for k in SYMBOLS}
    return {"s_max": s_max, "symbols": list(SYMBOLS), "rows": rows, "offsets": offsets,
            "mantissa_bits": limits, "float16_first_inexact_s": first_over}


def plot(data: dict[str, Any]):
    """Bits needed against s, log-2 x axis, with reference lines and dtype limits."""
    fig = style.new_figure(6.2, 3.9)
    ax = fig.subplots()
    colours = {2: style.OKABE_ITO["blue"], 3: style.OKABE_ITO["vermillion"]}
    markers = {2: "o", 3: "s"}
    s_max = data["s_max"]
    s_line = list(range(1, s_max + 1))
    for k in data["symbols"]:
        rows = [r for r in data["rows"] if r["k"] == k]
        off = data["offsets"][str(k)]
        if off["exact"] is not None:
            f, text = FORMS[off["exact"]["form"]]
            c = off["exact"]["c"]
            ax.step(s_line, [f(s) + c for s in s_line], where="post", color=colours[k],
                    lw=1.0, ls="-", alpha=0.7,
                    label=f"{text} + {c}: equals every k = {k} point")
        else:
            lo = [_log2_ceil(s) + off["c_min"] for s in s_line]
            hi = [_log2_ceil(s) + off["c_max"] for s in s_line]
            ax.fill_between(s_line, lo, hi, step="post", color=colours[k], alpha=0.12, lw=0,
                            label=f"k = {k} lies between ⌈log₂ s⌉ + {off['c_min']} and "
                                  f"⌈log₂ s⌉ + {off['c_max']} (bounds, no exact formula)")
        # k = 3: large hollow squares around the small dots of k = 2 where both coincide
        ax.plot([r["s"] for r in rows], [r["bits"] for r in rows], ls="",
                marker=markers[k], ms=6 if k == 3 else 3.5, mew=1.1,
                color=colours[k], mfc="none" if k == 3 else colours[k], zorder=3 + (k == 2),
                label=f"measured, k = {k} (random machines)")
    for name, bits in data["mantissa_bits"].items():
        ax.axhline(bits, color=style.GREY, lw=0.9, ls=":")
        ax.text(s_max * 1.02, bits, f"{name}\n{bits} bits", va="center", ha="left",
                fontsize=7.5, color=style.GREY)
    ax.set_xscale("log", base=2)
    ticks = [2 ** i for i in range(int(math.log2(s_max)) + 1)]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlim(0.85, s_max * 1.15)
    ax.set_ylim(0, max(data["mantissa_bits"].values()) + 2)
    ax.set_yticks(range(0, max(data["mantissa_bits"].values()) + 3, 4))
    ax.grid(True, axis="y")
    ax.set_xlabel("number of states s (log scale)")
    ax.set_ylabel("mantissa bits needed for exact layers")
    ax.set_title("Theorem 1: bits of precision grow as log₂ s + a constant")
    ax.legend(loc="lower right", fontsize=7)
    return fig


def caption(data: dict[str, Any]) -> str:
    """What the figure draws, and from which data."""
    parts = []
    for k in data["symbols"]:
        off = data["offsets"][str(k)]
        if off["exact"] is not None:
            text = FORMS[off["exact"]["form"]][1]
            parts.append(f"for k = {k} every point equals {text} + {off['exact']['c']}")
        else:
            parts.append(f"for k = {k} no formula of that form fits every point; they lie "
                         f"between ⌈log₂ s⌉ + {off['c_min']} and ⌈log₂ s⌉ + {off['c_max']} "
                         f"(shaded)")
    body = "; ".join(parts)
    f16 = data["float16_first_inexact_s"]["2"]
    f32 = all(r["bits"] <= data["mantissa_bits"]["float32"] for r in data["rows"])
    return (f"Mantissa bits (implicit bit included) that keep every layer of the compiled "
            f"patch network exact (CompiledTM.bits, a proven bound), for one seeded random "
            f"machine per s = 1..{data['s_max']} and k = 2, 3 (every transition defined). "
            f"{body[0].upper()}{body[1:]}. Horizontal lines: the mantissa widths of float16 "
            f"and float32; "
            + (f"float16 is too narrow from s = {f16} (k = 2)" if f16 else "float16 suffices")
            + ("; float32 holds every point." if f32 else
               "; some points need more than float32."))


def make(out_dir: Path | str, quick: bool = True, seed: int = 0) -> list[Path]:
    """Compute the sweep, write data and provenance, then draw and save."""
    data = compute(quick, seed)
    files = [style.write_csv(out_dir, NAME, data["rows"]),
             style.write_data(out_dir, NAME, data)]
    params = {"s": f"1..{data['s_max']}", "k": list(SYMBOLS), "p_undefined": 0.0,
              "machines": "simulators.sampling.random_machine, rng seeded per k",
              "quick": quick}
    results = {"offsets": data["offsets"], "mantissa_bits": data["mantissa_bits"],
               "float16_first_inexact_s": data["float16_first_inexact_s"]}
    return style.publish(out_dir, NAME, plot, data, seed=seed, params=params, results=results,
                         files=files, caption=caption(data))

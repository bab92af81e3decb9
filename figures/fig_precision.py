"""Bits of precision against the number of states (Theorem 1: ``ceil(log2 s) + c3``).

For every s (and k = 2, 3) a seeded random machine is compiled and ``CompiledTM.bits`` (the
mantissa bits that keep every layer exact, implicit bit included) is recorded, together with
the shared parameter count and ``|U_s|``. The plot adds ``ceil(log2 s) + c`` with the smallest
``c`` that bounds the data, and the float16/float32 mantissa widths.
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
        offsets[str(k)] = {"c_min": min(diffs), "c_max": max(diffs)}
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
        c = data["offsets"][str(k)]["c_max"]
        ax.step(s_line, [_log2_ceil(s) + c for s in s_line], where="post", color=colours[k],
                lw=1.0, ls="--", alpha=0.8,
                label=f"⌈log₂ s⌉ + {c}  (k = {k})")
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
    ax.set_title("Theorem 1: precision grows as ⌈log₂ s⌉ + c")
    ax.legend(loc="center left", bbox_to_anchor=(0.0, 0.62), ncol=1)
    return fig


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
                         files=files)

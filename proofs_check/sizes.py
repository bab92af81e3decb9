"""Definition 5's parameter sharing and Theorem 1's constants (|U_s|, bits of precision)."""

from __future__ import annotations

import math
import random

from constructions.rcnn import RCNN
from constructions.tm import compile_tm
from proofs_check.registry import Result, check
from simulators.formats import builtin_machines
from simulators.sampling import random_machine


@check("def5-shared-parameters", "Definition 5 remark: shared parameters independent of d, m, l, L",
       "exhaustive", "shared parameter count across grid sizes and depths; W grows as d x m",
       params=lambda mode: {"sizes": "d in {1,8,64,512}, m in {1,16,256}, l in {0,8}, "
                                     "L in {1,1000}"})
def shared_parameters(mode: str, seed: int) -> Result:
    ctm = compile_tm(builtin_machines()["bb4"])
    counts, w_sizes = set(), {}
    for d in (1, 8, 64, 512):
        for m in (1, 16, 256):
            for l in (0, 8):
                for layers in (1, 1000):
                    model = RCNN(ctm.patch, ctm.head, layers=layers, padding=0,
                                 d_in=d + 1, d_mem=m + 1, l=l)
                    counts.add(model.n_shared_parameters)
                    w_sizes[f"d={d},m={m}"] = model.W.numel()
    ok = len(counts) == 1 and all(
        w == (int(k.split(",")[0][2:]) + 1) * (int(k.split(",")[1][2:]) + 1)
        for k, w in w_sizes.items())
    return Result(ok, {"shared_parameters": sorted(counts), "W_entries": w_sizes},
                  f"shared = {sorted(counts)} for 48 sizes")


def _sweep(states: list[int], k: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for s in states:
        ctm = compile_tm(random_machine(rng, s, k, p_undefined=0.0))
        rows.append({"s": s, "k": k, "bits": ctm.bits, "weight_set": len(ctm.weight_set),
                     "shared_parameters": ctm.n_shared_parameters,
                     "log2_s": math.ceil(math.log2(s)) if s > 1 else 0})
    return rows


@check("thm1-precision", "Theorem 1 bits of precision: ceil(log s) + c3",
       "exhaustive", "mantissa bits that keep every layer exact, against s (k = 2)",
       params=lambda mode: {"states": "1..16" if mode == "quick" else "1..64", "k": 2})
def precision(mode: str, seed: int) -> Result:
    states = list(range(1, 17)) if mode == "quick" else list(range(1, 65))
    rows = _sweep(states, 2, seed)
    c3 = [r["bits"] - r["log2_s"] for r in rows]
    # The claim's shape: bits - ceil(log2 s) stays bounded by a constant.
    ok = max(c3) - min(c3) <= 3
    return Result(ok, {"rows": [{k: r[k] for k in ("s", "bits", "log2_s")} for r in rows],
                       "c3_range": [min(c3), max(c3)]},
                  f"bits = ceil(log2 s) + c3, c3 in [{min(c3)}, {max(c3)}]")


@check("thm1-weight-set", "Theorem 1 finite weight set U_s",
       "exhaustive", "distinct shared weight values against s and k",
       params=lambda mode: {"states": "1..12", "symbols": "2, 3"})
def weight_set(mode: str, seed: int) -> Result:
    rows = _sweep(list(range(1, 13)), 2, seed) + _sweep(list(range(1, 13)), 3, seed)
    # |U_s| grows linearly in the number of cell codes k (s + 2): report the worst ratio.
    ratios = [r["weight_set"] / (r["k"] * (r["s"] + 2)) for r in rows]
    ok = max(ratios) <= 4
    return Result(ok, {"rows": [{k: r[k] for k in ("s", "k", "weight_set", "shared_parameters")}
                                for r in rows],
                       "max_ratio_to_codes": round(max(ratios), 3)},
                  f"|U_s| <= {max(ratios):.2f} k(s+2)")

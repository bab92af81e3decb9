"""``srcnn verify`` checks built on certificates (docs/certificates.md).

* ``certificates-library``: every compiled network of the library (the built-in machines,
  the grid machines, the four learner networks, the circuit interpreter) is proven right on
  every valid local view, through the same path as ``srcnn certify`` (export metadata,
  validation, views from the metadata);
* ``certificates-mutation``: single-weight changes of four networks; every change that
  alters an output on some valid view is rejected (kill rate 100%).
"""

from __future__ import annotations

import time
from pathlib import Path

from proofs_check.certificates_files import certify_compiled
from proofs_check.mutation import SUBJECTS, mutants, sample, subject, sweep
from proofs_check.registry import Result, check


def library_networks() -> dict[str, object]:
    """Every compiled network of the library, by name (compiled on first use)."""
    from constructions.circuit import universal_machine
    from constructions.learner import compile_library_learner
    from constructions.tm import compile_tm
    from simulators.assembler import assemble_file
    from simulators.formats import builtin_machines
    from simulators.learner_tape import LIBRARY_LEARNERS

    nets: dict[str, object] = {name: compile_tm(m) for name, m in builtin_machines().items()}
    grid = Path(__file__).resolve().parents[1] / "simulators" / "library" / "grid"
    for path in sorted(grid.glob("*.tm")):
        nets[f"grid/{path.stem}"] = compile_tm(assemble_file(path, strict=True))
    for name in LIBRARY_LEARNERS:
        nets[f"learner/{name}"] = compile_library_learner(name)
    nets["circuit-interpreter"] = universal_machine()
    return nets


@check("certificates-library",
       "Lemma 1 (2) computation and Lemma 1 (1) Jacobians: every library network certified",
       "exhaustive", "every compiled network of the library proven on every valid local view",
       params=lambda mode: {"dtypes": ["float32"] + (["float64"] if mode == "thorough" else [])})
def library(mode: str, seed: int) -> Result:
    dtypes = ["float32"] + (["float64"] if mode == "thorough" else [])
    rows, ok = {}, True
    for name, net in library_networks().items():
        for dtype in dtypes:
            start = time.perf_counter()
            cert = certify_compiled(net, dtype, name)
            rows[f"{name}/{dtype}"] = {
                "proven": cert.proven, "views": cert.views,
                "enumerated": sum(p.views_enumerated for p in cert.parts),
                "seconds": round(time.perf_counter() - start, 2),
                **({"counterexample": cert.counterexample} if cert.counterexample else {}),
                **({"unproven": cert.unproven} if cert.unproven else {})}
            ok &= cert.proven
    views = sum(r["views"] for r in rows.values())
    return Result(ok, {"networks": rows},
                  f"{sum(r['proven'] for r in rows.values())}/{len(rows)} certified, "
                  f"{views:,} views")


QUICK_SAMPLE = 30
THOROUGH_MAJORITY = 2000


def mutation_plan(name: str, mode: str, seed: int) -> tuple[list, str]:
    """The mutants a run checks: a seeded stratified sample in quick mode; in thorough mode
    all of them, except for the majority learner (258,030 mutants, hours) where a sample of
    :data:`THOROUGH_MAJORITY` is drawn (``python -m proofs_check.mutation`` runs them all)."""
    sub = subject(name)
    every = list(mutants(sub.arrays))
    if mode == "quick":
        return sample(every, QUICK_SAMPLE, seed), f"sample {QUICK_SAMPLE} of {len(every)}"
    if name == "majority":
        return sample(every, THOROUGH_MAJORITY, seed), \
            f"sample {THOROUGH_MAJORITY} of {len(every)}"
    return every, f"all {len(every)}"


@check("certificates-mutation",
       "Lemma 1 (2) computation: certificates reject every harmful single-weight change",
       "exhaustive", "mutation testing: kill rate of the certificate on single-weight changes",
       params=lambda mode: {"subjects": list(SUBJECTS), "step": "2^-10 and sign flips",
                            "mutants": f"{QUICK_SAMPLE} per network" if mode == "quick"
                            else f"all (majority: {THOROUGH_MAJORITY} sampled)"})
def mutation(mode: str, seed: int) -> Result:
    reports = {}
    for name in SUBJECTS:
        todo, scope = mutation_plan(name, mode, seed)
        reports[name] = sweep(subject(name), todo, scope).to_json()
    ok = all(r["kill_rate"] == 1.0 and not r["survivors"] for r in reports.values())
    changes = sum(r["change_some_valid_view"] for r in reports.values())
    killed = sum(r["rejected"] for r in reports.values())
    return Result(ok, {"reports": reports}, f"{killed}/{changes} harmful changes rejected")

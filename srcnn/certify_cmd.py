"""``srcnn certify FILE.safetensors``: prove a weight file right on every valid local view.

Exit 0 with what was proven (the rule, the number of views, the dtype and how), exit 1
with the first counterexample (the view, the value expected, the value computed) or the
reason nothing could be proven, exit 2 with one line for a file that is not a valid weight
file (docs/weight_files.md, docs/certificates.md).
"""

from __future__ import annotations

import argparse
import json
import sys

from srcnn.common import EXIT_FAIL, EXIT_OK, UsageError


def _grid(view: list[float]) -> str:
    if len(view) != 9:
        return str(view)
    rows = [" ".join(f"{v:g}" for v in view[r:r + 3]) for r in (0, 3, 6)]
    return " | ".join(rows)


def run(args: argparse.Namespace) -> int:
    from proofs_check.certificates_files import WeightFileError, certify_weights, read_weight_file

    try:
        wf = read_weight_file(args.file)
    except WeightFileError as e:
        raise UsageError(str(e)) from None
    if sys.stderr.isatty():
        print(f"certifying {args.file} ...", file=sys.stderr, flush=True)
    import numpy as np

    with np.errstate(all="ignore"):  # extreme weights overflow in float; the verdict says so
        cert = certify_weights(wf)
    if args.json:
        print(json.dumps(cert.to_json()))
        return EXIT_OK if cert.proven else EXIT_FAIL
    if cert.proven:
        print(f"certified  {args.file}")
        print(f"  rule       {cert.rule}")
        print(f"  dtype      {cert.dtype}")
        print(f"  views      {cert.views:,}  (" + ", ".join(
            f"{p.name}: {p.views:,}" for p in cert.parts) + ")")
        print(f"  proven     {cert.how}")
        print(f"  statement  {cert.statement}")
        print(f"  time       {cert.seconds:.1f} s")
        return EXIT_OK
    print(f"NOT certified  {args.file}")
    print(f"  rule       {cert.rule}")
    ce = cert.counterexample
    if ce is None:
        print(f"  unproven   {cert.unproven}")
        return EXIT_FAIL
    print(f"  where      {ce['part']}: {ce['family']}")
    label = "view       " if len(ce["view"]) != 9 else "view       nw n ne | w c e | sw s se = "
    print(f"  {label}{_grid(ce['view'])}")
    print(f"  expected   {ce['expected']:g}")
    print(f"  computed   {ce['computed']!r} ({cert.dtype}; exactly {ce['exact']} in rationals)")
    if "expected_jacobian" in ce:
        print(f"  jacobian   expected {ce['expected_jacobian']}, "
              f"computed {ce['computed_jacobian']}")
    if "expected_slope" in ce:
        print(f"  slope      expected {ce['expected_slope']:g}, computed {ce['computed_slope']!r}")
    return EXIT_FAIL


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "certify",
        help="prove a weight file right on every valid local view (or show a counterexample)",
        description=(
            "Read FILE (a safetensors file written by 'srcnn compile -o', or any file in the "
            "same layout: docs/weight_files.md), take the rule from its metadata (a Turing "
            "machine, a learner network, the circuit interpreter or an elementary CA) and "
            "prove that the patch network returns the rule's next value, and the head its "
            "readout, on every valid local view: a finite proof by induction that every "
            "rollout from every valid configuration is right (docs/certificates.md). "
            "Exit 0: proven; 1: a counterexample (view, expected, computed) or unproven; "
            "2: not a valid weight file."),
        epilog="Example: srcnn compile bb4 -o bb4.safetensors && srcnn certify bb4.safetensors",
    )
    p.add_argument("file", help="the .safetensors weight file")
    p.add_argument("--json", action="store_true",
                   help="print the certificate (or counterexample) as one JSON object")
    p.set_defaults(func=run)
    return p

"""Framework-free export of compiled weights: safetensors plus JSON metadata.

The layout (tensor names, shapes, every metadata field, a numpy-only client) is documented
in docs/weight_files.md; ``srcnn certify`` (proofs_check/certificates_files.py) reads it
back and proves a file right on every valid view, whatever produced it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from constructions.patchnet import OFFSETS, POSITION_NAMES

FORMAT = "succinct-rcnn weights"
FORMAT_VERSION = 1
METADATA_KEY = "srcnn"
"""The safetensors header key holding the JSON metadata."""

PATCH_TENSORS = ("A1", "b1", "A2", "b2", "A3", "b3")
HEAD_TENSORS = ("U2", "c2", "U1", "c1")


def network_record(padding: float, hidden: tuple[int, int], d_head: int) -> dict:
    """How to evaluate the weights: the layer formula, activation order, patch order,
    padding, head and readout, and every tensor's shape (the same for every kind)."""
    h1, h2 = hidden
    return {
        "layer": "new[r][c] = A3 @ relu(A2 @ relu(A1 @ p + b1) + b2) + b3, p = the 9 values "
                 "around cell (r, c) in patch_order (cells outside the grid hold padding); "
                 "every cell is updated from the same previous grid, with the same weights at "
                 "every cell and every layer",
        "activation": "relu after the first and after the second affine map, none after the "
                      "third; A3 @ h is a dot product (A3 has one row), b3 a scalar",
        "patch_order": list(POSITION_NAMES),
        "patch_offsets": [list(o) for o in OFFSETS],
        "offsets": "(row, column) offsets from the cell; rows grow downwards",
        "padding": padding,
        "head": "h(v) = U1 @ relu(U2 @ [v] + c2) + c1 on every cell of the final grid; the "
                "output is the sum of h over the grid",
        "tensors": {"A1": [h1, 9], "b1": [h1], "A2": [h2, h1], "b2": [h2], "A3": [1, h2],
                    "b3": [1], "U2": [d_head, 1], "c2": [d_head], "U1": [1, d_head],
                    "c1": [1]},
    }


def machine_text(machine) -> str:
    """The machine as bbchallenge text, or as a JSON machine file when it has no
    bbchallenge form (more than 10 symbols, grid moves with names, ...)."""
    from simulators.formats import dump_machine, format_bbchallenge

    try:
        return format_bbchallenge(machine)
    except ValueError:
        return dump_machine(machine, "json")


def export_metadata(compiled, dtype: str = "float32", source: str = "") -> dict:
    """The metadata stored beside the weights of every exported file (safetensors here,
    any other format later): ``compiled.metadata()`` (a compiled machine, learner or the
    circuit interpreter) plus the format, the evaluation record of :func:`network_record`,
    the dtype, the source argument, and for machines the machine itself. One builder, so
    every export format carries the same record."""
    meta = dict(compiled.metadata())
    meta["format"] = FORMAT
    meta["format_version"] = FORMAT_VERSION
    padding = float(getattr(compiled, "padding", meta.get("padding", 0)))
    if meta.get("kind") == "learner":
        padding = float(meta["values"]["padding"])
    meta["network"] = network_record(padding, compiled.patch.hidden,
                                     int(compiled.head.U2.shape[0]))
    meta.update(dtype=dtype, source=source)
    machine = getattr(compiled, "machine", None)
    if machine is not None and meta.get("kind") != "circuit-interpreter":
        meta["name"] = machine.name
        meta["machine"] = machine_text(machine)
    return meta


def weight_arrays(compiled, dtype: str = "float32") -> dict[str, np.ndarray]:
    """The shared weights (A1..b3, U2..c1) as numpy arrays of ``dtype``; the dtype must hold
    every weight exactly (checked by ``compiled.check_dtype``)."""
    compiled.check_dtype(dtype)
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    tensors = {}
    for name, a in {**compiled.patch.arrays(), **compiled.head.arrays()}.items():
        t = np.array([float(v) for v in a.ravel()], dtype=np_dtype).reshape(a.shape)
        tensors[name] = np.ascontiguousarray(t)
    return tensors


def save_weights(tensors: dict[str, np.ndarray], meta: dict, path: str | Path) -> None:
    """Write ``tensors`` and the JSON ``meta`` (under :data:`METADATA_KEY`) to ``path``."""
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path),
              metadata={METADATA_KEY: json.dumps(meta)})


def save_compiled(ctm, path: str | Path, dtype: str = "float32", source: str = "") -> None:
    """Write the shared weights (A1..b3, U2..c1) and :func:`export_metadata` to ``path``."""
    save_weights(weight_arrays(ctm, dtype), export_metadata(ctm, dtype, source), path)


MAX_WEIGHT_FILE_BYTES = 2**30
"""Largest weight file read (1 GiB; the compiler's largest network, 2*10^7 shared
parameters in float64, is 160 MB)."""


def read_container(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """The tensors and the JSON metadata of a weight file, read with the input limits of
    ``simulators/inputs.py``: a regular file of at most :data:`MAX_WEIGHT_FILE_BYTES`
    (never a device, a pipe or a directory), a safetensors header, the metadata key present
    and its JSON within the depth, integer and duplicate-key limits. Checks the container
    only; the fields are validated by ``proofs_check.certificates_files.validate``.
    Raises :class:`simulators.inputs.InputError` (one line, naming the file)."""
    import os
    import stat

    from safetensors import safe_open

    from simulators.inputs import InputError, load_json, source_label

    source = source_label(path)
    try:
        st = os.stat(path)
    except (OSError, ValueError) as e:
        reason = "no such file" if isinstance(e, FileNotFoundError) else f"cannot read ({e})"
        raise InputError(source, reason) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(source, "not a regular file (a weight file is a .safetensors file)")
    if st.st_size > MAX_WEIGHT_FILE_BYTES:
        raise InputError(source, f"{st.st_size:,} bytes, more than the limit of "
                                 f"{MAX_WEIGHT_FILE_BYTES:,} for a weight file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises its own error types for every corruption
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(source, f"not a safetensors file ({first})") from None
    if METADATA_KEY not in header:
        raise InputError(source, f"field '{METADATA_KEY}': missing (a safetensors file "
                                 "without succinct-rcnn metadata)")
    meta = load_json(header[METADATA_KEY], f"{source}: field '{METADATA_KEY}'")
    if not isinstance(meta, dict):
        raise InputError(source, f"field '{METADATA_KEY}': expected a JSON object")
    return tensors, meta


def load_compiled(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read back the tensors and the metadata written by :func:`save_compiled` (no
    validation: :func:`proofs_check.certificates_files.read_weight_file` validates)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
    return load_file(str(path)), meta

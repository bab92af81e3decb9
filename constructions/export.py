"""Framework-free export of compiled weights: safetensors plus JSON metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from constructions.tm import CompiledTM


def export_metadata(compiled: CompiledTM, dtype: str = "float32", source: str = "") -> dict:
    """The metadata stored beside the weights of every exported file (safetensors here,
    any other format later): ``compiled.metadata()`` plus the dtype, the source argument,
    the machine's name and the machine itself (bbchallenge text, or JSON when it has no
    bbchallenge form). One builder, so every export format carries the same record."""
    from simulators.formats import format_bbchallenge

    meta = dict(compiled.metadata())
    meta.update(dtype=dtype, source=source, name=compiled.machine.name)
    try:
        meta["machine"] = format_bbchallenge(compiled.machine)
    except ValueError:
        from simulators.formats import dump_machine

        meta["machine"] = dump_machine(compiled.machine, "json")
    return meta


def weight_arrays(compiled: CompiledTM, dtype: str = "float32") -> dict[str, np.ndarray]:
    """The shared weights (A1..b3, U2..c1) as numpy arrays of ``dtype``; the dtype must hold
    every weight exactly (checked by ``compiled.check_dtype``)."""
    compiled.check_dtype(dtype)
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    tensors = {}
    for name, a in {**compiled.patch.arrays(), **compiled.head.arrays()}.items():
        t = np.array([float(v) for v in a.ravel()], dtype=np_dtype).reshape(a.shape)
        tensors[name] = np.ascontiguousarray(t)
    return tensors


def save_compiled(ctm: CompiledTM, path: str | Path, dtype: str = "float32",
                  source: str = "") -> None:
    """Write the shared weights (A1..b3, U2..c1) and :func:`export_metadata` to ``path``."""
    tensors = weight_arrays(ctm, dtype)
    meta = export_metadata(ctm, dtype, source)
    save_file(tensors, str(path), metadata={"srcnn": json.dumps(meta)})


def load_compiled(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read back the tensors and the metadata written by :func:`save_compiled`."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()["srcnn"])
    return load_file(str(path)), meta

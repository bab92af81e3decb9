"""Framework-free export of compiled weights: safetensors plus JSON metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from constructions.tm import CompiledTM


def save_compiled(ctm: CompiledTM, path: str | Path, dtype: str = "float32",
                  source: str = "") -> None:
    """Write the shared weights (A1..b3, U2..c1) and ``ctm.metadata()`` to ``path``.

    The dtype must hold every weight exactly (checked by :meth:`CompiledTM.check_dtype`).
    """
    ctm.check_dtype(dtype)
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    tensors = {}
    for name, a in {**ctm.patch.arrays(), **ctm.head.arrays()}.items():
        t = np.array([float(v) for v in a.ravel()], dtype=np_dtype).reshape(a.shape)
        tensors[name] = np.ascontiguousarray(t)
    from simulators.formats import format_bbchallenge

    meta = dict(ctm.metadata())
    meta.update(dtype=dtype, source=source, name=ctm.machine.name)
    try:
        meta["machine"] = format_bbchallenge(ctm.machine)
    except ValueError:
        from simulators.formats import dump_machine

        meta["machine"] = dump_machine(ctm.machine, "json")
    save_file(tensors, str(path), metadata={"srcnn": json.dumps(meta)})


def load_compiled(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read back the tensors and the metadata written by :func:`save_compiled`."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()["srcnn"])
    return load_file(str(path)), meta

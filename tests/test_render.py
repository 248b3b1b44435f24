"""Render worker: labels on constructed scenes (visibility, left/right, frame edges), contour
methods at 64x64, determinism of whole jobs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderers.cameras import PlacedCamera, ViewSpec, frame_view
from renderers.config import CameraConfig, FrameConfig, OutputConfig, RenderConfig
from renderers.job import RenderJob, render
from renderers.shots import label_points, select_frames, silhouette_box
from renderers.parts import PARTS, part_of_bone
from renderers.projection import intrinsics, look_at_rotation, world_to_camera
from renderers.visibility import visibility_flags
from rig2sketch.skeleton import COCO_KEYPOINTS

BODY_SIDES = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
LOADER = "tests.render_scene:mannequin_scene"


def kp(name: str) -> int:
    return COCO_KEYPOINTS.index(name)


def test_visibility_rule_with_a_known_caster():
    # Camera at the origin looking along +Y; a "limb" surface 0.05 m in front of joint A,
    # an occluder 1 m in front of joint B, nothing in front of C; D is outside the image.
    points = np.array([[0, 3.0, 0], [0.1, 3.0, 0], [-0.1, 3.0, 0], [5.0, 3.0, 0]])
    hits = {0: 2.95, 1: 2.0, 2: np.inf}
    uv = np.array([[32, 32], [34, 32], [30, 32], [200, 32]], dtype=float)

    def cast(origin, direction, max_distance):
        index = int(np.argmin(np.abs(points[:3, 0] - direction[0] * 3.0 / direction[1])))
        return hits[index]

    v = visibility_flags(points, uv, 64, 64, np.zeros(3), cast, radius_m=0.12)
    assert v.tolist() == [2.0, 1.0, 2.0, 0.0]


def test_select_frames_step_random_and_cap():
    frames = list(range(1, 42))
    assert select_frames(frames, FrameConfig(step=10), np.random.default_rng(0)) == [1, 11, 21, 31, 41]
    picked = select_frames(frames, FrameConfig(random=5), np.random.default_rng(0))
    assert len(set(picked)) == 5 and picked == sorted(picked)
    assert picked == select_frames(frames, FrameConfig(random=5), np.random.default_rng(0))
    assert select_frames(frames, FrameConfig(step=1, max_frames=3), np.random.default_rng(0)) == [1, 2, 3]


def test_part_of_bone_groups_the_mixamo_bones():
    assert PARTS[part_of_bone("LeftForeArm")] == "left_forearm"
    assert PARTS[part_of_bone("RightHandIndex2")] == "right_hand"
    assert PARTS[part_of_bone("LeftToeBase")] == "left_foot"
    assert PARTS[part_of_bone("Neck")] == "head" and PARTS[part_of_bone("Spine1")] == "torso"
    assert PARTS[part_of_bone("RightShoulder")] == "torso" and PARTS[part_of_bone("RightUpLeg")] == "right_thigh"


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="renderer.contour"):
        RenderConfig(contour="sketchy")
    with pytest.raises(ValueError, match="renderer.camera.fill"):
        CameraConfig(fill=1.5)
    with pytest.raises(ValueError, match="renderer.frames.step"):
        FrameConfig(step=0)


@pytest.fixture(scope="module")
def mannequin_scene():
    """The constructed mannequin at frame 1 (arms down), evaluated, with a ray caster."""
    from renderers.blender import reset_blender
    from renderers.blender.scene import figure_points, scene_ray_caster
    from tests.render_scene import build_mannequin, mannequin_keypoints

    bpy = reset_blender()
    character = build_mannequin(bpy)
    scene = bpy.context.scene
    scene.frame_set(1)
    depsgraph = bpy.context.evaluated_depsgraph_get()
    coco, joints = mannequin_keypoints(character, depsgraph)
    return {"coco": coco, "surface": figure_points(character, depsgraph),
            "cast": scene_ray_caster(scene, depsgraph)}


def _labels(scene, azimuth):
    placed = frame_view(ViewSpec("v", azimuth_deg=azimuth, elevation_deg=0.0), scene["surface"], 64, 64)
    return label_points(scene["coco"], placed, scene["cast"], radius_m=0.12)


@pytest.mark.blender
def test_joints_behind_the_body_are_occluded(mannequin_scene):
    labels = _labels(mannequin_scene, azimuth=90.0)  # camera on the character's left side
    for part in BODY_SIDES:
        assert labels[kp(f"right_{part}"), 2] == 1, part
        if part != "hip":  # the left hip is behind the hanging left forearm from this side
            assert labels[kp(f"left_{part}"), 2] == 2, part
    assert labels[kp("left_hip"), 2] == 1
    assert labels[kp("left_ear"), 2] == 2 and labels[kp("right_ear"), 2] == 1
    front = _labels(mannequin_scene, azimuth=0.0)
    assert (front[:, 2] == 2).all()  # arms down at the sides: everything seen from the front
    back = _labels(mannequin_scene, azimuth=180.0)
    assert back[kp("nose"), 2] == 1 and back[kp("left_eye"), 2] == 1  # the face from behind


@pytest.mark.blender
def test_left_right_is_the_characters_from_front_and_back(mannequin_scene):
    front = _labels(mannequin_scene, azimuth=0.0)
    back = _labels(mannequin_scene, azimuth=180.0)
    for part in ("shoulder", "wrist", "hip", "ankle", "eye"):
        # Seen from the front, the character's left is on the image's right.
        assert front[kp(f"left_{part}"), 0] > front[kp(f"right_{part}"), 0], part
        assert back[kp(f"left_{part}"), 0] < back[kp(f"right_{part}"), 0], part
    for labels in (front, back):  # y down: head above the feet
        assert labels[kp("nose"), 1] < labels[kp("left_hip"), 1] < labels[kp("left_ankle"), 1]


@pytest.mark.blender
def test_points_outside_the_frame_get_v0(mannequin_scene):
    # A camera 1.2 m in front of the chest with a long lens: head and shoulders in, feet out.
    rot = look_at_rotation(np.array([0.0, 1.0, 0.0]))
    placed = PlacedCamera("close", 64, 64, intrinsics(64, 64, 50.0, 36.0),
                          world_to_camera(np.array([0.0, -1.2, 1.45]), rot), 50.0, 36.0)
    labels = label_points(mannequin_scene["coco"], placed, mannequin_scene["cast"], radius_m=0.12)
    for name in ("left_ankle", "right_ankle", "left_knee", "right_knee"):
        assert labels[kp(name)].tolist() == [0.0, 0.0, 0.0], name
    assert labels[kp("nose"), 2] == 2 and labels[kp("left_shoulder"), 2] == 2


def _job(tmp: Path, contour: str, **kw) -> RenderJob:
    cfg = RenderConfig(out_dir=str(tmp), characters=["mannequin"], width=64, height=64, contour=contour,
                       scene_loader=LOADER, frames=FrameConfig(step=10, max_frames=kw.pop("frames", 2)),
                       camera=CameraConfig(count=kw.pop("cameras", 2)), **kw)
    return RenderJob("mannequin__default", "mannequin", "default", "mannequin", "default", cfg, 7, "test")


def _ink_on_figure(images: np.ndarray, boxes: np.ndarray) -> None:
    for image, (x, y, w, h) in zip(images, boxes):
        ink = image < 128
        assert ink.sum() > 30, "no lines drawn"
        rows, cols = np.nonzero(ink)
        # Lines where the figure is: all ink within the silhouette box (+2 px for line width).
        assert cols.min() >= x - 2 and cols.max() <= x + w + 2
        assert rows.min() >= y - 2 and rows.max() <= y + h + 2


@pytest.mark.blender
def test_depth_normal_job_renders_lines_labels_and_extras(tmp_path):
    out = render(_job(tmp_path, "depth_normal",
                      outputs=OutputConfig(shaded=True, mask=True, depth=True, normal=True, parts=True)))
    n = 4  # 2 frames x 2 cameras
    assert out["image"].shape == (n, 64, 64) and out["image"].dtype == np.uint8
    assert out["keypoints"].shape == (n, 17, 3) and out["joints"].shape == (n, 53, 3)
    assert out["shaded"].shape == (n, 64, 64, 3) and out["normal"].shape == (n, 64, 64, 3)
    assert out["depth"].dtype == np.uint16 and out["mask"].shape == (n, 64, 64)
    _ink_on_figure(out["image"], out["bbox"])
    for mask, box, area in zip(out["mask"], out["bbox"], out["area"]):
        expected, expected_area, _ = silhouette_box(mask / 255.0)
        np.testing.assert_array_equal(box, expected)
        assert area == expected_area > 100
    shown = out["keypoints"][..., 2] > 0
    assert shown.mean() > 0.9  # auto-framing keeps the figure in view
    x, y = out["keypoints"][..., 0], out["keypoints"][..., 1]
    bx, by, bw, bh = (out["bbox"][:, i:i + 1] for i in range(4))
    assert ((x >= bx - 1) & (x <= bx + bw + 1) & (y >= by - 1) & (y <= by + bh + 1))[shown].all()
    depth = out["depth"][out["mask"] > 0]
    assert 500 < depth.min() < depth.max() < 20000  # millimetres, metres away
    # Body parts: background exactly outside the mask; the head at the nose, each shin just
    # above its ankle (frame 1, front view).
    parts = out["parts"]
    assert ((parts > 0) == (out["mask"] > 0)).all() and parts.max() < len(PARTS)
    front = out["keypoints"][0]
    x, y = front[kp("nose")][:2].astype(int)
    assert PARTS[parts[0, y, x]] == "head"
    x, y = front[kp("left_ankle")][:2].astype(int)
    assert PARTS[parts[0, y - 2, x]] == "left_shin"
    x, y = front[kp("right_ankle")][:2].astype(int)
    assert PARTS[parts[0, y - 2, x]] == "right_shin"


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("contour", ["freestyle", "hed"])
def test_other_contour_methods_draw_on_the_figure(tmp_path, contour):
    out = render(_job(tmp_path, contour, frames=1, cameras=1))
    assert out["image"].shape == (1, 64, 64)
    _ink_on_figure(out["image"], out["bbox"])


@pytest.mark.blender
@pytest.mark.slow
def test_same_config_and_seed_give_identical_bytes(tmp_path):
    from renderers.process import run_job_process
    from shards import iter_samples

    job = _job(tmp_path, "depth_normal")
    rows = []
    for name in ("a", "b"):
        entry = run_job_process(job, tmp_path / name, timeout_s=300, retries=0)
        assert entry["status"] == "rendered" and entry["rows"] == 4
        rows.append(list(iter_samples(tmp_path / name, decode_images=False)))
    for first, second in zip(*rows):
        for key in ("sample_id", "image", "keypoints", "joints", "bbox", "intrinsics", "extrinsics", "seed"):
            assert np.array_equal(np.asarray(first[key]), np.asarray(second[key])) if key != "image" \
                else first[key] == second[key], key
    # The second call finds the complete shard and skips it.
    again = run_job_process(job, tmp_path / "a", timeout_s=300, retries=0)
    assert again["status"] == "skipped" and again["rows"] == 4


@pytest.mark.parametrize("name", ["default", "demo", "seed", "sampled"])
def test_renderer_yaml_files_compose_into_the_config(name):
    from omegaconf import OmegaConf

    from rig2sketch.paths import CONFIG_DIR

    def load(file: str):
        node = OmegaConf.load(CONFIG_DIR / "renderer" / f"{file}.yaml")
        parents = [load(p) for p in node.pop("defaults", []) if p != "_self_"]
        return OmegaConf.merge(*parents, node) if parents else node

    cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(RenderConfig), load(name)))
    assert isinstance(cfg, RenderConfig) and isinstance(cfg.camera, CameraConfig)
    assert cfg.camera.count == 8
    with pytest.raises(Exception, match="camras"):
        OmegaConf.merge(OmegaConf.structured(RenderConfig), {"camras": 8})


@pytest.mark.blender
def test_exr_reader_matches_blender_and_rejects_bad_files(tmp_path):
    from renderers.blender import reset_blender
    from renderers.contours.exr import read_exr

    bpy = reset_blender()

    pixels = np.random.default_rng(0).random(5 * 7 * 4).astype(np.float32)
    image = bpy.data.images.new("exr_check", 7, 5, alpha=True, float_buffer=True)
    image.pixels.foreach_set(pixels)
    scene = bpy.context.scene
    scene.view_settings.view_transform = "Standard"
    settings = scene.render.image_settings
    settings.file_format, settings.color_depth, settings.exr_codec = "OPEN_EXR", "32", "NONE"
    image.save_render(str(tmp_path / "t.exr"), scene=scene)
    channels = read_exr(tmp_path / "t.exr")
    expected = pixels.reshape(5, 7, 4)[::-1]  # Blender's pixels run bottom-up, the file top-down
    for i, name in enumerate("RGBA"):
        np.testing.assert_array_equal(channels[name], expected[..., i])
    data = (tmp_path / "t.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[:-40])
    with pytest.raises(ValueError, match="truncated"):
        read_exr(tmp_path / "cut.exr")
    (tmp_path / "no.exr").write_bytes(b"PNG not an exr")
    with pytest.raises(ValueError, match="not an OpenEXR"):
        read_exr(tmp_path / "no.exr")

"""Hand keypoints in the COCO-WholeBody layout, from the rig's finger joints (issue 16, item 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rig2sketch.skeleton import JOINTS, WHOLEBODY_HAND, hand_keypoints


def test_hand_layout_maps_finger_bones_and_leaves_tips_absent():
    joints = np.zeros((len(JOINTS), 3), np.float32)
    for i, name in enumerate(JOINTS):
        joints[i] = (i, 100 + i, 2)
    left = hand_keypoints(joints, "left")
    assert left.shape == (21, 3) and len(WHOLEBODY_HAND) == 21
    assert left[0, 0] == JOINTS.index("LeftHand") and left[1, 0] == JOINTS.index("LeftHandThumb1")
    assert left[7, 0] == JOINTS.index("LeftHandIndex3") and left[17, 0] == JOINTS.index("LeftHandPinky1")
    assert (left[4::4] == 0).all()  # fingertips: the rig has no bone for them
    assert hand_keypoints(joints, "right")[0, 0] == JOINTS.index("RightHand")
    joints[JOINTS.index("RightHandRing2")] = (5, 5, 0)  # outside the image: no coordinates
    assert (hand_keypoints(joints, "right")[14] == 0).all()
    with pytest.raises(ValueError, match="side='both'"):
        hand_keypoints(joints, "both")


@pytest.mark.blender
@pytest.mark.slow
def test_wholebody_export_of_a_real_render_loads_and_hands_meet_the_wrists(tmp_path):
    from pycocotools.coco import COCO

    from evaluation.config import ExportConfig
    from evaluation.export import export
    from flows.render import plan_jobs
    from renderers.config import CameraConfig, FrameConfig, RenderConfig
    from renderers.job import write_shards

    cfg = RenderConfig(out_dir=str(tmp_path / "raw"), characters=["ada"], motions=["wave"], width=128, height=128,
                       threads=1, frames=FrameConfig(step=10, max_frames=1), camera=CameraConfig(count=4))
    write_shards(plan_jobs(cfg)[0], tmp_path / "raw")
    export(ExportConfig(dataset=str(tmp_path / "raw"), out=str(tmp_path / "wb"), format="coco_wholebody"))
    coco = COCO(str(tmp_path / "wb" / "annotations" / "coco_wholebody_train.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 4
    for ann in anns:
        body = np.asarray(ann["keypoints"]).reshape(17, 3)
        for side, wrist in (("left", 9), ("right", 10)):
            hand = np.asarray(ann[f"{side}hand_kpts"]).reshape(21, 3)
            assert (hand[4::4] == 0).all()
            assert ann[f"{side}hand_valid"] == bool((hand[:, 2] > 0).any())
            if body[wrist, 2] > 0:  # the hand's root is the body's wrist (both the hand bone's head)
                assert hand[0, 2] > 0 and np.allclose(hand[0, :2], body[wrist, :2], atol=1e-3)
            if ann[f"{side}hand_valid"]:
                x, y, w, h = ann[f"{side}hand_box"]
                pts = hand[hand[:, 2] > 0, :2]
                assert (pts >= [x, y]).all() and (pts <= [x + w, y + h]).all()
                # fingers lie near the wrist: within a third of the body box's larger side
                assert np.abs(pts - hand[0, :2]).max() < max(ann["bbox"][2:]) / 3
        assert len(ann["foot_kpts"]) == 18 and not ann["face_valid"]
    assert any(a["lefthand_valid"] for a in anns) and any(a["righthand_valid"] for a in anns)
    assert json.loads((tmp_path / "wb" / "annotations" / "coco_wholebody_train.json").read_text())["licenses"]

"""Bundled characters: catalogue, shaped bodies, garments (numpy), and the real bpy build."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.characters.body import build_body
from renderers.characters.catalogue import CATALOGUE, CHARACTER_NAMES, CharacterDesign, character_design
from renderers.characters.garments import GARMENTS, garment_mesh
from renderers.characters.makehuman import BodyShape, macro_target_weights
from rig2sketch.skeleton import COCO_FACE, MIXAMO_BONES, MIXAMO_PARENTS, MIXAMO_PREFIX


@pytest.fixture(scope="module")
def bodies():
    return {spec.name: build_body(spec.shape) for spec in CATALOGUE}


def head(body, bone):
    return body.heads[MIXAMO_BONES.index(bone)]


def test_catalogue_spans_ages_builds_and_sexes():
    assert len(CATALOGUE) >= 12 and len(set(CHARACTER_NAMES)) == len(CATALOGUE)
    shapes = [c.shape for c in CATALOGUE]
    assert min(s.age_years for s in shapes) <= 11 and max(s.age_years for s in shapes) >= 60
    assert min(s.weight for s in shapes) <= 0.2 and max(s.weight for s in shapes) >= 0.9
    assert {0.0, 1.0} <= {s.gender for s in shapes}
    for spec in CATALOGUE:
        slots = sorted(GARMENTS[k][1] for k in spec.garments)
        assert slots == ["bottom", "hair", "top"], spec.name


def test_body_heights_span_child_to_tall_adult(bodies):
    heights = {name: b.height_m for name, b in bodies.items()}
    assert min(heights.values()) <= 1.2, heights
    assert max(heights.values()) >= 1.9, heights
    assert heights["chloe"] < heights["lena"] < heights["ada"] < heights["ivan"]


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="weight"):
        BodyShape(weight=1.5)
    with pytest.raises(ValueError, match="age_years"):
        BodyShape(age_years=0.0)
    with pytest.raises(ValueError, match="ada"):
        character_design("nobody")
    with pytest.raises(ValueError, match="unknown garment 'cape'"):
        CharacterDesign("x", BodyShape(), ("cape",))
    with pytest.raises(ValueError, match="two garments in one slot"):
        CharacterDesign("x", BodyShape(), ("tshirt", "tank"))


def test_macro_weights_form_a_partition():
    shape = BodyShape(gender=0.3, age_years=40, muscle=0.8, weight=0.2, height=0.7)
    w = macro_target_weights(shape)
    universal = sum(v for k, v in w.items() if k.startswith("universal-"))
    height = sum(v for k, v in w.items() if k.startswith("height/"))
    assert universal == pytest.approx(1.0)
    assert height == pytest.approx(0.4)  # only maxheight, weight 2 * 0.7 - 1


def test_tpose_frame_feet_and_weights(bodies):
    body = bodies["ada"]
    assert body.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    for side, sign in (("Left", 1), ("Right", -1)):
        shoulder, elbow, wrist = (head(body, f"{side}{b}") for b in ("Arm", "ForeArm", "Hand"))
        assert sign * shoulder[0] < sign * elbow[0] < sign * wrist[0]
        assert abs(wrist[2] - shoulder[2]) < 0.03  # arms horizontal: a T-pose
    np.testing.assert_allclose(body.weights.sum(1), 1.0, atol=1e-9)
    assert body.weights.shape == (13380, 52) and body.face_regressor.shape == (5, 13380)


def test_face_regressor_points_on_the_face_left_is_plus_x(bodies):
    for name in ("chloe", "ada", "gus", "ivan"):
        body = bodies[name]
        np.testing.assert_allclose(body.face_regressor.sum(1), 1.0, atol=1e-9)
        face = dict(zip(COCO_FACE, body.face_regressor @ body.vertices))
        top = body.tails[MIXAMO_BONES.index("Head")]
        head_length = np.linalg.norm(top - head(body, "Head"))
        for point in face.values():
            assert head(body, "Neck")[2] < point[2] < top[2], name
            assert np.linalg.norm(point - head(body, "Head")) < 0.8 * head_length, name
        assert face["left_eye"][0] > 0.01 and face["left_ear"][0] > 0.03, name
        assert face["right_eye"][0] < -0.01 and face["right_ear"][0] < -0.03, name
        assert face["nose"][1] < face["left_eye"][1] < face["left_ear"][1], name  # faces -Y


def test_garments_are_weighted_and_keep_the_face_clear(bodies):
    body = bodies["ada"]
    face = body.face_regressor @ body.vertices
    for kind in GARMENTS:
        g = garment_mesh(body, kind)
        assert len(g.faces) > 50 and g.faces.max() < len(g.vertices), kind
        np.testing.assert_allclose(g.weights.sum(1), 1.0, atol=1e-9)
        if GARMENTS[kind][1] == "hair":
            over_face = (g.vertices[:, 1] < face[0, 1] + 0.04) & (g.vertices[:, 2] < face[1, 2])
            over_face &= np.abs(g.vertices[:, 0]) < 0.06
            assert not over_face.any(), kind
    with pytest.raises(ValueError, match="unknown garment kind"):
        garment_mesh(body, "cape")


def _blender_facts(name: str) -> dict:
    """Build ``name`` in a fresh scene and read back plain numpy facts."""
    from renderers.blender import reset_blender
    from renderers.blender.characters import build_bundled_character

    reset_blender()
    char = build_bundled_character(name)
    bones = char.armature.data.bones
    facts = {
        "bones": [b.name for b in bones],
        "parents": {b.name: (b.parent.name if b.parent else None) for b in bones},
        "matrix": {b.name: np.asarray(b.matrix_local)[:3, :3] for b in bones},
        "head_tail": {b.name: (np.asarray(b.head_local), np.asarray(b.tail_local)) for b in bones},
        "meshes": [],
    }
    for obj in char.meshes:
        groups = {g.index: g.name for g in obj.vertex_groups}
        sums = np.array([sum(e.weight for e in v.groups) for v in obj.data.vertices])
        names = {groups[e.group] for v in obj.data.vertices for e in v.groups}
        facts["meshes"].append({
            "name": obj.name,
            "weight_sums": sums,
            "group_names": names,
            "modifier": [m.type for m in obj.modifiers],
            "parent": obj.parent.name,
            "uv": [uv.name for uv in obj.data.uv_layers],
            "material": obj.data.materials[0].name,
        })
    return facts


@pytest.fixture(scope="module")
def built():
    return {name: _blender_facts(name) for name in ("chloe", "ivan")}


@pytest.mark.blender
def test_built_characters_have_the_mixamo_skeleton(built):
    for facts in built.values():
        assert sorted(facts["bones"]) == sorted(MIXAMO_PREFIX + b for b in MIXAMO_BONES)
        for bone, parent in MIXAMO_PARENTS.items():
            want = MIXAMO_PREFIX + parent if parent else None
            assert facts["parents"][MIXAMO_PREFIX + bone] == want


@pytest.mark.blender
def test_every_body_and_garment_vertex_is_weighted(built):
    for name, facts in built.items():
        body = facts["meshes"][0]
        assert body["name"] == f"{name}.body" and len(body["weight_sums"]) == 13380
        assert [m["name"].split(".")[1] for m in facts["meshes"][1:]] == [*character_design(name).garments, "eyes"]
        for mesh in facts["meshes"]:
            np.testing.assert_allclose(mesh["weight_sums"], 1.0, atol=1e-4, err_msg=mesh["name"])
            assert mesh["group_names"] <= set(facts["bones"])
            assert mesh["modifier"] == ["ARMATURE"] and mesh["parent"] == name
            assert mesh["uv"] == ["UVMap"] and mesh["material"].startswith("rig2sketch.")


@pytest.mark.blender
def test_rest_pose_bone_axes_match_the_documented_table(built):
    x, y, z = np.eye(3)
    table = {  # bone: (local X, local Y, local Z) in world axes, see renderers.blender.characters
        "Hips": (x, z, -y), "Spine": (x, z, -y), "Head": (x, z, -y),
        "LeftArm": (y, x, -z), "LeftForeArm": (y, x, -z), "LeftHand": (y, x, -z),
        "RightArm": (-y, -x, -z), "RightForeArm": (-y, -x, -z), "RightHand": (-y, -x, -z),
        "LeftUpLeg": (-x, -z, -y), "LeftLeg": (-x, -z, -y), "RightUpLeg": (-x, -z, -y),
        "RightLeg": (-x, -z, -y), "LeftFoot": (-x, -y, z), "RightFoot": (-x, -y, z),
        "LeftToeBase": (-x, -y, z), "RightToeBase": (-x, -y, z),
    }
    for facts in built.values():
        for bone, axes in table.items():
            m = facts["matrix"][MIXAMO_PREFIX + bone]
            for k, want in enumerate(axes):
                assert m[:, k] @ want > np.cos(np.radians(20)), (bone, "XYZ"[k], m[:, k])
        # each bone's local Y runs from head to tail
        for bone, (h, t) in facts["head_tail"].items():
            along = (t - h) / np.linalg.norm(t - h)
            assert facts["matrix"][bone][:, 1] @ along > 0.999, bone


@pytest.mark.blender
def test_contact_sheet_draws_left_on_the_image_right(tmp_path):
    from PIL import Image

    from renderers.characters.sheet import draw_character_sheet
    from rig2sketch.drawing import LEFT, RIGHT

    out = draw_character_sheet(tmp_path / "sheet.png", ["chloe"], ["walk"], 96)
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape == (96, 192, 3)
    tpose = sheet[:, :96]

    def columns(colour):
        near = np.abs(tpose - np.asarray(colour)).sum(-1) < 60
        return np.nonzero(near)[1]

    left, right = columns(LEFT), columns(RIGHT)
    assert len(left) > 20 and len(right) > 20
    assert left.mean() > 48 > right.mean()  # seen from the front: character's left on the right
    with pytest.raises(ValueError, match="unknown motion"):
        draw_character_sheet(tmp_path / "x.png", ["chloe"], ["moonwalk"], 96)


def test_hems_are_straight_and_skirts_do_not_split(bodies):
    body = bodies["gus"]
    shirt = garment_mesh(body, "tshirt")
    hem_z = head(body, "Hips")[2] - 0.04 * body.height_m / 1.7
    assert np.sum(np.abs(shirt.vertices[:, 2] - hem_z) < 1e-6) >= 20  # a ring of hem vertices
    assert shirt.vertices[:, 2].min() > hem_z - 0.01
    skirt = garment_mesh(body, "long_skirt")
    left, right = MIXAMO_BONES.index("LeftLeg"), MIXAMO_BONES.index("RightLeg")
    lower = skirt.vertices[:, 2] < head(body, "LeftLeg")[2]
    assert lower.sum() > 20
    # raw helper weights are one-sided near the hem (1 vs 0); shared ones differ by <= 1 - 0.6
    assert np.all(np.abs(skirt.weights[lower, left] - skirt.weights[lower, right]) <= 0.41)

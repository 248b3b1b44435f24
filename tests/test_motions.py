"""Motion library, pose sampler, clip application and BVH retargeting (renderers.motions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderers.blender import import_bpy
from renderers.motions import clip_names, get_clip
from renderers.motions import rotations as rot
from renderers.motions.clip import Clip, Key, swap_sides
from renderers.motions.pose import Pose
from renderers.motions.kinematics import clearance, forward_kinematics, reference_skeleton
from renderers.motions.sampler import JOINT_LIMITS, legs_through_torso, random_poses
from rig2sketch.skeleton import JOINTS, MIXAMO_BONES

REST = reference_skeleton()
J = {n: i for i, n in enumerate(JOINTS)}
NAMED = {"idle", "walk", "run", "jump", "sit", "crouch", "kneel", "wave", "point", "punch", "kick", "dance",
         "stretch", "fall", "crawl"}


def joints_at(name: str, frame: int) -> np.ndarray:
    return forward_kinematics(REST, get_clip(name).pose_at(frame))


def test_library_names_and_lengths():
    names = clip_names()
    assert len(names) >= 15 and NAMED <= set(names)
    for name in names:
        assert 30 <= get_clip(name).frame_count <= 120


def test_unknown_clip_lists_names():
    with pytest.raises(KeyError, match="walk"):
        get_clip("moonwalk")


def test_bad_keys_and_clips_are_refused():
    with pytest.raises(ValueError, match="unknown bones"):
        Key(1, {"LeftElbow": (("z", 10),)})
    with pytest.raises(ValueError, match="must be 30..120"):
        Clip("short", "", 10, False, (Key(1, {}),))
    with pytest.raises(ValueError, match="increasing"):
        Clip("bad", "", 40, False, (Key(5, {}), Key(2, {})))


@pytest.mark.parametrize("name", sorted(NAMED))
def test_clip_moves_stays_on_the_floor_and_loops_smoothly(name):
    clip = get_clip(name)
    frames = [joints_at(name, f) for f in clip.frames()]
    moved = max(np.abs(j - frames[0]).max() for j in frames)
    assert moved > (0.02 if name == "idle" else 0.1), f"{name} barely moves ({moved:.3f} m)"
    lows = [clearance(REST, clip.pose_at(f)) * REST.hip_height for f in clip.frames()]
    assert min(lows) > -1e-3, f"{name} goes through the floor by {-min(lows):.3f} m"
    if name != "jump":
        assert max(lows) < 1e-3, f"{name} floats {max(lows):.3f} m above the floor"
    if clip.loop:
        steps = [np.abs(b - a).max() for a, b in zip(frames, frames[1:])]
        wrap = np.abs(frames[0] - frames[-1]).max()
        assert wrap <= 1.5 * max(steps) + 1e-6, f"{name} jumps {wrap:.3f} m when it loops"


def test_clips_look_like_their_names():
    up, fwd = 2, 1  # z up; the character faces -Y
    wave = joints_at("wave", 20)
    assert wave[J["RightHand"], up] > wave[J["HeadTop_End"], up] - 0.05  # right hand up by the head
    assert wave[J["LeftHand"], up] < wave[J["Hips"], up] + 0.1  # left arm down
    point = joints_at("point", 30)
    assert point[J["RightHandIndex3"], fwd] < point[J["RightArm"], fwd] - 0.5  # index far in front
    assert abs(point[J["RightHand"], up] - point[J["RightArm"], up]) < 0.2
    sit = joints_at("sit", 50)
    thigh = sit[J["LeftLeg"]] - sit[J["LeftUpLeg"]]
    assert abs(thigh[up]) < 0.1 * np.linalg.norm(thigh) + 0.02 and thigh[fwd] < -0.3  # thigh level, forward
    assert sit[J["Hips"], up] < 0.7 * REST.heads[0, 2]
    crouch = joints_at("crouch", 40)
    assert crouch[J["Hips"], up] < 0.55 * REST.heads[0, 2]
    kneel = joints_at("kneel", 50)
    assert kneel[J["RightLeg"], up] < 0.07 and kneel[J["LeftLeg"], up] > 0.35  # right knee down, left up
    crawl = joints_at("crawl", 10)
    trunk = crawl[J["Neck"]] - crawl[J["Hips"]]
    assert abs(trunk[up]) < 0.5 * abs(trunk[fwd])  # trunk closer to horizontal than vertical
    assert max(crawl[J[n], up] for n in ("LeftHand", "RightHand", "LeftLeg", "RightLeg")) < 0.12  # hands, knees down
    jump = joints_at("jump", 26)
    assert min(jump[J["LeftToeBase"], up], jump[J["RightToeBase"], up]) > 0.2  # airborne
    kick = joints_at("kick", 21)
    assert kick[J["RightFoot"], fwd] < kick[J["Hips"], fwd] - 0.6 and kick[J["RightFoot"], up] > 0.7
    punch = joints_at("punch", 21)
    assert punch[J["RightHand"], fwd] < punch[J["RightArm"], fwd] - 0.45
    fall = joints_at("fall", 50)
    assert fall[J["HeadTop_End"], up] < 0.35  # lying on the floor
    stretch = joints_at("stretch", 25)
    assert min(stretch[J["LeftHand"], up], stretch[J["RightHand"], up]) > stretch[J["HeadTop_End"], up]
    # walking and running swing the legs in opposition
    for name, quarter in (("walk", 10), ("run", 8)):
        a, b = joints_at(name, 1 + quarter), joints_at(name, 1 + 3 * quarter)
        da = a[J["LeftFoot"], fwd] - a[J["RightFoot"], fwd]
        db = b[J["LeftFoot"], fwd] - b[J["RightFoot"], fwd]
        assert da * db < 0 and min(abs(da), abs(db)) > 0.2, name


def test_swap_sides_mirrors_the_pose():
    key = get_clip("wave").keys[3]
    pose = Pose({b: rot.from_sequence(s) for b, s in key.rotations.items()})
    swapped = Pose({b: rot.from_sequence(s) for b, s in swap_sides(key.rotations).items()})
    a, b = forward_kinematics(REST, pose), forward_kinematics(REST, swapped)
    partner = [JOINTS.index(n.replace("Left", "#").replace("Right", "Left").replace("#", "Right")) for n in JOINTS]
    mirrored = b[partner] * [-1, 1, 1]
    # the reference body is only nearly symmetric, so compare to within a centimetre or two
    assert np.abs(mirrored - a).max() < 0.03


def _direction_in_parent(pose: Pose, bone: str, rest_dir: np.ndarray) -> np.ndarray:
    """The bone's rest direction turned by its own (parent-relative) rotation."""
    return rot.to_matrix(pose.rotations[bone]) @ rest_dir


def test_random_poses_stay_inside_limits():
    sampled = random_poses(150, np.random.default_rng(7))
    assert len(sampled) == 150
    x, z = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
    for s in sampled:
        for bone, values in s.angles.items():
            for (axis, lo, hi), v in zip(JOINT_LIMITS[bone], values):
                assert lo <= v <= hi, (bone, axis, v)
        pose = s.pose
        # elbows bend forward only, in their hinge plane (twist is about the forearm's own axis)
        left_forearm = _direction_in_parent(pose, "LeftForeArm", x)
        right_forearm = _direction_in_parent(pose, "RightForeArm", -x)
        assert left_forearm[1] <= 1e-9 and right_forearm[1] <= 1e-9
        assert abs(left_forearm[2]) < 1e-9 and abs(right_forearm[2]) < 1e-9
        # knees bend backwards only, about the knee's left-right axis
        for side in ("Left", "Right"):
            shin = _direction_in_parent(pose, f"{side}Leg", -z)
            assert shin[1] >= -1e-9 and abs(shin[0]) < 1e-9
            assert rot.angle_deg(pose.rotations[f"{side}Leg"]) <= 140 + 1e-6
            assert rot.angle_deg(pose.rotations[f"{side}ForeArm"]) <= 160
        joints = forward_kinematics(REST, pose)
        assert not legs_through_torso(joints, REST)
        assert abs(clearance(REST, pose)) < 1e-9  # standing on the floor
    first = [s.angles["LeftArm"] for s in random_poses(3, np.random.default_rng(1))]
    again = [s.angles["LeftArm"] for s in random_poses(3, np.random.default_rng(1))]
    other = [s.angles["LeftArm"] for s in random_poses(3, np.random.default_rng(2))]
    assert first == again and first != other


def test_torso_check_catches_a_leg_through_the_body():
    # a thigh swung up through the belly puts the knee inside the torso: rejected
    pose = Pose({"LeftUpLeg": rot.from_sequence((("x", 180), ("y", -12)))})  # thigh straight up, inwards
    assert legs_through_torso(forward_kinematics(REST, pose), REST)
    assert not legs_through_torso(forward_kinematics(REST, Pose({})), REST)


# ---------------------------------------------------------------- bpy: applying motions


def _posed_world(char, frame: int):
    """World joint heads ``52, 3`` and world rotations away from rest (bone -> 3x3)."""
    bpy = import_bpy()

    bpy.context.scene.frame_set(frame)
    mw = np.array(char.armature.matrix_world)
    heads, deltas = [], {}
    for b in MIXAMO_BONES:
        pb = char.armature.pose.bones[char.bone_names[b]]
        heads.append((mw @ np.append(np.array(pb.head), 1))[:3])
        posed = np.array(pb.matrix)[:3, :3]
        rest = np.array(pb.bone.matrix_local)[:3, :3]
        deltas[b] = posed @ np.linalg.inv(rest)
    return np.array(heads), deltas


@pytest.mark.blender
def test_clip_gives_same_angles_and_different_positions_on_two_characters():
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    reset_blender()
    big = build_mannequin("big", scale=1.0)
    small = build_mannequin("small", scale=0.7, prefix="mixamorig1:", roll_offset_rad=0.6)
    rng = np.random.default_rng(0)
    frames = apply_motion(big, MotionSpec("clip", "kick"), rng)
    assert frames == list(range(1, 46)) and apply_motion(small, MotionSpec("clip", "kick"), rng) == frames
    for f in (1, 15, 21, 40):
        pb, gb = _posed_world(big, f)
        ps, gs = _posed_world(small, f)
        for b in MIXAMO_BONES:  # same rotation of every bone away from its rest, despite other rolls
            assert rot.angle_deg(rot.from_matrix(gb[b] @ gs[b].T)) < 0.01, (f, b)
        # same proportions scaled by 0.7, hips offset in hip heights: every joint scales too
        np.testing.assert_allclose(ps, 0.7 * pb, atol=1e-4)
        assert np.abs(ps - pb).max() > 0.2
        # and the bpy pose is exactly the bpy-free kinematics of the clip
        np.testing.assert_allclose(pb, forward_kinematics(REST, get_clip("kick").pose_at(f))[:52], atol=1e-4)


@pytest.mark.blender
def test_random_poses_motion_holds_each_pose_on_its_frame():
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    reset_blender()
    char = build_mannequin()
    frames = apply_motion(char, MotionSpec("random_poses", "random_poses", count=4), np.random.default_rng(3))
    expected = random_poses(4, np.random.default_rng(3))
    assert frames == [1, 2, 3, 4]
    for f, s in zip(frames, expected):
        heads, _ = _posed_world(char, f)
        np.testing.assert_allclose(heads, forward_kinematics(REST, s.pose)[:52], atol=1e-4)


# A CMU-style BVH written by hand: Y up, facing +Z, the character's left = +X, centimetres.
BVH_JOINTS = [
    ("Hips", None, (0, 0, 0)),
    ("LHipJoint", "Hips", (0, 0, 0)), ("LeftUpLeg", "LHipJoint", (10, -5, 0)), ("LeftLeg", "LeftUpLeg", (0, -45, 0)),
    ("LeftFoot", "LeftLeg", (0, -42, 0)), ("LeftToeBase", "LeftFoot", (0, -6, 12)),
    ("RHipJoint", "Hips", (0, 0, 0)), ("RightUpLeg", "RHipJoint", (-10, -5, 0)), ("RightLeg", "RightUpLeg", (0, -45, 0)),
    ("RightFoot", "RightLeg", (0, -42, 0)), ("RightToeBase", "RightFoot", (0, -6, 12)),
    ("LowerBack", "Hips", (0, 10, 0)), ("Spine", "LowerBack", (0, 11, 0)), ("Spine1", "Spine", (0, 12, 0)),
    ("Neck", "Spine1", (0, 17, 0)), ("Neck1", "Neck", (0, 4, 0)), ("Head", "Neck1", (0, 5, 0)),
    ("LeftShoulder", "Spine1", (5, 14, 0)), ("LeftArm", "LeftShoulder", (12, 0, 0)),
    ("LeftForeArm", "LeftArm", (25, 0, 0)), ("LeftHand", "LeftForeArm", (24, 0, 0)),
    ("RightShoulder", "Spine1", (-5, 14, 0)), ("RightArm", "RightShoulder", (-12, 0, 0)),
    ("RightForeArm", "RightArm", (-25, 0, 0)), ("RightHand", "RightForeArm", (-24, 0, 0)),
]
BVH_END_SITES = {"LeftToeBase": (0, 0, 5), "RightToeBase": (0, 0, 5), "Head": (0, 18, 0),
                 "LeftHand": (8, 0, 0), "RightHand": (-8, 0, 0)}


def write_bvh(path: Path, frames: list[dict], joints=BVH_JOINTS, end_sites=BVH_END_SITES) -> None:
    """frames: joint -> (Zrot, Xrot, Yrot) degrees, and "root" -> (x, y, z) cm (default 0 96 0)."""
    children: dict = {}
    for name, parent, _ in joints:
        children.setdefault(parent, []).append(name)
    offsets = {n: o for n, _, o in joints}
    lines = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        lines.extend([f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {name}", pad + "{",
                      f"{pad}  OFFSET {' '.join(str(float(v)) for v in offsets[name])}",
                      f"{pad}  CHANNELS " + ("6 Xposition Yposition Zposition " if depth == 0 else "3 ")
                      + "Zrotation Xrotation Yrotation"])
        for child in children.get(name, []):
            emit(child, depth + 1)
        if name in end_sites:
            lines.extend([f"{pad}  End Site", pad + "  {",
                          f"{pad}    OFFSET {' '.join(str(float(v)) for v in end_sites[name])}", pad + "  }"])
        lines.append(pad + "}")

    emit(joints[0][0], 0)
    lines += ["MOTION", f"Frames: {len(frames)}", "Frame Time: 0.033333"]
    for frame in frames:
        values = list(frame.get("root", (0, 96, 0)))
        for name, _, _ in joints:
            values += list(frame.get(name, (0, 0, 0)))
        lines.append(" ".join(f"{v:.4f}" for v in values))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.blender
def test_bvh_is_retargeted_onto_the_mixamo_skeleton(tmp_path):
    from renderers.blender import reset_blender
    from renderers.rigging import CharacterImportError
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    bvh = tmp_path / "cmu.bvh"
    # frame 2: left elbow bent 90 deg forward (about BVH Y; -90 turns +X towards +Z, the front);
    # frame 3: left knee bent 90 deg (about X; the shin swings back to -Z) and the root up 10 cm
    write_bvh(bvh, [{}, {"LeftForeArm": (0, 0, -90)}, {"LeftLeg": (0, 90, 0), "root": (0, 106, 0)}])
    bpy = reset_blender()
    char = build_mannequin()
    frames = apply_motion(char, MotionSpec("bvh", str(bvh)), np.random.default_rng(0))
    assert frames == [1, 2, 3]
    assert {ob.name for ob in bpy.data.objects} == {char.armature.name, char.meshes[0].name}  # source removed

    def unit(v):
        return v / np.linalg.norm(v)

    h = {}
    for f in frames:
        heads, _ = _posed_world(char, f)
        h[f] = {b: heads[i] for i, b in enumerate(MIXAMO_BONES)}
    rest_forearm = unit(REST.heads[MIXAMO_BONES.index("LeftHand")] - REST.heads[MIXAMO_BONES.index("LeftForeArm")])
    np.testing.assert_allclose(unit(h[1]["LeftHand"] - h[1]["LeftForeArm"]), rest_forearm, atol=1e-3)
    forearm = unit(h[2]["LeftHand"] - h[2]["LeftForeArm"])
    assert forearm[1] < -0.99  # forward (-Y) in Blender: the BVH's front became the character's front
    shin = unit(h[3]["LeftFoot"] - h[3]["LeftLeg"])
    assert shin[1] > 0.99  # backwards
    legs = np.linalg.norm(REST.heads[MIXAMO_BONES.index("LeftLeg")] - REST.heads[MIXAMO_BONES.index("LeftUpLeg")]) \
        + np.linalg.norm(REST.heads[MIXAMO_BONES.index("LeftFoot")] - REST.heads[MIXAMO_BONES.index("LeftLeg")])
    scale = legs / 87.0  # leg length ratio target / source (thigh 45 cm + shin 42 cm)
    assert h[3]["Hips"][2] - h[1]["Hips"][2] == pytest.approx(10 * scale, rel=0.05)
    # the other limbs did not move
    np.testing.assert_allclose(h[2]["RightHand"], h[1]["RightHand"], atol=1e-4)

    # a BVH whose joints do not map is refused with the missing joints named
    odd = tmp_path / "quadruped.bvh"
    write_bvh(odd, [{}], joints=[("Pelvis", None, (0, 0, 0)), ("Tail", "Pelvis", (0, 0, -30))], end_sites={"Tail": (0, 0, -10)})
    with pytest.raises(CharacterImportError, match=r"another skeleton.*LeftForeArm"):
        apply_motion(char, MotionSpec("bvh", str(odd)), np.random.default_rng(0))
    # a rest with the arms hanging down cannot be aligned to the T-pose
    arms_down = [(n, p, (o[0], o[1] - 25, o[2]) if n == "LeftForeArm" else o) for n, p, o in BVH_JOINTS]
    write_bvh(tmp_path / "apose.bvh", [{}], joints=arms_down)
    with pytest.raises(CharacterImportError, match=r"not in a T-pose at rest"):
        apply_motion(char, MotionSpec("bvh", str(tmp_path / "apose.bvh")), np.random.default_rng(0))
    broken = tmp_path / "truncated.bvh"
    broken.write_text(bvh.read_text()[:300])
    with pytest.raises(CharacterImportError, match="corrupt or truncated"):
        apply_motion(char, MotionSpec("bvh", str(broken)), np.random.default_rng(0))


@pytest.mark.blender
def test_clip_on_two_bundled_characters_same_angles_different_positions():
    """The acceptance check on real bodies, an adult man and a girl of nine: same joint
    rotations, different joint positions, and both on hands and knees on their own floor."""
    bpy = import_bpy()

    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion, rest_skeleton
    from renderers.selection import CharacterSpec, MotionSpec, load_character

    reset_blender()
    adult, child = (load_character(CharacterSpec.parse(n)) for n in ("ben", "chloe"))
    for char in (adult, child):
        assert apply_motion(char, MotionSpec("clip", "crawl"), np.random.default_rng(0)) == list(range(1, 49))
    for f in (5, 25):
        pa, ga = _posed_world(adult, f)
        pc, gc = _posed_world(child, f)
        for b in MIXAMO_BONES:
            assert rot.angle_deg(rot.from_matrix(ga[b] @ gc[b].T)) < 0.01, (f, b)
        hand = MIXAMO_BONES.index("RightHand")
        assert np.linalg.norm(pa[hand] - pc[hand]) > 0.1
        for char in (adult, child):
            bpy.context.scene.frame_set(f)
            lowest = min(min(pb.head[2], pb.tail[2]) for pb in char.armature.pose.bones)
            assert lowest == pytest.approx(rest_skeleton(char).floor, abs=1e-3)

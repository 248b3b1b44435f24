"""Mixamo FBX import (renderers.blender.fbx): round trip through Blender's own FBX exporter, name and scale
conventions, and every bad-input error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from renderers.blender import import_bpy, import_mathutils
from renderers.rigging import REQUIRED_BONES, CharacterImportError, canonical_bone_name, map_bones
from rig2sketch.skeleton import MIXAMO_BONES

FRAMES = (1, 12, 21, 33)
SIZE = 512


def test_canonical_bone_names():
    for name in ("mixamorig:LeftArm", "mixamorig1:LeftArm", "mixamorig9:LeftArm", "LeftArm",
                 "mixamorig_LeftArm", "Armature|mixamorig:LeftArm", "MIXAMORIG:leftarm"):
        assert canonical_bone_name(name) == "LeftArm", name
    assert canonical_bone_name("mixamorig:HeadTop_End") == "HeadTop_End"
    for leaf in ("mixamorig:LeftToe_End", "mixamorig:LeftHandThumb4", "mixamorig:HeadTop_End_end", "Bip01_Hips"):
        assert canonical_bone_name(leaf) is None, leaf
    names = map_bones(["mixamorig2:Hips", "mixamorig2:Spine", "Camera", "mixamorig2:LeftEye"])
    assert names == {"Hips": "mixamorig2:Hips", "Spine": "mixamorig2:Spine"}
    assert len(REQUIRED_BONES) == 22 and "LeftHandIndex1" not in REQUIRED_BONES


# ------------------------------------------------------------------ bpy fixtures


def _add_camera():
    bpy = import_bpy()

    scene = bpy.context.scene
    scene.render.resolution_x = scene.render.resolution_y = SIZE
    cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(cam)
    cam.location = (1.2, -4.5, 1.3)
    cam.rotation_euler = (math.radians(85), 0, math.radians(14))
    scene.camera = cam
    return cam


def _project(points: np.ndarray) -> np.ndarray:
    """World points ``N, 3`` -> pixels ``N, 2`` (origin top-left, y down) through the scene camera."""
    bpy = import_bpy()
    from renderers.blender import blender_world_to_camera_view
    world_to_camera_view = blender_world_to_camera_view()
    Vector = import_mathutils().Vector

    scene = bpy.context.scene
    out = []
    for p in points:
        v = world_to_camera_view(scene, scene.camera, Vector(p.tolist()))
        out.append((v.x * SIZE, (1.0 - v.y) * SIZE))
    return np.array(out)


def _world_joints(char) -> np.ndarray:
    """Joint heads ``53, 3`` (52 bones + HeadTop_End) in world metres."""
    mw = np.array(char.armature.matrix_world)
    pts = [char.armature.pose.bones[char.bone_names[b]].head for b in MIXAMO_BONES + ("HeadTop_End",)]
    return np.array([(mw @ np.append(np.array(p), 1.0))[:3] for p in pts])


def _skinned_vertices(mesh) -> np.ndarray:
    bpy = import_bpy()

    ev = mesh.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mw = np.array(ev.matrix_world)
    co = np.array([v.co for v in ev.data.vertices])
    return co @ mw[:3, :3].T + mw[:3, 3]


def _select_only(objects):
    bpy = import_bpy()

    for ob in bpy.context.view_layer.objects:
        ob.select_set(False)
    for ob in objects:
        ob.select_set(True)
    bpy.context.view_layer.objects.active = objects[0]


def _export(path: Path, objects, animated: bool, leaf_bones: bool = False) -> None:
    bpy = import_bpy()

    _select_only(objects)
    bpy.ops.export_scene.fbx(filepath=str(path), use_selection=True,
                             object_types={ob.type for ob in objects}, add_leaf_bones=leaf_bones,
                             bake_anim=animated, bake_anim_use_all_actions=False,
                             bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0)


def _mixamo_layout(char) -> None:
    """Make a centimetre mannequin look like an imported Mixamo FBX: data Y-up, object rotated
    90 deg about X and scaled 0.01 (Blender's exporter then writes what Mixamo writes)."""
    bpy = import_bpy()

    _select_only([char.armature, *char.meshes])
    char.armature.rotation_euler = (-math.pi / 2, 0, 0)
    bpy.ops.object.transform_apply(location=False, rotation=True, scale=False)
    char.armature.rotation_euler = (math.pi / 2, 0, 0)
    char.armature.scale = (0.01, 0.01, 0.01)
    bpy.context.view_layer.update()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every FBX/.blend the tests read, written by Blender, with reference keypoints."""
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    tmp = tmp_path_factory.mktemp("fbx")
    f = {}
    bpy = reset_blender()
    Matrix = import_mathutils().Matrix

    _add_camera()
    char = build_mannequin("ybot", scale=100.0)
    _mixamo_layout(char)
    frames = apply_motion(char, MotionSpec("clip", "kick"), np.random.default_rng(0))
    ref_px, ref_verts, ref_world = {}, {}, {}
    for frame in FRAMES:
        bpy.context.scene.frame_set(frame)
        ref_world[frame] = _world_joints(char)
        ref_px[frame] = _project(ref_world[frame])
        ref_verts[frame] = _skinned_vertices(char.meshes[0])
    bpy.context.scene.frame_set(1)
    for pb in char.armature.pose.bones:  # the character file at rest (a pose would be baked in)
        pb.matrix_basis.identity()
    action = char.armature.animation_data.action
    char.armature.animation_data.action = None
    f["char"] = tmp / "ybot.fbx"
    _export(f["char"], [char.armature, *char.meshes], animated=False, leaf_bones=True)
    f["nomesh"] = tmp / "skeleton_only.fbx"
    _export(f["nomesh"], [char.armature], animated=False)
    char.armature.animation_data.action = action
    bpy.context.scene.frame_set(21)  # an animation-only file's rest is whatever frame it was saved on
    f["anim"] = tmp / "kick.fbx"
    _export(f["anim"], [char.armature], animated=True)

    reset_blender()
    for prefix, key in (("mixamorig7:", "prefix7"), ("", "noprefix")):
        other = build_mannequin(key, scale=100.0, prefix=prefix)
        _mixamo_layout(other)
        f[key] = tmp / f"{key}.fbx"
        _export(f[key], [other.armature, *other.meshes], animated=False)
    # a skeleton with other names (LeftElbow for LeftForeArm...): cannot be mapped
    odd = build_mannequin("odd", scale=1.0, prefix="mixamorig:")
    for side in ("Left", "Right"):
        odd.armature.data.bones[f"mixamorig:{side}ForeArm"].name = f"{side}Elbow"
        odd.armature.data.bones[f"mixamorig:{side}UpLeg"].name = f"{side}Thigh"
    f["unmappable"] = tmp / "unmappable.fbx"
    _export(f["unmappable"], [odd.armature, *odd.meshes], animated=False)
    # an A-posed rest (arms 45 deg down): motions assume a T-pose rest, so it is refused
    apose = build_mannequin("apose", scale=1.0)
    _select_only([apose.armature])
    bpy.ops.object.mode_set(mode="POSE")
    for side, sign in (("Left", 1), ("Right", -1)):
        pb = apose.armature.pose.bones[f"mixamorig:{side}Arm"]
        pb.rotation_mode = "XYZ"
        pb.matrix = Matrix.Rotation(sign * math.radians(45), 4, "Y") @ pb.matrix
        bpy.context.view_layer.update()
    bpy.ops.pose.armature_apply(selected=False)
    bpy.ops.object.mode_set(mode="OBJECT")
    f["apose"] = tmp / "apose.fbx"
    _export(f["apose"], [apose.armature, *apose.meshes], animated=False)
    # an animated skeleton from another rig family (3ds Max biped names)
    biped = build_mannequin("biped", scale=1.0, prefix="Bip01_")
    apply_motion(biped, MotionSpec("clip", "wave"), np.random.default_rng(0))
    f["biped_anim"] = tmp / "biped_wave.fbx"
    _export(f["biped_anim"], [biped.armature], animated=True)

    reset_blender()
    mesh = bpy.data.objects.new("cube", bpy.data.meshes.new("cube"))
    mesh.data.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    bpy.context.scene.collection.objects.link(mesh)
    f["mesh_only"] = tmp / "mesh_only.fbx"
    _export(f["mesh_only"], [mesh], animated=False)
    f["mesh_only_blend"] = tmp / "mesh_only.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(f["mesh_only_blend"]), copy=True)

    # a .blend character carrying a script that would run if auto-run were allowed
    reset_blender()
    build_mannequin("blendchar", scale=1.0)
    marker = tmp / "script_ran.txt"
    text = bpy.data.texts.new("autorun.py")
    text.write(f"open({str(marker)!r}, 'w').write('ran')\n")
    text.use_module = True  # registered (executed) on load when scripts are trusted
    f["blend"] = tmp / "character.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(f["blend"]), copy=True)
    f["marker"] = marker

    data = f["char"].read_bytes()
    f["truncated"] = tmp / "truncated.fbx"
    f["truncated"].write_bytes(data[: len(data) // 2])
    f["corrupt"] = tmp / "corrupt.fbx"
    f["corrupt"].write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    f["ascii"] = tmp / "ascii.fbx"
    f["ascii"].write_text("; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n")
    f["fake_blend"] = tmp / "fake.blend"
    f["fake_blend"].write_bytes(b"not a blend file at all")
    return {"paths": f, "frames": frames, "ref_px": ref_px, "ref_verts": ref_verts, "ref_world": ref_world}


# ------------------------------------------------------------------ tests


@pytest.mark.blender
def test_written_file_has_mixamo_scale_and_axes(files):
    """The test files import the way real Mixamo downloads do: rot X 90, scale 0.01, bones in cm."""
    from renderers.blender import reset_blender

    bpy = reset_blender()
    bpy.ops.import_scene.fbx(filepath=str(files["paths"]["char"]))
    arm = next(ob for ob in bpy.data.objects if ob.type == "ARMATURE")
    assert np.allclose(arm.scale, 0.01) and math.degrees(arm.rotation_euler.x) == pytest.approx(90, abs=0.01)
    thigh = arm.data.bones["mixamorig:LeftUpLeg"]
    assert 35 < thigh.length < 50  # centimetres
    assert "mixamorig:HeadTop_End" in arm.data.bones and any(b.name.endswith("_end") for b in arm.data.bones)


@pytest.mark.blender
def test_round_trip_character_and_separate_animation_within_1px(files):
    from renderers.blender import reset_blender
    from renderers.blender.fbx import import_character
    from renderers.blender.keying import apply_motion
    from renderers.selection import MotionSpec

    bpy = reset_blender()
    _add_camera()
    char = import_character(files["paths"]["char"])
    assert np.allclose(np.array(char.armature.matrix_world), np.eye(4))
    assert all(np.allclose(np.array(m.matrix_world), np.eye(4)) for m in char.meshes)
    assert set(char.bone_names) == set(MIXAMO_BONES) | {"HeadTop_End"}  # *_end leaves ignored
    assert char.bone_names["Hips"] == "mixamorig:Hips" and char.source.endswith("ybot.fbx")
    thigh = char.armature.data.bones["mixamorig:LeftUpLeg"]
    assert 0.35 < thigh.length < 0.5  # metres now
    left, right = (char.armature.data.bones[f"mixamorig:{s}Arm"].head_local for s in ("Left", "Right"))
    assert left.x > 0.1 > -0.1 > right.x  # the character's left is +X

    frames = apply_motion(char, MotionSpec("fbx", str(files["paths"]["anim"])), np.random.default_rng(0))
    assert frames == files["frames"]
    assert [ob.type for ob in bpy.data.objects].count("ARMATURE") == 1  # the animation's armature is gone
    for frame in FRAMES:
        bpy.context.scene.frame_set(frame)
        px = _project(_world_joints(char))
        err = np.abs(px - files["ref_px"][frame]).max()
        assert err < 1.0, f"frame {frame}: keypoints off by {err:.3f} px"
        moved = np.abs(files["ref_px"][frame] - files["ref_px"][FRAMES[0]]).max()
        assert frame == FRAMES[0] or moved > 20  # the check is not vacuous: the pose changes
        verts = _skinned_vertices(char.meshes[0])
        assert verts.shape == files["ref_verts"][frame].shape
        assert np.abs(np.sort(verts, axis=0) - np.sort(files["ref_verts"][frame], axis=0)).max() < 2e-3


@pytest.mark.blender
def test_mixamo_animation_on_a_smaller_character(files):
    """A Mixamo animation on another Mixamo rig: same rotations, hips scaled by leg length."""
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    bpy = reset_blender()
    small = build_mannequin("small", scale=0.7, prefix="mixamorig1:")
    apply_motion(small, MotionSpec("fbx", str(files["paths"]["anim"]), frame_step=2), np.random.default_rng(0))
    for frame in (f for f in FRAMES if f % 2):
        bpy.context.scene.frame_set((frame + 1) // 2)  # every 2nd source frame: 1, 3, 5, ...
        np.testing.assert_allclose(_world_joints(small), 0.7 * files["ref_world"][frame], atol=1e-3)


@pytest.mark.blender
def test_bone_prefixes_are_normalised(files):
    from renderers.blender import reset_blender
    from renderers.blender.fbx import import_character

    for key, prefix in (("prefix7", "mixamorig7:"), ("noprefix", "")):
        reset_blender()
        char = import_character(files["paths"][key])
        assert char.bone_names == {b: prefix + b for b in MIXAMO_BONES + ("HeadTop_End",)}


@pytest.mark.blender
def test_blend_character_loads_without_running_its_scripts(files):
    bpy = import_bpy()

    from renderers.blender import reset_blender
    from renderers.selection import CharacterSpec, load_character

    reset_blender()
    files["paths"]["marker"].unlink(missing_ok=True)
    bpy.context.preferences.filepaths.use_scripts_auto_execute = True  # even if a user trusts scripts
    char = load_character(CharacterSpec.parse(str(files["paths"]["blend"])))
    assert not files["paths"]["marker"].exists()
    assert bpy.context.preferences.filepaths.use_scripts_auto_execute is False
    assert set(MIXAMO_BONES) <= set(char.bone_names) and len(char.meshes) == 1
    assert char.armature.name in bpy.context.scene.objects
    # control: the file is armed, opening it as a trusted file does run the script
    bpy.ops.wm.open_mainfile(filepath=str(files["paths"]["blend"]), use_scripts=True)
    assert files["paths"]["marker"].read_text() == "ran"
    files["paths"]["marker"].unlink()


@pytest.mark.blender
@pytest.mark.parametrize("key, message", [
    ("corrupt", r"corrupt\.fbx is not an FBX file .*corrupt"),
    ("truncated", r"truncated\.fbx could not be read as FBX .*corrupt or truncated"),
    ("ascii", r"ASCII FBX"),
    ("mesh_only", r"mesh_only\.fbx has no armature \(it holds mesh\)"),
    ("mesh_only_blend", r"mesh_only\.blend has no armature"),
    ("fake_blend", r"fake\.blend is not a \.blend file"),
    ("nomesh", r"no mesh skinned to it.*With Skin"),
    ("apose", r"apose\.fbx: the rest pose is not a T-pose \(upper arm 4[4-8] deg from horizontal.*Pose: T-pose"),
    ("unmappable", r"cannot be mapped .*missing joints: LeftForeArm, RightForeArm, LeftUpLeg, RightUpLeg \(unmapped bones include: LeftElbow"),
])
def test_bad_character_files_are_refused_clearly(files, key, message):
    from renderers.blender import reset_blender
    from renderers.blender.fbx import import_character

    bpy = reset_blender()
    with pytest.raises(CharacterImportError, match=message):
        import_character(files["paths"][key])
    assert len(bpy.data.objects) == 0  # nothing half-imported is left behind


@pytest.mark.blender
def test_missing_file_and_wrong_suffix(tmp_path):
    from renderers.blender.fbx import import_character

    with pytest.raises(CharacterImportError, match=r"nowhere\.fbx does not exist"):
        import_character(tmp_path / "nowhere.fbx")
    (tmp_path / "char.obj").write_text("v 0 0 0\n")
    with pytest.raises(CharacterImportError, match=r"reads \.fbx, \.blend"):
        import_character(tmp_path / "char.obj")


@pytest.mark.blender
def test_animation_for_another_skeleton_is_refused(files):
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    bpy = reset_blender()
    char = build_mannequin()
    with pytest.raises(CharacterImportError, match=r"animation made for another skeleton.*Hips, Spine.*Bip01_Hips"):
        apply_motion(char, MotionSpec("fbx", str(files["paths"]["biped_anim"])), np.random.default_rng(0))
    with pytest.raises(CharacterImportError, match=r"has an armature but no animation"):
        apply_motion(char, MotionSpec("fbx", str(files["paths"]["nomesh"])), np.random.default_rng(0))
    assert {ob.name for ob in bpy.data.objects} == {char.armature.name, char.meshes[0].name}

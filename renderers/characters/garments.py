"""Simple garment and hair shells cut from MakeHuman helper geometry (numpy, bpy-free).

MakeHuman's base mesh carries helper meshes that follow every morph target and are skinned
with the body: ``helper-tights`` (a body suit ~8 mm off the skin), ``helper-skirt`` (a tube
from waist to ankles) and ``helper-hair`` (a long-hair volume). A garment is the set of helper
faces inside a region given in body landmarks (bone heads of the T-posed body), pushed out
along its normals by a small offset so layers do not intersect. Its vertices keep their
base-mesh skin weights, so garments deform with the armature like the body.

Kinds (``GARMENTS``): tops ``tank``, ``tshirt``, ``longsleeve``; bottoms ``shorts``,
``trousers``, ``skirt``, ``long_skirt``; hair ``short_hair``, ``bob``, ``long_hair``.
Clothes keep every helper face touching the region and clamp the vertices outside onto the
cut (hem) planes, so hems are straight. Hair is a cap cut from the body's own scalp (offset
off the skull, straight hairline over the forehead), plus, for ``bob`` and ``long_hair``, the
helper's hair cards (kept off the face). Skirts share weight between the legs so they do not
split when the legs part. A shell is single-sided; its hems and silhouette are what line
drawings show.
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
    "short_hair": ("", "hair", 0.0),
    "bob": ("helper-hair", "hair", 0.004),
    "long_hair": ("helper-hair", "hair", 0.004),
}
SCALP_OFFSET_M = 0.006  # hair caps sit this far off the skull


def _head(body: Body, bone: str) -> np.ndarray:
    return body.heads[MIXAMO_BONES.index(bone)]


@dataclass(frozen=True)
class _Cut:
    """A garment region in T-pose landmarks: z_min < z < z_max, and for arm points
    |x| < arm_x_max. Vertices just outside are clamped onto these limits, giving straight hems."""

    z_min: float = -np.inf
    z_max: float = np.inf
    arm_x_max: float = np.inf
    arm_z_min: float = np.inf  # points with |x| > shoulder_x and z above this are "arm"
    shoulder_x: float = np.inf

    def arm(self, points: np.ndarray) -> np.ndarray:
        return (np.abs(points[:, 0]) > self.shoulder_x) & (points[:, 2] > self.arm_z_min)

    def inside(self, points: np.ndarray) -> np.ndarray:
        z = points[:, 2]
        sleeve_ok = ~self.arm(points) | (np.abs(points[:, 0]) < self.arm_x_max)
        return (z > self.z_min) & (z < self.z_max) & sleeve_ok

    def clamp(self, points: np.ndarray) -> np.ndarray:
        out = points.copy()
        out[:, 2] = np.clip(out[:, 2], self.z_min, self.z_max)
        arm = self.arm(points)
        out[arm, 0] = np.sign(out[arm, 0]) * np.minimum(np.abs(out[arm, 0]), self.arm_x_max)
        return out


def _cut(body: Body, kind: str) -> _Cut:
    shoulder = _head(body, "LeftArm")
    shoulder_x = abs(shoulder[0])
    elbow_x = abs(_head(body, "LeftForeArm")[0])
    wrist_x = abs(_head(body, "LeftHand")[0])
    hips_z = _head(body, "Hips")[2]
    knee_z = _head(body, "LeftLeg")[2]
    ankle_z = _head(body, "LeftFoot")[2]
    neck_z = _head(body, "Neck")[2]
    scale = body.height_m / 1.7
    arms = {"shoulder_x": shoulder_x, "arm_z_min": shoulder[2] - 0.1 * scale}
    neckline = neck_z - 0.015 * scale
    legs = {"z_max": hips_z + 0.06 * scale, "shoulder_x": shoulder_x, "arm_z_min": shoulder[2] - 0.1 * scale,
            "arm_x_max": shoulder_x}
    cuts = {
        "tank": _Cut(hips_z - 0.02 * scale, neckline, shoulder_x - 0.01 * scale, **arms),
        "tshirt": _Cut(hips_z - 0.04 * scale, neckline, shoulder_x + 0.45 * (elbow_x - shoulder_x), **arms),
        "longsleeve": _Cut(hips_z - 0.05 * scale, neckline, wrist_x - 0.03 * scale, **arms),
        "shorts": _Cut(z_min=knee_z + 0.35 * (hips_z - knee_z), **legs),
        "trousers": _Cut(z_min=ankle_z + 0.03 * scale, **legs),
        # below the helper skirt's zig-zag top edge, for a straight waistband
        "skirt": _Cut(z_min=knee_z - 0.04 * scale, z_max=hips_z),
        "long_skirt": _Cut(z_min=ankle_z + 0.5 * (knee_z - ankle_z), z_max=hips_z),
    }
    return cuts[kind]


def _face_landmarks(body: Body) -> tuple[float, float, float]:
    """(brow z, ear y, nose z) of the T-posed body from its face regressor."""
    face = body.face_regressor @ body.vertices  # nose, eyes, ears
    eyes_z = face[1:3, 2].mean()
    return eyes_z + 0.25 * (eyes_z - face[0, 2]) + 0.02, face[3:5, 1].mean(), face[0, 2]


def _hair_cards(body: Body, kind: str, points: np.ndarray) -> np.ndarray:
    """Helper-hair points kept for ``bob``/``long_hair``: off the face (the helper has a fringe
    hanging over it: keep hair above the brows or behind the ears), bob cut at the chin."""
    brow_z, ear_y, _ = _face_landmarks(body)
    off_face = (points[:, 2] > brow_z) | (points[:, 1] > ear_y - 0.01)
    if kind == "bob":
        head_z, neck_z = _head(body, "Head")[2], _head(body, "Neck")[2]
        return off_face & (points[:, 2] > head_z + 0.2 * (head_z - neck_z) - 0.02)
    return off_face


def _scalp(body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Face mask over ``body.faces`` of the scalp, and the clamped cap vertices (all body
    vertices, offset off the skull): head-weighted skin above the brows, or behind the ears
    down to the nape, ears left out."""
    brow_z, ear_y, nose_z = _face_landmarks(body)
    p = body.vertices
    face = body.face_regressor @ body.vertices
    ear_x = np.abs(face[3:5, 0]).mean()
    head_w = body.weights[:, MIXAMO_BONES.index("Head")]
    ear = (np.abs(p[:, 0]) > 0.8 * ear_x) & (np.abs(p[:, 2] - face[3:5, 2].mean()) < 0.035) & (p[:, 1] < ear_y + 0.03)
    scalp = (head_w > 0.5) & ~ear & (p[:, 2] > nose_z - 0.01) & ((p[:, 2] > brow_z) | (p[:, 1] > ear_y + 0.01))
    faces = np.any(scalp[body.faces], axis=1) & ~np.any(ear[body.faces], axis=1)
    cap = p.copy()
    front = p[:, 1] <= ear_y + 0.01
    cap[front, 2] = np.maximum(cap[front, 2], brow_z)  # a straight hairline over the forehead
    cap += SCALP_OFFSET_M * vertex_normals(p, body.faces)
    return faces, cap


def _submesh(vertices, faces, face_uvs, weights, keep_faces, kind) -> "GarmentMesh":
    kept = faces[keep_faces]
    used = np.unique(kept)
    remap = np.full(len(vertices), -1, np.int64)
    remap[used] = np.arange(len(used))
    return GarmentMesh(kind, vertices[used], remap[kept], face_uvs[keep_faces], weights[used])


def _concat(kind: str, parts: list["GarmentMesh"]) -> "GarmentMesh":
    starts = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    return GarmentMesh(
        kind,
        np.concatenate([p.vertices for p in parts]),
        np.concatenate([p.faces + s for p, s in zip(parts, starts)]),
        np.concatenate([p.face_uvs for p in parts]),
        np.concatenate([p.weights for p in parts]),
    )


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
    group, slot, offset = GARMENTS[kind]
    base = load_base_mesh()
    if slot == "hair":
        scalp_faces, cap = _scalp(body)
        parts = [_submesh(cap, body.faces, body.face_uvs, body.weights, scalp_faces, kind)]
        if group:
            members = np.zeros(len(body.all_vertices), bool)
            members[base.groups[group]] = True
            inside = members & _hair_cards(body, kind, body.all_vertices)
            cards = body.all_vertices + offset * vertex_normals(body.all_vertices, base.faces)
            parts.append(_submesh(cards, base.faces, base.face_uvs, body.all_weights,
                                  np.all(inside[base.faces], axis=1), kind))
        return _concat(kind, parts)
    cut = _cut(body, kind)
    members = np.zeros(len(body.all_vertices), bool)
    members[base.groups[group]] = True
    inside = members & cut.inside(body.all_vertices)
    keep = np.all(members[base.faces], axis=1) & np.any(inside[base.faces], axis=1)
    verts = body.all_vertices + offset * vertex_normals(body.all_vertices, base.faces)
    verts = np.where(inside[:, None], verts, cut.clamp(verts))
    weights = body.all_weights
    if group == "helper-skirt":
        weights = _shared_leg_weights(weights, SKIRT_LEG_SHARING)
    return _submesh(verts, base.faces, base.face_uvs, weights, keep, kind)


SKIRT_LEG_SHARING = 0.6


def _shared_leg_weights(weights: np.ndarray, share: float) -> np.ndarray:
    """Move ``share`` of each leg bone's weight onto the average of the left and right bone, so
    a skirt hangs between the legs instead of splitting along its seam when they part."""
    out = weights.copy()
    for bone in ("UpLeg", "Leg", "Foot", "ToeBase"):
        left, right = MIXAMO_BONES.index("Left" + bone), MIXAMO_BONES.index("Right" + bone)
        mean = 0.5 * (weights[:, left] + weights[:, right])
        out[:, left] = (1 - share) * weights[:, left] + share * mean
        out[:, right] = (1 - share) * weights[:, right] + share * mean
    return out


def eyes_mesh(body: Body) -> GarmentMesh:
    """Both eyeballs (MakeHuman's eye helpers: the body mesh has empty sockets without them)."""
    base = load_base_mesh()
    members = np.zeros(len(body.all_vertices), bool)
    members[base.groups["helper-l-eye"]] = True
    members[base.groups["helper-r-eye"]] = True
    keep = np.all(members[base.faces], axis=1)
    return _submesh(body.all_vertices, base.faces, base.face_uvs, body.all_weights, keep, "eyes")

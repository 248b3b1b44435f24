"""Motion clips as pure data, and how a clip is sampled at a frame (no bpy).

The bone-axis convention every clip relies on
---------------------------------------------
A clip never speaks in a bone's local axes (those depend on the bone's roll, which differs
between rigs). It speaks in the *armature frame of the T-pose*: metres, +Z up, the character
faces -Y (so +Y is behind it), and the character's left is +X. Each key gives, per bone, a
rotation of that bone *relative to its parent*, written as world-axis steps applied in order,
for example ``"LeftArm": (("y", 75), ("x", -20))``: lower the left arm 75 deg to the side,
then swing it 20 deg forward. Rotations compose down the chain (a bone's rotation in the
armature frame is its parent's times its own), so the forearm's bend follows the upper arm.
Worker code converts a rotation ``W`` to a bone's local pose rotation with the bone's rest
matrix ``R``: ``local = R^-1 W R`` (see ``renderers.blender.keying``). The same clip therefore
gives the same joint angles on every Mixamo-skeleton character, whatever its rolls and size.

Signs, left side (the right side is the mirror: keep x, negate y and z, see ``mirror``):
- trunk and head (Hips, Spine*, Neck, Head): +x bends forward, +y leans to the character's
  left, +z turns to the character's left.
- LeftArm (points +X): +y lowers the arm, -z swings it forward; LeftShoulder -y shrugs up.
- LeftForeArm: the elbow bends with -z only (forward); +z would bend it backwards.
- LeftHand and fingers: +y bends towards the palm (palms face down in the T-pose).
- LeftUpLeg: -x lifts the thigh forward, -y spreads it outwards; LeftLeg: +x bends the knee.
- LeftFoot: +x points the toes down.

``hips_offset`` moves the Hips in the armature frame, in units of the character's hip height
(Hips rest height above the feet), so a squat lowers a child and an adult alike. Its height
is only a hint for ``contact`` keys (the default): those, and every frame between two of them,
are lowered or raised until the lowest bone point is on the floor (the reference body here,
each character's own body in ``renderers.blender.keying.fit_to_character``). Airborne keys
(``contact=False``, the top of a jump) keep their authored height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from renderers.motions import rotations as rot
from renderers.motions.kinematics import grounded, reference_skeleton
from renderers.motions.pose import Pose
from rig2sketch.registry import Registry
from rig2sketch.skeleton import MIXAMO_BONES

Steps = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Key:
    """One keyframe: per-bone world-axis rotation steps (see module doc), a hips offset, and
    whether the body touches the ground (``contact``: the key is raised or lowered so its lowest
    point is on the floor; airborne keys keep their offset as authored)."""

    frame: int
    rotations: Mapping[str, Steps]
    hips_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    contact: bool = True

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rotations) - set(MIXAMO_BONES))
        if unknown:
            raise ValueError(f"key at frame {self.frame} names unknown bones {unknown}; use rig2sketch.skeleton.MIXAMO_BONES")
        for bone, steps in self.rotations.items():
            for step in steps:
                if len(step) != 2 or step[0] not in rot.AXES:
                    raise ValueError(f"key at frame {self.frame}, bone {bone}: step {step!r} must be (axis in x/y/z, degrees)")


@dataclass(frozen=True)
class Clip:
    """A named motion: frames ``1..frame_count``; ``loop`` clips wrap (frame_count + 1 == 1).

    ``easing`` is "smooth" (ease in and out between keys: pose-to-pose acting) or "linear"
    (constant speed: cyclic motions keyed densely).
    """

    name: str
    description: str
    frame_count: int
    loop: bool
    keys: tuple[Key, ...]
    easing: str = "smooth"

    def __post_init__(self) -> None:
        if not 30 <= self.frame_count <= 120:
            raise ValueError(f"clip {self.name!r}: frame_count {self.frame_count} must be 30..120")
        frames = [k.frame for k in self.keys]
        if not frames or frames != sorted(set(frames)) or frames[0] != 1 or frames[-1] > self.frame_count:
            raise ValueError(f"clip {self.name!r}: key frames {frames} must be increasing, start at 1, end <= {self.frame_count}")
        if self.easing not in ("smooth", "linear"):
            raise ValueError(f"clip {self.name!r}: easing {self.easing!r} must be 'smooth' or 'linear'")
        object.__setattr__(self, "_quats", tuple({b: rot.from_sequence(st) for b, st in k.rotations.items()} for k in self.keys))
        object.__setattr__(self, "_offsets", tuple(self._grounded_offset(k) for k in self.keys))

    @staticmethod
    def _grounded_offset(key: "Key") -> np.ndarray:
        """The key's hips offset, moved vertically so a contact key's lowest point is on the
        reference body's floor (``renderers.blender.keying`` refits each character's own)."""
        offset = np.asarray(key.hips_offset, float)
        if not key.contact:
            return offset
        pose = Pose({b: rot.from_sequence(s) for b, s in key.rotations.items()}, offset)
        return grounded(reference_skeleton(), pose).hips_offset

    def frames(self) -> list[int]:
        return list(range(1, self.frame_count + 1))

    def pose_at(self, frame: float) -> Pose:
        """Interpolate the keys at ``frame`` (1-based; wraps for loops, clamps otherwise)."""
        keys = list(self.keys)
        offsets = list(self._offsets)
        quats = list(self._quats)
        if self.loop:
            frame = 1 + (frame - 1) % self.frame_count
            keys.append(Key(self.frame_count + 1, keys[0].rotations, keys[0].hips_offset, keys[0].contact))
            offsets.append(offsets[0])
            quats.append(quats[0])
        else:
            frame = min(max(frame, 1), keys[-1].frame)
        hi = next((i for i, k in enumerate(keys) if k.frame >= frame), len(keys) - 1)
        lo = max(hi - 1, 0)
        a, b = keys[lo], keys[hi]
        t = 0.0 if b.frame == a.frame else (frame - a.frame) / (b.frame - a.frame)
        if self.easing == "smooth":
            t = t * t * (3 - 2 * t)
        qa, qb = quats[lo], quats[hi]
        rotations = {bone: rot.slerp(qa.get(bone, rot.IDENTITY), qb.get(bone, rot.IDENTITY), t) for bone in set(qa) | set(qb)}
        offset = (1 - t) * offsets[lo] + t * offsets[hi]
        if a.contact and b.contact:  # between two contact keys, stay on the floor every frame
                return grounded(reference_skeleton(), Pose(rotations, offset))
        return Pose(rotations, offset)


CLIPS: Registry[Clip] = Registry("motion clip")


def register(clip: Clip) -> Clip:
    CLIPS.register(clip.name)(clip)
    return clip


def mirror(rotations: Mapping[str, Steps]) -> dict[str, Steps]:
    """Left-side steps -> the same steps for both sides (Left* copied to Right* mirrored)."""
    out = dict(rotations)
    for bone, steps in rotations.items():
        if bone.startswith("Left"):
            out["Right" + bone[4:]] = mirror_steps(steps)
    return out


def mirror_steps(steps: Steps) -> Steps:
    return tuple((axis, deg if axis == "x" else -deg) for axis, deg in steps)


def swap_sides(rotations: Mapping[str, Steps]) -> dict[str, Steps]:
    """The whole pose mirrored: Left <-> Right and trunk rotations mirrored."""
    out: dict[str, Steps] = {}
    for bone, steps in rotations.items():
        if bone.startswith("Left"):
            bone = "Right" + bone[4:]
        elif bone.startswith("Right"):
            bone = "Left" + bone[5:]
        out[bone] = mirror_steps(steps)
    return out

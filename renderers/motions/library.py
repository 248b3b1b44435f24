"""The bundled motion clips: keyframes on the Mixamo skeleton (pure data, no bpy).

Conventions (axes, signs, hips offset) are in ``renderers.motions.clip``. Cyclic motions are
keyed from a phase ``p`` in [0, 1) every few frames; acted motions are pose-to-pose keys.
Names are what a viewer should see: check ``python -m renderers.motions.preview``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from renderers.motions.clip import Clip, Key, Steps, mirror, register, swap_sides

PoseSteps = dict[str, Steps]

ARMS_DOWN: PoseSteps = mirror({"LeftArm": (("y", 75),), "LeftForeArm": (("z", -12),), "LeftHand": (("y", 8),)})
FIST: PoseSteps = mirror({
    f"LeftHand{f}{i}": (("y", 80 if i == 1 else 90),) for f in ("Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)
} | {"LeftHandThumb2": (("z", -30),), "LeftHandThumb3": (("z", -40),)})
RELAXED_FINGERS: PoseSteps = mirror({f"LeftHand{f}{i}": (("y", 15),) for f in ("Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)})


def merge(*poses: PoseSteps) -> PoseSteps:
    """Later poses override earlier ones bone by bone."""
    out: PoseSteps = {}
    for p in poses:
        out.update(p)
    return out


def cycle(frame_count: int, step: int, pose_at: Callable[[float], tuple[PoseSteps, tuple[float, float, float]]]) -> tuple[Key, ...]:
    """Keys every ``step`` frames from ``pose_at(phase)``; the loop closes on the first key."""
    return tuple(Key(f, *pose_at((f - 1) / frame_count)) for f in range(1, frame_count + 1, step))


def _idle(p: float):
    s = np.sin(2 * np.pi * p)
    pose = merge(ARMS_DOWN, RELAXED_FINGERS, {
        "Spine1": (("x", 2 * s),),
        "Spine2": (("x", -2 * s),),
        "Head": (("x", 3 + 2 * s), ("z", 4 * np.sin(4 * np.pi * p))),
        "Hips": (("y", 2 * s),),
        "LeftUpLeg": (("y", -2 * s - 3),),
        "RightUpLeg": (("y", -2 * s + 3),),
        "LeftLeg": (("x", 3),),
        "RightLeg": (("x", 3),),
    })
    return pose, (0.0, 0.0, -0.003)


def _walk(p: float):
    s, c = np.sin(2 * np.pi * p), np.cos(2 * np.pi * p)
    pose = merge(RELAXED_FINGERS, {
        "Hips": (("z", 6 * s),),
        "Spine1": (("z", -8 * s), ("x", 3)),
        "LeftUpLeg": (("x", -28 * s - 4),),
        "RightUpLeg": (("x", 28 * s - 4),),
        "LeftLeg": (("x", 6 + 50 * max(0.0, c) ** 1.5),),
        "RightLeg": (("x", 6 + 50 * max(0.0, -c) ** 1.5),),
        "LeftFoot": (("x", -10 * max(0.0, c)),),
        "RightFoot": (("x", -10 * max(0.0, -c)),),
        "LeftArm": (("y", 75), ("x", 22 * s)),
        "RightArm": (("y", -75), ("x", -22 * s)),
        "LeftForeArm": (("z", -15 - 10 * max(0.0, -s)),),
        "RightForeArm": (("z", 15 + 10 * max(0.0, s)),),
    })
    return pose, (0.0, 0.0, -0.035 + 0.02 * np.cos(4 * np.pi * p))


def _run(p: float):
    s, c = np.sin(2 * np.pi * p), np.cos(2 * np.pi * p)
    pose = merge(FIST, {
        "Hips": (("x", 12), ("z", 8 * s)),
        "Spine1": (("z", -12 * s),),
        "Head": (("x", -8),),
        "LeftUpLeg": (("x", -50 * s - 22),),
        "RightUpLeg": (("x", 50 * s - 22),),
        "LeftLeg": (("x", 25 + 85 * max(0.0, c)),),
        "RightLeg": (("x", 25 + 85 * max(0.0, -c)),),
        "LeftFoot": (("x", 15 * max(0.0, -s)),),
        "RightFoot": (("x", 15 * max(0.0, s)),),
        "LeftArm": (("y", 70), ("x", 40 * s - 5)),
        "RightArm": (("y", -70), ("x", -40 * s - 5)),
        "LeftForeArm": (("z", -85),),
        "RightForeArm": (("z", 85),),
    })
    return pose, (0.0, 0.0, -0.06 + 0.05 * abs(np.cos(2 * np.pi * p)))


def _dance(p: float):
    s, c = np.sin(2 * np.pi * p), np.cos(2 * np.pi * p)
    s2 = np.sin(4 * np.pi * p)
    pose = merge(RELAXED_FINGERS, {
        "Hips": (("y", 8 * s), ("z", 10 * c)),
        "Spine1": (("y", -10 * s),),
        "Spine2": (("y", -6 * s),),
        "Head": (("y", 8 * s), ("x", 5 * s2)),
        "LeftUpLeg": (("y", -8), ("x", -10 * max(0.0, s))),
        "RightUpLeg": (("y", 8), ("x", -10 * max(0.0, -s))),
        "LeftLeg": (("x", 10 + 25 * max(0.0, s)),),
        "RightLeg": (("x", 10 + 25 * max(0.0, -s)),),
        "LeftArm": (("y", -40 + 60 * max(0.0, -s)), ("z", -20)),
        "RightArm": (("y", 40 - 60 * max(0.0, s)), ("z", 20)),
        "LeftForeArm": (("z", -70 - 30 * s2),),
        "RightForeArm": (("z", 70 - 30 * s2),),
    })
    return pose, (0.03 * s, 0.0, -0.03 - 0.03 * abs(s2))


def _crawl(p: float):
    s, c = np.sin(2 * np.pi * p), np.cos(2 * np.pi * p)
    pose = {
        "Hips": (("x", 88),),
        "Spine": (("x", -2),),
        "Spine2": (("x", -4),),
        "Neck": (("x", -30),),
        "Head": (("x", -35),),
        "LeftShoulder": (("z", -5),),
        "RightShoulder": (("z", 5),),
        "LeftArm": (("z", -72 - 14 * s), ("y", 8)),
        "RightArm": (("z", 72 - 14 * s), ("y", -8)),
        "LeftForeArm": (("z", -8 - 12 * max(0.0, c)),),
        "RightForeArm": (("z", 8 + 12 * max(0.0, -c)),),
        "LeftHand": (("y", -80),),
        "RightHand": (("y", 80),),
        "LeftUpLeg": (("x", -88 + 14 * s), ("y", -5)),
        "RightUpLeg": (("x", -88 - 14 * s), ("y", 5)),
        "LeftLeg": (("x", 100 + 15 * max(0.0, c)),),
        "RightLeg": (("x", 100 + 15 * max(0.0, -c)),),
        "LeftFoot": (("x", 50),),
        "RightFoot": (("x", 50),),
    }
    return pose, (0.0, -0.25, -0.52 + 0.01 * np.cos(4 * np.pi * p))


def _wave(p: float):
    s = np.sin(2 * np.pi * p)
    pose = merge(ARMS_DOWN, RELAXED_FINGERS, {
        "RightShoulder": (("y", 10),),
        "RightArm": (("x", -90), ("y", 15), ("z", 10)),
        "RightForeArm": (("z", 95 + 20 * s),),
        "RightHand": (("y", -10 * s),),
        "Head": (("z", -8), ("x", -4)),
        "Spine2": (("y", 4),),
    } | {f"RightHand{f}{i}": () for f in ("Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)})
    return pose, (0.0, 0.0, 0.0)


def _punch_guard() -> PoseSteps:
    return merge(FIST, {
        "Hips": (("z", 20),),
        "Spine1": (("x", 8),),
        "Head": (("x", 8), ("z", -15)),
        "LeftArm": (("y", 60), ("z", -55)),
        "LeftForeArm": (("z", -125),),
        "RightArm": (("y", -62), ("z", 50)),
        "RightForeArm": (("z", 130),),
        "LeftUpLeg": (("x", -18), ("y", -4)),
        "RightUpLeg": (("x", 12), ("y", 4)),
        "LeftLeg": (("x", 20),),
        "RightLeg": (("x", 15),),
        "RightFoot": (("x", 5),),
    })


def _clip(name, description, frames, loop, keys, easing="smooth"):
    return register(Clip(name, description, frames, loop, tuple(keys), easing))


def build_library() -> None:
    """Register every bundled clip in ``CLIPS`` (called once by ``renderers.motions``)."""
    _clip("idle", "standing, breathing, weight shifting", 60, True, cycle(60, 5, _idle), "linear")
    _clip("walk", "walking in place", 40, True, cycle(40, 4, _walk), "linear")
    _clip("run", "running in place", 30, True, cycle(30, 3, _run), "linear")
    _clip("dance", "side-to-side dance with arms up", 60, True, cycle(60, 5, _dance), "linear")
    _clip("crawl", "crawling on hands and knees", 48, True, cycle(48, 4, _crawl), "linear")
    _clip("wave", "waving the right hand", 40, True, cycle(40, 4, _wave), "linear")

    guard = _punch_guard()
    jab = merge(guard, {
        "Hips": (("z", 5),),
        "Spine1": (("x", 5), ("z", -15)),
        "RightArm": (("y", -8), ("z", 88)),
        "RightForeArm": (("z", 5),),
        "RightShoulder": (("z", 12),),
    })
    _clip("punch", "boxing guard, right straight punch", 40, True,
          [Key(1, guard), Key(12, guard), Key(18, jab), Key(24, jab), Key(32, guard)])

    stand = merge(ARMS_DOWN, RELAXED_FINGERS)
    crouch_prep = merge(stand, {
        "Hips": (("x", 25),), "Spine1": (("x", 10),),
        "LeftUpLeg": (("x", -70),), "RightUpLeg": (("x", -70),),
        "LeftLeg": (("x", 95),), "RightLeg": (("x", 95),),
        "LeftFoot": (("x", -30),), "RightFoot": (("x", -30),),
        "LeftArm": (("y", 70), ("x", 40)), "RightArm": (("y", -70), ("x", 40)),
    })
    airborne = merge(stand, {
        "Head": (("x", -10),),
        "LeftArm": (("y", -60), ("z", -20)), "RightArm": (("y", 60), ("z", 20)),
        "LeftForeArm": (("z", -10),), "RightForeArm": (("z", 10),),
        "LeftUpLeg": (("x", -25),), "RightUpLeg": (("x", -25),),
        "LeftLeg": (("x", 45),), "RightLeg": (("x", 45),),
        "LeftFoot": (("x", 30),), "RightFoot": (("x", 30),),
    })
    _clip("jump", "crouch, jump up with arms raised, land", 60, False, [
        Key(1, stand), Key(12, crouch_prep, (0, 0.05, -0.25)), Key(22, airborne, (0, 0, 0.3), contact=False),
        Key(30, airborne, (0, 0, 0.35), contact=False), Key(40, crouch_prep, (0, 0.05, -0.25)), Key(55, stand), Key(60, stand),
    ])

    seated = merge(RELAXED_FINGERS, {
        "Spine1": (("x", 5),),
        "LeftUpLeg": (("x", -88), ("y", -6)), "RightUpLeg": (("x", -88), ("y", 6)),
        "LeftLeg": (("x", 88),), "RightLeg": (("x", 88),),
        "LeftArm": (("y", 72), ("x", -20)), "RightArm": (("y", -72), ("x", -20)),
        "LeftForeArm": (("z", -60),), "RightForeArm": (("z", 60),),
    })
    lowering = merge(crouch_prep, {"Hips": (("x", 35),), "LeftArm": (("y", 70), ("z", -40)), "RightArm": (("y", -70), ("z", 40))})
    _clip("sit", "sitting down on a chair and staying seated", 60, False, [
        Key(1, stand), Key(18, lowering, (0, 0.12, -0.25)), Key(34, seated, (0, 0.22, -0.45)), Key(60, seated, (0, 0.22, -0.45)),
    ])

    squat = merge(RELAXED_FINGERS, {
        "Hips": (("x", 35),), "Spine1": (("x", 10),), "Head": (("x", -25),),
        "LeftUpLeg": (("x", -120), ("y", -12)), "RightUpLeg": (("x", -120), ("y", 12)),
        "LeftLeg": (("x", 135),), "RightLeg": (("x", 135),),
        "LeftFoot": (("x", -25),), "RightFoot": (("x", -25),),
        "LeftArm": (("y", 55), ("z", -60)), "RightArm": (("y", -55), ("z", 60)),
        "LeftForeArm": (("z", -40),), "RightForeArm": (("z", 40),),
    })
    _clip("crouch", "crouching down into a deep squat and holding it", 45, False,
          [Key(1, stand), Key(20, squat, (0, 0.12, -0.56)), Key(45, squat, (0, 0.12, -0.56))])

    kneel = merge(stand, {
        "Spine1": (("x", 4),),
        "LeftUpLeg": (("x", -85), ("y", -5)), "LeftLeg": (("x", 85),), "LeftFoot": (("x", -5),),
        "RightUpLeg": (("x", 5), ("y", 4)), "RightLeg": (("x", 95),), "RightFoot": (("x", 20),),
        "LeftArm": (("y", 70), ("z", -35)), "LeftForeArm": (("z", -55),),
    })
    _clip("kneel", "going down on the right knee and holding it", 60, False,
          [Key(1, stand), Key(25, kneel, (0, 0.02, -0.46)), Key(60, kneel, (0, 0.02, -0.46))])

    point_pose = merge(stand, {
        "RightShoulder": (("z", 8),),
        "RightArm": (("z", 85), ("y", 12)), "RightForeArm": (("z", 5),), "RightHand": (),
        "Head": (("z", -10),), "Spine1": (("z", -10),),
    } | {f"RightHand{f}{i}": (("y", -85 if i == 1 else -90),) for f in ("Middle", "Ring", "Pinky") for i in (1, 2, 3)}
      | {"RightHandIndex1": (), "RightHandIndex2": (), "RightHandIndex3": (), "RightHandThumb2": (("z", 30),)})
    _clip("point", "pointing forward with the right index finger", 45, False,
          [Key(1, stand), Key(15, point_pose), Key(45, point_pose)])

    chamber = merge(guard, {
        "Hips": (("x", -8), ("z", 10)), "Spine1": (("x", -5),),
        "RightUpLeg": (("x", -95),), "RightLeg": (("x", 110),), "RightFoot": (("x", 20),),
        "LeftUpLeg": (("x", -8),), "LeftLeg": (("x", 15),),
    })
    extend = merge(chamber, {"Hips": (("x", -15), ("z", 10)), "RightUpLeg": (("x", -100),), "RightLeg": (("x", 5),), "RightFoot": (("x", -15),)})
    _clip("kick", "front kick with the right leg from a guard", 45, False, [
        Key(1, guard), Key(12, chamber, (0, 0, -0.02)), Key(18, extend, (0, 0.03, -0.01)), Key(24, extend, (0, 0.03, -0.01)),
        Key(32, chamber, (0, 0, -0.02)), Key(45, guard),
    ])

    reach_up = merge(RELAXED_FINGERS, {
        "LeftArm": (("y", -80), ("z", -5)), "RightArm": (("y", 80), ("z", 5)),
        "LeftForeArm": (("z", -5),), "RightForeArm": (("z", 5),), "Head": (("x", -15),), "Spine2": (("x", -6),),
        "LeftFoot": (("x", 25),), "RightFoot": (("x", 25),),
    })
    lean_left = merge(reach_up, {"Spine": (("y", 10),), "Spine1": (("y", 12),), "Spine2": (("y", 10),), "Head": (("y", 5),)})
    lean_right = merge(reach_up, swap_sides({"Spine": (("y", 10),), "Spine1": (("y", 12),), "Spine2": (("y", 10),), "Head": (("y", 5),)}))
    _clip("stretch", "arms overhead, stretching up and to each side", 90, False, [
        Key(1, stand), Key(18, reach_up, (0, 0, 0.03)), Key(30, reach_up, (0, 0, 0.03)), Key(45, lean_left),
        Key(60, lean_right), Key(75, reach_up, (0, 0, 0.03)), Key(90, stand),
    ])

    stumble = merge(stand, {
        "Hips": (("x", -20),), "Spine1": (("x", 15),), "Head": (("x", 25),),
        "LeftArm": (("y", 20), ("z", -60)), "RightArm": (("y", -20), ("z", 60)),
        "LeftForeArm": (("z", -30),), "RightForeArm": (("z", 30),),
        "LeftUpLeg": (("x", -30),), "LeftLeg": (("x", 40),), "RightUpLeg": (("x", 10),), "RightLeg": (("x", 30),),
    })
    lying = merge(RELAXED_FINGERS, {
        "Hips": (("x", -88),), "Head": (("x", 10), ("z", 15)),
        "LeftArm": (("y", 30), ("x", 10)), "RightArm": (("y", -40), ("x", 10)),
        "LeftForeArm": (("z", -20),), "RightForeArm": (("z", 40),),
        "LeftUpLeg": (("x", -35), ("y", -8)), "LeftLeg": (("x", 70),),
        "RightUpLeg": (("y", 10), ("x", 2)), "RightLeg": (("x", 5),),
    })
    _clip("fall", "stumbling backwards and falling onto the back", 60, False, [
        Key(1, stand), Key(12, stumble, (0, 0.08, -0.05)), Key(28, merge(lying, {"Hips": (("x", -50),)}), (0, 0.35, -0.5)),
        Key(38, lying, (0, 0.55, -0.86)), Key(60, lying, (0, 0.55, -0.86)),
    ])

    cheer_up = merge(FIST, {
        "LeftArm": (("y", -60), ("z", -10)), "RightArm": (("y", 60), ("z", 10)),
        "LeftForeArm": (("z", -25),), "RightForeArm": (("z", 25),), "Head": (("x", -20),), "Spine2": (("x", -8),),
    })
    cheer_low = merge(cheer_up, {"LeftArm": (("y", -30), ("z", -30)), "RightArm": (("y", 30), ("z", 30)),
                                 "LeftForeArm": (("z", -90),), "RightForeArm": (("z", 90),),
                                 "LeftLeg": (("x", 30),), "RightLeg": (("x", 30),), "LeftUpLeg": (("x", -15),), "RightUpLeg": (("x", -15),)})
    _clip("cheer", "fists pumping in the air, bouncing", 40, True,
          [Key(1, cheer_low, (0, 0, -0.05)), Key(11, cheer_up, (0, 0, 0.02)), Key(21, cheer_low, (0, 0, -0.05)), Key(31, cheer_up, (0, 0, 0.02))])

    bow_down = merge(stand, {"Hips": (("x", 20),), "LeftUpLeg": (("x", -20),), "RightUpLeg": (("x", -20),), "Spine": (("x", 20),), "Spine1": (("x", 15),), "Spine2": (("x", 10),), "Head": (("x", 10),),
                             "LeftArm": (("y", 82), ("x", -10)), "RightArm": (("y", -82), ("x", -10))})
    _clip("bow", "bowing from the waist and standing back up", 50, False,
          [Key(1, stand), Key(18, bow_down, (0, 0.06, -0.01)), Key(32, bow_down, (0, 0.06, -0.01)), Key(50, stand)])


__all__ = ["build_library", "cycle", "merge", "mirror"]

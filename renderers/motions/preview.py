"""Stick-figure previews of clips and poses from bpy-free kinematics (front and side views).

``python -m renderers.motions.preview OUT.png [clip ...]`` draws 6 frames of each clip.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from rig2sketch.atomic import atomic_path
from renderers.motions.pose import Pose
from renderers.motions.kinematics import bone_tails, forward_kinematics, reference_skeleton
from rig2sketch.skeleton import JOINT_EDGES, JOINTS, MIXAMO_BONES


def draw_poses(rows: Sequence[tuple[str, Sequence[Pose]]], path: Path) -> None:
    """One row per (label, poses); each pose drawn front (x, z) and side (-y, z); left side red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rest = reference_skeleton()
    cols = max(len(p) for _, p in rows)
    fig, axes = plt.subplots(len(rows), 2 * cols, figsize=(2 * cols * 1.6, len(rows) * 2.6), squeeze=False)
    toe = MIXAMO_BONES.index("LeftToeBase"), MIXAMO_BONES.index("RightToeBase")
    for r, (label, poses) in enumerate(rows):
        for c in range(cols):
            for v in range(2):
                ax = axes[r, 2 * c + v]
                ax.set_axis_off()
                if c >= len(poses):
                    continue
                j = forward_kinematics(rest, poses[c])
                tails = bone_tails(rest, poses[c], j)
                h = 0 if v == 0 else 1
                sign = 1 if v == 0 else -1
                for a, b in JOINT_EDGES:
                    left = "Left" in JOINTS[b]
                    ax.plot([sign * j[a, h], sign * j[b, h]], [j[a, 2], j[b, 2]], "-", color="r" if left else "k", lw=1)
                for t in toe:
                    ax.plot([sign * j[t, h], sign * tails[t, h]], [j[t, 2], tails[t, 2]], "-", color="b", lw=1)
                ax.axhline(0, color="g", lw=0.5)
                ax.set_xlim(-1, 1)
                ax.set_ylim(-0.1, 2.0)
                ax.set_aspect("equal")
                if c == 0 and v == 0:
                    ax.set_title(label, fontsize=7, loc="left")
    fig.tight_layout()
    with atomic_path(path) as partial:
        fig.savefig(partial, dpi=90)
    plt.close(fig)


def main(argv: list[str]) -> None:
    from renderers.motions import clip_names, get_clip

    out = Path(argv[0])
    names = argv[1:] or clip_names()
    rows = []
    for name in names:
        clip = get_clip(name)
        frames = np.linspace(1, clip.frame_count, 6).round().astype(int)
        rows.append((f"{name} {list(frames)}", [clip.pose_at(f) for f in frames]))
    draw_poses(rows, out)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The G-buffer worker process: ``python -m renderers.gbuffer_worker JOB.pkl OUT.npz`` renders a
:class:`renderers.gbuffer.GBufferJob` with Blender (``renderers.blender.pbr``) and writes its
arrays atomically; bad input exits ``INPUT_ERROR_EXIT`` with one line on stderr."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

from renderers.gbuffer import GBufferJob
from renderers.job import INPUT_ERROR_EXIT
from rig2sketch import leftovers
from rig2sketch.atomic import atomic_path


def main(argv: list[str]) -> int:
    """Worker entry: ``python -m renderers.gbuffer_worker JOB.pkl OUT.npz``; prints a JSON receipt."""
    from renderers.blender.pbr import render_gbuffers

    job: GBufferJob = pickle.loads(Path(argv[0]).read_bytes())
    try:
        with leftovers.scratch_dir("gbufferpasses") as scratch:
            arrays = render_gbuffers(job, Path(scratch))
    except ValueError as err:
        print(f"G-buffer job {job.character}: {err}", file=sys.stderr)
        return INPUT_ERROR_EXIT
    with atomic_path(argv[1]) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    print(json.dumps({"views": len(job.views), "out": argv[1]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

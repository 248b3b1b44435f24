"""Start-up of whole commands without a configured Prefect API: one checkout ("before") against another
("after"), runs alternated (A B A B ...) so machine noise hits both alike; prints medians and ratios.

    PYTHONPATH=. .venv/bin/python benchmarks/startup.py --before /path/to/main-checkout [--after .] [--repeats 3]

Three commands, each run as ``python -m app.cli ...`` in its checkout (its own code, the same Python):
  render    the tiny render (demo renderer, ada x wave, 2 cameras, 1 frame): seconds to the first
            progress line that counts an image (the first job's shard is written) and total wall
  refused   the same render with ``renderer.characters=[nope]``: wall time to its one-line refusal
  stylize   the tiny render's dataset through ``stylize`` (multistyle, one style, no metrics): wall time
The command's environment has no ``PREFECT_API_URL`` (the point of the measurement). The load average
is printed with each run: the "after" code starts Prefect's server at once only when a core is free
(``flows.prefect_server.core_to_spare``), so a busy machine and a quiet one measure different paths.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RENDER = ["render", "renderer=demo", "renderer.characters=[ada]", "renderer.motions=[wave]", "renderer.camera.count=2",
          "renderer.frames.max_frames=1"]
FIRST_IMAGE = re.compile(r"\[render\].*images [1-9]")


def command(checkout: Path, args: list[str]) -> tuple[float, float | None, int, str]:
    """Run ``rig2sketch ARGS`` from ``checkout``: (wall s, s to the first image line or None, exit code, output)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(checkout)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=checkout, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first, lines = None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if first is None and FIRST_IMAGE.search(line):
            first = time.perf_counter() - start
    code = proc.wait()
    return time.perf_counter() - start, first, code, "".join(lines)


def cases(work: Path, raw: Path) -> dict[str, tuple[list[str], int]]:
    """Case name -> (arguments, expected exit code); ``work/<side>`` is filled in per run."""
    return {
        "render": ([*RENDER, "out={out}"], 0),
        "refused": ([*RENDER[:2], "renderer.characters=[nope]", *RENDER[3:], "out={out}"], 2),
        "stylize": (["stylize", f"dataset={raw}", "out={out}", "stylizer=multistyle", "style.ids=[peep_03]",
                     "metrics=false"], 0),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="checkout with the code to compare against (e.g. main)")
    ap.add_argument("--after", default=str(REPO))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", default="/tmp/rig2sketch-bench-startup")
    args = ap.parse_args()
    sides = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    raw = work / "raw"
    wall, _, code, out = command(sides["after"], [*RENDER, f"out={raw}"])  # the stylize input (and a warm-up)
    if code:
        raise SystemExit(f"the input render failed:\n{out}")
    times: dict[tuple[str, str, str], list[float]] = {}
    for rep in range(args.repeats):
        for name, (argv, expected) in cases(work, raw).items():
            for side, checkout in sides.items():
                dest = work / f"{side}-{name}-{rep}"
                wall, first, code, out = command(checkout, [a.format(out=dest) for a in argv])
                if code != expected:
                    raise SystemExit(f"{side} {name}: exit {code}, expected {expected}:\n{out}")
                times.setdefault((name, "wall", side), []).append(wall)
                if first is not None:
                    times.setdefault((name, "first image", side), []).append(first)
                print(f"rep {rep} {name:8s} {side:6s} wall {wall:6.2f} s"
                      + (f"  first image {first:6.2f} s" if first is not None else "")
                      + f"  (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
    print("\n| command | measure | before (median s) | after (median s) | before / after |")
    print("|---|---|---|---|---|")
    for name in cases(work, raw):
        for measure in ("first image", "wall"):
            if (name, measure, "before") not in times:
                continue
            b, a = (statistics.median(times[(name, measure, side)]) for side in ("before", "after"))
            print(f"| {name} | {measure} | {b:.2f} | {a:.2f} | {b / a:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

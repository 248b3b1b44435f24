"""Fault sweep (issue 17): bad inputs, each run the way a user runs it (the ``rig2sketch`` command
in a subprocess), each outcome classified.

    PYTHONPATH=. python scripts/fault_sweep.py [--work DIR] [--only CLASS[,CLASS]] [--json OUT]

- clear: refused with exit code 2 and one line naming the input, the problem and the fix (or
  reported by ``validate``, or handled: exit 0 with the right outcome), and nothing lost;
- unclear: the right refusal, but a traceback, several lines, a message that misleads, or
  another exit code;
- bad: wrong output or a hole: bad input accepted, data changed without a word, something
  written where it must not be, a leftover that stays.

One small dataset is rendered once at the start (one bundled character, one motion, one frame,
one camera, 64x64) and copied for the cases that need shards. Cases that need root (a tiny or
read-only tmpfs) are skipped elsewhere. Prints one line per case and the counts per class.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
SMALL = ["renderer.width=64", "renderer.height=64", "renderer.camera.count=1", "renderer.frames.max_frames=1",
         "renderer.threads=1"]
BASE_RENDER = ["renderer.characters=[ada]", "renderer.motions=[idle]", *SMALL]
MANNEQUIN = "renderer.scene_loader=tests.render_scene:mannequin_scene"
PROGRESS = re.compile(r"^\[[\w-]+\] \w+ \d+/\d+ \|")  # "[render] jobs 0/4 | ...", "[export] rows 1/1 | ..."


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        """stderr without progress lines."""
        return [line for line in self.stderr.strip().splitlines() if line.strip() and not PROGRESS.match(line)]


@dataclass
class Verdict:
    kind: str  # clear | unclear | bad | skipped
    note: str


@dataclass
class Case:
    cls: str
    name: str
    run: Callable[["Sweep"], Verdict]
    verdict: Verdict | None = None
    seconds: float = 0.0


def cli(*args: str, timeout: int = 900, env: dict | None = None) -> Result:
    environ = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO, env=environ,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        return Result(124, err.stdout or "", f"timed out after {timeout} s", time.monotonic() - started)
    return Result(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def refused(res: Result, *needles: str) -> Verdict:
    """Bad input: exit 2 and one line holding every needle (case-insensitive)."""
    text = " | ".join(res.lines)[:300]
    if res.rc == 0:
        return Verdict("bad", f"accepted (exit 0): {text or res.stdout.strip()[-200:]}")
    if "Traceback" in res.stderr:
        return Verdict("unclear", f"traceback (exit {res.rc}): {text}")
    if res.rc != 2 or len(res.lines) != 1:
        return Verdict("unclear", f"exit {res.rc}, {len(res.lines)} lines: {text}")
    missing = [n for n in needles if n.lower() not in res.lines[0].lower()]
    if missing:
        return Verdict("unclear", f"line lacks {missing}: {text}")
    return Verdict("clear", res.lines[0][:240])


def reported(res: Result, *needles: str) -> Verdict:
    """``validate`` on a damaged dataset: exit 1, INVALID, the needles in its report."""
    if res.rc == 0:
        return Verdict("bad", f"validate said OK: {res.stdout.strip()[-200:]}")
    if "Traceback" in res.stderr or res.rc != 1 or "INVALID" not in res.stdout:
        return Verdict("unclear", f"exit {res.rc}: {(res.stdout + res.stderr).strip()[-240:]}")
    missing = [n for n in needles if n.lower() not in res.stdout.lower()]
    if missing:
        return Verdict("unclear", f"report lacks {missing}: {res.stdout.strip()[:240]}")
    return Verdict("clear", res.stdout.strip().splitlines()[0][:240])


def both(*verdicts: Verdict) -> Verdict:
    """The worst of several verdicts (bad > unclear > clear), notes joined."""
    for kind in ("bad", "unclear", "skipped"):
        worst = [v for v in verdicts if v.kind == kind]
        if worst:
            return Verdict(kind, " || ".join(v.note for v in worst))
    return Verdict("clear", " || ".join(v.note for v in verdicts))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


class Sweep:
    """The work folder, the base dataset and helpers that make hostile inputs."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base = work / "base"
        self.n = 0

    def fresh(self, name: str) -> Path:
        self.n += 1
        path = self.work / f"{self.n:03d}-{name}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def copy_base(self, name: str) -> Path:
        """A copy of the base dataset (shards in split folders, and its reports folder with the
        manifest) in a fresh folder; returns the copy."""
        from shards import reports_dir

        dst = self.fresh(name) / "raw"
        shutil.copytree(self.base, dst)
        if reports_dir(self.base).is_dir():
            shutil.copytree(reports_dir(self.base), reports_dir(dst))
        return dst

    def shard(self, dataset: Path) -> Path:
        """The dataset's first shard (``<dataset>/<split>/<job>.parquet``, ``shards.layout``)."""
        from shards import dataset_files

        return dataset_files(dataset)[0][0]

    @staticmethod
    def content(path: Path):
        """What a reader without checks gets (None: it does not read): schema, both copies of the
        metadata (without the checksum), rows."""
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            footer = {k: v for k, v in (parquet.metadata.metadata or {}).items() if k != b"rig2sketch.checksum"}
            return str(parquet.schema_arrow), parquet.schema_arrow.metadata, footer, parquet.read().to_pylist()
        except Exception:
            return None

    def flip(self, path: Path, column: str | None = None, footer: bytes | None = None) -> None:
        """Flip one bit that changes what a reader gets: inside ``column``'s chunk (from its end,
        where the values are; a flip in page statistics changes nothing and is skipped), or just
        after the footer text ``footer``."""
        import pyarrow.parquet as pq

        original, data = self.content(path), path.read_bytes()
        if column is not None:
            meta = pq.ParquetFile(path).metadata.row_group(0)
            index = [meta.column(i).path_in_schema.split(".")[0] for i in range(meta.num_columns)].index(column)
            chunk = meta.column(index)
            start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            positions = range(start + chunk.total_compressed_size - 1, start, -3)
        else:
            positions = [data.rindex(footer) + len(footer) + 4]
        for pos in positions:
            changed = bytearray(data)
            changed[pos] ^= 0x04
            path.write_bytes(bytes(changed))
            if self.content(path) != original:
                return
        raise RuntimeError(f"no flip in {column or footer!r} of {path} changed its content")

    def rewrite(self, path: Path, edit: Callable, keep_checksum: bool = False, seal: bool = False) -> None:
        """Rewrite a shard's table through ``edit(rows) -> rows`` with pyarrow (as another tool would):
        its checksum and the marker dropped, the checksum copied over unchanged (``keep_checksum``)
        or made anew (``seal``: as a stage with a bug would write it)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from shards.checksum import CHECKSUM_KEY, MARKER_KEY, RunningChecksum

        parquet = pq.ParquetFile(path)
        old = (parquet.metadata.metadata or {}).get(CHECKSUM_KEY.encode())
        table = parquet.read()
        meta = {k: v for k, v in table.schema.metadata.items() if k != CHECKSUM_KEY.encode()
                and (keep_checksum or seal or k != MARKER_KEY.encode())}
        table = pa.Table.from_pylist(edit(table.to_pylist()), schema=table.schema.with_metadata(meta))
        with pq.ParquetWriter(path, table.schema) as writer:
            writer.write_table(table, row_group_size=max(1, len(table)))
            if keep_checksum and old:
                writer.add_key_value_metadata({CHECKSUM_KEY: old.decode()})
            if seal:
                checksum = RunningChecksum(table.schema)
                checksum.add(table)
                writer.add_key_value_metadata({CHECKSUM_KEY: checksum.value()})

    def validate(self, dataset: Path) -> Result:
        return cli("validate", f"dataset={dataset}")

    def export(self, dataset: Path, out: Path, fmt: str = "coco") -> Result:
        return cli("export", f"dataset={dataset}", f"out={out}", f"format={fmt}")


def manifest(dataset: Path) -> dict:
    """The render manifest of ``dataset`` (in its reports folder, ``<parent>/_reports/<name>/``)."""
    from shards import reports_dir

    return json.loads((reports_dir(dataset) / "manifest.json").read_text())


def render(out: Path, *extra: str, seed: int = 0) -> Result:
    return cli("render", f"out={out}", f"seed={seed}", *BASE_RENDER, *extra)


def mounted(path: Path, options: str) -> bool:
    """Mount a tmpfs at ``path`` (root only); False where that is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True)


def write_png(path: Path, array) -> None:
    import cv2

    cv2.imwrite(str(path), array)


# ------------------------------------------------------------------------------------------ cases
CASES: list[Case] = []


def case(cls: str, name: str):
    def register(fn: Callable[[Sweep], Verdict]):
        CASES.append(Case(cls, name, fn))
        return fn
    return register


# paths
@case("paths", "render an unknown character name")
def _(s):
    return refused(render(s.fresh("p") / "raw", "renderer.characters=[zed]"), "unknown character 'zed'", "choose")


@case("paths", "render an unknown motion name")
def _(s):
    return refused(render(s.fresh("p") / "raw", "renderer.motions=[moonwalk]"), "unknown motion 'moonwalk'")


@case("paths", "render a character file that does not exist")
def _(s):
    w = s.fresh("p")
    return refused(render(w / "raw", f"renderer.characters=[{w / 'none.fbx'}]"), "none.fbx", "does not exist")


@case("paths", "render a character path that climbs out (../../etc/x.fbx)")
def _(s):
    return refused(render(s.fresh("p") / "raw", "renderer.characters=[../../etc/x.fbx]"), "x.fbx", "does not exist")


@case("paths", "render a text file named .fbx as the character")
def _(s):
    w = s.fresh("p")
    (w / "hero.fbx").write_text("not an fbx\n")
    return refused(render(w / "raw", f"renderer.characters=[{w / 'hero.fbx'}]"), "hero.fbx", "is not an FBX file")


@case("paths", "render a text file named .blend as the character")
def _(s):
    w = s.fresh("p")
    (w / "hero.blend").write_text("not a blend\n")
    return refused(render(w / "raw", f"renderer.characters=[{w / 'hero.blend'}]"), "is not a .blend file")


@case("paths", "render a text file named .bvh as the motion")
def _(s):
    w = s.fresh("p")
    (w / "take.bvh").write_text("MOTION\n")
    return refused(render(w / "raw", f"renderer.motions=[{w / 'take.bvh'}]"), "take.bvh", "is not a BVH file")


@case("paths", "render a motion file with an unknown suffix (.c3d)")
def _(s):
    w = s.fresh("p")
    (w / "take.c3d").write_text("x")
    return refused(render(w / "raw", f"renderer.motions=[{w / 'take.c3d'}]"), "take.c3d", ".bvh")


@case("paths", "render out= below a file")
def _(s):
    w = s.fresh("p")
    (w / "file.txt").write_text("x")
    return refused(render(w / "file.txt" / "raw"), "not a writable folder", "file.txt")


@case("paths", "render out= on a read-only disk")
def _(s):
    w = s.fresh("p")
    if not mounted(w / "ro", "ro,size=64k"):
        return Verdict("skipped", "needs root to mount a read-only tmpfs")
    try:
        return refused(render(w / "ro" / "raw"), "not a writable folder", "read-only")
    finally:
        unmount(w / "ro")


@case("paths", "validate a folder that does not exist")
def _(s):
    return refused(cli("validate", f"dataset={s.work / 'nowhere'}"), "no dataset at", "nowhere")


@case("paths", "validate an empty folder")
def _(s):
    return refused(cli("validate", f"dataset={s.fresh('empty')}"), "no .parquet shards")


@case("paths", "export a dataset that does not exist")
def _(s):
    w = s.fresh("p")
    return refused(s.export(w / "nowhere", w / "coco"), "no dataset at")


@case("paths", "stylize a dataset that does not exist")
def _(s):
    w = s.fresh("p")
    return refused(cli("stylize", f"dataset={w / 'nowhere'}", f"out={w / 'sty'}"), "no dataset at")


@case("paths", "predict on an image folder that does not exist")
def _(s):
    w = s.fresh("p")
    return refused(cli("predict", f"images={w / 'nowhere'}", f"out={w / 'p.json'}"), "nowhere")


@case("paths", "export a shard whose split is ../../escape")
def _(s):
    raw = s.copy_base("p")
    s.rewrite(s.shard(raw), lambda rows: [{**r, "split": "../../escape"} for r in rows], seal=True)
    out = raw.parent / "coco"
    verdict = refused(s.export(raw, out), "split", "escape")
    escaped = [p for p in (raw.parent.parent, raw.parent.parent.parent) if (p / "escape").exists()]
    return Verdict("bad", f"wrote outside: {escaped}") if escaped or out.exists() else verdict


@case("paths", "export into a non-empty out=")
def _(s):
    raw = s.copy_base("p")
    (raw.parent / "coco").mkdir()
    (raw.parent / "coco" / "mine.txt").write_text("keep me")
    verdict = refused(s.export(raw, raw.parent / "coco"), "not empty")
    return verdict if (raw.parent / "coco" / "mine.txt").exists() else Verdict("bad", "the user's file is gone")


@case("paths", "stylize with a style bank index naming ../outside.png")
def _(s):
    raw = s.copy_base("p")
    bank = raw.parent / "bank"
    bank.mkdir()
    (bank / "index.json").write_text(json.dumps({"version": 1, "images": [{"id": "x", "file": "../outside.png", "tags": []}]}))
    return refused(cli("stylize", f"dataset={raw}", f"out={raw.parent / 'sty'}", f"style.bank={bank}"),
                   "outside")


# integrity
def damaged_dataset(s: Sweep, name: str, damage: Callable[[Path], None], *needles: str) -> Verdict:
    raw = s.copy_base(name)
    damage(s.shard(raw))
    out = raw.parent / "coco"
    export = refused(s.export(raw, out), s.shard(raw).name, "re-render")
    if export.kind == "clear" and out.exists():
        export = Verdict("bad", "export refused but left out=")
    return both(reported(s.validate(raw), *needles), export)


@case("integrity", "one bit flipped in the image column")
def _(s):
    return damaged_dataset(s, "i", lambda p: s.flip(p, column="image"), "re-render")


@case("integrity", "one bit flipped in the keypoints column")
def _(s):
    return damaged_dataset(s, "i", lambda p: s.flip(p, column="keypoints"), "re-render")


@case("integrity", "one bit flipped in the bbox column")
def _(s):
    return damaged_dataset(s, "i", lambda p: s.flip(p, column="bbox"), "re-render")


@case("integrity", "one bit flipped in the footer (config hash text)")
def _(s):
    return damaged_dataset(s, "i", lambda p: s.flip(p, footer=b"rig2sketch.config_hash"), "re-render")


@case("integrity", "shard truncated to half")
def _(s):
    return damaged_dataset(s, "i", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
                           "not a readable parquet")


@case("integrity", "shard truncated by 1 byte")
def _(s):
    return damaged_dataset(s, "i", lambda p: p.write_bytes(p.read_bytes()[:-1]), "not a readable parquet")


@case("integrity", "zero-length shard")
def _(s):
    return damaged_dataset(s, "i", lambda p: p.write_bytes(b""), "not a readable parquet")


@case("integrity", "a text file named .parquet")
def _(s):
    return damaged_dataset(s, "i", lambda p: p.write_text("hello\n"), "not a readable parquet")


@case("integrity", "a foreign Parquet file (other columns) in the dataset")
def _(s):
    import pyarrow as pa
    import pyarrow.parquet as pq

    def foreign(path: Path) -> None:
        pq.write_table(pa.table({"sample_id": ["a"], "label": [3]}), path)
    return damaged_dataset(s, "i", foreign, "missing column 'image'")


@case("integrity", "shard rewritten by another tool (checksum gone)")
def _(s):
    raw = s.copy_base("i")
    s.rewrite(s.shard(raw), lambda rows: rows)
    return reported(s.validate(raw), "no content checksum")


@case("integrity", "a keypoint edited in place, old checksum copied over")
def _(s):
    def edit(rows):
        rows[0]["keypoints"][0] += 3.0
        return rows
    return damaged_dataset(s, "i", lambda p: s.rewrite(p, edit, keep_checksum=True), "keypoints", "checksum")


@case("integrity", "a dataset mixing two render configs")
def _(s):
    raw = s.copy_base("i")
    other = raw.parent / "other"
    res = render(other, "renderer.line_px=3")
    if res.rc != 0:
        return Verdict("unclear", f"second render failed: {res.lines[-1:]}")
    shutil.copy(s.shard(other), raw / "train" / "zz_other.parquet")
    return reported(s.validate(raw), "mixes 2 configs")


@case("integrity", "the same shard twice under two names")
def _(s):
    raw = s.copy_base("i")
    shutil.copy(s.shard(raw), raw / "train" / "zz_copy.parquet")
    return reported(s.validate(raw), "duplicates")


@case("integrity", "stylize a dataset whose shard has a flipped image bit")
def _(s):
    raw = s.copy_base("i")
    s.flip(s.shard(raw), column="image")
    return refused(cli("stylize", f"dataset={raw}", f"out={raw.parent / 'sty'}"), s.shard(raw).name, "re-render")


# resume
@case("resume", "re-run the same render: every shard kept")
def _(s):
    raw = s.copy_base("r")
    before = s.shard(raw).stat().st_mtime_ns
    res = render(raw)
    if res.rc != 0:
        return Verdict("unclear" if res.rc == 2 else "bad", f"exit {res.rc}: {res.lines[-1:]}")
    status = {e["status"] for e in manifest(raw)["jobs"]}
    if status != {"skipped"} or s.shard(raw).stat().st_mtime_ns != before:
        return Verdict("bad", f"statuses {status}, shard rewritten: {s.shard(raw).stat().st_mtime_ns != before}")
    return Verdict("clear", "kept (exit 0, manifest: skipped)")


def conflict(s: Sweep, raw: Path, res: Result, *needles: str) -> Verdict:
    verdict = refused(res, "made by another run", "overwrite=true", *needles)
    return verdict


@case("resume", "re-run with another seed")
def _(s):
    raw = s.copy_base("r")
    before = s.shard(raw).read_bytes()
    verdict = conflict(s, raw, render(raw, seed=1), s.shard(raw).name, "seed")
    return verdict if s.shard(raw).read_bytes() == before else Verdict("bad", "the kept shard changed")


@case("resume", "re-run with another image size")
def _(s):
    raw = s.copy_base("r")
    return conflict(s, raw, render(raw, "renderer.width=80"), "width 64 -> 80")


@case("resume", "re-run over a shard with a flipped bit")
def _(s):
    raw = s.copy_base("r")
    s.flip(s.shard(raw), column="image")
    return conflict(s, raw, render(raw), s.shard(raw).name)


@case("resume", "re-run over a shard whose checksum was stripped")
def _(s):
    raw = s.copy_base("r")
    s.rewrite(s.shard(raw), lambda rows: rows)
    return conflict(s, raw, render(raw), "no content checksum")


@case("resume", "re-run into a folder holding a shard of another config")
def _(s):
    raw = s.copy_base("r")
    other = raw.parent / "other"
    if render(other, "renderer.line_px=3", "renderer.characters=[ben]").rc != 0:
        return Verdict("unclear", "second render failed")
    shutil.copy(s.shard(other), raw / s.shard(other).relative_to(other))
    return conflict(s, raw, render(raw), "ben__idle.parquet", "not written by this run")


@case("resume", "re-run with another seed and overwrite=true")
def _(s):
    raw = s.copy_base("r")
    res = render(raw, "overwrite=true", seed=1)
    if res.rc != 0:
        return Verdict("unclear", f"exit {res.rc}: {res.lines[-1:]}")
    status = [e["status"] for e in manifest(raw)["jobs"]]
    check = s.validate(raw)
    if status != ["rendered"] or check.rc != 0:
        return Verdict("bad", f"statuses {status}, validate exit {check.rc}")
    return Verdict("clear", "re-rendered (exit 0), validate OK")


@case("resume", "re-run after the character file changed (custom scene loader)")
def _(s):
    w = s.fresh("r")
    hero = w / "hero.fbx"
    hero.write_bytes(b"Kaydara FBX Binary  \x00 v1")
    args = [f"renderer.characters=[{hero}]", MANNEQUIN]
    first = render(w / "raw", *args)
    if first.rc != 0:
        return Verdict("unclear", f"first render failed: {first.lines[-1:]}")
    hero.write_bytes(b"Kaydara FBX Binary  \x00 v2")
    return conflict(s, w / "raw", render(w / "raw", *args), "character input")


@case("resume", "stylize again into out= with another seed")
def _(s):
    raw = s.copy_base("r")
    sty = raw.parent / "sty"
    first = cli("stylize", f"dataset={raw}", f"out={sty}", "metrics=false", "contact_sheet=0")
    if first.rc != 0:
        return Verdict("unclear", f"first stylize failed: {first.lines[-1:]}")
    again = cli("stylize", f"dataset={raw}", f"out={sty}", "metrics=false", "contact_sheet=0", "seed=3")
    return refused(again, "made by another run", "overwrite=true")


@case("resume", "stylize again after the source shard was re-rendered")
def _(s):
    raw = s.copy_base("r")
    sty = raw.parent / "sty"
    args = [f"dataset={raw}", f"out={sty}", "metrics=false", "contact_sheet=0"]
    if cli("stylize", *args).rc != 0:
        return Verdict("unclear", "first stylize failed")
    if render(raw, "overwrite=true", seed=2).rc != 0:
        return Verdict("unclear", "re-render failed")
    return refused(cli("stylize", *args), "its source", "changed", "overwrite=true")


# values
@case("values", "renderer.width=0")
def _(s):
    return refused(render(s.fresh("v") / "raw", "renderer.width=0"), "renderer.width", "16..8192")


@case("values", "renderer.camera.count=0")
def _(s):
    return refused(render(s.fresh("v") / "raw", "renderer.camera.count=0"), "renderer.camera.count")


@case("values", "seed=-1")
def _(s):
    return refused(render(s.fresh("v") / "raw", seed=-1), "seed")


@case("values", "renderer.frames.step=0")
def _(s):
    return refused(render(s.fresh("v") / "raw", "renderer.frames.step=0"), "renderer.frames.step")


@case("values", "renderer.split.fixed=holdout")
def _(s):
    return refused(render(s.fresh("v") / "raw", "renderer.split.fixed=holdout"), "renderer.split.fixed", "train")


@case("values", "renderer.line_px=nan")
def _(s):
    return refused(render(s.fresh("v") / "raw", "renderer.line_px=nan"), "renderer.line_px")


@case("values", "misspelled key renderer.camras=8")
def _(s):
    res = render(s.fresh("v") / "raw", "renderer.camras=8")
    ok = res.rc == 2 and "Traceback" not in res.stderr and "did you mean 'camera'" in res.stderr
    return Verdict("clear" if ok else "unclear", " | ".join(res.lines)[:240])


@case("values", "export format=xml")
def _(s):
    return refused(s.export(s.base, s.fresh("v") / "x", fmt="xml"), "xml", "coco")


@case("values", "runner.kind=slurm")
def _(s):
    return refused(render(s.fresh("v") / "raw", "runner.kind=slurm"), "slurm", "dask, local")


@case("values", "a NaN bbox in a shard (valid checksum)")
def _(s):
    raw = s.copy_base("v")
    s.rewrite(s.shard(raw), lambda rows: [{**r, "bbox": [float("nan"), 1, 2, 2]} for r in rows], seal=True)
    return both(reported(s.validate(raw), "nan"), refused(s.export(raw, raw.parent / "coco"), "nan"))


@case("values", "a visible keypoint outside the image (valid checksum)")
def _(s):
    raw = s.copy_base("v")

    def edit(rows):
        rows[0]["keypoints"][0:3] = [500.0, 5.0, 2.0]
        return rows
    s.rewrite(s.shard(raw), edit, seal=True)
    return both(reported(s.validate(raw), "outside"), refused(s.export(raw, raw.parent / "coco", "yolo"), "outside"))


@case("values", "stylize style.per_image=0")
def _(s):
    w = s.fresh("v")
    return refused(cli("stylize", f"dataset={s.base}", f"out={w / 'sty'}", "style.per_image=0"), "per_image")


# images
@case("images", "predict on a text file named .png")
def _(s):
    w = s.fresh("m")
    (w / "img").mkdir()
    (w / "img" / "a.png").write_text("not a png")
    return refused(cli("predict", f"images={w / 'img'}", f"out={w / 'p.json'}"), "a.png")


@case("images", "predict on a 1x1 PNG")
def _(s):
    import numpy as np

    w = s.fresh("m")
    (w / "img").mkdir()
    write_png(w / "img" / "dot.png", np.zeros((1, 1, 3), np.uint8))
    return refused(cli("predict", f"images={w / 'img'}", f"out={w / 'p.json'}"), "dot.png")


@case("images", "predict on a PNG whose header claims 40000x40000")
def _(s):
    import struct
    import zlib

    w = s.fresh("m")
    (w / "img").mkdir()
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    (w / "img" / "bomb.png").write_bytes(png)  # 4.8 GB of pixels once decoded
    return refused(cli("predict", f"images={w / 'img'}", f"out={w / 'p.json'}"), "bomb.png", "pixel limit")


@case("images", "predict on a transparent (RGBA) line drawing")
def _(s):
    import cv2
    import numpy as np

    w = s.fresh("m")
    (w / "img").mkdir()
    rgba = np.zeros((128, 96, 4), np.uint8)
    cv2.line(rgba, (48, 20), (48, 100), (0, 0, 0, 255), 3)
    cv2.circle(rgba, (48, 15), 8, (0, 0, 0, 255), 2)
    write_png(w / "img" / "fig.png", rgba)
    res = cli("predict", f"images={w / 'img'}", f"out={w / 'p.json'}")
    ok = res.rc == 0 and (w / "p.json").exists() and len(json.loads((w / "p.json").read_text())) == 1
    return Verdict("clear" if ok else "unclear", f"exit {res.rc}: {' | '.join(res.lines)[:200] or 'one prediction'}")


@case("images", "a shard row whose PNG fails its CRC (valid checksum)")
def _(s):
    raw = s.copy_base("m")

    def edit(rows):
        image = rows[0]["image"]  # schema v2: {bytes, path}
        png = bytearray(image["bytes"] if isinstance(image, dict) else image)
        png[60] ^= 0x01
        rows[0]["image"] = {**image, "bytes": bytes(png)} if isinstance(image, dict) else bytes(png)
        return rows
    s.rewrite(s.shard(raw), edit, seal=True)
    return reported(s.validate(raw), "do not decode as png")


@case("images", "stylize with a style bank holding a 1x1 image")
def _(s):
    import numpy as np

    w = s.fresh("m")
    (w / "bank").mkdir()
    write_png(w / "bank" / "dot.png", np.zeros((1, 1, 3), np.uint8))
    return refused(cli("stylize", f"dataset={s.base}", f"out={w / 'sty'}", f"style.bank={w / 'bank'}"), "dot.png")


@case("images", "stylize with a style bank holding a text file named .png")
def _(s):
    w = s.fresh("m")
    (w / "bank").mkdir()
    (w / "bank" / "ink.png").write_text("not an image")
    return refused(cli("stylize", f"dataset={s.base}", f"out={w / 'sty'}", f"style.bank={w / 'bank'}"), "ink.png")


# messages
@case("messages", "predict with a text file as checkpoint (.pth)")
def _(s):
    w = s.fresh("x")
    (w / "img").mkdir()
    (w / "notes.pth").write_text("my notes")
    return refused(cli("predict", f"images={w / 'img'}", f"checkpoint={w / 'notes.pth'}"),
                   "notes.pth is not a PyTorch checkpoint")


@case("messages", "score with a text file as checkpoint (.safetensors)")
def _(s):
    w = s.fresh("x")
    (w / "notes.safetensors").write_text("my notes")
    return refused(cli("score", f"checkpoint={w / 'notes.safetensors'}", f"sets=[{{name: s, path: {s.base}}}]",
                       "holdout.characters=[ada]", f"out_dir={w / 'scores'}"),
                   "notes.safetensors is not a safetensors file")


@case("messages", "predict with a checkpoint that does not exist")
def _(s):
    w = s.fresh("x")
    (w / "img").mkdir()
    return refused(cli("predict", f"images={w / 'img'}", f"checkpoint={w / 'gone.pth'}"), "gone.pth", "does not exist")


@case("messages", "--debug adds the traceback to the one line")
def _(s):
    w = s.fresh("x")
    res = cli("export", f"dataset={w / 'nowhere'}", f"out={w / 'coco'}", "--debug")
    ok = res.rc == 2 and "Traceback" in res.stderr and res.lines[-1].startswith("rig2sketch export: no dataset at")
    return Verdict("clear" if ok else "unclear", res.lines[-1][:200] if res.lines else "no output")


@case("messages", "an unknown command")
def _(s):
    res = cli("rendr")
    ok = res.rc == 2 and "invalid choice: 'rendr'" in res.stderr and "Traceback" not in res.stderr
    return Verdict("clear" if ok else "unclear", res.lines[-1][:200] if res.lines else "no output")


@case("messages", "validate without dataset=")
def _(s):
    return refused(cli("validate"), "dataset")


@case("messages", "a render job that refuses its input in the worker (Prefect running)")
def _(s):
    w = s.fresh("x")
    res = cli("render", f"out={w / 'raw'}", "renderer.characters=[broken]",
              "renderer.scene_loader=tests.render_scene:mannequin_or_refusal", *SMALL)
    verdict = refused(res, "render job broken__default", "not a character file")
    if verdict.kind == "clear" and "Finished in state" in res.stderr:
        return Verdict("unclear", "Prefect's failure report shown too")
    return verdict


@case("messages", "pipeline with an unknown character (before Prefect)")
def _(s):
    w = s.fresh("x")
    return refused(cli("pipeline", f"out={w / 'run'}", "renderer.characters=[zed]", *SMALL[:2]),
                   "unknown character 'zed'")


@case("messages", "pipeline export=[xml]")
def _(s):
    w = s.fresh("x")
    return refused(cli("pipeline", f"out={w / 'run'}", "export=[xml]"), "xml")


@case("messages", "train with a text file as init checkpoint")
def _(s):
    w = s.fresh("x")
    (w / "init.pth").write_text("my notes")
    return refused(cli("train", f"datasets=[{s.base}]", f"out_dir={w / 'model'}", f"init={w / 'init.pth'}", "epochs=1",
                       "max_steps=1", "device=cpu"), "init.pth is not a PyTorch checkpoint")


# leftovers
def scratch(root: Path, kind: str, pid: int) -> Path:
    path = root / f"rig2sketch-{kind}-{pid}-sweep{random.randrange(10**6):06d}"
    path.mkdir()
    (path / "pass.exr").write_bytes(b"x" * 100)
    return path


@case("leftovers", "a stale hidden shard temp file in out= (its process is gone)")
def _(s):
    raw = s.copy_base("l")
    stale = raw / "train" / f".ada__idle.parquet.{dead_pid()}.tmp"
    stale.write_bytes(b"half a shard")
    res = render(raw)
    if res.rc != 0:
        return Verdict("unclear", f"exit {res.rc}: {res.lines[-1:]}")
    return Verdict("bad", "still there") if stale.exists() else Verdict("clear", "removed by the next run")


@case("leftovers", "a temp file of a live process in out= is left alone")
def _(s):
    raw = s.copy_base("l")
    live = raw / "train" / f".other.parquet.{os.getpid()}.tmp"
    live.write_bytes(b"being written")
    res = render(raw)
    return Verdict("clear" if res.rc == 0 and live.exists() else "bad", f"exit {res.rc}, kept: {live.exists()}")


@case("leftovers", "stale scratch folders in /tmp and /dev/shm (their process is gone)")
def _(s):
    from rig2sketch.leftovers import scratch_roots

    pid = dead_pid()
    stale = [scratch(root, kind, pid) for root, kind in zip(scratch_roots(), ("job", "render"))]
    live = scratch(scratch_roots()[0], "job", os.getpid())
    res = render(s.copy_base("l"))
    left = [p for p in stale if p.exists()]
    shutil.rmtree(live, ignore_errors=True)
    if res.rc != 0:
        return Verdict("unclear", f"exit {res.rc}")
    return Verdict("bad", f"left: {left}") if left else Verdict("clear", f"removed {len(stale)}, kept the live one")


@case("leftovers", "render killed with SIGKILL: helpers stop, the re-run completes")
def _(s):
    import psutil

    w = s.fresh("l")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "render", f"out={w / 'raw'}",
                             "renderer.characters=[ada,ben]", "renderer.motions=[idle]", *SMALL], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, helpers = time.monotonic() + 600, []
    while time.monotonic() < deadline and proc.poll() is None:
        kids = psutil.Process(proc.pid).children(recursive=True)
        if any("renderers.job" in " ".join(k.cmdline()) for k in kids if k.is_running()):
            helpers = [k for k in kids if "rig2sketch.watchdog" not in " ".join(k.cmdline())]
            break
        time.sleep(0.5)
    if not helpers:
        proc.kill()
        return Verdict("unclear", "no render worker appeared before the run ended")
    time.sleep(1.5)  # the watchdog has polled
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone = psutil.wait_procs(helpers, timeout=30)[0]
    orphans = [p for p in helpers if p not in gone]
    for p in orphans:
        p.kill()
    res = render(w / "raw", "renderer.characters=[ada,ben]")
    tmp = list((w / "raw").rglob(".*.tmp"))
    if orphans or tmp or res.rc != 0:
        return Verdict("bad", f"orphans {[' '.join(p.cmdline())[:60] for p in orphans]}, tmp {tmp}, re-run {res.rc}")
    return Verdict("clear", f"{len(helpers)} helpers stopped with it (server, worker); re-run exit 0, no temp files")


@case("leftovers", "render onto a full disk")
def _(s):
    w = s.fresh("l")
    if not mounted(w / "full", "size=8k"):
        return Verdict("skipped", "needs root to mount a tiny tmpfs")
    try:
        verdict = refused(render(w / "full" / "raw"), "no space left", "ada__idle.parquet")
        tmp = [p for p in (w / "full" / "raw").rglob(".*")] if (w / "full" / "raw").exists() else []
        return Verdict("bad", f"left {tmp}") if tmp else verdict
    finally:
        unmount(w / "full")


@case("leftovers", "export onto a full disk")
def _(s):
    w = s.fresh("l")
    if not mounted(w / "full", "size=4k"):
        return Verdict("skipped", "needs root to mount a tiny tmpfs")
    try:
        verdict = refused(s.export(s.base, w / "full" / "coco"), "no space left", str(w / "full" / "coco"))
        left = list((w / "full").iterdir())
        return Verdict("bad", f"left {left}") if left else verdict
    finally:
        unmount(w / "full")


@case("leftovers", "export into a read-only folder")
def _(s):
    w = s.fresh("l")
    if not mounted(w / "ro", "ro,size=64k"):
        return Verdict("skipped", "needs root to mount a read-only tmpfs")
    try:
        return refused(s.export(s.base, w / "ro" / "coco"), "not a writable folder", "read-only")
    finally:
        unmount(w / "ro")


@case("leftovers", "a stale half export folder beside out= (its process is gone)")
def _(s):
    w = s.fresh("l")
    stale = w / f".coco.{dead_pid()}.tmp"
    (stale / "images").mkdir(parents=True)
    res = s.export(s.base, w / "coco")
    ok = res.rc == 0 and not stale.exists() and (w / "coco" / "annotations").is_dir()
    return Verdict("clear" if ok else "bad", f"exit {res.rc}, stale left: {stale.exists()}")


# ------------------------------------------------------------------------------------------ main
def measure_orphan_without_watchdog(work: Path) -> str:
    """Kill -9 a Python process running a flow without the command's watchdog; does Prefect's
    temporary server outlive it? (The reason for rig2sketch.watchdog.)"""
    import psutil

    script = ("from flows.stylize import stylize_command; from stylizers.config import StylizeConfig\n"
              f"stylize_command(StylizeConfig(dataset={str(work / 'base')!r}, out={str(work / 'orphan')!r}))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline, server = time.monotonic() + 300, None
    while time.monotonic() < deadline and proc.poll() is None and server is None:
        server = next((k for k in psutil.Process(proc.pid).children(recursive=True)
                       if "uvicorn" in " ".join(k.cmdline())), None)
        time.sleep(0.5)
    if server is None:
        proc.kill()
        return "not measured (no temporary server appeared)"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(10)
    alive = server.is_running()
    if alive:
        server.kill()
    return f"without the watchdog, Prefect's temporary server {'outlived' if alive else 'did not outlive'} its killed parent (10 s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a new temp folder)")
    parser.add_argument("--only", default="", help="comma-separated classes to run")
    parser.add_argument("--json", type=Path, default=None, help="write every case and verdict here")
    parser.add_argument("--measure-orphan", action="store_true", help="also measure the orphaned server without the watchdog")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="rig2sketch-sweep-"))
    work.mkdir(parents=True, exist_ok=True)
    sweep = Sweep(work)
    print(f"work folder: {work}", flush=True)
    if not sweep.base.exists():
        res = render(sweep.base)
        if res.rc != 0 or cli("validate", f"dataset={sweep.base}").rc != 0:
            print(f"base render failed (exit {res.rc}):\n{res.stderr[-2000:]}")
            return 1
        print(f"base dataset rendered in {res.seconds:.0f} s", flush=True)
    only = set(filter(None, args.only.split(",")))
    cases = [c for c in CASES if not only or c.cls in only]
    for number, item in enumerate(cases, 1):
        started = time.monotonic()
        try:
            item.verdict = item.run(sweep)
        except Exception as err:  # the sweep's own setup failed: counts as unclear, says why
            item.verdict = Verdict("unclear", f"sweep error: {type(err).__name__}: {err}")
        item.seconds = time.monotonic() - started
        print(f"{number:3d} {item.verdict.kind:8s} [{item.cls}] {item.name} ({item.seconds:.0f} s): "
              f"{item.verdict.note}", flush=True)
    counts: dict[str, dict[str, int]] = {}
    for item in cases:
        counts.setdefault(item.cls, {"clear": 0, "unclear": 0, "bad": 0, "skipped": 0})[item.verdict.kind] += 1
    total = {k: sum(c[k] for c in counts.values()) for k in ("clear", "unclear", "bad", "skipped")}
    print("\nclass       clear unclear bad skipped")
    for cls, c in counts.items():
        print(f"{cls:11s} {c['clear']:5d} {c['unclear']:7d} {c['bad']:3d} {c['skipped']:7d}")
    print(f"{'all':11s} {total['clear']:5d} {total['unclear']:7d} {total['bad']:3d} {total['skipped']:7d}"
          f"   ({len(cases)} cases)")
    orphan = measure_orphan_without_watchdog(work) if args.measure_orphan else None
    if orphan:
        print(orphan)
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "total": total, "orphan_measurement": orphan, "cases": [
            {"class": c.cls, "name": c.name, "verdict": c.verdict.kind, "note": c.verdict.note,
             "seconds": round(c.seconds, 1)} for c in cases]}, indent=1))
    return 0 if total["bad"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""The bundled real-drawings test set ``data/drawings/open_peeps/``: render its images, check its labels.

The keypoints in ``person_keypoints.json`` are hand-labelled data. This script never writes them:

- ``render``: ``npm pack react-peeps@0.1.10`` (Open Peeps by Pablo Stanley, CC0; code MIT) into a
  temp dir, turn each figure's pieces (``images[].pieces`` in the JSON) into SVG with
  ``scripts/peeps_to_svg.js``, rasterise with cairosvg, crop to the ink, mirror where the pieces
  say so, scale the longer side to ``SIZE - 2 * MARGIN`` and pad with white. Without a JSON it
  first picks the pieces (``FIGURES`` + heads drawn with ``--seed``) and writes a JSON whose
  annotations have no keypoints yet (to be labelled by hand).
- ``check``: validate the JSON against the images (sizes, 17 keypoints, points inside the image
  and the box, box = tight box of the ink) and draw overlays (3x, 16-px grid, numbered joints;
  the person's left blue, right orange; hollow = v=1) plus ``sheet.png`` into ``--overlays``.
  ``--fix-boxes`` rewrites only ``bbox``, ``area`` and ``num_keypoints`` from the images/labels.

Run: ``PYTHONPATH=. .venv/bin/python scripts/make_drawing_set.py render|check [--overlays DIR]``.
``render`` needs node + npm and ``cairosvg==2.7.1`` (libcairo2); ``check`` only the venv.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SET_DIR = ROOT / "data/drawings/open_peeps"
JSON_NAME = "person_keypoints.json"
PEEPS_VERSION = "0.1.10"
SIZE = 256  # longer side of every image
MARGIN = 12  # white border around the figure's ink
INK = 0.5  # ink coverage that counts as the figure (for boxes)
CC0 = {"id": 1, "name": "CC0-1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}

# Bodies and mirroring, chosen by hand: the 13 react-peeps bodies that none of the 24 figures in
# data/styles/peeps/ uses (MediumWB mirrored), and mirrored (left-right flipped) copies of 11 poses
# that the bank does use, so no figure repeats a style-bank figure and the figures face both ways.
FIGURES: list[tuple[str, bool]] = [
    ("BlazerPantsBW", False), ("CrossedArmsWB", False), ("EasingBW", False), ("PolkaDots", False),
    ("RestingBW", False), ("RoboDanceOutline", False), ("ShirtPantsWB", False), ("WalkingFilled", False),
    ("MediumBW", False), ("OneLegUpWB", False), ("Bike", False), ("WheelChair", False),
    ("BlazerWB", True), ("PointingFingerBW", True), ("ClosedLegWB", True), ("CrossedLegs", True),
    ("HandsBackBW", True), ("WalkingWB", True), ("RoboDanceWB", True), ("ShirtBW", True),
    ("MediumWB", True), ("OneLegUpBW", True), ("DocProtectiveClothe", True), ("RestingWB", True),
]
# The package's units around every figure: wider than peeps_to_svg.js's default, which cuts the Bike's
# wheels and the top of tall hair. render_figure refuses a figure whose ink touches the border.
VIEWBOX = {"x": -1100, "y": -300, "width": 3500, "height": 3600}
NOT_HEADS = {"Cyclops", "Monster", "DocShield"}  # one eye / no face: no COCO eyes to label


def piece_names(pkg: Path, rel: str) -> list[str]:
    text = (pkg / "lib/peeps" / rel / "z_options.d.ts").read_text()
    return [n for n in re.findall(r"^    (\w+):", text, flags=re.M) if n not in NOT_HEADS]


def pick_pieces(pkg: Path, rng: np.random.Generator) -> list[dict]:
    """``FIGURES`` with a head each: hair and face drawn without repeats, sometimes a beard or glasses."""
    hair = rng.permutation(piece_names(pkg, "hair"))
    faces = rng.permutation(piece_names(pkg, "face"))
    beards = [b for b in piece_names(pkg, "facialHair") if b != "None"]
    accessories = [a for a in piece_names(pkg, "accessories") if a != "None"]
    out = []
    for i, (body, mirror) in enumerate(FIGURES):
        pieces = {"body": body, "hair": str(hair[i % len(hair)]), "face": str(faces[i % len(faces)]),
                  "facialHair": str(rng.choice(beards)) if rng.random() < 0.25 else None,
                  "accessory": str(rng.choice(accessories)) if rng.random() < 0.25 else None,
                  "mirror": mirror}
        out.append(pieces)
    return out


def fetch_peeps(workdir: Path) -> Path:
    """``npm pack`` the package into ``workdir`` and return its unpacked directory."""
    subprocess.run(["npm", "pack", f"react-peeps@{PEEPS_VERSION}"], cwd=workdir, check=True, capture_output=True)
    tgz = next(workdir.glob("react-peeps-*.tgz"))
    subprocess.run(["tar", "xzf", tgz.name], cwd=workdir, check=True)
    return workdir / "package"


def render_figure(svg: Path, mirror: bool) -> np.ndarray:
    """SVG -> ``H, W`` uint8 grey (255 = paper): the ink cropped, longer side ``SIZE - 2 * MARGIN``,
    padded by ``MARGIN`` of white, flipped left-right when ``mirror``."""
    import cairosvg  # render-only dependency

    grey = Image.open(io.BytesIO(cairosvg.svg2png(url=str(svg), background_color="white"))).convert("L")
    ink = 255 - np.asarray(grey)
    ys, xs = np.nonzero(ink > 255 * INK)
    if ys.min() == 0 or xs.min() == 0 or ys.max() == ink.shape[0] - 1 or xs.max() == ink.shape[1] - 1:
        raise ValueError(f"{svg.name}: the figure touches the viewBox border; widen VIEWBOX")
    crop = Image.fromarray(ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    scale = (SIZE - 2 * MARGIN) / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    if mirror:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    out = np.zeros((crop.height + 2 * MARGIN, crop.width + 2 * MARGIN), np.uint8)
    out[MARGIN:MARGIN + crop.height, MARGIN:MARGIN + crop.width] = np.asarray(crop)
    return 255 - out


def new_set(specs: list[dict], sizes: list[tuple[int, int]], seed: int) -> dict:
    """A COCO person-keypoints dict for the figures, annotations still unlabelled."""
    from rig2sketch.skeleton import COCO_KEYPOINTS, COCO_SKELETON

    images = [{"id": i + 1, "file_name": f"peeps_{i:02d}.png", "width": w, "height": h, "license": CC0["id"],
               "pieces": p} for i, (p, (w, h)) in enumerate(zip(specs, sizes))]
    anns = [{"id": im["id"], "image_id": im["id"], "category_id": 1, "iscrowd": 0, "view": "front",
             "keypoints": [0] * 51, "num_keypoints": 0, "bbox": [0, 0, 0, 0], "area": 0} for im in images]
    return {
        "info": {"description": "Open Peeps drawings of people, 17 COCO keypoints labelled by hand",
                 "version": "1.0", "year": 2026, "contributor": "rig2sketch",
                 "url": "https://www.openpeeps.com/",
                 "source": f"Open Peeps by Pablo Stanley (CC0 1.0) via npm react-peeps@{PEEPS_VERSION}",
                 "generator": "scripts/make_drawing_set.py", "seed": seed},
        "licenses": [CC0], "images": images, "annotations": anns,
        "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_KEYPOINTS),
                        "skeleton": [[a + 1, b + 1] for a, b in COCO_SKELETON]}],
    }


def dumps(data: dict) -> str:
    """JSON with one keypoint triple per line, so the hand-written labels stay readable and diffable."""
    text = json.dumps(data, indent=1)

    def triples(m: re.Match) -> str:
        nums = [n.strip() for n in m.group(2).split(",")]
        rows = [", ".join(nums[i:i + 3]) for i in range(0, len(nums), 3)]
        return m.group(1) + "[\n    " + ",\n    ".join(rows) + "\n   ]"

    text = re.sub(r'("keypoints": )\[([-\d.,\s]+)\]', triples, text)
    one_line = lambda m: m.group(1) + "[" + ", ".join(n.strip() for n in m.group(2).split(",")) + "]"  # noqa: E731
    return re.sub(r'("bbox": )\[([-\d.,\s]+)\]', one_line, text) + "\n"


def write_json(path: Path, data: dict) -> None:
    from rig2sketch.atomic import write_text_atomic

    write_text_atomic(path, dumps(data))


def render(args: argparse.Namespace) -> None:
    path = args.out / JSON_NAME
    data = json.loads(path.read_text()) if path.exists() else None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pkg = args.peeps_dir or fetch_peeps(tmp)
        specs = [im["pieces"] for im in data["images"]] if data else pick_pieces(pkg, np.random.default_rng(args.seed))
        svg_specs = [{"id": f"f{i}", "viewBox": VIEWBOX, **s} for i, s in enumerate(specs)]
        (tmp / "specs.json").write_text(json.dumps(svg_specs))
        subprocess.run(["node", str(ROOT / "scripts/peeps_to_svg.js"), str(pkg), str(tmp / "svg"),
                        str(tmp / "specs.json")], check=True, capture_output=True)
        figures = [render_figure(tmp / "svg" / f"f{i}.svg", s.get("mirror", False)) for i, s in enumerate(specs)]
    from rig2sketch.atomic import atomic_path

    sizes = [(f.shape[1], f.shape[0]) for f in figures]
    if data:  # the labels are in these pixels: a different size would silently misplace them
        resized = [(im, size) for im, size in zip(data["images"], sizes) if (im["width"], im["height"]) != size]
        for im, size in resized:
            if any(data["annotations"][data["images"].index(im)]["keypoints"][2::3]):
                sys.exit(f"{im['file_name']}: rendered {size}, labelled at {(im['width'], im['height'])}")
            im["width"], im["height"] = size  # an unlabelled figure may still change
        if resized:
            write_json(path, data)
    else:
        data = new_set(specs, sizes, args.seed)
        write_json(path, data)
    for im, fig in zip(data["images"], figures):
        with atomic_path(image_path(args.out / "images", im)) as tmp_png:
            Image.fromarray(fig).save(tmp_png, optimize=True)
    print(f"wrote {len(figures)} images to {args.out / 'images'}", file=sys.stderr)


# ---------------------------------------------------------------- checking
def image_path(folder: Path, im: dict) -> Path:
    """``folder`` / the image's ``file_name``, which comes from the JSON: a plain name, never a path."""
    from rig2sketch.safe_paths import check_name

    return folder / check_name(im["file_name"], f"{JSON_NAME} file_name", fix="use a plain file name")


def ink_box(grey: np.ndarray) -> list[int]:
    """Tight ``x, y, w, h`` of the ink (pixels darker than ``INK``), whole pixels."""
    ys, xs = np.nonzero(grey < 255 * (1 - INK))
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def problems(data: dict, images_dir: Path) -> list[str]:
    """Everything wrong with the set; empty when it is consistent."""
    out = []
    for im, ann in zip(data["images"], data["annotations"]):
        name = im["file_name"]
        grey = np.asarray(Image.open(image_path(images_dir, im)).convert("L"))
        if grey.shape != (im["height"], im["width"]):
            out.append(f"{name}: image is {grey.shape[::-1]}, JSON says {(im['width'], im['height'])}")
        if ann["image_id"] != im["id"]:
            out.append(f"{name}: annotation {ann['id']} is for image {ann['image_id']}")
        kp = np.asarray(ann["keypoints"], float).reshape(-1, 3)
        if kp.shape != (17, 3) or not set(kp[:, 2]) <= {0, 1, 2}:
            out.append(f"{name}: keypoints are not 17 (x, y, v) with v in 0/1/2")
            continue
        if ann["bbox"] != ink_box(grey):
            out.append(f"{name}: bbox {ann['bbox']} is not the ink box {ink_box(grey)}")
        x, y, w, h = ann["bbox"]
        lab = kp[kp[:, 2] > 0]
        if ann["num_keypoints"] != len(lab) or ann["area"] != w * h:
            out.append(f"{name}: num_keypoints/area do not match keypoints/bbox")
        if ((kp[:, 2] == 0) & (kp[:, :2] != 0).any(1)).any():
            out.append(f"{name}: v=0 points must be 0, 0")
        if len(lab) and ((lab[:, :2] < 0) | (lab[:, :2] > (im["width"], im["height"]))).any():
            out.append(f"{name}: a keypoint lies outside the image")
        grow_x, grow_y = 0.05 * w, 0.05 * h  # the box grown by 10% must hold every labelled point
        if len(lab) and ((lab[:, 0] < x - grow_x) | (lab[:, 0] > x + w + grow_x)
                         | (lab[:, 1] < y - grow_y) | (lab[:, 1] > y + h + grow_y)).any():
            out.append(f"{name}: a keypoint lies outside the person box")
        if ann.get("view") not in ("front", "back", "side"):
            out.append(f"{name}: view must be front, back or side")
    return out


def overlay(grey: np.ndarray, kp: np.ndarray, scale: int = 3) -> np.ndarray:
    """``scale``x RGB overlay: a 16-px grid labelled in image pixels, the skeleton, joint indices."""
    import cv2

    from rig2sketch.drawing import draw_pose

    big = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    rgb = np.repeat(big[..., None], 3, 2)
    rgb = (255 - (255 - rgb.astype(np.int32)) * 0.55).astype(np.uint8)  # fade the ink under the labels
    for v in range(0, max(grey.shape) + 1, 16):
        colour = (150, 200, 150) if v % 64 else (90, 170, 90)
        cv2.line(rgb, (v * scale, 0), (v * scale, rgb.shape[0]), colour, 1)
        cv2.line(rgb, (0, v * scale), (rgb.shape[1], v * scale), colour, 1)
        cv2.putText(rgb, str(v), (v * scale + 1, 9), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 120, 0), 1)
        cv2.putText(rgb, str(v), (1, v * scale - 2), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 120, 0), 1)
    big_kp = kp.copy()
    big_kp[:, :2] *= scale
    rgb = draw_pose(rgb, big_kp, radius=4)
    for i, (x, y, v) in enumerate(big_kp):
        if v > 0:
            cv2.putText(rgb, str(i), (int(x) + 5, int(y) - 4), cv2.FONT_HERSHEY_PLAIN, 0.9, (200, 0, 0), 1)
    return rgb


def check(args: argparse.Namespace) -> None:
    path = args.out / JSON_NAME
    data = json.loads(path.read_text())
    images_dir = args.out / "images"
    if args.fix_boxes:  # only the derived fields; the keypoints are the hand labels and stay as they are
        for im, ann in zip(data["images"], data["annotations"]):
            ann["bbox"] = ink_box(np.asarray(Image.open(image_path(images_dir, im)).convert("L")))
            ann["area"] = ann["bbox"][2] * ann["bbox"][3]
            ann["num_keypoints"] = int(sum(v > 0 for v in ann["keypoints"][2::3]))
        write_json(path, data)
    found = problems(data, images_dir)
    if args.overlays:
        import cv2

        from rig2sketch.drawing import grid

        args.overlays.mkdir(parents=True, exist_ok=True)
        tiles, labels = [], []
        for im, ann in zip(data["images"], data["annotations"]):
            grey = np.asarray(Image.open(image_path(images_dir, im)).convert("L"))
            rgb = overlay(grey, np.asarray(ann["keypoints"], np.float32).reshape(-1, 3))
            cv2.imwrite(str(image_path(args.overlays, im)), rgb[..., ::-1])
            tiles.append(rgb)
            mirrored = " (m)" if im["pieces"].get("mirror") else ""
            labels.append(f"{im['file_name'][:-4]} {im['pieces']['body']}{mirrored}")
        sheet = grid(tiles, 6, cell=320, labels=labels)
        cv2.imwrite(str(args.overlays / "sheet.png"), sheet[..., ::-1])
    print("\n".join(found) or f"{len(data['annotations'])} annotations OK", file=sys.stderr)
    sys.exit(1 if found else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["render", "check"])
    ap.add_argument("--out", type=Path, default=SET_DIR)
    ap.add_argument("--peeps-dir", type=Path, default=None, help="an unpacked react-peeps package (skips npm pack)")
    ap.add_argument("--seed", type=int, default=20261204, help="heads of a new set (render without a JSON)")
    ap.add_argument("--overlays", type=Path, default=None, help="check: write overlays and sheet.png here")
    ap.add_argument("--fix-boxes", action="store_true", help="check: recompute bbox, area, num_keypoints")
    args = ap.parse_args()
    (render if args.command == "render" else check)(args)


if __name__ == "__main__":
    main()

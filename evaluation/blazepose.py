"""BlazePose GHUM (full) as a zero-shot baseline: the landmark model run on the box crop.

MediaPipe's own person detector finds nobody in line drawings, so the detector is skipped:
the landmark network (``pose_landmark_full.tflite`` from ``mediapipe==0.10.21``, Apache-2.0,
bundled in ``data/weights/blazepose/``) runs directly on the dataset's box, squared and grown
x1.25 as MediaPipe's ROI is, through a TFLite interpreter (``ai-edge-litert``).

Model contract (MediaPipe ``pose_landmark_by_roi_cpu`` graph): input ``1, 256, 256, 3`` RGB
float in [0, 1]; output ``Identity`` ``1, 195`` = 39 landmarks x (x, y, z, visibility,
presence) with x, y in input pixels and visibility/presence as logits; ``Identity_1`` the pose
presence score. The first 33 landmarks are the BlazePose topology; left = the person's left,
as in COCO.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from evaluation import topdown
from rig2sketch.skeleton import COCO_KEYPOINTS

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "weights" / "blazepose" / "pose_landmark_full.tflite"
WHEEL_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
INPUT_SIZE = 256

# BlazePose's 33 landmark names, in its output order.
BLAZEPOSE_LANDMARKS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)

# For each COCO-17 keypoint (COCO order), the BlazePose landmark of the same name.
COCO_FROM_BLAZEPOSE: tuple[int, ...] = tuple(BLAZEPOSE_LANDMARKS.index(name) for name in COCO_KEYPOINTS)


def extract_from_wheel(wheel: str | Path, out: str | Path = DEFAULT_MODEL) -> Path:
    """Copy the landmark model out of a mediapipe wheel (``pip download --no-deps
    mediapipe==0.10.21``) without installing mediapipe."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        data = z.read(WHEEL_MEMBER)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"  # Apache-2.0; ships lite, full and heavy


def extract_from_npm(tarball: str | Path, variants: tuple[str, ...] = ("lite", "heavy"),
                     out_dir: str | Path = DEFAULT_MODEL.parent) -> list[Path]:
    """Copy ``pose_landmark_<variant>.tflite`` out of ``npm pack {NPM_PACKAGE}``'s tarball
    (the optional setup step ``make blazepose-models``); the files are not kept in git."""
    import tarfile

    out_dir = Path(out_dir)
    written = []
    with tarfile.open(tarball, "r:gz") as tar:
        for variant in variants:
            member = f"package/pose_landmark_{variant}.tflite"
            try:
                data = tar.extractfile(member).read()
            except KeyError as err:
                raise FileNotFoundError(f"{tarball} has no {member}; pack {NPM_PACKAGE}") from err
            path = out_dir / f"pose_landmark_{variant}.tflite"
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            written.append(path)
    return written


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class BlazePose:
    """A loaded landmark model. ``predict(image, bbox)`` -> COCO-17 ``17, 3`` (x, y, score)."""

    def __init__(self, model_path: str | Path = DEFAULT_MODEL, border_value: int = 0, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        if not Path(model_path).is_file():
            raise FileNotFoundError(
                f"BlazePose model {model_path} is missing; extract it with evaluation.blazepose.extract_from_wheel "
                "from `pip download --no-deps mediapipe==0.10.21`")
        self.interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.landmarks_index = outputs["Identity"]
        self.flag_index = outputs["Identity_1"]
        self.border_value = border_value

    def landmarks(self, image: np.ndarray, bbox: np.ndarray) -> tuple[np.ndarray, float]:
        """All 39 landmarks ``39, 5`` (x, y in image pixels, z, visibility, presence as
        probabilities) and the pose presence score, for the person in ``bbox`` (x, y, w, h)."""
        center, size = topdown.box_to_center_size(bbox, 1.0, 1.25)
        M = topdown.crop_matrix(center, size, (INPUT_SIZE, INPUT_SIZE))
        crop = topdown.warp_image(topdown.to_rgb(image), M, (INPUT_SIZE, INPUT_SIZE), self.border_value)
        self.interpreter.set_tensor(self.input_index, (crop.astype(np.float32) / 255.0)[None])
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.landmarks_index).reshape(-1, 5).astype(np.float64)
        flag = float(self.interpreter.get_tensor(self.flag_index).reshape(-1)[0])
        out = raw.copy()
        out[:, :2] = topdown.transform_points(topdown.invert(M), raw[:, :2])
        out[:, 3:5] = _sigmoid(raw[:, 3:5])
        return out, flag

    def predict(self, image: np.ndarray, bbox: np.ndarray) -> np.ndarray:
        """COCO-17 keypoints ``17, 3`` (x, y, score = landmark visibility probability)."""
        lm, _ = self.landmarks(image, bbox)
        picked = lm[list(COCO_FROM_BLAZEPOSE)]
        return np.stack([picked[:, 0], picked[:, 1], picked[:, 3]], -1).astype(np.float32)


def predict_records(records: list, model: BlazePose | None = None) -> np.ndarray:
    """BlazePose COCO-17 predictions ``N, 17, 3`` for evaluation records (``evaluation.data``)."""
    from evaluation.data import read_image

    model = model or BlazePose()
    return np.stack([model.predict(read_image(r), r.bbox) for r in records])

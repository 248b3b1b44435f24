#!/usr/bin/env bash
# Rebuild the bundled figure-keeping multistyle generator, data/weights/multistyle/figure/generator.safetensors:
# Magenta's generator fine-tuned so the pose network still reads the labelled figure (stylizers/multistyle_figure.py).
# lena, milo, nora and kofi are never rendered for it, and the styles pencil_hb, charcoal, ink_wash and scribble
# are left out of its style bank: they are the held-out renders and styles of benchmarks/RESULTS.md ("Keeping the
# figure"). CPU: ~9 min of renders, 35 min of training on 2 shared cores (MODEL_CARD.md). Usage:
#   bash scripts/bundled_multistyle_figure.sh [WORK_DIR]      (default runs/multistyle_figure)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-runs/multistyle_figure}
R2S=".venv/bin/rig2sketch"
# 1. Content: 360 renders of 10 bundled characters at 512 px (8 clips x 2 random frames and 6 sampled poses,
#    2 sampled cameras each), depth_normal.
$R2S render renderer=sampled out="$W/train512" renderer.width=512 renderer.height=512 renderer.camera.count=2 \
  "renderer.characters=[ada,ben,chloe,dev,eli,fay,gus,hana,ivan,june]" \
  "renderer.motions=[idle,run,kick,dance,crouch,stretch,jump,bow,random_poses:6]" renderer.frames.random=2 \
  renderer.frames.max_frames=0 seed=22
# 2. Styles: the bundled bank without the four held-out styles.
PYTHONPATH=. .venv/bin/python - "$W/train_styles" <<'PY'
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from stylizers.style_bank import StyleBank

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
bank = StyleBank.open("bundled")
for sid in bank.ids():
    if sid not in ("pencil_hb", "charcoal", "ink_wash", "scribble"):
        Image.fromarray((bank.load(sid, 256) * 255).astype(np.uint8)).save(out / f"{sid}.png")
PY
# 3. Fine-tune from Magenta's weights: pose term (MediaPipe's BlazePose full) x4 + teacher L1 x1, no VGG terms.
#    The bundled run stopped at its 35-minute limit after 301 steps.
$R2S train-stylizer stylizer=multistyle train.out="$W/run" "train.content=[$W/train512]" \
  train.style_bank="$W/train_styles" train.pose_weight=4 train.teacher_weight=1 train.content_weight=0 \
  train.style_weight=0 "train.alpha_range=[0.5,1]" "train.figure_size=[128,448]" train.lr=2e-4 train.batch_size=4 \
  train.threads=2 train.steps=3000 train.max_minutes=35 train.log_every=25
# 4. Pack in fp16 (the loader converts back to fp32).
PYTHONPATH=. .venv/bin/python -c "
from safetensors import safe_open
from safetensors.torch import save_file
with safe_open('$W/run/generator.safetensors', 'pt') as f:
    state = {k: f.get_tensor(k).half().contiguous() for k in f.keys()}
    save_file(state, 'data/weights/multistyle/figure/generator.safetensors', f.metadata())"

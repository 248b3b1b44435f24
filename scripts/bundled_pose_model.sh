#!/usr/bin/env bash
# Rebuild predict's default model, data/weights/blazepose_r2s/rig2sketch_blazepose_full.safetensors: MediaPipe's
# BlazePose full fine-tuned on rig2sketch's own renders of 11 bundled characters (lena, milo and nora are
# never rendered for training: they are the held-out test characters of benchmarks/RESULTS.md, "Data value").
# CPU: ~20 min of renders, ~13 min of stylizing, ~55 min of training on 2 cores (MODEL_CARD.md). Usage:
#   bash scripts/bundled_pose_model.sh [WORK_DIR]      (default runs/pose_model)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-runs/pose_model}
R2S=".venv/bin/rig2sketch"
TRAIN="[ada,ben,chloe,dev,eli,fay,gus,hana,ivan,june,kofi]"
CLIPS="[idle,walk,run,jump,sit,crouch,kneel,wave,point,punch,kick,dance,stretch,fall,crawl,cheer,bow]"
SAMPLED="renderer=sampled renderer.camera.count=2 renderer.frames.step=1 renderer.frames.random=0 renderer.frames.max_frames=0"
# 1. Data: 5,500 sampled poses (150 + 100 per character x 2 sampled cameras, two seeds) and 2,244 clip frames
#    (all 17 clips, 6 random frames x 2 sampled cameras, heavier lines), depth_normal contours, 256 px.
$R2S render $SAMPLED "renderer.characters=$TRAIN" "renderer.motions=[random_poses:150]" seed=1 out="$W/train_poses"
$R2S render $SAMPLED "renderer.characters=$TRAIN" "renderer.motions=[random_poses:100]" seed=3 out="$W/train_poses2"
$R2S render renderer=sampled "renderer.characters=$TRAIN" "renderer.motions=$CLIPS" renderer.camera.count=2 \
  renderer.frames.random=6 renderer.frames.max_frames=0 renderer.line_px=2.2 seed=2 out="$W/train_clips"
# 2. Two drawn-looking copies of the first 3,300 poses, every bundled style: Magenta's multistyle as released
#    (alpha 0.7) and the bundled figure-keeping multistyle (alpha 1, the stylizer's default).
$R2S stylize dataset="$W/train_poses" out="$W/train_poses_ms" stylizer=multistyle stylizer.weights=pretrained \
  stylizer.alpha=0.7
$R2S stylize dataset="$W/train_poses" out="$W/train_poses_fig" stylizer=multistyle seed=5
# 3. One stage from MediaPipe's weights: plain L1 on the 17 keypoints (left/right as labelled), first 15 layers
#    frozen, lr 1e-4 (100 warm-up steps, cosine to 1%), 5,000 steps of 16 (the recipe's defaults).
DATA="[$W/train_poses,$W/train_clips,$W/train_poses_ms,$W/train_poses2,$W/train_poses_fig]"
$R2S train evaluation@_global_=train_blazepose "datasets=$DATA" "holdout.characters=[kofi]" max_val_samples=240 \
  out_dir="$W/ft" max_steps=5000 epochs=50 log_every_steps=50
# 4. Pack as an fp16 delta of the pretrained network (the unchanged tensors come from the bundled .tflite),
#    blended with it in weight space: BLEND (default 0.7) x the fine-tune's change, which gives back most of the
#    pretrained skill on real drawings for 0.01-0.03 AP on renders (MODEL_CARD.md).
PYTHONPATH=. .venv/bin/python -c "from evaluation.checkpoints import save_delta; \
save_delta('$W/ft/model.safetensors', 'data/weights/blazepose_r2s/rig2sketch_blazepose_full.safetensors', \
blend=${BLEND:-0.7})"

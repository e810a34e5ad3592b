# The README's two commands. Each first runs tools/setup_env.sh for the tasks
# it needs, which creates the virtual environment $(VENV) on the first run,
# adds a task's packages when one is missing, and returns in about a second
# afterwards. A venv set up for one task (setup_env.sh --task ...) keeps it;
# the test suite needs every task.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export OFF_VENV := $(abspath $(VENV))

.PHONY: setup demo test test-gpu matrix demo-restoration demo-detection lint

setup:
	@bash tools/setup_env.sh

# Action recognition on embedded motion videos (MMAction2).
demo:
	@bash tools/setup_env.sh --task recognition
	$(PYTHON) demo/motion_demo.py

# Two pytest workers (pytest-xdist), one file each at a time: a file's
# module fixtures run once. One torch thread per process: two workers and
# their subprocesses on 2 cores, more threads only contend (9 min -> 7.5).
test:
	@bash tools/setup_env.sh --task all
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest tests -n 2 --dist loadfile

# Video compression artifact removal on embedded real clips (MMagic).
demo-restoration:
	@bash tools/setup_env.sh --task restoration
	$(PYTHON) demo/restoration_demo.py

# Video object detection on embedded real photographs and clips (MMDetection).
demo-detection:
	@bash tools/setup_env.sh --task detection
	$(PYTHON) demo/detection_demo.py

# The whole GPU path in one call, on a machine with CUDA: the tests marked
# gpu (mmcv ops on CUDA against the CPU, one training iteration of each demo
# config, two processes on NCCL where two GPUs exist), then the three demos,
# which train and test on the GPU. Skipped tests print their reason.
test-gpu:
	@bash tools/setup_env.sh --task all
	@$(PYTHON) -c "import sys, torch; sys.exit(None if torch.cuda.is_available() else 'make test-gpu: no CUDA GPU visible to torch')"
	$(PYTHON) -m pytest tests -m gpu -rs
	$(PYTHON) demo/motion_demo.py
	$(PYTHON) demo/detection_demo.py
	$(PYTHON) demo/restoration_demo.py

# The set-up and the fast tests on Python 3.10-3.13, one venv each (long:
# each downloads its own torch). PYTHONS="3.12 3.13" for some of them.
PYTHONS ?= 3.10 3.11 3.12 3.13
matrix:
	bash tools/python_matrix.sh $(PYTHONS)

# The documentation (docs/, Sphinx + MyST) into docs/_build/html, from a
# small venv of its own, $(DOCS_VENV), made on the first run (pins in
# requirements/constraints.txt). Warnings are errors. Then every relative
# link of README.md and docs/ must name an existing file (docs/check_links.py).
DOCS_VENV ?= .venv-docs
DOCS_PYTHON ?= python3
.PHONY: docs
docs:
	@test -x $(DOCS_VENV)/bin/sphinx-build || { \
	  $(DOCS_PYTHON) -m venv $(DOCS_VENV) && \
	  $(DOCS_VENV)/bin/python -m pip install -q \
	    -c requirements/constraints.txt -r requirements/docs.txt; }
	$(DOCS_VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
	$(DOCS_VENV)/bin/python docs/check_links.py

# The checks of .pre-commit-config.yaml (flake8, isort, yapf, codespell,
# end of files, trailing whitespace) on every file, from a small venv of
# its own, $(LINT_VENV), made on the first run; pre-commit builds one more
# per tool (in ~/.cache/pre-commit). A check that fails shows its diff;
# the fixers (isort, yapf, whitespace) have then fixed the files.
LINT_VENV ?= .venv-lint
lint:
	@test -x $(LINT_VENV)/bin/pre-commit || { \
	  $(DOCS_PYTHON) -m venv $(LINT_VENV) && \
	  $(LINT_VENV)/bin/python -m pip install -q \
	    -c requirements/constraints.txt pre-commit; }
	$(LINT_VENV)/bin/pre-commit run --all-files --show-diff-on-failure

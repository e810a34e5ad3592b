# The README's two commands. Each first runs tools/setup_env.sh for the tasks
# it needs, which creates the virtual environment $(VENV) on the first run,
# adds a task's packages when one is missing, and returns in about a second
# afterwards. A venv set up for one task (setup_env.sh --task ...) keeps it;
# the test suite needs every task.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export OFF_VENV := $(abspath $(VENV))

.PHONY: setup demo test demo-restoration demo-detection

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

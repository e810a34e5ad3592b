# The README's two commands. Both first run tools/setup_env.sh, which creates
# the virtual environment $(VENV) on the first run and returns in about a
# second afterwards.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export OFF_VENV := $(abspath $(VENV))

.PHONY: setup demo test demo-restoration demo-detection

setup:
	@bash tools/setup_env.sh

demo: setup
	$(PYTHON) tools/motion_demo.py

test: setup
	$(PYTHON) -m pytest tests

# Video compression artifact removal on embedded real clips (MMagic).
demo-restoration: setup
	$(PYTHON) tools/restoration_demo.py

# Video object detection on embedded real photographs and clips (MMDetection).
demo-detection: setup
	$(PYTHON) tools/detection_demo.py

#!/usr/bin/env bash
# Creates the project's virtual environment with the known-good OpenMMLab stack
# (see requirements/constraints.txt) and installs off_plugin in editable mode.
#
#   bash tools/setup_env.sh          # both README commands call this first
#   bash tools/setup_env.sh --task recognition   # one task only
#
# Tasks: recognition (MMAction2), detection (MMDetection), restoration
# (MMagic), all (the default). A task installs its host and what it imports
# (requirements/<task>.txt), none of the others. The choice is recorded in
# the venv ($VENV/.off_plugin_tasks) and later runs (make test, make demo)
# keep it; a later --task adds its task, --task all every task. Nothing is
# uninstalled: to narrow the choice, delete the venv.
#
# The first run takes 15-20 minutes, most of it compiling mmcv 2.1.0 from its
# sdist (pip caches the built wheel, so a re-created venv takes ~2 minutes). A
# second run with unchanged requirements returns in about a second: the venv
# records a fingerprint of the requirement files, setup.py, this script and
# the tasks.
#
# Environment: OFF_VENV (default: <repo>/.venv), PYTHON (default: python3),
# MAX_JOBS (parallel compile jobs for mmcv, default: number of cores),
# FORCE_CUDA=1 to build mmcv's CUDA ops on a machine with nvcc and a GPU.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OFF_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
REQ=$ROOT/requirements
STAMP=$VENV/.off_plugin_setup
TASKS_FILE=$VENV/.off_plugin_tasks
# requirements/mminstall.txt tags each task's host with the task's name
ALL_TASKS="recognition detection restoration"

usage() {
  echo "usage: bash tools/setup_env.sh [--task recognition|detection|restoration|all]"
}
ASKED=""
while (($#)); do
  case $1 in
    --task=*) ASKED+=" ${1#--task=}" ;;
    --task)
      if (($# < 2)); then usage >&2; exit 2; fi
      ASKED+=" $2"
      shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup_env: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for task in $ASKED; do
  if [[ " $ALL_TASKS all " != *" $task "* ]]; then
    echo "setup_env: unknown task '$task'" >&2
    usage >&2
    exit 2
  fi
done

# The tasks of this venv: those recorded (all if none are), widened by --task.
RECORDED=""
[[ -f $TASKS_FILE ]] && RECORDED=$(cat "$TASKS_FILE")
[[ -n $RECORDED || -n $ASKED ]] || RECORDED=$ALL_TASKS
TASKS=""
for task in $ALL_TASKS; do
  for chosen in $RECORDED $ASKED; do
    if [[ $chosen == "$task" || $chosen == all ]]; then
      TASKS+="${TASKS:+ }$task"
      break
    fi
  done
done

fingerprint() {
  { cat "$REQ"/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}"; echo "$TASKS"; } |
    sha256sum | cut -d' ' -f1
}

if [[ -f $STAMP && $(cat "$STAMP") == "$(fingerprint)" ]]; then
  echo "setup_env: $VENV is up to date (tasks: $TASKS)."
  exit 0
fi

STEP=""
HINT=""
step() {
  STEP=$1
  HINT=$2
  echo
  echo "==> setup_env: $STEP"
}
on_error() {
  {
    echo
    echo "setup_env: FAILED at step: $STEP"
    echo "  what to do: $HINT"
    echo "  Re-run 'bash tools/setup_env.sh' once fixed; finished steps are fast."
  } >&2
}
trap on_error ERR

pip_c() {
  "$VENV/bin/python" -m pip install --constraint "$REQ/constraints.txt" "$@"
}

# The lines of requirements/mminstall.txt for $TASKS: the untagged ones (every
# task's), `# mim` and the hosts of $TASKS.
mminstall() {
  local line tag
  while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    tag=""
    if [[ $line == *"#"* ]]; then
      tag=${line#*#}
      tag=${tag//[[:space:]]/}
    fi
    if [[ -z $tag || $tag == mim || " $TASKS " == *" $tag "* ]]; then
      echo "${line%%#*}"
    fi
  done <"$REQ/mminstall.txt"
}
TASK_REQS=()
for task in $TASKS; do TASK_REQS+=(-r "$REQ/$task.txt"); done
echo "setup_env: tasks: $TASKS (bash tools/setup_env.sh --task TASK adds one)"

step "check the Python interpreter ($PYTHON)" \
  "install CPython 3.9-3.12 with venv and headers (Debian: apt-get install python3-venv python3-dev), or point PYTHON at one."
"$PYTHON" - <<'EOF'
import sys
if not ((3, 9) <= sys.version_info[:2] <= (3, 12)):
    sys.exit(f'Python {sys.version.split()[0]} found; the stack needs 3.9-3.12.')
EOF

step "create the virtual environment $VENV" \
  "check that '$PYTHON -m venv' works (Debian: apt-get install python3-venv) and that $VENV is writable; delete a broken $VENV."
[[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
rm -f "$STAMP"
# recorded now, so that a re-run after a failure keeps the choice
echo "$TASKS" >"$TASKS_FILE"

step "install build tools (pip, setuptools < 81, wheel, ninja)" \
  "check access to the package index (pip's own message is above)."
pip_c --upgrade pip setuptools wheel ninja

step "install torch 2.13.0 and torchvision 0.28.0" \
  "check access to the package index and ~6 GB of free disk; a '+cpu' torch from a local wheel directory has no matching torchvision and is excluded on purpose."
pip_c torch torchvision

step "compile mmcv 2.1.0 from its sdist (about 10 minutes on 2 cores, once)" \
  "mmcv needs a C++ compiler and the Python headers (Debian: apt-get install build-essential python3-dev); the compiler's message is above. Set MAX_JOBS=1 if the machine runs out of memory."
MAX_JOBS=${MAX_JOBS:-$(nproc)} pip_c --no-build-isolation --no-deps mmcv

PACKAGES=$(mminstall | sed 's/[<>=!~; ].*//' | grep -vx mmcv | paste -sd, - |
  sed 's/,/, /g')
step "install the OpenMMLab packages ($PACKAGES) without their declared dependencies" \
  "check access to the package index (pip's own message is above)."
pip_c --no-deps -r <(mminstall)

step "install what off_plugin and the OpenMMLab packages import, ONNX export and ONNX Runtime, pytest, and mim's dependencies" \
  "a package could not be resolved within requirements/constraints.txt: pip's message above names it."
pip_c -r "$REQ/runtime.txt" "${TASK_REQS[@]}" -r "$REQ/deploy.txt" \
  -r "$REQ/mim.txt" -r "$REQ/tests.txt"

# mmengine, mmcv and albumentations ship cv2 through other opencv
# distributions; the contrib build (needed for TV-L1 optical flow) must own the
# cv2 files. All three are pinned to the same version.
step "make opencv-contrib-python own the cv2 package" \
  "check access to the package index."
pip_c --force-reinstall --no-deps opencv-contrib-python

# Editable install the way `mim` can find it (as `setup.py develop` did): the
# metadata (off_plugin.egg-info) and a .pth entry stay in the checkout, so
# `mim search/download/train` read the package's .mim/ (links to configs/,
# tools/, demo/, model-index.yml) from here. pip's own editable install (PEP
# 660) records the package under site-packages, where `mim` then looks in vain.
step "install off_plugin in editable mode" \
  "the message above comes from setup.py; check that $ROOT is writable."
"$VENV/bin/python" -m pip uninstall --yes --quiet off_plugin 2>/dev/null || true
(cd "$ROOT" && "$VENV/bin/python" setup.py --quiet egg_info)
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ROOT" >"$SITE/off_plugin.pth"

step "check that the stack imports" \
  "the traceback above names the module that failed; compare the installed versions ('$VENV/bin/pip list') with requirements/constraints.txt."
# shellcheck disable=SC2086  # one argument per task
"$VENV/bin/python" - $TASKS <<'EOF'
import importlib
import sys

import cv2
import mim.cli  # noqa: F401  (`mim train` / `mim test`)
import numpy
import onnxruntime  # noqa: F401  (the deploy extra)
import onnxscript  # noqa: F401
import torch

import off_plugin

tasks = sys.argv[1:]
hosts = dict(recognition='mmaction', detection='mmdet', restoration='mmagic')
for task in tasks:  # each applies the upstream fixes of its hosts
    importlib.import_module(f'off_plugin.{task}')
for task in tasks:
    importlib.import_module(f'{hosts[task]}.utils').register_all_modules(
        init_default_scope=False)
assert numpy.__version__.startswith('1.'), numpy.__version__
assert hasattr(cv2, 'optflow'), 'cv2 is not the opencv-contrib build'
print(f'torch {torch.__version__}, numpy {numpy.__version__}, '
      f'opencv {cv2.__version__}, off_plugin {off_plugin.__version__} '
      f'({", ".join(tasks)}): OK')
EOF

fingerprint >"$STAMP"
echo
echo "setup_env: done (tasks: $TASKS). Environment: $VENV"

#!/usr/bin/env bash
# Creates the project's virtual environment with the known-good OpenMMLab stack
# (see requirements/constraints.txt) and installs off_plugin in editable mode.
# Nothing is compiled: prebuilt wheels only.
#
#   bash tools/setup_env.sh          # both README commands call this first
#   bash tools/setup_env.sh --task recognition   # one task only
#   bash tools/setup_env.sh --mmcv-full          # compile mmcv's own ops
#
# Tasks: recognition (MMAction2), detection (MMDetection), restoration
# (MMagic), all (the default). A task installs its host and what it imports
# (requirements/<task>.txt), none of the others; every choice gets ONNX export
# and ONNX Runtime (requirements/deploy.txt), all the tasks also OpenVINO
# (requirements/openvino.txt: a 59 MB wheel that the test suite needs and no
# demo does). The choice is recorded in the venv ($VENV/.off_plugin_tasks)
# and later runs (make test, make demo) keep it; a later --task adds its
# task, --task all every task. Nothing is uninstalled: to narrow the choice,
# delete the venv.
#
# mmcv: mmcv-lite 2.1.0 (mmcv's Python files, no compiled extension) and
# off-mmcv-ext (mmcv_ext/: the mmcv._ext ops the project's configs call, nms,
# roi_align and roi_pool, on torchvision's prebuilt CPU and CUDA kernels).
# --mmcv-full compiles mmcv 2.1.0 from its sdist instead (about 15 minutes on
# 2 cores; needs a C++ compiler and the Python headers; FORCE_CUDA=1 and nvcc
# for its CUDA kernels), for configs that use mmcv's other ops (deformable
# convolution, rotated boxes, ...). Recorded in $VENV/.off_plugin_mmcv like
# the tasks; --mmcv-lite switches back.
#
# The first run takes about 2 minutes where torch's wheels are local (most
# of it downloads and unpacking). A second run with unchanged requirements
# returns in about a second: the venv records a fingerprint of the
# requirement files, setup.py, mmcv_ext/, this script, the tasks and the mmcv
# build.
#
# Environment: OFF_VENV (default: <repo>/.venv), PYTHON (default: python3;
# CPython 3.10-3.13), MAX_JOBS and FORCE_CUDA=1 for --mmcv-full.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OFF_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
REQ=$ROOT/requirements
STAMP=$VENV/.off_plugin_setup
TASKS_FILE=$VENV/.off_plugin_tasks
MMCV_FILE=$VENV/.off_plugin_mmcv
# requirements/mminstall.txt tags each task's host with the task's name
ALL_TASKS="recognition detection restoration"

usage() {
  echo "usage: bash tools/setup_env.sh [--task recognition|detection|restoration|all] [--mmcv-full|--mmcv-lite]"
}
ASKED=""
MMCV=""
while (($#)); do
  case $1 in
    --task=*) ASKED+=" ${1#--task=}" ;;
    --task)
      if (($# < 2)); then usage >&2; exit 2; fi
      ASKED+=" $2"
      shift ;;
    --mmcv-full) MMCV=full ;;
    --mmcv-lite) MMCV=lite ;;
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

# The mmcv build: as asked, else as recorded, else mmcv-lite.
if [[ -z $MMCV ]]; then
  MMCV=lite
  [[ -f $MMCV_FILE ]] && MMCV=$(cat "$MMCV_FILE")
fi

fingerprint() {
  {
    cat "$REQ"/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}"
    find "$ROOT/mmcv_ext" -type f \( -name '*.py' -o -name '*.toml' \
      -o -name '*.pth' \) -print0 | sort -z | xargs -0 cat
    echo "$TASKS $MMCV"
  } | sha256sum | cut -d' ' -f1
}

if [[ -f $STAMP && $(cat "$STAMP") == "$(fingerprint)" ]]; then
  echo "setup_env: $VENV is up to date (tasks: $TASKS; mmcv-$MMCV)."
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
    if [[ -z $tag || $tag == mim || $tag == "mmcv-$MMCV" ||
      " $TASKS " == *" $tag "* ]]; then
      echo "${line%%#*}"
    fi
  done <"$REQ/mminstall.txt"
}
TASK_REQS=()
for task in $TASKS; do TASK_REQS+=(-r "$REQ/$task.txt"); done
# OpenVINO (--backend openvino) for every task only: the test suite runs it;
# the venv of one task (make demo) does without its download.
OPENVINO_REQS=()
if [[ $TASKS == "$ALL_TASKS" ]]; then
  OPENVINO_REQS=(-r "$REQ/openvino.txt")
fi
echo "setup_env: tasks: $TASKS (bash tools/setup_env.sh --task TASK adds one); mmcv-$MMCV"

step "check the Python interpreter ($PYTHON)" \
  "install CPython 3.10-3.13 with venv (Debian: apt-get install python3-venv), or point PYTHON at one (PYTHON=python3.12 bash tools/setup_env.sh)."
"$PYTHON" - <<'EOF'
import sys
if not ((3, 10) <= sys.version_info[:2] <= (3, 13)):
    sys.exit(f'Python {sys.version.split()[0]} found; the stack needs 3.10-3.13 '
             '(torch 2.14 has no wheels for older ones; mmcv-lite 2.1.0 and '
             'the 2023 OpenMMLab releases are untested on newer ones).')
EOF

step "create the virtual environment $VENV" \
  "check that '$PYTHON -m venv' works (Debian: apt-get install python3-venv) and that $VENV is writable; delete a broken $VENV."
[[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
rm -f "$STAMP"
# recorded now, so that a re-run after a failure keeps the choice
echo "$TASKS" >"$TASKS_FILE"
echo "$MMCV" >"$MMCV_FILE"

step "install pip and setuptools < 81" \
  "check access to the package index (pip's own message is above)."
pip_c --upgrade pip setuptools wheel

step "install torch and torchvision (requirements/constraints.txt)" \
  "check access to the package index and ~6 GB of free disk."
pip_c torch torchvision

# mmcv-lite and mmcv own the same package folder (mmcv/): one at a time.
if [[ $MMCV == full ]]; then
  "$VENV/bin/python" -m pip uninstall --yes --quiet off-mmcv-ext mmcv-lite \
    2>/dev/null || true
  step "compile mmcv 2.1.0 from its sdist (about 15 minutes on 2 cores)" \
    "mmcv needs a C++ compiler and the Python headers (Debian: apt-get install build-essential python3-dev); the compiler's message is above. Set MAX_JOBS=1 if the machine runs out of memory; FORCE_CUDA=1 builds the CUDA kernels (needs nvcc)."
  # (found, not imported: mmcv imports mmengine, not installed yet)
  if "$VENV/bin/python" -c 'import glob, importlib.util, os.path as osp, sys
spec = importlib.util.find_spec("mmcv")
sys.exit(not (spec and glob.glob(osp.join(osp.dirname(spec.origin), "_ext*.so"))))' \
    2>/dev/null; then
    echo "setup_env: mmcv's compiled ops are installed; kept."
  else
    pip_c --upgrade pip setuptools wheel ninja
    # mmcv 2.1.0's setup.py asks for -std=c++17, but torch >= 2.14's headers
    # need C++20 ('#error C++20 or later compatible compiler is required'):
    # build a copy of the sdist that asks for C++20.
    SRC=$(mktemp -d)
    trap 'rm -rf "$SRC"' EXIT
    "$VENV/bin/python" -m pip download --constraint "$REQ/constraints.txt" \
      --no-build-isolation --no-deps --no-binary mmcv --dest "$SRC" mmcv
    tar -xzf "$SRC"/mmcv-*.tar.gz -C "$SRC"
    sed -i "s/-std=c++17/-std=c++20/g" "$SRC"/mmcv-*/setup.py
    MAX_JOBS=${MAX_JOBS:-$(nproc)} pip_c --no-build-isolation --no-deps \
      "$(echo "$SRC"/mmcv-*/)"
  fi
else
  if "$VENV/bin/python" -m pip show --quiet mmcv 2>/dev/null; then
    "$VENV/bin/python" -m pip uninstall --yes --quiet mmcv
  fi
  step "install mmcv-lite and off-mmcv-ext (mmcv._ext on torchvision's kernels)" \
    "check access to the package index (pip's own message is above); off-mmcv-ext is built from $ROOT/mmcv_ext with hatchling."
  pip_c --no-deps mmcv-lite
  pip_c --no-deps "$ROOT/mmcv_ext"
fi

PACKAGES=$(mminstall | sed 's/[<>=!~; ].*//' | grep -vx 'mmcv\(-lite\)\?' |
  paste -sd, - | sed 's/,/, /g')
step "install the OpenMMLab packages ($PACKAGES) without their declared dependencies" \
  "check access to the package index (pip's own message is above)."
pip_c --no-deps -r <(mminstall)

step "install what off_plugin and the OpenMMLab packages import, ONNX export and ONNX Runtime${OPENVINO_REQS[*]:+ and OpenVINO}, pytest, and mim's dependencies" \
  "a package could not be resolved within requirements/constraints.txt: pip's message above names it."
pip_c -r "$REQ/runtime.txt" "${TASK_REQS[@]}" -r "$REQ/deploy.txt" \
  ${OPENVINO_REQS[@]+"${OPENVINO_REQS[@]}"} -r "$REQ/mim.txt" \
  -r "$REQ/tests.txt"

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
# The second line: fixes that must precede a host's own import, in every
# process (off_plugin/startup.py).
printf '%s\n' "$ROOT" \
  'import off_plugin.startup; off_plugin.startup.install()' \
  >"$SITE/off_plugin.pth"

step "check that the stack imports" \
  "the traceback above names the module that failed; compare the installed versions ('$VENV/bin/pip list') with requirements/constraints.txt."
# shellcheck disable=SC2086  # one argument per task
"$VENV/bin/python" - $TASKS <<'EOF'
import importlib
import sys

import cv2
import mim.cli  # noqa: F401  (`mim train` / `mim test`)
import mmcv._ext
import mmcv.ops  # noqa: F401  (mmdet and mmagic import it at module level)
import numpy
import onnxruntime  # the deploy extra
import onnxscript  # noqa: F401
import torch

import off_plugin

tasks = sys.argv[1:]
hosts = dict(recognition='mmaction', detection='mmdet', restoration='mmagic')
runtimes = f'onnxruntime {onnxruntime.__version__}'
if set(tasks) == set(hosts):  # requirements/openvino.txt: every task only
    import openvino
    runtimes += f", openvino {openvino.__version__.split('-')[0]}"
for task in tasks:  # each applies the upstream fixes of its hosts
    importlib.import_module(f'off_plugin.{task}')
for task in tasks:
    importlib.import_module(f'{hosts[task]}.utils').register_all_modules(
        init_default_scope=False)
assert hasattr(cv2, 'optflow'), 'cv2 is not the opencv-contrib build'
ops = ('compiled' if mmcv._ext.__file__.endswith('.so') else
       "off-mmcv-ext on torchvision's kernels")
print(f'torch {torch.__version__}, numpy {numpy.__version__}, '
      f'opencv {cv2.__version__}, mmcv {mmcv.__version__} ops {ops}, '
      f'{runtimes}, off_plugin {off_plugin.__version__} '
      f'({", ".join(tasks)}): OK')
EOF

fingerprint >"$STAMP"
echo
echo "setup_env: done (tasks: $TASKS; mmcv-$MMCV). Environment: $VENV"

#!/usr/bin/env bash
# The set-up and the fast test tier on each supported Python, one venv each
# (.venv-py3.X beside .venv), then a table. Long: each Python downloads its
# own torch (about 3 GB installed) where the wheels are not local.
#
#   bash tools/python_matrix.sh                 # 3.10 3.11 3.12 3.13
#   bash tools/python_matrix.sh 3.12 3.13       # some of them
#
# A Python is python3.X on PATH, else pyenv's 3.X.* (pyenv's shims answer
# only for the selected versions). Each venv's log: .venv-py3.X.log. Exit
# status 1 if any Python failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSIONS=("$@")
((${#VERSIONS[@]})) || VERSIONS=(3.10 3.11 3.12 3.13)

find_python() {
  local candidate
  for candidate in "python$1" \
    "$(pyenv root 2>/dev/null)"/versions/"$1".*/bin/"python$1"; do
    if "$candidate" -V >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

declare -A RESULT
failed=0
for version in "${VERSIONS[@]}"; do
  venv=$ROOT/.venv-py$version
  log=$venv.log
  echo "==> Python $version: $venv (log: $log)"
  : >"$log"
  start=$SECONDS
  if ! python=$(find_python "$version"); then
    RESULT[$version]="no python$version found"
    failed=1
    continue
  fi
  if ! OFF_VENV=$venv PYTHON=$python \
    bash "$ROOT/tools/setup_env.sh" >>"$log" 2>&1; then
    RESULT[$version]="set-up FAILED after $((SECONDS - start)) s"
    failed=1
    continue
  fi
  setup=$((SECONDS - start))
  start=$SECONDS
  (cd "$ROOT" && OMP_NUM_THREADS=1 "$venv/bin/python" -m pytest tests \
    -m "not slow" -n 2 --dist loadfile -q -p no:cacheprovider) >>"$log" 2>&1
  status=$?
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|[0-9]+ (passed|failed).* in ' \
    "$log" | tail -1 | tr -d '=')
  version_line=$("$venv/bin/python" -c 'import platform, torch, numpy; print(
    f"CPython {platform.python_version()}, torch {torch.__version__}, "
    f"numpy {numpy.__version__}")')
  RESULT[$version]="$version_line; set-up ${setup} s; fast tier: ${summary} ($((SECONDS - start)) s)"
  ((status == 0)) || failed=1
done

echo
echo "Python matrix (set-up, then pytest -m 'not slow' -n 2):"
for version in "${VERSIONS[@]}"; do
  echo "  $version: ${RESULT[$version]}"
done
exit $failed

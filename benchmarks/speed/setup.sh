#!/usr/bin/env bash
# Install the peers into separate virtual environments under benchmarks/.venv-*
# (git-ignored); newsdedup itself is benchmarked from the project's .venv with
# the "fast" extra. Idempotent: an environment that already imports is kept.
#
#   bash benchmarks/speed/setup.sh
#
# text-dedup needs Python >= 3.12; the script looks for python3.12+ on PATH, then
# in pyenv's versions (or takes PEER_PY312).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
# A python3.12+ on PATH, else one that pyenv installed but has not activated
# (its shims fail with "command not found" for an inactive version).
find_py312() {
  local v p
  for v in python3.12 python3.13; do
    p="$(command -v "$v" 2>/dev/null)" && "$p" -c "" >/dev/null 2>&1 && { echo "$p"; return; }
  done
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    [ -x "$p" ] && "$p" -c "" >/dev/null 2>&1 && { echo "$p"; return; }
  done
  true
}
PY312="${PEER_PY312:-$(find_py312)}"
PIP_FLAGS="--disable-pip-version-check -q"

mkvenv() {  # name python import-check packages...
  local name="$1" py="$2" check="$3"; shift 3
  local dir="benchmarks/.venv-$name"
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
    echo "benchmarks/.venv-$name: ok"; return 0
  fi
  "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install $PIP_FLAGS "$@"
  "$dir/bin/python" -c "$check" && echo "benchmarks/.venv-$name: installed"
}

# newsdedup with its optional compiled fast path (numba).
.venv/bin/python -m pip install $PIP_FLAGS -e ".[fast]"
mkvenv datasketch "$PY" "import datasketch, xxhash" "datasketch==2.0.0" "xxhash>=3.0" "numpy"
mkvenv rensa "$PY" "import rensa" "rensa==0.5.0" "numpy"
mkvenv datatrove "$PY" "from datatrove.pipeline.dedup.minhash import MinhashDedupSignature" "datatrove[processing,io]==0.10.1" "spacy" "numpy" \
  || echo "datatrove: install failed (see above)"
if [ -n "$PY312" ]; then
  mkvenv textdedup "$PY312" "import text_dedup" "text-dedup==0.4.1" \
    || echo "text-dedup: install failed (see above)"
else
  echo "text-dedup: needs Python >= 3.12, none found (set PEER_PY312)"
fi

# Sourced by .ci/pdsim, .ci/test and .ci/run: find Python >= 3.12, make .venv, install the project.
# Works on a fresh machine: python3.12+ on PATH, or any 3.12+ that pyenv knows, or PDSIM_PYTHON=/path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PDSIM_VENV:-$ROOT/.venv}"
export SOLARA_TELEMETRY_MIXPANEL_ENABLE=False

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c v p
  for c in "${PDSIM_PYTHON:-}" python3.14 python3.13 python3.12 python3 python; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && python_ok "$c" && { command -v "$c"; return 0; }
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$)' | sort -t. -k2,2nr -k3,3nr); do
      p="$(PYENV_VERSION="$v" pyenv which python3 2>/dev/null)" && python_ok "$p" && { echo "$p"; return 0; }
    done
  fi
  return 1
}

# ensure_env EXTRAS: create the venv if needed and (re)install when pyproject.toml or the extras change.
ensure_env() {
  local extras="$1" py stamp want
  if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
    py="$(find_python)" || {
      echo "pdsim needs Python >= 3.12; none found on PATH or in pyenv. Install one, or set PDSIM_PYTHON=/path/to/python3.12" >&2
      exit 1
    }
    echo "pdsim: creating $VENV with $py" >&2
    "$py" -m venv "$VENV"
  fi
  stamp="$VENV/.pdsim-installed"
  want="$extras $(cksum < "$ROOT/pyproject.toml")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "pdsim: installing the project and its dependencies ($extras) into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]" >&2
    echo "$want" > "$stamp"
  fi
}

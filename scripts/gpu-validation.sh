#!/usr/bin/env bash
# The prepared GPU validation (docs/gpu.md), for a machine with a GPU and no network:
#
#     scripts/gpu-validation.sh --budget 480 -o OUT          # on the GPU machine, its own python3
#     scripts/gpu-validation.sh --smoke -o OUT                # anywhere: toy sizes on the CPU, about a minute
#
# Runs `python -m pdesuite gpu-validation` with this checkout on PYTHONPATH (no installation needed) and
# the interpreter in $PYTHON (default: python3). Refuses to start, with one line and exit status 2,
# where the interpreter lacks a package the run needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "gpu-validation: no Python interpreter '$python' (set PYTHON=/path/to/python3)" >&2
    exit 2
fi
missing=$("$python" - <<'PY'
import importlib.util
print(" ".join(n for n in ("numpy", "torch", "h5py", "scipy", "matplotlib", "tqdm") if importlib.util.find_spec(n) is None))
PY
)
if [ -n "$missing" ]; then
    echo "gpu-validation: $python lacks the package(s) $missing" >&2
    exit 2
fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec "$python" -m pdesuite gpu-validation "$@"

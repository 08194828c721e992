#!/usr/bin/env bash
# Create .venv-bench at the repo root with the pinned pandas/numpy used by
# scripts/bench/prepare_pandas.py (the pandas side of
# `cargo bench -p recalign-data --bench prepare`). Idempotent: reruns only
# install when the pinned versions are not already present.
#
# Usage: scripts/bench/setup-python.sh        (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail

PANDAS_VERSION=3.1.1
NUMPY_VERSION=2.4.6

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv-bench"
py="$venv/bin/python"

[[ -x "$py" ]] || "${PYTHON:-python3}" -m venv "$venv"

if ! "$py" - "$PANDAS_VERSION" "$NUMPY_VERSION" 2>/dev/null <<'PY'
import sys
import numpy, pandas
sys.exit(0 if (pandas.__version__, numpy.__version__) == tuple(sys.argv[1:3]) else 1)
PY
then
    "$py" -m pip install --quiet --disable-pip-version-check \
        "pandas==$PANDAS_VERSION" "numpy==$NUMPY_VERSION"
fi

echo "$py"

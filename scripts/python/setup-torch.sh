#!/usr/bin/env bash
# Create .venv-torch at the repo root with the pinned PyTorch / Hugging Face
# stack used by the T5 helper scripts:
#   - scripts/fixtures/t5_parity.py   (generates / checks the T5 parity fixture
#                                       committed under crates/t5/tests/fixtures)
#   - scripts/bench/t5_step_torch.py  (PyTorch side of the T5 training-step bench)
#   - scripts/hf/finetune.py          (fine-tunes a recalign model with HF's
#                                       Seq2SeqTrainer, which needs accelerate)
#
# Never used by CI: CI only reads the committed fixture files.
# Idempotent: only installs when the pinned versions are not already present.
# Note: PyPI has no CPU-only torch wheel; the default (CUDA) wheel set is
# ~2.7 GB and works fine on CPU-only machines.
#
# Usage: scripts/python/setup-torch.sh        (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail

TORCH_VERSION=2.15.0
TRANSFORMERS_VERSION=5.24.0
SAFETENSORS_VERSION=0.8.0
NUMPY_VERSION=2.4.6
ACCELERATE_VERSION=1.16.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv-torch"
py="$venv/bin/python"

[[ -x "$py" ]] || "${PYTHON:-python3}" -m venv "$venv"

if ! "$py" - "$TORCH_VERSION" "$TRANSFORMERS_VERSION" "$SAFETENSORS_VERSION" "$NUMPY_VERSION" \
    "$ACCELERATE_VERSION" 2>/dev/null <<'PY'
import sys
import accelerate, numpy, safetensors, torch, transformers
have = (torch.__version__.split("+")[0], transformers.__version__,
        safetensors.__version__, numpy.__version__, accelerate.__version__)
sys.exit(0 if have == tuple(sys.argv[1:6]) else 1)
PY
then
    "$py" -m pip install --quiet --disable-pip-version-check \
        "torch==$TORCH_VERSION" "transformers==$TRANSFORMERS_VERSION" \
        "safetensors==$SAFETENSORS_VERSION" "numpy==$NUMPY_VERSION" \
        "accelerate==$ACCELERATE_VERSION"
fi

echo "$py"

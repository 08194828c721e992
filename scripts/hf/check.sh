#!/usr/bin/env bash
# End-to-end check of scripts/hf/finetune.py on CPU, in a few minutes:
#   1. `recalign train` a tiny model for 20 steps on the embedded shop
#      (it writes its samples into WORK/base/samples);
#   2. finetune.py continues it for 20 steps with Seq2SeqTrainer into
#      WORK/tuned;
#   3. transformers reloads WORK/tuned and must find the saved tensors;
#   4. `recalign evaluate` reads WORK/tuned unchanged and reports retrieval
#      metrics on 100 test users (the base model's beside it).
#
# Not run in CI (CI has no Python). Reruns start afresh: WORK/base and
# WORK/tuned are replaced. On a busy machine, run it under `nice -n 19`.
#
# Usage: scripts/hf/check.sh [RECALIGN_BINARY] [WORK_DIR]
#   defaults: target/release/recalign, target/hf-check
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
recalign="$(realpath "${1:-$root/target/release/recalign}")"
work="$(realpath -m "${2:-$root/target/hf-check}")"
[[ -x "$recalign" ]] || { echo "check.sh: no recalign binary at $recalign" >&2; exit 1; }

py="$("$root/scripts/python/setup-torch.sh" | tail -n 1)"
mkdir -p "$work"
rm -rf "$work/base"

echo "== recalign train: tiny model, 20 steps"
"$recalign" -q train --preset tiny --max-steps 20 --valid-users 0 --out "$work/base"

echo "== finetune.py: 20 more steps with Seq2SeqTrainer"
"$py" "$root/scripts/hf/finetune.py" \
    --model "$work/base" \
    --samples "$work/base/samples/train.jsonl" \
    --valid "$work/base/samples/valid.jsonl" --valid-samples 256 \
    --out "$work/tuned" --overwrite \
    --max-steps 20 --batch-size 16 --lr 1e-3 --seed 42 \
    --warmup_steps 5 --logging_steps 5 --eval_steps 10 --disable_tqdm true

echo "== transformers reloads the tuned model"
"$py" - "$work/tuned" <<'PY'
import sys, torch
from safetensors.torch import load_file
from transformers import T5ForConditionalGeneration
path = sys.argv[1]
saved = load_file(f"{path}/model.safetensors")
loaded = T5ForConditionalGeneration.from_pretrained(path).state_dict()
differ = [name for name, tensor in saved.items() if not torch.equal(tensor, loaded[name])]
if differ:
    sys.exit(f"reloaded tensors differ from the file: {differ}")
print(f"{len(saved)} tensors reloaded unchanged")
PY

echo "== recalign evaluate: base"
"$recalign" -q evaluate --model "$work/base" --users 100
echo "== recalign evaluate: tuned"
"$recalign" -q evaluate --model "$work/tuned" --users 100 --report "$work/tuned-eval.json"
echo "check.sh: ok ($work/tuned)"

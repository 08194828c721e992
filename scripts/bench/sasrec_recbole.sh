#!/usr/bin/env bash
# SASRec training speed beside RecBole's, in one run on one machine: one
# epoch of recalign's SASRec (`cargo bench -p recalign-baselines --bench
# sasrec`) and EPOCHS epochs of RecBole's (scripts/bench/recbole_sasrec.py)
# on the same exported split, then the ratio of their median training-epoch
# times. Never run in CI: RecBole needs .venv-recbole (see recbole_sasrec.py).
#
# Usage: RECALIGN_DATA=../shared/data scripts/bench/sasrec_recbole.sh [beauty|sports|toys] [EPOCHS]
# Writes target/bench/sasrec-recbole.json.
#
# The epochs are not the same amount of work: recalign reads each user's
# training sequence once and predicts every position (22,363 sequences on
# Beauty); RecBole trains on every prefix as its own sample (about 131,000),
# predicting its last item. Both predict each training target once per epoch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

dataset="${1:-beauty}"
epochs="${2:-1}"
python=".venv-recbole/bin/python"
[[ -x "$python" ]] || { echo "no $python: see scripts/bench/recbole_sasrec.py" >&2; exit 2; }
[[ -n "${RECALIGN_DATA:-}" ]] || { echo "set RECALIGN_DATA" >&2; exit 2; }
RECALIGN_DATA="$(cd "$RECALIGN_DATA" && pwd)"
export RECALIGN_DATA

split="$(mktemp -d)"
trap 'rm -rf "$split"' EXIT
cargo run --release --quiet -- -q prepare -d "$dataset" --export "$split" >/dev/null

cargo bench -p recalign-baselines --bench sasrec -- "$dataset"
"$python" scripts/bench/recbole_sasrec.py "$split" --epochs "$epochs" \
    --out target/bench/recbole-sasrec.json

"$python" - "$dataset" <<'PY'
import json, statistics, sys

ours = json.load(open("target/bench/sasrec.json"))
theirs = json.load(open("target/bench/recbole-sasrec.json"))
a = statistics.median(ours["epoch_train_seconds"])
b = statistics.median(theirs["train_epoch_seconds"])
result = {
    "bench": "sasrec-recbole",
    "dataset": sys.argv[1],
    "recalign_epoch_seconds": a,
    "recbole_epoch_seconds": b,
    "speedup": b / a,
    "recalign_valid_seconds": ours["valid_seconds"],
    "recbole_valid_seconds": theirs["valid_epoch_seconds"],
}
text = json.dumps(result, indent=2)
print(text)
open("target/bench/sasrec-recbole.json", "w").write(text + "\n")
PY

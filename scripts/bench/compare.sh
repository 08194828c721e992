#!/usr/bin/env bash
# recalign beside the Python tools a user would otherwise pick, stage by
# stage, in one command:
#
#   dataset preparation (Beauty, Sports, Toys)  pandas          (prepare bench)
#   sample generation (Beauty, five tasks)      plain Python    (samples bench)
#   a T5 training step (tiny, small)            PyTorch + HF    (step bench)
#   constrained retrieval (tiny, small;         HF generate     (retrieval bench)
#     1, 16 and 64 users per batch)
#
# Each bench alternates its rounds between the two sides, each side in its
# own process, and records both sides' peak resident memory. The pinned
# Python sides are installed into their own virtual environments when
# missing (.venv-bench: pandas; .venv-torch: torch + transformers, about
# 3 GB from PyPI). Writes target/bench/compare.json and prints the table.
#
# Usage: scripts/bench/compare.sh [--quick] [--readme]
#   --quick   Beauty only, the tiny preset, fewer rounds and users: minutes.
#   --readme  also rewrite the README's performance table from this run.
# RECALIGN_DATA names the shared Amazon data (default: ../shared/data beside
# the repository). Run it on a quiet machine: other load slows PyTorch's
# threads far more than recalign's and would flatter the ratios. The script
# measures the CPU time other processes took during the benches (from
# /proc/stat, less the benches' own); above 5 % of the machine it warns, marks
# the JSON `"quiet": false`, and --readme refuses to rewrite the README.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

quick=0
readme=0
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        --readme) readme=1 ;;
        -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$arg' (--quick, --readme)" >&2; exit 2 ;;
    esac
done

export RECALIGN_DATA="${RECALIGN_DATA:-$root/../shared/data}"
if [[ ! -d $RECALIGN_DATA/beauty ]]; then
    echo "compare.sh: RECALIGN_DATA=$RECALIGN_DATA holds no beauty/; point it at the shared Amazon data" >&2
    exit 2
fi

echo "== Python sides" >&2
scripts/bench/setup-python.sh >/dev/null
scripts/python/setup-torch.sh >/dev/null

if ((quick)); then
    datasets=(beauty) prepare_rounds=3 samples_rounds=2
    step_presets=(tiny) step_rounds=1
    retrieval_args=(tiny --users 32 --batch 1,16 --rounds 1)
else
    datasets=(beauty sports toys) prepare_rounds=11 samples_rounds=5
    step_presets=(tiny small) step_rounds=3
    retrieval_args=(tiny small --batch 1,16,64 --rounds 3)
fi

bench_dir=target/bench
mkdir -p "$bench_dir"
rm -f "$bench_dir"/{prepare,samples,t5_step,retrieval}.json

# Build first, so that compiling is not counted as the benches' own CPU time.
echo "== building the benches" >&2
cargo bench --locked -q --no-run -p recalign-data -p recalign-samples -p recalign-train \
    -p recalign-recommend --bench prepare --bench samples --bench step --bench retrieval

benches() {
    echo "== dataset preparation" >&2
    RECALIGN_BENCH_REPEAT=$prepare_rounds cargo bench --locked -q -p recalign-data --bench prepare -- "${datasets[@]}"
    echo "== sample generation" >&2
    RECALIGN_BENCH_REPEAT=$samples_rounds cargo bench --locked -q -p recalign-samples --bench samples
    echo "== training step" >&2
    RECALIGN_BENCH_REPEAT=$step_rounds cargo bench --locked -q -p recalign-train --bench step -- "${step_presets[@]}" >/dev/null
    echo "== constrained retrieval" >&2
    cargo bench --locked -q -p recalign-recommend --bench retrieval -- "${retrieval_args[@]}" >/dev/null
}

# The whole machine's busy time (user, nice, system, irq, softirq) in clock
# ticks; its growth less the benches' own CPU time is what others took.
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
busy_start=$(busy_ticks)
wall_start=$(date +%s.%N)
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
TIMEFORMAT='%U %S'
{ time benches 2>&3; } 3>&2 2>"$cpu_file"
wall_end=$(date +%s.%N)
busy_end=$(busy_ticks)
read -r own_user own_sys <"$cpu_file"
load_args=(--busy-ticks "$((busy_end - busy_start))" --clock-ticks "$(getconf CLK_TCK)"
    --own-cpu "$(awk -v u="$own_user" -v s="$own_sys" 'BEGIN { print u + s }')"
    --wall "$(awk -v a="$wall_start" -v b="$wall_end" 'BEGIN { print b - a }')")

mode=full
((quick)) && mode=quick
readme_args=()
((readme)) && readme_args=(--readme README.md)
python3 scripts/bench/compare.py --bench-dir "$bench_dir" --mode "$mode" "${load_args[@]}" "${readme_args[@]}"

#!/usr/bin/env bash
# The prepared GPU check (issue 18, item 5): one call on a borrowed GPU
# machine, within 8 minutes, writing one JSON file to $OUT.
#
#   here:   scripts/gpu/build.sh          # stages gpu-stage/ (release, cuda)
#   there:  bash scripts/gpu/check.sh     # run with carry: ["gpu-stage"]
#   here:   scripts/gpu/check.sh --cpu    # the same stages, toy sizes, CPU
#
# Design. The GPU machine has CUDA, a driver and PyTorch + transformers but no
# Rust and no network, so everything Rust is built here by build.sh: the CLI
# and three small programs that already exist as benchmark or example
# targets, each given a `--device` option (and `--precision` where it
# matters), so no new Rust program was written for the GPU:
#   hf_reference  (crates/t5/examples)      our logits of a fixture
#   step          (crates/train/benches)    the training step, ours vs PyTorch
#   retrieval     (crates/recommend/benches) retrieval, ours vs HF generate
#   recalign      the CLI: train on Beauty, evaluate 2,000 test users
# Each program prints JSON; the PyTorch sides are the repository's scripts
# (scripts/bench/t5_step_torch.py, retrieval_hf.py, scripts/gpu/parity.py),
# run by the benches themselves or by this script with `--device`. This
# script only runs parts, each under its own time limit, and gathers what
# they print into $OUT/gpu-check.json; a part that cannot run says
# "skipped: <why>" there, a part that fails or runs out of time says so with
# the end of its log, and the other parts still run.
#
# `--cpu` runs the very same parts with the device `cpu` and toy sizes (the
# `tiny` preset, a few steps, few users), from a CPU debug stage that it
# builds with `build.sh --cpu` (into target/gpu-check/stage-cpu, so that it
# never touches gpu-stage/); its Python sides use .venv-torch when it exists
# (scripts/python/setup-torch.sh), else they are skipped. Only the sizes,
# the device, the stage and the interpreter differ between the two modes
# (see "Sizes" below).
#
# Parts (in this order; budget in seconds on the GPU, total 450 of the 8
# minutes, the rest for unpacking and slack; a part gets its own budget plus
# whatever earlier parts left unused):
#   env        nvidia-smi (full text and a CSV query), nvcc, Python, torch,
#              build.json of the stage                                     20
#   parity     per fixture: ours on the device in f32 and bf16 against the
#              committed reference (Rust alone), then HF on the same device
#              (parity.py): max abs logit differences                      50
#   step_f32   training step, small preset, batch 32 x 64/8, f32           70
#   step_bf16  the same in bf16 (ours: Precision::Bf16; PyTorch: autocast) 60
#   retrieval  small preset, 256 users, top 20 of 20 beams, 16 per batch  70
#   train      `recalign train -d beauty --preset small --device cuda
#              --max-steps 400` (checkpoints every 100 steps)             120
#   evaluate   `recalign evaluate ... --split test --users 2000` of the
#              trained model (or, if training ran out of time, of its
#              newest checkpoint)                                          60
#
# Options: --cpu; --stage DIR (default gpu-stage, or the CPU stage);
# --budget SECONDS (default 450; 900 with --cpu, whose debug programs on a
# busy 2-core machine took 400 s); --no-build (with --cpu: use the CPU stage
# as it is). $OUT (set by the device tool) receives gpu-check.json and
# check.log; without it they go to target/gpu-check/out. The exit status is 0
# only when every part ran and passed. The device call: command
# `bash scripts/gpu/check.sh`, carry ["gpu-stage"], timeout_s 600.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

mode=gpu
stage=""
budget=""
build=1
while (($#)); do
    case "$1" in
        --cpu) mode=cpu ;;
        --stage) stage=$2; shift ;;
        --budget) budget=$2; shift ;;
        --no-build) build=0 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# ---- Sizes: the only differences between the modes -------------------------
if [[ $mode == gpu ]]; then
    device=cuda
    stage=${stage:-$root/gpu-stage}
    python=${RECALIGN_CHECK_PYTHON:-python3}
    step_preset=small step_steps=20 step_rounds=1
    retrieval_preset=small retrieval_users=256
    train_preset=small train_steps=400 save_every=100
    eval_users=2000
    budget=${budget:-450}
    caps=(env=20 parity=50 step_f32=70 step_bf16=60 retrieval=70 train=120 evaluate=60)
else
    device=cpu
    stage=${stage:-$root/target/gpu-check/stage-cpu}
    python=${RECALIGN_CHECK_PYTHON:-$root/.venv-torch/bin/python}
    step_preset=tiny step_steps=3 step_rounds=1
    retrieval_preset=tiny retrieval_users=32
    train_preset=tiny train_steps=6 save_every=3
    eval_users=50
    budget=${budget:-900}
    caps=(env=20 parity=120 step_f32=120 step_bf16=120 retrieval=180 train=240 evaluate=120)
fi

out=${OUT:-$root/target/gpu-check/out}
work=$root/target/gpu-check/work-$mode
rm -rf "$work"
mkdir -p "$out" "$work/parts" "$work/bin"
log=$out/check.log
: >"$log"
say() { echo "check.sh: $*" | tee -a "$log" >&2; }
start_all=$SECONDS
say "mode $mode, device $device, stage $stage, budget ${budget}s, out $out"

if [[ $mode == cpu && $build == 1 ]]; then
    say "building the CPU stage (scripts/gpu/build.sh --cpu)"
    if ! bash "$root/scripts/gpu/build.sh" --cpu --stage "$stage" >>"$log" 2>&1; then
        say "build.sh --cpu failed: see $log"
        tail -30 "$log" >&2
        exit 1
    fi
    start_all=$SECONDS
fi

# ---- What every part needs -----------------------------------------------
[[ -d $stage ]] && stage=$(cd "$stage" && pwd)
stage_problem=""
if [[ ! -f $stage/bin.tar.xz || ! -f $stage/build.json ]]; then
    stage_problem="no stage at $stage (run scripts/gpu/build.sh here and carry gpu-stage)"
elif command -v xz >/dev/null; then
    tar -C "$work/bin" -xJf "$stage/bin.tar.xz" || stage_problem="could not unpack $stage/bin.tar.xz"
else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")' \
        "$stage/bin.tar.xz" "$work/bin" || stage_problem="could not unpack $stage/bin.tar.xz (no xz)"
fi
bin=$work/bin
if [[ -z $stage_problem && $mode == gpu ]] && ! grep -q '"mode": "cuda"' "$stage/build.json"; then
    stage_problem="the stage was built without CUDA (scripts/gpu/build.sh --cpu); run build.sh without --cpu"
fi

gpu_problem=""
if [[ $mode == gpu ]]; then
    export PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"
    if ! command -v nvidia-smi >/dev/null; then
        # Without nvidia-smi, a device node still says a GPU is there.
        [[ -e /dev/nvidia0 ]] || gpu_problem="no GPU: neither nvidia-smi nor /dev/nvidia0 is here"
    elif ! nvidia-smi -L >/dev/null 2>&1; then
        gpu_problem="no GPU: nvidia-smi -L failed: $(nvidia-smi -L 2>&1 | head -c 300)"
    fi
    # burn's CUDA backend compiles its kernels with NVRTC against the
    # toolkit's headers: point it at the toolkit nvcc belongs to.
    if [[ -z ${CUDA_PATH:-} ]] && command -v nvcc >/dev/null; then
        CUDA_PATH=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
        export CUDA_PATH
    fi
    if [[ -n ${CUDA_PATH:-} ]]; then
        export LD_LIBRARY_PATH="$CUDA_PATH/lib64:$CUDA_PATH/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
fi

torch_problem=""
if [[ ! -x $python ]] && ! command -v "$python" >/dev/null; then
    torch_problem="no Python with torch: $python is not here"
elif ! probe=$("$python" -c '
import sys, torch, transformers
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit("torch sees no GPU")
print(torch.__version__, transformers.__version__)' "$device" 2>&1); then
    torch_problem="no usable torch in $python: $(echo "$probe" | tail -1)"
fi
py_or_none=$python
[[ -n $torch_problem ]] && py_or_none=none
export HF_HUB_OFFLINE=1 TRANSFORMERS_NO_ADVISORY_WARNINGS=1 PYTHONUNBUFFERED=1

# Writes the JSON string of stdin (for messages) without needing Python.
json_string() {
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' | awk 'BEGIN{ORS=""; print "\""} NR>1{print "\\n"} {print} END{print "\""}'
}
skip() { printf 'skipped: %s' "$1" | json_string >"$work/parts/$2.skipped"; }

# ---- The parts -------------------------------------------------------------
# Each writes its result (one JSON value) to $work/parts/NAME.json, or
# NAME.skipped (a JSON string) when it cannot run; its output goes to the log.

# `tool args...`, or a line saying the tool is not here.
run_or_absent() {
    if command -v "$1" >/dev/null; then "$@" 2>&1; else echo "$1: not on this machine"; fi
}

part_env() {
    {
        printf '{"mode": "%s", "device": "%s", "host": %s, "nproc": %s,' \
            "$mode" "$device" "$(uname -srm | json_string)" "$(nproc)"
        printf '"nvidia_smi": %s,' "$(run_or_absent nvidia-smi | json_string)"
        printf '"gpu_query": %s,' "$(run_or_absent nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm --format=csv | json_string)"
        printf '"glibc": %s,' "$(run_or_absent ldd --version | head -1 | json_string)"
        printf '"nvcc": %s,' "$(run_or_absent nvcc --version | tail -2 | json_string)"
        printf '"cuda_path": %s,' "$(printf '%s' "${CUDA_PATH:-}" | json_string)"
        printf '"python": %s,' "$(printf '%s' "$python" | json_string)"
        if [[ -n $torch_problem ]]; then
            printf '"torch": %s,' "$(printf '%s' "$torch_problem" | json_string)"
        else
            printf '"torch": %s,' "$("$python" -c '
import torch, transformers
print(torch.__version__, "transformers", transformers.__version__, "cuda", torch.version.cuda,
      "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)' 2>&1 | json_string)"
        fi
        printf '"build": %s}' "$(cat "$stage/build.json" 2>/dev/null || echo null)"
    } >"$work/parts/env.json"
}

part_parity() {
    local fixtures=$root/crates/t5/tests/fixtures dir=$work/parity fx p rows=()
    mkdir -p "$dir"
    for fx in gated tied-relu; do
        # hf_reference re-saves the model in place: work on a copy.
        cp -r "$fixtures/$fx" "$dir/model-$fx"
        for p in f32 bf16; do
            "$bin/hf_reference" "$dir/model-$fx" "$fixtures/$fx/reference.safetensors" \
                --device "$device" --precision "$p" --out "$dir/$fx-$p.safetensors" --json \
                >"$dir/$fx-$p.json" || return 1
            rows+=("\"$fx-$p\": $(tail -1 "$dir/$fx-$p.json")")
        done
    done
    local hf
    if [[ -n $torch_problem ]]; then
        hf=$(printf 'skipped: %s' "$torch_problem" | json_string)
    else
        "$python" "$root/scripts/gpu/parity.py" --device "$device" --fixtures "$fixtures" \
            --ours "$dir" >"$dir/hf.json" || return 1
        hf=$(tail -1 "$dir/hf.json")
    fi
    local IFS=,
    printf '{"recalign_vs_committed_reference": {%s}, "hf_on_the_same_device": %s}' \
        "${rows[*]}" "$hf" >"$work/parts/parity.json"
}

# The PyTorch side's state, beside what a bench wrote.
with_python_side() { # raw.json part.json
    local side='"ok"'
    [[ -n $torch_problem ]] && side=$(printf 'skipped: %s' "$torch_problem" | json_string)
    printf '{"python_side": %s, "runs": %s}' "$side" "$(cat "$1")" >"$2"
}

part_step() { # precision
    RECALIGN_BENCH_REPEAT=$step_rounds "$bin/step" "$step_preset" --device "$device" \
        --precision "$1" --steps "$step_steps" --python "$py_or_none" \
        --script "$root/scripts/bench/t5_step_torch.py" --out "$work/step_$1.raw.json" \
        >/dev/null || return 1
    with_python_side "$work/step_$1.raw.json" "$work/parts/step_$1.json"
}
part_step_f32() { part_step f32; }
part_step_bf16() { part_step bf16; }

part_retrieval() {
    "$bin/retrieval" "$retrieval_preset" --device "$device" --users "$retrieval_users" \
        --batch 16 --rounds 1 --python "$py_or_none" --script "$root/scripts/bench/retrieval_hf.py" \
        --dir "$work/retrieval" --out "$work/retrieval.raw.json" >/dev/null || return 1
    with_python_side "$work/retrieval.raw.json" "$work/parts/retrieval.json"
}

# Train and evaluate share these: the staged Beauty files and a fresh cache.
data_args=(-d beauty --data-dir "$stage/data" --cache-dir "$work/cache")

part_train() {
    printf '[train]\nsave_every = %s\neval_every = 0\nvalid_users = 0\n' "$save_every" >"$work/train.toml"
    local t0=$SECONDS
    "$bin/recalign" train "${data_args[@]}" --config "$work/train.toml" --preset "$train_preset" \
        --device "$device" --max-steps "$train_steps" --out "$work/beauty" || return 1
    printf '{"preset": "%s", "max_steps": %s, "wall_s": %s, "summary": %s}' "$train_preset" \
        "$train_steps" "$((SECONDS - t0))" "$(cat "$work/beauty/train-summary.json")" \
        >"$work/parts/train.json"
}

part_evaluate() {
    local model=$work/beauty
    if [[ ! -f $work/parts/train.json ]]; then
        # Training did not finish: its newest checkpoint, if any.
        model=$(ls -d "$work"/beauty/checkpoints/*/ 2>/dev/null | sort -V | tail -1)
        model=${model%/}
        [[ -n $model ]] || { skip "training wrote no model or checkpoint" evaluate; return 0; }
    fi
    local t0=$SECONDS
    "$bin/recalign" evaluate "${data_args[@]}" --model "$model" --device "$device" \
        --split test --users "$eval_users" --report "$work/eval.json" || return 1
    printf '{"model": %s, "users": %s, "wall_s": %s, "report": %s}' \
        "$(printf '%s' "${model#"$work"/}" | json_string)" "$eval_users" "$((SECONDS - t0))" \
        "$(cat "$work/eval.json")" >"$work/parts/evaluate.json"
}

# ---- Running them ----------------------------------------------------------
names=() ; declare -A cap
for c in "${caps[@]}"; do names+=("${c%%=*}"); cap[${c%%=*}]=${c#*=}; done

for ((i = 0; i < ${#names[@]}; i++)); do
    name=${names[i]}
    later=0
    for ((j = i + 1; j < ${#names[@]}; j++)); do later=$((later + cap[${names[j]}])); done
    left=$((budget - (SECONDS - start_all)))
    limit=$((left - later))
    ((limit < cap[$name])) && limit=${cap[$name]}
    ((limit > left)) && limit=$left
    why=""
    if [[ -n $stage_problem && $name != env ]]; then why=$stage_problem
    elif [[ -n $gpu_problem && $name != env ]]; then why=$gpu_problem
    elif ((limit < 5)); then why="no time left of the ${budget}s budget"
    fi
    if [[ -n $why ]]; then
        skip "$why" "$name"
        say "$name: skipped: $why"
        continue
    fi
    say "$name: up to ${limit}s"
    echo "===== $name =====" >>"$log"
    t0=$SECONDS
    # `timeout` runs a fresh bash that gets the functions and settings.
    export -f "part_$name" part_step with_python_side run_or_absent json_string skip say
    export root mode device stage work bin python py_or_none torch_problem log \
        step_preset step_steps step_rounds retrieval_preset retrieval_users \
        train_preset train_steps save_every eval_users
    # Arrays do not cross into the child: data_args is rebuilt there.
    timeout -k 10 "$limit" bash -c "data_args=(-d beauty --data-dir \"$stage/data\" --cache-dir \"$work/cache\"); part_$name" >>"$log" 2>&1
    rc=$?
    printf '{"rc": %s, "seconds": %s, "limit_s": %s}' "$rc" "$((SECONDS - t0))" "$limit" >"$work/parts/$name.meta"
    if ((rc == 0)); then say "$name: ok in $((SECONDS - t0))s"
    elif ((rc == 124 || rc == 137)); then say "$name: ran out of its ${limit}s"
    else say "$name: failed (exit $rc)"
    fi
done

# ---- One JSON file ---------------------------------------------------------
result=$out/gpu-check.json
assemble() {
    python3 - "$work/parts" "$log" "$result" "$mode" "$((SECONDS - start_all))" "${names[@]}" <<'EOF'
import json, sys
from pathlib import Path
parts, log, result, mode, seconds, names = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
sections = open(log, errors="replace").read().split("===== ")
def log_tail(name, lines=25):
    for s in sections:
        if s.startswith(name + " ====="):
            return s.splitlines()[-lines:]
    return []
out = {"check": "scripts/gpu/check.sh", "mode": mode, "seconds": seconds, "ok": True, "parts": {}}
for name in names:
    skipped, meta, res = parts / f"{name}.skipped", parts / f"{name}.meta", parts / f"{name}.json"
    entry = {}
    if skipped.exists():
        entry["status"] = json.loads(skipped.read_text())
    elif meta.exists():
        m = json.loads(meta.read_text())
        entry.update(seconds=m["seconds"], limit_s=m["limit_s"])
        if m["rc"] == 0 and res.exists():
            entry["status"] = "ok"
        elif m["rc"] in (124, 137):
            entry["status"] = f"timed out after {m['limit_s']} s"
        else:
            entry["status"] = f"failed (exit {m['rc']})"
        if entry["status"] != "ok":
            entry["log_tail"] = log_tail(name)
    else:
        entry["status"] = "not run"
    if res.exists():
        try:
            entry["result"] = json.loads(res.read_text())
        except ValueError as e:
            entry["result_unreadable"] = f"{e}: {res.read_text()[:500]}"
            entry["status"] = "failed (unreadable result)"
    if not (entry["status"] == "ok" or entry["status"].startswith("skipped")):
        out["ok"] = False
    out["parts"][name] = entry
out["skipped"] = [n for n, e in out["parts"].items() if e["status"].startswith("skipped")]
# The headline numbers, where their parts ran.
def get(*path):
    value = out["parts"]
    try:
        for key in path:
            value = value[key]
        return value
    except (KeyError, IndexError, TypeError):
        return None
summary = {
    "gpu": ((get("env", "result", "gpu_query") or "").strip().splitlines() or [None])[-1],
    "parity_f32_logits_max_abs_diff_recalign_vs_hf_same_device": get("parity", "result", "hf_on_the_same_device", "f32_recalign_vs_hf_logits_max_abs_diff"),
    "parity_f32_logits_max_abs_diff_recalign_vs_committed": max(
        (v.get("logits_max_abs_diff") or 0.0 for k, v in (get("parity", "result", "recalign_vs_committed_reference") or {}).items() if k.endswith("-f32")),
        default=None),
}
for precision in ("f32", "bf16"):
    for key in ("recalign_median_step_s", "pytorch_median_step_s", "ratio_of_medians"):
        summary[f"step_{precision}_{key}"] = get(f"step_{precision}", "result", "runs", 0, key)
summary["retrieval_recalign_users_per_s"] = get("retrieval", "result", "runs", 0, "recalign", "median_users_per_second")
summary["retrieval_hf_users_per_s"] = get("retrieval", "result", "runs", 0, "hf", "median_users_per_second")
summary["retrieval_speedup"] = get("retrieval", "result", "runs", 0, "speedup_median_of_rounds")
summary["train_steps"] = get("train", "result", "summary", "steps")
summary["train_seconds_in_steps"] = get("train", "result", "summary", "seconds")
summary["train_wall_s"] = get("train", "result", "wall_s")
summary["train_loss_first_last"] = [get("train", "result", "summary", "first_loss"), get("train", "result", "summary", "last_loss")]
summary["evaluate_users"] = get("evaluate", "result", "report", "users_evaluated")
summary["evaluate_ndcg@10"] = get("evaluate", "result", "report", "metrics", "ndcg@10")
summary["evaluate_users_per_s"] = get("evaluate", "result", "report", "users_per_second")
out["summary"] = summary
out = {k: out[k] for k in ("check", "mode", "seconds", "ok", "skipped", "summary", "parts")}
Path(result).write_text(json.dumps(out, indent=1) + "\n")
EOF
}
if command -v python3 >/dev/null && assemble; then
    say "wrote $result in $((SECONDS - start_all))s"
else
    # No Python at all: the parts' files side by side, unchecked.
    {
        echo '{"check": "scripts/gpu/check.sh", "assembled_without_python": true, "parts": {'
        sep=""
        for name in "${names[@]}"; do
            f=$work/parts/$name.json
            [[ -f $f ]] || f=$work/parts/$name.skipped
            [[ -f $f ]] || { printf '"not run"' | json_string >"$work/parts/$name.none"; f=$work/parts/$name.none; }
            printf '%s"%s": {"meta": %s, "result": %s}\n' "$sep" "$name" \
                "$(cat "$work/parts/$name.meta" 2>/dev/null || echo null)" "$(cat "$f")"
            sep=","
        done
        echo '}}'
    } >"$result"
    say "wrote $result without Python"
fi
cat "$result"
# Exit 0 when every part ran and passed; a part skipped for a stated reason
# is in the JSON but is not a pass.
if command -v python3 >/dev/null; then
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and not d["skipped"] else 1)' "$result"
else
    grep -q '"ok": true' "$result" && ! grep -q 'skipped: ' "$result"
fi

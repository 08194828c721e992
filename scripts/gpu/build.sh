#!/usr/bin/env bash
# Builds and stages what scripts/gpu/check.sh runs on a borrowed GPU machine,
# which has CUDA 13, a driver and PyTorch but no Rust and no network.
#
#   scripts/gpu/build.sh          # release, --features cuda, for the GPU
#   scripts/gpu/build.sh --cpu    # debug, no CUDA: what `check.sh --cpu` runs
#
# Four programs, built in ONE cargo invocation so that they share one set of
# dependencies:
#   recalign        the CLI (train and evaluate on Beauty)
#   hf_reference    crates/t5/examples: our logits for a fixture (parity)
#   step            crates/train/benches: the training-step benchmark
#   retrieval       crates/recommend/benches: the retrieval benchmark
# For the GPU: `--release --features recalign/cuda,recalign-train/cuda,
# recalign-t5/cuda,recalign-recommend/cuda` (cudarc's bindings follow
# CUDARC_CUDA_VERSION, 13.0 by .cargo/config.toml), line tables off and symbols
# stripped. These flags differ from everyday builds, so the GPU build has its
# own target folder (target/gpu; RECALIGN_GPU_TARGET_DIR overrides) and never
# replaces target/release/recalign. The CPU build is a plain debug build in
# the usual target folder.
#
# The stage (default gpu-stage/, git-ignored; --stage DIR overrides), which a
# device run carries (`carry: ["gpu-stage"]`):
#   bin.tar.xz      the four programs (xz: the whole carry must stay under
#                   64 MiB; check.sh unpacks them)
#   data/beauty/    interactions.tsv.gz and items.jsonl.gz, copied as they
#                   are from $RECALIGN_DATA (default ../shared/data): all that
#                   `recalign train -d beauty` reads
#   build.json      mode, profile, features, commit, rustc, sizes
# The script prints the stage's size and, in GPU mode, fails when the stage
# and the working tree that travels with it (~3 MiB of repository files)
# reach 64 MiB, a device run's limit for all it carries.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

mode=cuda
stage=gpu-stage
while (($#)); do
    case "$1" in
        --cpu) mode=cpu ;;
        --stage) stage=$2; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

data_root=${RECALIGN_DATA:-$root/../shared/data}
for f in interactions.tsv.gz items.jsonl.gz; do
    [[ -f $data_root/beauty/$f ]] || { echo "build.sh: $data_root/beauty/$f is missing (set RECALIGN_DATA)" >&2; exit 1; }
done

cargo_args=(build -p recalign -p recalign-t5 -p recalign-train -p recalign-recommend
    --bin recalign --example hf_reference --bench step --bench retrieval
    --message-format=json-render-diagnostics)
if [[ $mode == cuda ]]; then
    target_dir=${RECALIGN_GPU_TARGET_DIR:-$root/target/gpu}
    cargo_args+=(--release --target-dir "$target_dir"
        --features recalign/cuda,recalign-train/cuda,recalign-t5/cuda,recalign-recommend/cuda)
    export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols
    profile=release
    features="recalign/cuda,recalign-train/cuda,recalign-t5/cuda,recalign-recommend/cuda"
else
    profile=debug
    features=""
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "build.sh: cargo ${cargo_args[*]}" >&2
start=$SECONDS
nice -n 19 cargo "${cargo_args[@]}" >"$tmp/messages.jsonl"
echo "build.sh: built in $((SECONDS - start)) s" >&2

# The executables, by target name, from cargo's own messages (bench binaries
# carry a hash in their file name).
mkdir -p "$tmp/bin"
python3 - "$tmp/messages.jsonl" "$tmp/bin" <<'EOF'
import json, shutil, sys
wanted = {("bin", "recalign"), ("example", "hf_reference"), ("bench", "step"), ("bench", "retrieval")}
found = {}
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    for kind in m["target"]["kind"]:
        if (kind, m["target"]["name"]) in wanted:
            found[m["target"]["name"]] = m["executable"]
missing = sorted(name for _, name in wanted if name not in found)
if missing:
    sys.exit(f"build.sh: cargo built no {missing}")
for name, path in found.items():
    shutil.copy2(path, f"{sys.argv[2]}/{name}")
EOF
if [[ $mode == cpu ]] && command -v strip >/dev/null; then
    # The debug programs carry line tables; only the stage's size cares.
    strip "$tmp"/bin/*
fi

rm -rf "$stage"
mkdir -p "$stage/data/beauty"
tar -C "$tmp/bin" -cf - recalign hf_reference step retrieval | xz -T0 -6 >"$stage/bin.tar.xz"
cp "$data_root"/beauty/interactions.tsv.gz "$data_root"/beauty/items.jsonl.gz "$stage/data/beauty/"

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)
python3 - "$stage/build.json" "$tmp/bin" <<EOF
import json, os, re, subprocess, sys
bins = sys.argv[2]

def glibc():
    """The newest GLIBC_ symbol version the programs ask for (the GPU
    machine's C library must be at least as new)."""
    try:
        text = subprocess.run(["objdump", "-T", *(os.path.join(bins, n) for n in os.listdir(bins))],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([0-9.]+[0-9])", text)}
    return ".".join(map(str, max(versions))) if versions else None
json.dump({
    "mode": "$mode",
    "profile": "$profile",
    "features": "$features",
    "rustflags": os.environ.get("RUSTFLAGS", ""),
    "cudarc_cuda_version": os.environ.get("CUDARC_CUDA_VERSION", "13000 (.cargo/config.toml)"),
    "commit": "$commit",
    "modified_tracked_files": $dirty,
    "rustc": "$(rustc --version)",
    "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "program_bytes": {n: os.path.getsize(os.path.join(bins, n)) for n in sorted(os.listdir(bins))},
    "glibc_needed": glibc(),
}, open(sys.argv[1], "w"), indent=2)
EOF

bytes=$(du -sb "$stage" | cut -f1)
tree=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "build.sh: stage $stage: $bytes bytes ($((bytes / 1048576)) MiB); with the working tree that travels: $((bytes + tree)) bytes ($(((bytes + tree) / 1048576)) MiB)"
ls -l "$stage" "$stage/data/beauty"
if [[ $mode == cuda ]] && ((bytes + tree >= 64 * 1048576)); then
    echo "build.sh: 64 MiB or more: a device run carries at most 64 MiB in all" >&2
    exit 1
elif [[ $mode == cuda ]] && ((bytes + tree > 60 * 1048576)); then
    echo "build.sh: warning: within 4 MiB of the 64 MiB a device run carries" >&2
fi

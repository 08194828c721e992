#!/usr/bin/env bash
# The test command of the README, and what CI runs: formatting, lints, docs,
# and the whole test suite. Tests that read the real Amazon data find it
# through RECALIGN_DATA (skipped when unset, unless RECALIGN_REQUIRE_DATA=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Tests run from each crate's folder: make a relative data path absolute.
if [[ -n "${RECALIGN_DATA:-}" && -d "$RECALIGN_DATA" ]]; then
    RECALIGN_DATA="$(cd "$RECALIGN_DATA" && pwd)"
    export RECALIGN_DATA
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The CUDA build compiles and lints here too, though CI has no GPU: the
# binary with `cuda` (cudarc's bindings pinned to CUDA 13.0 in
# .cargo/config.toml), and the device checks, which must turn a machine
# without libcuda into an error that names it rather than a panic.
cargo clippy -p recalign --features cuda --locked -- -D warnings
cargo test -p recalign-runtime --features cuda --lib --locked
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo test --workspace --locked

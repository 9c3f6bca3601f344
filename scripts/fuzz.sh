#!/usr/bin/env bash
# Runs the fuzzing harness (tests/fuzz/main.rs) for a given time per target.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS] [SEED]
#
# TARGET: spec, csv, npy, certificate, onnx or all (default all, one after
# the other); SECONDS per target (default 60); SEED (default 0) makes a run
# repeatable. Builds the test binary with the test profile, which Cargo.toml
# optimises (opt-level 1, dependencies 2); FUZZ_RELEASE=1 uses --release.
# A failing input is saved under tests/fuzz/TARGET/crashes/ and printed with
# the command that runs it again; the exit status is non-zero after a panic
# (1), a hang of more than 10 s (3) or an allocation above 1 GiB (abort).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-60}"
seed="${3:-0}"
profile=()
if [[ "${FUZZ_RELEASE:-0}" == 1 ]]; then profile=(--release); fi
cargo test "${profile[@]}" --test fuzz --no-run
exec cargo test "${profile[@]}" --test fuzz -- run "$target" "$seconds" "$seed"

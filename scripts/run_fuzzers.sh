#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 into build-fuzz
# (-DATTNC_BUILD_FUZZERS=ON; -fsanitize=fuzzer,address,undefined) and runs
# each for SECONDS (default 60) on its seed corpus under test/fuzz/corpus/,
# with its dictionary. New inputs go to build-fuzz/corpus/<target>/ (the
# checked-in seeds stay as they are); a crash leaves its input in
# build-fuzz/crashes/ and fails the script.
#
#   scripts/run_fuzzers.sh [SECONDS]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
build="${ATTNC_FUZZ_BUILD_DIR:-$root/build-fuzz}"
command -v clang-19 >/dev/null || {
  echo "run_fuzzers: clang-19 is missing; scripts/setup.sh installs it" >&2
  exit 1
}
CC=clang-19 CXX=clang++-19 cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNC_BUILD_FUZZERS=ON \
  -DATTNC_BUILD_BENCH=OFF -DBUILD_TESTING=OFF >/dev/null
targets=(frontend safetensors arguments)
cmake --build "$build" --target "${targets[@]/#/attnc-fuzz-}"

mkdir -p "$build/crashes"
status=0
for target in "${targets[@]}"; do
  options=()
  [ -f "$root/test/fuzz/$target.dict" ] && options+=(-dict="$root/test/fuzz/$target.dict")
  work="$build/corpus/$target"
  mkdir -p "$work"
  echo "== attnc-fuzz-$target, ${seconds}s"
  if ! "$build/bin/attnc-fuzz-$target" "$work" "$root/test/fuzz/corpus/$target" \
      "${options[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$build/crashes/$target-" \
      -print_final_stats=1 2>"$build/fuzz-$target.log"; then
    status=1
  fi
  grep -E "^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::average_exec_per_sec|cov:" \
    "$build/fuzz-$target.log" | tail -3 || true
  grep -E "ERROR|SUMMARY|crash|deadly" "$build/fuzz-$target.log" | head -5 || true
done
exit $status

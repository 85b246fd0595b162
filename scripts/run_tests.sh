#!/usr/bin/env bash
# Sets up and runs every test: the lit suite (its counts printed by lit), then
# the GoogleTest units and the Python frontend's pytest suite through ctest.
# Plain `ctest` in the build directory runs all, lit as a single entry named
# "lit".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTNC_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"

echo "== lit"
/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -s "$build/test"
echo "== GoogleTest and the Python example (ctest)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -E '^(lit|pytest)$'
echo "== pytest (ctest)"
# Verbose into a log, so that pytest's own count line can be shown.
log="$build/Testing/pytest.log"
mkdir -p "$(dirname "$log")"
if ! ctest --test-dir "$build" -V -R '^pytest$' >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
grep -E '[0-9]+ passed' "$log" | sed 's/^[0-9]*: //'

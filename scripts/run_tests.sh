#!/usr/bin/env bash
# Sets up and runs every test: the lit suite (its counts printed by lit), then
# the GoogleTest units through ctest. Plain `ctest` in the build directory
# runs both, lit as a single entry named "lit".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTNC_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"

echo "== lit"
/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -s "$build/test"
echo "== GoogleTest (ctest)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -E '^lit$'

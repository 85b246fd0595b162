#!/usr/bin/env bash
# Builds attnc with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan (ATTNC_SANITIZE=ON) and runs the lit suite, every GoogleTest and
# the pytest suite there: the runtime (thread pool, scratch blocks,
# safetensors reader, decoder, argument checks), the compiler and the Python
# frontend's use of both, under both sanitizers. Any report fails its test
# (UBSan does not recover; ASan aborts). Python runs with the ASan runtime
# preloaded and without leak checks (python-frontend/CMakeLists.txt).
#
# Left out: the install/embed test (it builds an outside project with the
# system compiler flags).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ATTNC_BUILD_DIR="${ATTNC_ASAN_BUILD_DIR:-$root/build-asan}"
export ATTNC_BUILD_TYPE=RelWithDebInfo
export ATTNC_CMAKE_ARGS="-DATTNC_SANITIZE=ON -DATTNC_BUILD_BENCH=OFF"
"$root/scripts/setup.sh"

# Leaks are errors too, except LLVM's own process-lifetime allocations.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$root/test/sanitizer/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== lit (ASan+UBSan)"
/usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -s "$ATTNC_BUILD_DIR/test"
echo "== GoogleTest and pytest (ASan+UBSan)"
ctest --test-dir "$ATTNC_BUILD_DIR" --output-on-failure -j "$(nproc)" \
  -E '^(lit|embed-example)$'

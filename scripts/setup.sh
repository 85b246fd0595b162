#!/usr/bin/env bash
# Installs every Debian package attnc needs (a no-op when all are present),
# then configures and builds into ${ATTNC_BUILD_DIR:-build}.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTNC_BUILD_DIR:-$root/build}"

packages=(
  build-essential binutils cmake ninja-build ccache
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools clang-19
  libclang-rt-19-dev            # clang-19's sanitizers and libFuzzer
  libgtest-dev libbenchmark-dev
  libpng-dev                    # attn-run --attention-map
  libopenblas-dev libdnnl-dev   # attn-bench baselines (bench/), optional
  libhalide14-0-dev             # attnc --backend=halide (its own LLVM 14)
  python3 python3-numpy python3-pytest
  python3-matplotlib            # python-frontend attention-map pictures
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # env, not an assignment before sudo: sudo resets the environment.
  as_root=(env DEBIAN_FRONTEND=noninteractive)
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup: installing packages needs root; run this as root or" \
           "install sudo" >&2
      exit 1
    }
    as_root=(sudo "${as_root[@]}")
  fi
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q "${packages[@]}"
fi

# ATTNC_CMAKE_ARGS adds configure options, e.g. -DATTNC_SANITIZE=ON.
# shellcheck disable=SC2086
cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE="${ATTNC_BUILD_TYPE:-Release}" \
  -DMLIR_DIR="${MLIR_DIR:-/usr/lib/llvm-19/lib/cmake/mlir}" ${ATTNC_CMAKE_ARGS:-}
cmake --build "$build"

#!/usr/bin/env bash
# The embedding acceptance test: install attnc, build examples/embed against
# the installed tree as an outside project would (find_package(attnc),
# weights baked in with attnc_add_model(... WEIGHTS ...)), run it on seeded
# inputs, check its output against the reference with attn-run, and check
# that the executable loads no LLVM, MLIR or Halide library.
#
#   embed-example.sh ATTNC_BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
prefix=$work/install

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
model=$source/examples/gpt2_block.attn
weights=$work/gpt2_block.safetensors
python3=${ATTNC_PYTHON:-/usr/bin/python3}
"$python3" "$source/test/tools/Inputs/safetensors_tool.py" write "$weights" \
  w_qkv:256x768 b_qkv:768 w_o:256x256 b_o:256

cmake -S "$source/examples/embed" -B "$work/app" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DGPT2_WEIGHTS="$weights" > "$work/configure.log"
cmake --build "$work/app" > "$work/build.log"
app=$work/app/embed_app

"$prefix/bin/attn-run" --model "$model" --weights "$weights" --write-inputs "$work/data"
"$app" "$work/data" 2
"$prefix/bin/attn-run" --model "$model" --weights "$weights" --check-outputs "$work/data"

echo "ldd $app:"
ldd "$app" | sed 's/^/  /'
if ldd "$app" | grep -Ei 'llvm|mlir|halide'; then
  echo "FAIL: the application loads LLVM, MLIR or Halide" >&2
  exit 1
fi
echo "PASS: embed_app links no LLVM, MLIR or Halide library"

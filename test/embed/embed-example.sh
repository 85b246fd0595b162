#!/usr/bin/env bash
# The embedding acceptance test: install attnc, build examples/embed against
# the installed tree as an outside project would (find_package(attnc),
# weights baked in with attnc_add_model(... WEIGHTS ...)), run the block on
# seeded inputs and check its output against the reference with attn-run,
# run the decode loop (which checks itself against the full model), and check
# that neither executable loads an LLVM, MLIR or Halide library. Then the
# same for a C++-only project (test/embed/cxx-only: no C in project()).
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

# The decode loop checks itself against the full model and runs past the
# context, where the KV cache ring wraps.
"$work/app/embed_decode" 768

for exe in "$app" "$work/app/embed_decode"; do
  echo "ldd $exe:"
  ldd "$exe" | sed 's/^/  /'
  if ldd "$exe" | grep -Ei 'llvm|mlir|halide'; then
    echo "FAIL: $(basename "$exe") loads LLVM, MLIR or Halide" >&2
    exit 1
  fi
done
echo "PASS: embed_app and embed_decode link no LLVM, MLIR or Halide library"

tiny=$source/test/tools/Inputs/tiny.attn
cmake -S "$source/test/embed/cxx-only" -B "$work/cxx" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DMODEL="$tiny" > "$work/cxx-configure.log"
cmake --build "$work/cxx" > "$work/cxx-build.log"
"$prefix/bin/attn-run" --model "$tiny" --write-inputs "$work/cxx-data"
"$work/cxx/cxx_app" "$work/cxx-data"
"$prefix/bin/attn-run" --model "$tiny" --check-outputs "$work/cxx-data"
ATTNC_NUM_THREADS=2 "$work/cxx/plugin_host" "$work/cxx/libtiny_plugin.so"

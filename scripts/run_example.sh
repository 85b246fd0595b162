#!/usr/bin/env bash
# Sets up, compiles the bundled GPT-2-style block with attnc, runs it through
# the runtime and against the double-precision reference, then links the same
# object into a plain C program and checks that program's output too; last,
# decodes with the sliding-window example (attn-run --decode).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTNC_BUILD_DIR:-$root/build}"
"$root/scripts/setup.sh"

model="$root/examples/gpt2_block.attn"
out="$build/example"
rm -rf "$out" && mkdir -p "$out/data"
bin="$build/bin"

echo "== attnc $model -> $out/gpt2_block.{o,h,so}"
"$bin/attnc" "$model" -o "$out/gpt2_block.o"
"$bin/attnc" --emit=so "$model" -o "$out/gpt2_block.so"

echo "== attn-run: the kernel against the reference"
"$bin/attn-run" --model "$model" "$out/gpt2_block.so"

echo "== a C program linking gpt2_block.o"
cc -std=c11 -Wall -Wextra -Werror -I"$out" "$root/examples/c-app/main.c" \
  "$out/gpt2_block.o" -lm -o "$out/app"
"$bin/attn-run" --model "$model" --write-inputs "$out/data"
"$out/app" "$out/data"
"$bin/attn-run" --model "$model" --check-outputs "$out/data"

echo "== decoding: a prompt through the whole model, then a token per step"
decoder="$root/examples/sliding_window_block.attn"
"$bin/attnc" --emit=so "$decoder" -o "$out/sliding_window_block.so"
"$bin/attn-run" --model "$decoder" --prompt=256 --decode=256 \
  "$out/sliding_window_block.so"

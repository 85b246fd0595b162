// attn-choose-tiles records the attention tile sizes on each attn.sdpa as
// attn.tiles = [query tile, key tile]; the lowering follows the attribute.
// The heuristic takes the largest of 64, 32, 16 dividing both lengths (at
// most 32 for a window of up to 256 keys; 256 x 32 for unmasked heads of
// 128 features or more); when none divides, the tile with the fewest
// padded query-key pairs, weighed by a smaller tile's cost per pair (16: 6
// % more, 32: 1 %), padded by the lowering; ops with a length within one
// tile and no dividing tile keep the materialized lowering.

// RUN: attn-opt %s --attn-choose-tiles | FileCheck %s

// CHECK-LABEL: func.func @long
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 64, 64>}
func.func @long(%q: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  return %o : tensor<256x64xf32>
}

// A short window: 32, so that a query tile visits window + 32 keys.
// CHECK-LABEL: func.func @short_window
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 32, 32>}
func.func @short_window(%q: tensor<1024x64xf32>) -> tensor<1024x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = window window = 256 scale = 0.125
      : (tensor<1024x64xf32>, tensor<1024x64xf32>, tensor<1024x64xf32>) -> tensor<1024x64xf32>
  return %o : tensor<1024x64xf32>
}

// A longer window keeps 64.
// CHECK-LABEL: func.func @long_window
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 64, 64>}
func.func @long_window(%q: tensor<1024x64xf32>) -> tensor<1024x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = window window = 512 scale = 0.125
      : (tensor<1024x64xf32>, tensor<1024x64xf32>, tensor<1024x64xf32>) -> tensor<1024x64xf32>
  return %o : tensor<1024x64xf32>
}

// Unmasked heads of 128 features: 256 queries by 32 keys. With a mask, the
// same shape keeps 64 x 64.
// CHECK-LABEL: func.func @wide_heads
// CHECK: attn.sdpa {{.*}} mask = none {{.*}} {attn.tiles = array<i64: 256, 32>}
// CHECK: attn.sdpa {{.*}} mask = causal {{.*}} {attn.tiles = array<i64: 64, 64>}
func.func @wide_heads(%q: tensor<512x256xf32>) -> tensor<512x256xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<512x256xf32>, tensor<512x256xf32>, tensor<512x256xf32>) -> tensor<512x256xf32>
  %c = attn.sdpa %o, %o, %o heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<512x256xf32>, tensor<512x256xf32>, tensor<512x256xf32>) -> tensor<512x256xf32>
  return %c : tensor<512x256xf32>
}

// 96 = 3 * 32: 64 does not divide it.
// CHECK-LABEL: func.func @ninety_six
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 32, 32>}
func.func @ninety_six(%q: tensor<96x64xf32>) -> tensor<96x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<96x64xf32>, tensor<96x64xf32>, tensor<96x64xf32>) -> tensor<96x64xf32>
  return %o : tensor<96x64xf32>
}

// 33 tokens: no candidate divides, so no tiles.
// CHECK-LABEL: func.func @odd
// CHECK: attn.sdpa
// CHECK-NOT: attn.tiles
// CHECK: return
func.func @odd(%q: tensor<33x64xf32>) -> tensor<33x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<33x64xf32>, tensor<33x64xf32>, tensor<33x64xf32>) -> tensor<33x64xf32>
  return %o : tensor<33x64xf32>
}

// Longer than a tile, and none of 64, 32, 16 divides both lengths: the
// largest tile, whose last one the lowering pads (1000 and 999 tokens to
// 1024; under window(100), at most 32: 1024 too), so that flash attention
// keeps O(S * D) memory instead of [S, T] scores.
// CHECK-LABEL: func.func @thousand
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 64, 64>}
func.func @thousand(%q: tensor<1000x64xf32>, %kv: tensor<999x64xf32>) -> tensor<1000x64xf32> {
  %o = attn.sdpa %q, %kv, %kv heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<1000x64xf32>, tensor<999x64xf32>, tensor<999x64xf32>) -> tensor<1000x64xf32>
  return %o : tensor<1000x64xf32>
}
// CHECK-LABEL: func.func @thousand_window
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 32, 32>}
func.func @thousand_window(%q: tensor<1000x64xf32>) -> tensor<1000x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = window window = 100 scale = 0.125
      : (tensor<1000x64xf32>, tensor<1000x64xf32>, tensor<1000x64xf32>) -> tensor<1000x64xf32>
  return %o : tensor<1000x64xf32>
}

// 197 tokens (ViT-B/16: 196 patches and a class token): 16 x 16 tiles pad
// them to 208, where 64 x 64 would pad to 256 and 32 x 32 to 224; 77
// tokens (CLIP's text) to 80 rather than 128.
// CHECK-LABEL: func.func @vit
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 16, 16>}
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 16, 16>}
func.func @vit(%q: tensor<197x64xf32>, %t: tensor<77x64xf32>) -> (tensor<197x64xf32>, tensor<77x64xf32>) {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<197x64xf32>, tensor<197x64xf32>, tensor<197x64xf32>) -> tensor<197x64xf32>
  %c = attn.sdpa %t, %t, %t heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<77x64xf32>, tensor<77x64xf32>, tensor<77x64xf32>) -> tensor<77x64xf32>
  return %o, %c : tensor<197x64xf32>, tensor<77x64xf32>
}

// A prime length is padded the same way.
// CHECK-LABEL: func.func @prime
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 64, 64>}
func.func @prime(%q: tensor<1009x64xf32>) -> tensor<1009x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<1009x64xf32>, tensor<1009x64xf32>, tensor<1009x64xf32>) -> tensor<1009x64xf32>
  return %o : tensor<1009x64xf32>
}

// 40 keys fit in one tile: their [1009, 40] scores are as small as a
// padded flash kernel's copies, so the op keeps the materialized lowering.
// CHECK-LABEL: func.func @few_keys
// CHECK: attn.sdpa
// CHECK-NOT: attn.tiles
// CHECK: return
func.func @few_keys(%q: tensor<1009x64xf32>, %kv: tensor<40x64xf32>) -> tensor<1009x64xf32> {
  %o = attn.sdpa %q, %kv, %kv heads = 2 kv_heads = 2 mask = none scale = 0.125
      : (tensor<1009x64xf32>, tensor<40x64xf32>, tensor<40x64xf32>) -> tensor<1009x64xf32>
  return %o : tensor<1009x64xf32>
}

// A choice already made (by hand, or by an earlier run) is kept.
// CHECK-LABEL: func.func @pinned
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 8, 16>}
func.func @pinned(%q: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125 {attn.tiles = array<i64: 8, 16>}
      : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %o : tensor<64x64xf32>
}

// tile-sizes (attnc --tile=Tq,Tk) replaces the heuristic for every attn.sdpa
// that has no tiles yet; a choice already recorded is kept.

// RUN: attn-opt %s --attn-choose-tiles=tile-sizes=16,32 | FileCheck %s

// CHECK-LABEL: func.func @long
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 16, 32>}
func.func @long(%q: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  return %o : tensor<256x64xf32>
}

// CHECK-LABEL: func.func @pinned
// CHECK: attn.sdpa {{.*}} {attn.tiles = array<i64: 8, 16>}
func.func @pinned(%q: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125 {attn.tiles = array<i64: 8, 16>}
      : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %o : tensor<64x64xf32>
}

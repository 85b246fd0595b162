// The flash lowering folds log2(e) into the scale; a scale above
// FLT_MAX / log2(e) (about 2.36e38) would fold into inf, and a query
// feature of 0 times inf is NaN. Such an op keeps the materialized lowering
// (scores, then the scale on them) despite its attn.tiles.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @huge_scale
// CHECK-NOT: scf.forall
// CHECK: tensor<1x1x16x16xf32>
// CHECK: arith.constant 3.000000e+38 : f32
// CHECK-NOT: scf.forall
// CHECK-NOT: 0x7F800000
func.func @huge_scale(%q: tensor<16x16xf32>, %v: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = attn.sdpa %q, %q, %v heads = 1 kv_heads = 1 mask = none scale = 3.0e38 {attn.tiles = array<i64: 16, 16>} : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %a : tensor<16x16xf32>
}

// Just below the limit the flash lowering applies.
// CHECK-LABEL: func.func @large_scale
// CHECK: scf.forall
func.func @large_scale(%q: tensor<16x16xf32>, %v: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = attn.sdpa %q, %q, %v heads = 1 kv_heads = 1 mask = none scale = 2.0e38 {attn.tiles = array<i64: 16, 16>} : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %a : tensor<16x16xf32>
}

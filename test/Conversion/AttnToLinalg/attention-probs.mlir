// attn.attention_probs lowers through the same score, mask, max and
// exp steps as the materialized attn.sdpa (sdpa.mlir), then normalizes
// each row instead of multiplying by V: probs[g, r, i, j] = weights / rowSum,
// 0 for a row with no visible key, collapsed from [G, R, S, T] to
// [H, S, T] because query head h = g * R + r.
// Sizes: S = 16 queries, T = 12 keys, G = 2, R = 2, D = 8.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @probs_gqa(
func.func @probs_gqa(%q: tensor<16x32xf32>, %k: tensor<12x16xf32>) -> tensor<4x16x12xf32> {
  // CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<2x2x16x12xf32>)
  // CHECK: %[[LOGITS:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<2x2x16x12xf32>)
  // CHECK: %[[MAX:.+]] = linalg.generic {{.*}} ins(%[[LOGITS]] : {{.*}} outs(%{{.+}} : tensor<2x2x16xf32>)
  // CHECK: %[[W:.+]] = linalg.generic {{.*}} ins(%[[LOGITS]], %[[MAX]] :
  // CHECK: %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[W]] : tensor<2x2x16x12xf32>) outs(%{{.+}} : tensor<2x2x16xf32>)
  // CHECK: %[[P:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW_MAP]], #[[$ID4]]], {{.*}} ins(%[[W]], %[[SUM]] : tensor<2x2x16x12xf32>, tensor<2x2x16xf32>)
  // CHECK:   arith.cmpf oeq
  // CHECK:   arith.divf
  // CHECK:   arith.select
  // CHECK: %[[OUT:.+]] = tensor.collapse_shape %[[P]] {{\[\[}}0, 1], [2], [3]] : tensor<2x2x16x12xf32> into tensor<4x16x12xf32>
  // CHECK: return %[[OUT]]
  // CHECK-NOT: attn.
  %p = attn.attention_probs %q, %k heads = 4 kv_heads = 2 mask = causal scale = 0.25
      : (tensor<16x32xf32>, tensor<12x16xf32>) -> tensor<4x16x12xf32>
  return %p : tensor<4x16x12xf32>
}

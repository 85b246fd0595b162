// attn.attention_probs lowers through the same score, mask, max and
// exp steps as the materialized attn.sdpa (sdpa.mlir), then normalizes
// each row instead of multiplying by V: probs[g, r, i, j] = weights / rowSum,
// 0 for a row with no visible key, collapsed from [G, R, S, T] to
// [H, S, T] because query head h = g * R + r. Every step writes over the
// one before, starting from an empty [H, S, T]: attn-expose-c-abi makes
// that the caller's output buffer (expose-c-abi.mlir), and no [H, S, T]
// temporary is left.
// Sizes: S = 16 queries, T = 12 keys, G = 2, R = 2, D = 8.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @probs_gqa(
func.func @probs_gqa(%q: tensor<16x32xf32>, %k: tensor<12x16xf32>) -> tensor<4x16x12xf32> {
  // CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<4x16x12xf32>
  // CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]] : tensor<4x16x12xf32>)
  // CHECK: %[[INIT:.+]] = tensor.expand_shape %[[ZERO]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 2, 16, 12]
  // CHECK: %[[SCORES:.+]] = linalg.generic {{.*}} outs(%[[INIT]] : tensor<2x2x16x12xf32>)
  // CHECK: %[[LOGITS:.+]] = linalg.generic {{.*}} outs(%[[SCORES]] : tensor<2x2x16x12xf32>)
  // CHECK: %[[MAX:.+]] = linalg.generic {{.*}} ins(%[[LOGITS]] : {{.*}} outs(%{{.+}} : tensor<2x2x16xf32>)
  // CHECK: %[[W:.+]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<2x2x16xf32>) outs(%[[LOGITS]] : tensor<2x2x16x12xf32>)
  // CHECK: %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[W]] : tensor<2x2x16x12xf32>) outs(%{{.+}} : tensor<2x2x16xf32>)
  // CHECK: %[[P:.+]] = linalg.generic {indexing_maps = [#[[$ROW_MAP]], #[[$ID4]]], {{.*}} ins(%[[SUM]] : tensor<2x2x16xf32>) outs(%[[W]] : tensor<2x2x16x12xf32>)
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

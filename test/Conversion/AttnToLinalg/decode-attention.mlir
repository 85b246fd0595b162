// attn.decode_attention first writes the token's key and value into row
// slot = position mod C of the caches, then reads the caches as tensors and
// runs the materialized attention of one query over C = 8 rows, where row j
// is visible while its age (slot - j) mod C is below min(span, position + 1)
// (span: the window, 3 here).

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @decode_window(
// CHECK-SAME: %[[Q:[a-z0-9_]+]]: tensor<1x32xf32>, %[[K:[a-z0-9_]+]]: tensor<1x16xf32>, %[[V:[a-z0-9_]+]]: tensor<1x16xf32>, %[[KC:[a-z0-9_]+]]: memref<8x16xf32>, %[[VC:[a-z0-9_]+]]: memref<8x16xf32>, %[[P:[a-z0-9_]+]]: i64)
func.func @decode_window(%q: tensor<1x32xf32>, %k: tensor<1x16xf32>, %v: tensor<1x16xf32>,
                         %kc: memref<8x16xf32>, %vc: memref<8x16xf32>, %pos: i64) -> tensor<1x32xf32> {
  // CHECK: %[[C8:.+]] = arith.constant 8 : i64
  // CHECK: %[[SLOT64:.+]] = arith.remui %[[P]], %[[C8]] : i64
  // CHECK: %[[SLOT:.+]] = arith.index_cast %[[SLOT64]] : i64 to index
  // CHECK: %[[SEEN:.+]] = arith.addi %[[P]], %{{.+}} : i64
  // CHECK: %[[C3:.+]] = arith.constant 3 : i64
  // CHECK: %[[LIMIT64:.+]] = arith.minui %[[SEEN]], %[[C3]] : i64
  // CHECK: %[[KROW:.+]] = memref.subview %[[KC]][%[[SLOT]], 0] [1, 16] [1, 1]
  // CHECK: bufferization.materialize_in_destination %[[K]] in writable %[[KROW]]
  // CHECK: %[[VROW:.+]] = memref.subview %[[VC]][%[[SLOT]], 0] [1, 16] [1, 1]
  // CHECK: bufferization.materialize_in_destination %[[V]] in writable %[[VROW]]
  // CHECK: %[[KT:.+]] = bufferization.to_tensor %[[KC]] restrict : memref<8x16xf32>
  // CHECK: %[[VT:.+]] = bufferization.to_tensor %[[VC]] restrict : memref<8x16xf32>
  // Scores of one query against the 8 cached rows, [G, R, 1, C].
  // CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<2x2x1x8xf32>)
  // The age test: (slot - j + C) mod C < limit.
  // CHECK: linalg.index 3 : index
  // CHECK: arith.subi %[[SLOT]]
  // CHECK: arith.remui
  // CHECK: arith.cmpi ult
  // CHECK: tensor.collapse_shape {{.*}} into tensor<1x32xf32>
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos
         heads = 4 kv_heads = 2 mask = window window = 3 scale = 0.5
      : (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<8x16xf32>,
         memref<8x16xf32>, i64) -> tensor<1x32xf32>
  return %o : tensor<1x32xf32>
}

// The optional operands of attn.sdpa add to the scaled scores inside the
// logits step, before the row max (see sdpa.mlir for the other steps):
//
//   logits[g, r, i, j] = scale * scores[g, r, i, j]
//                        + bias[i, j]                    (bias: [S, T], all heads)
//                        - alibi[g * R + r] * |i - j|    (alibi: [H] slopes)
//   and -inf where the mask hides key j from query i.
//
// Query head h = g * R + r (G = kv_heads, R = heads / kv_heads) reads slope
// alibi[h] through the map (g, r, i, j) -> (g * R + r). A bias of -inf hides
// a key like the mask does; a row whose every logit is -inf has row max -inf
// and yields zeros (the weights and output steps of sdpa.mlir).
// Here H = 4, G = 2, R = 2, D = 4, S = 6 queries.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// bias[i, j]
// CHECK-DAG: #[[$BIAS_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// alibi[g * R + r] with R = 2
// CHECK-DAG: #[[$ALIBI_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0 * 2 + d1)>
// CHECK-DAG: #[[$ROW_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @sdpa_bias(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<6x16xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<5x8xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<5x8xf32>,
// CHECK-SAME:    %[[BIAS:[a-zA-Z0-9_]+]]: tensor<6x5xf32>)
func.func @sdpa_bias(%q: tensor<6x16xf32>, %k: tensor<5x8xf32>,
                     %v: tensor<5x8xf32>, %bias: tensor<6x5xf32>)
    -> tensor<6x16xf32> {
  // An additive mask alone (mask = none, T = 5 keys): no index is needed.
  // CHECK:      %[[SCORES:.+]] = linalg.generic
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
  // CHECK:      %[[LOGITS:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$BIAS_MAP]], #[[$ID4]]]
  // CHECK-SAME:   ins(%[[BIAS]] : tensor<6x5xf32>) outs(%[[SCORES]] : tensor<2x2x6x5xf32>)
  // CHECK-NEXT: ^bb0(%[[B:.+]]: f32, %[[S:.+]]: f32):
  // logits = scale * s + bias[i, j]
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // CHECK-NEXT:   %[[L:.+]] = arith.addf %[[SCALED]], %[[B]] : f32
  // CHECK-NEXT:   linalg.yield %[[L]] : f32
  // CHECK-NEXT: } -> tensor<2x2x6x5xf32>
  // The row max reads the biased logits, so -inf from the bias is seen.
  // CHECK:      %[[MAX:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$ROW_MAP]]]
  // CHECK-SAME:   ins(%[[LOGITS]] : tensor<2x2x6x5xf32>)
  // CHECK:        arith.maximumf
  // A hidden logit (-inf, also in a row that is all -inf, where the max is
  // -inf) gets weight zero.
  // CHECK:      linalg.generic
  // CHECK-SAME:   ins(%[[MAX]] : tensor<2x2x6xf32>) outs(%[[LOGITS]] : tensor<2x2x6x5xf32>)
  // CHECK-NEXT: ^bb0(%[[MV:.+]]: f32, %[[LV:.+]]: f32):
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[EMPTY:.+]] = arith.cmpf oeq, %[[LV]], %[[NEG_INF]] : f32
  // CHECK:        arith.constant 0x4B400000 : f32
  // CHECK:        arith.select %[[EMPTY]]
  // CHECK-NOT:  linalg.index
  // CHECK:      tensor.collapse_shape
  %o = attn.sdpa %q, %k, %v bias %bias heads = 4 kv_heads = 2 mask = none
         scale = 0.5
      : (tensor<6x16xf32>, tensor<5x8xf32>, tensor<5x8xf32>, tensor<6x5xf32>)
      -> tensor<6x16xf32>
  return %o : tensor<6x16xf32>
}

// CHECK-LABEL: func.func @sdpa_alibi(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<6x16xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<6x8xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<6x8xf32>,
// CHECK-SAME:    %[[SLOPES:[a-zA-Z0-9_]+]]: tensor<4xf32>)
func.func @sdpa_alibi(%q: tensor<6x16xf32>, %k: tensor<6x8xf32>,
                      %v: tensor<6x8xf32>, %slopes: tensor<4xf32>)
    -> tensor<6x16xf32> {
  // CHECK:      %[[SCORES:.+]] = linalg.generic
  // CHECK:      %[[LOGITS:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ALIBI_MAP]], #[[$ID4]]]
  // CHECK-SAME:   ins(%[[SLOPES]] : tensor<4xf32>) outs(%[[SCORES]] : tensor<2x2x6x6xf32>)
  // CHECK-NEXT: ^bb0(%[[SLOPE:.+]]: f32, %[[S:.+]]: f32):
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // i and j are iteration dimensions 2 and 3 of (g, r, i, j).
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 2 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 3 : index
  // |i - j| as f32
  // CHECK-NEXT:   %[[DIFF:.+]] = arith.subi %[[I]], %[[J]] : index
  // CHECK-NEXT:   %[[DIFF64:.+]] = arith.index_cast %[[DIFF]] : index to i64
  // CHECK-NEXT:   %[[DIFF_F:.+]] = arith.sitofp %[[DIFF64]] : i64 to f32
  // CHECK-NEXT:   %[[DIST:.+]] = math.absf %[[DIFF_F]] : f32
  // logits = scale * s - alibi[h] * |i - j|
  // CHECK-NEXT:   %[[PENALTY:.+]] = arith.mulf %[[SLOPE]], %[[DIST]] : f32
  // CHECK-NEXT:   %[[L:.+]] = arith.subf %[[SCALED]], %[[PENALTY]] : f32
  // then the causal mask, on the same indices: j <= i
  // CHECK-NEXT:   %[[VIS:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[MASKED:.+]] = arith.select %[[VIS]], %[[L]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[MASKED]] : f32
  // CHECK-NEXT: } -> tensor<2x2x6x6xf32>
  // CHECK:      linalg.generic
  // CHECK-SAME:   ins(%[[LOGITS]] : tensor<2x2x6x6xf32>)
  // CHECK:        arith.maximumf
  %o = attn.sdpa %q, %k, %v alibi %slopes heads = 4 kv_heads = 2 mask = causal
         scale = 0.5
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<4xf32>)
      -> tensor<6x16xf32>
  return %o : tensor<6x16xf32>
}

// Both operands and a window mask: bias first, then ALiBi, then the mask.
// CHECK-LABEL: func.func @sdpa_both(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<6x16xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<6x8xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<6x8xf32>,
// CHECK-SAME:    %[[BIAS:[a-zA-Z0-9_]+]]: tensor<6x6xf32>,
// CHECK-SAME:    %[[SLOPES:[a-zA-Z0-9_]+]]: tensor<4xf32>)
func.func @sdpa_both(%q: tensor<6x16xf32>, %k: tensor<6x8xf32>,
                     %v: tensor<6x8xf32>, %bias: tensor<6x6xf32>,
                     %slopes: tensor<4xf32>) -> tensor<6x16xf32> {
  // CHECK:      %[[SCORES:.+]] = linalg.generic
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$BIAS_MAP]], #[[$ALIBI_MAP]], #[[$ID4]]]
  // CHECK-SAME:   ins(%[[BIAS]], %[[SLOPES]] : tensor<6x6xf32>, tensor<4xf32>) outs(%[[SCORES]] : tensor<2x2x6x6xf32>)
  // CHECK-NEXT: ^bb0(%[[B:.+]]: f32, %[[SLOPE:.+]]: f32, %[[S:.+]]: f32):
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // CHECK-NEXT:   %[[BIASED:.+]] = arith.addf %[[SCALED]], %[[B]] : f32
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 2 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 3 : index
  // CHECK-NEXT:   %[[DIFF:.+]] = arith.subi %[[I]], %[[J]] : index
  // CHECK-NEXT:   %[[DIFF64:.+]] = arith.index_cast %[[DIFF]] : index to i64
  // CHECK-NEXT:   %[[DIFF_F:.+]] = arith.sitofp %[[DIFF64]] : i64 to f32
  // CHECK-NEXT:   %[[DIST:.+]] = math.absf %[[DIFF_F]] : f32
  // CHECK-NEXT:   %[[PENALTY:.+]] = arith.mulf %[[SLOPE]], %[[DIST]] : f32
  // CHECK-NEXT:   %[[L:.+]] = arith.subf %[[BIASED]], %[[PENALTY]] : f32
  // window of 2: j <= i and i - j < 2
  // CHECK-NEXT:   %[[CAUSAL:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // CHECK-NEXT:   %[[W:.+]] = arith.constant 2 : index
  // CHECK-NEXT:   %[[AGO:.+]] = arith.subi %[[I]], %[[J]] : index
  // CHECK-NEXT:   %[[RECENT:.+]] = arith.cmpi slt, %[[AGO]], %[[W]] : index
  // CHECK-NEXT:   %[[VIS:.+]] = arith.andi %[[CAUSAL]], %[[RECENT]] : i1
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[MASKED:.+]] = arith.select %[[VIS]], %[[L]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[MASKED]] : f32
  %o = attn.sdpa %q, %k, %v bias %bias alibi %slopes heads = 4 kv_heads = 2
         mask = window window = 2 scale = 0.5
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<6x6xf32>,
         tensor<4xf32>) -> tensor<6x16xf32>
  return %o : tensor<6x16xf32>
}

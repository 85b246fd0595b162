// attn.sdpa lowers to linalg.generic operations over a materialized score
// tensor. With S queries, T keys, G = kv_heads, R = heads / kv_heads query
// heads per key/value head and D = head_dim, query head h = g * R + r reads
// key/value head g:
//
//   scores[g, r, i, j]  = sum_d q[i, g, r, d] * k[j, g, d]
//   logits[g, r, i, j]  = scale * scores, or -inf where the mask hides key j
//   rowMax[g, r, i]     = max_j logits
//   weights[g, r, i, j] = exp(logits - rowMax)   (0 if logits = -inf)
//
// logits and weights are written over the step before (their `outs`), so
// that the [G, R, S, T] steps share one buffer.
//   rowSum[g, r, i]     = sum_j weights
//   unnorm[i, g, r, d]  = sum_j weights[g, r, i, j] * v[j, g, d]
//   out[i, g, r, d]     = unnorm / rowSum        (0 if rowSum = 0)
//
// The main case uses distinct sizes S = 16, T = 12, G = 2, R = 3, D = 8 so
// every shape in the CHECK lines identifies which tensor it is.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// Iteration space of the two contractions is (g, r, i, j, d) = (d0 .. d4).
// CHECK-DAG: #[[$Q_MAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1, d4)>
// CHECK-DAG: #[[$KV_MAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d0, d4)>
// CHECK-DAG: #[[$SCORE_MAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// The elementwise and row-reduction steps iterate over (g, r, i, j).
// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// The final division iterates over the output layout (i, g, r, d) and reads
// rowSum[g, r, i].
// CHECK-DAG: #[[$SUM_MAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d0)>

// CHECK-LABEL: func.func @sdpa_gqa_causal(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x48xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<12x16xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<12x16xf32>)
func.func @sdpa_gqa_causal(%q: tensor<16x48xf32>, %k: tensor<12x16xf32>,
                           %v: tensor<12x16xf32>) -> tensor<16x48xf32> {
  // Split the head columns: q [S, H*D] -> [S, G, R, D], k [T, G*D] -> [T, G, D]
  // (v likewise, once the weights are known).
  // CHECK:      %[[QE:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2, 3]] output_shape [16, 2, 3, 8] : tensor<16x48xf32> into tensor<16x2x3x8xf32>
  // CHECK-NEXT: %[[KE:.+]] = tensor.expand_shape %[[K]] {{\[}}[0], [1, 2]] output_shape [12, 2, 8] : tensor<12x16xf32> into tensor<12x2x8xf32>

  // scores = q . k over head_dim, accumulated into zeros of shape [H, S, T]
  // seen as [G, R, S, T].
  // CHECK:      %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT: %[[SCORES_EMPTY:.+]] = tensor.empty() : tensor<6x16x12xf32>
  // CHECK-NEXT: %[[SCORES_ZERO:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[SCORES_EMPTY]] : tensor<6x16x12xf32>)
  // CHECK-NEXT: %[[SCORES_INIT:.+]] = tensor.expand_shape %[[SCORES_ZERO]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 16, 12]
  // CHECK-NEXT: %[[SCORES:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$Q_MAP]], #[[$KV_MAP]], #[[$SCORE_MAP]]]
  // d (the last dimension) is the only reduction.
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
  // CHECK-SAME:   ins(%[[QE]], %[[KE]] : tensor<16x2x3x8xf32>, tensor<12x2x8xf32>)
  // CHECK-SAME:   outs(%[[SCORES_INIT]] : tensor<2x3x16x12xf32>)
  // CHECK-NEXT: ^bb0(%[[QX:.+]]: f32, %[[KX:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[PROD:.+]] = arith.mulf %[[QX]], %[[KX]] : f32
  // CHECK-NEXT:   %[[SUM:.+]] = arith.addf %[[ACC]], %[[PROD]] : f32
  // CHECK-NEXT:   linalg.yield %[[SUM]] : f32
  // CHECK-NEXT: } -> tensor<2x3x16x12xf32>

  // logits = scale * scores, -inf where key j is hidden from query i.
  // CHECK:      %[[LOGITS:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // CHECK-SAME:   outs(%[[SCORES]] : tensor<2x3x16x12xf32>)
  // CHECK-NEXT: ^bb0(%[[S:.+]]: f32):
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 1.250000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // i and j are iteration dimensions 2 and 3 of (g, r, i, j).
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 2 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 3 : index
  // causal: key j is visible to query i iff j <= i.
  // CHECK-NEXT:   %[[VISIBLE:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[MASKED:.+]] = arith.select %[[VISIBLE]], %[[SCALED]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[MASKED]] : f32
  // CHECK-NEXT: } -> tensor<2x3x16x12xf32>

  // rowMax = max over keys, starting from -inf; j is the reduction.
  // CHECK:      %[[MAX_START:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT: %[[MAX_INIT:.+]] = linalg.fill ins(%[[MAX_START]] : f32) outs(%{{.+}} : tensor<2x3x16xf32>)
  // CHECK-NEXT: %[[MAX:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$ROW_MAP]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "reduction"]
  // CHECK-SAME:   ins(%[[LOGITS]] : tensor<2x3x16x12xf32>) outs(%[[MAX_INIT]] : tensor<2x3x16xf32>)
  // CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[M:.+]]: f32):
  // CHECK-NEXT:   %[[NEW_MAX:.+]] = arith.maximumf %[[L]], %[[M]] : f32
  // CHECK-NEXT:   linalg.yield %[[NEW_MAX]] : f32

  // weights = exp(logits - rowMax), 0 for a hidden logit (-inf): in a fully
  // masked row (rowMax = -inf) zeros instead of exp(-inf - -inf) = NaN.
  // Guarding on the logit, not the max, keeps a NaN logit NaN.
  // CHECK:      %[[WEIGHTS:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ROW_MAP]], #[[$ID4]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[MAX]] : tensor<2x3x16xf32>) outs(%[[LOGITS]] : tensor<2x3x16x12xf32>)
  // CHECK-NEXT: ^bb0(%[[M:.+]]: f32, %[[L:.+]]: f32):
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[EMPTY_ROW:.+]] = arith.cmpf oeq, %[[L]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   %[[SHIFTED:.+]] = arith.subf %[[L]], %[[M]] : f32
  // exp of the non-positive difference (SoftmaxExp.cpp): n = round(x log2
  // e) by adding 1.5 * 2^23, a polynomial of x - n ln2, times 2^n from its
  // exponent bits; 0 below ln(FLT_MIN).
  // CHECK:        arith.constant 0x4B400000 : f32
  // CHECK:        math.fma
  // CHECK:        arith.bitcast %{{.+}} : i32 to f32
  // CHECK:        arith.cmpf olt, %[[SHIFTED]]
  // CHECK:        %[[EXP:.+]] = arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
  // CHECK-NEXT:   %[[ZERO_W:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[W:.+]] = arith.select %[[EMPTY_ROW]], %[[ZERO_W]], %[[EXP]] : f32
  // CHECK-NEXT:   linalg.yield %[[W]] : f32

  // rowSum = sum of the weights over keys.
  // CHECK:      %[[SUM_INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x16xf32>)
  // CHECK-NEXT: %[[ROW_SUM:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$ROW_MAP]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "reduction"]
  // CHECK-SAME:   ins(%[[WEIGHTS]] : tensor<2x3x16x12xf32>) outs(%[[SUM_INIT]] : tensor<2x3x16xf32>)
  // CHECK-NEXT: ^bb0(%[[WX:.+]]: f32, %[[PARTIAL:.+]]: f32):
  // CHECK-NEXT:   %[[ADD:.+]] = arith.addf %[[WX]], %[[PARTIAL]] : f32
  // CHECK-NEXT:   linalg.yield %[[ADD]] : f32

  // unnorm = weights . v over keys, written straight into the [S, G, R, D]
  // output layout; iteration is (g, r, i, j, d) so j (d3) is the reduction.
  // CHECK:      %[[VE:.+]] = tensor.expand_shape %[[V]] {{\[}}[0], [1, 2]] output_shape [12, 2, 8] : tensor<12x16xf32> into tensor<12x2x8xf32>
  // CHECK:      %[[PV_INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<16x2x3x8xf32>)
  // CHECK-NEXT: %[[PV:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$SCORE_MAP]], #[[$KV_MAP]], #[[$Q_MAP]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]
  // CHECK-SAME:   ins(%[[WEIGHTS]], %[[VE]] : tensor<2x3x16x12xf32>, tensor<12x2x8xf32>)
  // CHECK-SAME:   outs(%[[PV_INIT]] : tensor<16x2x3x8xf32>)
  // CHECK-NEXT: ^bb0(%[[WX:.+]]: f32, %[[VX:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[PROD:.+]] = arith.mulf %[[WX]], %[[VX]] : f32
  // CHECK-NEXT:   %[[SUM:.+]] = arith.addf %[[ACC]], %[[PROD]] : f32
  // CHECK-NEXT:   linalg.yield %[[SUM]] : f32

  // out = unnorm / rowSum, 0 for a row that saw no key.
  // CHECK:      %[[OUT:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$SUM_MAP]], #[[$ID4]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[PV]], %[[ROW_SUM]] : tensor<16x2x3x8xf32>, tensor<2x3x16xf32>)
  // CHECK-NEXT: ^bb0(%[[NUM:.+]]: f32, %[[DEN:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[ZERO_O:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[NO_KEYS:.+]] = arith.cmpf oeq, %[[DEN]], %[[ZERO_O]] : f32
  // CHECK-NEXT:   %[[QUOT:.+]] = arith.divf %[[NUM]], %[[DEN]] : f32
  // CHECK-NEXT:   %[[O:.+]] = arith.select %[[NO_KEYS]], %[[ZERO_O]], %[[QUOT]] : f32
  // CHECK-NEXT:   linalg.yield %[[O]] : f32
  // CHECK-NEXT: } -> tensor<16x2x3x8xf32>

  // Merge the heads back: [S, G, R, D] -> [S, H*D].
  // CHECK-NEXT: %[[RESULT:.+]] = tensor.collapse_shape %[[OUT]] {{\[}}[0], [1, 2, 3]] : tensor<16x2x3x8xf32> into tensor<16x48xf32>
  // CHECK-NEXT: return %[[RESULT]] : tensor<16x48xf32>
  %o = attn.sdpa %q, %k, %v heads = 6 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<16x48xf32>, tensor<12x16xf32>, tensor<12x16xf32>)
      -> tensor<16x48xf32>
  return %o : tensor<16x48xf32>
}

// A sliding window of 3 keeps the causal test and adds i - j < 3: only
// visible pairs (j <= i) matter, and unlike j + 3 > i it cannot overflow
// for a window near the largest index.
// CHECK-LABEL: func.func @sdpa_window(
func.func @sdpa_window(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // Plain multi-head attention: G = 4 key/value heads, R = 1.
  // CHECK:      tensor.expand_shape %{{.+}} output_shape [16, 4, 1, 8]
  // CHECK:      %[[SCORES:.+]] = linalg.generic
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
  // CHECK:      linalg.generic
  // CHECK-SAME:   outs(%[[SCORES]] : tensor<4x1x16x16xf32>)
  // CHECK-NEXT: ^bb0(%[[S:.+]]: f32):
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 2.500000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 2 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 3 : index
  // not in the future: j <= i
  // CHECK-NEXT:   %[[CAUSAL:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // not too far in the past: i - j < window
  // CHECK-NEXT:   %[[W:.+]] = arith.constant 3 : index
  // CHECK-NEXT:   %[[AGO:.+]] = arith.subi %[[I]], %[[J]] : index
  // CHECK-NEXT:   %[[RECENT:.+]] = arith.cmpi slt, %[[AGO]], %[[W]] : index
  // CHECK-NEXT:   %[[VISIBLE:.+]] = arith.andi %[[CAUSAL]], %[[RECENT]] : i1
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[MASKED:.+]] = arith.select %[[VISIBLE]], %[[SCALED]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[MASKED]] : f32
  // The softmax and PV steps are the same as for the causal mask.
  // CHECK:      arith.maximumf
  // CHECK:      arith.constant 0x4B400000 : f32
  // CHECK:      arith.divf
  // CHECK:      tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<16x4x1x8xf32> into tensor<16x32xf32>
  %o = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = window window = 3
         scale = 0.25
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

// Without a mask every key is visible: the logits step is only the scaling,
// and no index is computed or compared anywhere in the function.
// Multi-query attention (kv_heads = 1): G = 1, R = 4.
// CHECK-LABEL: func.func @sdpa_mask_none(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<16x8xf32>,
func.func @sdpa_mask_none(%q: tensor<16x32xf32>, %k: tensor<16x8xf32>,
                          %v: tensor<16x8xf32>) -> tensor<16x32xf32> {
  // CHECK-NOT:  linalg.index
  // CHECK-NOT:  arith.cmpi
  // CHECK:      tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2, 3]] output_shape [16, 1, 4, 8]
  // CHECK-NEXT: tensor.expand_shape %[[K]] {{\[}}[0], [1, 2]] output_shape [16, 1, 8]
  // CHECK-NOT:  linalg.index
  // CHECK-NOT:  arith.cmpi
  // CHECK:      %[[SCORES:.+]] = linalg.generic
  // CHECK-NOT:  linalg.index
  // CHECK-NOT:  arith.cmpi
  // CHECK:      linalg.generic
  // CHECK-SAME:   outs(%[[SCORES]] : tensor<1x4x16x16xf32>)
  // CHECK-NEXT: ^bb0(%[[S:.+]]: f32):
  // CHECK-NEXT:   %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[SCALED:.+]] = arith.mulf %[[S]], %[[SCALE]] : f32
  // CHECK-NEXT:   linalg.yield %[[SCALED]] : f32
  // CHECK-NOT:  linalg.index
  // CHECK-NOT:  arith.cmpi
  // CHECK:      tensor.collapse_shape
  // CHECK-NOT:  linalg.index
  // CHECK-NOT:  arith.cmpi
  // CHECK:      return
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 1 mask = none scale = 0.5
      : (tensor<16x32xf32>, tensor<16x8xf32>, tensor<16x8xf32>)
      -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

// attn.mask and attn.softmax, the score-side ops of attention written out
// by hand. They follow what attn.sdpa does internally (sdpa.mlir).
//
//   attn.mask     y[.., i, j] = x[.., i, j] if key j is visible to query i,
//                 else -inf; i, j = linalg.index of the last two dims;
//                 causal: j <= i; window(w): j <= i and j + w > i
//   attn.softmax  along axis a, with `rest` every other dimension:
//                 m[rest]   = max_a x                   (init -inf)
//                 e         = exp(x - m), 0 if x = -inf (all of an -inf slice)
//                 sum[rest] = sum_a e                   (init 0)
//                 y         = e / sum, 0 if sum = 0     (all -inf slice)

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// softmax over axis 2 reads/writes its statistics at (d0, d1) ...
// CHECK-DAG: #[[$DROP2:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// ... over axis 1 at (d0, d2) ...
// CHECK-DAG: #[[$DROP1:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// ... and a vector's statistics are scalars.
// CHECK-DAG: #[[$ID1:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0) -> ()>

// CHECK-LABEL: func.func @mask_causal(
// CHECK-SAME:    %[[S:[a-zA-Z0-9_]+]]: tensor<2x5x5xf32>)
func.func @mask_causal(%s: tensor<2x5x5xf32>) -> tensor<2x5x5xf32> {
  // The leading dimension is a batch; i and j are dimensions 1 and 2.
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<2x5x5xf32>
  // CHECK-NEXT: %[[M:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$ID3]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[S]] : tensor<2x5x5xf32>) outs(%[[INIT]] : tensor<2x5x5xf32>)
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 1 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 2 : index
  // visible iff j <= i
  // CHECK-NEXT:   %[[VIS:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.select %[[VIS]], %[[X]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  // CHECK-NEXT: } -> tensor<2x5x5xf32>
  // CHECK-NEXT: return %[[M]]
  %m = attn.mask %s causal : tensor<2x5x5xf32>
  return %m : tensor<2x5x5xf32>
}

// CHECK-LABEL: func.func @mask_window(
func.func @mask_window(%s: tensor<5x6xf32>) -> tensor<5x6xf32> {
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID2]], #[[$ID2]]]
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[I:.+]] = linalg.index 0 : index
  // CHECK-NEXT:   %[[J:.+]] = linalg.index 1 : index
  // not in the future: j <= i
  // CHECK-NEXT:   %[[CAUSAL:.+]] = arith.cmpi sle, %[[J]], %[[I]] : index
  // one of the last 2 tokens: i - j < 2 (no sum that could overflow)
  // CHECK-NEXT:   %[[W:.+]] = arith.constant 2 : index
  // CHECK-NEXT:   %[[AGO:.+]] = arith.subi %[[I]], %[[J]] : index
  // CHECK-NEXT:   %[[RECENT:.+]] = arith.cmpi slt, %[[AGO]], %[[W]] : index
  // CHECK-NEXT:   %[[VIS:.+]] = arith.andi %[[CAUSAL]], %[[RECENT]] : i1
  // CHECK-NEXT:   %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.select %[[VIS]], %[[X]], %[[NEG_INF]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  %m = attn.mask %s window window = 2 : tensor<5x6xf32>
  return %m : tensor<5x6xf32>
}

// mask none hides nothing: the input is returned as it is.
// CHECK-LABEL: func.func @mask_none(
// CHECK-SAME:    %[[S:[a-zA-Z0-9_]+]]: tensor<5x5xf32>)
func.func @mask_none(%s: tensor<5x5xf32>) -> tensor<5x5xf32> {
  // CHECK-NOT:  linalg.generic
  // CHECK:      return %[[S]]
  %m = attn.mask %s none : tensor<5x5xf32>
  return %m : tensor<5x5xf32>
}

// CHECK-LABEL: func.func @softmax_last(
// CHECK-SAME:    %[[S:[a-zA-Z0-9_]+]]: tensor<2x5x6xf32>)
func.func @softmax_last(%s: tensor<2x5x6xf32>) -> tensor<2x5x6xf32> {
  // m = max over the axis, from -inf; the axis is the reduction dimension.
  // CHECK:      %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT: %[[MAX_INIT:.+]] = linalg.fill ins(%[[NEG_INF]] : f32) outs(%{{.+}} : tensor<2x5xf32>)
  // CHECK-NEXT: %[[MAX:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP2]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK-SAME:   ins(%[[S]] : tensor<2x5x6xf32>) outs(%[[MAX_INIT]] : tensor<2x5xf32>)
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[NEW:.+]] = arith.maximumf %[[X]], %[[ACC]] : f32
  // CHECK-NEXT:   linalg.yield %[[NEW]] : f32

  // e = exp(x - m), 0 where x = -inf: an all -inf slice (m = -inf) gets 0,
  // not NaN.
  // CHECK:      %[[E:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP2]], #[[$ID3]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[S]], %[[MAX]] : tensor<2x5x6xf32>, tensor<2x5xf32>)
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[M:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[NI:.+]] = arith.constant 0xFF800000 : f32
  // CHECK-NEXT:   %[[EMPTY:.+]] = arith.cmpf oeq, %[[X]], %[[NI]] : f32
  // CHECK-NEXT:   %[[SH:.+]] = arith.subf %[[X]], %[[M]] : f32
  // CHECK:        arith.constant 0x4B400000 : f32
  // CHECK:        arith.cmpf olt, %[[SH]]
  // CHECK:        %[[EX:.+]] = arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
  // CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[EV:.+]] = arith.select %[[EMPTY]], %[[ZERO]], %[[EX]] : f32
  // CHECK-NEXT:   linalg.yield %[[EV]] : f32

  // sum = sum of e over the axis, from 0.
  // CHECK:      %[[SUM_INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x5xf32>)
  // CHECK-NEXT: %[[SUM:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP2]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK-SAME:   ins(%[[E]] : tensor<2x5x6xf32>) outs(%[[SUM_INIT]] : tensor<2x5xf32>)
  // CHECK-NEXT: ^bb0(%[[EV:.+]]: f32, %[[ACC:.+]]: f32):
  // CHECK-NEXT:   %[[NEW:.+]] = arith.addf %[[EV]], %[[ACC]] : f32
  // CHECK-NEXT:   linalg.yield %[[NEW]] : f32

  // y = e / sum; sum = 0 only for an all -inf slice, which gives zeros.
  // CHECK:      %[[Y:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP2]], #[[$ID3]]]
  // CHECK-SAME:   ins(%[[E]], %[[SUM]] : tensor<2x5x6xf32>, tensor<2x5xf32>)
  // CHECK-NEXT: ^bb0(%[[EV:.+]]: f32, %[[SV:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[EMPTY:.+]] = arith.cmpf oeq, %[[SV]], %[[ZERO]] : f32
  // CHECK-NEXT:   %[[Q:.+]] = arith.divf %[[EV]], %[[SV]] : f32
  // CHECK-NEXT:   %[[YV:.+]] = arith.select %[[EMPTY]], %[[ZERO]], %[[Q]] : f32
  // CHECK-NEXT:   linalg.yield %[[YV]] : f32
  // CHECK-NEXT: } -> tensor<2x5x6xf32>
  // CHECK-NEXT: return %[[Y]]
  %p = attn.softmax %s axis = 2 : tensor<2x5x6xf32>
  return %p : tensor<2x5x6xf32>
}

// Any axis: over axis 1 the statistics are [2, 6] and dimension 1 is the
// reduction.
// CHECK-LABEL: func.func @softmax_middle(
func.func @softmax_middle(%s: tensor<2x5x6xf32>) -> tensor<2x5x6xf32> {
  // CHECK:      %[[MAX:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP1]]]
  // CHECK-SAME:   iterator_types = ["parallel", "reduction", "parallel"]
  // CHECK-SAME:   outs(%{{.+}} : tensor<2x6xf32>)
  // CHECK:        arith.maximumf
  // CHECK:      %[[E:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$DROP1]], #[[$ID3]]]
  // CHECK-SAME:   ins(%{{.+}}, %[[MAX]] : tensor<2x5x6xf32>, tensor<2x6xf32>)
  // CHECK:        arith.constant 0x4B400000 : f32
  // CHECK:      %[[SUM:.+]] = linalg.generic
  // CHECK-SAME:   iterator_types = ["parallel", "reduction", "parallel"]
  // CHECK-SAME:   ins(%[[E]] : tensor<2x5x6xf32>) outs(%{{.+}} : tensor<2x6xf32>)
  // CHECK:      linalg.generic
  // CHECK-SAME:   ins(%[[E]], %[[SUM]] : tensor<2x5x6xf32>, tensor<2x6xf32>)
  // CHECK:        arith.divf
  %p = attn.softmax %s axis = 1 : tensor<2x5x6xf32>
  return %p : tensor<2x5x6xf32>
}

// A rank-1 softmax reduces into rank-0 tensors.
// CHECK-LABEL: func.func @softmax_vector(
func.func @softmax_vector(%s: tensor<7xf32>) -> tensor<7xf32> {
  // CHECK:      %[[MAX:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID1]], #[[$SCALAR]]]
  // CHECK-SAME:   iterator_types = ["reduction"]
  // CHECK-SAME:   outs(%{{.+}} : tensor<f32>)
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID1]], #[[$SCALAR]], #[[$ID1]]]
  // CHECK-SAME:   ins(%{{.+}}, %[[MAX]] : tensor<7xf32>, tensor<f32>)
  %p = attn.softmax %s axis = 0 : tensor<7xf32>
  return %p : tensor<7xf32>
}

// attn.rope: the position s of an element is its index along dimension -2;
// pair p (0 <= p < D/2) of every head turns by
//   theta[s, p] = s * base^(-2p / D)
// and (x1, x2) becomes (x1 cos - x2 sin, x1 sin + x2 cos). `half` pairs
// features (p, p + D/2), `interleaved` pairs (2p, 2p + 1).
//
// The lowering
//  1. builds cos[S, D/2] and sin[S, D/2] in one linalg.generic with two
//     results; the angle, cos and sin are computed in f64 and rounded once;
//  2. expands the head columns W = heads * D into [heads, 2, D/2] (half) or
//     [heads, D/2, 2] (interleaved): a pair is e = 0, 1 of the size-2 dim;
//  3. computes y = x * cos + (e == 0 ? -partner : partner) * sin, reading the
//     partner through the map e -> 1 - e (no gather);
//  4. collapses back to the input shape.
// S = 5 tokens, 3 heads of D = 8 features (P = 4 pairs) tell the shapes apart.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$TAB:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// half: (s, head, e, p); the partner flips e.
// CHECK-DAG: #[[$HALF_PARTNER:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, -d2 + 1, d3)>
// CHECK-DAG: #[[$HALF_TABLE:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// interleaved: (s, head, p, e).
// CHECK-DAG: #[[$INTL_PARTNER:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, -d3 + 1)>
// CHECK-DAG: #[[$INTL_TABLE:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
// [H, S, D]: (head, s, 1, e, p); the position is dimension 1.
// CHECK-DAG: #[[$ID5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$H3_PARTNER:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, -d3 + 1, d4)>
// CHECK-DAG: #[[$H3_TABLE:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>

// CHECK-LABEL: func.func @rope_half(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<5x24xf32>)
func.func @rope_half(%x: tensor<5x24xf32>) -> tensor<5x24xf32> {
  // Step 1: the rotation tables over (s, p).
  // CHECK:      %[[TABLES:.+]]:2 = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$TAB]], #[[$TAB]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel"]
  // CHECK-SAME:   outs(%{{.+}}, %{{.+}} : tensor<5x4xf32>, tensor<5x4xf32>)
  // CHECK-NEXT: ^bb0(%{{.+}}: f32, %{{.+}}: f32):
  // s and p as f64
  // CHECK-NEXT:   %[[S_IDX:.+]] = linalg.index 0 : index
  // CHECK-NEXT:   %[[S_I64:.+]] = arith.index_cast %[[S_IDX]] : index to i64
  // CHECK-NEXT:   %[[S:.+]] = arith.sitofp %[[S_I64]] : i64 to f64
  // CHECK-NEXT:   %[[P_IDX:.+]] = linalg.index 1 : index
  // CHECK-NEXT:   %[[P_I64:.+]] = arith.index_cast %[[P_IDX]] : index to i64
  // CHECK-NEXT:   %[[P:.+]] = arith.sitofp %[[P_I64]] : i64 to f64
  // exponent = -2p / D
  // CHECK-NEXT:   %[[M2:.+]] = arith.constant -2.000000e+00 : f64
  // CHECK-NEXT:   %[[M2P:.+]] = arith.mulf %[[P]], %[[M2]] : f64
  // CHECK-NEXT:   %[[D:.+]] = arith.constant 8.000000e+00 : f64
  // CHECK-NEXT:   %[[EXP:.+]] = arith.divf %[[M2P]], %[[D]] : f64
  // theta = s * base^exponent
  // CHECK-NEXT:   %[[BASE:.+]] = arith.constant 1.000000e+04 : f64
  // CHECK-NEXT:   %[[FREQ:.+]] = math.powf %[[BASE]], %[[EXP]] : f64
  // CHECK-NEXT:   %[[THETA:.+]] = arith.mulf %[[S]], %[[FREQ]] : f64
  // cos and sin rounded to f32
  // CHECK-NEXT:   %[[COS64:.+]] = math.cos %[[THETA]] : f64
  // CHECK-NEXT:   %[[COS:.+]] = arith.truncf %[[COS64]] : f64 to f32
  // CHECK-NEXT:   %[[SIN64:.+]] = math.sin %[[THETA]] : f64
  // CHECK-NEXT:   %[[SIN:.+]] = arith.truncf %[[SIN64]] : f64 to f32
  // CHECK-NEXT:   linalg.yield %[[COS]], %[[SIN]] : f32, f32
  // CHECK-NEXT: } -> (tensor<5x4xf32>, tensor<5x4xf32>)

  // Step 2: [S, heads * D] -> [S, heads, 2, D/2]; pair p is (e=0, p), (e=1, p),
  // i.e. features p and p + D/2 of the head.
  // CHECK-NEXT: %[[XE:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3]] output_shape [5, 3, 2, 4] : tensor<5x24xf32> into tensor<5x3x2x4xf32>

  // Step 3: rotate.
  // CHECK:      %[[ROT:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$HALF_PARTNER]], #[[$HALF_TABLE]], #[[$HALF_TABLE]], #[[$ID4]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[XE]], %[[XE]], %[[TABLES]]#0, %[[TABLES]]#1 : tensor<5x3x2x4xf32>, tensor<5x3x2x4xf32>, tensor<5x4xf32>, tensor<5x4xf32>)
  // CHECK-NEXT: ^bb0(%[[XV:.+]]: f32, %[[PARTNER:.+]]: f32, %[[C:.+]]: f32, %[[SN:.+]]: f32, %{{.+}}: f32):
  // e is iteration dimension 2; the first of a pair gets -x2 sin.
  // CHECK-NEXT:   %[[E:.+]] = linalg.index 2 : index
  // CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0 : index
  // CHECK-NEXT:   %[[FIRST:.+]] = arith.cmpi eq, %[[E]], %[[ZERO]] : index
  // CHECK-NEXT:   %[[NEG:.+]] = arith.negf %[[PARTNER]] : f32
  // CHECK-NEXT:   %[[SIGNED:.+]] = arith.select %[[FIRST]], %[[NEG]], %[[PARTNER]] : f32
  // y = x cos + signed partner * sin
  // CHECK-NEXT:   %[[XC:.+]] = arith.mulf %[[XV]], %[[C]] : f32
  // CHECK-NEXT:   %[[PS:.+]] = arith.mulf %[[SIGNED]], %[[SN]] : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.addf %[[XC]], %[[PS]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  // CHECK-NEXT: } -> tensor<5x3x2x4xf32>

  // Step 4: back to [S, heads * D].
  // CHECK-NEXT: %[[OUT:.+]] = tensor.collapse_shape %[[ROT]] {{\[}}[0], [1, 2, 3]] : tensor<5x3x2x4xf32> into tensor<5x24xf32>
  // CHECK-NEXT: return %[[OUT]]
  %y = attn.rope %x head_dim = 8 base = 1.0e4 style = half : tensor<5x24xf32>
  return %y : tensor<5x24xf32>
}

// CHECK-LABEL: func.func @rope_interleaved(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<5x24xf32>)
func.func @rope_interleaved(%x: tensor<5x24xf32>) -> tensor<5x24xf32> {
  // The same tables with base 500.
  // CHECK:      %[[TABLES:.+]]:2 = linalg.generic
  // CHECK:        %[[BASE:.+]] = arith.constant 5.000000e+02 : f64
  // CHECK-NEXT:   math.powf %[[BASE]]
  // [S, heads * D] -> [S, heads, D/2, 2]: pair p is features 2p and 2p + 1.
  // CHECK:      %[[XE:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3]] output_shape [5, 3, 4, 2] : tensor<5x24xf32> into tensor<5x3x4x2xf32>
  // CHECK:      %[[ROT:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID4]], #[[$INTL_PARTNER]], #[[$INTL_TABLE]], #[[$INTL_TABLE]], #[[$ID4]]]
  // CHECK-SAME:   ins(%[[XE]], %[[XE]], %[[TABLES]]#0, %[[TABLES]]#1 :
  // e is now the last iteration dimension.
  // CHECK:        %[[E:.+]] = linalg.index 3 : index
  // CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0 : index
  // CHECK-NEXT:   arith.cmpi eq, %[[E]], %[[ZERO]] : index
  // CHECK:      tensor.collapse_shape %[[ROT]] {{\[}}[0], [1, 2, 3]] : tensor<5x3x4x2xf32> into tensor<5x24xf32>
  %y = attn.rope %x head_dim = 8 base = 5.0e2 style = interleaved : tensor<5x24xf32>
  return %y : tensor<5x24xf32>
}

// [H, S, D] input: the position is dimension 1, every head reads the same
// [S, D/2] tables.
// CHECK-LABEL: func.func @rope_heads_first(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<3x5x8xf32>)
func.func @rope_heads_first(%x: tensor<3x5x8xf32>) -> tensor<3x5x8xf32> {
  // CHECK:      %[[TABLES:.+]]:2 = linalg.generic
  // CHECK-SAME:   outs(%{{.+}}, %{{.+}} : tensor<5x4xf32>, tensor<5x4xf32>)
  // CHECK:      %[[XE:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3, 4]] output_shape [3, 5, 1, 2, 4] : tensor<3x5x8xf32> into tensor<3x5x1x2x4xf32>
  // CHECK:      %[[ROT:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID5]], #[[$H3_PARTNER]], #[[$H3_TABLE]], #[[$H3_TABLE]], #[[$ID5]]]
  // CHECK-SAME:   ins(%[[XE]], %[[XE]], %[[TABLES]]#0, %[[TABLES]]#1 :
  // CHECK:        linalg.index 3 : index
  // CHECK:      tensor.collapse_shape %[[ROT]] {{\[}}[0], [1], [2, 3, 4]] : tensor<3x5x1x2x4xf32> into tensor<3x5x8xf32>
  %y = attn.rope %x head_dim = 8 base = 1.0e4 style = half : tensor<3x5x8xf32>
  return %y : tensor<3x5x8xf32>
}

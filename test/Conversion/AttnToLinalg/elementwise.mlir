// The elementwise attn ops lower to one all-parallel linalg.generic each,
// written into a tensor.empty of the result shape:
//
//   attn.scale     y = x * factor
//   attn.add/sub/mul  y = lhs (+ - *) rhs; an operand whose shape is a suffix
//                  of the result's is read through a map onto the trailing
//                  dimensions (it repeats along the leading ones)
//   attn.gelu none y = x * (1 + erf(x / sqrt(2))) / 2
//   attn.gelu tanh y = x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2
//   attn.silu      y = x / (1 + exp(-x))
//   attn.relu      y = x < 0 ? 0 : x

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// A [W] row broadcast over a [B, S, W] result reads the last dimension only.
// CHECK-DAG: #[[$LAST:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// An [S, W] operand of a [B, S, W] result reads the last two dimensions.
// CHECK-DAG: #[[$LAST2:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// A rank-0 operand is the same scalar everywhere.
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0, d1) -> ()>

// CHECK-LABEL: func.func @scale(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<4x8xf32>)
func.func @scale(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<4x8xf32>
  // CHECK-NEXT: %[[Y:.+]] = linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID2]], #[[$ID2]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel"]
  // CHECK-SAME:   ins(%[[X]] : tensor<4x8xf32>) outs(%[[INIT]] : tensor<4x8xf32>)
  // CHECK-NEXT: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
  // y = x * factor
  // CHECK-NEXT:   %[[F:.+]] = arith.constant 2.500000e-01 : f32
  // CHECK-NEXT:   %[[P:.+]] = arith.mulf %[[IN]], %[[F]] : f32
  // CHECK-NEXT:   linalg.yield %[[P]] : f32
  // CHECK:      return %[[Y]]
  %y = attn.scale %x by 0.25 : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @add_same(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<4x8xf32>)
func.func @add_same(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // Equal shapes: both operands use the identity map.
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ID2]]]
  // CHECK-SAME:   ins(%[[A]], %[[B]] : tensor<4x8xf32>, tensor<4x8xf32>)
  // CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[R:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[S:.+]] = arith.addf %[[L]], %[[R]] : f32
  // CHECK-NEXT:   linalg.yield %[[S]] : f32
  %y = attn.add %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @add_row(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<2x4x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<8xf32>)
func.func @add_row(%a: tensor<2x4x8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // y[i, j, k] = a[i, j, k] + b[k]; no broadcast tensor is materialized.
  // CHECK-NOT:  linalg.broadcast
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID3]], #[[$LAST]], #[[$ID3]]]
  // CHECK-SAME:   iterator_types = ["parallel", "parallel", "parallel"]
  // CHECK-SAME:   ins(%[[A]], %[[B]] : tensor<2x4x8xf32>, tensor<8xf32>)
  // CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[R:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[S:.+]] = arith.addf %[[L]], %[[R]] : f32
  // CHECK-NEXT:   linalg.yield %[[S]] : f32
  %y = attn.add %a, %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// The smaller operand may come first; the order of subtraction is kept.
// CHECK-LABEL: func.func @sub_small_lhs(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<2x4x8xf32>)
func.func @sub_small_lhs(%a: tensor<4x8xf32>, %b: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // y[i, j, k] = a[j, k] - b[i, j, k]
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$LAST2]], #[[$ID3]], #[[$ID3]]]
  // CHECK-SAME:   ins(%[[A]], %[[B]] : tensor<4x8xf32>, tensor<2x4x8xf32>)
  // CHECK-SAME:   outs(%{{.+}} : tensor<2x4x8xf32>)
  // CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[R:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[D:.+]] = arith.subf %[[L]], %[[R]] : f32
  // CHECK-NEXT:   linalg.yield %[[D]] : f32
  %y = attn.sub %a, %b : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// CHECK-LABEL: func.func @mul_scalar(
func.func @mul_scalar(%a: tensor<4x8xf32>, %b: tensor<f32>) -> tensor<4x8xf32> {
  // The empty shape is a suffix of every shape: y[i, j] = a[i, j] * b[].
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID2]], #[[$SCALAR]], #[[$ID2]]]
  // CHECK-SAME:   ins(%{{.+}}, %{{.+}} : tensor<4x8xf32>, tensor<f32>)
  // CHECK-NEXT: ^bb0(%[[L:.+]]: f32, %[[R:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[P:.+]] = arith.mulf %[[L]], %[[R]] : f32
  // CHECK-NEXT:   linalg.yield %[[P]] : f32
  %y = attn.mul %a, %b : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @gelu_erf(
func.func @gelu_erf(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK:      linalg.generic
  // CHECK-SAME:   indexing_maps = [#[[$ID2]], #[[$ID2]]]
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // x / sqrt(2), as x * (1 / sqrt(2))
  // CHECK-NEXT:   %[[RSQRT2:.+]] = arith.constant 0.707106769 : f32
  // CHECK-NEXT:   %[[XS:.+]] = arith.mulf %[[X]], %[[RSQRT2]] : f32
  // CHECK-NEXT:   %[[ERF:.+]] = math.erf %[[XS]] : f32
  // x * (1 + erf) / 2
  // CHECK-NEXT:   %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
  // CHECK-NEXT:   %[[T1:.+]] = arith.addf %[[ONE]], %[[ERF]] : f32
  // CHECK-NEXT:   %[[T2:.+]] = arith.mulf %[[X]], %[[T1]] : f32
  // CHECK-NEXT:   %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.mulf %[[T2]], %[[HALF]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  // CHECK-NOT:  math.tanh
  %y = attn.gelu %x approximate = none : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @gelu_tanh(
func.func @gelu_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK:      linalg.generic
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // x^3
  // CHECK-NEXT:   %[[X2:.+]] = arith.mulf %[[X]], %[[X]] : f32
  // CHECK-NEXT:   %[[X3:.+]] = arith.mulf %[[X2]], %[[X]] : f32
  // x + 0.044715 x^3
  // CHECK-NEXT:   %[[C:.+]] = arith.constant 4.471500e-02 : f32
  // CHECK-NEXT:   %[[CX3:.+]] = arith.mulf %[[C]], %[[X3]] : f32
  // CHECK-NEXT:   %[[INNER:.+]] = arith.addf %[[X]], %[[CX3]] : f32
  // tanh(sqrt(2/pi) * inner); sqrt(2/pi) = 0.7978845608
  // CHECK-NEXT:   %[[K:.+]] = arith.constant 0.797884583 : f32
  // CHECK-NEXT:   %[[ARG:.+]] = arith.mulf %[[K]], %[[INNER]] : f32
  // CHECK-NEXT:   %[[T:.+]] = math.tanh %[[ARG]] : f32
  // x * (1 + t) / 2
  // CHECK-NEXT:   %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
  // CHECK-NEXT:   %[[T1:.+]] = arith.addf %[[ONE]], %[[T]] : f32
  // CHECK-NEXT:   %[[T2:.+]] = arith.mulf %[[X]], %[[T1]] : f32
  // CHECK-NEXT:   %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.mulf %[[T2]], %[[HALF]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  // CHECK-NOT:  math.erf
  %y = attn.gelu %x approximate = tanh : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @silu(
func.func @silu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // y = x * sigmoid(x) = x / (1 + exp(-x))
  // CHECK:      linalg.generic
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[NEG:.+]] = arith.negf %[[X]] : f32
  // CHECK-NEXT:   %[[E:.+]] = math.exp %[[NEG]] : f32
  // CHECK-NEXT:   %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
  // CHECK-NEXT:   %[[DEN:.+]] = arith.addf %[[ONE]], %[[E]] : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.divf %[[X]], %[[DEN]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  %y = attn.silu %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @relu(
func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // y = x < 0 ? 0 : x (NaN passes through, -0 stays -0)
  // CHECK:      linalg.generic
  // CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
  // CHECK-NEXT:   %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[NEG:.+]] = arith.cmpf olt, %[[X]], %[[ZERO]] : f32
  // CHECK-NEXT:   %[[Y:.+]] = arith.select %[[NEG]], %[[ZERO]], %[[X]] : f32
  // CHECK-NEXT:   linalg.yield %[[Y]] : f32
  %y = attn.relu %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

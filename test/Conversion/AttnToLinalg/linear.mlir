// attn.linear lowers to a single linalg.matmul whose accumulator is the bias
// broadcast to every row, or zeros when there is no bias:
//   y[t, o] = b[o] + sum_i x[t, i] * w[i, o]

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @linear_bias(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[W:[a-zA-Z0-9_]+]]: tensor<32x96xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<96xf32>)
func.func @linear_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>,
                       %b: tensor<96xf32>) -> tensor<16x96xf32> {
  // The accumulator starts as b copied into every one of the 16 token rows
  // (dimension 0 is the one added by the broadcast).
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<16x96xf32>
  // CHECK-NEXT: %[[ACC:.+]] = linalg.broadcast ins(%[[B]] : tensor<96xf32>) outs(%[[INIT]] : tensor<16x96xf32>) dimensions = [0]
  // y = acc + x @ w
  // CHECK-NEXT: %[[Y:.+]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<16x32xf32>, tensor<32x96xf32>) outs(%[[ACC]] : tensor<16x96xf32>) -> tensor<16x96xf32>
  // CHECK-NEXT: return %[[Y]] : tensor<16x96xf32>
  %y = attn.linear %x, %w, %b
      : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x96xf32>
  return %y : tensor<16x96xf32>
}

// CHECK-LABEL: func.func @linear_no_bias(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<8x32xf32>,
// CHECK-SAME:    %[[W:[a-zA-Z0-9_]+]]: tensor<32x24xf32>)
func.func @linear_no_bias(%x: tensor<8x32xf32>, %w: tensor<32x24xf32>)
    -> tensor<8x24xf32> {
  // Without a bias the accumulator is zero-filled; no broadcast is created.
  // CHECK-NOT:  linalg.broadcast
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<8x24xf32>
  // CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[INIT]] : tensor<8x24xf32>) -> tensor<8x24xf32>
  // y = 0 + x @ w
  // CHECK-NEXT: %[[Y:.+]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<8x32xf32>, tensor<32x24xf32>) outs(%[[ACC]] : tensor<8x24xf32>) -> tensor<8x24xf32>
  // CHECK-NEXT: return %[[Y]] : tensor<8x24xf32>
  %y = attn.linear %x, %w
      : (tensor<8x32xf32>, tensor<32x24xf32>) -> tensor<8x24xf32>
  return %y : tensor<8x24xf32>
}

// Operations of other dialects are left alone, and chained projections are
// each lowered independently (the second matmul consumes the first).
// CHECK-LABEL: func.func @linear_chain(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<4x8xf32>,
// CHECK-SAME:    %[[W1:[a-zA-Z0-9_]+]]: tensor<8x16xf32>,
// CHECK-SAME:    %[[W2:[a-zA-Z0-9_]+]]: tensor<16x8xf32>,
// CHECK-SAME:    %[[B2:[a-zA-Z0-9_]+]]: tensor<8xf32>)
func.func @linear_chain(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>,
                        %w2: tensor<16x8xf32>, %b2: tensor<8xf32>)
    -> tensor<4x8xf32> {
  // CHECK:     %[[H:.+]] = linalg.matmul ins(%[[X]], %[[W1]] : {{.*}}) outs(%{{.+}} : tensor<4x16xf32>)
  // CHECK:     %[[HN:.+]] = math.tanh %[[H]] : tensor<4x16xf32>
  // CHECK:     %[[ACC:.+]] = linalg.broadcast ins(%[[B2]] : tensor<8xf32>)
  // CHECK:     %[[Y:.+]] = linalg.matmul ins(%[[HN]], %[[W2]] : {{.*}}) outs(%[[ACC]] : tensor<4x8xf32>)
  // CHECK:     return %[[Y]]
  %h = attn.linear %x, %w1 : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %hn = math.tanh %h : tensor<4x16xf32>
  %y = attn.linear %hn, %w2, %b2
      : (tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// The layout ops of attention written out by hand lower to named linalg ops:
//
//   attn.matmul       c[m, n] = sum_k a[m, k] b[k, n]         linalg.matmul
//                     c[b, m, n] = sum_k a[b, m, k] b[b, k, n] linalg.batch_matmul
//                     (both accumulate into zeros)
//   attn.transpose    y[.., n, m] = x[.., m, n]     linalg.transpose, last two dims swapped
//   attn.split_heads  y[h, s, d] = x[s, h * D + d]  expand [S, H*D] -> [S, H, D], transpose [1, 0, 2]
//   attn.merge_heads  y[s, h * D + d] = x[h, s, d]  transpose [1, 0, 2], collapse [S, H, D] -> [S, H*D]

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @matmul2(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x6xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<6x5xf32>)
func.func @matmul2(%a: tensor<4x6xf32>, %b: tensor<6x5xf32>) -> tensor<4x5xf32> {
  // [M, K] x [K, N] -> [M, N], accumulated into zeros.
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<4x5xf32>
  // CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[INIT]] : tensor<4x5xf32>)
  // CHECK-NEXT: %[[C:.+]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<4x6xf32>, tensor<6x5xf32>) outs(%[[ACC]] : tensor<4x5xf32>) -> tensor<4x5xf32>
  // CHECK-NEXT: return %[[C]]
  %c = attn.matmul %a, %b : (tensor<4x6xf32>, tensor<6x5xf32>) -> tensor<4x5xf32>
  return %c : tensor<4x5xf32>
}

// CHECK-LABEL: func.func @matmul3(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<3x4x6xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<3x6x5xf32>)
func.func @matmul3(%a: tensor<3x4x6xf32>, %b: tensor<3x6x5xf32>) -> tensor<3x4x5xf32> {
  // One product per batch (head): [B, M, K] x [B, K, N] -> [B, M, N].
  // CHECK:      %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<3x4x5xf32>)
  // CHECK-NEXT: %[[C:.+]] = linalg.batch_matmul ins(%[[A]], %[[B]] : tensor<3x4x6xf32>, tensor<3x6x5xf32>) outs(%[[ACC]] : tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
  // CHECK-NEXT: return %[[C]]
  %c = attn.matmul %a, %b : (tensor<3x4x6xf32>, tensor<3x6x5xf32>) -> tensor<3x4x5xf32>
  return %c : tensor<3x4x5xf32>
}

// CHECK-LABEL: func.func @transpose2(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x6xf32>)
func.func @transpose2(%a: tensor<4x6xf32>) -> tensor<6x4xf32> {
  // y[n, m] = x[m, n]
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<6x4xf32>
  // CHECK-NEXT: %[[T:.+]] = linalg.transpose ins(%[[A]] : tensor<4x6xf32>) outs(%[[INIT]] : tensor<6x4xf32>) permutation = [1, 0]
  // CHECK-NEXT: return %[[T]]
  %t = attn.transpose %a : (tensor<4x6xf32>) -> tensor<6x4xf32>
  return %t : tensor<6x4xf32>
}

// CHECK-LABEL: func.func @transpose3(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<3x4x6xf32>)
func.func @transpose3(%a: tensor<3x4x6xf32>) -> tensor<3x6x4xf32> {
  // y[b, n, m] = x[b, m, n]: the batch dimension stays first.
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<3x6x4xf32>
  // CHECK-NEXT: %[[T:.+]] = linalg.transpose ins(%[[A]] : tensor<3x4x6xf32>) outs(%[[INIT]] : tensor<3x6x4xf32>) permutation = [0, 2, 1]
  // CHECK-NEXT: return %[[T]]
  %t = attn.transpose %a : (tensor<3x4x6xf32>) -> tensor<3x6x4xf32>
  return %t : tensor<3x6x4xf32>
}

// Two transposes in a row cancel: the conversion folds the outer one into
// the argument. The inner one was lowered before the fold and is left dead
// for the canonicalize that follows in the pipeline.
// CHECK-LABEL: func.func @transpose_twice(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<3x4x6xf32>)
func.func @transpose_twice(%a: tensor<3x4x6xf32>) -> tensor<3x4x6xf32> {
  // CHECK:      linalg.transpose ins(%[[A]]
  // CHECK-NOT:  linalg.transpose
  // CHECK:      return %[[A]]
  %t = attn.transpose %a : (tensor<3x4x6xf32>) -> tensor<3x6x4xf32>
  %u = attn.transpose %t : (tensor<3x6x4xf32>) -> tensor<3x4x6xf32>
  return %u : tensor<3x4x6xf32>
}

// S = 5 tokens, H = 3 heads, D = 8.
// CHECK-LABEL: func.func @split(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<5x24xf32>)
func.func @split(%x: tensor<5x24xf32>) -> tensor<3x5x8xf32> {
  // Head h is the column block [h * D, (h + 1) * D): [S, H*D] -> [S, H, D] ...
  // CHECK:      %[[E:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [5, 3, 8] : tensor<5x24xf32> into tensor<5x3x8xf32>
  // ... then heads first: [S, H, D] -> [H, S, D].
  // CHECK-NEXT: %[[INIT:.+]] = tensor.empty() : tensor<3x5x8xf32>
  // CHECK-NEXT: %[[T:.+]] = linalg.transpose ins(%[[E]] : tensor<5x3x8xf32>) outs(%[[INIT]] : tensor<3x5x8xf32>) permutation = [1, 0, 2]
  // CHECK-NEXT: return %[[T]]
  %h = attn.split_heads %x heads = 3 : (tensor<5x24xf32>) -> tensor<3x5x8xf32>
  return %h : tensor<3x5x8xf32>
}

// CHECK-LABEL: func.func @merge(
// CHECK-SAME:    %[[H:[a-zA-Z0-9_]+]]: tensor<3x5x8xf32>)
func.func @merge(%h: tensor<3x5x8xf32>) -> tensor<5x24xf32> {
  // [H, S, D] -> [S, H, D] ...
  // CHECK:      %[[INIT:.+]] = tensor.empty() : tensor<5x3x8xf32>
  // CHECK-NEXT: %[[T:.+]] = linalg.transpose ins(%[[H]] : tensor<3x5x8xf32>) outs(%[[INIT]] : tensor<5x3x8xf32>) permutation = [1, 0, 2]
  // ... -> [S, H*D]
  // CHECK-NEXT: %[[C:.+]] = tensor.collapse_shape %[[T]] {{\[}}[0], [1, 2]] : tensor<5x3x8xf32> into tensor<5x24xf32>
  // CHECK-NEXT: return %[[C]]
  %x = attn.merge_heads %h : (tensor<3x5x8xf32>) -> tensor<5x24xf32>
  return %x : tensor<5x24xf32>
}

// merge_heads(split_heads(x)) folds to x (the lowered split_heads is left
// dead for canonicalize, as above).
// CHECK-LABEL: func.func @split_merge(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<5x24xf32>)
func.func @split_merge(%x: tensor<5x24xf32>) -> tensor<5x24xf32> {
  // CHECK-NOT:  tensor.collapse_shape
  // CHECK:      return %[[X]]
  %h = attn.split_heads %x heads = 3 : (tensor<5x24xf32>) -> tensor<3x5x8xf32>
  %y = attn.merge_heads %h : (tensor<3x5x8xf32>) -> tensor<5x24xf32>
  return %y : tensor<5x24xf32>
}

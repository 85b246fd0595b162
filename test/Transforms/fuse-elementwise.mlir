// attn-fuse-elementwise fuses the model's elementwise generics into their
// only readers, and leaves everything else as it was.

// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-fuse-elementwise))' | FileCheck %s

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (j)>
#tr = affine_map<(i, j) -> (j, i)>
#rows = affine_map<(i, j) -> (i)>

// y = (x * w + x) * 0.5: the product, the sum and the scaling become one
// generic, reading x once (the duplicate operand merged) and w broadcast
// over the rows.
// CHECK-LABEL: func.func @chain
// CHECK-SAME:    %[[X:.+]]: tensor<4x8xf32>, %[[W:.+]]: tensor<8xf32>
// CHECK:       %[[Y:.+]] = linalg.generic
// CHECK-SAME:    ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<8xf32>)
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK:         arith.mulf
// CHECK:         linalg.yield
// CHECK-NOT:   linalg.generic
// CHECK:       return %[[Y]]
func.func @chain(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %h = arith.constant 0.5 : f32
      %r = arith.mulf %a, %h : f32
      linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// A value read twice (by two ops, or twice by one) is computed once: not
// fused, where fusing would copy its body into every reader.
// CHECK-LABEL: func.func @read_twice
// CHECK:       %[[E:.+]] = linalg.generic
// CHECK:         math.exp
// CHECK:       linalg.generic
// CHECK-SAME:    ins(%[[E]], %[[E]] :
// CHECK-NOT:     math.exp
// CHECK:       return
func.func @read_twice(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e0 = tensor.empty() : tensor<8x8xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %r = math.exp %a : f32
      linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%e, %e : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %r = arith.mulf %a, %b : f32
      linalg.yield %r : f32
  } -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// A reduction (a row sum) keeps its producer apart, and a transposed read
// does too: attn-vectorize has forms of its own for both.
// CHECK-LABEL: func.func @not_elementwise
// CHECK:       math.exp
// CHECK:       linalg.generic
// CHECK-SAME:    iterator_types = ["parallel", "reduction"]
// CHECK:       math.exp
// CHECK:       linalg.generic
// CHECK-SAME:    indexing_maps = [#{{.+}}, #{{.+}}]
// CHECK:       return
func.func @not_elementwise(%x: tensor<8x8xf32>) -> (tensor<8xf32>, tensor<8x8xf32>) {
  %e0 = tensor.empty() : tensor<8x8xf32>
  %z = tensor.empty() : tensor<8xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %r = math.exp %a : f32
      linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #rows], iterator_types = ["parallel", "reduction"]}
      ins(%e : tensor<8x8xf32>) outs(%z : tensor<8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %r = arith.addf %a, %o : f32
      linalg.yield %r : f32
  } -> tensor<8xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %r = math.exp %a : f32
      linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %t = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f : tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
    ^bb0(%a: f32, %o: f32):
      %r = arith.negf %a : f32
      linalg.yield %r : f32
  } -> tensor<8x8xf32>
  return %sum, %t : tensor<8xf32>, tensor<8x8xf32>
}

// Inside a loop nest a lowering built, generics stay as they are.
// CHECK-LABEL: func.func @in_a_loop
// CHECK:       scf.for
// CHECK:         linalg.generic
// CHECK:         math.exp
// CHECK:         linalg.generic
// CHECK:         arith.negf
func.func @in_a_loop(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %x) -> (tensor<4x8xf32>) {
    %e0 = tensor.empty() : tensor<4x8xf32>
    %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%acc : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
      ^bb0(%a: f32, %o: f32):
        %v = math.exp %a : f32
        linalg.yield %v : f32
    } -> tensor<4x8xf32>
    %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%e : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
      ^bb0(%a: f32, %o: f32):
        %v = arith.negf %a : f32
        linalg.yield %v : f32
    } -> tensor<4x8xf32>
    scf.yield %n : tensor<4x8xf32>
  }
  return %r : tensor<4x8xf32>
}

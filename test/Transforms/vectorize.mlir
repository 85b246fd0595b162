// attn-vectorize: register tiles for linalg on tensors. Row reductions read
// a whole row (or pieces of 256) as one vector and reduce it horizontally (a
// max as a tree of compare-and-select); elementwise ops work
// on 16 lanes along the innermost dimension, transposes on 16 x 16 blocks;
// exp becomes a polynomial on vectors (no libm call per lane); contractions
// are left for attn-contraction-microkernel.

// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-vectorize,canonicalize))' | FileCheck %s

// CHECK-LABEL: func.func @row_max
// CHECK: scf.for %[[I:.+]] = %c0 to %c4 step %c1
// CHECK: vector.transfer_read {{.*}} : tensor<1x64xf32>, vector<64xf32>
// The max is a compare-and-select tree (vmaxps), not vector.reduce.fmaximum:
// two halvings of the row, then four shuffles within one register.
// CHECK-NOT: vector.reduction <maximumf>
// CHECK: vector.extract_strided_slice {{.*}} vector<64xf32> to vector<32xf32>
// CHECK: arith.cmpf ogt, {{.*}} : vector<32xf32>
// CHECK: vector.extract_strided_slice {{.*}} vector<32xf32> to vector<16xf32>
// CHECK: arith.cmpf ogt, {{.*}} : vector<16xf32>
// CHECK-COUNT-4: vector.shuffle
// CHECK: vector.extract {{.*}}[0] : f32 from vector<16xf32>
// CHECK-NOT: vector.reduction <maximumf>
func.func @row_max(%x: tensor<4x64xf32>) -> tensor<4xf32> {
  %init = tensor.empty() : tensor<4xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %m : tensor<4xf32>
}

// A row longer than 256 (a decode step's scores over a ring of 4096 slots)
// is reduced in pieces of 256, each as one vector reduction (a tree of
// 16-lane adds once converted to LLVM with reassociation), not 16 lanes at
// a time with a horizontal reduction each.
// CHECK-LABEL: func.func @long_row_sum
// CHECK: scf.for {{.*}} = %c0 to %c4096 step %c256
// CHECK: vector.transfer_read {{.*}} : tensor<1x256xf32>, vector<256xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<256xf32> into f32
// CHECK-NOT: vector<16xf32>
func.func @long_row_sum(%x: tensor<2x4096xf32>) -> tensor<2xf32> {
  %init = tensor.empty() : tensor<2xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x4096xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  return %m : tensor<2xf32>
}

// CHECK-LABEL: func.func @exp
// CHECK: scf.for {{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c16
// CHECK: vector.transfer_read {{.*}} vector<16xf32>
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x16xf32>
func.func @exp(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %init = tensor.empty() : tensor<4x64xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x64xf32>) outs(%init : tensor<4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<4x64xf32>
  return %e : tensor<4x64xf32>
}

// CHECK-LABEL: func.func @matmul
// CHECK: linalg.matmul
func.func @matmul(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>, %c: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}

// A fill that only initializes a contraction is the micro-kernel's too (its
// value becomes the accumulators' start); a fill read by anything else is
// vectorized.
// CHECK-LABEL: func.func @filled_matmul
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK-LABEL: func.func @filled_twice
// CHECK-NOT: linalg.fill
// CHECK: vector.transfer_write
// CHECK: linalg.matmul
func.func @filled_matmul(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>) -> tensor<16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<16x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%init : tensor<16x32xf32>) -> tensor<16x32xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}
func.func @filled_twice(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<16x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%init : tensor<16x32xf32>) -> tensor<16x32xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r, %c : tensor<16x32xf32>, tensor<16x32xf32>
}

// So is a scaling of each row that only feeds a contraction's init.
// CHECK-LABEL: func.func @rescaled_matmul
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK: linalg.matmul
func.func @rescaled_matmul(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>, %c: tensor<16x32xf32>, %s: tensor<16xf32>) -> tensor<16x32xf32> {
  %scaled = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<16xf32>) outs(%c : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<16x32xf32>
  %r = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x32xf32>) outs(%scaled : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}

// A linear's bias, copied into every row of C, and the elementwise op that
// reads the product right after (gelu here) are the micro-kernel's too: it
// starts its registers at the bias and applies the op before storing them.
// CHECK-LABEL: func.func @linear_with_epilogue
// CHECK-NOT: vector.transfer
// CHECK: linalg.broadcast
// CHECK-NEXT: linalg.matmul
// CHECK-NEXT: tensor.empty
// CHECK-NEXT: linalg.generic
// CHECK-NOT: vector.transfer
// CHECK: return
func.func @linear_with_epilogue(%x: tensor<16x8xf32>, %w: tensor<8x32xf32>, %b: tensor<32xf32>, %r: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %init = tensor.empty() : tensor<16x32xf32>
  %c = linalg.broadcast ins(%b : tensor<32xf32>) outs(%init : tensor<16x32xf32>) dimensions = [0]
  %p = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %out = tensor.empty() : tensor<16x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%p, %r : tensor<16x32xf32>, tensor<16x32xf32>) outs(%out : tensor<16x32xf32>) {
  ^bb0(%in: f32, %res: f32, %o: f32):
    %e = math.erf %in : f32
    %s = arith.addf %e, %res : f32
    linalg.yield %s : f32
  } -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// Two products that start from one zero fill of one tensor.empty (CSE
// merges equal ones): each gets a fill of its own, right before it, into an
// allocation of its own (bufferization.alloc_tensor, which CSE keeps apart;
// the last keeps the tensor.empty no one else uses now), so the
// micro-kernel folds each fill and no later value shares the product's
// buffer.
// CHECK-LABEL: func.func @shared_start
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<16x32xf32>
// CHECK: %[[OWN:.+]] = bufferization.alloc_tensor() : tensor<16x32xf32>
// CHECK: %[[FILL1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[OWN]]
// CHECK-NEXT: %[[P1:.+]] = linalg.matmul {{.*}} outs(%[[FILL1]]
// CHECK-NEXT: %[[FILL2:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]]
// CHECK-NEXT: linalg.matmul ins(%[[P1]], {{.*}} outs(%[[FILL2]]
func.func @shared_start(%x: tensor<16x32xf32>, %w: tensor<32x32xf32>) -> tensor<16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<16x32xf32>
  %c = linalg.fill ins(%zero : f32) outs(%init : tensor<16x32xf32>) -> tensor<16x32xf32>
  %p1 = linalg.matmul ins(%x, %w : tensor<16x32xf32>, tensor<32x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %p2 = linalg.matmul ins(%p1, %w : tensor<16x32xf32>, tensor<32x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %p2 : tensor<16x32xf32>
}

// Not when the product has another reader, when an op that will touch
// memory runs between the two, or when the product is not a micro-kernel's
// (12 columns are no multiple of 8 lanes): then the op, and the bias, are
// vectorized here. The bias of the last is also read by the sum.
// CHECK-LABEL: func.func @product_read_twice
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
// CHECK: vector.transfer_write
// CHECK-LABEL: func.func @op_between
// CHECK: linalg.matmul
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.generic
// CHECK: vector.transfer_write
// CHECK-LABEL: func.func @not_a_microkernel
// CHECK-NOT: linalg.broadcast
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @product_read_twice(%x: tensor<16x8xf32>, %w: tensor<8x32xf32>, %c: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %p = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %out = tensor.empty() : tensor<16x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<16x32xf32>) outs(%out : tensor<16x32xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.tanh %in : f32
    linalg.yield %e : f32
  } -> tensor<16x32xf32>
  return %y, %p : tensor<16x32xf32>, tensor<16x32xf32>
}
func.func @op_between(%x: tensor<16x8xf32>, %w: tensor<8x32xf32>, %c: tensor<16x32xf32>, %r: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %p = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x32xf32>) outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %out = tensor.empty() : tensor<16x32xf32>
  %r2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%r : tensor<16x32xf32>) outs(%out : tensor<16x32xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = arith.mulf %in, %in : f32
    linalg.yield %e : f32
  } -> tensor<16x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<16x32xf32>) outs(%out : tensor<16x32xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.tanh %in : f32
    linalg.yield %e : f32
  } -> tensor<16x32xf32>
  return %y, %r2 : tensor<16x32xf32>, tensor<16x32xf32>
}
func.func @not_a_microkernel(%x: tensor<16x8xf32>, %w: tensor<8x12xf32>, %b: tensor<12xf32>) -> tensor<16x12xf32> {
  %init = tensor.empty() : tensor<16x12xf32>
  %c = linalg.broadcast ins(%b : tensor<12xf32>) outs(%init : tensor<16x12xf32>) dimensions = [0]
  %p = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x12xf32>) outs(%c : tensor<16x12xf32>) -> tensor<16x12xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%p, %b : tensor<16x12xf32>, tensor<12xf32>) outs(%init : tensor<16x12xf32>) {
  ^bb0(%in: f32, %bias: f32, %o: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<16x12xf32>
  return %y : tensor<16x12xf32>
}

// Three columns are too few lanes to vectorize: left as is.
// CHECK-LABEL: func.func @narrow
// CHECK: linalg.generic
func.func @narrow(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %init = tensor.empty() : tensor<4x3xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x3xf32>) outs(%init : tensor<4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<4x3xf32>
  return %e : tensor<4x3xf32>
}

// A transpose (flash attention's scaled query tile, [rows, D] to [D, rows])
// goes in 16 x 16 blocks: 16 row vectors read in place, transposed in
// registers by shuffles, scaled and written as 16 vectors; not vectors
// gathered from 16 rows apiece.
// CHECK-LABEL: func.func @transpose_scaled
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c16
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c16
// CHECK: tensor.extract_slice %arg0[{{.*}}] [16, 16] [1, 1] : tensor<32x64xf32> to tensor<16x16xf32>
// CHECK-NOT: permutation_map
// CHECK: vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK: arith.mulf {{.*}} : vector<16x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16x16xf32>, tensor<16x16xf32>
func.func @transpose_scaled(%q: tensor<32x64xf32>) -> tensor<64x32xf32> {
  %init = tensor.empty() : tensor<64x32xf32>
  %scale = arith.constant 0.125 : f32
  %t = linalg.generic {indexing_maps = [affine_map<(d, i) -> (i, d)>, affine_map<(d, i) -> (d, i)>], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<32x64xf32>) outs(%init : tensor<64x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %scale : f32
    linalg.yield %r : f32
  } -> tensor<64x32xf32>
  return %t : tensor<64x32xf32>
}

// A row broadcast also reads its operand along another dimension than the
// output's innermost, but it is no transpose: 16 lanes along the output,
// one element spread over each vector.
// CHECK-LABEL: func.func @row_broadcast
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c1
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c16
// CHECK-NOT: vector<16x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x16xf32>
// CHECK: return
func.func @row_broadcast(%s: tensor<32xf32>) -> tensor<32x64xf32> {
  %init = tensor.empty() : tensor<32x64xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<32xf32>) outs(%init : tensor<32x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<32x64xf32>
  return %t : tensor<32x64xf32>
}

// Matrix products on buffers become outer-product micro-kernels: column
// blocks of two 16-lane vectors outermost (an scf.forall at the top level of
// a function: the blocks are independent tasks), 8 rows of C (16 accumulators)
// held in vector registers across the whole k loop; per k, two vector loads
// of B and one broadcast of A per row feeding two FMAs. A wide B is copied
// panel by panel, or read from panels laid out ahead of time when its values
// are compiled in.

// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-contraction-microkernel,canonicalize))' | FileCheck %s

// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.matmul
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (64) step (32)
// CHECK: %[[N1:.+]] = arith.addi %[[N0]], %c16
// CHECK: scf.for %[[M0:.+]] = %c0 to %c16 step %c8
// CHECK: vector.load %arg2[%[[M0]], %[[N0]]] : memref<16x64xf32>, vector<16xf32>
// CHECK: vector.load %arg2[%[[M0]], %[[N1]]] : memref<16x64xf32>, vector<16xf32>
// CHECK-COUNT-14: vector.load %arg2
// CHECK: scf.for %[[K:.+]] = %c0 to %c8 step %c1 iter_args({{.*}}) -> (vector<16xf32>
// CHECK: vector.load %arg1[%[[K]], %[[N0]]] : memref<8x64xf32>, vector<16xf32>
// CHECK: vector.load %arg1[%[[K]], %[[N1]]] : memref<8x64xf32>, vector<16xf32>
// CHECK: memref.load %arg0[%[[M0]], %[[K]]]
// CHECK: vector.broadcast
// CHECK-COUNT-2: vector.fma
// CHECK: memref.load
// CHECK-COUNT-14: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-16: vector.store {{.*}} %arg2
func.func @matmul(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}

// A product whose column blocks are each read by at least 4 row blocks (a
// linear): each task first copies its 8 x 32 panel of B into a dense
// buffer, and the k loop reads the copy. (In place, the panel's rows lie a
// whole row of B apart, which crowds them into few cache sets.)
// CHECK-LABEL: func.func @packed
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (128) step (32)
// CHECK: %[[N1:.+]] = arith.addi %[[N0]], %c16
// CHECK: %[[PANEL:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8x32xf32>
// CHECK: scf.for %[[KC:.+]] = %c0 to %c8 step %c1 {
// CHECK:   %[[LO:.+]] = vector.load %arg1[%[[KC]], %[[N0]]] : memref<8x128xf32>, vector<16xf32>
// CHECK:   vector.store %[[LO]], %[[PANEL]][%[[KC]], %c0]
// CHECK:   %[[HI:.+]] = vector.load %arg1[%[[KC]], %[[N1]]] : memref<8x128xf32>, vector<16xf32>
// CHECK:   vector.store %[[HI]], %[[PANEL]][%[[KC]], %c16]
// CHECK: scf.for %[[M0:.+]] = %c0 to %c32 step %c8
// CHECK: scf.for %[[K:.+]] = %c0 to %c8 step %c1 iter_args
// CHECK: vector.load %[[PANEL]][%[[K]], %c0] : memref<8x32xf32>, vector<16xf32>
// CHECK: vector.load %[[PANEL]][%[[K]], %c16] : memref<8x32xf32>, vector<16xf32>
// CHECK-NOT: memref.dealloc
func.func @packed(%a: memref<32x8xf32>, %b: memref<8x128xf32>, %c: memref<32x128xf32>) {
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x128xf32>) outs(%c : memref<32x128xf32>)
  return
}

// The score product of attention, s[i, j] += q[i, d] * kT[d, j], written as
// a generic with loops (i, d, j) over strided tiles; 6 rows do not fill 8,
// so the row block is the largest divisor, 6 (a single block, whose loop
// canonicalization removes); 24 columns take 8 lanes.
// CHECK-LABEL: func.func @scores
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%{{.+}}) = (0) to (24) step (8)
// CHECK-COUNT-6: vector.load %arg2
// CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1 iter_args
// CHECK: vector.load %arg1{{.*}} : memref<4x24xf32, strided<[128, 1], offset: ?>>, vector<8xf32>
// CHECK-COUNT-6: vector.fma {{.*}} : vector<8xf32>
func.func @scores(%q: memref<6x4xf32, strided<[64, 1], offset: ?>>,
                  %kt: memref<4x24xf32, strided<[128, 1], offset: ?>>,
                  %s: memref<6x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, d, j) -> (i, d)>,
                                   affine_map<(i, d, j) -> (d, j)>,
                                   affine_map<(i, d, j) -> (i, j)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%q, %kt : memref<6x4xf32, strided<[64, 1], offset: ?>>, memref<4x24xf32, strided<[128, 1], offset: ?>>)
      outs(%s : memref<6x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// Columns that fill no 8-lane vector, and B read down its columns, keep the
// linalg op (it becomes scalar loops later).
// CHECK-LABEL: func.func @narrow
// CHECK: linalg.matmul
func.func @narrow(%a: memref<16x8xf32>, %b: memref<8x12xf32>, %c: memref<16x12xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x12xf32>) outs(%c : memref<16x12xf32>)
  return
}

// CHECK-LABEL: func.func @transposed_b
// CHECK: linalg.matmul_transpose_b
func.func @transposed_b(%a: memref<16x8xf32>, %b: memref<32x8xf32>, %c: memref<16x32xf32>) {
  linalg.matmul_transpose_b ins(%a, %b : memref<16x8xf32>, memref<32x8xf32>) outs(%c : memref<16x32xf32>)
  return
}

// Inside another loop the column blocks stay a sequential scf.for: the
// enclosing loop is what runs in parallel, if anything.
// CHECK-LABEL: func.func @nested
// CHECK: scf.for
// CHECK-NOT: scf.forall
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c32
func.func @nested(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  }
  return
}

// A single row (a decode step's matrix-vector product) is bound by reading
// B. One no wider than 256 columns is one register block of 16 vectors,
// which reads B from start to end.
// CHECK-LABEL: func.func @matvec_one_panel
// CHECK-NOT: memref.alloc
// CHECK-COUNT-16: vector.load %arg2
// CHECK: scf.for %[[K:.+]] = %c0 to %c64 step %c1 iter_args({{.*}}) -> (vector<16xf32>
// CHECK-COUNT-16: vector.load %arg1[%[[K]],
// CHECK: memref.load %arg0
// CHECK: vector.broadcast
// CHECK-COUNT-16: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-16: vector.store {{.*}} %arg2
func.func @matvec_one_panel(%a: memref<1x64xf32>, %b: memref<64x256xf32>, %c: memref<1x256xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x256xf32>) outs(%c : memref<1x256xf32>)
  return
}

// A wider B: tasks over bands of whole rows (64 at most; 160 rows make 3
// bands of 54, the last cut at 160), each into partial sums of its own,
// a pass over each row four vectors at a time; then the bands' sums, in
// order, are added onto C and stored.
// CHECK-LABEL: func.func @matvec
// CHECK-DAG: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[SUMS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<3x512xf32>
// CHECK: scf.forall (%[[BAND:.+]]) in (3)
// CHECK: vector.store %[[ZERO]], %[[SUMS]][%[[BAND]],
// CHECK: %[[K0:.+]] = arith.muli %[[BAND]], %c54
// CHECK: %[[K1:.+]] = arith.addi %[[K0]], %c54
// CHECK: %[[KEND:.+]] = arith.minui %[[K1]], %c160
// CHECK: scf.for %[[K:.+]] = %[[K0]] to %[[KEND]] step %c1
// CHECK: %[[A:.+]] = memref.load %arg0[%c0, %[[K]]]
// CHECK: %[[AB:.+]] = vector.broadcast %[[A]]
// CHECK: scf.for %[[J:.+]] = %c0 to %c512 step %c64
// CHECK: %[[S:.+]] = vector.load %[[SUMS]][%[[BAND]], %[[J]]]
// CHECK: %[[B:.+]] = vector.load %arg1[%[[K]], %[[J]]]
// CHECK: %[[F:.+]] = vector.fma %[[AB]], %[[B]], %[[S]]
// CHECK: vector.store %[[F]], %[[SUMS]][%[[BAND]], %[[J]]]
// CHECK-COUNT-3: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.for %[[COL:.+]] = %c0 to %c512 step %c16
// CHECK: %[[C:.+]] = vector.load %arg2[%c0, %[[COL]]]
// CHECK: scf.for %[[I:.+]] = %c0 to %c3 step %c1 iter_args(%[[ACC:.+]] = %[[C]])
// CHECK: %[[PART:.+]] = vector.load %[[SUMS]][%[[I]], %[[COL]]]
// CHECK: arith.addf %[[ACC]], %[[PART]]
// CHECK: vector.store %{{.+}}, %arg2[%c0, %[[COL]]]
func.func @matvec(%a: memref<1x160xf32>, %b: memref<160x512xf32>, %c: memref<1x512xf32>) {
  linalg.matmul ins(%a, %b : memref<1x160xf32>, memref<160x512xf32>) outs(%c : memref<1x512xf32>)
  return
}

// Inside a task (a decode step's scores for one head), the bands are a
// loop of the task's own.
// CHECK-LABEL: func.func @matvec_nested
// CHECK-NOT: scf.forall
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x512xf32>
// CHECK: scf.for %[[BAND:.+]] = %c0 to %c2 step %c1
// CHECK: arith.muli %[[BAND]], %c64
// CHECK: vector.fma
func.func @matvec_nested(%a: memref<1x128xf32>, %b: memref<128x512xf32>, %c: memref<1x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    linalg.matmul ins(%a, %b : memref<1x128xf32>, memref<128x512xf32>) outs(%c : memref<1x512xf32>)
  }
  return
}

// A linear's bias and activation on a single row: the sums start at the
// bias and the activation takes them before the store (one band: its loop
// folds away).
// CHECK-LABEL: func.func @matvec_biased
// CHECK-NOT: linalg.
// CHECK: scf.for %[[COL:.+]] = %c0 to %c96 step %c16
// CHECK: %[[BIAS:.+]] = vector.load %arg3[%[[COL]]]
// CHECK: %[[SUM:.+]] = vector.load %{{.+}}[%c0, %[[COL]]]
// CHECK: arith.addf %[[BIAS]], %[[SUM]]
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
// CHECK: vector.store %{{.+}}, %arg2[%c0, %[[COL]]]
// CHECK-NOT: vector.store
// CHECK: return
func.func @matvec_biased(%a: memref<1x64xf32>, %b: memref<64x96xf32>, %c: memref<1x96xf32>, %bias: memref<96xf32>) {
  linalg.broadcast ins(%bias : memref<96xf32>) outs(%c : memref<1x96xf32>) dimensions = [0]
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x96xf32>) outs(%c : memref<1x96xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<1x96xf32>) outs(%c : memref<1x96xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    %y = arith.mulf %in, %t : f32
    linalg.yield %y : f32
  }
  return
}

// A fill of C right before the product: the registers start at its value
// and the fill goes (the micro-kernel writes all of C). A fill with anything
// between it and the product stays, and C is loaded.
// CHECK-LABEL: func.func @filled
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: f32
// CHECK-NOT: linalg.fill
// CHECK: %[[START:.+]] = vector.broadcast %[[INIT]] : f32 to vector<16xf32>
// CHECK-NOT: vector.load %arg2
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[START]], %{{.+}} = %[[START]],
// CHECK: vector.store {{.*}} %arg2
// CHECK-LABEL: func.func @filled_earlier
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK: vector.load %arg2
func.func @filled(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>, %init: f32) {
  linalg.fill ins(%init : f32) outs(%c : memref<16x64xf32>)
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}
func.func @filled_earlier(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>, %d: memref<16x64xf32>, %init: f32) {
  linalg.fill ins(%init : f32) outs(%c : memref<16x64xf32>)
  memref.copy %d, %c : memref<16x64xf32> to memref<16x64xf32>
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}

// Flash attention's accumulator, each row scaled right before the product
// adds the next key tile: the scaling goes, and each row's loaded blocks
// are multiplied by its factor on their way into the registers.
// CHECK-LABEL: func.func @rescaled
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[M0:.+]] = %c0 to %c16 step %c8
// CHECK: %[[S0:.+]] = memref.load %arg3[%[[M0]]] : memref<16xf32>
// CHECK: %[[F0:.+]] = vector.broadcast %[[S0]] : f32 to vector<16xf32>
// CHECK: %[[C0:.+]] = vector.load %arg2[%[[M0]], %{{.+}}] : memref<16x64xf32>, vector<16xf32>
// CHECK: arith.mulf %[[F0]], %[[C0]] : vector<16xf32>
func.func @rescaled(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>, %s: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%s : memref<16xf32>) outs(%c : memref<16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}

// A linear's bias, copied into every row of C right before the product:
// the registers start at the bias's vectors for their columns, and the
// broadcast goes.
// CHECK-LABEL: func.func @biased
// CHECK-NOT: linalg.broadcast
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (64) step (32)
// CHECK: %[[N1:.+]] = arith.addi %[[N0]], %c16
// CHECK: %[[B0:.+]] = vector.load %arg3[%[[N0]]] : memref<64xf32>, vector<16xf32>
// CHECK: %[[B1:.+]] = vector.load %arg3[%[[N1]]] : memref<64xf32>, vector<16xf32>
// CHECK-NOT: vector.load %arg2
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[B0]], %{{.+}} = %[[B1]], %{{.+}} = %[[B0]],
// CHECK-COUNT-16: vector.store {{.*}} %arg2
func.func @biased(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>, %bias: memref<64xf32>) {
  linalg.broadcast ins(%bias : memref<64xf32>) outs(%c : memref<16x64xf32>) dimensions = [0]
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  return
}

// An elementwise op reading C right after the product, with C its own
// output (a linear's activation, in place): it runs on each register block
// after the k loop, which is stored once, and tanh becomes its polynomial.
// CHECK-LABEL: func.func @activation_in_place
// CHECK-NOT: linalg.generic
// CHECK: %[[ACC:.+]]:16 = scf.for
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-NOT: math.tanh
// CHECK: %[[Y:.+]] = arith.mulf %[[ACC]]#0, %{{.+}} : vector<16xf32>
// CHECK: vector.store %[[Y]], %arg2
// CHECK-COUNT-15: vector.store {{.*}} %arg2
// CHECK-NOT: vector.store
// CHECK: return
func.func @activation_in_place(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x64xf32>) outs(%c : memref<16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    %y = arith.mulf %in, %t : f32
    linalg.yield %y : f32
  }
  return
}

// C a temporary only the product and the op use, the op's output another
// buffer: C is neither stored nor allocated any more. The op's other inputs
// are read for each block: a matrix at the block's place, a vector along
// its columns, one element per row (broadcast), one element, a scalar.
// An allocation between the product and the op does not stand in the way.
// CHECK-LABEL: func.func @epilogue_inputs
// CHECK-NOT: memref.alloc
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (64) step (32)
// CHECK: scf.for %[[M0:.+]] = %c0 to %c16 step %c8
// CHECK: %[[ACC:.+]]:16 = scf.for
// CHECK: %[[R:.+]] = vector.load %arg3[%[[M0]], %[[N0]]] : memref<16x64xf32>, vector<16xf32>
// CHECK: %[[COL:.+]] = vector.load %arg4[%[[N0]]] : memref<64xf32>, vector<16xf32>
// CHECK: %[[ROW:.+]] = memref.load %arg5[%[[M0]]] : memref<16xf32>
// CHECK: vector.broadcast %[[ROW]] : f32 to vector<16xf32>
// CHECK: %[[ONE:.+]] = memref.load %arg6[] : memref<f32>
// CHECK: vector.broadcast %[[ONE]] : f32 to vector<16xf32>
// CHECK: vector.broadcast %arg7 : f32 to vector<16xf32>
// CHECK: arith.addf %[[ACC]]#0, %[[R]]
// CHECK: vector.store %{{.+}}, %arg8[%[[M0]], %[[N0]]]
// CHECK-NOT: vector.store {{.*}}memref<16x64xf32>{{$}}
func.func @epilogue_inputs(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %unused: memref<16x64xf32>,
                           %r: memref<16x64xf32>, %col: memref<64xf32>, %row: memref<16xf32>,
                           %one: memref<f32>, %s: f32, %out: memref<16x64xf32>) {
  %c = memref.alloc() : memref<16x64xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<16x64xf32>)
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  %other = memref.alloc() : memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i)>,
                                   affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>,
                                   affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %r, %col, %row, %one, %s : memref<16x64xf32>, memref<16x64xf32>, memref<64xf32>, memref<16xf32>, memref<f32>, f32)
      outs(%out : memref<16x64xf32>) {
  ^bb0(%p: f32, %x: f32, %cv: f32, %rv: f32, %e: f32, %sc: f32, %o: f32):
    %0 = arith.addf %p, %x : f32
    %1 = arith.mulf %0, %cv : f32
    %2 = arith.subf %1, %rv : f32
    %3 = arith.mulf %2, %e : f32
    %4 = arith.mulf %3, %sc : f32
    linalg.yield %4 : f32
  }
  memref.dealloc %other : memref<4xf32>
  return
}

// Not folded, the product storing C and the op a vector loop nest of its
// own over C's rows and 16-lane columns (as attn-vectorize would have made
// it, had it not left it to this pass): when C is read again later; when
// its output is the buffer the product reads as A (another column block
// would read rows already overwritten); when an op that touches memory
// runs between the two; when another input of an op writing C in place is
// a view of C. Inside another loop the op stays as it is.
// CHECK-LABEL: func.func @product_read_later
// CHECK: vector.store {{.*}} %alloc
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[I:.+]] = %c0 to %c16 step %c1
// CHECK-NEXT: scf.for %[[J:.+]] = %c0 to %c64 step %c16
// CHECK-NEXT: %[[P:.+]] = vector.load %alloc[%[[I]], %[[J]]]
// CHECK-NEXT: %[[Y:.+]] = arith.mulf %[[P]], %[[P]] : vector<16xf32>
// CHECK-NEXT: vector.store %[[Y]], %arg2[%[[I]], %[[J]]]
// CHECK: memref.copy %alloc, %arg3
// CHECK-LABEL: func.func @output_is_a
// CHECK: vector.store {{.*}} %alloc
// CHECK-NOT: linalg.generic
// CHECK: vector.load %alloc
// CHECK: vector.load %arg0
// CHECK: vector.store {{.*}} %arg0
// CHECK-LABEL: func.func @store_between
// CHECK: vector.store {{.*}} %arg2
// CHECK: memref.copy
// CHECK-NOT: linalg.generic
// CHECK: vector.load %arg2
// CHECK: vector.load %arg4
// CHECK: vector.store {{.*}} %arg2
// CHECK-LABEL: func.func @input_views_c
// CHECK: vector.store {{.*}} %subview
// CHECK-NOT: linalg.generic
// CHECK: vector.load %subview
// CHECK: vector.load %subview_0
// CHECK: vector.store {{.*}} %subview
// CHECK-LABEL: func.func @nested_epilogue
// CHECK: vector.store {{.*}} %arg2
// CHECK: linalg.generic
#id = affine_map<(i, j) -> (i, j)>
func.func @product_read_later(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %out: memref<16x64xf32>, %out2: memref<16x64xf32>) {
  %c = memref.alloc() : memref<16x64xf32>
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x64xf32>) outs(%out : memref<16x64xf32>) {
  ^bb0(%p: f32, %o: f32):
    %y = arith.mulf %p, %p : f32
    linalg.yield %y : f32
  }
  memref.copy %c, %out2 : memref<16x64xf32> to memref<16x64xf32>
  return
}
func.func @output_is_a(%a: memref<16x64xf32>, %b: memref<64x64xf32>) {
  %c = memref.alloc() : memref<16x64xf32>
  linalg.matmul ins(%a, %b : memref<16x64xf32>, memref<64x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x64xf32>) outs(%a : memref<16x64xf32>) {
  ^bb0(%p: f32, %o: f32):
    %y = arith.addf %p, %o : f32
    linalg.yield %y : f32
  }
  return
}
func.func @store_between(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>, %d: memref<16x64xf32>, %e: memref<16x64xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
  memref.copy %d, %e : memref<16x64xf32> to memref<16x64xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %e : memref<16x64xf32>, memref<16x64xf32>) outs(%c : memref<16x64xf32>) {
  ^bb0(%p: f32, %x: f32, %o: f32):
    %y = arith.addf %p, %x : f32
    linalg.yield %y : f32
  }
  return
}
func.func @input_views_c(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %whole: memref<32x64xf32>) {
  %c = memref.subview %whole[0, 0] [16, 64] [1, 1] : memref<32x64xf32> to memref<16x64xf32, strided<[64, 1]>>
  %next = memref.subview %whole[1, 0] [16, 64] [1, 1] : memref<32x64xf32> to memref<16x64xf32, strided<[64, 1], offset: 64>>
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32, strided<[64, 1]>>)
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %next : memref<16x64xf32, strided<[64, 1]>>, memref<16x64xf32, strided<[64, 1], offset: 64>>) outs(%c : memref<16x64xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %x: f32, %o: f32):
    %y = arith.addf %p, %x : f32
    linalg.yield %y : f32
  }
  return
}
func.func @nested_epilogue(%a: memref<16x8xf32>, %b: memref<8x64xf32>, %c: memref<16x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x64xf32>) outs(%c : memref<16x64xf32>)
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%c : memref<16x64xf32>) outs(%c : memref<16x64xf32>) {
    ^bb0(%p: f32, %o: f32):
      %y = arith.mulf %p, %p : f32
      linalg.yield %y : f32
    }
  }
  return
}

// A B whose values are compiled in (attn.embedded) is packed ahead of time:
// the argument says its panel width, and each column block reads its panel
// where the packed layout [128 / 32, 8, 32] puts it, at n0 * 8, with no copy
// per call. Here even 16 rows (2 row blocks, too few to pay for a copy)
// read the packed panels, which cost nothing at run time.
// CHECK-LABEL: func.func @embedded(
// CHECK-SAME: %arg1: memref<8x128xf32> {attn.embedded, attn.packed_panels = 32 : i64}
// CHECK-NOT: memref.alloc
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (128) step (32)
// CHECK: %[[OFF:.+]] = arith.muli %[[N0]], %c8
// CHECK: %[[PANEL:.+]] = memref.reinterpret_cast %arg1 to offset: [%[[OFF]]], sizes: [8, 32], strides: [32, 1] : memref<8x128xf32> to memref<8x32xf32, strided<[32, 1], offset: ?>>
// CHECK: scf.for %[[M0:.+]] = %c0 to %c16 step %c8
// CHECK: scf.for %[[K:.+]] = %c0 to %c8 step %c1 iter_args
// CHECK: vector.load %[[PANEL]][%[[K]], %c0]
// CHECK: vector.load %[[PANEL]][%[[K]], %c16]
func.func @embedded(%a: memref<16x8xf32>, %b: memref<8x128xf32> {attn.embedded}, %c: memref<16x128xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x128xf32>) outs(%c : memref<16x128xf32>)
  return
}

// Two products reading the same embedded B with the same panels share it.
// CHECK-LABEL: func.func @embedded_twice(
// CHECK-SAME: {attn.embedded, attn.packed_panels = 32 : i64}
// CHECK-COUNT-2: memref.reinterpret_cast %arg1
func.func @embedded_twice(%a: memref<32x8xf32>, %b: memref<8x64xf32> {attn.embedded}, %c: memref<32x64xf32>, %d: memref<32x64xf32>) {
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x64xf32>) outs(%c : memref<32x64xf32>)
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x64xf32>) outs(%d : memref<32x64xf32>)
  return
}

// Not packed: another reader would see the values out of order (the copy
// here), a reader is a single row, which streams B's rows in place
// (@embedded_different_panels: 32 rows would take 32-column panels; and
// alone, @embedded_single_row), a B no wider than one panel is already
// laid out so, and only embedded arguments are.
// CHECK-LABEL: func.func @embedded_also_copied(
// CHECK-SAME: %arg1: memref<8x128xf32> {attn.embedded}, %arg2
// CHECK-NOT: reinterpret_cast
// CHECK-LABEL: func.func @embedded_different_panels(
// CHECK-SAME: %arg2: memref<8x512xf32> {attn.embedded}, %arg3
// CHECK-NOT: reinterpret_cast
// CHECK-LABEL: func.func @embedded_single_row(
// CHECK-SAME: %arg1: memref<8x512xf32> {attn.embedded}, %arg2
// CHECK-NOT: reinterpret_cast
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x512xf32>
// CHECK-LABEL: func.func @embedded_one_panel(
// CHECK-SAME: %arg1: memref<8x32xf32> {attn.embedded}, %arg2
// CHECK-NOT: reinterpret_cast
// CHECK-LABEL: func.func @not_embedded(
// CHECK-SAME: %arg1: memref<8x128xf32>, %arg2
// CHECK-NOT: reinterpret_cast
func.func @embedded_also_copied(%a: memref<32x8xf32>, %b: memref<8x128xf32> {attn.embedded}, %c: memref<32x128xf32>, %d: memref<8x128xf32>) {
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x128xf32>) outs(%c : memref<32x128xf32>)
  memref.copy %b, %d : memref<8x128xf32> to memref<8x128xf32>
  return
}
func.func @embedded_different_panels(%a: memref<32x8xf32>, %row: memref<1x8xf32>, %b: memref<8x512xf32> {attn.embedded}, %c: memref<32x512xf32>, %d: memref<1x512xf32>) {
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x512xf32>) outs(%c : memref<32x512xf32>)
  linalg.matmul ins(%row, %b : memref<1x8xf32>, memref<8x512xf32>) outs(%d : memref<1x512xf32>)
  return
}
func.func @embedded_single_row(%row: memref<1x8xf32>, %b: memref<8x512xf32> {attn.embedded}, %d: memref<1x512xf32>) {
  linalg.matmul ins(%row, %b : memref<1x8xf32>, memref<8x512xf32>) outs(%d : memref<1x512xf32>)
  return
}
func.func @embedded_one_panel(%a: memref<32x8xf32>, %b: memref<8x32xf32> {attn.embedded}, %c: memref<32x32xf32>) {
  linalg.matmul ins(%a, %b : memref<32x8xf32>, memref<8x32xf32>) outs(%c : memref<32x32xf32>)
  return
}
func.func @not_embedded(%a: memref<16x8xf32>, %b: memref<8x128xf32>, %c: memref<16x128xf32>) {
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x128xf32>) outs(%c : memref<16x128xf32>)
  return
}

// The scores of a causal diagonal tile (attn.causal_scores, from the flash
// lowering), s[j, i] += k[j, d] * qT[d, i] with keys j as rows and queries
// i as columns: a column block of queries n0 .. n0 + 31 computes the row
// blocks of keys up to n0 + 31 only; later keys are masked afterwards.
// CHECK-LABEL: func.func @causal_scores
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (64) step (32)
// CHECK: %[[END:.+]] = arith.addi %[[N0]], %c32
// CHECK: %[[MEND:.+]] = arith.minui %[[END]], %c64
// CHECK: scf.for %{{.+}} = %c0 to %[[MEND]] step %c8
// CHECK: scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args
func.func @causal_scores(%k: memref<64x16xf32>, %qt: memref<16x64xf32>,
                         %s: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(j, i, d) -> (j, d)>,
                                   affine_map<(j, i, d) -> (d, i)>,
                                   affine_map<(j, i, d) -> (j, i)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%k, %qt : memref<64x16xf32>, memref<16x64xf32>)
      outs(%s : memref<64x64xf32>) attrs = {attn.causal_scores} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  }
  return
}

// The weighted sum of values on a causal diagonal tile
// (attn.causal_weights), acc[i, d] += p[j, i] * v[j, d]: the weights of
// keys after their query are 0, so a row block of queries m0 .. m0 + 7
// sums keys up to m0 + 7 only.
// CHECK-LABEL: func.func @causal_weights
// CHECK: scf.for %[[M0:.+]] = %c0 to %c64 step %c8
// CHECK: %[[END:.+]] = arith.addi %[[M0]], %c8
// CHECK: %[[KEND:.+]] = arith.minui %[[END]], %c64
// CHECK: scf.for %{{.+}} = %c0 to %[[KEND]] step %c1 iter_args
func.func @causal_weights(%p: memref<64x64xf32>, %v: memref<64x32xf32>,
                          %acc: memref<64x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, d) -> (j, i)>,
                                   affine_map<(i, j, d) -> (j, d)>,
                                   affine_map<(i, j, d) -> (i, d)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%p, %v : memref<64x64xf32>, memref<64x32xf32>)
      outs(%acc : memref<64x32xf32>) attrs = {attn.causal_weights} {
  ^bb0(%a: f32, %b: f32, %x: f32):
    %t = arith.mulf %a, %b : f32
    %r = arith.addf %x, %t : f32
    linalg.yield %r : f32
  }
  return
}

// Products of a run-time size (a decode step's visible cache slots, marked
// with the multiple their dynamic sizes come in, attn.extent_multiple).
// A single row over a dynamic n streams B's rows as before, over n columns
// read from C: its partial sums are sized at run time, and a multiple of 64
// keeps four vectors per step.
// CHECK-LABEL: func.func @matvec_visible_slots
// CHECK: scf.for
// CHECK: %[[N:.+]] = memref.dim %arg2, %c1 : memref<1x?xf32, strided<[1024, 1], offset: ?>>
// CHECK: %[[SUMS:.+]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<1x?xf32>
// CHECK: scf.for %{{.+}} = %c0 to %[[N]] step %c16
// CHECK: scf.for %[[K:.+]] = %c0 to %c64 step %c1
// CHECK: scf.for %[[J:.+]] = %c0 to %[[N]] step %c64
// CHECK: vector.load %arg1[%[[K]], %[[J]]] : memref<64x?xf32, strided<[1024, 1], offset: ?>>
// CHECK-COUNT-3: vector.load %arg1
// CHECK: scf.for %[[COL:.+]] = %c0 to %[[N]] step %c16
// CHECK: vector.store %{{.+}}, %arg2[%c0, %[[COL]]]
func.func @matvec_visible_slots(%a: memref<1x64xf32>, %b: memref<64x?xf32, strided<[1024, 1], offset: ?>>,
                                %c: memref<1x?xf32, strided<[1024, 1], offset: ?>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    linalg.matmul {attn.extent_multiple = 64 : i64}
        ins(%a, %b : memref<1x64xf32>, memref<64x?xf32, strided<[1024, 1], offset: ?>>)
        outs(%c : memref<1x?xf32, strided<[1024, 1], offset: ?>>)
  }
  return
}

// A dynamic k (the weighted sum over the visible slots' values): the k
// loop runs to B's rows, read at run time; the column blocks stay tasks.
// CHECK-LABEL: func.func @weighted_visible_slots
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (64) step (32)
// CHECK: %[[K:.+]] = memref.dim %arg1, %c0 : memref<?x64xf32, strided<[64, 1], offset: ?>>
// CHECK: scf.for %{{.+}} = %c0 to %[[K]] step %c1 iter_args
// CHECK-COUNT-4: vector.fma
func.func @weighted_visible_slots(%p: memref<2x?xf32, strided<[1024, 1], offset: ?>>,
                                  %v: memref<?x64xf32, strided<[64, 1], offset: ?>>,
                                  %c: memref<2x64xf32>) {
  linalg.matmul {attn.extent_multiple = 32 : i64}
      ins(%p, %v : memref<2x?xf32, strided<[1024, 1], offset: ?>>, memref<?x64xf32, strided<[64, 1], offset: ?>>)
      outs(%c : memref<2x64xf32>)
  return
}

// Rows over a dynamic n at the top level (grouped-query scores with one
// key/value head): the pool's tasks are counted from the columns of the
// buffer C views, 1024, and those past n do nothing. A multiple of 32
// keeps two vectors per row.
// CHECK-LABEL: func.func @scores_visible_slots
// CHECK: %[[C:.+]] = memref.subview %arg2[0, %arg3] [2, %arg4] [1, 1]
// CHECK: scf.forall (%[[N0:.+]]) = (0) to (1024) step (32)
// CHECK: %[[INSIDE:.+]] = arith.cmpi ult, %[[N0]], %arg4 : index
// CHECK: scf.if %[[INSIDE]]
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c1 iter_args
// CHECK-COUNT-4: vector.store %{{.+}}, %[[C]]
func.func @scores_visible_slots(%q: memref<2x64xf32>, %k: memref<64x?xf32, strided<[1024, 1], offset: ?>>,
                                %s: memref<2x1024xf32>, %first: index, %count: index) {
  %c = memref.subview %s[0, %first] [2, %count] [1, 1]
      : memref<2x1024xf32> to memref<2x?xf32, strided<[1024, 1], offset: ?>>
  linalg.matmul {attn.extent_multiple = 32 : i64}
      ins(%q, %k : memref<2x64xf32>, memref<64x?xf32, strided<[1024, 1], offset: ?>>)
      outs(%c : memref<2x?xf32, strided<[1024, 1], offset: ?>>)
  return
}

// Without the multiple, a dynamic size might need a tail: the product is
// left as it is.
// CHECK-LABEL: func.func @dynamic_without_multiple
// CHECK: linalg.matmul
func.func @dynamic_without_multiple(%a: memref<1x64xf32>, %b: memref<64x?xf32>, %c: memref<1x?xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x?xf32>) outs(%c : memref<1x?xf32>)
  return
}

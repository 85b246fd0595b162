// attn.decode_attention first stores the token, element by element: its
// key as column slot = position mod C of the key cache ([width, C]) and its
// value as row slot of each key/value head's block of the value cache
// ([G, C, D]). Then it reads the caches as tensors and, per key/value head g
// (an scf.forall, tasks for the thread pool), multiplies: scores_g =
// q_g [R, D] x K_g [D, C], softmax with row j visible while its age
// (slot - j) mod C is below min(span, position + 1) (span: the window, 3
// here), and out_g = P_g [R, C] x V_g [C, D], V_g a contiguous block.
// C = 8, G = 2, R = 2, D = 4.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @decode_window(
// CHECK-SAME: %[[Q:[a-z0-9_]+]]: tensor<1x16xf32>, %[[K:[a-z0-9_]+]]: tensor<1x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x8xf32>, %[[KC:[a-z0-9_]+]]: memref<8x8xf32>, %[[VC:[a-z0-9_]+]]: memref<2x8x4xf32>, %[[P:[a-z0-9_]+]]: i64)
func.func @decode_window(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>,
                         %kc: memref<8x8xf32>, %vc: memref<2x8x4xf32>, %pos: i64) -> tensor<1x16xf32> {
  // CHECK: %[[C8:.+]] = arith.constant 8 : i64
  // CHECK: %[[SLOT64:.+]] = arith.remui %[[P]], %[[C8]] : i64
  // CHECK: %[[SLOT:.+]] = arith.index_cast %[[SLOT64]] : i64 to index
  // CHECK: %[[SEEN:.+]] = arith.addi %[[P]], %{{.+}} : i64
  // CHECK: %[[C3:.+]] = arith.constant 3 : i64
  // CHECK: %[[LIMIT64:.+]] = arith.minui %[[SEEN]], %[[C3]] : i64
  // CHECK: %[[D:.+]] = arith.constant 4 : index
  // CHECK: scf.for %[[I:.+]] = {{.*}} {
  // CHECK:   %[[E:.+]] = tensor.extract %[[K]][%{{.+}}, %[[I]]] : tensor<1x8xf32>
  // CHECK:   memref.store %[[E]], %[[KC]][%[[I]], %[[SLOT]]] : memref<8x8xf32>
  // CHECK:   %[[EV:.+]] = tensor.extract %[[V]][%{{.+}}, %[[I]]] : tensor<1x8xf32>
  // CHECK:   %[[G:.+]] = arith.divui %[[I]], %[[D]] : index
  // CHECK:   %[[F:.+]] = arith.remui %[[I]], %[[D]] : index
  // CHECK:   memref.store %[[EV]], %[[VC]][%[[G]], %[[SLOT]], %[[F]]] : memref<2x8x4xf32>
  // The first token zeroes the value cache's other rows (never written, they
  // may hold NaN, and P_g x V_g multiplies every row).
  // CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[P]], %{{.+}} : i64
  // CHECK: scf.if %[[FIRST]] {
  // CHECK:   %[[REST:.+]] = memref.subview %[[VC]][0, 1, 0] [2, 7, 4] [1, 1, 1]
  // CHECK:   linalg.fill ins(%{{.+}} : f32) outs(%[[REST]] :
  // CHECK: %[[KT:.+]] = bufferization.to_tensor %[[KC]] restrict : memref<8x8xf32>
  // CHECK: %[[VT:.+]] = bufferization.to_tensor %[[VC]] restrict : memref<2x8x4xf32>
  // Scores per key/value head: [R, D] x [D, C] out of the key cache's rows.
  // CHECK: %[[KH:.+]] = tensor.expand_shape %[[KT]] {{\[}}[0, 1], [2]] output_shape [2, 4, 8]
  // CHECK: %[[SCORES:.+]] = scf.forall (%[[G1:.+]]) in (2) shared_outs(%[[SOUT:.+]] = %{{.+}}) -> (tensor<2x2x8xf32>)
  // CHECK:   tensor.extract_slice %[[KH]][%[[G1]], 0, 0] [1, 4, 8] [1, 1, 1] : tensor<2x4x8xf32> to tensor<4x8xf32>
  // CHECK:   %[[S:.+]] = linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x4xf32>, tensor<4x8xf32>) outs(%{{.+}} : tensor<2x8xf32>)
  // CHECK:   tensor.parallel_insert_slice %[[S]] into %[[SOUT]][%[[G1]], 0, 0] [1, 2, 8]
  // The age test: (slot - j + C) mod C < limit.
  // CHECK: linalg.index 3 : index
  // CHECK: arith.subi %[[SLOT]]
  // CHECK: arith.remui
  // CHECK: arith.cmpi ult
  // The output per key/value head: [R, C] x [C, D], the head's block of the
  // value cache.
  // CHECK: scf.forall (%[[G2:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x2x4xf32>)
  // CHECK:   %[[VG:.+]] = tensor.extract_slice %[[VT]][%[[G2]], 0, 0] [1, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<8x4xf32>
  // CHECK:   %[[O:.+]] = linalg.matmul ins(%{{.+}}, %[[VG]] : tensor<2x8xf32>, tensor<8x4xf32>) outs(%{{.+}} : tensor<2x4xf32>)
  // CHECK:   tensor.parallel_insert_slice %[[O]] into %[[OUT]][%[[G2]], 0, 0] [1, 2, 4]
  // CHECK: tensor.expand_shape {{.*}} into tensor<1x16xf32>
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos
         heads = 4 kv_heads = 2 mask = window window = 3 scale = 0.5
      : (tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<8x8xf32>,
         memref<2x8x4xf32>, i64) -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}

// With C a multiple of 16 (of 64 or 32 first), the products read the
// slots the token sees, [slot + 1 - limit, slot] around the ring, rounded
// out to blocks of 16, in two pieces: from floor((end - limit) / 16) * 16
// (0 when the range wraps past slot 0, end < limit) to ceil(end / 16) * 16,
// end = slot + 1; and, when it wraps, the older slots from floor((end + C
// - limit) / 16) * 16 to C (else an empty piece at C); one piece of all C
// slots when the rounding makes the two meet. The key cache's slots are a
// piece of every row, read only while they are at most C / 4 (else whole
// rows); the value cache's are whole rows of each head's block, always
// read alone. Each piece is a product whose dynamic size is a multiple of
// 16 (attn.extent_multiple) for the micro-kernel.
// C = 48, G = 2, R = 2, D = 4.

// CHECK-LABEL: func.func @decode_visible_slots(
func.func @decode_visible_slots(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>,
                                %kc: memref<8x48xf32>, %vc: memref<2x48x4xf32>, %pos: i64) -> tensor<1x16xf32> {
  // CHECK: %[[SLOT:.+]] = arith.index_cast %{{.+}} : i64 to index
  // CHECK: %[[LIMIT:.+]] = arith.index_cast %{{.+}} : i64 to index
  // CHECK: %[[C16:.+]] = arith.constant 16 : index
  // CHECK: %[[END:.+]] = arith.addi %[[SLOT]], %{{.+}} : index
  // CHECK: %[[WRAPS:.+]] = arith.cmpi ult, %[[END]], %[[LIMIT]] : index
  // CHECK: %[[UP:.+]] = arith.addi %[[END]], %c15 : index
  // CHECK: %[[UPBLOCKS:.+]] = arith.divui %[[UP]], %[[C16]] : index
  // CHECK: %[[LAST0:.+]] = arith.muli %[[UPBLOCKS]], %[[C16]] : index
  // CHECK: %[[SEEN:.+]] = arith.minui %[[END]], %[[LIMIT]] : index
  // CHECK: %[[START:.+]] = arith.subi %[[END]], %[[SEEN]] : index
  // CHECK: %[[DOWNBLOCKS:.+]] = arith.divui %[[START]], %[[C16]] : index
  // CHECK: %[[DOWN:.+]] = arith.muli %[[DOWNBLOCKS]], %[[C16]] : index
  // CHECK: %[[FIRST:.+]] = arith.select %[[WRAPS]], %{{.+}}, %[[DOWN]] : index
  // CHECK: %[[AROUND:.+]] = arith.addi %[[END]], %c48{{.*}} : index
  // CHECK: %[[OLDSTART:.+]] = arith.subi %[[AROUND]], %[[LIMIT]] : index
  // CHECK: %[[OLDSTART2:.+]] = arith.select %[[WRAPS]], %[[OLDSTART]], %{{.+}} : index
  // CHECK: %[[OLDBLOCKS:.+]] = arith.divui %[[OLDSTART2]], %[[C16]] : index
  // CHECK: %[[OLDER0:.+]] = arith.muli %[[OLDBLOCKS]], %[[C16]] : index
  // CHECK: %[[MEET:.+]] = arith.cmpi ugt, %[[LAST0]], %[[OLDER0]] : index
  // CHECK: %[[LAST:.+]] = arith.select %[[MEET]], %{{.+}}, %[[LAST0]] : index
  // CHECK: %[[OLDER:.+]] = arith.select %[[MEET]], %{{.+}}, %[[OLDER0]] : index
  // CHECK: %[[COUNT:.+]] = arith.subi %[[LAST]], %[[FIRST]] : index
  // CHECK: %[[OLDCOUNT:.+]] = arith.subi %{{.+}}, %[[OLDER]] : index
  // CHECK: %[[TOTAL:.+]] = arith.addi %[[COUNT]], %[[OLDCOUNT]] : index
  // CHECK: %[[FEW:.+]] = arith.cmpi ule, %[[TOTAL]], %c12 : index
  // CHECK: %[[KFIRST:.+]] = arith.select %[[FEW]], %[[FIRST]], %{{.+}} : index
  // CHECK: %[[KCOUNT:.+]] = arith.select %[[FEW]], %[[COUNT]], %{{.+}} : index
  // CHECK: %[[KOLDER:.+]] = arith.select %[[FEW]], %[[OLDER]], %{{.+}} : index
  // CHECK: %[[KOLDCOUNT:.+]] = arith.select %[[FEW]], %[[OLDCOUNT]], %{{.+}} : index
  // Scores: a product per piece into its columns of the head's scores.
  // CHECK: scf.forall (%[[G1:.+]]) in (2) shared_outs(%[[SOUT:.+]] = %{{.+}}) -> (tensor<2x2x48xf32>)
  // CHECK:   %[[SPART:.+]] = tensor.extract_slice %[[SOUT]][%[[G1]], 0, %[[KFIRST]]] [1, 2, %[[KCOUNT]]] [1, 1, 1] : tensor<2x2x48xf32> to tensor<2x?xf32>
  // CHECK:   %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[SPART]] : tensor<2x?xf32>)
  // CHECK:   %[[KG:.+]] = tensor.extract_slice %{{.+}}[%[[G1]], 0, %[[KFIRST]]] [1, 4, %[[KCOUNT]]] [1, 1, 1] : tensor<2x4x48xf32> to tensor<4x?xf32>
  // CHECK:   %[[S:.+]] = linalg.matmul {attn.extent_multiple = 16 : i64} ins(%{{.+}}, %[[KG]] : tensor<2x4xf32>, tensor<4x?xf32>) outs(%[[ZEROS]] : tensor<2x?xf32>)
  // CHECK:   %[[KOLD:.+]] = tensor.extract_slice %{{.+}}[%[[G1]], 0, %[[KOLDER]]] [1, 4, %[[KOLDCOUNT]]] [1, 1, 1] : tensor<2x4x48xf32> to tensor<4x?xf32>
  // CHECK:   %[[SOLD:.+]] = linalg.matmul {attn.extent_multiple = 16 : i64} ins(%{{.+}}, %[[KOLD]] : tensor<2x4xf32>, tensor<4x?xf32>)
  // CHECK:   tensor.parallel_insert_slice %[[S]] into %[[SOUT]][%[[G1]], 0, %[[KFIRST]]] [1, 2, %[[KCOUNT]]] [1, 1, 1]
  // CHECK:   tensor.parallel_insert_slice %[[SOLD]] into %[[SOUT]][%[[G1]], 0, %[[KOLDER]]] [1, 2, %[[KOLDCOUNT]]] [1, 1, 1]
  // The weighted sum: a product per piece onto one sum.
  // CHECK: scf.forall (%[[G2:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x2x4xf32>)
  // CHECK:   %[[VG:.+]] = tensor.extract_slice %{{.+}}[%[[G2]], %[[FIRST]], 0] [1, %[[COUNT]], 4] [1, 1, 1] : tensor<2x48x4xf32> to tensor<?x4xf32>
  // CHECK:   %[[PG:.+]] = tensor.extract_slice %{{.+}}[%[[G2]], 0, %[[FIRST]]] [1, 2, %[[COUNT]]] [1, 1, 1] : tensor<2x2x48xf32> to tensor<2x?xf32>
  // CHECK:   %[[SUM:.+]] = linalg.matmul {attn.extent_multiple = 16 : i64} ins(%[[PG]], %[[VG]] : tensor<2x?xf32>, tensor<?x4xf32>) outs(%{{.+}} : tensor<2x4xf32>)
  // CHECK:   %[[VOLD:.+]] = tensor.extract_slice %{{.+}}[%[[G2]], %[[OLDER]], 0] [1, %[[OLDCOUNT]], 4] [1, 1, 1] : tensor<2x48x4xf32> to tensor<?x4xf32>
  // CHECK:   %[[POLD:.+]] = tensor.extract_slice %{{.+}}[%[[G2]], 0, %[[OLDER]]] [1, 2, %[[OLDCOUNT]]] [1, 1, 1] : tensor<2x2x48xf32> to tensor<2x?xf32>
  // CHECK:   linalg.matmul {attn.extent_multiple = 16 : i64} ins(%[[POLD]], %[[VOLD]] : tensor<2x?xf32>, tensor<?x4xf32>) outs(%[[SUM]] : tensor<2x4xf32>)
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos
         heads = 4 kv_heads = 2 mask = window window = 3 scale = 0.5
      : (tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<8x48xf32>,
         memref<2x48x4xf32>, i64) -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}

// Under a window much shorter than the ring (its range of slots, rounded
// out to blocks, fits in a quarter of it) the scores are a compact tile:
// C = 144 in blocks of 16 and window 3 give 32 columns, the recent piece's
// from column 0 and the older piece's after it, and the softmax runs over
// those 32. Column j's slot is the recent piece's first + j, or past it the
// older piece's first + (j - recent count); columns past both pieces are
// hidden. The weighted sum reads each piece's weights from its columns of
// the tile and its values from its slots.
// C = 144, G = 2, R = 2, D = 4.

// CHECK-LABEL: func.func @decode_compact_tile(
func.func @decode_compact_tile(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>,
                               %kc: memref<8x144xf32>, %vc: memref<2x144x4xf32>, %pos: i64) -> tensor<1x16xf32> {
  // CHECK: %[[SLOT:.+]] = arith.index_cast %{{.+}} : i64 to index
  // CHECK: %[[LIMIT:.+]] = arith.index_cast %{{.+}} : i64 to index
  // CHECK: %[[FIRST:.+]] = arith.select %{{.+}}, %{{.+}}, %{{.+}} : index
  // CHECK: %[[COUNT:.+]] = arith.subi %{{.+}}, %[[FIRST]] : index
  // CHECK: %[[OLDCOUNT:.+]] = arith.subi %c144{{.*}}, %[[OLDER:[0-9]+]] : index
  // The key cache's pieces are read whatever their size (no test against a
  // quarter of the ring).
  // CHECK-NOT: arith.cmpi ule
  // CHECK: scf.forall (%[[G1:.+]]) in (2) shared_outs(%[[SOUT:.+]] = %{{.+}}) -> (tensor<2x2x32xf32>)
  // CHECK:   tensor.extract_slice %[[SOUT]][%[[G1]], 0, 0] [1, 2, %[[COUNT]]] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x?xf32>
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G1]], 0, %[[FIRST]]] [1, 4, %[[COUNT]]] [1, 1, 1] : tensor<2x4x144xf32> to tensor<4x?xf32>
  // CHECK:   %[[S:.+]] = linalg.matmul {attn.extent_multiple = 16 : i64}
  // CHECK:   tensor.extract_slice %[[SOUT]][%[[G1]], 0, %[[COUNT]]] [1, 2, %[[OLDCOUNT]]] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x?xf32>
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G1]], 0, %[[OLDER]]] [1, 4, %[[OLDCOUNT]]] [1, 1, 1] : tensor<2x4x144xf32> to tensor<4x?xf32>
  // CHECK:   %[[SOLD:.+]] = linalg.matmul {attn.extent_multiple = 16 : i64}
  // CHECK:   tensor.parallel_insert_slice %[[S]] into %[[SOUT]][%[[G1]], 0, 0] [1, 2, %[[COUNT]]] [1, 1, 1]
  // CHECK:   tensor.parallel_insert_slice %[[SOLD]] into %[[SOUT]][%[[G1]], 0, %[[COUNT]]] [1, 2, %[[OLDCOUNT]]] [1, 1, 1]
  // CHECK: %[[COLUMNS:.+]] = arith.addi %[[COUNT]], %[[OLDCOUNT]] : index
  // The logits: tile column j to its slot, its age, and the tile's end.
  // CHECK: %[[J:.+]] = linalg.index 3 : index
  // CHECK: %[[RECENT:.+]] = arith.cmpi ult, %[[J]], %[[COUNT]] : index
  // CHECK: %[[PAST:.+]] = arith.subi %[[J]], %[[COUNT]] : index
  // CHECK: %[[INOLDER:.+]] = arith.addi %[[OLDER]], %[[PAST]] : index
  // CHECK: %[[INRECENT:.+]] = arith.addi %[[FIRST]], %[[J]] : index
  // CHECK: %[[JSLOT:.+]] = arith.select %[[RECENT]], %[[INRECENT]], %[[INOLDER]] : index
  // CHECK: arith.subi %[[SLOT]], %[[JSLOT]] : index
  // CHECK: %[[SEEN:.+]] = arith.cmpi ult, %{{.+}}, %[[LIMIT]] : index
  // CHECK: %[[INTILE:.+]] = arith.cmpi ult, %[[J]], %[[COLUMNS]] : index
  // CHECK: arith.andi %[[INTILE]], %[[SEEN]] : i1
  // CHECK: scf.forall (%[[G2:.+]]) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x2x4xf32>)
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G2]], %[[FIRST]], 0] [1, %[[COUNT]], 4] [1, 1, 1] : tensor<2x144x4xf32> to tensor<?x4xf32>
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G2]], 0, 0] [1, 2, %[[COUNT]]] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x?xf32>
  // CHECK:   linalg.matmul {attn.extent_multiple = 16 : i64}
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G2]], %[[OLDER]], 0] [1, %[[OLDCOUNT]], 4] [1, 1, 1] : tensor<2x144x4xf32> to tensor<?x4xf32>
  // CHECK:   tensor.extract_slice %{{.+}}[%[[G2]], 0, %[[COUNT]]] [1, 2, %[[OLDCOUNT]]] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x?xf32>
  // CHECK:   linalg.matmul {attn.extent_multiple = 16 : i64}
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos
         heads = 4 kv_heads = 2 mask = window window = 3 scale = 0.5
      : (tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<8x144xf32>,
         memref<2x144x4xf32>, i64) -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}

// attn.decode_attention over a chunk of N = 4 tokens (count of them real)
// cannot store its tokens first as a step does: token n + 1's slot may hold
// a token that token n still sees. So each task (an scf.forall over the key/
// value heads and, with fewer than 8 of them, blocks of each one's query
// heads: here one query head per task) multiplies its queries [Rb * N, D]
// by the cache's keys [D, C], block by block of the slots some token sees,
// and by the chunk's [D, N] into the two parts of one score tile, takes the
// softmax with each token's ages (the slot j in a tile column holds: n + 1
// + (lastSlot - j), plus C when negative; chunk key c: n - c), and sums the
// same blocks' values and the chunk's (0 past count) onto one
// accumulator, so neither cache is copied. The tokens' keys and
// values go to slots (p + n) mod C afterwards, the first `count` only.
// Under this window the 2 slots before the chunk touch at most 2 of the
// ring's 3 blocks of 8, so the tile holds 2 blocks side by side, [Rb * N,
// 2 * 8 + N], instead of every slot, [Rb * N, C + N].
// C = 24, G = 2, R = 2, D = 4, window 3.

// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @decode_chunk(
// CHECK-SAME: %[[Q:[a-z0-9_]+]]: tensor<4x16xf32>, %[[K:[a-z0-9_]+]]: tensor<4x8xf32>, %[[V:[a-z0-9_]+]]: tensor<4x8xf32>, %[[KC:[a-z0-9_]+]]: memref<8x24xf32>, %[[VC:[a-z0-9_]+]]: memref<2x24x4xf32>, %[[P:[a-z0-9_]+]]: i64, %[[N:[a-z0-9_]+]]: i64)
func.func @decode_chunk(%q: tensor<4x16xf32>, %k: tensor<4x8xf32>, %v: tensor<4x8xf32>,
                        %kc: memref<8x24xf32>, %vc: memref<2x24x4xf32>, %pos: i64, %n: i64) -> tensor<4x16xf32> {
  // count clamped to [0, N].
  // CHECK: %[[AT_LEAST_0:.+]] = arith.maxsi %[[N]], %{{.+}} : i64
  // CHECK: %[[COUNT64:.+]] = arith.minsi %[[AT_LEAST_0]], %{{.+}} : i64
  // CHECK: %[[COUNT:.+]] = arith.index_cast %[[COUNT64]] : i64 to index
  // CHECK: %[[PI:.+]] = arith.index_cast %[[P]] : i64 to index
  // The slot of the token before the chunk, (p + C - 1) mod C.
  // CHECK: %[[BEFORE:.+]] = arith.addi %[[P]], %{{.+}} : i64
  // CHECK: %[[LAST64:.+]] = arith.remui %[[BEFORE]], %{{.+}} : i64
  // CHECK: %[[LAST:.+]] = arith.index_cast %[[LAST64]] : i64 to index
  // At position 0 no slot holds a token: the whole value cache is zeroed.
  // CHECK: scf.if
  // CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[VC]] : memref<2x24x4xf32>)
  // CHECK-NOT: memref.store
  // The chunk's values, 0 from row `count` on.
  // CHECK: linalg.index 0 : index
  // CHECK: arith.cmpi ult, %{{.+}}, %[[COUNT]] : index
  // The cache slots some token of the chunk sees: the last
  // seen = min(p, window - 1) before p, here 2, ending at lastSlot; the
  // blocks of 8 that hold them, from the oldest's around the ring of 3
  // ((lastBlock - oldestBlock) mod 3 + 1 of them); all 3 from block 0 once
  // seen > C - 8, none when seen is 0. So before the ring fills the
  // products skip the slots not written yet, and under a window the slots
  // it hides.
  // CHECK: %[[SEEN64:.+]] = arith.minui %[[P]], %c2_i64 : i64
  // CHECK: %[[SEEN:.+]] = arith.index_cast %[[SEEN64]] : i64 to index
  // CHECK: %[[PAST:.+]] = arith.addi %[[LAST]], %c25 : index
  // CHECK: %[[BACK:.+]] = arith.subi %[[PAST]], %[[SEEN]] : index
  // CHECK: %[[OLDEST:.+]] = arith.remui %[[BACK]], %c24 : index
  // CHECK: %[[OLDESTBLOCK:.+]] = arith.divui %[[OLDEST]], %c8 : index
  // CHECK: %[[LASTBLOCK:.+]] = arith.divui %[[LAST]], %{{.+}} : index
  // CHECK: %[[UP:.+]] = arith.addi %[[LASTBLOCK]], %{{.+}} : index
  // CHECK: %[[DIFF:.+]] = arith.subi %[[UP]], %[[OLDESTBLOCK]] : index
  // CHECK: %[[AROUND0:.+]] = arith.remui %[[DIFF]], %c3 : index
  // CHECK: %[[AROUND:.+]] = arith.addi %[[AROUND0]], %c1 : index
  // CHECK: %[[WHOLE:.+]] = arith.cmpi ugt, %[[SEEN]], %c16 : index
  // CHECK: %[[NONE:.+]] = arith.cmpi eq, %[[SEEN]], %{{.+}} : index
  // CHECK: %[[SOME:.+]] = arith.select %[[WHOLE]], %{{.+}}, %[[AROUND]] : index
  // CHECK: %[[BLOCKS:.+]] = arith.select %[[NONE]], %{{.+}}, %[[SOME]] : index
  // CHECK: %[[FIRST:.+]] = arith.select %[[WHOLE]], %{{.+}}, %[[OLDESTBLOCK]] : index
  // Task t is key/value head t / 2 and its query head t % 2: rows
  // (t % 2) * N .. of the head's [R * N, D] queries.
  // CHECK: scf.forall (%[[T:.+]]) in (4) shared_outs(%[[OUTS:.+]] = %{{.+}}) -> (tensor<4x4x4xf32>)
  // CHECK:   %[[G:.+]] = arith.divui %[[T]], %c2
  // CHECK:   %[[BLOCK:.+]] = arith.remui %[[T]], %c2
  // CHECK:   %[[ROW0:.+]] = arith.muli %[[BLOCK]], %c4
  // CHECK:   %[[QB:.+]] = tensor.extract_slice %{{.+}}[%[[G]], %[[ROW0]], 0] [1, 4, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<1x4x4xf32>
  // CHECK:   %[[QG:.+]] = tensor.collapse_shape %[[QB]]
  // Seen block i (ring block (first + i) mod 3) goes to tile column 8 i.
  // CHECK:   %[[SCORES:.+]] = tensor.empty() : tensor<4x20xf32>
  // CHECK:   %[[WITH1:.+]] = scf.for %[[KB:.+]] = %{{.+}} to %[[BLOCKS]] step %{{.+}} iter_args(%[[ACC:.+]] = %[[SCORES]]) -> (tensor<4x20xf32>)
  // CHECK:     %[[KBLOCK:.+]] = arith.addi %[[FIRST]], %[[KB]] : index
  // CHECK:     %[[KRING:.+]] = arith.remui %[[KBLOCK]], %{{.+}} : index
  // CHECK:     %[[KSLOT:.+]] = arith.muli %[[KRING]], %[[C8:.+]] : index
  // CHECK:     %[[COL:.+]] = arith.muli %[[KB]], %[[C8]] : index
  // CHECK:     %[[CACHEPART:.+]] = tensor.extract_slice %[[ACC]][0, %[[COL]]] [4, 8] [1, 1]
  // CHECK:     %[[KEYS:.+]] = tensor.extract_slice %{{.+}}[0, %[[KSLOT]]] [4, 8] [1, 1]
  // CHECK:     %[[S1:.+]] = linalg.matmul ins(%[[QG]], %[[KEYS]] : tensor<4x4xf32>, tensor<4x8xf32>) outs(%{{.+}} : tensor<4x8xf32>)
  // CHECK:     tensor.insert_slice %[[S1]] into %[[ACC]][0, %[[COL]]] [4, 8] [1, 1]
  // CHECK:   %[[CHUNKPART:.+]] = tensor.extract_slice %[[WITH1]][0, 16] [4, 4] [1, 1]
  // CHECK:   %[[S2:.+]] = linalg.matmul ins(%[[QG]], %{{.+}} : tensor<4x4xf32>, tensor<4x4xf32>) outs(%{{.+}} : tensor<4x4xf32>)
  // CHECK:   tensor.insert_slice %[[S2]] into %[[WITH1]][0, 16] [4, 4] [1, 1]
  // The ages: tile column j < 16 holds slot ((first + j / 8) mod 3) * 8 +
  // j - 8 (j / 8), the mod a select; the age is lastSlot - slot, plus C if
  // negative (selects, no remainder per score); then 0 <= age < min(p + n +
  // 1, window). A tile block past the seen ones stands for slots in no seen
  // block, which that hides.
  // CHECK:   %[[J:.+]] = linalg.index 3 : index
  // CHECK-NOT: arith.remui
  // CHECK:   %[[IB:.+]] = arith.divui %[[J]], %{{.+}} : index
  // CHECK:   %[[RB:.+]] = arith.addi %[[FIRST]], %[[IB]] : index
  // CHECK:   arith.cmpi uge, %[[RB]]
  // CHECK:   %[[RING:.+]] = arith.select
  // CHECK:   %[[INBLOCK:.+]] = arith.subi %[[J]], %{{.+}} : index
  // CHECK:   %[[RSLOT:.+]] = arith.muli %[[RING]]
  // CHECK:   %[[SLOTJ:.+]] = arith.addi %[[RSLOT]], %[[INBLOCK]] : index
  // CHECK:   arith.subi %[[LAST]], %[[SLOTJ]] : index
  // CHECK:   arith.cmpi slt
  // CHECK:   arith.select
  // CHECK:   arith.addi %[[PI]], %{{.+}} : index
  // CHECK:   arith.minui
  // CHECK:   arith.cmpi sge
  // CHECK:   arith.cmpi slt
  // CHECK:   arith.andi
  // The weighted sum: the same blocks of the cache's values, then the
  // chunk's onto it.
  // CHECK:   %[[SUM1:.+]] = scf.for %[[VB:.+]] = %{{.+}} to %[[BLOCKS]] step %{{.+}} iter_args(%[[SUM0:.+]] = %{{.+}}) -> (tensor<4x4xf32>)
  // CHECK:     %[[VBLOCK:.+]] = arith.addi %[[FIRST]], %[[VB]] : index
  // CHECK:     %[[VRING:.+]] = arith.remui %[[VBLOCK]], %{{.+}} : index
  // CHECK:     %[[VSLOT:.+]] = arith.muli %[[VRING]], %{{.+}}
  // CHECK:     %[[VCOL:.+]] = arith.muli %[[VB]], %{{.+}}
  // CHECK:     %[[VROWS:.+]] = tensor.extract_slice %{{.+}}[%[[VSLOT]], 0] [8, 4] [1, 1]
  // CHECK:     %[[W1:.+]] = tensor.extract_slice %{{.+}}[0, %[[VCOL]]] [4, 8] [1, 1]
  // CHECK:     linalg.matmul ins(%[[W1]], %[[VROWS]] : tensor<4x8xf32>, tensor<8x4xf32>) outs(%[[SUM0]] : tensor<4x4xf32>)
  // CHECK:   %[[W2:.+]] = tensor.extract_slice %{{.+}}[0, 16] [4, 4] [1, 1]
  // CHECK:   linalg.matmul ins(%[[W2]], %{{.+}} : tensor<4x4xf32>, tensor<4x4xf32>) outs(%[[SUM1]] : tensor<4x4xf32>)
  // CHECK:   scf.forall.in_parallel
  // CHECK:   tensor.parallel_insert_slice %{{.+}} into %[[OUTS]][%[[T]], 0, 0] [1, 4, 4] [1, 1, 1]
  // The tasks' [G * P, Rb * N, D] results are the heads' [G, R, N, D].
  // CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2, 3], [4]] output_shape [2, 2, 1, 4, 4] : tensor<4x4x4xf32> into tensor<2x2x1x4x4xf32>
  // CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<2x2x1x4x4xf32> into tensor<2x2x4x4xf32>
  // Only then the `count` tokens' keys and values, slot (p + n) mod C.
  // CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %[[COUNT]] step
  // CHECK:   %[[AT:.+]] = arith.addi %[[PI]], %[[ROW]] : index
  // CHECK:   %[[SLOT:.+]] = arith.remui %[[AT]], %{{.+}} : index
  // CHECK:   memref.store %{{.+}}, %[[KC]][%{{.+}}, %[[SLOT]]] : memref<8x24xf32>
  // CHECK:   memref.store %{{.+}}, %[[VC]][%{{.+}}, %[[SLOT]], %{{.+}}] : memref<2x24x4xf32>
  // CHECK: tensor.collapse_shape {{.*}} into tensor<4x16xf32>
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos count %n
         heads = 4 kv_heads = 2 mask = window window = 3 scale = 0.5
      : (tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>, memref<8x24xf32>,
         memref<2x24x4xf32>, i64, i64) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// attn.sdpa with attn.tiles = [Tq, Tk] lowers to flash attention: an
// scf.forall of independent tasks, one per key/value head group and block of
// query tiles (a group's query tiles are split into P blocks when there are
// fewer than 8 groups), each writing its [S/P, 1, R, D] slice of the output;
// in a task, loops over the heads of the group, the block's query tiles and
// the key tiles the mask leaves visible, carrying a running row max m, row
// sum l and an unnormalized [Tq, D] accumulator. No [S, T] score tensor
// exists; the largest score tile is [Tk, Tq] (transposed: key rows, query
// columns).
//
// Here S = 256, H = 4, G = 2 (two heads per group), D = 8, tiles 64 x 32,
// window(40): 4 query tiles per group, P = 4 blocks of one tile, 8 tasks.
// Query tile t (rows 64t .. 64t+63) visits key tiles
//   from max(64t - 39, 0) / 32   (the window's first key)
//   to   min((64t + 63) / 32 + 1, 8)  (past the diagonal: causal)

// RUN: attn-opt %s --convert-attn-to-linalg --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @window
// CHECK-NOT: tensor<256x256xf32>
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 0.180336878 : f32
// CHECK-DAG: %[[MAGIC:.+]] = arith.constant 0x4B400000 : f32
// The output is an empty [S, H*D] tensor seen as [S, G, R, D], so that the
// C ABI pass can make it the caller's buffer. Nothing of K or V is packed
// per task: each key tile is read where it is.
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<256x32xf32>
// CHECK: %[[OUTV:.+]] = tensor.expand_shape %[[EMPTY]] {{\[\[}}0], [1, 2, 3]]
// CHECK: scf.forall (%[[T:.+]]) in (8) shared_outs(%[[OUT:.+]] = %[[OUTV]]) -> (tensor<256x2x2x8xf32>)
// CHECK: %[[G:.+]] = arith.divui %[[T]], %c4
// A group's blocks run last to first (block 3 - T % 4): with a mask the
// later queries see more keys, and the pool hands tasks out in order.
// CHECK: %[[REM:.+]] = arith.remui %[[T]], %c4
// CHECK: %[[BLOCK:.+]] = arith.subi %c3, %[[REM]]
// CHECK: %[[ROW0:.+]] = arith.muli %[[BLOCK]], %c64
// CHECK: %[[GOUT:.+]] = tensor.extract_slice %[[OUT]][%[[ROW0]], %[[G]], 0, 0] [64, 1, 2, 8]
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.copy
// CHECK: scf.for %[[R:.+]] = %c0 to %c2 step %c1 iter_args(%{{.+}} = %[[GOUT]])
// The block's single query tile (its loop folds away), transposed and
// scaled once: [D, Tq]. The scale includes log2(e), 0.125 * 1.4427: the
// scores are in base 2 (SCALE, matched above).
// CHECK: %[[QTILE:.+]] = tensor.extract_slice %{{.+}}[%[[ROW0]], %[[G]], %[[R]], 0] [64, 1, 1, 8]
// CHECK: %[[QT:.+]] = linalg.generic {{.*}} ins(%[[QTILE]] : tensor<64x8xf32>) outs(%{{.+}} : tensor<8x64xf32>)
// CHECK: arith.mulf %{{.+}}, %[[SCALE]]
// CHECK: %[[LASTQ:.+]] = arith.addi %[[ROW0]], %c63
// CHECK: %[[LASTKT:.+]] = arith.divui %[[LASTQ]], %c32
// CHECK: %[[KHI0:.+]] = arith.addi %[[LASTKT]], %c1
// CHECK: %[[KHI:.+]] = arith.minui %[[KHI0]], %c8
// CHECK: %[[FIRST:.+]] = arith.addi %[[ROW0]], %c-39
// CHECK: %[[FIRSTC:.+]] = arith.maxsi %[[FIRST]], %c0
// CHECK: %[[KLO:.+]] = arith.divui %[[FIRSTC]], %c32
// CHECK: scf.for %[[KT:.+]] = %[[KLO]] to %[[KHI]] step %c1 iter_args(%[[M:.+]] = %{{.+}}, %[[L:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}}) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x8xf32>)
// The key tile of K and of V, in place: [Tk, 1, D] -> [Tk, D]. (V is
// copied only when a row of V is a multiple of 4 KiB.)
// CHECK: %[[KROW0:.+]] = arith.muli %[[KT]], %c32
// CHECK: %[[KS:.+]] = tensor.extract_slice %{{.+}}[%[[KROW0]], %[[G]], 0] [32, 1, 8]
// CHECK: %[[KTILE:.+]] = tensor.collapse_shape %[[KS]] {{\[\[}}0, 1], [2]] : tensor<32x1x8xf32> into tensor<32x8xf32>
// CHECK: %[[VS:.+]] = tensor.extract_slice %{{.+}}[%[[KROW0]], %[[G]], 0] [32, 1, 8]
// CHECK: %[[VTILE:.+]] = tensor.collapse_shape %[[VS]]
// CHECK-NOT: linalg.copy
// Transposed scores of one tile, [Tk, Tq] = [32, 8] x [8, 64], from -0.
// CHECK: %[[SINIT:.+]] = linalg.fill ins(%cst_{{[0-9]+}} : f32) outs(%{{.+}} : tensor<32x64xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KTILE]], %[[QT]] : tensor<32x8xf32>, tensor<8x64xf32>) outs(%[[SINIT]] : tensor<32x64xf32>)
// The mask, in place on the score tile, at absolute positions (query i is
// dimension 1, key j dimension 0); only for a tile with a key after its
// first query or before its last query's window.
// CHECK: %[[LATE:.+]] = arith.cmpi sgt
// CHECK: %[[OLD:.+]] = arith.cmpi sle
// CHECK: %[[HIDDEN:.+]] = arith.ori %[[LATE]], %[[OLD]]
// CHECK: scf.if %[[HIDDEN]] -> (tensor<32x64xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<32x64xf32>)
// CHECK: linalg.index 1
// CHECK: linalg.index 0
// CHECK: arith.cmpi sle
// CHECK: arith.subi
// CHECK: arith.cmpi slt
// CHECK: arith.select {{.*}} : f32
// CHECK: } else {
// CHECK-NEXT: scf.yield
// Each query's max over the tile's keys: a reduction over the rows.
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[LOGITS:[^ ]+]] : tensor<32x64xf32>) outs(%{{.+}} : tensor<64xf32>)
// CHECK: arith.maximumf
// m' and alpha = 2^(m - m') update m in place; m'' is m' with -inf made
// 0. 2^t: n = round(t) by adding and subtracting 1.5 * 2^23, f = t - n.
// CHECK: %[[MA:.+]]:3 = linalg.generic {{.*}} outs(%[[M]], %{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK: %[[MNEW:.+]] = arith.maximumf
// CHECK: %[[T:.+]] = arith.subf %{{.+}}, %[[MNEW]] : f32
// CHECK-NEXT: %[[ROUNDED:.+]] = arith.addf %[[T]], %[[MAGIC]] : f32
// CHECK-NEXT: %[[N:.+]] = arith.subf %[[ROUNDED]], %[[MAGIC]] : f32
// CHECK-NEXT: arith.subf %[[T]], %[[N]] : f32
// CHECK: %[[NOMAX:.+]] = arith.cmpf oeq, %[[MNEW]], %cst
// CHECK: %[[FINITE:.+]] = arith.select %[[NOMAX]], %{{.+}}, %[[MNEW]] : f32
// CHECK: linalg.yield %[[MNEW]], %{{.+}}, %[[FINITE]]
// p = 2^(s - m''), over the scores in place: -inf scores (hidden keys)
// give 0 without a test per score.
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[MA]]#2 : tensor<64xf32>) outs(%[[LOGITS]] : tensor<32x64xf32>)
// CHECK-NEXT: ^bb0(%[[MROW:.+]]: f32, %[[SCORE:.+]]: f32)
// CHECK-NEXT: arith.subf %[[SCORE]], %[[MROW]]
// CHECK-NOT: arith.cmpf oeq
// CHECK: arith.cmpf olt
// CHECK-NOT: arith.cmpf
// CHECK: linalg.yield
// l' = alpha * l + the column sums of p, in place
// CHECK: linalg.generic {{.*}} ins(%[[MA]]#1 : tensor<64xf32>) outs(%[[L]] : tensor<64xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[P]] : tensor<32x64xf32>)
// acc' = alpha * acc + p^T v, in place
// CHECK: linalg.generic {{.*}} ins(%[[MA]]#1 : tensor<64xf32>) outs(%[[ACC]] : tensor<64x8xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[P]], %[[VTILE]] : tensor<32x64xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<64x8xf32>)
// CHECK: scf.yield %[[MA]]#0
// acc / l, 0 where l = 0, written into the output tile.
// CHECK: arith.divf
// CHECK: tensor.insert_slice {{.*}} [64, 1, 1, 8]
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%[[ROW0]], %[[G]], 0, 0] [64, 1, 2, 8]
// CHECK: tensor.collapse_shape {{.*}} into tensor<256x32xf32>
func.func @window(%q: tensor<256x32xf32>, %k: tensor<256x16xf32>, %v: tensor<256x16xf32>) -> tensor<256x32xf32> {
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 2 mask = window window = 40 scale = 0.125 {attn.tiles = array<i64: 64, 32>}
      : (tensor<256x32xf32>, tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x32xf32>
  return %o : tensor<256x32xf32>
}

// Without a mask every key tile is visited: 0 to T / Tk.
// CHECK-LABEL: func.func @unmasked
// CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1 iter_args
// CHECK-NOT: arith.cmpi
// CHECK: return
func.func @unmasked(%q: tensor<128x16xf32>) -> tensor<128x16xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.125 {attn.tiles = array<i64: 32, 32>}
      : (tensor<128x16xf32>, tensor<128x16xf32>, tensor<128x16xf32>) -> tensor<128x16xf32>
  return %o : tensor<128x16xf32>
}

// Eight groups are enough tasks: one per group (P = 1), each looping over
// all four query tiles, reading K and V in place (rows 256 bytes apart,
// four query tiles per task).
// CHECK-LABEL: func.func @many_groups
// CHECK: scf.forall (%[[G8:.+]]) in (8) shared_outs(%[[OUT8:.+]] = %{{.+}})
// CHECK-NOT: arith.divui
// CHECK: tensor.extract_slice %[[OUT8]][0, %[[G8]], 0, 0] [128, 1, 1, 8]
// CHECK-NOT: linalg.copy
// CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1 iter_args
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[OUT8]][0, %[[G8]], 0, 0] [128, 1, 1, 8]
func.func @many_groups(%q: tensor<128x64xf32>) -> tensor<128x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 8 kv_heads = 8 mask = causal scale = 0.125 {attn.tiles = array<i64: 32, 32>}
      : (tensor<128x64xf32>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<128x64xf32>
  return %o : tensor<128x64xf32>
}

// Square causal tiles (32 x 32, S = T = 128): the key loop stops before
// the query tile's diagonal key tile (the last visible one), which runs
// after it with its mask applied unconditionally and its two products
// marked, so that the micro-kernels skip the scores of keys after their
// query and the zero weights of those keys.
// CHECK-LABEL: func.func @causal_diagonal
// CHECK: %[[KHID:.+]] = arith.minui %{{.+}}, %c4
// CHECK: %[[DIAG:.+]] = arith.subi %[[KHID]], %c1
// CHECK: %[[BEFORED:.+]]:3 = scf.for %{{.+}} = %c0 to %[[DIAG]] step %c1 iter_args
// CHECK: scf.yield
// CHECK-NOT: scf.for
// CHECK: %[[DROW:.+]] = arith.muli %[[DIAG]], %c32
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<32x32xf32>) attrs = {attn.causal_scores}
// CHECK-NOT: scf.if
// CHECK: linalg.index 1
// CHECK: linalg.index 0
// CHECK: arith.select
// CHECK: outs(%[[BEFORED]]#0, %{{.+}}, %{{.+}} : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<32x8xf32>) attrs = {attn.causal_weights}
// CHECK: arith.divf
func.func @causal_diagonal(%q: tensor<128x64xf32>) -> tensor<128x64xf32> {
  %o = attn.sdpa %q, %q, %q heads = 8 kv_heads = 8 mask = causal scale = 0.125 {attn.tiles = array<i64: 32, 32>}
      : (tensor<128x64xf32>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<128x64xf32>
  return %o : tensor<128x64xf32>
}

// Rows of K and V 4 KiB apart (16 heads of 64) in a context too long to
// copy a head group's K and V whole (2 x 8192 x 64 floats, 4 MiB): each V
// tile is copied to a contiguous block in the key loop, so its rows do not
// evict one another in the cache; K's tile is still read in place.
// CHECK-LABEL: func.func @aliasing_rows
// CHECK-NOT: linalg.copy
// CHECK: scf.for {{.+}} iter_args
// CHECK-NOT: linalg.copy
// CHECK: tensor.collapse_shape {{.+}} into tensor<32x64xf32>
// CHECK: %[[V4K:.+]] = tensor.collapse_shape {{.+}} into tensor<32x64xf32>
// CHECK: linalg.copy ins(%[[V4K]] : tensor<32x64xf32>)
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @aliasing_rows(%q: tensor<8192x1024xf32>) -> tensor<8192x1024xf32> {
  %o = attn.sdpa %q, %q, %q heads = 16 kv_heads = 16 mask = none scale = 0.125 {attn.tiles = array<i64: 32, 32>}
      : (tensor<8192x1024xf32>, tensor<8192x1024xf32>, tensor<8192x1024xf32>) -> tensor<8192x1024xf32>
  return %o : tensor<8192x1024xf32>
}

// One key/value head (multi-query) over 5 query tiles (S = 80, tiles 16 x
// 16): no power of 2 divides 5, and 5 blocks of one tile make 5 tasks (8
// would need a divisor of 5 from 8 up), the last block first.
// CHECK-LABEL: func.func @multi_query_odd_tiles
// CHECK: scf.forall (%[[TM:.+]]) in (5) shared_outs(%[[OUTM:.+]] = %{{.+}})
// CHECK: %[[GM:.+]] = arith.divui %[[TM]], %c5
// CHECK: %[[REMM:.+]] = arith.remui %[[TM]], %c5
// CHECK: %[[BLOCKM:.+]] = arith.subi %c4, %[[REMM]]
// CHECK: %[[ROWM:.+]] = arith.muli %[[BLOCKM]], %c16
// CHECK: tensor.extract_slice %[[OUTM]][%[[ROWM]], %[[GM]], 0, 0] [16, 1, 4, 8]
func.func @multi_query_odd_tiles(%q: tensor<80x32xf32>, %kv: tensor<80x8xf32>) -> tensor<80x32xf32> {
  %o = attn.sdpa %q, %kv, %kv heads = 4 kv_heads = 1 mask = causal scale = 0.125 {attn.tiles = array<i64: 16, 16>}
      : (tensor<80x32xf32>, tensor<80x8xf32>, tensor<80x8xf32>) -> tensor<80x32xf32>
  return %o : tensor<80x32xf32>
}

// Rows of K and V 4 KiB apart (two groups of 512 features) in a short
// context: each task first copies the key tiles its query tile can see
// (causal: up to the tile's last query) of its group's K, then of its V,
// into contiguous [T, D] buffers, and its key loop reads its tiles there.
// Here S = 128, tiles 32 x 32, 8 heads in 2 groups, P = 4 blocks of one
// query tile.
// CHECK-LABEL: func.func @packed_groups
// CHECK: scf.forall (%[[TP:.+]]) in (8)
// CHECK: %[[GP:.+]] = arith.divui %[[TP]], %c4
// CHECK: %[[ROWP:.+]] = arith.muli %{{.+}}, %c32
// CHECK: %[[LASTP:.+]] = arith.addi %[[ROWP]], %c31
// CHECK: %[[LASTKTP:.+]] = arith.divui %[[LASTP]], %c32
// CHECK: %[[ENDP:.+]] = arith.addi %[[LASTKTP]], %c1
// CHECK: %[[KHIP:.+]] = arith.minui %[[ENDP]], %c4
// CHECK: %[[PK:.+]] = scf.for %[[KTP:.+]] = %c0 to %[[KHIP]] step %c1 iter_args(%[[BUFK:.+]] = %{{.+}}) -> (tensor<128x512xf32>)
// CHECK: %[[KROWP:.+]] = arith.muli %[[KTP]], %c32
// CHECK: %[[DSTK:.+]] = tensor.extract_slice %[[BUFK]][%[[KROWP]], 0] [32, 512]
// CHECK: %[[SRCK:.+]] = tensor.extract_slice %[[K:.+]][%[[KROWP]], %[[GP]], 0] [32, 1, 512]
// CHECK: %[[SRCK2:.+]] = tensor.collapse_shape %[[SRCK]]
// CHECK: %[[CPK:.+]] = linalg.copy ins(%[[SRCK2]] : tensor<32x512xf32>) outs(%[[DSTK]] : tensor<32x512xf32>)
// CHECK: tensor.insert_slice %[[CPK]] into %[[BUFK]][%[[KROWP]], 0] [32, 512]
// CHECK: %[[PV:.+]] = scf.for %{{.+}} = %c0 to %[[KHIP]] step %c1 iter_args
// CHECK-NOT: %[[K]]
// CHECK: linalg.copy
// The key loop reads K's and V's tiles from the buffers, and copies
// nothing more.
// CHECK: scf.for %[[KTQ:.+]] = %c0 to %{{.+}} step %c1 iter_args({{.+}}) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x512xf32>)
// CHECK: %[[KROWQ:.+]] = arith.muli %[[KTQ]], %c32
// CHECK: %[[KTILEP:.+]] = tensor.extract_slice %[[PK]][%[[KROWQ]], 0] [32, 512]
// CHECK: %[[VTILEP:.+]] = tensor.extract_slice %[[PV]][%[[KROWQ]], 0] [32, 512]
// CHECK-NOT: linalg.copy
// CHECK: linalg.generic {{.*}} ins(%[[KTILEP]], %{{.+}} : tensor<32x512xf32>, tensor<512x32xf32>)
// CHECK-NOT: linalg.copy
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[VTILEP]] : tensor<32x32xf32>, tensor<32x512xf32>)
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @packed_groups(%q: tensor<128x4096xf32>, %k: tensor<128x1024xf32>, %v: tensor<128x1024xf32>) -> tensor<128x4096xf32> {
  %o = attn.sdpa %q, %k, %v heads = 8 kv_heads = 2 mask = causal scale = 0.125 {attn.tiles = array<i64: 32, 32>}
      : (tensor<128x4096xf32>, tensor<128x1024xf32>, tensor<128x1024xf32>) -> tensor<128x4096xf32>
  return %o : tensor<128x4096xf32>
}

// Rows of K and V closer than 4 KiB (8 heads of 16 floats, 512 bytes) but
// read by 16 query tiles per task (S = 512, tiles 32 x 32, one group per
// task): copied once per task too, into 64-byte aligned buffers, whatever
// the caller's alignment; the key loop copies nothing. With fewer reads
// per task (@many_groups: 4 query tiles) K and V are read in place.
// CHECK-LABEL: func.func @reused_copies
// CHECK: scf.forall (%{{.+}}) in (8)
// CHECK: scf.for {{.+}} -> (tensor<512x16xf32>)
// CHECK: linalg.copy ins(%{{.+}} : tensor<32x16xf32>) outs(%{{.+}} : tensor<32x16xf32>)
// CHECK: scf.for {{.+}} -> (tensor<512x16xf32>)
// CHECK: linalg.copy ins(%{{.+}} : tensor<32x16xf32>) outs(%{{.+}} : tensor<32x16xf32>)
// CHECK: scf.for {{.+}} -> (tensor<32xf32>, tensor<32xf32>, tensor<32x16xf32>)
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @reused_copies(%q: tensor<512x128xf32>) -> tensor<512x128xf32> {
  %o = attn.sdpa %q, %q, %q heads = 8 kv_heads = 8 mask = none scale = 0.25 {attn.tiles = array<i64: 32, 32>}
      : (tensor<512x128xf32>, tensor<512x128xf32>, tensor<512x128xf32>) -> tensor<512x128xf32>
  return %o : tensor<512x128xf32>
}

// Grouped queries count once per head: 8 heads in 2 groups (rows 128
// bytes apart), S = 512 in tiles of 32, P = 4 blocks of 4 query tiles per
// group: each task's K and V tiles are read 4 heads x 4 tiles = 16 times,
// so the task copies them first, the key tiles its block sees.
// CHECK-LABEL: func.func @reused_copies_gqa
// CHECK: scf.forall (%{{.+}}) in (8)
// CHECK: scf.for {{.+}} -> (tensor<512x16xf32>)
// CHECK: linalg.copy
// CHECK: scf.for {{.+}} -> (tensor<512x16xf32>)
// CHECK: linalg.copy
// CHECK: scf.for {{.+}} = %c0 to %c4 step %c1 iter_args
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @reused_copies_gqa(%q: tensor<512x128xf32>, %kv: tensor<512x32xf32>) -> tensor<512x128xf32> {
  %o = attn.sdpa %q, %kv, %kv heads = 8 kv_heads = 2 mask = none scale = 0.25 {attn.tiles = array<i64: 32, 32>}
      : (tensor<512x128xf32>, tensor<512x32xf32>, tensor<512x32xf32>) -> tensor<512x128xf32>
  return %o : tensor<512x128xf32>
}

// A causal query tile wider than 64 (here 128 x 32, S = 256): the key tiles
// before its first query run at its full width; its diagonal block runs in
// a loop over sub-tiles of 64 queries (a loop, so that a wide tile does not
// unroll into one key loop per sub-tile), each on its slice of the running
// state (m, l, acc), with its own transposed queries, over the diagonal's
// key tiles up to its own last query only.
// CHECK-LABEL: func.func @causal_split
// CHECK: %[[ROW0:.+]] = arith.muli %{{.+}}, %c128
// CHECK: %[[FIRSTDIAG0:.+]] = arith.divui %[[ROW0]], %c32
// CHECK: %[[FIRSTDIAG:.+]] = arith.minui %[[FIRSTDIAG0]], %c8
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<8x128xf32>)
// CHECK: %[[BEFORE:.+]]:3 = scf.for %{{.+}} = %c0 to %[[FIRSTDIAG]] step %c1 {{.*}} -> (tensor<128xf32>, tensor<128xf32>, tensor<128x8xf32>)
// CHECK: %[[SPLIT:.+]]:3 = scf.for %[[R0:.+]] = %c0 to %c128 step %c64 iter_args(%[[M:.+]] = %[[BEFORE]]#0, %[[L:.+]] = %[[BEFORE]]#1, %[[ACC:.+]] = %[[BEFORE]]#2) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x8xf32>)
// CHECK: %[[SUBROW0:.+]] = arith.addi %[[ROW0]], %[[R0]]
// CHECK: %[[LAST:.+]] = arith.addi %[[SUBROW0]], %c63
// CHECK: %[[LASTKT:.+]] = arith.divui %[[LAST]], %c32
// CHECK: %[[END:.+]] = arith.addi %[[LASTKT]], %c1
// CHECK: %[[KHI:.+]] = arith.minui %[[END]], %c8
// CHECK-DAG: %[[ACCSUB:.+]] = tensor.extract_slice %[[ACC]][%[[R0]], 0] [64, 8] [1, 1]
// CHECK-DAG: %[[LSUB:.+]] = tensor.extract_slice %[[L]][%[[R0]]] [64] [1]
// CHECK-DAG: %[[MSUB:.+]] = tensor.extract_slice %[[M]][%[[R0]]] [64] [1]
// CHECK: %[[Q:.+]] = tensor.extract_slice %{{.+}}[%[[SUBROW0]], %{{.+}}, 0, 0] [64, 1, 1, 8]
// CHECK: linalg.generic {{.*}} ins(%[[Q]] : tensor<64x8xf32>) outs(%{{.+}} : tensor<8x64xf32>)
// CHECK: %[[SUB:.+]]:3 = scf.for %{{.+}} = %[[FIRSTDIAG]] to %[[KHI]] step %c1 iter_args(%{{.+}} = %[[MSUB]], %{{.+}} = %[[LSUB]], %{{.+}} = %[[ACCSUB]]) -> (tensor<64xf32>, tensor<64xf32>, tensor<64x8xf32>)
// CHECK: scf.if
// CHECK-DAG: %[[MNEW:.+]] = tensor.insert_slice %[[SUB]]#0 into %[[M]][%[[R0]]] [64] [1]
// CHECK-DAG: %[[LNEW:.+]] = tensor.insert_slice %[[SUB]]#1 into %[[L]][%[[R0]]] [64] [1]
// CHECK-DAG: %[[ACCNEW:.+]] = tensor.insert_slice %[[SUB]]#2 into %[[ACC]][%[[R0]], 0] [64, 8] [1, 1]
// CHECK: scf.yield %[[MNEW]], %[[LNEW]], %[[ACCNEW]]
// CHECK: arith.divf
// CHECK: tensor.insert_slice {{.*}} [128, 1, 1, 8]
func.func @causal_split(%q: tensor<256x16xf32>) -> tensor<256x16xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125 {attn.tiles = array<i64: 128, 32>}
      : (tensor<256x16xf32>, tensor<256x16xf32>, tensor<256x16xf32>) -> tensor<256x16xf32>
  return %o : tensor<256x16xf32>
}

// Tiles that do not divide the lengths (100 queries and 70 keys in tiles of
// 32 x 16): the queries are copied into the first 100 of 128 rows, the keys
// and values into the first 70 of 80, whole tiles of rows by the tasks of
// an scf.forall and the rest after it, the rows after them filled with
// zeros (only those); the output comes back as the first 100 rows of a
// [128, H*D] result, copied the same way. Without a mask real queries
// would see the padded keys 70..79: the last key tile (64..79) is masked,
// in the same pass as the partly masked tiles of a causal or window mask,
// by key < 70.
// CHECK-LABEL: func.func @padded
// CHECK: %[[QBLOCKS:.+]] = scf.forall (%[[I:.+]]) in (3) shared_outs(%[[QOUT:.+]] = %{{.+}}) -> (tensor<128x16xf32>)
// CHECK: %[[ROW0:.+]] = arith.muli %[[I]], %c32
// CHECK: %[[QROWS:.+]] = tensor.extract_slice %arg0[%[[ROW0]], 0] [32, 16] [1, 1]
// CHECK: tensor.parallel_insert_slice %[[QROWS]] into %[[QOUT]][%[[ROW0]], 0] [32, 16] [1, 1]
// CHECK: %[[QREST:.+]] = tensor.extract_slice %arg0[96, 0] [4, 16] [1, 1]
// CHECK: %[[QPAD:.+]] = tensor.insert_slice %[[QREST]] into %[[QBLOCKS]][96, 0] [4, 16] [1, 1]
// CHECK: %[[QZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<28x16xf32>)
// CHECK: tensor.insert_slice %[[QZEROS]] into %[[QPAD]][100, 0] [28, 16] [1, 1] : tensor<28x16xf32> into tensor<128x16xf32>
// CHECK: %[[KBLOCKS:.+]] = scf.forall (%{{.+}}) in (4) {{.*}} -> (tensor<80x16xf32>)
// CHECK: tensor.parallel_insert_slice {{.*}} [16, 16] [1, 1] : tensor<16x16xf32> into tensor<80x16xf32>
// CHECK: %[[KREST:.+]] = tensor.extract_slice %arg1[64, 0] [6, 16] [1, 1]
// CHECK: %[[KPAD:.+]] = tensor.insert_slice %[[KREST]] into %[[KBLOCKS]][64, 0] [6, 16] [1, 1]
// CHECK: %[[KZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<10x16xf32>)
// CHECK: tensor.insert_slice %[[KZEROS]] into %[[KPAD]][70, 0] [10, 16] [1, 1] : tensor<10x16xf32> into tensor<80x16xf32>
// CHECK-NOT: linalg.fill {{.*}} tensor<128x16xf32>
// CHECK: scf.forall (%{{.+}}) in (8)
// CHECK: %[[KCOL0:.+]] = arith.muli %{{.+}}, %c16
// CHECK: %[[LASTK:.+]] = arith.addi %[[KCOL0]], %c15
// CHECK: %[[PADDED:.+]] = arith.cmpi sge, %[[LASTK]], %c70
// CHECK: scf.if %[[PADDED]]
// CHECK: linalg.index 0
// CHECK: %[[J:.+]] = arith.addi %{{.+}}, %[[KCOL0]]
// CHECK: %[[REAL:.+]] = arith.cmpi slt, %[[J]], %c70
// CHECK: arith.select %[[REAL]]
// CHECK: %[[ALL:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2, 3]] : tensor<128x2x1x8xf32> into tensor<128x16xf32>
// CHECK: %[[OBLOCKS:.+]] = scf.forall (%[[O:.+]]) in (3) shared_outs(%[[OOUT:.+]] = %{{.+}}) -> (tensor<100x16xf32>)
// CHECK: %[[OROW0:.+]] = arith.muli %[[O]], %c32
// CHECK: %[[OROWS:.+]] = tensor.extract_slice %[[ALL]][%[[OROW0]], 0] [32, 16] [1, 1]
// CHECK: tensor.parallel_insert_slice %[[OROWS]] into %[[OOUT]][%[[OROW0]], 0] [32, 16] [1, 1]
// CHECK: %[[OREST:.+]] = tensor.extract_slice %[[ALL]][96, 0] [4, 16] [1, 1]
// CHECK: %[[OUT:.+]] = tensor.insert_slice %[[OREST]] into %[[OBLOCKS]][96, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<100x16xf32>
// CHECK: return %[[OUT]]
func.func @padded(%q: tensor<100x16xf32>, %kv: tensor<70x16xf32>) -> tensor<100x16xf32> {
  %o = attn.sdpa %q, %kv, %kv heads = 2 kv_heads = 2 mask = none scale = 0.25 {attn.tiles = array<i64: 32, 16>}
      : (tensor<100x16xf32>, tensor<70x16xf32>, tensor<70x16xf32>) -> tensor<100x16xf32>
  return %o : tensor<100x16xf32>
}

// Causal, same lengths: only padded queries could see padded keys, whose
// outputs are dropped, so no key is masked for being padding.
// CHECK-LABEL: func.func @padded_causal
// CHECK-NOT: arith.cmpi sge, %{{.+}}, %c100
// CHECK-NOT: arith.cmpi slt, %{{.+}}, %c100
// CHECK: return
func.func @padded_causal(%q: tensor<100x16xf32>) -> tensor<100x16xf32> {
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.25 {attn.tiles = array<i64: 32, 32>}
      : (tensor<100x16xf32>, tensor<100x16xf32>, tensor<100x16xf32>) -> tensor<100x16xf32>
  return %o : tensor<100x16xf32>
}

// The attn canonicalizations the optimization pipeline relies on before
// attn-fuse-sdpa: scale by 1 folds, consecutive scales merge, a double
// transpose cancels, merge_heads(split_heads(x)) is x, and a mask that hides
// nothing folds. Each also has a case that must NOT change.

// RUN: attn-opt %s -split-input-file --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @scale_by_one(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x16x16xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @scale_by_one(%x: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %y = attn.scale %x by 1.0 : tensor<4x16x16xf32>
  return %y : tensor<4x16x16xf32>
}

// -----

// Any other factor stays.
// CHECK-LABEL: func.func @scale_kept(
// CHECK-NEXT:    attn.scale %{{.+}} by 1.250000e-01
// CHECK-NEXT:    return
func.func @scale_kept(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %y = attn.scale %x by 0.125 : tensor<16x16xf32>
  return %y : tensor<16x16xf32>
}

// -----

// scale(scale(scale(x, 0.5), 0.5), 0.5) -> scale(x, 0.125).
// CHECK-LABEL: func.func @scales_merge(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT:    %[[Y:.+]] = attn.scale %[[X]] by 1.250000e-01
// CHECK-NEXT:    return %[[Y]]
func.func @scales_merge(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = attn.scale %x by 0.5 : tensor<16x16xf32>
  %b = attn.scale %a by 0.5 : tensor<16x16xf32>
  %c = attn.scale %b by 0.5 : tensor<16x16xf32>
  return %c : tensor<16x16xf32>
}

// -----

// Factors whose product leaves f32's normal range stay apart: 1e30 * 1e30
// would be inf (no attn.scale may hold it), 1e-30 * 1e-30 would be 0.
// CHECK-LABEL: func.func @scales_out_of_range_stay(
// CHECK-NEXT:    %[[A:.+]] = attn.scale %{{.+}} by 1.000000e+30
// CHECK-NEXT:    %[[B:.+]] = attn.scale %[[A]] by 1.000000e+30
// CHECK-NEXT:    %[[C:.+]] = attn.scale %{{.+}} by 1.000000e-30
// CHECK-NEXT:    %[[D:.+]] = attn.scale %[[C]] by 1.000000e-30
func.func @scales_out_of_range_stay(%x: tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %a = attn.scale %x by 1.0e30 : tensor<16x16xf32>
  %b = attn.scale %a by 1.0e30 : tensor<16x16xf32>
  %c = attn.scale %x by 1.0e-30 : tensor<16x16xf32>
  %d = attn.scale %c by 1.0e-30 : tensor<16x16xf32>
  return %b, %d : tensor<16x16xf32>, tensor<16x16xf32>
}

// -----

// Scales that cancel merge into a scale by 1, which then folds away.
// CHECK-LABEL: func.func @scales_cancel(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @scales_cancel(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = attn.scale %x by 8.0 : tensor<16x16xf32>
  %b = attn.scale %a by 0.125 : tensor<16x16xf32>
  return %b : tensor<16x16xf32>
}

// -----

// The inner scale is still needed by its other user; the outer one reads x
// directly with the merged factor.
// CHECK-LABEL: func.func @scales_merge_shared(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x16xf32>)
// CHECK-DAG:     %[[A:.+]] = attn.scale %[[X]] by 5.000000e-01
// CHECK-DAG:     %[[B:.+]] = attn.scale %[[X]] by 1.250000e-01
// CHECK:         return %[[B]], %[[A]]
func.func @scales_merge_shared(%x: tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %a = attn.scale %x by 0.5 : tensor<16x16xf32>
  %b = attn.scale %a by 0.25 : tensor<16x16xf32>
  return %b, %a : tensor<16x16xf32>, tensor<16x16xf32>
}

// -----

// A scale separated from another by a mask is not merged by canonicalize
// (attn-fuse-sdpa multiplies such factors itself).
// CHECK-LABEL: func.func @scales_across_mask(
// CHECK-NEXT:    attn.scale %{{.+}} by 5.000000e-01
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.scale %{{.+}} by 2.500000e-01
// CHECK-NEXT:    return
func.func @scales_across_mask(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %a = attn.scale %x by 0.5 : tensor<16x16xf32>
  %m = attn.mask %a causal : tensor<16x16xf32>
  %b = attn.scale %m by 0.25 : tensor<16x16xf32>
  return %b : tensor<16x16xf32>
}

// -----

// CHECK-LABEL: func.func @double_transpose(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x16x8xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @double_transpose(%x: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  %t = attn.transpose %x : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %u = attn.transpose %t : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  return %u : tensor<4x16x8xf32>
}

// -----

// Three transposes are one.
// CHECK-LABEL: func.func @triple_transpose(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x8xf32>)
// CHECK-NEXT:    %[[T:.+]] = attn.transpose %[[X]] : (tensor<16x8xf32>) -> tensor<8x16xf32>
// CHECK-NEXT:    return %[[T]]
func.func @triple_transpose(%x: tensor<16x8xf32>) -> tensor<8x16xf32> {
  %t = attn.transpose %x : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %u = attn.transpose %t : (tensor<8x16xf32>) -> tensor<16x8xf32>
  %w = attn.transpose %u : (tensor<16x8xf32>) -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}

// -----

// CHECK-LABEL: func.func @merge_of_split(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @merge_of_split(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %h = attn.split_heads %x heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %h : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// With a per-head op in between, nothing folds.
// CHECK-LABEL: func.func @merge_of_scaled_split(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @merge_of_scaled_split(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %h = attn.split_heads %x heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %s = attn.scale %h by 0.5 : tensor<4x16x8xf32>
  %y = attn.merge_heads %s : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// CHECK-LABEL: func.func @mask_none(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x16x16xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @mask_none(%x: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %m = attn.mask %x none : tensor<4x16x16xf32>
  return %m : tensor<4x16x16xf32>
}

// -----

// Masks that hide something stay.
// CHECK-LABEL: func.func @mask_kept(
// CHECK-NEXT:    attn.mask %{{.+}} causal
// CHECK-NEXT:    attn.mask %{{.+}} window window = 4
// CHECK-NEXT:    return
func.func @mask_kept(%x: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %m = attn.mask %x causal : tensor<16x16xf32>
  %w = attn.mask %m window window = 4 : tensor<16x16xf32>
  return %w : tensor<16x16xf32>
}

// -----

// Canonicalize then fuse: the chain below is only recognisable once the
// scale by 1, the mask none and the double transpose are gone and the two
// scales are merged, which is why buildAttnOptimizationPipeline runs
// canonicalize before attn-fuse-sdpa.
// RUN: attn-opt %s -split-input-file --canonicalize --attn-fuse-sdpa | FileCheck %s --check-prefix=FUSE
// FUSE-LABEL: func.func @needs_canonicalize(
// FUSE-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>)
// FUSE-NEXT:    attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// FUSE-NEXT:    return
// Without canonicalize the pass refuses it (the key is a transpose of a
// transpose, not of split_heads).
// RUN: attn-opt %s -split-input-file --attn-fuse-sdpa | FileCheck %s --check-prefix=RAW
// RAW-LABEL: func.func @needs_canonicalize(
// RAW-NOT:     attn.sdpa
// RAW:         attn.merge_heads
func.func @needs_canonicalize(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt0 = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %kh2 = attn.transpose %kt0 : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh2 : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %s1 = attn.scale %s by 1.0 : tensor<4x16x16xf32>
  %s2 = attn.scale %s1 by 0.5 : tensor<4x16x16xf32>
  %s3 = attn.scale %s2 by 0.25 : tensor<4x16x16xf32>
  %m0 = attn.mask %s3 none : tensor<4x16x16xf32>
  %m = attn.mask %m0 causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

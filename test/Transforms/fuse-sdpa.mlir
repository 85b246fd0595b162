// --attn-fuse-sdpa recognises attention written out by hand (the chain the
// frontend emits for it) and replaces it with the one attn.sdpa that
// `attention(...)` gives. Chains that only look like attention are left
// intact: the second RUN line checks, with a remark, why each one is refused,
// so that a negative case cannot pass by being refused for another reason.
//
// Shapes throughout: S = T = 16 tokens, H = 4 heads of D = 8, so q/k/v are
// [16, 32], per-head tensors [4, 16, 8] and the scores [4, 16, 16].

// RUN: attn-opt %s -split-input-file --attn-fuse-sdpa | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-fuse-sdpa=report-refusals -verify-diagnostics >/dev/null

//===----------------------------------------------------------------------===//
// Fused
//===----------------------------------------------------------------------===//

// The textbook chain: multi-head, causal, scores scaled by 0.125. The whole
// chain, split_heads to merge_heads, becomes one sdpa.
// CHECK-LABEL: func.func @causal(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT:    %[[O:.+]] = attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
// CHECK-NEXT:    return %[[O]]
func.func @causal(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A sliding window keeps its size.
// CHECK-LABEL: func.func @window(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = window window = 4 scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @window(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss window window = 4 : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// No attn.mask: mask = none.
// CHECK-LABEL: func.func @no_mask(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = none scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @no_mask(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %p = attn.softmax %ss axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// No scale at all: scale = 1.
// CHECK-LABEL: func.func @no_scale(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = causal scale = 1.000000e+00
// CHECK-NEXT:    return
func.func @no_scale(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// An additive [S, T] mask tensor, broadcast over the heads, becomes the bias.
// CHECK-LABEL: func.func @bias(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>, %[[B:[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT:    attn.sdpa %[[Q]], %[[K]], %[[V]] bias %[[B]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x16xf32>) -> tensor<16x32xf32>
// CHECK-NEXT:    return
func.func @bias(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %mb = attn.add %m, %b : (tensor<4x16x16xf32>, tensor<16x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %mb axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Addition commutes: add(bias, scores) is the same bias.
// CHECK-LABEL: func.func @bias_first(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>, %[[B:[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT:    attn.sdpa %[[Q]], %[[K]], %[[V]] bias %[[B]] heads = 4 kv_heads = 4 mask = none scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @bias_first(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %mb = attn.add %b, %ss : (tensor<16x16xf32>, tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %mb axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The mask applied after the bias is added hides the same keys.
// CHECK-LABEL: func.func @mask_after_bias(
// CHECK-SAME:    %[[B:[^:]+]]: tensor<16x16xf32>)
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} bias %[[B]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @mask_after_bias(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %sb = attn.add %ss, %b : (tensor<4x16x16xf32>, tensor<16x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %sb causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The scale written on q before the projection into heads ((q * s) @ k^T):
// q.k is bilinear, so the factor moves onto the scores and the scale op goes.
// CHECK-LABEL: func.func @scale_on_q(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT:    attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @scale_on_q(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qs = attn.scale %q by 0.125 : tensor<16x32xf32>
  %qh = attn.split_heads %qs heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The scale split between the per-head q (0.5) and the per-head k^T (0.25):
// 0.5 * 0.25 = 0.125.
// CHECK-LABEL: func.func @scale_on_heads(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @scale_on_heads(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %qhs = attn.scale %qh by 0.5 : tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %kts = attn.scale %kt by 0.25 : tensor<4x8x16xf32>
  %s = attn.matmul %qhs, %kts : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Two scales on the scores, one on each side of the mask (a positive scale
// commutes with the mask): 0.5 * 0.25 = 0.125.
// CHECK-LABEL: func.func @two_scales(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @two_scales(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %s1 = attn.scale %s by 0.5 : tensor<4x16x16xf32>
  %m = attn.mask %s1 causal : tensor<4x16x16xf32>
  %s2 = attn.scale %m by 0.25 : tensor<4x16x16xf32>
  %p = attn.softmax %s2 axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// `s / 8` reaches the IR as a scale by 1/8, `s / sqrt(8)` as a scale by
// 1/sqrt(8) = 0.35355339; the factor is kept as written.
// CHECK-LABEL: func.func @division(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @division(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 1.250000e-01 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// CHECK-LABEL: func.func @division_sqrt(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = causal scale = 0.353553385
// CHECK-NEXT:    return
func.func @division_sqrt(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.353553385 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Two masks hide the union of their keys: causal then window 4 is window 4.
// CHECK-LABEL: func.func @two_masks(
// CHECK-NEXT:    attn.sdpa %{{.+}}, %{{.+}}, %{{.+}} heads = 4 kv_heads = 4 mask = window window = 4 scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @two_masks(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m1 = attn.mask %s causal : tensor<4x16x16xf32>
  %ss = attn.scale %m1 by 0.125 : tensor<4x16x16xf32>
  %m2 = attn.mask %ss window window = 4 : tensor<4x16x16xf32>
  %p = attn.softmax %m2 axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Self-attention on one tensor: a single split_heads feeds q, k and v; all
// its uses are inside the chain, so it still fuses.
// CHECK-LABEL: func.func @self_attention(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT:    attn.sdpa %[[X]], %[[X]], %[[X]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01
// CHECK-NEXT:    return
func.func @self_attention(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %xh = attn.split_heads %x heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %xh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %xh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %xh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A scaled q that something else also reads is not part of the chain: the
// scale stays and its result is the query, with the scores scale alone.
// CHECK-LABEL: func.func @shared_scaled_q(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x32xf32>, %[[K:[^:]+]]: tensor<16x32xf32>, %[[V:[^:]+]]: tensor<16x32xf32>)
// CHECK-NEXT:    %[[QS:.+]] = attn.scale %[[Q]] by 5.000000e-01
// CHECK-NEXT:    %[[O:.+]] = attn.sdpa %[[QS]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = causal scale = 2.500000e-01
// CHECK-NEXT:    return %[[O]], %[[QS]]
func.func @shared_scaled_q(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %qs = attn.scale %q by 0.5 : tensor<16x32xf32>
  %qh = attn.split_heads %qs heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.25 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y, %qs : tensor<16x32xf32>, tensor<16x32xf32>
}

// -----

// Single head, everything rank 2: matmul(q, transpose(k)), softmax over
// axis 1, matmul(p, v). heads = kv_heads = 1.
// CHECK-LABEL: func.func @single_head(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x8xf32>, %[[K:[^:]+]]: tensor<16x8xf32>, %[[V:[^:]+]]: tensor<16x8xf32>)
// CHECK-NEXT:    %[[O:.+]] = attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 1 kv_heads = 1 mask = causal scale = 0.353553385 : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT:    return %[[O]]
func.func @single_head(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %ss = attn.scale %s by 0.353553385 : tensor<16x16xf32>
  %m = attn.mask %ss causal : tensor<16x16xf32>
  %p = attn.softmax %m axis = 1 : tensor<16x16xf32>
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// Single head with a bias, more keys than queries (S = 4, T = 16), and the
// scale on q.
// CHECK-LABEL: func.func @single_head_bias(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x8xf32>, %[[K:[^:]+]]: tensor<16x8xf32>, %[[V:[^:]+]]: tensor<16x8xf32>, %[[B:[^:]+]]: tensor<4x16xf32>)
// CHECK-NEXT:    attn.sdpa %[[Q]], %[[K]], %[[V]] bias %[[B]] heads = 1 kv_heads = 1 mask = none scale = 1.250000e-01 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<4x16xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    return
func.func @single_head_bias(%q: tensor<4x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>, %b: tensor<4x16xf32>) -> tensor<4x8xf32> {
  %qs = attn.scale %q by 0.125 : tensor<4x8xf32>
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %qs, %kt : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %sb = attn.add %b, %s : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %p = attn.softmax %sb axis = 1 : tensor<4x16xf32>
  %o = attn.matmul %p, %v : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// Two attention blocks in a row, the second reading the first's output:
// both fuse, and the second's q is the first sdpa.
// CHECK-LABEL: func.func @two_blocks(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x8xf32>, %[[K:[^:]+]]: tensor<16x8xf32>, %[[V:[^:]+]]: tensor<16x8xf32>)
// CHECK-NEXT:    %[[A:.+]] = attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 1 kv_heads = 1 mask = causal scale = 1.000000e+00
// CHECK-NEXT:    %[[B:.+]] = attn.sdpa %[[A]], %[[K]], %[[V]] heads = 1 kv_heads = 1 mask = none scale = 1.000000e+00
// CHECK-NEXT:    return %[[B]]
func.func @two_blocks(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %m = attn.mask %s causal : tensor<16x16xf32>
  %p = attn.softmax %m axis = 1 : tensor<16x16xf32>
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %kt2 = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s2 = attn.matmul %o, %kt2 : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %p2 = attn.softmax %s2 axis = 1 : tensor<16x16xf32>
  %o2 = attn.matmul %p2, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o2 : tensor<16x8xf32>
}

//===----------------------------------------------------------------------===//
// Left alone. Each case names why; CHECK-NEXT on every op shows the chain is
// intact and that no attn.sdpa was added.
//===----------------------------------------------------------------------===//

// -----

// Softmax over axis 1 normalises over the queries, not the keys.
// CHECK-LABEL: func.func @softmax_wrong_axis(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax %{{.+}} axis = 1
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @softmax_wrong_axis(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 1 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: softmax is over axis 1, not over the keys (axis 2)}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Single head: softmax over axis 0 (the queries).
// CHECK-LABEL: func.func @single_head_wrong_axis(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.softmax %{{.+}} axis = 0
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @single_head_wrong_axis(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %p = attn.softmax %s axis = 0 : tensor<16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: softmax is over axis 0, not over the keys (axis 1)}}
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// The scale is applied to the attention weights after the softmax: they no
// longer sum to 1, and sdpa has no output scale.
// CHECK-LABEL: func.func @scale_after_softmax(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.scale %{{.+}} by 1.250000e-01
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @scale_after_softmax(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %ps = attn.scale %p by 0.125 : tensor<4x16x16xf32>
  %o = attn.matmul %ps, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the attention weights are scaled after the softmax}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The mask tensor multiplies the scores (attn.mul) instead of being added: a
// multiplicative mask, not sdpa's additive bias.
// CHECK-LABEL: func.func @multiplicative_mask(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mul
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @multiplicative_mask(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %mb = attn.mul %ss, %b : (tensor<4x16x16xf32>, tensor<16x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %mb axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the scores are multiplied by a tensor (attn.mul): a multiplicative mask, not an additive one}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Different head counts for q/k/v cannot reach the pass: the batch of the
// per-head matmuls is the head count, and attn.matmul rejects differing
// batches (fuse-sdpa-heads-mismatch.mlir). What can be written is a v whose
// heads are wider than k's: sdpa needs value and key of one shape.
// CHECK-LABEL: func.func @value_head_width(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @value_head_width(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x64xf32>) -> tensor<4x16x16xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: value has shape [16, 64] but key has [16, 32]; sdpa needs them equal}}
  %y = attn.merge_heads %o : (tensor<4x16x16xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// v is already per head (not a split_heads of a [T, H*D] tensor).
// CHECK-LABEL: func.func @value_not_split(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @value_not_split(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %vh: tensor<4x16x8xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %s axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: v of the final matmul is not produced by split_heads}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The attention weights are also returned: fusing would leave the whole
// score computation alive beside the sdpa.
// CHECK-LABEL: func.func @weights_used_elsewhere(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @weights_used_elsewhere(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<4x16x16xf32>) {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the result of 'attn.softmax' is also used outside the chain}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y, %p : tensor<16x32xf32>, tensor<4x16x16xf32>
}

// -----

// The raw scores feed a second computation.
// CHECK-LABEL: func.func @scores_used_elsewhere(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    attn.relu
// CHECK-NEXT:    return
func.func @scores_used_elsewhere(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<4x16x16xf32>) {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the result of 'attn.matmul' is also used outside the chain}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  %r = attn.relu %s : tensor<4x16x16xf32>
  return %y, %r : tensor<16x32xf32>, tensor<4x16x16xf32>
}

// -----

// The per-head q is used elsewhere too.
// CHECK-LABEL: func.func @split_used_elsewhere(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @split_used_elsewhere(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<4x16x8xf32>) {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %s axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the result of 'attn.split_heads' is also used outside the chain}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y, %qh : tensor<16x32xf32>, tensor<4x16x8xf32>
}

// -----

// The per-head output is used before merge_heads.
// CHECK-LABEL: func.func @output_heads_used_elsewhere(
// CHECK:         attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @output_heads_used_elsewhere(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<4x16x8xf32>) {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %s axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the result of 'attn.matmul' is also used outside the chain}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y, %o : tensor<16x32xf32>, tensor<4x16x8xf32>
}

// -----

// A negative scale on the scores does not commute with the mask:
// -0.125 * -inf = +inf, so the hidden keys would win the softmax.
// CHECK-LABEL: func.func @negative_scale(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.scale %{{.+}} by -1.250000e-01
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @negative_scale(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %ss = attn.scale %m by -0.125 : tensor<4x16x16xf32>
  %p = attn.softmax %ss axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the scores are scaled by -0.125; only a positive finite factor commutes with the mask}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A zero scale: 0 * -inf = NaN at the hidden keys.
// CHECK-LABEL: func.func @zero_scale(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale %{{.+}} by 0.000000e+00
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @zero_scale(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %ss = attn.scale %s by 0.0 : tensor<16x16xf32>
  %m = attn.mask %ss causal : tensor<16x16xf32>
  %p = attn.softmax %m axis = 1 : tensor<16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the scores are scaled by 0; only a positive finite factor commutes with the mask}}
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// A negative scale on the per-head q: an intermediate of the chain, and its
// factor could not become sdpa's scale without the mask problem above.
// CHECK-LABEL: func.func @negative_scale_on_query_heads(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.scale %{{.+}} by -5.000000e-01
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @negative_scale_on_query_heads(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %qhs = attn.scale %qh by -0.5 : tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qhs, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %m = attn.mask %s causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the query is scaled by -0.5; only a positive finite factor commutes with the mask}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The key is not transposed: q @ k instead of q @ k^T. (S = D = 8 so that
// the shapes still agree.)
// CHECK-LABEL: func.func @transpose_missing(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.mask
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @transpose_missing(%q: tensor<8x32xf32>, %k: tensor<8x32xf32>, %v: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %s = attn.matmul %qh, %kh : (tensor<4x8x8xf32>, tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = attn.scale %s by 0.125 : tensor<4x8x8xf32>
  %m = attn.mask %ss causal : tensor<4x8x8xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x8x8xf32>
  %o = attn.matmul %p, %vh : (tensor<4x8x8xf32>, tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the key operand of the score matmul is not transposed}}
  %y = attn.merge_heads %o : (tensor<4x8x8xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// The transpose is on the query: q^T @ k.
// CHECK-LABEL: func.func @transpose_on_query(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @transpose_on_query(%q: tensor<8x32xf32>, %k: tensor<8x32xf32>, %v: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<8x32xf32>) -> tensor<4x8x8xf32>
  %qt = attn.transpose %qh : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = attn.matmul %qt, %kh : (tensor<4x8x8xf32>, tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %p = attn.softmax %s axis = 2 : tensor<4x8x8xf32>
  %o = attn.matmul %p, %vh : (tensor<4x8x8xf32>, tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the transpose is on the query operand of the score matmul, not on the key}}
  %y = attn.merge_heads %o : (tensor<4x8x8xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Single head, the transpose on v instead of k: matmul(p, v^T).
// CHECK-LABEL: func.func @transpose_on_value(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @transpose_on_value(%q: tensor<8x8xf32>, %k: tensor<8x8xf32>, %v: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %vt = attn.transpose %v : (tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = attn.matmul %q, %k : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %p = attn.softmax %s axis = 1 : tensor<8x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the key operand of the score matmul is not transposed}}
  %o = attn.matmul %p, %vt : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %o : tensor<8x8xf32>
}

// -----

// The scale is applied after the bias is added: it scales the bias too, while
// sdpa adds the bias to the already scaled scores.
// CHECK-LABEL: func.func @scale_after_bias(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.add
// CHECK-NEXT:    attn.scale
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @scale_after_bias(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %sb = attn.add %s, %b : (tensor<4x16x16xf32>, tensor<16x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %sb by 0.125 : tensor<4x16x16xf32>
  %p = attn.softmax %ss axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: a scale is applied after the bias is added}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A per-head bias [H, S, T]: sdpa's bias is one [S, T] shared by all heads.
// CHECK-LABEL: func.func @bias_per_head(
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.split_heads
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.add
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.merge_heads
// CHECK-NEXT:    return
func.func @bias_per_head(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<16x32xf32>, %b: tensor<4x16x16xf32>) -> tensor<16x32xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %sb = attn.add %s, %b : (tensor<4x16x16xf32>, tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %p = attn.softmax %sb axis = 2 : tensor<4x16x16xf32>
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the tensor added to the scores has shape [4, 16, 16]; sdpa's bias is [queries, keys] = [16, 16], shared by all heads}}
  %y = attn.merge_heads %o : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A bias row [T] broadcast over the queries is not the [S, T] bias sdpa takes.
// CHECK-LABEL: func.func @bias_row(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.add
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @bias_row(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %sb = attn.add %s, %b : (tensor<16x16xf32>, tensor<16xf32>) -> tensor<16x16xf32>
  %p = attn.softmax %sb axis = 1 : tensor<16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the tensor added to the scores has shape [16]; sdpa's bias is [queries, keys] = [16, 16], shared by all heads}}
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// Two bias tensors added: sdpa takes one.
// CHECK-LABEL: func.func @two_biases(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.add
// CHECK-NEXT:    attn.add
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @two_biases(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>, %b1: tensor<16x16xf32>, %b2: tensor<16x16xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %s1 = attn.add %s, %b1 : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %s2 = attn.add %s1, %b2 : (tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  %p = attn.softmax %s2 axis = 1 : tensor<16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: more than one tensor is added to the scores; sdpa takes one bias}}
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// The scores go through another op (here relu) before the softmax.
// CHECK-LABEL: func.func @other_op_on_scores(
// CHECK-NEXT:    attn.transpose
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.relu
// CHECK-NEXT:    attn.softmax
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @other_op_on_scores(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %kt = attn.transpose %k : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %s = attn.matmul %q, %kt : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %r = attn.relu %s : tensor<16x16xf32>
  %p = attn.softmax %r axis = 1 : tensor<16x16xf32>
  // expected-remark @+1 {{not fused into attn.sdpa: the scores pass through 'attn.relu', which sdpa cannot express}}
  %o = attn.matmul %p, %v : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %o : tensor<16x8xf32>
}

// -----

// Plain matmuls that are not attention are not touched and get no remark.
// CHECK-LABEL: func.func @not_attention(
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    attn.matmul
// CHECK-NEXT:    return
func.func @not_attention(%a: tensor<16x8xf32>, %b: tensor<8x16xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %x = attn.matmul %a, %b : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  %y = attn.matmul %x, %c : (tensor<16x16xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  return %y : tensor<16x8xf32>
}

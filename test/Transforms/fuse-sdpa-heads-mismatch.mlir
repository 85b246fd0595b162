// attn-fuse-sdpa refuses q/k/v split into different numbers of heads, but no
// such chain reaches it: the per-head matmuls are batched over the heads, and
// attn.matmul rejects operands whose batch sizes differ. This file pins that
// down, so the refusal in FuseSdpa.cpp stays a defensive check.

// RUN: attn-opt %s --attn-fuse-sdpa -split-input-file -verify-diagnostics

// q in 4 heads, k in 2 heads of the same width.
func.func @query_key_heads(%q: tensor<16x32xf32>, %k: tensor<16x16xf32>) -> tensor<4x16x16xf32> {
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 2 : (tensor<16x16xf32>) -> tensor<2x16x8xf32>
  %kt = attn.transpose %kh : (tensor<2x16x8xf32>) -> tensor<2x8x16xf32>
  // expected-error @+1 {{'attn.matmul' op batch sizes differ: [4, 16, 8] and [2, 8, 16]}}
  %s = attn.matmul %qh, %kt : (tensor<4x16x8xf32>, tensor<2x8x16xf32>) -> tensor<4x16x16xf32>
  return %s : tensor<4x16x16xf32>
}

// -----

// q and k in 4 heads, v in 2.
func.func @value_heads(%p: tensor<4x16x16xf32>, %v: tensor<16x16xf32>) -> tensor<4x16x8xf32> {
  %vh = attn.split_heads %v heads = 2 : (tensor<16x16xf32>) -> tensor<2x16x8xf32>
  // expected-error @+1 {{'attn.matmul' op batch sizes differ: [4, 16, 16] and [2, 16, 8]}}
  %o = attn.matmul %p, %vh : (tensor<4x16x16xf32>, tensor<2x16x8xf32>) -> tensor<4x16x8xf32>
  return %o : tensor<4x16x8xf32>
}

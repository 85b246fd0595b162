// Round trip of every form of the attn operations. The first RUN line checks
// that the custom assembly prints back in a form the parser accepts; the second
// goes through the generic form (properties spelled out as <{...}>), so the
// enum, optional and float properties also survive generic printing/parsing.

// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

//===----------------------------------------------------------------------===//
// attn.linear
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @linear_bias(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[W:[a-zA-Z0-9_]+]]: tensor<32x96xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<96xf32>)
func.func @linear_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>,
                       %b: tensor<96xf32>) -> tensor<16x96xf32> {
  // CHECK: %[[Y:.+]] = attn.linear %[[X]], %[[W]], %[[B]] : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x96xf32>
  %y = attn.linear %x, %w, %b
      : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<16x96xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<16x96xf32>
}

// The bias is optional: without it the operand list and the functional type
// have two operands.
// CHECK-LABEL: func.func @linear_no_bias(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[W:[a-zA-Z0-9_]+]]: tensor<32x32xf32>)
func.func @linear_no_bias(%x: tensor<16x32xf32>, %w: tensor<32x32xf32>)
    -> tensor<16x32xf32> {
  // CHECK: %[[Y:.+]] = attn.linear %[[X]], %[[W]] : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %y = attn.linear %x, %w
      : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<16x32xf32>
}

//===----------------------------------------------------------------------===//
// attn.attention_probs
//===----------------------------------------------------------------------===//

// The softmax weights of grouped-query attention with a window and ALiBi:
// one [queries, keys] map per query head.
// CHECK-LABEL: func.func @attention_probs_window_alibi(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<16x16xf32>,
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4xf32>)
func.func @attention_probs_window_alibi(%q: tensor<16x32xf32>, %k: tensor<16x16xf32>,
                                        %a: tensor<4xf32>) -> tensor<4x16x16xf32> {
  // CHECK: %[[P:.+]] = attn.attention_probs %[[Q]], %[[K]] alibi %[[A]] heads = 4 kv_heads = 2 mask = window window = 5 scale = 2.500000e-01 : (tensor<16x32xf32>, tensor<16x16xf32>, tensor<4xf32>) -> tensor<4x16x16xf32>
  %p = attn.attention_probs %q, %k alibi %a heads = 4 kv_heads = 2 mask = window
         window = 5 scale = 0.25
      : (tensor<16x32xf32>, tensor<16x16xf32>, tensor<4xf32>) -> tensor<4x16x16xf32>
  // CHECK: return %[[P]]
  return %p : tensor<4x16x16xf32>
}

//===----------------------------------------------------------------------===//
// attn.decode_attention
//===----------------------------------------------------------------------===//

// One token's attention over KV caches of 64 tokens (keys as columns, values
// as rows per key/value head), with a window and ALiBi.
// CHECK-LABEL: func.func @decode_attention_window(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<1x32xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x16xf32>,
// CHECK-SAME:    %[[KC:[a-zA-Z0-9_]+]]: memref<16x64xf32>, %[[VC:[a-zA-Z0-9_]+]]: memref<2x64x8xf32>, %[[P:[a-zA-Z0-9_]+]]: i64, %[[A:[a-zA-Z0-9_]+]]: tensor<4xf32>)
func.func @decode_attention_window(%q: tensor<1x32xf32>, %k: tensor<1x16xf32>, %v: tensor<1x16xf32>,
                                   %kc: memref<16x64xf32>, %vc: memref<2x64x8xf32>, %pos: i64,
                                   %a: tensor<4xf32>) -> tensor<1x32xf32> {
  // CHECK: attn.decode_attention %[[Q]], %[[K]], %[[V]] cache(%[[KC]], %[[VC]]) at %[[P]] alibi %[[A]] heads = 4 kv_heads = 2 mask = window window = 8 scale = 2.500000e-01
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos alibi %a
         heads = 4 kv_heads = 2 mask = window window = 8 scale = 0.25
      : (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<16x64xf32>,
         memref<2x64x8xf32>, i64, tensor<4xf32>) -> tensor<1x32xf32>
  return %o : tensor<1x32xf32>
}

// A chunk of 8 tokens at once, of which the first %n are tokens.
// CHECK-LABEL: func.func @decode_attention_chunk(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<8x32xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<8x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<8x16xf32>,
// CHECK-SAME:    %[[KC:[a-zA-Z0-9_]+]]: memref<16x64xf32>, %[[VC:[a-zA-Z0-9_]+]]: memref<2x64x8xf32>, %[[P:[a-zA-Z0-9_]+]]: i64, %[[N:[a-zA-Z0-9_]+]]: i64)
func.func @decode_attention_chunk(%q: tensor<8x32xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>,
                                  %kc: memref<16x64xf32>, %vc: memref<2x64x8xf32>, %pos: i64,
                                  %n: i64) -> tensor<8x32xf32> {
  // CHECK: attn.decode_attention %[[Q]], %[[K]], %[[V]] cache(%[[KC]], %[[VC]]) at %[[P]] count %[[N]] heads = 4 kv_heads = 2 mask = causal scale = 2.500000e-01
  %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos count %n
         heads = 4 kv_heads = 2 mask = causal scale = 0.25
      : (tensor<8x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>, memref<16x64xf32>,
         memref<2x64x8xf32>, i64, i64) -> tensor<8x32xf32>
  return %o : tensor<8x32xf32>
}

// The rotation of a decode step starts at the token's position.
// CHECK-LABEL: func.func @rope_at_position(
func.func @rope_at_position(%x: tensor<1x32xf32>, %pos: i64) -> tensor<1x32xf32> {
  // CHECK: attn.rope %{{.+}} at %{{.+}} head_dim = 8 base = 1.000000e+04 style = half : tensor<1x32xf32>
  %r = attn.rope %x at %pos head_dim = 8 base = 10000.0 style = half : tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

// Plain multi-head attention without a mask. The scale is an f32 attribute and
// prints in the canonical exponent form.
// CHECK-LABEL: func.func @sdpa_mask_none(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<16x32xf32>)
func.func @sdpa_mask_none(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>,
                          %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // CHECK: %[[O:.+]] = attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = none scale = 2.500000e-01 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = none scale = 0.25
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  // CHECK: return %[[O]]
  return %o : tensor<16x32xf32>
}

// CHECK-LABEL: func.func @sdpa_causal(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<128x256xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<128x256xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<128x256xf32>)
func.func @sdpa_causal(%q: tensor<128x256xf32>, %k: tensor<128x256xf32>,
                       %v: tensor<128x256xf32>) -> tensor<128x256xf32> {
  // CHECK: attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = causal scale = 1.250000e-01 :
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = causal
         scale = 1.250000e-01
      : (tensor<128x256xf32>, tensor<128x256xf32>, tensor<128x256xf32>)
      -> tensor<128x256xf32>
  return %o : tensor<128x256xf32>
}

// A sliding window: `window = N` is printed between the mask and the scale and
// only exists together with mask = window.
// CHECK-LABEL: func.func @sdpa_window(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<16x32xf32>)
func.func @sdpa_window(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>,
                       %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // CHECK: attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 4 mask = window window = 4 scale = 2.500000e-01 :
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = window window = 4
         scale = 0.25
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

// Grouped-query attention: 8 query heads of head_dim 8 share 2 key/value heads,
// so key and value are only 2 * 8 = 16 columns wide.
// CHECK-LABEL: func.func @sdpa_grouped_query(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x64xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<16x16xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<16x16xf32>)
func.func @sdpa_grouped_query(%q: tensor<16x64xf32>, %k: tensor<16x16xf32>,
                              %v: tensor<16x16xf32>) -> tensor<16x64xf32> {
  // CHECK: attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 8 kv_heads = 2 mask = causal scale = 0.353553385 : (tensor<16x64xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<16x64xf32>
  %o = attn.sdpa %q, %k, %v heads = 8 kv_heads = 2 mask = causal
         scale = 0.353553385
      : (tensor<16x64xf32>, tensor<16x16xf32>, tensor<16x16xf32>)
      -> tensor<16x64xf32>
  return %o : tensor<16x64xf32>
}

// Multi-query attention is the kv_heads = 1 end of grouped-query attention.
// The key/value token count may differ from the query count (cross attention).
// CHECK-LABEL: func.func @sdpa_multi_query_cross(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[K:[a-zA-Z0-9_]+]]: tensor<24x8xf32>,
// CHECK-SAME:    %[[V:[a-zA-Z0-9_]+]]: tensor<24x8xf32>)
func.func @sdpa_multi_query_cross(%q: tensor<16x32xf32>, %k: tensor<24x8xf32>,
                                  %v: tensor<24x8xf32>) -> tensor<16x32xf32> {
  // CHECK: attn.sdpa %[[Q]], %[[K]], %[[V]] heads = 4 kv_heads = 1 mask = none scale = 1.000000e+00 : (tensor<16x32xf32>, tensor<24x8xf32>, tensor<24x8xf32>) -> tensor<16x32xf32>
  %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 1 mask = none scale = 1.0
      : (tensor<16x32xf32>, tensor<24x8xf32>, tensor<24x8xf32>)
      -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

// An explicit, non-default scale that is not a power of two; negative and zero
// scales are finite and therefore valid too.
// CHECK-LABEL: func.func @sdpa_explicit_scale(
func.func @sdpa_explicit_scale(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // CHECK: attn.sdpa {{.*}} mask = none scale = 1.000000e-01 :
  %a = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.1
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  // CHECK: attn.sdpa {{.*}} mask = none scale = -5.000000e-01 :
  %b = attn.sdpa %a, %a, %a heads = 2 kv_heads = 2 mask = none scale = -0.5
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  // CHECK: attn.sdpa {{.*}} mask = none scale = 0.000000e+00 :
  %c = attn.sdpa %b, %b, %b heads = 2 kv_heads = 2 mask = none scale = 0.0
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>)
      -> tensor<16x32xf32>
  return %c : tensor<16x32xf32>
}

// An additive mask (`bias`, [queries, keys]) and ALiBi slopes (`alibi`,
// [heads]) are optional operands, alone or together; the generic form
// records which ones are present in operandSegmentSizes.
// CHECK-LABEL: func.func @sdpa_bias_alibi(
// CHECK-SAME:    %[[Q:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[KV:[a-zA-Z0-9_]+]]: tensor<24x32xf32>,
// CHECK-SAME:    %[[M:[a-zA-Z0-9_]+]]: tensor<16x24xf32>,
// CHECK-SAME:    %[[S:[a-zA-Z0-9_]+]]: tensor<4xf32>)
func.func @sdpa_bias_alibi(%q: tensor<16x32xf32>, %kv: tensor<24x32xf32>,
                           %m: tensor<16x24xf32>, %s: tensor<4xf32>)
    -> tensor<16x32xf32> {
  // CHECK: %[[A:.+]] = attn.sdpa %[[Q]], %[[KV]], %[[KV]] bias %[[M]] heads = 4 kv_heads = 4 mask = none scale = 1.250000e-01 : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>, tensor<16x24xf32>) -> tensor<16x32xf32>
  %a = attn.sdpa %q, %kv, %kv bias %m heads = 4 kv_heads = 4 mask = none
         scale = 0.125
      : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>,
         tensor<16x24xf32>) -> tensor<16x32xf32>
  // CHECK: %[[B:.+]] = attn.sdpa %[[A]], %[[KV]], %[[KV]] alibi %[[S]] heads = 4 kv_heads = 4 mask = none scale = 1.250000e-01 : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>, tensor<4xf32>) -> tensor<16x32xf32>
  %b = attn.sdpa %a, %kv, %kv alibi %s heads = 4 kv_heads = 4 mask = none
         scale = 0.125
      : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>,
         tensor<4xf32>) -> tensor<16x32xf32>
  // CHECK: %[[C:.+]] = attn.sdpa %[[B]], %[[KV]], %[[KV]] bias %[[M]] alibi %[[S]] heads = 4 kv_heads = 4 mask = none scale = 1.250000e-01 : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>, tensor<16x24xf32>, tensor<4xf32>) -> tensor<16x32xf32>
  %c = attn.sdpa %b, %kv, %kv bias %m alibi %s heads = 4 kv_heads = 4
         mask = none scale = 0.125
      : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>,
         tensor<16x24xf32>, tensor<4xf32>) -> tensor<16x32xf32>
  // CHECK: return %[[C]]
  return %c : tensor<16x32xf32>
}

// Both optional operands together with a causal mask (needs square scores).
// CHECK-LABEL: func.func @sdpa_bias_alibi_causal(
func.func @sdpa_bias_alibi_causal(%q: tensor<16x32xf32>, %m: tensor<16x16xf32>,
                                  %s: tensor<4xf32>) -> tensor<16x32xf32> {
  // CHECK: attn.sdpa {{.*}} bias {{.*}} alibi {{.*}} heads = 4 kv_heads = 4 mask = causal scale = 0.353553385 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x16xf32>, tensor<4xf32>) -> tensor<16x32xf32>
  %o = attn.sdpa %q, %q, %q bias %m alibi %s heads = 4 kv_heads = 4
         mask = causal scale = 0.353553385
      : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>,
         tensor<16x16xf32>, tensor<4xf32>) -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

//===----------------------------------------------------------------------===//
// Attention written out by hand
//===----------------------------------------------------------------------===//

// A plain matrix product, [M, K] x [K, N].
// CHECK-LABEL: func.func @matmul_rank2(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<8x32xf32>)
func.func @matmul_rank2(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>)
    -> tensor<16x32xf32> {
  // CHECK: %[[Y:.+]] = attn.matmul %[[A]], %[[B]] : (tensor<16x8xf32>, tensor<8x32xf32>) -> tensor<16x32xf32>
  %y = attn.matmul %a, %b : (tensor<16x8xf32>, tensor<8x32xf32>) -> tensor<16x32xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<16x32xf32>
}

// Batched over heads, [B, M, K] x [B, K, N].
// CHECK-LABEL: func.func @matmul_rank3(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x16x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<4x8x24xf32>)
func.func @matmul_rank3(%a: tensor<4x16x8xf32>, %b: tensor<4x8x24xf32>)
    -> tensor<4x16x24xf32> {
  // CHECK: %[[Y:.+]] = attn.matmul %[[A]], %[[B]] : (tensor<4x16x8xf32>, tensor<4x8x24xf32>) -> tensor<4x16x24xf32>
  %y = attn.matmul %a, %b
      : (tensor<4x16x8xf32>, tensor<4x8x24xf32>) -> tensor<4x16x24xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<4x16x24xf32>
}

// One transpose of each rank; a single transpose does not fold (only a pair
// does).
// CHECK-LABEL: func.func @transpose(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x8xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<4x16x8xf32>)
func.func @transpose(%a: tensor<16x8xf32>, %b: tensor<4x16x8xf32>)
    -> (tensor<8x16xf32>, tensor<4x8x16xf32>) {
  // CHECK: %[[X:.+]] = attn.transpose %[[A]] : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %x = attn.transpose %a : (tensor<16x8xf32>) -> tensor<8x16xf32>
  // CHECK: %[[Y:.+]] = attn.transpose %[[B]] : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %y = attn.transpose %b : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  // CHECK: return %[[X]], %[[Y]]
  return %x, %y : tensor<8x16xf32>, tensor<4x8x16xf32>
}

// The factor is an f32 attribute printed in exponent form; a factor other
// than 1 does not fold.
// CHECK-LABEL: func.func @scale(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x16x16xf32>)
func.func @scale(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  // CHECK: %[[Y:.+]] = attn.scale %[[A]] by 1.250000e-01 : tensor<4x16x16xf32>
  %y = attn.scale %a by 0.125 : tensor<4x16x16xf32>
  // CHECK: return %[[Y]]
  return %y : tensor<4x16x16xf32>
}

// Causal on per-head scores, a window on a plain [queries, keys] matrix
// (`window = N` only exists with the window kind). `none` would fold away.
// CHECK-LABEL: func.func @mask(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x16x16xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<16x16xf32>)
func.func @mask(%a: tensor<4x16x16xf32>, %b: tensor<16x16xf32>)
    -> (tensor<4x16x16xf32>, tensor<16x16xf32>) {
  // CHECK: %[[X:.+]] = attn.mask %[[A]] causal : tensor<4x16x16xf32>
  %x = attn.mask %a causal : tensor<4x16x16xf32>
  // CHECK: %[[Y:.+]] = attn.mask %[[B]] window window = 4 : tensor<16x16xf32>
  %y = attn.mask %b window window = 4 : tensor<16x16xf32>
  // CHECK: return %[[X]], %[[Y]]
  return %x, %y : tensor<4x16x16xf32>, tensor<16x16xf32>
}

// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<4x16x16xf32>)
func.func @softmax(%a: tensor<4x16x16xf32>)
    -> (tensor<4x16x16xf32>, tensor<4x16x16xf32>) {
  // CHECK: %[[X:.+]] = attn.softmax %[[A]] axis = 2 : tensor<4x16x16xf32>
  %x = attn.softmax %a axis = 2 : tensor<4x16x16xf32>
  // CHECK: %[[Y:.+]] = attn.softmax %[[A]] axis = 0 : tensor<4x16x16xf32>
  %y = attn.softmax %a axis = 0 : tensor<4x16x16xf32>
  // CHECK: return %[[X]], %[[Y]]
  return %x, %y : tensor<4x16x16xf32>, tensor<4x16x16xf32>
}

// split_heads and merge_heads on unrelated values: merge_heads of a
// split_heads would fold to the split's input.
// CHECK-LABEL: func.func @split_merge_heads(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<4x16x8xf32>)
func.func @split_merge_heads(%a: tensor<16x32xf32>, %b: tensor<4x16x8xf32>)
    -> (tensor<4x16x8xf32>, tensor<16x32xf32>) {
  // CHECK: %[[X:.+]] = attn.split_heads %[[A]] heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %x = attn.split_heads %a heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  // CHECK: %[[Y:.+]] = attn.merge_heads %[[B]] : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  %y = attn.merge_heads %b : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  // CHECK: return %[[X]], %[[Y]]
  return %x, %y : tensor<4x16x8xf32>, tensor<16x32xf32>
}

// The whole hand-written chain, as attnc emits it before recognising it.
// CHECK-LABEL: func.func @handwritten_chain(
func.func @handwritten_chain(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>,
                             %v: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // CHECK:      attn.split_heads
  // CHECK-NEXT: attn.split_heads
  // CHECK-NEXT: attn.split_heads
  // CHECK-NEXT: attn.transpose
  // CHECK-NEXT: attn.matmul
  // CHECK-NEXT: attn.scale {{.*}} by 0.353553385
  // CHECK-NEXT: attn.mask {{.*}} causal
  // CHECK-NEXT: attn.softmax {{.*}} axis = 2
  // CHECK-NEXT: attn.matmul
  // CHECK-NEXT: attn.merge_heads
  %qh = attn.split_heads %q heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kh = attn.split_heads %k heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %vh = attn.split_heads %v heads = 4 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  %kt = attn.transpose %kh : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %s = attn.matmul %qh, %kt
      : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  %ss = attn.scale %s by 0.353553385 : tensor<4x16x16xf32>
  %m = attn.mask %ss causal : tensor<4x16x16xf32>
  %p = attn.softmax %m axis = 2 : tensor<4x16x16xf32>
  %oh = attn.matmul %p, %vh
      : (tensor<4x16x16xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %o = attn.merge_heads %oh : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
  return %o : tensor<16x32xf32>
}

//===----------------------------------------------------------------------===//
// Around attention
//===----------------------------------------------------------------------===//

// Both styles, on [tokens, heads * head_dim] (head_dim picks the heads) and on
// [heads, tokens, head_dim].
// CHECK-LABEL: func.func @rope(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<4x16x8xf32>)
func.func @rope(%a: tensor<16x32xf32>, %b: tensor<4x16x8xf32>)
    -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<4x16x8xf32>,
        tensor<4x16x8xf32>) {
  // CHECK: %[[W:.+]] = attn.rope %[[A]] head_dim = 8 base = 1.000000e+04 style = half : tensor<16x32xf32>
  %w = attn.rope %a head_dim = 8 base = 10000.0 style = half : tensor<16x32xf32>
  // CHECK: %[[X:.+]] = attn.rope %[[A]] head_dim = 16 base = 5.000000e+02 style = interleaved : tensor<16x32xf32>
  %x = attn.rope %a head_dim = 16 base = 500.0 style = interleaved
      : tensor<16x32xf32>
  // CHECK: %[[Y:.+]] = attn.rope %[[B]] head_dim = 8 base = 1.000000e+04 style = half : tensor<4x16x8xf32>
  %y = attn.rope %b head_dim = 8 base = 1.0e4 style = half : tensor<4x16x8xf32>
  // CHECK: %[[Z:.+]] = attn.rope %[[B]] head_dim = 8 base = 1.000000e+06 style = interleaved : tensor<4x16x8xf32>
  %z = attn.rope %b head_dim = 8 base = 1.0e6 style = interleaved
      : tensor<4x16x8xf32>
  // CHECK: return %[[W]], %[[X]], %[[Y]], %[[Z]]
  return %w, %x, %y, %z
      : tensor<16x32xf32>, tensor<16x32xf32>, tensor<4x16x8xf32>,
        tensor<4x16x8xf32>
}

// eps is an f32 attribute: 1e-5 and 1e-6 print as their nearest floats.
// CHECK-LABEL: func.func @norms(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[G:[a-zA-Z0-9_]+]]: tensor<32xf32>,
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: tensor<32xf32>)
func.func @norms(%x: tensor<16x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>)
    -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  // CHECK: %[[L:.+]] = attn.layer_norm %[[X]], %[[G]], %[[B]] eps = 9.99999974E-6 : (tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %l = attn.layer_norm %x, %g, %b eps = 1.0e-5
      : (tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[R:.+]] = attn.rms_norm %[[X]], %[[G]] eps = 9.99999997E-7 : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %r = attn.rms_norm %x, %g eps = 1.0e-6
      : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  // CHECK: return %[[L]], %[[R]]
  return %l, %r : tensor<16x32xf32>, tensor<16x32xf32>
}

// Equal shapes, and a [W] row broadcast over the leading dimensions on either
// side (also of a rank-3 tensor).
// CHECK-LABEL: func.func @binary(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[R:[a-zA-Z0-9_]+]]: tensor<32xf32>,
// CHECK-SAME:    %[[T:[a-zA-Z0-9_]+]]: tensor<4x16x32xf32>)
func.func @binary(%a: tensor<16x32xf32>, %r: tensor<32xf32>,
                  %t: tensor<4x16x32xf32>)
    -> (tensor<16x32xf32>, tensor<4x16x32xf32>) {
  // CHECK: %[[X:.+]] = attn.add %[[A]], %[[A]] : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %x = attn.add %a, %a : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[Y:.+]] = attn.add %[[X]], %[[R]] : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %y = attn.add %x, %r : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[Z:.+]] = attn.sub %[[Y]], %[[A]] : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %z = attn.sub %y, %a : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[U:.+]] = attn.sub %[[R]], %[[Z]] : (tensor<32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %u = attn.sub %r, %z : (tensor<32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[V:.+]] = attn.mul %[[U]], %[[Z]] : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %v = attn.mul %u, %z : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[W:.+]] = attn.mul %[[R]], %[[V]] : (tensor<32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %w = attn.mul %r, %v : (tensor<32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  // CHECK: %[[P:.+]] = attn.add %[[T]], %[[W]] : (tensor<4x16x32xf32>, tensor<16x32xf32>) -> tensor<4x16x32xf32>
  %p = attn.add %t, %w
      : (tensor<4x16x32xf32>, tensor<16x32xf32>) -> tensor<4x16x32xf32>
  // CHECK: return %[[W]], %[[P]]
  return %w, %p : tensor<16x32xf32>, tensor<4x16x32xf32>
}

// CHECK-LABEL: func.func @activations(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: tensor<16x32xf32>)
func.func @activations(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // CHECK: %[[G:.+]] = attn.gelu %[[A]] approximate = none : tensor<16x32xf32>
  %g = attn.gelu %a approximate = none : tensor<16x32xf32>
  // CHECK: %[[T:.+]] = attn.gelu %[[G]] approximate = tanh : tensor<16x32xf32>
  %t = attn.gelu %g approximate = tanh : tensor<16x32xf32>
  // CHECK: %[[S:.+]] = attn.silu %[[T]] : tensor<16x32xf32>
  %s = attn.silu %t : tensor<16x32xf32>
  // CHECK: %[[R:.+]] = attn.relu %[[S]] : tensor<16x32xf32>
  %r = attn.relu %s : tensor<16x32xf32>
  // CHECK: return %[[R]]
  return %r : tensor<16x32xf32>
}

// The unary operations take any rank.
// CHECK-LABEL: func.func @activations_rank3(
func.func @activations_rank3(%a: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // CHECK: attn.silu %{{.*}} : tensor<2x4x8xf32>
  %s = attn.silu %a : tensor<2x4x8xf32>
  // CHECK: attn.relu %{{.*}} : tensor<2x4x8xf32>
  %r = attn.relu %s : tensor<2x4x8xf32>
  // CHECK: attn.gelu %{{.*}} approximate = tanh : tensor<2x4x8xf32>
  %g = attn.gelu %r approximate = tanh : tensor<2x4x8xf32>
  return %g : tensor<2x4x8xf32>
}

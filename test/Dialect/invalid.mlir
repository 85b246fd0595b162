// One case per diagnostic of the attn verifiers (dialect/lib/AttnOps.cpp) and
// per ODS constraint of the operands and attributes (AttnOps.td).

// RUN: attn-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// attn.linear: verifier
//===----------------------------------------------------------------------===//

// The weight has one row per input feature: 32 columns of x need 32 rows of w.
func.func @linear_weight_rows(%x: tensor<16x32xf32>, %w: tensor<33x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op weight has shape [33, 96] but input has shape [16, 32]; expected 32 weight rows, one per input feature}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<33x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

// The bias is added to every row, so it has one entry per output column.
func.func @linear_bias_shape(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<95xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op bias has shape [95] but weight has shape [32, 96]; expected [96]}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<95xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

// The result is [tokens, out]: the number of columns comes from the weight.
func.func @linear_result_columns(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x95xf32> {
  // expected-error @+1 {{'attn.linear' op result has shape [16, 95]; expected [16, 96]}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> tensor<16x95xf32>
  return %0 : tensor<16x95xf32>
}

// -----

// ... and the number of rows from the input.
func.func @linear_result_rows(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> tensor<8x96xf32> {
  // expected-error @+1 {{'attn.linear' op result has shape [8, 96]; expected [16, 96]}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> tensor<8x96xf32>
  return %0 : tensor<8x96xf32>
}

// -----

// Every shape must be static; the first dynamic operand is reported.
func.func @linear_dynamic_input(%x: tensor<?x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<?x32xf32>'}}
  %0 = attn.linear %x, %w : (tensor<?x32xf32>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_weight(%x: tensor<16x32xf32>, %w: tensor<32x?xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #1 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<32x?xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x?xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<?xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #2 must be statically shaped 1D tensor of 32-bit float values, but got 'tensor<?xf32>'}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<?xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_result(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x?xf32> {
  // expected-error @+1 {{'attn.linear' op result #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16x?xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> tensor<16x?xf32>
  return %0 : tensor<16x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.linear: ODS type constraints (2-D / 1-D tensors of f32)
//===----------------------------------------------------------------------===//

func.func @linear_f16_input(%x: tensor<16x32xf16>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16x32xf16>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf16>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_rank3_input(%x: tensor<2x16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<2x16x32xf32>'}}
  %0 = attn.linear %x, %w : (tensor<2x16x32xf32>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_rank3_weight(%x: tensor<16x32xf32>, %w: tensor<1x32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #1 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<1x32x96xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<1x32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

// The bias is a vector, not a [1, out] matrix.
func.func @linear_rank2_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<1x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #2 must be statically shaped 1D tensor of 32-bit float values, but got 'tensor<1x96xf32>'}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<1x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_f16_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<96xf16>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #2 must be statically shaped 1D tensor of 32-bit float values, but got 'tensor<96xf16>'}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<96xf16>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_memref_result(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> memref<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op result #0 must be statically shaped 2D tensor of 32-bit float values, but got 'memref<16x96xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> memref<16x96xf32>
  return %0 : memref<16x96xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention_probs: verifier
//===----------------------------------------------------------------------===//

// The weights are [heads, queries, keys].
func.func @attention_probs_result_shape(%q: tensor<16x32xf32>, %k: tensor<12x32xf32>) -> tensor<4x12x16xf32> {
  // expected-error @+1 {{'attn.attention_probs' op result has shape [4, 12, 16]; expected [4, 16, 12] (heads x queries x keys)}}
  %0 = attn.attention_probs %q, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<12x32xf32>) -> tensor<4x12x16xf32>
  return %0 : tensor<4x12x16xf32>
}

// -----

// The checks it shares with attn.sdpa name the op they fail on.
func.func @attention_probs_key_width(%q: tensor<16x32xf32>, %k: tensor<16x24xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'attn.attention_probs' op key has shape [16, 24]; expected 16 columns (kv_heads = 2 times head_dim = 8)}}
  %0 = attn.attention_probs %q, %k heads = 4 kv_heads = 2 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x24xf32>) -> tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

func.func @attention_probs_window_without_size(%q: tensor<16x32xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'attn.attention_probs' op mask = window needs a window size}}
  %0 = attn.attention_probs %q, %q heads = 4 kv_heads = 4 mask = window scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.decode_attention: verifier
//===----------------------------------------------------------------------===//

// A decoded token sees no later tokens: mask = none means nothing here.
func.func @decode_attention_mask_none(%q: tensor<1x32xf32>, %kc: memref<32x16xf32>, %vc: memref<4x16x8xf32>, %p: i64) -> tensor<1x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op needs mask = causal or window: a decoded token has no later tokens to see}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<32x16xf32>, memref<4x16x8xf32>, i64) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

// A row per token in each of query, key and value: a chunk of two tokens
// with one key is an error.
func.func @decode_attention_rows_differ(%q: tensor<2x32xf32>, %k: tensor<1x32xf32>, %kc: memref<32x16xf32>, %vc: memref<4x16x8xf32>, %p: i64) -> tensor<2x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op query, key and value must have a row per token, as many each; got [2, 32], [1, 32], [1, 32]}}
  %0 = attn.decode_attention %q, %k, %k cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.25 : (tensor<2x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<32x16xf32>, memref<4x16x8xf32>, i64) -> tensor<2x32xf32>
  return %0 : tensor<2x32xf32>
}

// -----

// The key cache holds a column per token: one holding a row per token is an
// error.
func.func @decode_attention_key_cache_layout(%q: tensor<1x32xf32>, %kc: memref<16x32xf32>, %vc: memref<4x16x8xf32>, %p: i64) -> tensor<1x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op the key cache must be [32, context] (a column per token) and the value cache [4, context, 8] (kv_heads, context, head_dim), context >= 1; got [16, 32] and [4, 16, 8]}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.25 : (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<16x32xf32>, memref<4x16x8xf32>, i64) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

// The value cache holds each key/value head's rows together: [context,
// width] is an error, and so are heads of the wrong size.
func.func @decode_attention_value_cache_rows(%q: tensor<1x32xf32>, %kc: memref<32x16xf32>, %vc: memref<16x32xf32>, %p: i64) -> tensor<1x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op operand #4 must be 3D memref of 32-bit float values, but got 'memref<16x32xf32>'}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.25 : (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<32x16xf32>, memref<16x32xf32>, i64) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

func.func @decode_attention_value_cache_heads(%q: tensor<1x32xf32>, %kc: memref<32x16xf32>, %vc: memref<2x16x16xf32>, %p: i64) -> tensor<1x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op the key cache must be [32, context] (a column per token) and the value cache [4, context, 8] (kv_heads, context, head_dim), context >= 1; got [32, 16] and [2, 16, 16]}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.25 : (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<32x16xf32>, memref<2x16x16xf32>, i64) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

// A cache of no tokens has no slot to write the token into (the slot is
// the position modulo the context).
func.func @decode_attention_empty_cache(%q: tensor<1x16xf32>, %kc: memref<16x0xf32>, %vc: memref<4x0x4xf32>, %p: i64) -> tensor<1x16xf32> {
  // expected-error @+1 {{'attn.decode_attention' op the key cache must be [16, context] (a column per token) and the value cache [4, context, 4] (kv_heads, context, head_dim), context >= 1; got [16, 0] and [4, 0, 4]}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.5 : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<16x0xf32>, memref<4x0x4xf32>, i64) -> tensor<1x16xf32>
  return %0 : tensor<1x16xf32>
}

// -----

// The lowering views the caches as dense row-major buffers.
func.func @decode_attention_strided_cache(%q: tensor<1x16xf32>, %kc: memref<16x8xf32>, %vc: memref<4x8x4xf32, strided<[64, 4, 1]>>, %p: i64) -> tensor<1x16xf32> {
  // expected-error @+1 {{'attn.decode_attention' op the caches must be dense row-major buffers (identity layout)}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = causal scale = 0.5 : (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<16x8xf32>, memref<4x8x4xf32, strided<[64, 4, 1]>>, i64) -> tensor<1x16xf32>
  return %0 : tensor<1x16xf32>
}

// -----

// A window longer than the ring would need rows it has already reused.
func.func @decode_attention_window_too_long(%q: tensor<1x32xf32>, %kc: memref<32x16xf32>, %vc: memref<4x16x8xf32>, %p: i64) -> tensor<1x32xf32> {
  // expected-error @+1 {{'attn.decode_attention' op window = 17 is longer than the cache's 16 tokens}}
  %0 = attn.decode_attention %q, %q, %q cache(%kc, %vc) at %p heads = 4 kv_heads = 4 mask = window window = 17 scale = 0.25 : (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<32x16xf32>, memref<4x16x8xf32>, i64) -> tensor<1x32xf32>
  return %0 : tensor<1x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: verifier
//===----------------------------------------------------------------------===//

// head_dim = width / heads must be an integer.
func.func @sdpa_heads_divide_width(%q: tensor<16x30xf32>) -> tensor<16x30xf32> {
  // expected-error @+1 {{'attn.sdpa' op heads = 4 does not divide the query width 30 (query shape [16, 30])}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x30xf32>, tensor<16x30xf32>, tensor<16x30xf32>) -> tensor<16x30xf32>
  return %0 : tensor<16x30xf32>
}

// -----

// Every head has at least one feature: a zero-width query divides by any
// head count but has no heads.
func.func @sdpa_zero_width(%q: tensor<16x0xf32>) -> tensor<16x0xf32> {
  // expected-error @+1 {{'attn.sdpa' op heads = 4 does not divide the query width 0 (query shape [16, 0])}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x0xf32>, tensor<16x0xf32>, tensor<16x0xf32>) -> tensor<16x0xf32>
  return %0 : tensor<16x0xf32>
}

// -----

// Every key/value head serves the same number of query heads.
func.func @sdpa_kv_heads_divide_heads(%q: tensor<16x32xf32>, %k: tensor<16x24xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op kv_heads = 3 does not divide heads = 4}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 3 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x24xf32>, tensor<16x24xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// More key/value heads than query heads is the same error.
func.func @sdpa_kv_heads_exceed_heads(%q: tensor<16x32xf32>, %k: tensor<16x64xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op kv_heads = 8 does not divide heads = 4}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 8 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x64xf32>, tensor<16x64xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// head_dim = 32 / 4 = 8, so 2 key/value heads need 16 key columns.
func.func @sdpa_key_columns(%q: tensor<16x32xf32>, %k: tensor<16x8xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op key has shape [16, 8]; expected 16 columns (kv_heads = 2 times head_dim = 8)}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 2 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// One value row per key row, with the same head layout.
func.func @sdpa_value_shape(%q: tensor<16x32xf32>, %k: tensor<16x32xf32>, %v: tensor<8x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op value has shape [8, 32] but key has shape [16, 32]; expected them equal}}
  %0 = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<8x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_result_shape(%q: tensor<16x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op result has shape [8, 32]; expected the query shape [16, 32]}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

func.func @sdpa_window_without_size(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op mask = window needs a window size}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = window scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_size_with_causal(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op window size given without mask = window}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = causal window = 4 scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The same check in the generic form, with mask = none (0).
func.func @sdpa_size_with_none_generic(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op window size given without mask = window}}
  %0 = "attn.sdpa"(%q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, heads = 4 : i64, kv_heads = 4 : i64, mask = 0 : i32, scale = 2.500000e-01 : f32, window = 4 : i64}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// NaN, written as its f32 bit pattern.
func.func @sdpa_scale_nan(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op scale must be finite}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0x7FC00000 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// -inf.
func.func @sdpa_scale_inf(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op scale must be finite}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0xFF800000 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// A decimal literal beyond the f32 range is rounded to +inf by the parser and
// then rejected by the same check.
func.func @sdpa_scale_overflow(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op scale must be finite}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 1.0e40 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Static shapes are required for all four values; the first one is reported.
func.func @sdpa_dynamic_query(%q: tensor<?x32xf32>, %k: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<?x32xf32>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<?x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_key(%q: tensor<16x32xf32>, %k: tensor<?x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #1 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<?x32xf32>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_value(%q: tensor<16x32xf32>, %v: tensor<16x?xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #2 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16x?xf32>'}}
  %0 = attn.sdpa %q, %q, %v heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x?xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_result(%q: tensor<16x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op result #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<?x32xf32>'}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: ODS constraints
//===----------------------------------------------------------------------===//

// IntPositive on heads (checked before the verifier, which divides by it).
func.func @sdpa_zero_heads(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.sdpa %q, %q, %q heads = 0 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_negative_heads(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.sdpa %q, %q, %q heads = -4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// IntPositive on kv_heads (heads % kv_heads would divide by zero).
func.func @sdpa_zero_kv_heads(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op attribute 'kv_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 0 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// A window must contain at least the query token itself.
func.func @sdpa_zero_window(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = window window = 0 scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The scale is an f32 attribute; an f64 one (only spellable in generic form)
// is rejected.
func.func @sdpa_f64_scale(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %0 = "attn.sdpa"(%q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, heads = 4 : i64, kv_heads = 4 : i64, mask = 0 : i32, scale = 2.500000e-01 : f64}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The scale is required; attnc always computes one.
func.func @sdpa_missing_scale(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op requires attribute 'scale'}}
  %0 = "attn.sdpa"(%q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, heads = 4 : i64, kv_heads = 4 : i64, mask = 0 : i32}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Unknown mask keyword in the custom form.
func.func @sdpa_unknown_mask(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'mask' [none, causal, window]}}
  %0 = attn.sdpa %q, %q, %q heads = 4 kv_heads = 4 mask = diagonal scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Out-of-range mask case in the generic form (0..2 are none/causal/window).
func.func @sdpa_mask_out_of_range(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{Invalid attribute `mask` in property conversion: 3 : i32}}
  %0 = "attn.sdpa"(%q, %q, %q) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, heads = 4 : i64, kv_heads = 4 : i64, mask = 3 : i32, scale = 2.500000e-01 : f32}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_f16_query(%q: tensor<16x32xf16>, %k: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #0 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16x32xf16>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf16>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Heads are an attribute, not a tensor dimension: [S, H, D] inputs are rejected.
func.func @sdpa_rank3_key(%q: tensor<16x32xf32>, %k: tensor<16x4x8xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #1 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16x4x8xf32>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x4x8xf32>, tensor<16x4x8xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.sdpa: the optional bias and alibi operands
//===----------------------------------------------------------------------===//

// The additive mask is [queries, keys]: 16 queries and 24 keys here.
func.func @sdpa_bias_shape(%q: tensor<16x32xf32>, %kv: tensor<24x32xf32>, %m: tensor<16x16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op bias has shape [16, 16]; expected [16, 24] (queries x keys)}}
  %0 = attn.sdpa %q, %kv, %kv bias %m heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>, tensor<16x16xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The transposed [keys, queries] mask is rejected too.
func.func @sdpa_bias_transposed(%q: tensor<16x32xf32>, %kv: tensor<24x32xf32>, %m: tensor<24x16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op bias has shape [24, 16]; expected [16, 24] (queries x keys)}}
  %0 = attn.sdpa %q, %kv, %kv bias %m heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<24x32xf32>, tensor<24x32xf32>, tensor<24x16xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// One ALiBi slope per query head (not per key/value head).
func.func @sdpa_alibi_shape(%q: tensor<16x32xf32>, %k: tensor<16x16xf32>, %s: tensor<2xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op alibi has shape [2]; expected one slope per head, [4]}}
  %0 = attn.sdpa %q, %k, %k alibi %s heads = 4 kv_heads = 2 mask = causal scale = 0.25 : (tensor<16x32xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<2xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// With both operands, the generic form lists them in operandSegmentSizes; the
// alibi slopes are checked there as well.
func.func @sdpa_alibi_shape_generic(%q: tensor<16x32xf32>, %m: tensor<16x16xf32>, %s: tensor<8xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op alibi has shape [8]; expected one slope per head, [4]}}
  %0 = "attn.sdpa"(%q, %q, %q, %m, %s) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>, heads = 4 : i64, kv_heads = 4 : i64, mask = 1 : i32, scale = 2.500000e-01 : f32}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x16xf32>, tensor<8xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The bias is a matrix and the slopes a vector (ODS constraints).
func.func @sdpa_bias_rank(%q: tensor<16x32xf32>, %m: tensor<16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #3 must be statically shaped 2D tensor of 32-bit float values, but got 'tensor<16xf32>'}}
  %0 = "attn.sdpa"(%q, %q, %q, %m) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>, heads = 4 : i64, kv_heads = 4 : i64, mask = 0 : i32, scale = 2.500000e-01 : f32}> : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<16xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.matmul
//===----------------------------------------------------------------------===//

func.func @matmul_ranks(%a: tensor<16x8xf32>, %b: tensor<4x8x16xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'attn.matmul' op operands have shapes [16, 8] and [4, 8, 16]; expected equal ranks}}
  %0 = attn.matmul %a, %b : (tensor<16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

func.func @matmul_batch(%a: tensor<4x16x8xf32>, %b: tensor<2x8x16xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'attn.matmul' op batch sizes differ: [4, 16, 8] and [2, 8, 16]}}
  %0 = attn.matmul %a, %b : (tensor<4x16x8xf32>, tensor<2x8x16xf32>) -> tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

// q x k without the transpose: 8 columns against 16 rows.
func.func @matmul_inner(%a: tensor<4x16x8xf32>, %b: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  // expected-error @+1 {{'attn.matmul' op inner dimensions differ: [4, 16, 8] times [4, 16, 8]}}
  %0 = attn.matmul %a, %b : (tensor<4x16x8xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

// -----

func.func @matmul_result(%a: tensor<16x8xf32>, %b: tensor<8x32xf32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'attn.matmul' op result has shape [16, 8]; expected [16, 32]}}
  %0 = attn.matmul %a, %b : (tensor<16x8xf32>, tensor<8x32xf32>) -> tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}

// -----

func.func @matmul_rank4(%a: tensor<2x4x16x8xf32>) -> tensor<2x4x16x16xf32> {
  // expected-error @+1 {{'attn.matmul' op operand #0 must be statically shaped 2D or 3D tensor of 32-bit float values, but got 'tensor<2x4x16x8xf32>'}}
  %0 = attn.matmul %a, %a : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x16xf32>
  return %0 : tensor<2x4x16x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.transpose
//===----------------------------------------------------------------------===//

// Only the last two dimensions swap.
func.func @transpose_result(%a: tensor<4x16x8xf32>) -> tensor<8x16x4xf32> {
  // expected-error @+1 {{'attn.transpose' op result has shape [8, 16, 4]; expected [4, 8, 16]}}
  %0 = attn.transpose %a : (tensor<4x16x8xf32>) -> tensor<8x16x4xf32>
  return %0 : tensor<8x16x4xf32>
}

// -----

func.func @transpose_identity(%a: tensor<16x8xf32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'attn.transpose' op result has shape [16, 8]; expected [8, 16]}}
  %0 = attn.transpose %a : (tensor<16x8xf32>) -> tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}

// -----

func.func @transpose_rank1(%a: tensor<16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{'attn.transpose' op operand #0 must be statically shaped 2D or 3D tensor of 32-bit float values, but got 'tensor<16xf32>'}}
  %0 = attn.transpose %a : (tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.mask
//===----------------------------------------------------------------------===//

func.func @mask_rank1(%a: tensor<16xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{'attn.mask' op input has shape [16]; expected at least [queries, keys]}}
  %0 = attn.mask %a causal : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @mask_window_without_size(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.mask' op mask window needs a window size}}
  %0 = attn.mask %a window : tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

func.func @mask_size_with_causal(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.mask' op window size given without window}}
  %0 = attn.mask %a causal window = 4 : tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

// The same check in the generic form, with kind = none (0).
func.func @mask_size_with_none_generic(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.mask' op window size given without window}}
  %0 = "attn.mask"(%a) <{kind = 0 : i32, window = 4 : i64}> : (tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

func.func @mask_zero_window(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.mask' op attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.mask %a window window = 0 : tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.softmax
//===----------------------------------------------------------------------===//

func.func @softmax_axis(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  // expected-error @+1 {{'attn.softmax' op axis 3 is out of range for shape [4, 16, 16]}}
  %0 = attn.softmax %a axis = 3 : tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

// Negative axes are resolved by the frontend; the op only takes 0..rank-1.
func.func @softmax_negative_axis(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.softmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = attn.softmax %a axis = -1 : tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.split_heads / attn.merge_heads
//===----------------------------------------------------------------------===//

func.func @split_heads_not_dividing(%a: tensor<16x32xf32>) -> tensor<3x16x10xf32> {
  // expected-error @+1 {{'attn.split_heads' op heads = 3 does not divide the width 32 of [16, 32]}}
  %0 = attn.split_heads %a heads = 3 : (tensor<16x32xf32>) -> tensor<3x16x10xf32>
  return %0 : tensor<3x16x10xf32>
}

// -----

// [heads, tokens, head_dim], not [tokens, heads, head_dim].
func.func @split_heads_result(%a: tensor<16x32xf32>) -> tensor<16x4x8xf32> {
  // expected-error @+1 {{'attn.split_heads' op result has shape [16, 4, 8]; expected [4, 16, 8]}}
  %0 = attn.split_heads %a heads = 4 : (tensor<16x32xf32>) -> tensor<16x4x8xf32>
  return %0 : tensor<16x4x8xf32>
}

// -----

func.func @split_heads_zero(%a: tensor<16x32xf32>) -> tensor<4x16x8xf32> {
  // expected-error @+1 {{'attn.split_heads' op attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = attn.split_heads %a heads = 0 : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

// -----

func.func @merge_heads_result(%a: tensor<4x16x8xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'attn.merge_heads' op result has shape [4, 128]; expected [16, 32]}}
  %0 = attn.merge_heads %a : (tensor<4x16x8xf32>) -> tensor<4x128xf32>
  return %0 : tensor<4x128xf32>
}

// -----

func.func @merge_heads_rank2(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.merge_heads' op operand #0 must be statically shaped 3D tensor of 32-bit float values, but got 'tensor<16x32xf32>'}}
  %0 = attn.merge_heads %a : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.rope
//===----------------------------------------------------------------------===//

func.func @rope_head_dim_not_dividing(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rope' op head_dim = 12 does not divide the width 32 of [16, 32]}}
  %0 = attn.rope %a head_dim = 12 base = 1.0e4 style = half : tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// On [heads, tokens, head_dim] the whole last dimension is one head.
func.func @rope_rank3_head_dim(%a: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  // expected-error @+1 {{'attn.rope' op a [heads, tokens, head_dim] input [4, 16, 8] needs head_dim = 8}}
  %0 = attn.rope %a head_dim = 4 base = 1.0e4 style = half : tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

// -----

func.func @rope_odd_head_dim(%a: tensor<16x30xf32>) -> tensor<16x30xf32> {
  // expected-error @+1 {{'attn.rope' op head_dim = 5 is odd; rotary embedding rotates pairs}}
  %0 = attn.rope %a head_dim = 5 base = 1.0e4 style = interleaved : tensor<16x30xf32>
  return %0 : tensor<16x30xf32>
}

// -----

func.func @rope_base_one(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rope' op base must be finite and greater than 1}}
  %0 = attn.rope %a head_dim = 8 base = 1.0 style = half : tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// NaN is not greater than 1 either.
func.func @rope_base_nan(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rope' op base must be finite and greater than 1}}
  %0 = attn.rope %a head_dim = 8 base = 0x7FC00000 style = half : tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @rope_unknown_style(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'style' [half, interleaved]}}
  %0 = attn.rope %a head_dim = 8 base = 1.0e4 style = neox : tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.layer_norm / attn.rms_norm
//===----------------------------------------------------------------------===//

func.func @layer_norm_result(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'attn.layer_norm' op result type must equal the input type}}
  %0 = attn.layer_norm %x, %g, %g eps = 1.0e-5 : (tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

func.func @layer_norm_gamma(%x: tensor<16x32xf32>, %g: tensor<16xf32>, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.layer_norm' op gamma has shape [16]; expected [32] to match the input [16, 32]}}
  %0 = attn.layer_norm %x, %g, %b eps = 1.0e-5 : (tensor<16x32xf32>, tensor<16xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @layer_norm_beta(%x: tensor<16x32xf32>, %g: tensor<32xf32>, %b: tensor<33xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.layer_norm' op beta has shape [33]; expected [32] to match the input [16, 32]}}
  %0 = attn.layer_norm %x, %g, %b eps = 1.0e-5 : (tensor<16x32xf32>, tensor<32xf32>, tensor<33xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @layer_norm_eps_zero(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.layer_norm' op eps must be a positive finite number}}
  %0 = attn.layer_norm %x, %g, %g eps = 0.0 : (tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @rms_norm_result(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'attn.rms_norm' op result type must equal the input type}}
  %0 = attn.rms_norm %x, %g eps = 1.0e-6 : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// -----

func.func @rms_norm_gamma(%x: tensor<16x32xf32>, %g: tensor<16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rms_norm' op gamma has shape [16]; expected [32] to match the input [16, 32]}}
  %0 = attn.rms_norm %x, %g eps = 1.0e-6 : (tensor<16x32xf32>, tensor<16xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @rms_norm_eps_negative(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rms_norm' op eps must be a positive finite number}}
  %0 = attn.rms_norm %x, %g eps = -1.0e-6 : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// +inf.
func.func @rms_norm_eps_inf(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rms_norm' op eps must be a positive finite number}}
  %0 = attn.rms_norm %x, %g eps = 0x7F800000 : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// A positive eps that underflows to 0 in f32.
func.func @rms_norm_eps_underflow(%x: tensor<16x32xf32>, %g: tensor<32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.rms_norm' op eps must be a positive finite number}}
  %0 = attn.rms_norm %x, %g eps = 1.0e-50 : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.add / attn.sub / attn.mul: the broadcast verifier
//===----------------------------------------------------------------------===//

// [16] is not the trailing dimension of [16, 32].
func.func @add_not_suffix(%a: tensor<16x32xf32>, %b: tensor<16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.add' op operands have shapes [16, 32] and [16]; expected equal shapes or one a suffix of the other}}
  %0 = attn.add %a, %b : (tensor<16x32xf32>, tensor<16xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Size-1 dimensions do not broadcast.
func.func @sub_size_one(%a: tensor<16x32xf32>, %b: tensor<1x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sub' op operands have shapes [16, 32] and [1, 32]; expected equal shapes or one a suffix of the other}}
  %0 = attn.sub %a, %b : (tensor<16x32xf32>, tensor<1x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// The result has the larger operand's shape, whichever side it is on.
func.func @mul_result(%a: tensor<32xf32>, %b: tensor<16x32xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{'attn.mul' op result has shape [32]; expected the larger operand's shape}}
  %0 = attn.mul %a, %b : (tensor<32xf32>, tensor<16x32xf32>) -> tensor<32xf32>
  return %0 : tensor<32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Unary operations: ODS constraints
//===----------------------------------------------------------------------===//

func.func @gelu_unknown_approximation(%a: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'approximate' [none, tanh]}}
  %0 = attn.gelu %a approximate = erf : tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @scale_result_type(%a: tensor<16x32xf32>) -> tensor<32x16xf32> {
  // expected-error @+1 {{'attn.scale' op requires the same type for all operands and results}}
  %0 = "attn.scale"(%a) <{factor = 2.000000e+00 : f32}> : (tensor<16x32xf32>) -> tensor<32x16xf32>
  return %0 : tensor<32x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.tiles (AttnDialect::verifyOperationAttribute)
//===----------------------------------------------------------------------===//

// A tile longer than its sequence would be all padding.
func.func @tiles_fit(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op 'attn.tiles' 3x17 must be positive and at most the 16 queries and 16 keys}}
  %0 = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.25 {attn.tiles = array<i64: 3, 17>} : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @tiles_positive(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op 'attn.tiles' 0x0 must be positive and at most the 16 queries and 16 keys}}
  %0 = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.25 {attn.tiles = array<i64: 0, 0>} : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @tiles_two_lengths(%q: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op 'attn.tiles' must be array<i64: Tq, Tk>}}
  %0 = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = none scale = 0.25 {attn.tiles = array<i64: 4>} : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @tiles_only_on_sdpa(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op 'attn.tiles' is an attribute of attn.sdpa only}}
  %0 = attn.linear %x, %w {attn.tiles = array<i64: 4, 4>} : (tensor<16x32xf32>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

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
  // expected-error @+1 {{'attn.linear' op input must have a static shape}}
  %0 = attn.linear %x, %w : (tensor<?x32xf32>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_weight(%x: tensor<16x32xf32>, %w: tensor<32x?xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op weight must have a static shape}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x?xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<?xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op bias must have a static shape}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<?xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_dynamic_result(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x?xf32> {
  // expected-error @+1 {{'attn.linear' op result must have a static shape}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> tensor<16x?xf32>
  return %0 : tensor<16x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.linear: ODS type constraints (2-D / 1-D tensors of f32)
//===----------------------------------------------------------------------===//

func.func @linear_f16_input(%x: tensor<16x32xf16>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<16x32xf16>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf16>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_rank3_input(%x: tensor<2x16x32xf32>, %w: tensor<32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<2x16x32xf32>'}}
  %0 = attn.linear %x, %w : (tensor<2x16x32xf32>, tensor<32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_rank3_weight(%x: tensor<16x32xf32>, %w: tensor<1x32x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #1 must be 2D tensor of 32-bit float values, but got 'tensor<1x32x96xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<1x32x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

// The bias is a vector, not a [1, out] matrix.
func.func @linear_rank2_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<1x96xf32>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #2 must be 1D tensor of 32-bit float values, but got 'tensor<1x96xf32>'}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<1x96xf32>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_f16_bias(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>, %b: tensor<96xf16>) -> tensor<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op operand #2 must be 1D tensor of 32-bit float values, but got 'tensor<96xf16>'}}
  %0 = attn.linear %x, %w, %b : (tensor<16x32xf32>, tensor<32x96xf32>, tensor<96xf16>) -> tensor<16x96xf32>
  return %0 : tensor<16x96xf32>
}

// -----

func.func @linear_memref_result(%x: tensor<16x32xf32>, %w: tensor<32x96xf32>) -> memref<16x96xf32> {
  // expected-error @+1 {{'attn.linear' op result #0 must be 2D tensor of 32-bit float values, but got 'memref<16x96xf32>'}}
  %0 = attn.linear %x, %w : (tensor<16x32xf32>, tensor<32x96xf32>) -> memref<16x96xf32>
  return %0 : memref<16x96xf32>
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
  // expected-error @+1 {{'attn.sdpa' op query must have a static shape}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<?x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_key(%q: tensor<16x32xf32>, %k: tensor<?x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op key must have a static shape}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_value(%q: tensor<16x32xf32>, %v: tensor<16x?xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op value must have a static shape}}
  %0 = attn.sdpa %q, %q, %v heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x?xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

func.func @sdpa_dynamic_result(%q: tensor<16x32xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op result must have a static shape}}
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
  // expected-error @+1 {{'attn.sdpa' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<16x32xf16>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf16>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

// -----

// Heads are an attribute, not a tensor dimension: [S, H, D] inputs are rejected.
func.func @sdpa_rank3_key(%q: tensor<16x32xf32>, %k: tensor<16x4x8xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'attn.sdpa' op operand #1 must be 2D tensor of 32-bit float values, but got 'tensor<16x4x8xf32>'}}
  %0 = attn.sdpa %q, %k, %k heads = 4 kv_heads = 4 mask = none scale = 0.25 : (tensor<16x32xf32>, tensor<16x4x8xf32>, tensor<16x4x8xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}

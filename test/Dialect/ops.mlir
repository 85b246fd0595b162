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

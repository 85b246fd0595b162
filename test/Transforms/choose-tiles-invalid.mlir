// Forced tile sizes must divide the sequence lengths; the error names them.

// RUN: attn-opt %s --attn-choose-tiles=tile-sizes=48,16 -verify-diagnostics

func.func @long(%q: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{tile sizes 48x16 must be positive and divide the 64 queries and 64 keys}}
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %o : tensor<64x64xf32>
}

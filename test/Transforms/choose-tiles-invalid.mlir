// Forced tile sizes must fit the sequence lengths (the last tile is padded
// when they do not divide them); the error names them.

// RUN: attn-opt %s --attn-choose-tiles=tile-sizes=80,16 -verify-diagnostics

func.func @long(%q: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{tile sizes 80x16 must be positive and at most the 64 queries and 64 keys}}
  %o = attn.sdpa %q, %q, %q heads = 2 kv_heads = 2 mask = causal scale = 0.125
      : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %o : tensor<64x64xf32>
}

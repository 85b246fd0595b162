// The C ABI passes every buffer as a bare pointer with a size known at compile
// time, so model functions may only take and return statically shaped tensors.
// The checks run before any rewriting, so a rejected function is left intact.

// RUN: attn-opt %s --attn-expose-c-abi -split-input-file -verify-diagnostics

// expected-error @+1 {{'func.func' op model arguments must be statically shaped tensors}}
func.func @dynamic_argument(%x: tensor<?x8xf32>) -> tensor<4x8xf32>
    attributes {attn.model} {
  %c = tensor.cast %x : tensor<?x8xf32> to tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

// -----

// A scalar has no buffer to point to.
// expected-error @+1 {{'func.func' op model arguments must be statically shaped tensors}}
func.func @scalar_argument(%x: tensor<4x8xf32>, %s: f32) -> tensor<4x8xf32>
    attributes {attn.model} {
  return %x : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{'func.func' op model results must be statically shaped tensors}}
func.func @dynamic_result(%x: tensor<4x8xf32>) -> tensor<?x8xf32>
    attributes {attn.model} {
  %c = tensor.cast %x : tensor<4x8xf32> to tensor<?x8xf32>
  return %c : tensor<?x8xf32>
}

// -----

// The same function without `attn.model` is not a model and is accepted.
func.func @not_a_model(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  return %x : tensor<?x8xf32>
}

// -----

// The rewrite changes the model's signature, so a call to it would no
// longer match: a model function is an entry point, not a callee.
// expected-error @+1 {{'func.func' op marked attn.model is an entry point of the kernel and cannot be called from the module}}
func.func @called(%x: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {attn.model} {
  %y = attn.relu %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
func.func @caller(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = func.call @called(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

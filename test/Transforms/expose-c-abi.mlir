// --attn-expose-c-abi turns a function marked `attn.model` into the kernel ABI
//   int model(const float *in..., float *out...)
// i.e. (memref inputs..., memref outputs...) -> i32 in destination-passing
// style. Functions without `attn.model` are not touched.

// RUN: attn-opt %s --attn-expose-c-abi | FileCheck %s

// The arguments keep their position and their {attn.name, attn.role}
// attributes but become memrefs; the result becomes a trailing output memref
// carrying the attributes the result had, and the function returns an i32
// status. The function attributes (attn.model, attn.context) stay.
// CHECK-LABEL: func.func @block(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: memref<16x32xf32> {attn.name = "x", attn.role = "input"},
// CHECK-SAME:    %[[W:[a-zA-Z0-9_]+]]: memref<32x32xf32> {attn.name = "w", attn.role = "param"},
// CHECK-SAME:    %[[B:[a-zA-Z0-9_]+]]: memref<32xf32> {attn.name = "b", attn.role = "param"},
// CHECK-SAME:    %[[Y:[a-zA-Z0-9_]+]]: memref<16x32xf32> {attn.name = "y", attn.role = "output"})
// CHECK-SAME:    -> i32
// CHECK-SAME:    attributes {attn.context = 16 : i64, attn.model}
func.func @block(%x: tensor<16x32xf32> {attn.name = "x", attn.role = "input"},
                 %w: tensor<32x32xf32> {attn.name = "w", attn.role = "param"},
                 %b: tensor<32xf32> {attn.name = "b", attn.role = "param"})
    -> (tensor<16x32xf32> {attn.name = "y", attn.role = "output"})
    attributes {attn.model, attn.context = 16 : i64} {
  // Every input is read through a tensor view of the caller's buffer;
  // `restrict` records that the caller's buffers do not alias one another.
  // The views are not writable: the kernel never writes its inputs.
  // CHECK-NEXT: %[[XT:.+]] = bufferization.to_tensor %[[X]] restrict : memref<16x32xf32>
  // CHECK-NEXT: %[[WT:.+]] = bufferization.to_tensor %[[W]] restrict : memref<32x32xf32>
  // CHECK-NEXT: %[[BT:.+]] = bufferization.to_tensor %[[B]] restrict : memref<32xf32>
  // The body now uses the views instead of the old tensor arguments.
  // CHECK-NEXT: %[[R:.+]] = attn.linear %[[XT]], %[[WT]], %[[BT]]
  %y = attn.linear %x, %w, %b
      : (tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  // The returned value is written into the output buffer...
  // CHECK-NEXT: bufferization.materialize_in_destination %[[R]] in restrict writable %[[Y]] : (tensor<16x32xf32>, memref<16x32xf32>) -> ()
  // ... and the function returns the status 0.
  // CHECK-NEXT: %[[OK:.+]] = arith.constant 0 : i32
  // CHECK-NEXT: return %[[OK]] : i32
  // CHECK-NEXT: }
  return %y : tensor<16x32xf32>
}

// Several results become several output buffers, appended in result order.
// An argument or result without attributes gets an empty dictionary, which is
// not printed. Returning an input directly copies it into the output.
// CHECK-LABEL: func.func @two_outputs(
// CHECK-SAME:    %[[A:[a-zA-Z0-9_]+]]: memref<4xf32>,
// CHECK-SAME:    %[[OUT0:[a-zA-Z0-9_]+]]: memref<4xf32>,
// CHECK-SAME:    %[[OUT1:[a-zA-Z0-9_]+]]: memref<4xf32> {attn.name = "z", attn.role = "output"})
// CHECK-SAME:    -> i32 attributes {attn.model}
func.func @two_outputs(%a: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32> {attn.name = "z", attn.role = "output"})
    attributes {attn.model} {
  // CHECK-NEXT: %[[AT:.+]] = bufferization.to_tensor %[[A]] restrict : memref<4xf32>
  // CHECK-NEXT: %[[E:.+]] = math.exp %[[AT]] : tensor<4xf32>
  %e = math.exp %a : tensor<4xf32>
  // CHECK-NEXT: bufferization.materialize_in_destination %[[E]] in restrict writable %[[OUT0]]
  // CHECK-NEXT: bufferization.materialize_in_destination %[[AT]] in restrict writable %[[OUT1]]
  // CHECK-NEXT: %[[OK:.+]] = arith.constant 0 : i32
  // CHECK-NEXT: return %[[OK]] : i32
  return %e, %a : tensor<4xf32>, tensor<4xf32>
}

// No `attn.model`: the signature, the attributes and the body are unchanged.
// CHECK-LABEL: func.func @helper(
// CHECK-SAME:    %[[X:[a-zA-Z0-9_]+]]: tensor<16x32xf32> {attn.name = "x", attn.role = "input"})
// CHECK-SAME:    -> (tensor<16x32xf32> {attn.name = "y", attn.role = "output"})
// CHECK-NOT:     bufferization
// CHECK-NEXT:    %[[E:.+]] = math.exp %[[X]] : tensor<16x32xf32>
// CHECK-NEXT:    return %[[E]] : tensor<16x32xf32>
func.func @helper(%x: tensor<16x32xf32> {attn.name = "x", attn.role = "input"})
    -> (tensor<16x32xf32> {attn.name = "y", attn.role = "output"}) {
  %e = math.exp %x : tensor<16x32xf32>
  return %e : tensor<16x32xf32>
}

// A result computed into an empty tensor of its own shape, through
// destination-passing ops and reshapes: that tensor becomes the caller's
// output buffer (writable), so the kernel writes there directly (the empty
// tensor is left for canonicalize to erase).
// CHECK-LABEL: func.func @in_place(
// CHECK-SAME:    %[[XI:[a-zA-Z0-9_]+]]: memref<4x8xf32>,
// CHECK-SAME:    %[[YI:[a-zA-Z0-9_]+]]: memref<4x8xf32>)
// CHECK-NEXT:  %[[YT:.+]] = bufferization.to_tensor %[[YI]] restrict writable : memref<4x8xf32>
// CHECK-NEXT:  %[[XIT:.+]] = bufferization.to_tensor %[[XI]] restrict : memref<4x8xf32>
// CHECK:       tensor.expand_shape %[[YT]]
// CHECK:       bufferization.materialize_in_destination %{{.+}} in restrict writable %[[YI]]
func.func @in_place(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {attn.model} {
  %empty = tensor.empty() : tensor<4x8xf32>
  %view = tensor.expand_shape %empty [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %xv = tensor.expand_shape %x [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e = linalg.exp ins(%xv : tensor<4x2x4xf32>) outs(%view : tensor<4x2x4xf32>) -> tensor<4x2x4xf32>
  %y = tensor.collapse_shape %e [[0], [1, 2]] : tensor<4x2x4xf32> into tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// Values along the way may have other readers: here the row max reads the
// scores that the next step then overwrites, as a softmax does. The chain
// still starts from the caller's buffer; one-shot bufferization writes a
// step out of place if a reader needs a value after it was overwritten.
// CHECK-LABEL: func.func @read_on_the_way(
// CHECK-SAME:    %[[XR:[a-zA-Z0-9_]+]]: memref<4x8xf32>,
// CHECK-SAME:    %[[YR:[a-zA-Z0-9_]+]]: memref<4x8xf32>)
// CHECK-NEXT:  %[[YRT:.+]] = bufferization.to_tensor %[[YR]] restrict writable : memref<4x8xf32>
// CHECK:       %[[S:.+]] = linalg.exp ins(%{{.+}} : tensor<4x8xf32>) outs(%[[YRT]] : tensor<4x8xf32>)
// CHECK:       %[[M:.+]] = linalg.reduce ins(%[[S]] : tensor<4x8xf32>)
// CHECK:       linalg.generic {{.*}} ins(%[[M]] : tensor<4xf32>) outs(%[[S]] : tensor<4x8xf32>)
func.func @read_on_the_way(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {attn.model} {
  %empty = tensor.empty() : tensor<4x8xf32>
  %s = linalg.exp ins(%x : tensor<4x8xf32>) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %rows = tensor.empty() : tensor<4xf32>
  %m = linalg.reduce ins(%s : tensor<4x8xf32>) outs(%rows : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %a = arith.maximumf %in, %acc : f32
      linalg.yield %a : f32
    }
  %w = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4xf32>) outs(%s : tensor<4x8xf32>) {
    ^bb0(%mx: f32, %v: f32):
      %d = arith.subf %v, %mx : f32
      linalg.yield %d : f32
  } -> tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

// The empty tensor is also returned itself: only the operand the result
// was computed through becomes the caller's buffer; the other output
// copies the (undefined) empty tensor, as it would have.
// CHECK-LABEL: func.func @shared_empty(
// CHECK-SAME:    %[[XS:[a-zA-Z0-9_]+]]: memref<4xf32>,
// CHECK-SAME:    %[[OUT0S:[a-zA-Z0-9_]+]]: memref<4xf32>,
// CHECK-SAME:    %[[OUT1S:[a-zA-Z0-9_]+]]: memref<4xf32>)
// CHECK-NEXT:  %[[O0T:.+]] = bufferization.to_tensor %[[OUT0S]] restrict writable : memref<4xf32>
// CHECK:       %[[E:.+]] = tensor.empty() : tensor<4xf32>
// CHECK:       %[[EXP:.+]] = linalg.exp ins(%{{.+}} : tensor<4xf32>) outs(%[[O0T]] : tensor<4xf32>)
// CHECK:       bufferization.materialize_in_destination %[[EXP]] in restrict writable %[[OUT0S]]
// CHECK:       bufferization.materialize_in_destination %[[E]] in restrict writable %[[OUT1S]]
func.func @shared_empty(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) attributes {attn.model} {
  %empty = tensor.empty() : tensor<4xf32>
  %e = linalg.exp ins(%x : tensor<4xf32>) outs(%empty : tensor<4xf32>) -> tensor<4xf32>
  return %e, %empty : tensor<4xf32>, tensor<4xf32>
}

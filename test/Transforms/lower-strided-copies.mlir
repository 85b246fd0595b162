// attn-lower-strided-copies: a memref.copy from or into a strided view
// becomes a linalg.copy of the same buffers (loops later, no call into
// MLIR's runner utilities); a copy between contiguous buffers stays, to be
// lowered to llvm.memcpy.

// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-lower-strided-copies))' | FileCheck %s

// CHECK-LABEL: func.func @piece_of_input(
// CHECK-SAME: %[[IN:.+]]: memref<4x24xf32>, %[[OUT:.+]]: memref<4x8xf32>)
// CHECK: %[[VIEW:.+]] = memref.subview %[[IN]][0, 8] [4, 8] [1, 1]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[VIEW]] : memref<4x8xf32, strided<[24, 1], offset: 8>>) outs(%[[OUT]] : memref<4x8xf32>)
// CHECK-NOT: memref.copy
// CHECK: return
func.func @piece_of_input(%in: memref<4x24xf32>, %out: memref<4x8xf32>) {
  %view = memref.subview %in[0, 8] [4, 8] [1, 1]
      : memref<4x24xf32> to memref<4x8xf32, strided<[24, 1], offset: 8>>
  memref.copy %view, %out
      : memref<4x8xf32, strided<[24, 1], offset: 8>> to memref<4x8xf32>
  return
}

// Into a strided view: the target decides too.
// CHECK-LABEL: func.func @into_a_column_block(
// CHECK: linalg.copy
// CHECK-NOT: memref.copy
func.func @into_a_column_block(%in: memref<4x8xf32>, %out: memref<4x24xf32>) {
  %view = memref.subview %out[0, 16] [4, 8] [1, 1]
      : memref<4x24xf32> to memref<4x8xf32, strided<[24, 1], offset: 16>>
  memref.copy %in, %view
      : memref<4x8xf32> to memref<4x8xf32, strided<[24, 1], offset: 16>>
  return
}

// Rows taken whole are one contiguous block: memcpy is the better lowering.
// CHECK-LABEL: func.func @whole_rows(
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @whole_rows(%in: memref<4x24xf32>, %out: memref<2x24xf32>) {
  %view = memref.subview %in[2, 0] [2, 24] [1, 1]
      : memref<4x24xf32> to memref<2x24xf32, strided<[24, 1], offset: 48>>
  memref.copy %view, %out
      : memref<2x24xf32, strided<[24, 1], offset: 48>> to memref<2x24xf32>
  return
}

// Unranked buffers have no linalg.copy (it would lower to nothing): the
// copy stays as it is.
// CHECK-LABEL: func.func @unranked(
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @unranked(%a: memref<*xf32>, %b: memref<*xf32>) {
  memref.copy %a, %b : memref<*xf32> to memref<*xf32>
  return
}

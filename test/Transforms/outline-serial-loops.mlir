// attn-outline-serial-loops: each scf.for directly in a model function
// (attn.model) becomes a private function marked attn.serial_loop and a
// call. Its bounds and initial values are captured like the values its
// body uses; a strided view crosses as base buffer, offset and any dynamic
// sizes; constants are cloned; a loop's scalar results are the function's
// results. The function is internal to the object and never inlined, so
// LLVM compiles a loop that every layer of a stack calls once
// (attnc-merged-tasks.test).

// RUN: attn-opt %s --attn-outline-serial-loops | FileCheck %s

// CHECK-LABEL: func.func private @model_serial_0(
// CHECK-SAME: %[[BASE:[a-z0-9_]+]]: memref<f32>, %[[OFF:[a-z0-9_]+]]: index, %[[UB:[a-z0-9_]+]]: index, %[[INIT:[a-z0-9_]+]]: f32) -> f32
// CHECK-SAME: attributes {attn.serial_loop, llvm.linkage = #llvm.linkage<internal>, no_inline}
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[VIEW:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [8], strides: [2]
// CHECK: %[[SUM:.+]] = scf.for %{{.+}} = %[[C0]] to %[[UB]] step %[[C1]] iter_args(%{{.+}} = %[[INIT]]) -> (f32)
// CHECK: memref.load %[[VIEW]]
// CHECK: return %[[SUM]] : f32

// The loop nested in another is part of its function.
// CHECK-LABEL: func.func private @model_serial_1(
// CHECK-SAME: %[[S:[a-z0-9_]+]]: f32, %[[OUT:[a-z0-9_]+]]: memref<8xf32>)
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.store %[[S]], %[[OUT]]
// CHECK: return

// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[MOUT:[a-z0-9_]+]]: memref<8xf32>, %{{.+}}: memref<16xf32>, %[[N:[a-z0-9_]+]]: index, %[[MINIT:[a-z0-9_]+]]: f32)
// CHECK: %[[B:.+]], %[[O:.+]], %{{.+}}, %{{.+}} = memref.extract_strided_metadata
// CHECK: %[[R:.+]] = call @model_serial_0(%[[B]], %[[O]], %[[N]], %[[MINIT]]) : (memref<f32>, index, index, f32) -> f32
// CHECK: call @model_serial_1(%[[R]], %[[MOUT]]) : (f32, memref<8xf32>) -> ()
// CHECK-NOT: scf.for
// CHECK: return
func.func @model(%out: memref<8xf32>, %in: memref<16xf32>, %n: index, %init: f32) attributes {attn.model} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %view = memref.subview %in[0] [8] [2] : memref<16xf32> to memref<8xf32, strided<[2]>>
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> (f32) {
    %x = memref.load %view[%i] : memref<8xf32, strided<[2]>>
    %y = arith.addf %acc, %x : f32
    scf.yield %y : f32
  }
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c1 step %c1 {
      memref.store %sum, %out[%i] : memref<8xf32>
    }
  }
  return
}

// Functions not marked attn.model, and loops yielding buffers, keep their
// loops.
// CHECK-LABEL: func.func @helper(
// CHECK: scf.for
func.func @helper(%m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %z, %m[%i] : memref<4xf32>
  }
  return
}
// CHECK-LABEL: func.func @buffers(
// CHECK: scf.for {{.*}} -> (memref<4xf32>)
// CHECK-NOT: call
func.func @buffers(%m: memref<4xf32>, %n: memref<4xf32>) attributes {attn.model} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%b = %m) -> (memref<4xf32>) {
    scf.yield %n : memref<4xf32>
  }
  return
}

// A view of a run-time size (a decode step's visible cache slots) crosses
// as base buffer, offset and its dynamic sizes, and is rebuilt inside.
// CHECK-LABEL: func.func private @slots_serial_0(
// CHECK-SAME: %[[BASE:[a-z0-9_]+]]: memref<f32>, %[[OFF:[a-z0-9_]+]]: index, %[[SIZE:[a-z0-9_]+]]: index)
// CHECK: %[[VIEW:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [4, %[[SIZE]]], strides: [64, 1]
// CHECK: memref.dim %[[VIEW]], %{{.+}} : memref<4x?xf32, strided<[64, 1], offset: ?>>
// CHECK-LABEL: func.func @slots(
// CHECK: %[[B:.+]], %[[O:.+]], %[[SIZES:.+]]:2, %{{.+}}:2 = memref.extract_strided_metadata
// CHECK: call @slots_serial_0(%[[B]], %[[O]], %[[SIZES]]#1) : (memref<f32>, index, index) -> ()
func.func @slots(%cache: memref<4x64xf32>, %first: index, %count: index) attributes {attn.model} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  %view = memref.subview %cache[0, %first] [4, %count] [1, 1]
      : memref<4x64xf32> to memref<4x?xf32, strided<[64, 1], offset: ?>>
  scf.for %i = %c0 to %c4 step %c1 {
    %n = memref.dim %view, %c1 : memref<4x?xf32, strided<[64, 1], offset: ?>>
    scf.for %j = %c0 to %n step %c1 {
      memref.store %z, %view[%i, %j] : memref<4x?xf32, strided<[64, 1], offset: ?>>
    }
  }
  return
}

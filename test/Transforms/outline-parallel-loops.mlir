// attn-outline-parallel-loops: each outermost scf.forall on buffers becomes
// a task function (captures, iteration number) and a call to a declared
// launcher (captures, iteration count) that attnc defines in LLVM IR on top
// of the runtime's thread pool. A strided view crosses the call as its base
// buffer and offset and is rebuilt in the task; constants are cloned.

// RUN: attn-opt %s --attn-outline-parallel-loops | FileCheck %s

// The task: column block i covers columns 16 i .. 16 i + 15.
// CHECK-LABEL: func.func private @model_parallel_0(
// CHECK-SAME: %[[TBASE:.+]]: memref<f32>, %[[TOFF:.+]]: index, %[[TSCALE:.+]]: f32, %[[TOUT:.+]]: memref<8x64xf32>, %[[I:.+]]: index)
// CHECK: %[[TVIEW:.+]] = memref.reinterpret_cast %[[TBASE]] to offset: [%[[TOFF]]], sizes: [8, 64], strides: [128, 1]
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK: %[[J:.+]] = arith.muli %[[I]], %[[C16]]
// CHECK: %[[COL:.+]] = arith.addi %{{.+}}, %[[J]]
// CHECK: memref.load %[[TVIEW]][%{{.+}}, %[[COL]]]
// CHECK: arith.mulf {{.*}}%[[TSCALE]]
// CHECK: memref.store {{.*}} %[[TOUT]][%{{.+}}, %[[COL]]]
// CHECK: return

// CHECK: func.func private @__attnc_launch.model_parallel_0(memref<f32>, index, f32, memref<8x64xf32>, index)

// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[OUT:.+]]: memref<8x64xf32>, %[[IN:.+]]: memref<8x128xf32>, %[[SCALE:.+]]: f32)
// CHECK: %[[VIEW:.+]] = memref.subview %[[IN]]
// CHECK: %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %[[VIEW]]
// CHECK: %[[COUNT:.+]] = arith.constant 4 : index
// CHECK: call @__attnc_launch.model_parallel_0(%[[BASE]], %[[OFF]], %[[SCALE]], %[[OUT]], %[[COUNT]])
// CHECK-NOT: scf.forall
// CHECK: return
func.func @model(%out: memref<8x64xf32>, %in: memref<8x128xf32>, %scale: f32) {
  %c0 = arith.constant 0 : index
  %view = memref.subview %in[0, 64] [8, 64] [1, 1] : memref<8x128xf32> to memref<8x64xf32, strided<[128, 1], offset: 64>>
  scf.forall (%j) = (0) to (64) step (16) {
    %x = memref.load %view[%c0, %j] : memref<8x64xf32, strided<[128, 1], offset: 64>>
    %y = arith.mulf %x, %scale : f32
    memref.store %y, %out[%c0, %j] : memref<8x64xf32>
  }
  return
}

// -----

// A task's name that is taken gets a suffix, and its launcher the same
// name: attnc finds the task from the launcher's name.
// RUN: attn-opt %s -split-input-file --attn-outline-parallel-loops | FileCheck %s --check-prefix=TAKEN
// TAKEN-LABEL: func.func private @g_parallel_0(%{{.+}}: index)
// TAKEN: func.func private @g_parallel_0_1(
// TAKEN: func.func private @__attnc_launch.g_parallel_0_1(
// TAKEN: call @__attnc_launch.g_parallel_0_1(
func.func private @g_parallel_0(%x: index) {
  return
}
func.func @g(%m: memref<4xf32>) {
  %c = arith.constant 1.0 : f32
  scf.forall (%i) in (4) {
    memref.store %c, %m[%i] : memref<4xf32>
  }
  return
}

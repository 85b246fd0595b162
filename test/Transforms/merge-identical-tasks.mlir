// attn-merge-identical-tasks: of the tasks attn-outline-parallel-loops
// made, those with equal bodies (locations aside) and signatures are one:
// the first stays, calls of the others' launchers go to its launcher, and
// the others and their launchers are erased.

// RUN: attn-opt %s --attn-merge-identical-tasks | FileCheck %s

// CHECK-LABEL: func.func private @m_parallel_0(
// CHECK: func.func private @__attnc_launch.m_parallel_0(
// CHECK-NOT: @m_parallel_1(
// CHECK-NOT: @__attnc_launch.m_parallel_1(
// A different constant: a task of its own.
// CHECK: func.func private @m_parallel_2(
// CHECK: arith.constant 3.000000e+00
// CHECK: func.func private @__attnc_launch.m_parallel_2(
// Different argument attributes: a task of its own.
// CHECK: func.func private @m_parallel_3(
// CHECK: func.func private @__attnc_launch.m_parallel_3(
// CHECK-NOT: @m_parallel_4(
// CHECK-LABEL: func.func @m(
// CHECK: call @__attnc_launch.m_parallel_0(%arg0, %c4)
// CHECK: call @__attnc_launch.m_parallel_0(%arg1, %c4)
// CHECK: call @__attnc_launch.m_parallel_2(%arg0, %c4)
// CHECK: call @__attnc_launch.m_parallel_3(%arg1, %c4)
// CHECK: call @__attnc_launch.m_parallel_0(%arg1, %c4)

func.func private @m_parallel_0(%buf: memref<4x16xf32>, %i: index) {
  %c2 = arith.constant 2.0 : f32
  %c0 = arith.constant 0 : index
  %x = memref.load %buf[%i, %c0] : memref<4x16xf32>
  %y = arith.mulf %x, %c2 : f32
  memref.store %y, %buf[%i, %c0] : memref<4x16xf32>
  return
}
func.func private @__attnc_launch.m_parallel_0(memref<4x16xf32>, index)

// The same loop outlined from the next layer, at another place.
func.func private @m_parallel_1(%buf: memref<4x16xf32>, %i: index) {
  %c2 = arith.constant 2.0 : f32 loc("layer1":3:4)
  %c0 = arith.constant 0 : index
  %x = memref.load %buf[%i, %c0] : memref<4x16xf32> loc("layer1":5:6)
  %y = arith.mulf %x, %c2 : f32
  memref.store %y, %buf[%i, %c0] : memref<4x16xf32>
  return
}
func.func private @__attnc_launch.m_parallel_1(memref<4x16xf32>, index)

func.func private @m_parallel_2(%buf: memref<4x16xf32>, %i: index) {
  %c2 = arith.constant 3.0 : f32
  %c0 = arith.constant 0 : index
  %x = memref.load %buf[%i, %c0] : memref<4x16xf32>
  %y = arith.mulf %x, %c2 : f32
  memref.store %y, %buf[%i, %c0] : memref<4x16xf32>
  return
}
func.func private @__attnc_launch.m_parallel_2(memref<4x16xf32>, index)

func.func private @m_parallel_3(%buf: memref<4x16xf32> {llvm.noalias}, %i: index) {
  %c2 = arith.constant 2.0 : f32
  %c0 = arith.constant 0 : index
  %x = memref.load %buf[%i, %c0] : memref<4x16xf32>
  %y = arith.mulf %x, %c2 : f32
  memref.store %y, %buf[%i, %c0] : memref<4x16xf32>
  return
}
func.func private @__attnc_launch.m_parallel_3(memref<4x16xf32>, index)

// A third copy of the first.
func.func private @m_parallel_4(%buf: memref<4x16xf32>, %i: index) {
  %c2 = arith.constant 2.0 : f32
  %c0 = arith.constant 0 : index
  %x = memref.load %buf[%i, %c0] : memref<4x16xf32>
  %y = arith.mulf %x, %c2 : f32
  memref.store %y, %buf[%i, %c0] : memref<4x16xf32>
  return
}
func.func private @__attnc_launch.m_parallel_4(memref<4x16xf32>, index)

func.func @m(%a: memref<4x16xf32>, %b: memref<4x16xf32>) {
  %c4 = arith.constant 4 : index
  call @__attnc_launch.m_parallel_0(%a, %c4) : (memref<4x16xf32>, index) -> ()
  call @__attnc_launch.m_parallel_1(%b, %c4) : (memref<4x16xf32>, index) -> ()
  call @__attnc_launch.m_parallel_2(%a, %c4) : (memref<4x16xf32>, index) -> ()
  call @__attnc_launch.m_parallel_3(%b, %c4) : (memref<4x16xf32>, index) -> ()
  call @__attnc_launch.m_parallel_4(%b, %c4) : (memref<4x16xf32>, index) -> ()
  return
}

// -----

// Functions attn-outline-serial-loops made merge the same way: calls of the
// others go to the first.
// RUN: attn-opt %s -split-input-file --attn-merge-identical-tasks | FileCheck %s --check-prefix=SERIAL
// SERIAL-LABEL: func.func private @s_serial_0(
// SERIAL-NOT: @s_serial_1(
// SERIAL: func.func private @s_serial_2(
// SERIAL: arith.constant 5.000000e+00
// SERIAL-LABEL: func.func @s(
// SERIAL: %[[A:.+]] = call @s_serial_0(%arg0) : (memref<4xf32>) -> f32
// SERIAL: %[[B:.+]] = call @s_serial_0(%arg1) : (memref<4xf32>) -> f32
// SERIAL: call @s_serial_2(%arg0) : (memref<4xf32>) -> f32
// A task with the same body as a serial function stays a task.
// SERIAL: call @__attnc_launch.s_parallel_0(
func.func private @s_serial_0(%m: memref<4xf32>) -> f32 attributes {attn.serial_loop} {
  %c = arith.constant 4.0 : f32
  %c0 = arith.constant 0 : index
  memref.store %c, %m[%c0] : memref<4xf32>
  return %c : f32
}
func.func private @s_serial_1(%m: memref<4xf32>) -> f32 attributes {attn.serial_loop} {
  %c = arith.constant 4.0 : f32 loc("layer1":1:1)
  %c0 = arith.constant 0 : index
  memref.store %c, %m[%c0] : memref<4xf32>
  return %c : f32
}
func.func private @s_serial_2(%m: memref<4xf32>) -> f32 attributes {attn.serial_loop} {
  %c = arith.constant 5.0 : f32
  %c0 = arith.constant 0 : index
  memref.store %c, %m[%c0] : memref<4xf32>
  return %c : f32
}
func.func private @s_parallel_0(%m: memref<4xf32>, %i: index) {
  %c = arith.constant 4.0 : f32
  memref.store %c, %m[%i] : memref<4xf32>
  return
}
func.func private @__attnc_launch.s_parallel_0(memref<4xf32>, index)
func.func @s(%a: memref<4xf32>, %b: memref<4xf32>) {
  %x = call @s_serial_0(%a) : (memref<4xf32>) -> f32
  %y = call @s_serial_1(%b) : (memref<4xf32>) -> f32
  %z = call @s_serial_2(%a) : (memref<4xf32>) -> f32
  %c4 = arith.constant 4 : index
  call @__attnc_launch.s_parallel_0(%a, %c4) : (memref<4xf32>, index) -> ()
  return
}

// attn-lower-nonpositive-exp2 expands math.exp2 marked attn.nonpositive
// (the flash kernel's 2^t, t <= 0): t = n + f, n = round(t), a degree-5
// polynomial for 2^f, times 2^n. Portable: n by adding and subtracting
// 1.5 * 2^23, 2^n from exponent bits, 0 below 2^-126. With avx512, a
// 16-lane vector takes f from vreduceps and scales with vscalefps; other
// shapes stay portable. Unmarked exp2 (argument maybe positive) stays.

// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-lower-nonpositive-exp2))' | FileCheck %s --check-prefixes=CHECK,PORTABLE
// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-lower-nonpositive-exp2{avx512=1}))' | FileCheck %s --check-prefixes=CHECK,AVX512

// CHECK-LABEL: func.func @lanes16
// PORTABLE-NOT: llvm.call_intrinsic
// PORTABLE: %[[MAGIC:.+]] = arith.constant dense<0x4B400000> : vector<16xf32>
// PORTABLE: %[[SHIFTED:.+]] = arith.addf %arg0, %[[MAGIC]]
// PORTABLE: %[[N:.+]] = arith.subf %[[SHIFTED]], %[[MAGIC]]
// PORTABLE: %[[F:.+]] = arith.subf %arg0, %[[N]]
// PORTABLE-COUNT-5: math.fma {{.*}}, %[[F]],
// PORTABLE: arith.bitcast %[[SHIFTED]] : vector<16xf32> to vector<16xi32>
// PORTABLE: arith.shli
// PORTABLE: %[[UNDER:.+]] = arith.cmpf olt, %arg0, %{{.+}} : vector<16xf32>
// PORTABLE: arith.select %[[UNDER]]
// AVX512: %[[F:.+]] = llvm.call_intrinsic "llvm.x86.avx512.mask.reduce.ps.512"(%arg0, %c0_i32, %arg0, %c-1_i16, %c4_i32)
// AVX512: %[[N:.+]] = arith.subf %arg0, %[[F]] : vector<16xf32>
// AVX512-COUNT-4: math.fma {{.*}}, %[[F]],
// AVX512: %[[P:.+]] = math.fma {{.*}}, %[[F]], %{{.+}} : vector<16xf32>
// AVX512-NEXT: arith.constant -1 : i16
// AVX512-NEXT: arith.constant 4 : i32
// AVX512-NEXT: %[[R:.+]] = llvm.call_intrinsic "llvm.x86.avx512.mask.scalef.ps.512"(%[[P]], %[[N]], %[[P]], %{{.+}}, %{{.+}})
// AVX512-NOT: arith.cmpf
// AVX512: return %[[R]]
// CHECK-NOT: math.exp2
func.func @lanes16(%t: vector<16xf32>) -> vector<16xf32> {
  %e = math.exp2 %t {attn.nonpositive} : vector<16xf32>
  return %e : vector<16xf32>
}

// CHECK-LABEL: func.func @lanes8
// CHECK-NOT: llvm.call_intrinsic
// CHECK: arith.constant dense<0x4B400000> : vector<8xf32>
// CHECK: arith.cmpf olt
// CHECK-NOT: math.exp2
func.func @lanes8(%t: vector<8xf32>) -> vector<8xf32> {
  %e = math.exp2 %t {attn.nonpositive} : vector<8xf32>
  return %e : vector<8xf32>
}

// An op left scalar (its generic was not vectorized).
// CHECK-LABEL: func.func @scalar
// CHECK-NOT: llvm.call_intrinsic
// CHECK: arith.constant 0x4B400000 : f32
// CHECK: arith.bitcast %{{.+}} : f32 to i32
// CHECK: arith.cmpf olt, %arg0
// CHECK-NOT: math.exp2
func.func @scalar(%t: f32) -> f32 {
  %e = math.exp2 %t {attn.nonpositive} : f32
  return %e : f32
}

// CHECK-LABEL: func.func @unmarked
// CHECK-NEXT: %[[E:.+]] = math.exp2 %arg0 : vector<16xf32>
// CHECK-NEXT: return %[[E]]
func.func @unmarked(%t: vector<16xf32>) -> vector<16xf32> {
  %e = math.exp2 %t : vector<16xf32>
  return %e : vector<16xf32>
}

// attn-outline-parallel-loops puts each task next to the function that
// holds its loop: a loop outside a top-level func.func is an error, not a
// crash.

// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-outline-parallel-loops

module {
  %m = memref.alloc() : memref<4xf32>
  %c = arith.constant 1.0 : f32
  // expected-error @+1 {{attn-outline-parallel-loops: expects the loop in a func.func at the top level of the module}}
  scf.forall (%i) in (4) {
    memref.store %c, %m[%i] : memref<4xf32>
  }
}

// -----

module {
  module @inner {
    func.func @f(%m: memref<4xf32>) {
      %c = arith.constant 1.0 : f32
      // expected-error @+1 {{attn-outline-parallel-loops: expects the loop in a func.func at the top level of the module}}
      scf.forall (%i) in (4) {
        memref.store %c, %m[%i] : memref<4xf32>
      }
      return
    }
  }
}

//===- Passes.td - attnc compiler passes ---------------------*- tablegen -*-===//

#ifndef ATTNC_PASSES
#define ATTNC_PASSES

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower attn operations to linalg and tensor operations";
  let description = [{
    `attn.linear` becomes a bias broadcast followed by `linalg.matmul`.
    `attn.sdpa` becomes linalg.generic operations over a materialized score
    tensor per head group: QK^T, scale and mask, a numerically stable softmax
    (row max subtracted before exp; rows with no visible key give 0), and PV.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"
  ];
}

def ExposeCAbi : Pass<"attn-expose-c-abi", "mlir::ModuleOp"> {
  let summary = "Give model functions the C kernel ABI";
  let description = [{
    Rewrites every function marked `attn.model` from
    `(tensor, ...) -> (tensor, ...)` into destination-passing form
    `(memref inputs..., memref outputs...) -> i32`: inputs are read through
    `bufferization.to_tensor restrict`, results are written into the output
    buffers with `bufferization.materialize_in_destination`, and the function
    returns 0. With the bare-pointer calling convention this is exactly
    `int model(const float *x, ..., float *y)`.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::memref::MemRefDialect"
  ];
}

#endif // ATTNC_PASSES

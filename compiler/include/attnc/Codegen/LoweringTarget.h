//===- LoweringTarget.h - what the MLIR lowering knows of the CPU -*- C++ -*-===//
//
// The MLIR pipelines are target independent but for the few choices here,
// which attnc derives from the LLVM target machine it compiles for
// (loweringTargetFor, ObjectEmitter.h), so that --mcpu and --target reach
// them too.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_LOWERINGTARGET_H
#define ATTNC_CODEGEN_LOWERINGTARGET_H

namespace attnc {

struct LoweringTarget {
  /// x86 with avx512f and avx512dq: the softmax's 2^t uses vreduceps and
  /// vscalefps (attn-lower-nonpositive-exp2).
  bool avx512 = false;
};

} // namespace attnc

#endif // ATTNC_CODEGEN_LOWERINGTARGET_H

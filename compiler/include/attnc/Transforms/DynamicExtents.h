//===- DynamicExtents.h - products of a run-time size -----------*- C++ -*-===//
//
// A decode step attends over the cache slots its mask can see, a number
// known only at run time: early in the context a prefix of the ring, under
// window(N) the last N slots. Its products are then linalg.matmuls whose
// N (the scores' columns) or K (the values' rows) is dynamic. The lowering
// rounds that range out to a multiple of a vector block and says so on the
// product, so that attn-contraction-microkernel can still pick register
// blocks and whole-vector loads without a tail.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_DYNAMICEXTENTS_H
#define ATTNC_TRANSFORMS_DYNAMICEXTENTS_H

namespace attnc {

/// On C[m, n] += A[m, k] B[k, n] with a dynamic n or k (an I64 attribute):
/// every dynamic size is a multiple of this value (16, 32 or 64). M stays
/// static.
inline constexpr const char kExtentMultipleAttr[] = "attn.extent_multiple";

} // namespace attnc

#endif // ATTNC_TRANSFORMS_DYNAMICEXTENTS_H

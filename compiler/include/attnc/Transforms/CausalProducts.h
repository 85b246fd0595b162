//===- CausalProducts.h - products of a causal diagonal tile ----*- C++ -*-===//
//
// On the diagonal tile of causal flash attention (a query tile and the key
// tile at the same positions), every key after its query is masked: its
// score is overwritten with -inf after the product, and its weight is 0.
// The flash lowering marks that tile's two products so that
// attn-contraction-microkernel skips the register blocks and the terms
// that cannot matter, about a quarter of the scores' product and half of
// the weighted sum of values on that tile.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_CAUSALPRODUCTS_H
#define ATTNC_TRANSFORMS_CAUSALPRODUCTS_H

namespace attnc {

/// On C[m, n] += A[m, k] B[k, n] (m: keys, n: queries): C[m, n] with m > n
/// may be left unwritten, since a later pass overwrites it.
inline constexpr const char kCausalScoresAttr[] = "attn.causal_scores";

/// On C[m, n] += A[m, k] B[k, n] (A stored transposed; m: queries, k: keys):
/// A[m, k] is 0 wherever k > m, so those terms need not be added.
inline constexpr const char kCausalWeightsAttr[] = "attn.causal_weights";

} // namespace attnc

#endif // ATTNC_TRANSFORMS_CAUSALPRODUCTS_H

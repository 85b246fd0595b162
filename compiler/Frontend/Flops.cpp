//===- Flops.cpp - the arithmetic a model's products do -------------------===//

#include "attnc/Frontend/Flops.h"

#include <algorithm>

using namespace attnc;

/// Query-key pairs of an attention over `queries` x `keys`: all of them,
/// or the visible ones (query i sees keys up to i for causal, the last
/// `window` of those for a window).
static double attentionPairs(const GraphOp &op, int64_t queries,
                             int64_t keys, PairCount pairs) {
  if (pairs == PairCount::Dense || op.mask == MaskKind::None)
    return double(queries) * double(keys);
  double visible = 0;
  for (int64_t i = 0; i < queries; ++i) {
    int64_t seen = std::min(i + 1, keys);
    if (op.mask == MaskKind::Window)
      seen = std::min(seen, op.window);
    visible += double(seen);
  }
  return visible;
}

double attnc::productFlops(const Graph &graph, PairCount pairs,
                           int64_t filledSlots) {
  double flops = 0;
  for (const GraphOp &op : graph.ops) {
    switch (op.kind) {
    case GraphOp::Kind::Linear: {
      // x [S, In] @ w [In, Out]
      const Shape &x = graph.shapeOf(op.operands[0]);
      const Shape &w = graph.shapeOf(op.operands[1]);
      flops += 2.0 * double(x[0]) * double(w[0]) * double(w[1]);
      break;
    }
    case GraphOp::Kind::MatMul: {
      // [B,] M x K times K x N
      const Shape &a = graph.shapeOf(op.operands[0]);
      const Shape &b = graph.shapeOf(op.operands[1]);
      double batch = a.size() == 3 ? double(a[0]) : 1.0;
      flops += 2.0 * batch * double(a[a.size() - 2]) * double(a.back()) *
               double(b.back());
      break;
    }
    case GraphOp::Kind::Attention:
    case GraphOp::Kind::AttentionProbs: {
      // q [S, H*D], k [T, G*D]: q k^T and (attention) p v per head, S*T*D
      // multiply-adds each.
      const Shape &q = graph.shapeOf(op.operands[0]);
      const Shape &k = graph.shapeOf(op.operands[1]);
      double products = op.kind == GraphOp::Kind::Attention ? 2.0 : 1.0;
      flops += 2.0 * products * double(q[1]) *
               attentionPairs(op, q[0], k[0], pairs);
      break;
    }
    case GraphOp::Kind::DecodeAttention: {
      // Each of the step's or chunk's tokens against the cache and the
      // chunk's tokens, masked or not.
      const Shape &q = graph.shapeOf(op.operands[0]);
      int64_t slots = pairs == PairCount::Dense
                          ? graph.context
                          : std::min(filledSlots, graph.context);
      flops += 4.0 * double(q[1]) * double(q[0]) *
               (double(slots) + double(q[0]));
      break;
    }
    default:
      break;
    }
  }
  return flops;
}

//===- Flops.cpp - the arithmetic a model's products do -------------------===//

#include "Flops.h"

using namespace attnc;

double attnc::countProductFlops(const Graph &graph) {
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
    case GraphOp::Kind::Attention: {
      // q [S, H*D], k [T, G*D]: q k^T and p v per head, S*T*D each.
      const Shape &q = graph.shapeOf(op.operands[0]);
      const Shape &k = graph.shapeOf(op.operands[1]);
      flops += 4.0 * double(q[0]) * double(k[0]) * double(q[1]);
      break;
    }
    default:
      break;
    }
  }
  return flops;
}

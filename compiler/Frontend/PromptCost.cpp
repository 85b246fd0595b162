//===- PromptCost.cpp - which path a decoder's prompt takes ---------------===//

#include "attnc/Frontend/PromptCost.h"

#include "attnc/Frontend/DecodeStep.h"

using namespace attnc;

namespace {

/// How much more a chunk's flop costs than the whole model's: the chunk's
/// products are 64 rows deep and its attention is materialized over the
/// filled cache slots. The GPT-2 block at 1024 tokens, one thread: a chunk
/// over a full cache 7.0 ms for 0.52 GFLOP, the whole model 64 ms for 6.44
/// (4 chunks from position 0, 1.33 GFLOP, took 19.3 ms).
constexpr double kChunkFlopCost = 1.36;

/// Query-key pairs an attention over `queries` x `keys` computes: the
/// visible ones (query i sees keys up to i for causal, the last `window`
/// of those for a window).
double visiblePairs(const GraphOp &op, int64_t queries, int64_t keys) {
  if (op.mask == MaskKind::None)
    return double(queries) * double(keys);
  double pairs = 0;
  for (int64_t i = 0; i < queries; ++i) {
    int64_t seen = std::min(i + 1, keys);
    if (op.mask == MaskKind::Window)
      seen = std::min(seen, op.window);
    pairs += double(seen);
  }
  return pairs;
}

} // namespace

double attnc::productFlops(const Graph &graph, int64_t filledSlots) {
  double flops = 0;
  for (const GraphOp &op : graph.ops) {
    switch (op.kind) {
    case GraphOp::Kind::Linear: {
      const Shape &x = graph.shapeOf(op.operands[0]);
      const Shape &w = graph.shapeOf(op.operands[1]);
      flops += 2.0 * double(numElements(x)) * double(w[1]);
      break;
    }
    case GraphOp::Kind::MatMul: {
      const Shape &a = graph.shapeOf(op.operands[0]);
      const Shape &b = graph.shapeOf(op.operands[1]);
      flops += 2.0 * double(numElements(a)) * double(b.back());
      break;
    }
    case GraphOp::Kind::Attention:
    case GraphOp::Kind::AttentionProbs: {
      const Shape &q = graph.shapeOf(op.operands[0]);
      const Shape &k = graph.shapeOf(op.operands[1]);
      double headDim = double(q[1]) / double(op.heads);
      // Scores, and for attention the weighted sum of values too.
      double products = op.kind == GraphOp::Kind::Attention ? 2 : 1;
      flops += 2.0 * products * double(op.heads) * headDim *
               visiblePairs(op, q[0], k[0]);
      break;
    }
    case GraphOp::Kind::DecodeAttention: {
      // The filled cache slots and every token of the chunk, masked or
      // not.
      const Shape &q = graph.shapeOf(op.operands[0]);
      double keys =
          double(std::min(filledSlots, graph.context)) + double(q[0]);
      flops += 4.0 * double(q[1]) * double(q[0]) * keys;
      break;
    }
    default:
      break;
    }
  }
  return flops;
}

int64_t attnc::prefillFromTokens(const Graph &model) {
  const int64_t context = model.context;
  if (!model.chunk || !model.prefill)
    return (context + 3) / 4;
  const int64_t rows = model.chunk->chunkRows;
  const double whole = productFlops(*model.prefill);
  // A chunk at position p attends over the p slots filled before it.
  auto chunkAt = [&](int64_t position) {
    return kChunkFlopCost * productFlops(*model.chunk, position);
  };
  // The decoder's path for n tokens from position 0 without the whole
  // model: a chunk per `rows` tokens while at least half of them are left,
  // then steps, each about 2 / rows of a chunk (a chunk measured as much as
  // 24-40 steps).
  double fullChunks = 0; // the chunks of the first n / rows * rows tokens
  for (int64_t n = 1; n <= context; ++n) {
    int64_t rest = n % rows;
    if (rest == 0)
      fullChunks += chunkAt(n - rows);
    double last = chunkAt(n - rest);
    double tail = 2 * rest >= rows ? last : double(rest) * 2.0 / rows * last;
    if (fullChunks + tail > whole)
      return n;
  }
  return context + 1;
}

//===- Graph.cpp ------------------------------------------------*- C++ -*-===//

#include "attnc/Frontend/Graph.h"

using namespace attnc;

int64_t attnc::numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string attnc::shapeToString(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char *attnc::maskKindName(MaskKind kind) {
  switch (kind) {
  case MaskKind::None: return "none";
  case MaskKind::Causal: return "causal";
  case MaskKind::Window: return "window";
  }
  return "none";
}

unsigned Graph::numInputArgs() const {
  unsigned n = 0;
  for (const KernelArg &a : args)
    n += a.role != ArgRole::Output;
  return n;
}

std::vector<const KernelArg *> Graph::abiArgs() const {
  std::vector<const KernelArg *> result;
  for (const KernelArg &a : args)
    if (!a.embedded && a.cacheIndex < 0)
      result.push_back(&a);
  return result;
}

void attnc::addAttentionProbOutputs(Graph &graph) {
  std::vector<GraphOp> probsOps;
  for (const GraphOp &op : graph.ops) {
    if (op.kind != GraphOp::Kind::Attention)
      continue;
    GraphOp probs = op;
    probs.kind = GraphOp::Kind::AttentionProbs;
    probs.operands.erase(probs.operands.begin() + 2); // v plays no part
    const Shape &q = graph.shapeOf(op.operands[0]);
    const Shape &k = graph.shapeOf(op.operands[1]);
    probs.results = {graph.addValue({op.heads, q[0], k[0]})};
    probsOps.push_back(std::move(probs));
  }
  for (size_t n = 0; n < probsOps.size(); ++n) {
    ValueId v = probsOps[n].results[0];
    // A user argument may already use the name; suffixes keep it unique.
    std::string name = "attention" + std::to_string(n) + "_probs";
    auto taken = [&](const std::string &candidate) {
      for (const KernelArg &a : graph.args)
        if (a.name == candidate)
          return true;
      return false;
    };
    while (taken(name))
      name += "_";
    KernelArg output;
    output.name = name;
    output.role = ArgRole::Output;
    output.value = v;
    output.shape = graph.shapeOf(v);
    output.attentionProbs = true;
    graph.args.push_back(std::move(output));
    graph.ops.push_back(std::move(probsOps[n]));
  }
}

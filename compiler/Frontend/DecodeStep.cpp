//===- DecodeStep.cpp - a model run one token at a time -------------------===//

#include "attnc/Frontend/DecodeStep.h"

using namespace attnc;

namespace {

const char *opName(GraphOp::Kind kind) {
  switch (kind) {
  case GraphOp::Kind::MatMul: return "matmul";
  case GraphOp::Kind::Transpose: return "transpose";
  case GraphOp::Kind::Mask: return "mask";
  case GraphOp::Kind::Softmax: return "softmax";
  case GraphOp::Kind::SplitHeads: return "split_heads";
  case GraphOp::Kind::MergeHeads: return "merge_heads";
  default: return "this operation";
  }
}

} // namespace

/// `model` over `rows` tokens at a time: the graph of the decode step (1
/// row) or of its chunk.
static std::optional<Graph> perTokenGraph(const Graph &model,
                                          DiagnosticReporter &diag,
                                          llvm::SMLoc decodeLoc,
                                          int64_t rows) {
  Graph step;
  step.context = model.context;
  step.valueShapes = model.valueShapes;
  // A value is per token when it is computed from a token input: those have
  // one row per token in the step. Inputs whose first dimension is the
  // context are the tokens; params and other inputs are passed whole.
  std::vector<bool> perToken(model.valueShapes.size(), false);
  for (const KernelArg &arg : model.args)
    if (arg.role == ArgRole::Input && !arg.shape.empty() &&
        arg.shape[0] == model.context) {
      perToken[arg.value] = true;
      step.valueShapes[arg.value][0] = rows;
    }

  bool ok = true;
  auto fail = [&](llvm::SMLoc loc, const llvm::Twine &message) {
    diag.error(loc, "decode: " + message);
    ok = false;
  };
  for (const GraphOp &op : model.ops) {
    bool anyToken = false;
    for (ValueId v : op.operands)
      anyToken |= perToken[v];
    GraphOp out = op;
    switch (op.kind) {
    case GraphOp::Kind::Attention:
      if (op.hasBias) {
        fail(op.loc, "an additive mask tensor is not supported; it is "
                     "indexed by position over the whole context");
        break;
      }
      if (op.mask == MaskKind::None) {
        fail(op.loc, "attention needs mask = causal or window(N): with "
                     "mask = none a token sees the tokens after it, which "
                     "do not exist yet when it is decoded");
        break;
      }
      if (!perToken[op.operands[0]] || !perToken[op.operands[1]] ||
          !perToken[op.operands[2]]) {
        fail(op.loc, "attention's q, k and v must each be computed from the "
                     "tokens; a key or value tensor passed whole is not a "
                     "cache of earlier tokens");
        break;
      }
      out.kind = GraphOp::Kind::DecodeAttention;
      out.layer = static_cast<int64_t>(step.kvCacheWidths.size());
      step.kvCacheWidths.push_back(model.shapeOf(op.operands[1])[1]);
      step.kvCacheHeadDims.push_back(model.shapeOf(op.operands[0])[1] /
                                     op.heads);
      break;
    case GraphOp::Kind::Linear:
      if (perToken[op.operands[1]] ||
          (op.operands.size() == 3 && perToken[op.operands[2]]))
        fail(op.loc, "linear's weight and bias must not depend on the "
                     "tokens");
      break;
    case GraphOp::Kind::Rope:
      out.atStepPosition = anyToken;
      break;
    case GraphOp::Kind::LayerNorm:
    case GraphOp::Kind::RmsNorm:
      for (size_t i = 1; i < op.operands.size(); ++i)
        if (perToken[op.operands[i]])
          fail(op.loc, "a norm's gain and bias must not depend on the tokens");
      break;
    case GraphOp::Kind::Add:
    case GraphOp::Kind::Sub:
    case GraphOp::Kind::Mul: {
      ValueId a = op.operands[0], b = op.operands[1];
      // A token value combined with a whole [context, ...] tensor of the same
      // rank: that tensor is indexed by position.
      if (perToken[a] != perToken[b] &&
          model.shapeOf(a).size() == model.shapeOf(b).size())
        fail(op.loc, "a tensor with one row per position (" +
                         shapeToString(model.shapeOf(perToken[a] ? b : a)) +
                         ") combined with the tokens is not supported");
      break;
    }
    case GraphOp::Kind::MatMul:
    case GraphOp::Kind::Transpose:
    case GraphOp::Kind::Mask:
    case GraphOp::Kind::Softmax:
    case GraphOp::Kind::SplitHeads:
    case GraphOp::Kind::MergeHeads:
      if (anyToken)
        fail(op.loc, llvm::Twine(opName(op.kind)) +
                         " over the tokens is not supported; write the "
                         "attention as attention(q, k, v, ...)");
      break;
    default:
      break;
    }
    for (ValueId r : op.results) {
      perToken[r] = anyToken;
      if (anyToken)
        step.valueShapes[r][0] = rows;
    }
    step.ops.push_back(std::move(out));
  }
  for (const KernelArg &arg : model.args) {
    KernelArg stepArg = arg;
    if (perToken[arg.value]) {
      stepArg.shape = step.valueShapes[arg.value];
      stepArg.perToken = true;
    }
    else if (arg.role == ArgRole::Output)
      fail(decodeLoc, "output '" + arg.name + "' does not depend on the "
                      "tokens, so a decode step has no row of it to return");
    step.args.push_back(std::move(stepArg));
  }
  if (!ok)
    return std::nullopt;
  return step;
}

std::optional<Graph> attnc::buildDecodeStep(const Graph &model,
                                            DiagnosticReporter &diag,
                                            llvm::SMLoc decodeLoc) {
  std::optional<Graph> step = perTokenGraph(model, diag, decodeLoc, 1);
  if (step) {
    step->name = model.name + "_decode";
    step->isDecodeStep = true;
  }
  return step;
}

int64_t attnc::chunkRowsFor(int64_t context) {
  return context < kMaxChunkRows ? context : kMaxChunkRows;
}

Graph attnc::buildChunk(const Graph &model, Graph &step,
                        DiagnosticReporter &diag, llvm::SMLoc decodeLoc) {
  int64_t rows = chunkRowsFor(model.context);
  // The step was built from the same model: nothing left to report.
  std::optional<Graph> chunk = perTokenGraph(model, diag, decodeLoc, rows);
  chunk->name = model.name + "_chunk";
  chunk->isChunk = true;
  chunk->chunkRows = rows;
  step.chunkRows = rows;
  return std::move(*chunk);
}

Graph attnc::buildPrefill(const Graph &model, const Graph &step) {
  Graph prefill = model;
  prefill.name = model.name + "_prefill";
  prefill.isPrefill = true;
  prefill.decodeStep = nullptr;
  prefill.prefill = nullptr;
  auto taken = [&](const std::string &name) {
    for (const KernelArg &a : prefill.args)
      if (a.name == name)
        return true;
    return false;
  };
  auto addCacheOutput = [&](std::string name, ValueId value, int index) {
    while (taken(name))
      name += "_";
    KernelArg out;
    out.name = std::move(name);
    out.role = ArgRole::Output;
    out.value = value;
    out.shape = prefill.shapeOf(value);
    out.cacheIndex = index;
    prefill.args.push_back(std::move(out));
  };
  // Each layer's cache outputs right after its attention: the Halide
  // backend cuts a deep model into pipelines that hand on one value each,
  // which it could not do with every layer's keys alive to the end.
  prefill.ops.clear();
  int layer = 0;
  for (const GraphOp &op : model.ops) {
    prefill.ops.push_back(op);
    if (op.kind != GraphOp::Kind::Attention)
      continue;
    ValueId k = op.operands[1], v = op.operands[2];
    const Shape &kShape = model.shapeOf(k);
    const int64_t headDim = step.kvCacheHeadDims[layer];
    GraphOp keys;
    keys.kind = GraphOp::Kind::Transpose;
    keys.loc = op.loc;
    keys.operands = {k};
    keys.results = {prefill.addValue({kShape[1], kShape[0]})};
    GraphOp values;
    values.kind = GraphOp::Kind::SplitHeads;
    values.loc = op.loc;
    values.operands = {v};
    values.heads = model.shapeOf(v)[1] / headDim;
    values.results = {
        prefill.addValue({values.heads, model.shapeOf(v)[0], headDim})};
    addCacheOutput("key_cache_" + std::to_string(layer), keys.results[0],
                   2 * layer);
    addCacheOutput("value_cache_" + std::to_string(layer), values.results[0],
                   2 * layer + 1);
    prefill.ops.push_back(std::move(keys));
    prefill.ops.push_back(std::move(values));
    ++layer;
  }
  return prefill;
}

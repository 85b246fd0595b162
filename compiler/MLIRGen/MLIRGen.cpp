//===- MLIRGen.cpp - checked model to the attn dialect ----------*- C++ -*-===//

#include "attnc/MLIRGen.h"

#include "attn/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace attnc;

namespace {

const char *roleName(ArgRole role) {
  switch (role) {
  case ArgRole::Input: return "input";
  case ArgRole::Param: return "param";
  case ArgRole::Output: return "output";
  }
  return "input";
}

attn::MaskKind toDialect(MaskKind kind) {
  switch (kind) {
  case MaskKind::None: return attn::MaskKind::none;
  case MaskKind::Causal: return attn::MaskKind::causal;
  case MaskKind::Window: return attn::MaskKind::window;
  }
  return attn::MaskKind::none;
}

class Generator {
public:
  Generator(MLIRContext &context, const Graph &graph,
            const llvm::SourceMgr &sourceMgr)
      : builder(&context), graph(graph), sourceMgr(sourceMgr) {}

  /// The model's function, then NAME_decode and NAME_prefill when it has
  /// them.
  OwningOpRef<ModuleOp> run();

private:
  Location loc(llvm::SMLoc smLoc) {
    if (!smLoc.isValid())
      return builder.getUnknownLoc();
    unsigned buffer = sourceMgr.FindBufferContainingLoc(smLoc);
    auto [line, col] = sourceMgr.getLineAndColumn(smLoc, buffer);
    return FileLineColLoc::get(
        builder.getContext(),
        sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier(), line, col);
  }
  RankedTensorType tensorType(ValueId v) {
    return RankedTensorType::get(current->shapeOf(v), builder.getF32Type());
  }
  DictionaryAttr argAttrs(const KernelArg &arg) {
    SmallVector<NamedAttribute, 3> attrs = {
        builder.getNamedAttr("attn.name", builder.getStringAttr(arg.name)),
        builder.getNamedAttr("attn.role",
                             builder.getStringAttr(roleName(arg.role)))};
    // Values fixed at compile time (attnc --embed-weights) may be laid out
    // as the kernel reads them best (attn-contraction-microkernel).
    if (arg.embedded)
      attrs.push_back(
          builder.getNamedAttr("attn.embedded", builder.getUnitAttr()));
    return builder.getDictionaryAttr(attrs);
  }
  void emit(const GraphOp &op);
  void emitFunction(ModuleOp module, const Graph &g);

  OpBuilder builder;
  const Graph &graph;
  const llvm::SourceMgr &sourceMgr;
  // Of the function being emitted:
  const Graph *current = nullptr;
  std::vector<Value> values;
  SmallVector<Value> keyCaches, valueCaches; ///< per DecodeAttention layer
  Value position; ///< a decode step's token position (a chunk's first's)
  Value count;    ///< how many of a chunk's rows are tokens
};

} // namespace

void Generator::emit(const GraphOp &op) {
  Location l = loc(op.loc);
  auto operand = [&](unsigned i) { return values[op.operands[i]]; };
  Type resultType = op.kind == GraphOp::Kind::Split ? Type()
                                                    : tensorType(op.results[0]);
  Value result;
  auto f32 = [&](double v) { return builder.getF32FloatAttr(static_cast<float>(v)); };
  auto maskWindow = [&]() {
    return op.mask == MaskKind::Window ? builder.getI64IntegerAttr(op.window)
                                       : IntegerAttr();
  };
  switch (op.kind) {
  case GraphOp::Kind::Linear: {
    Value bias = op.operands.size() == 3 ? operand(2) : Value();
    result = builder.create<attn::LinearOp>(l, resultType, operand(0),
                                            operand(1), bias);
    break;
  }
  case GraphOp::Kind::Split: {
    const Shape &in = current->shapeOf(op.operands[0]);
    int64_t width = in[1] / op.results.size();
    for (size_t p = 0; p < op.results.size(); ++p) {
      values[op.results[p]] = builder.create<tensor::ExtractSliceOp>(
          l, tensorType(op.results[p]), operand(0), ValueRange{}, ValueRange{},
          ValueRange{}, builder.getDenseI64ArrayAttr({0, int64_t(p) * width}),
          builder.getDenseI64ArrayAttr({in[0], width}),
          builder.getDenseI64ArrayAttr({1, 1}));
    }
    return;
  }
  case GraphOp::Kind::Attention: {
    unsigned next = 3;
    Value bias = op.hasBias ? operand(next++) : Value();
    Value alibi = op.hasAlibi ? operand(next++) : Value();
    result = builder.create<attn::SdpaOp>(
        l, resultType, operand(0), operand(1), operand(2), bias, alibi,
        builder.getI64IntegerAttr(op.heads),
        builder.getI64IntegerAttr(op.kvHeads),
        attn::MaskKindAttr::get(builder.getContext(), toDialect(op.mask)),
        maskWindow(), f32(op.scale));
    break;
  }
  case GraphOp::Kind::AttentionProbs: {
    unsigned next = 2;
    Value bias = op.hasBias ? operand(next++) : Value();
    Value alibi = op.hasAlibi ? operand(next++) : Value();
    result = builder.create<attn::AttentionProbsOp>(
        l, resultType, operand(0), operand(1), bias, alibi,
        builder.getI64IntegerAttr(op.heads),
        builder.getI64IntegerAttr(op.kvHeads),
        attn::MaskKindAttr::get(builder.getContext(), toDialect(op.mask)),
        maskWindow(), f32(op.scale));
    break;
  }
  case GraphOp::Kind::DecodeAttention: {
    Value alibi = op.hasAlibi ? operand(3) : Value();
    result = builder.create<attn::DecodeAttentionOp>(
        l, resultType, operand(0), operand(1), operand(2),
        keyCaches[op.layer], valueCaches[op.layer], position, count, alibi,
        builder.getI64IntegerAttr(op.heads),
        builder.getI64IntegerAttr(op.kvHeads),
        attn::MaskKindAttr::get(builder.getContext(), toDialect(op.mask)),
        maskWindow(), f32(op.scale));
    break;
  }
  case GraphOp::Kind::MatMul:
    result = builder.create<attn::MatmulOp>(l, resultType, operand(0), operand(1));
    break;
  case GraphOp::Kind::Transpose:
    result = builder.create<attn::TransposeOp>(l, resultType, operand(0));
    break;
  case GraphOp::Kind::Scale:
    result = builder.create<attn::ScaleOp>(l, operand(0), f32(op.scale));
    break;
  case GraphOp::Kind::Mask:
    result = builder.create<attn::MaskOp>(
        l, operand(0),
        attn::MaskKindAttr::get(builder.getContext(), toDialect(op.mask)),
        maskWindow());
    break;
  case GraphOp::Kind::Softmax:
    result = builder.create<attn::SoftmaxOp>(l, operand(0),
                                             builder.getI64IntegerAttr(op.axis));
    break;
  case GraphOp::Kind::SplitHeads:
    result = builder.create<attn::SplitHeadsOp>(
        l, resultType, operand(0), builder.getI64IntegerAttr(op.heads));
    break;
  case GraphOp::Kind::MergeHeads:
    result = builder.create<attn::MergeHeadsOp>(l, resultType, operand(0));
    break;
  case GraphOp::Kind::Rope:
    result = builder.create<attn::RopeOp>(
        l, operand(0), op.atStepPosition ? position : Value(),
        builder.getI64IntegerAttr(op.headDim), f32(op.base),
        attn::RopeStyleAttr::get(builder.getContext(),
                                 op.ropeStyle == RopeStyle::Half
                                     ? attn::RopeStyle::half
                                     : attn::RopeStyle::interleaved));
    break;
  case GraphOp::Kind::LayerNorm:
    result = builder.create<attn::LayerNormOp>(l, resultType, operand(0),
                                               operand(1), operand(2), f32(op.eps));
    break;
  case GraphOp::Kind::RmsNorm:
    result = builder.create<attn::RmsNormOp>(l, resultType, operand(0),
                                             operand(1), f32(op.eps));
    break;
  case GraphOp::Kind::Add:
    result = builder.create<attn::AddOp>(l, resultType, operand(0), operand(1));
    break;
  case GraphOp::Kind::Sub:
    result = builder.create<attn::SubOp>(l, resultType, operand(0), operand(1));
    break;
  case GraphOp::Kind::Mul:
    result = builder.create<attn::MulOp>(l, resultType, operand(0), operand(1));
    break;
  case GraphOp::Kind::Gelu:
    result = builder.create<attn::GeluOp>(
        l, operand(0),
        attn::GeluApproximationAttr::get(builder.getContext(),
                                         op.geluTanh
                                             ? attn::GeluApproximation::tanh
                                             : attn::GeluApproximation::none));
    break;
  case GraphOp::Kind::Silu:
    result = builder.create<attn::SiluOp>(l, operand(0));
    break;
  case GraphOp::Kind::Relu:
    result = builder.create<attn::ReluOp>(l, operand(0));
    break;
  }
  values[op.results[0]] = result;
}

void Generator::emitFunction(ModuleOp module, const Graph &g) {
  current = &g;
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<DictionaryAttr> argAttrList, resultAttrList;
  for (const KernelArg &arg : g.args) {
    bool isOutput = arg.role == ArgRole::Output;
    (isOutput ? resultTypes : argTypes).push_back(tensorType(arg.value));
    (isOutput ? resultAttrList : argAttrList).push_back(argAttrs(arg));
  }
  // A decode step also takes its KV caches, as memrefs it updates in place
  // (key and value of layer 0, then of layer 1, ...), and the token's
  // position.
  auto named = [&](const std::string &name, const char *role) {
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("attn.name", builder.getStringAttr(name)),
         builder.getNamedAttr("attn.role", builder.getStringAttr(role))});
  };
  for (auto [layer, width] : llvm::enumerate(g.kvCacheWidths)) {
    // Keys as columns, values as rows per key/value head
    // (attn.decode_attention says why).
    int64_t headDim = g.kvCacheHeadDims[layer];
    for (const char *kind : {"key", "value"}) {
      argTypes.push_back(MemRefType::get(
          *kind == 'k'
              ? SmallVector<int64_t>{width, g.context}
              : SmallVector<int64_t>{width / headDim, g.context, headDim},
          builder.getF32Type()));
      argAttrList.push_back(named(std::string(kind) + "_cache_" +
                                      std::to_string(layer),
                                  "cache"));
    }
  }
  if (g.isDecodeStep || g.isChunk) {
    argTypes.push_back(builder.getI64Type());
    argAttrList.push_back(named("position", "position"));
  }
  if (g.isChunk) {
    argTypes.push_back(builder.getI64Type());
    argAttrList.push_back(named("count", "count"));
  }
  builder.setInsertionPointToEnd(module.getBody());
  auto func = builder.create<func::FuncOp>(
      module->getLoc(), g.name, builder.getFunctionType(argTypes, resultTypes));
  func->setAttr("attn.model", builder.getUnitAttr());
  func->setAttr("attn.context", builder.getI64IntegerAttr(g.context));
  if (g.isDecodeStep)
    func->setAttr("attn.decode_step", builder.getUnitAttr());
  func.setAllArgAttrs(argAttrList);
  func.setAllResultAttrs(resultAttrList);

  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  values.assign(g.valueShapes.size(), Value());
  unsigned next = 0;
  for (const KernelArg &arg : g.args)
    if (arg.role != ArgRole::Output)
      values[arg.value] = entry->getArgument(next++);
  keyCaches.clear();
  valueCaches.clear();
  for (size_t layer = 0; layer < g.kvCacheWidths.size(); ++layer) {
    keyCaches.push_back(entry->getArgument(next++));
    valueCaches.push_back(entry->getArgument(next++));
  }
  position = g.isDecodeStep || g.isChunk ? entry->getArgument(next++) : Value();
  count = g.isChunk ? entry->getArgument(next++) : Value();
  for (const GraphOp &op : g.ops)
    emit(op);
  SmallVector<Value> results;
  for (const KernelArg &arg : g.args)
    if (arg.role == ArgRole::Output)
      results.push_back(values[arg.value]);
  builder.create<func::ReturnOp>(module->getLoc(), results);
}

OwningOpRef<ModuleOp> Generator::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(llvm::SMLoc()));
  emitFunction(*module, graph);
  if (graph.decodeStep)
    emitFunction(*module, *graph.decodeStep);
  if (graph.prefill)
    emitFunction(*module, *graph.prefill);
  if (graph.chunk)
    emitFunction(*module, *graph.chunk);
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> attnc::generateAttnModule(MLIRContext &context,
                                                const Graph &graph,
                                                const llvm::SourceMgr &sourceMgr) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect,
                      memref::MemRefDialect, tensor::TensorDialect>();
  return Generator(context, graph, sourceMgr).run();
}

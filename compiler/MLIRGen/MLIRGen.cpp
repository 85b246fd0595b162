//===- MLIRGen.cpp - checked model to the attn dialect ----------*- C++ -*-===//

#include "attnc/MLIRGen.h"

#include "attn/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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
    return RankedTensorType::get(graph.shapeOf(v), builder.getF32Type());
  }
  DictionaryAttr argAttrs(const KernelArg &arg) {
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("attn.name", builder.getStringAttr(arg.name)),
         builder.getNamedAttr("attn.role",
                              builder.getStringAttr(roleName(arg.role)))});
  }
  void emit(const GraphOp &op);

  OpBuilder builder;
  const Graph &graph;
  const llvm::SourceMgr &sourceMgr;
  std::vector<Value> values;
};

} // namespace

void Generator::emit(const GraphOp &op) {
  Location l = loc(op.loc);
  auto operand = [&](unsigned i) { return values[op.operands[i]]; };
  switch (op.kind) {
  case GraphOp::Kind::Linear: {
    Value bias = op.operands.size() == 3 ? operand(2) : Value();
    values[op.results[0]] = builder.create<attn::LinearOp>(
        l, tensorType(op.results[0]), operand(0), operand(1), bias);
    return;
  }
  case GraphOp::Kind::Split: {
    const Shape &in = graph.shapeOf(op.operands[0]);
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
    IntegerAttr window =
        op.mask == MaskKind::Window ? builder.getI64IntegerAttr(op.window)
                                    : IntegerAttr();
    values[op.results[0]] = builder.create<attn::SdpaOp>(
        l, tensorType(op.results[0]), operand(0), operand(1), operand(2),
        builder.getI64IntegerAttr(op.heads),
        builder.getI64IntegerAttr(op.kvHeads),
        attn::MaskKindAttr::get(builder.getContext(), toDialect(op.mask)),
        window, builder.getF32FloatAttr(static_cast<float>(op.scale)));
    return;
  }
  }
}

OwningOpRef<ModuleOp> Generator::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(llvm::SMLoc()));
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<DictionaryAttr> argAttrList, resultAttrList;
  for (const KernelArg &arg : graph.args) {
    bool isOutput = arg.role == ArgRole::Output;
    (isOutput ? resultTypes : argTypes).push_back(tensorType(arg.value));
    (isOutput ? resultAttrList : argAttrList).push_back(argAttrs(arg));
  }
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      module->getLoc(), graph.name, builder.getFunctionType(argTypes, resultTypes));
  func->setAttr("attn.model", builder.getUnitAttr());
  func->setAttr("attn.context", builder.getI64IntegerAttr(graph.context));
  func.setAllArgAttrs(argAttrList);
  func.setAllResultAttrs(resultAttrList);

  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  values.assign(graph.valueShapes.size(), Value());
  unsigned next = 0;
  for (const KernelArg &arg : graph.args)
    if (arg.role != ArgRole::Output)
      values[arg.value] = entry->getArgument(next++);
  for (const GraphOp &op : graph.ops)
    emit(op);
  SmallVector<Value> results;
  for (const KernelArg &arg : graph.args)
    if (arg.role == ArgRole::Output)
      results.push_back(values[arg.value]);
  builder.create<func::ReturnOp>(module->getLoc(), results);

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> attnc::generateAttnModule(MLIRContext &context,
                                                const Graph &graph,
                                                const llvm::SourceMgr &sourceMgr) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect,
                      tensor::TensorDialect>();
  return Generator(context, graph, sourceMgr).run();
}

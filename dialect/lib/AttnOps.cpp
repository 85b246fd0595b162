//===- AttnOps.cpp - verifiers of the attn operations -----------*- C++ -*-===//

#include "attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/AttnEnums.cpp.inc"

#define GET_OP_CLASSES
#include "attn/AttnOps.cpp.inc"

/// Prints a static shape the way the .attn language writes it: [128, 256].
static std::string shapeString(ShapedType type) {
  std::string s = "[";
  llvm::interleave(
      type.getShape(), [&](int64_t d) { s += std::to_string(d); },
      [&] { s += ", "; });
  return s + "]";
}

static LogicalResult requireStatic(Operation *op, Value v, StringRef name) {
  if (cast<ShapedType>(v.getType()).hasStaticShape())
    return success();
  return op->emitOpError() << name << " must have a static shape";
}

LogicalResult LinearOp::verify() {
  for (auto [v, name] : {std::pair<Value, StringRef>{getInput(), "input"},
                         {getWeight(), "weight"},
                         {getResult(), "result"}})
    if (failed(requireStatic(*this, v, name)))
      return failure();
  auto x = getInput().getType(), w = getWeight().getType();
  auto y = getResult().getType();
  if (x.getDimSize(1) != w.getDimSize(0))
    return emitOpError() << "weight has shape " << shapeString(w)
                         << " but input has shape " << shapeString(x)
                         << "; expected " << x.getDimSize(1)
                         << " weight rows, one per input feature";
  if (Value b = getBias()) {
    auto bt = cast<RankedTensorType>(b.getType());
    if (failed(requireStatic(*this, b, "bias")))
      return failure();
    if (bt.getDimSize(0) != w.getDimSize(1))
      return emitOpError() << "bias has shape " << shapeString(bt)
                           << " but weight has shape " << shapeString(w)
                           << "; expected [" << w.getDimSize(1) << "]";
  }
  if (y.getDimSize(0) != x.getDimSize(0) || y.getDimSize(1) != w.getDimSize(1))
    return emitOpError() << "result has shape " << shapeString(y)
                         << "; expected [" << x.getDimSize(0) << ", "
                         << w.getDimSize(1) << "]";
  return success();
}

LogicalResult SdpaOp::verify() {
  for (auto [v, name] : {std::pair<Value, StringRef>{getQuery(), "query"},
                         {getKey(), "key"},
                         {getValue(), "value"},
                         {getResult(), "result"}})
    if (failed(requireStatic(*this, v, name)))
      return failure();
  auto q = getQuery().getType(), k = getKey().getType();
  auto v = getValue().getType(), r = getResult().getType();
  int64_t heads = getHeads(), kvHeads = getKvHeads();
  if (q.getDimSize(1) % heads != 0)
    return emitOpError() << "heads = " << heads
                         << " does not divide the query width "
                         << q.getDimSize(1) << " (query shape "
                         << shapeString(q) << ")";
  if (heads % kvHeads != 0)
    return emitOpError() << "kv_heads = " << kvHeads
                         << " does not divide heads = " << heads;
  int64_t headDim = q.getDimSize(1) / heads;
  if (k.getDimSize(1) != kvHeads * headDim)
    return emitOpError() << "key has shape " << shapeString(k)
                         << "; expected " << kvHeads * headDim
                         << " columns (kv_heads = " << kvHeads
                         << " times head_dim = " << headDim << ")";
  if (v.getShape() != k.getShape())
    return emitOpError() << "value has shape " << shapeString(v)
                         << " but key has shape " << shapeString(k)
                         << "; expected them equal";
  if (r.getShape() != q.getShape())
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected the query shape " << shapeString(q);
  bool isWindow = getMask() == MaskKind::window;
  if (isWindow != getWindow().has_value())
    return emitOpError() << (isWindow ? "mask = window needs a window size"
                                      : "window size given without mask = window");
  if (getScale().isNaN() || getScale().isInfinity())
    return emitOpError() << "scale must be finite";
  return success();
}

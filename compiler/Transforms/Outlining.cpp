//===- Outlining.cpp - moving a loop into a function of its own -----------===//

#include "attnc/Transforms/Outlining.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace {

bool isIdentityStatic(MemRefType type) {
  return type.hasStaticShape() && type.getLayout().isIdentity();
}

/// A strided view with static strides: only its offset and sizes (a decode
/// step's visible slots, DynamicExtents.h) vary.
bool isRebuildable(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return false;
  return llvm::none_of(strides, ShapedType::isDynamic);
}

} // namespace

FailureOr<attnc::LoopCaptures>
attnc::collectCaptures(Operation *op, Region &region, StringRef pass,
                       ValueRange alsoUsed) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(region, used);
  used.insert(alsoUsed.begin(), alsoUsed.end());
  LoopCaptures c;
  for (Value v : used) {
    if (matchPattern(v, m_Constant())) {
      c.constants.push_back(v);
      continue;
    }
    auto memref = dyn_cast<MemRefType>(v.getType());
    if (!memref) {
      if (!v.getType().isIntOrIndexOrFloat() && !isa<VectorType>(v.getType()))
        return op->emitError(pass)
               << ": cannot pass a " << v.getType() << " to a function";
      c.captures.push_back({v, false});
    } else if (isIdentityStatic(memref)) {
      c.captures.push_back({v, false});
    } else if (isRebuildable(memref)) {
      c.captures.push_back({v, true});
    } else {
      return op->emitError(pass)
             << ": cannot pass " << memref << " to a function";
    }
  }
  MLIRContext *ctx = op->getContext();
  for (const LoopCaptures::Capture &capture : c.captures) {
    if (!capture.viaBase) {
      c.types.push_back(capture.value.getType());
      continue;
    }
    auto type = cast<MemRefType>(capture.value.getType());
    c.types.push_back(MemRefType::get({}, type.getElementType(),
                                      MemRefLayoutAttrInterface(),
                                      type.getMemorySpace()));
    c.types.push_back(IndexType::get(ctx));
    for (int64_t size : type.getShape())
      if (ShapedType::isDynamic(size))
        c.types.push_back(IndexType::get(ctx));
  }
  return c;
}

unsigned attnc::mapCaptures(OpBuilder &b, Block *entry, const LoopCaptures &c,
                            IRMapping &mapping) {
  for (Value constant : c.constants)
    mapping.map(constant, b.clone(*constant.getDefiningOp())->getResult(0));
  unsigned arg = 0;
  for (const LoopCaptures::Capture &capture : c.captures) {
    if (!capture.viaBase) {
      mapping.map(capture.value, entry->getArgument(arg++));
      continue;
    }
    auto type = cast<MemRefType>(capture.value.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    (void)getStridesAndOffset(type, strides, offset);
    Value base = entry->getArgument(arg++);
    Value dynOffset = entry->getArgument(arg++);
    SmallVector<OpFoldResult> sizes, strideFolds;
    for (int64_t s : type.getShape())
      sizes.push_back(ShapedType::isDynamic(s)
                          ? OpFoldResult(entry->getArgument(arg++))
                          : OpFoldResult(b.getIndexAttr(s)));
    for (int64_t s : strides)
      strideFolds.push_back(b.getIndexAttr(s));
    Value view = b.create<memref::ReinterpretCastOp>(
        capture.value.getLoc(), type, base, OpFoldResult(dynOffset), sizes,
        strideFolds);
    mapping.map(capture.value, view);
  }
  return arg;
}

SmallVector<Value> attnc::captureArguments(OpBuilder &b, Location loc,
                                           const LoopCaptures &c) {
  SmallVector<Value> args;
  for (const LoopCaptures::Capture &capture : c.captures) {
    if (!capture.viaBase) {
      args.push_back(capture.value);
      continue;
    }
    auto metadata = b.create<memref::ExtractStridedMetadataOp>(loc, capture.value);
    args.push_back(metadata.getBaseBuffer());
    args.push_back(metadata.getOffset());
    auto type = cast<MemRefType>(capture.value.getType());
    for (auto [size, value] : llvm::zip(type.getShape(), metadata.getSizes()))
      if (ShapedType::isDynamic(size))
        args.push_back(value);
  }
  return args;
}

std::string attnc::freeSymbolName(SymbolTable &symbols, StringRef base,
                                  ArrayRef<StringRef> prefixes) {
  auto taken = [&](const std::string &name) {
    if (symbols.lookup(name))
      return true;
    return llvm::any_of(prefixes, [&](StringRef prefix) {
      return symbols.lookup((prefix + name).str()) != nullptr;
    });
  };
  std::string name = base.str();
  for (unsigned suffix = 1; taken(name); ++suffix)
    name = (base + "_" + Twine(suffix)).str();
  return name;
}

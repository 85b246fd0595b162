//===- AttnOps.cpp - verifiers of the attn operations -----------*- C++ -*-===//

#include "attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

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

LogicalResult LinearOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType();
  auto y = getResult().getType();
  if (x.getDimSize(1) != w.getDimSize(0))
    return emitOpError() << "weight has shape " << shapeString(w)
                         << " but input has shape " << shapeString(x)
                         << "; expected " << x.getDimSize(1)
                         << " weight rows, one per input feature";
  if (Value b = getBias()) {
    auto bt = cast<RankedTensorType>(b.getType());
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

/// What attn.sdpa and attn.attention_probs check alike: head counts, the key
/// width, the mask attributes, the scale and the optional bias and alibi.
template <typename AttentionOp>
static LogicalResult verifyAttentionOperands(AttentionOp op) {
  auto q = op.getQuery().getType(), k = op.getKey().getType();
  int64_t heads = op.getHeads(), kvHeads = op.getKvHeads();
  // A head has at least one feature: zero divides by any head count, and
  // the lowering's [.., heads, ..] tensors would then have any size.
  if (q.getDimSize(1) % heads != 0 || q.getDimSize(1) < heads)
    return op.emitOpError() << "heads = " << heads
                            << " does not divide the query width "
                            << q.getDimSize(1) << " (query shape "
                            << shapeString(q) << ")";
  if (heads % kvHeads != 0)
    return op.emitOpError() << "kv_heads = " << kvHeads
                            << " does not divide heads = " << heads;
  int64_t headDim = q.getDimSize(1) / heads;
  if (k.getDimSize(1) != kvHeads * headDim)
    return op.emitOpError() << "key has shape " << shapeString(k)
                            << "; expected " << kvHeads * headDim
                            << " columns (kv_heads = " << kvHeads
                            << " times head_dim = " << headDim << ")";
  bool isWindow = op.getMask() == MaskKind::window;
  if (isWindow != op.getWindow().has_value())
    return op.emitOpError() << (isWindow
                                    ? "mask = window needs a window size"
                                    : "window size given without mask = window");
  if (op.getScale().isNaN() || op.getScale().isInfinity())
    return op.emitOpError() << "scale must be finite";
  if (Value bias = op.getBias()) {
    auto b = cast<RankedTensorType>(bias.getType());
    if (b.getDimSize(0) != q.getDimSize(0) || b.getDimSize(1) != k.getDimSize(0))
      return op.emitOpError() << "bias has shape " << shapeString(b)
                              << "; expected [" << q.getDimSize(0) << ", "
                              << k.getDimSize(0) << "] (queries x keys)";
  }
  if (Value alibi = op.getAlibi()) {
    auto a = cast<RankedTensorType>(alibi.getType());
    if (a.getDimSize(0) != heads)
      return op.emitOpError() << "alibi has shape " << shapeString(a)
                              << "; expected one slope per head, [" << heads
                              << "]";
  }
  return success();
}

LogicalResult SdpaOp::verify() {
  if (failed(verifyAttentionOperands(*this)))
    return failure();
  auto q = getQuery().getType(), k = getKey().getType();
  auto v = getValue().getType(), r = getResult().getType();
  if (v.getShape() != k.getShape())
    return emitOpError() << "value has shape " << shapeString(v)
                         << " but key has shape " << shapeString(k)
                         << "; expected them equal";
  if (r.getShape() != q.getShape())
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected the query shape " << shapeString(q);
  return success();
}

LogicalResult AttentionProbsOp::verify() {
  if (failed(verifyAttentionOperands(*this)))
    return failure();
  auto q = getQuery().getType(), k = getKey().getType();
  auto r = getResult().getType();
  SmallVector<int64_t> expected = {static_cast<int64_t>(getHeads()),
                                   q.getDimSize(0), k.getDimSize(0)};
  if (r.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape " << shapeString(r) << "; expected ["
                         << expected[0] << ", " << expected[1] << ", "
                         << expected[2] << "] (heads x queries x keys)";
  return success();
}

LogicalResult DecodeAttentionOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType();
  auto v = getValue().getType(), r = getResult().getType();
  auto kc = getKeyCache().getType(), vc = getValueCache().getType();
  int64_t heads = getHeads(), kvHeads = getKvHeads();
  int64_t rows = q.getDimSize(0);
  if (k.getDimSize(0) != rows || v.getDimSize(0) != rows)
    return emitOpError() << "query, key and value must have a row per token, "
                            "as many each; got "
                         << shapeString(q) << ", " << shapeString(k) << ", "
                         << shapeString(v);
  if (q.getDimSize(1) % heads != 0 || q.getDimSize(1) < heads)
    return emitOpError() << "heads = " << heads
                         << " does not divide the query width "
                         << q.getDimSize(1);
  if (heads % kvHeads != 0)
    return emitOpError() << "kv_heads = " << kvHeads
                         << " does not divide heads = " << heads;
  int64_t headDim = q.getDimSize(1) / heads, width = kvHeads * headDim;
  if (k.getDimSize(1) != width || v.getShape() != k.getShape())
    return emitOpError() << "key and value must be [" << rows << ", " << width
                         << "] (kv_heads times head_dim); got "
                         << shapeString(k) << " and " << shapeString(v);
  if (!kc.hasStaticShape() || !vc.hasStaticShape() ||
      kc.getDimSize(0) != width || vc.getDimSize(0) != kvHeads ||
      vc.getDimSize(2) != headDim || kc.getDimSize(1) != vc.getDimSize(1) ||
      vc.getDimSize(1) < 1)
    return emitOpError() << "the key cache must be [" << width
                         << ", context] (a column per token) and the value "
                            "cache ["
                         << kvHeads << ", context, " << headDim
                         << "] (kv_heads, context, head_dim), context >= 1; "
                            "got "
                         << shapeString(kc) << " and " << shapeString(vc);
  // The lowering views the caches' rows and columns as row-major.
  if (!kc.getLayout().isIdentity() || !vc.getLayout().isIdentity())
    return emitOpError() << "the caches must be dense row-major buffers "
                            "(identity layout); got "
                         << kc << " and " << vc;
  if (r.getShape() != q.getShape())
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected the query shape " << shapeString(q);
  if (getMask() == MaskKind::none)
    return emitOpError() << "needs mask = causal or window: a decoded token "
                            "has no later tokens to see";
  bool isWindow = getMask() == MaskKind::window;
  if (isWindow != getWindow().has_value())
    return emitOpError() << (isWindow ? "mask = window needs a window size"
                                      : "window size given without mask = window");
  if (isWindow && *getWindow() > static_cast<uint64_t>(vc.getDimSize(1)))
    return emitOpError() << "window = " << *getWindow() << " is longer than "
                         << "the cache's " << vc.getDimSize(1) << " tokens";
  if (getScale().isNaN() || getScale().isInfinity())
    return emitOpError() << "scale must be finite";
  if (Value alibi = getAlibi())
    if (cast<RankedTensorType>(alibi.getType()).getDimSize(0) != heads)
      return emitOpError() << "alibi must have one slope per head, [" << heads
                           << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// Attention written out by hand
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto a = getLhs().getType(), b = getRhs().getType();
  auto r = getResult().getType();
  if (a.getRank() != b.getRank())
    return emitOpError() << "operands have shapes " << shapeString(a) << " and "
                         << shapeString(b) << "; expected equal ranks";
  if (r.getRank() != a.getRank())
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected rank " << a.getRank();
  int64_t rank = a.getRank();
  if (rank == 3 && a.getDimSize(0) != b.getDimSize(0))
    return emitOpError() << "batch sizes differ: " << shapeString(a) << " and "
                         << shapeString(b);
  if (a.getDimSize(rank - 1) != b.getDimSize(rank - 2))
    return emitOpError() << "inner dimensions differ: " << shapeString(a)
                         << " times " << shapeString(b);
  SmallVector<int64_t> want(a.getShape());
  want.back() = b.getDimSize(rank - 1);
  if (r.getShape() != ArrayRef<int64_t>(want))
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected " << shapeString(RankedTensorType::get(want, r.getElementType()));
  return success();
}

LogicalResult TransposeOp::verify() {
  auto a = getInput().getType(), r = getResult().getType();
  SmallVector<int64_t> want(a.getShape());
  if (want.size() >= 2)
    std::swap(want[want.size() - 1], want[want.size() - 2]);
  if (r.getShape() != ArrayRef<int64_t>(want))
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected " << shapeString(RankedTensorType::get(want, r.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  // transpose(transpose(x)) == x
  if (auto inner = getInput().getDefiningOp<TransposeOp>())
    return inner.getInput();
  return {};
}

LogicalResult ScaleOp::verify() {
  if (getFactor().isNaN() || getFactor().isInfinity())
    return emitOpError() << "factor must be finite";
  return success();
}

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (getFactor().isExactlyValue(1.0))
    return getInput();
  return {};
}

namespace {
/// scale(scale(x, a), b) -> scale(x, a * b)
struct MergeConsecutiveScales : OpRewritePattern<ScaleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScaleOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ScaleOp>();
    if (!inner)
      return failure();
    float a = inner.getFactor().convertToFloat(),
          b = op.getFactor().convertToFloat();
    float factor = a * b;
    // Two finite factors can multiply past f32's range (1e30 * 1e30 is
    // inf, which no attn.scale may hold) or below it (1e-30 * 1e-30 is 0,
    // where x * 1e-30 * 1e-30 of a large x is not): then both stay.
    if (a != 0 && b != 0 && !std::isnormal(factor))
      return failure();
    rewriter.replaceOpWithNewOp<ScaleOp>(op, inner.getInput(),
                                         rewriter.getF32FloatAttr(factor));
    return success();
  }
};
} // namespace

void ScaleOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<MergeConsecutiveScales>(context);
}

LogicalResult MaskOp::verify() {
  auto t = getInput().getType();
  if (t.getRank() < 2)
    return emitOpError() << "input has shape " << shapeString(t)
                         << "; expected at least [queries, keys]";
  bool isWindow = getKind() == MaskKind::window;
  if (isWindow != getWindow().has_value())
    return emitOpError() << (isWindow ? "mask window needs a window size"
                                      : "window size given without window");
  return success();
}

OpFoldResult MaskOp::fold(FoldAdaptor) {
  if (getKind() == MaskKind::none)
    return getInput();
  return {};
}

LogicalResult SoftmaxOp::verify() {
  if (getAxis() >= static_cast<uint64_t>(getInput().getType().getRank()))
    return emitOpError() << "axis " << getAxis() << " is out of range for shape "
                         << shapeString(getInput().getType());
  return success();
}

LogicalResult SplitHeadsOp::verify() {
  auto a = getInput().getType(), r = getResult().getType();
  int64_t heads = getHeads();
  if (a.getDimSize(1) % heads != 0)
    return emitOpError() << "heads = " << heads << " does not divide the width "
                         << a.getDimSize(1) << " of " << shapeString(a);
  int64_t want[] = {heads, a.getDimSize(0), a.getDimSize(1) / heads};
  if (r.getShape() != ArrayRef<int64_t>(want))
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected [" << want[0] << ", " << want[1]
                         << ", " << want[2] << "]";
  return success();
}

LogicalResult MergeHeadsOp::verify() {
  auto a = getInput().getType(), r = getResult().getType();
  int64_t want[] = {a.getDimSize(1), a.getDimSize(0) * a.getDimSize(2)};
  if (r.getShape() != ArrayRef<int64_t>(want))
    return emitOpError() << "result has shape " << shapeString(r)
                         << "; expected [" << want[0] << ", " << want[1] << "]";
  return success();
}

OpFoldResult MergeHeadsOp::fold(FoldAdaptor) {
  // merge_heads(split_heads(x)) == x
  if (auto split = getInput().getDefiningOp<SplitHeadsOp>())
    if (split.getInput().getType() == getResult().getType())
      return split.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Around attention
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  auto t = getInput().getType();
  int64_t width = t.getDimSize(t.getRank() - 1), headDim = getHeadDim();
  if (width % headDim != 0)
    return emitOpError() << "head_dim = " << headDim
                         << " does not divide the width " << width << " of "
                         << shapeString(t);
  if (t.getRank() == 3 && width != headDim)
    return emitOpError() << "a [heads, tokens, head_dim] input " << shapeString(t)
                         << " needs head_dim = " << width;
  if (headDim % 2 != 0)
    return emitOpError() << "head_dim = " << headDim
                         << " is odd; rotary embedding rotates pairs";
  if (!(getBase().convertToFloat() > 1.0f) || getBase().isInfinity())
    return emitOpError() << "base must be finite and greater than 1";
  return success();
}

static LogicalResult verifyNormParam(Operation *op, Value param, StringRef name,
                                     RankedTensorType input) {
  auto p = cast<RankedTensorType>(param.getType());
  if (p.getDimSize(0) != input.getDimSize(1))
    return op->emitOpError() << name << " has shape " << shapeString(p)
                             << "; expected [" << input.getDimSize(1)
                             << "] to match the input " << shapeString(input);
  return success();
}

static LogicalResult verifyEps(Operation *op, APFloat eps) {
  if (!(eps.convertToFloat() > 0.0f) || eps.isInfinity())
    return op->emitOpError() << "eps must be a positive finite number";
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError() << "result type must equal the input type";
  if (failed(verifyNormParam(*this, getGamma(), "gamma", getInput().getType())) ||
      failed(verifyNormParam(*this, getBeta(), "beta", getInput().getType())))
    return failure();
  return verifyEps(*this, getEps());
}

LogicalResult RmsNormOp::verify() {
  if (getResult().getType() != getInput().getType())
    return emitOpError() << "result type must equal the input type";
  if (failed(verifyNormParam(*this, getGamma(), "gamma", getInput().getType())))
    return failure();
  return verifyEps(*this, getEps());
}

/// The shape of `lhs op rhs`: equal shapes, or one a suffix of the other.
static LogicalResult verifyBroadcast(Operation *op) {
  auto a = cast<RankedTensorType>(op->getOperand(0).getType());
  auto b = cast<RankedTensorType>(op->getOperand(1).getType());
  auto r = cast<RankedTensorType>(op->getResult(0).getType());
  ArrayRef<int64_t> big = a.getRank() >= b.getRank() ? a.getShape() : b.getShape();
  ArrayRef<int64_t> small = a.getRank() >= b.getRank() ? b.getShape() : a.getShape();
  if (big.take_back(small.size()) != small)
    return op->emitOpError() << "operands have shapes " << shapeString(a)
                             << " and " << shapeString(b)
                             << "; expected equal shapes or one a suffix of "
                                "the other";
  if (r.getShape() != big)
    return op->emitOpError() << "result has shape " << shapeString(r)
                             << "; expected the larger operand's shape";
  return success();
}

LogicalResult AddOp::verify() { return verifyBroadcast(*this); }
LogicalResult SubOp::verify() { return verifyBroadcast(*this); }
LogicalResult MulOp::verify() { return verifyBroadcast(*this); }

//===- HeadsToLinalg.cpp - matmul, transpose and head layout to linalg ----===//
//
// The layout ops of attention written out by hand: attn.matmul,
// attn.transpose, attn.split_heads and attn.merge_heads. Each becomes a
// named linalg op (matmul, batch_matmul, transpose) plus reshapes.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace attnc::lowering;

namespace {

/// attn.matmul: c[m, n] = sum_k a[m, k] * b[k, n] as linalg.matmul, or
/// c[b, m, n] = sum_k a[b, m, k] * b[b, k, n] as linalg.batch_matmul, both
/// accumulating into zeros.
struct MatmulToLinalg : OpConversionPattern<attn::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    auto type = op.getResult().getType();
    Value acc = filled(rewriter, op.getLoc(), type.getShape(), 0.0f);
    ValueRange ins = {adaptor.getLhs(), adaptor.getRhs()};
    if (type.getRank() == 2)
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(op, ins, ValueRange{acc});
    else
      rewriter.replaceOpWithNewOp<linalg::BatchMatmulOp>(op, ins,
                                                         ValueRange{acc});
    return success();
  }
};

/// attn.transpose: y[..., n, m] = x[..., m, n] as linalg.transpose with the
/// permutation that swaps the last two dimensions.
struct TransposeToLinalg : OpConversionPattern<attn::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    auto type = op.getResult().getType();
    SmallVector<int64_t> perm =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    Value init = emptyF32(rewriter, op.getLoc(), type.getShape());
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(
                                   op.getLoc(), adaptor.getInput(), init, perm)
                               .getResult());
    return success();
  }
};

/// attn.split_heads: y[h, s, d] = x[s, h * D + d]. The columns are expanded
/// to [S, H, D] (no copy), then linalg.transpose moves the head dimension
/// first (permutation [1, 0, 2]).
struct SplitHeadsToLinalg : OpConversionPattern<attn::SplitHeadsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::SplitHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto type = op.getResult().getType(); // [H, S, D]
    int64_t H = type.getDimSize(0), S = type.getDimSize(1),
            D = type.getDimSize(2);
    Value expanded = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({S, H, D}, type.getElementType()),
        adaptor.getInput(), ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    Value init = emptyF32(rewriter, loc, type.getShape());
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(
                                   loc, expanded, init,
                                   ArrayRef<int64_t>{1, 0, 2})
                               .getResult());
    return success();
  }
};

/// attn.merge_heads: y[s, h * D + d] = x[h, s, d], the inverse of
/// split_heads: linalg.transpose to [S, H, D], then collapse the last two
/// dimensions into the H * D columns.
struct MergeHeadsToLinalg : OpConversionPattern<attn::MergeHeadsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(attn::MergeHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireStaticShapes(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    auto inType = op.getInput().getType(); // [H, S, D]
    int64_t H = inType.getDimSize(0), S = inType.getDimSize(1),
            D = inType.getDimSize(2);
    Value init = emptyF32(rewriter, loc, {S, H, D});
    Value transposed =
        rewriter
            .create<linalg::TransposeOp>(loc, adaptor.getInput(), init,
                                         ArrayRef<int64_t>{1, 0, 2})
            .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getResult().getType(), transposed,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    return success();
  }
};

} // namespace

void attnc::lowering::populateHeadsPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulToLinalg, TransposeToLinalg, SplitHeadsToLinalg,
               MergeHeadsToLinalg>(patterns.getContext());
}

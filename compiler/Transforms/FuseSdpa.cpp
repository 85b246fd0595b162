//===- FuseSdpa.cpp - recognise attention written out by hand -------------===//
//
// Users may write attention the way it is taught; the frontend lowers it to a
// chain of small attn operations. This pass recognises the chain and replaces
// it with the fused `attn.sdpa` that `attention(...)` gives.
//
// The chain (multi-head form, rooted at the final merge_heads):
//
//   %qh = attn.split_heads %q heads = H     [S, H*D] -> [H, S, D]
//   %kh = attn.split_heads %k heads = H     [T, H*D] -> [H, T, D]
//   %vh = attn.split_heads %v heads = H
//   %kt = attn.transpose %kh                [H, D, T]
//   %s  = attn.matmul %qh, %kt              [H, S, T]
//   ... attn.scale (positive), attn.mask, one attn.add of a [S, T] bias ...
//   %p  = attn.softmax %x axis = 2          over the keys
//   %o  = attn.matmul %p, %vh               [H, S, D]
//   %y  = attn.merge_heads %o               [S, H*D]
//
// and the single-head form, rooted at the final rank-2 matmul: the same
// without split/merge heads, everything rank 2, softmax axis = 1, H = 1.
//
// Algorithm. Candidate roots are collected first (every merge_heads and every
// rank-2 matmul) and matched one at a time, walking operands backwards:
//
//  1. root -> PV matmul `matmul(p, vh)`; p must be an attn.softmax over the
//     last (key) axis; vh must be a split_heads (rank 3) or is v (rank 2).
//  2. From the softmax input down to the score matmul, any sequence of
//       - attn.scale by c > 0: the factor joins the product `scale`. A
//         positive scale commutes with the mask (c * -inf = -inf), so its
//         position relative to attn.mask does not matter; it must be applied
//         before the bias is added (below the add in the walk), since sdpa
//         does not scale the bias. A scale by exactly 1 is the identity
//         anywhere;
//       - attn.mask: several masks hide the union of their hidden keys
//         (causal with window N is window N, window a with window b is
//         window min(a, b)); `none` is the identity;
//       - attn.add of a bias: one operand continues the chain (same type as
//         the result), the other is the bias, which must be a [S, T] tensor
//         (broadcast over heads in the rank-3 form). Both operand orders are
//         tried, the one that is not obviously a leaf first.
//  3. The score matmul `matmul(qh', kt')`: kt' is, through positive scales,
//     an attn.transpose of kh', which is, through positive scales, the
//     split_heads of k (rank 3) or k itself (rank 2); likewise qh' for q. The
//     factors of these scales join `scale` too (q.k is bilinear).
//  4. Scales on the [S, H*D] (rank 2: [S, D]) inputs q and k themselves are
//     absorbed when the scale has no other user; otherwise they stay and
//     their result is simply the query/key given to sdpa.
//  5. Validation: every value produced inside the chain is used only inside
//     the chain, all chain ops are in the root's block, q/k/v/bias come from
//     outside the chain, the shapes fit attn.sdpa and the f32 product of the
//     factors is positive and finite.
//  6. Rewrite: attn.sdpa %q, %k, %v [bias %b] heads = H kv_heads = H
//     mask = <combined> [window = N] scale = <product>, inserted at the
//     root; the root's uses move to it and the dead chain ops are erased.
//     Nothing else is touched (no folding, no DCE): run canonicalize first.
//
// Refusals: the chain is left alone, and still computes the right answer
// through the unfused ops, when
//  - the softmax is not over the last axis (it normalises over queries, or
//    over heads, not over keys);
//  - the attention weights are scaled after the softmax (the weights would no
//    longer sum to 1; sdpa has no output scale);
//  - a scale on the scores or on the per-head q/k is <= 0, NaN or infinite:
//    a non-positive factor does not commute with the -inf of the mask
//    (-1 * -inf = +inf, 0 * -inf = NaN), and sdpa's scale must be finite;
//  - a scale is applied after the bias was added (it would scale the bias
//    too, while sdpa adds the bias to the already scaled scores);
//  - a second additive bias (sdpa takes one; fusing would need a new add);
//  - the bias is not [S, T] (per-head [H, S, T], a broadcast row [T], ...);
//  - the scores are multiplied by a tensor (attn.mul: a multiplicative mask,
//    not the additive mask sdpa takes) or pass through any other op;
//  - the key operand of the score matmul is not transposed (transpose
//    missing, or on the query / on v instead);
//  - q/k/v do not all come from split_heads with the same head count (cannot
//    happen in verified IR, where a batch mismatch fails the matmul
//    verifier; checked anyway), or v's head width differs from k's (sdpa
//    wants value and key of one shape);
//  - any intermediate value has a user outside the chain: fusing would keep
//    the intermediate computed beside sdpa, duplicating the work;
//  - the chain spans several blocks, an sdpa operand is itself produced
//    inside the chain, or a shape is dynamic;
//  - the combined scale over- or underflows f32.
//
// With `report-refusals`, every candidate that reached a softmax (that is,
// looks like attention) and was refused gets a remark with the reason.
//
// Numerics: the fused op computes scale * (q . k) where the chain may have
// computed (scale * q) . k or scale1 * (scale2 * s); the results agree up to
// f32 rounding. One ordering difference: for add(mask(s), bias) the unfused
// chain yields -inf + bias at hidden keys, which is NaN if the bias is +inf or
// NaN there, whereas sdpa hides the key regardless of the bias. A bias is an
// additive mask with -inf for hidden keys, so that case is not meaningful.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"

#include "attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallVector.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace attnc {
#define GEN_PASS_DEF_FUSESDPA
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace mlir::attn;

namespace {

/// What has been learned walking the scores down from the softmax; copied at
/// every attn.add so that the other operand order can be tried afterwards.
struct ScoreState {
  double scale = 1.0;
  MaskKind mask = MaskKind::none;
  std::optional<int64_t> window;
  Value bias;
  /// A factor other than 1 was met on the way down from the softmax, i.e. is
  /// applied after whatever comes further down.
  bool scaledAbove = false;
  SmallVector<Operation *> ops;
};

/// The chain that becomes one attn.sdpa.
struct Chain {
  Value query, key, value, bias;
  int64_t heads = 1;
  MaskKind mask = MaskKind::none;
  std::optional<int64_t> window;
  float scale = 1.0f;
  llvm::SetVector<Operation *> ops; // every op the sdpa replaces
};

std::string shapeOf(Value v) {
  std::string s = "[";
  auto t = dyn_cast<ShapedType>(v.getType());
  if (!t || !t.hasRank())
    return "unranked";
  llvm::interleave(
      t.getShape(),
      [&](int64_t d) { s += ShapedType::isDynamic(d) ? "?" : std::to_string(d); },
      [&] { s += ", "; });
  return s + "]";
}

std::string num(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", f);
  return buf;
}

bool isUsableFactor(double f) { return f > 0.0 && std::isfinite(f); }

/// The mask (kind, window) followed by (other, otherWindow): a key is visible
/// only if both let it through.
void intersectMask(MaskKind &kind, std::optional<int64_t> &window,
                   MaskKind other, std::optional<int64_t> otherWindow) {
  if (other == MaskKind::none)
    return;
  if (kind == MaskKind::none || (kind == MaskKind::causal &&
                                 other == MaskKind::window)) {
    kind = other;
    window = otherWindow;
    return;
  }
  if (kind == MaskKind::window && other == MaskKind::window)
    window = std::min(*window, *otherWindow);
  // causal with causal, or window with causal: unchanged (a window is causal).
}

class Matcher {
public:
  explicit Matcher(Operation *root) : root(root) {}

  /// Matches the chain ending at `root`. On failure `reason` says why and
  /// `attentionLike` whether the chain got as far as a softmax.
  LogicalResult match();

  Chain chain;
  std::string reason;
  bool attentionLike = false;

private:
  LogicalResult refuse(const Twine &why) {
    reason = why.str();
    return failure();
  }

  LogicalResult matchScores(Value cur, ScoreState st);
  LogicalResult matchScoreMatmul(MatmulOp mm, ScoreState st);
  FailureOr<Value> peelChainScales(Value v, ScoreState &st, StringRef what);
  Value peelInputScales(Value v, ScoreState &st);
  LogicalResult finish(Value q, Value k, ScoreState &st);

  Operation *root;
  int rank = 2;
  MatmulOp pv;
  SoftmaxOp softmax;
  SplitHeadsOp splitV;
};

LogicalResult Matcher::match() {
  // Step 1: root -> matmul(p, vh), p = softmax over the keys.
  if (auto merge = dyn_cast<MergeHeadsOp>(root)) {
    rank = 3;
    pv = merge.getInput().getDefiningOp<MatmulOp>();
    if (!pv) {
      // e.g. merge_heads(scale(matmul(softmax, vh))): output rescaled.
      Value v = merge.getInput();
      while (auto s = v.getDefiningOp<ScaleOp>())
        v = s.getInput();
      if (auto m = v.getDefiningOp<MatmulOp>())
        if (m.getLhs().getDefiningOp<SoftmaxOp>()) {
          attentionLike = true;
          return refuse("the attention output is scaled before merge_heads; "
                        "sdpa has no output scale");
        }
      return refuse("merge_heads input is not a matmul");
    }
  } else {
    pv = cast<MatmulOp>(root);
    rank = 2;
  }

  softmax = pv.getLhs().getDefiningOp<SoftmaxOp>();
  if (!softmax) {
    Value v = pv.getLhs();
    while (auto s = v.getDefiningOp<ScaleOp>())
      v = s.getInput();
    if (v.getDefiningOp<SoftmaxOp>()) {
      attentionLike = true;
      return refuse("the attention weights are scaled after the softmax; "
                    "sdpa's weights sum to 1 and it has no output scale");
    }
    return refuse("the lhs of the final matmul is not a softmax");
  }
  attentionLike = true;

  if (static_cast<int64_t>(softmax.getAxis()) != rank - 1)
    return refuse("softmax is over axis " + Twine(softmax.getAxis()) +
                  ", not over the keys (axis " + Twine(rank - 1) + ")");

  if (rank == 3) {
    splitV = pv.getRhs().getDefiningOp<SplitHeadsOp>();
    if (!splitV)
      return refuse("v of the final matmul is not produced by split_heads");
  }

  // Steps 2-6 run inside the recursion so that a failure anywhere lets the
  // other operand order of an attn.add be tried.
  return matchScores(softmax.getInput(), ScoreState());
}

/// Step 2: the ops between the score matmul and the softmax.
LogicalResult Matcher::matchScores(Value cur, ScoreState st) {
  Operation *def = cur.getDefiningOp();
  if (!def)
    return refuse("the scores are a block argument, not matmul(q, transpose(k))");

  if (auto s = dyn_cast<ScaleOp>(def)) {
    double f = s.getFactor().convertToDouble();
    if (f != 1.0) { // scale by exactly 1 is the identity anywhere
      if (!isUsableFactor(f))
        return refuse("the scores are scaled by " + num(f) +
                      "; only a positive finite factor commutes with the mask");
      st.scaledAbove = true;
    }
    st.scale *= f;
    st.ops.push_back(s);
    return matchScores(s.getInput(), std::move(st));
  }

  if (auto m = dyn_cast<MaskOp>(def)) {
    std::optional<int64_t> w;
    if (auto mw = m.getWindow())
      w = static_cast<int64_t>(*mw);
    intersectMask(st.mask, st.window, m.getKind(), w);
    st.ops.push_back(m);
    return matchScores(m.getInput(), std::move(st));
  }

  if (auto add = dyn_cast<AddOp>(def)) {
    if (st.bias)
      return refuse("more than one tensor is added to the scores; sdpa takes "
                    "one bias");
    // We walk from the softmax down: a scale met before this add is applied
    // after it.
    if (st.scaledAbove)
      return refuse("a scale is applied after the bias is added; it would "
                    "scale the bias too, sdpa adds the bias to the scaled "
                    "scores");
    auto scoresType = cast<RankedTensorType>(add.getType());
    st.ops.push_back(add);
    // Try the operand that looks like the rest of the chain first: one that
    // is produced by a scale, mask, add or matmul. On a tie, lhs first (the
    // frontend writes add(scores, bias)).
    auto chainLike = [](Value v) {
      return isa_and_nonnull<ScaleOp, MaskOp, AddOp, MatmulOp>(v.getDefiningOp());
    };
    unsigned first = (!chainLike(add.getLhs()) && chainLike(add.getRhs())) ? 1 : 0;
    std::optional<std::string> firstReason;
    for (unsigned i : {first, 1 - first}) {
      Value chainSide = add->getOperand(i), biasSide = add->getOperand(1 - i);
      std::string why;
      auto biasType = dyn_cast<RankedTensorType>(biasSide.getType());
      if (chainSide.getType() != scoresType) {
        why = "the scores operand of the add is broadcast";
      } else if (!biasType || biasType.getRank() != 2 ||
                 biasType.getShape() != scoresType.getShape().take_back(2)) {
        auto st2 = scoresType.getShape().take_back(2);
        why = "the tensor added to the scores has shape " + shapeOf(biasSide) +
              "; sdpa's bias is [queries, keys] = [" + std::to_string(st2[0]) +
              ", " + std::to_string(st2[1]) + "], shared by all heads";
      } else {
        ScoreState next = st;
        next.bias = biasSide;
        if (succeeded(matchScores(chainSide, std::move(next))))
          return success();
        why = reason;
      }
      if (!firstReason)
        firstReason = why;
    }
    return refuse(*firstReason);
  }

  if (auto mm = dyn_cast<MatmulOp>(def))
    return matchScoreMatmul(mm, std::move(st));

  if (isa<MulOp>(def))
    return refuse("the scores are multiplied by a tensor (attn.mul): a "
                  "multiplicative mask, not an additive one");
  return refuse("the scores pass through '" +
                def->getName().getStringRef() +
                "', which sdpa cannot express");
}

/// Scales between the score matmul and the split_heads / transpose: they are
/// intermediate values of the chain and must be usable factors.
FailureOr<Value> Matcher::peelChainScales(Value v, ScoreState &st,
                                          StringRef what) {
  while (auto s = v.getDefiningOp<ScaleOp>()) {
    double f = s.getFactor().convertToDouble();
    if (!isUsableFactor(f))
      return refuse(what + " is scaled by " + num(f) +
                    "; only a positive finite factor commutes with the mask");
    st.scale *= f;
    st.ops.push_back(s);
    v = s.getInput();
  }
  return v;
}

/// Step 4: scales on the [S, H*D] input itself are absorbed only when nothing
/// else reads them; otherwise the scaled tensor is the sdpa operand.
Value Matcher::peelInputScales(Value v, ScoreState &st) {
  while (auto s = v.getDefiningOp<ScaleOp>()) {
    double f = s.getFactor().convertToDouble();
    if (!isUsableFactor(f) || !s->hasOneUse())
      break;
    st.scale *= f;
    st.ops.push_back(s);
    v = s.getInput();
  }
  return v;
}

/// Step 3: matmul(qh', kt').
LogicalResult Matcher::matchScoreMatmul(MatmulOp mm, ScoreState st) {
  st.ops.push_back(mm);
  if (mm.getLhs().getType().getRank() != rank)
    return refuse("the score matmul has the wrong rank");

  FailureOr<Value> kt = peelChainScales(mm.getRhs(), st, "the key");
  if (failed(kt))
    return failure();
  auto transpose = kt->getDefiningOp<TransposeOp>();
  if (!transpose) {
    Value lhs = mm.getLhs();
    while (auto s = lhs.getDefiningOp<ScaleOp>())
      lhs = s.getInput();
    if (lhs.getDefiningOp<TransposeOp>())
      return refuse("the transpose is on the query operand of the score "
                    "matmul, not on the key");
    return refuse("the key operand of the score matmul is not transposed");
  }
  st.ops.push_back(transpose);

  Value q, k;
  if (rank == 3) {
    FailureOr<Value> kh = peelChainScales(transpose.getInput(), st, "the key");
    if (failed(kh))
      return failure();
    FailureOr<Value> qh = peelChainScales(mm.getLhs(), st, "the query");
    if (failed(qh))
      return failure();
    auto splitQ = qh->getDefiningOp<SplitHeadsOp>();
    auto splitK = kh->getDefiningOp<SplitHeadsOp>();
    if (!splitQ) {
      if (qh->getDefiningOp<TransposeOp>())
        return refuse("the query operand of the score matmul is transposed");
      return refuse("the query of the score matmul is not produced by "
                    "split_heads");
    }
    if (!splitK)
      return refuse("the transposed key is not produced by split_heads");
    chain.heads = splitQ.getHeads();
    if (splitK.getHeads() != splitQ.getHeads() ||
        splitV.getHeads() != splitQ.getHeads())
      return refuse("split_heads head counts differ: q " +
                    Twine(splitQ.getHeads()) + ", k " +
                    Twine(splitK.getHeads()) + ", v " +
                    Twine(splitV.getHeads()));
    st.ops.push_back(splitQ);
    st.ops.push_back(splitK);
    st.ops.push_back(splitV);
    q = peelInputScales(splitQ.getInput(), st);
    k = peelInputScales(splitK.getInput(), st);
  } else {
    chain.heads = 1;
    // Rank 2: the transposed value is k itself; a scale between the
    // transpose and the matmul is still an intermediate value.
    if (mm.getLhs().getDefiningOp<TransposeOp>())
      return refuse("the query operand of the score matmul is transposed");
    q = peelInputScales(mm.getLhs(), st);
    k = peelInputScales(transpose.getInput(), st);
  }
  return finish(q, k, st);
}

/// Step 5: validation, filling `chain`.
LogicalResult Matcher::finish(Value q, Value k, ScoreState &st) {
  Chain c;
  c.query = q;
  c.key = k;
  c.value = rank == 3 ? splitV.getInput() : pv.getRhs();
  c.bias = st.bias;
  c.heads = chain.heads;
  c.mask = st.mask;
  c.window = st.window;
  c.ops.insert(root);
  c.ops.insert(pv);
  c.ops.insert(softmax);
  c.ops.insert(st.ops.begin(), st.ops.end());

  for (Operation *op : c.ops)
    if (op->getBlock() != root->getBlock())
      return refuse("the chain spans several blocks");
  for (Operation *op : c.ops) {
    if (op == root)
      continue;
    for (Operation *user : op->getUsers())
      if (!c.ops.contains(user))
        return refuse("the result of '" + op->getName().getStringRef() +
                      "' is also used outside the chain; fusing would "
                      "compute it twice");
  }
  for (Value v : {c.query, c.key, c.value, c.bias})
    if (v)
      if (Operation *def = v.getDefiningOp(); def && c.ops.contains(def))
        return refuse("an sdpa operand would be produced inside the chain");

  // Shapes attn.sdpa accepts: q [S, H*D], k = v [T, H*D], result = q.
  auto qt = dyn_cast<RankedTensorType>(c.query.getType());
  auto kt = dyn_cast<RankedTensorType>(c.key.getType());
  auto vt = dyn_cast<RankedTensorType>(c.value.getType());
  auto rt = dyn_cast<RankedTensorType>(root->getResult(0).getType());
  if (!qt || !kt || !vt || !rt || !qt.hasStaticShape() ||
      !kt.hasStaticShape() || !vt.hasStaticShape() || !rt.hasStaticShape() ||
      (c.bias && !cast<ShapedType>(c.bias.getType()).hasStaticShape()))
    return refuse("a shape is not static");
  if (qt.getRank() != 2 || kt.getRank() != 2 || vt.getRank() != 2)
    return refuse("q, k and v must be rank 2");
  if (kt.getDimSize(1) != qt.getDimSize(1))
    return refuse("key width " + Twine(kt.getDimSize(1)) +
                  " differs from query width " + Twine(qt.getDimSize(1)));
  if (vt.getShape() != kt.getShape())
    return refuse("value has shape " + shapeOf(c.value) + " but key has " +
                  shapeOf(c.key) + "; sdpa needs them equal");
  if (rt != qt)
    return refuse("the result type differs from the query type");

  float scale = static_cast<float>(st.scale);
  if (!(scale > 0.0f) || std::isinf(scale))
    return refuse("the combined scale " + num(st.scale) +
                  " is not a positive finite f32");
  c.scale = scale;
  chain = std::move(c);
  return success();
}

/// Step 6.
void rewrite(Operation *root, Chain &c, llvm::DenseSet<Operation *> &erased) {
  OpBuilder b(root);
  SmallVector<Location> locs;
  for (Operation *op : c.ops)
    locs.push_back(op->getLoc());
  auto sdpa = b.create<SdpaOp>(
      b.getFusedLoc(locs), root->getResult(0).getType(), c.query, c.key,
      c.value, c.bias, /*alibi=*/Value(), b.getI64IntegerAttr(c.heads),
      b.getI64IntegerAttr(c.heads), MaskKindAttr::get(b.getContext(), c.mask),
      c.window ? b.getI64IntegerAttr(*c.window) : IntegerAttr(),
      b.getF32FloatAttr(c.scale));
  root->getResult(0).replaceAllUsesWith(sdpa.getResult());

  // All chain ops are in one block and only used inside the chain: erasing
  // them last to first leaves none with a use.
  SmallVector<Operation *> ops(c.ops.begin(), c.ops.end());
  llvm::sort(ops, [](Operation *a, Operation *b) {
    return b->isBeforeInBlock(a);
  });
  for (Operation *op : ops) {
    assert(op->use_empty() && "chain op still used after fusion");
    erased.insert(op);
    op->erase();
  }
}

struct FuseSdpaPass : attnc::impl::FuseSdpaBase<FuseSdpaPass> {
  using FuseSdpaBase::FuseSdpaBase;

  void runOnOperation() override {
    SmallVector<Operation *> roots;
    getOperation()->walk([&](Operation *op) {
      if (isa<MergeHeadsOp>(op))
        roots.push_back(op);
      else if (auto mm = dyn_cast<MatmulOp>(op);
               mm && mm.getType().getRank() == 2)
        roots.push_back(op);
    });

    // A fusion erases its chain, which may contain later candidates (a
    // rank-2 score matmul, say): skip those.
    llvm::DenseSet<Operation *> erased;
    for (Operation *root : roots) {
      if (erased.contains(root))
        continue;
      Matcher m(root);
      if (succeeded(m.match())) {
        rewrite(root, m.chain, erased);
        ++numFused;
        continue;
      }
      if (m.attentionLike) {
        ++numRefused;
        if (reportRefusals)
          root->emitRemark("not fused into attn.sdpa: ") << m.reason;
      }
    }
  }
};

} // namespace

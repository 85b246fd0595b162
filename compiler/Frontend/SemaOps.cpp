//===- SemaOps.cpp - arity, attributes and shapes of each operation -------===//

#include "Checker.h"

#include <cmath>

using namespace attnc;
using namespace attnc::sema;

namespace {
GraphOp makeOp(GraphOp::Kind kind, const Expr &call,
               std::vector<ValueId> operands) {
  GraphOp op;
  op.kind = kind;
  op.loc = call.loc;
  op.operands = std::move(operands);
  return op;
}
} // namespace

bool Checker::maskKind(const Expr &m, MaskKind &kind, int64_t &window) {
  if (m.kind == Expr::Kind::Name && m.name == "none") {
    kind = MaskKind::None;
    return true;
  }
  if (m.kind == Expr::Kind::Name && m.name == "causal") {
    kind = MaskKind::Causal;
    return true;
  }
  if (m.kind == Expr::Kind::Call && m.name == "window") {
    if (m.args.size() != 1 || !m.keywords.empty())
      return error(m.loc, "'window' takes one argument: the number of tokens "
                          "a query sees, itself included");
    if (!integerArg(*m.args[0], "the window size", window))
      return false;
    if (window <= 0 || window > contextSize())
      return error(m.args[0]->loc,
                   "window(" + std::to_string(window) +
                       ") must be between 1 and the context size " +
                       std::to_string(contextSize()));
    kind = MaskKind::Window;
    return true;
  }
  return error(m.loc, "unknown mask; expected none, causal or window(N)");
}

bool Checker::evaluateLinear(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 3, "linear(x, w[, b])") || !checkKeywords(call, {}))
    return false;
  Operand x, w, b;
  if (!evaluateTensor(*call.args[0], x) || !checkRank(x, {2}, call, "input") ||
      !evaluateTensor(*call.args[1], w) || !checkRank(w, {2}, call, "weight"))
    return false;
  Shape xs = shapeOf(x), ws = shapeOf(w);
  if (xs[1] != ws[0])
    return error(w.loc, "shape mismatch in 'linear': weight " + w.description +
                            " is " + shapeToString(ws) + " but input " +
                            x.description + " is " + shapeToString(xs) +
                            "; expected " + std::to_string(xs[1]) +
                            " weight rows (weights are [in, out])");
  GraphOp op = makeOp(GraphOp::Kind::Linear, call, {x.value, w.value});
  if (call.args.size() == 3) {
    if (!evaluateTensor(*call.args[2], b) || !checkRank(b, {1}, call, "bias"))
      return false;
    Shape bs = shapeOf(b);
    if (bs[0] != ws[1])
      return error(b.loc, "shape mismatch in 'linear': bias " + b.description +
                              " is " + shapeToString(bs) + " but weight " +
                              w.description + " is " + shapeToString(ws) +
                              "; expected [" + std::to_string(ws[1]) + "]");
    op.operands.push_back(b.value);
  }
  results.push_back(addOp(std::move(op), {xs[0], ws[1]}));
  return true;
}

bool Checker::evaluateSplit(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 2, "split(t, parts)") || !checkKeywords(call, {}))
    return false;
  Operand t;
  int64_t parts;
  if (!evaluateTensor(*call.args[0], t) || !checkRank(t, {2}, call, "operand") ||
      !integerArg(*call.args[1], "the number of parts", parts))
    return false;
  Shape ts = shapeOf(t);
  if (parts <= 0 || ts[1] % parts != 0)
    return error(call.args[1]->loc,
                 "'split' cannot cut " + t.description + " of shape " +
                     shapeToString(ts) + " into " + std::to_string(parts) +
                     " equal column blocks; expected a positive divisor of " +
                     std::to_string(ts[1]));
  GraphOp op = makeOp(GraphOp::Kind::Split, call, {t.value});
  std::vector<Shape> shapes(parts, Shape{ts[0], ts[1] / parts});
  results = addOp(std::move(op), shapes);
  return true;
}

bool Checker::evaluateAttention(const Expr &call,
                                std::vector<ValueId> &results) {
  if (!checkArity(call, 3, 3, "attention(q, k, v, heads = H, ...)") ||
      !checkKeywords(call, {"heads", "kv_heads", "mask", "scale", "alibi"}))
    return false;
  Operand q, k, v;
  if (!evaluateTensor(*call.args[0], q) || !checkRank(q, {2}, call, "query") ||
      !evaluateTensor(*call.args[1], k) || !checkRank(k, {2}, call, "key") ||
      !evaluateTensor(*call.args[2], v) || !checkRank(v, {2}, call, "value"))
    return false;
  Shape qs = shapeOf(q), ks = shapeOf(k), vs = shapeOf(v);
  GraphOp op = makeOp(GraphOp::Kind::Attention, call, {q.value, k.value, v.value});
  const KeywordArg *headsKw = keyword(call, "heads");
  const KeywordArg *kvHeadsKw = keyword(call, "kv_heads");
  if (!headsKw)
    return error(call.loc, "'attention' needs 'heads = H'");
  for (const KeywordArg *kw : {headsKw, kvHeadsKw}) {
    if (!kw)
      continue;
    int64_t n;
    if (!integerArg(*kw->value, "'" + kw->key + "'", n))
      return false;
    if (n <= 0)
      return error(kw->value->loc, "'" + kw->key + "' must be positive");
    (kw == headsKw ? op.heads : op.kvHeads) = n;
  }
  if (op.kvHeads == 0)
    op.kvHeads = op.heads;
  if (qs[1] % op.heads != 0)
    return error(headsKw->value->loc,
                 "heads = " + std::to_string(op.heads) +
                     " does not divide the query width " +
                     std::to_string(qs[1]) + " (query " + q.description +
                     " is " + shapeToString(qs) + ")");
  if (op.heads % op.kvHeads != 0)
    return error(kvHeadsKw ? kvHeadsKw->value->loc : call.loc,
                 "kv_heads = " + std::to_string(op.kvHeads) +
                     " does not divide heads = " + std::to_string(op.heads));
  int64_t headDim = qs[1] / op.heads;
  if (ks[1] != op.kvHeads * headDim)
    return error(k.loc, "shape mismatch in 'attention': key " + k.description +
                            " is " + shapeToString(ks) + " but query " +
                            q.description + " is " + shapeToString(qs) +
                            "; expected " + std::to_string(op.kvHeads * headDim) +
                            " key columns (kv_heads x head_dim = " +
                            std::to_string(op.kvHeads) + " x " +
                            std::to_string(headDim) + ")");
  if (vs != ks)
    return error(v.loc, "shape mismatch in 'attention': value " +
                            v.description + " is " + shapeToString(vs) +
                            " but key " + k.description + " is " +
                            shapeToString(ks) + "; expected equal shapes");

  Operand bias, alibi;
  if (const KeywordArg *maskKw = keyword(call, "mask")) {
    const Expr &m = *maskKw->value;
    bool isKeyword = (m.kind == Expr::Kind::Name &&
                      (m.name == "none" || m.name == "causal")) ||
                     (m.kind == Expr::Kind::Call && m.name == "window");
    if (isKeyword) {
      if (!maskKind(m, op.mask, op.window))
        return false;
    } else {
      if (m.kind == Expr::Kind::Name && !isDefined(m.name))
        return error(m.loc, "unknown mask '" + m.name + "'; expected none, "
                            "causal, window(N) or an additive mask tensor");
      // Any other tensor is an additive mask: 0 where visible, -inf where not.
      if (!evaluateTensor(m, bias))
        return false;
      Shape bs = shapeOf(bias);
      if (bs != Shape{qs[0], ks[0]})
        return error(m.loc, "the additive mask (" + bias.description + ") is " +
                                shapeToString(bs) + "; expected [" +
                                std::to_string(qs[0]) + ", " +
                                std::to_string(ks[0]) + "] (queries x keys)");
      op.hasBias = true;
      op.operands.push_back(bias.value);
    }
  }
  if (op.mask != MaskKind::None && ks[0] != qs[0])
    return error(k.loc, "a " + std::string(maskKindName(op.mask)) +
                            " mask needs as many keys as queries, but key " +
                            k.description + " is " + shapeToString(ks) +
                            " and query " + q.description + " is " +
                            shapeToString(qs));
  if (const KeywordArg *alibiKw = keyword(call, "alibi")) {
    if (!evaluateTensor(*alibiKw->value, alibi))
      return false;
    Shape as = shapeOf(alibi);
    if (as != Shape{op.heads})
      return error(alibiKw->value->loc,
                   "the ALiBi slopes " + alibi.description + " are " +
                       shapeToString(as) + "; expected one per head, [" +
                       std::to_string(op.heads) + "]");
    op.hasAlibi = true;
    op.operands.push_back(alibi.value);
  }
  if (const KeywordArg *scaleKw = keyword(call, "scale")) {
    double scale;
    if (!evaluateNumber(*scaleKw->value, scale, "'scale'"))
      return false;
    // The kernel computes in f32: the scale must survive the conversion.
    if (!(scale > 0) || !isNormalF32(scale))
      return error(scaleKw->value->loc,
                   "'scale' must be a positive number within the range of f32 "
                   "(about 1.2e-38 to 3.4e38)");
    op.scale = scale;
  } else {
    op.scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  }
  results.push_back(addOp(std::move(op), qs));
  return true;
}

bool Checker::evaluateMatmul(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 2, "matmul(a, b)") || !checkKeywords(call, {}))
    return false;
  Operand a, b;
  if (!evaluateTensor(*call.args[0], a) || !checkRank(a, {2, 3}, call, "left operand") ||
      !evaluateTensor(*call.args[1], b) || !checkRank(b, {2, 3}, call, "right operand"))
    return false;
  Shape as = shapeOf(a), bs = shapeOf(b);
  size_t r = as.size();
  auto mismatch = [&](const std::string &why) {
    return error(call.loc, "shape mismatch in 'matmul': " + a.description +
                               " is " + shapeToString(as) + " and " +
                               b.description + " is " + shapeToString(bs) +
                               "; " + why);
  };
  if (bs.size() != r)
    return mismatch("expected equal ranks");
  if (r == 3 && as[0] != bs[0])
    return mismatch("expected equal batch (head) counts");
  if (as[r - 1] != bs[r - 2])
    return mismatch("expected the left operand's last dimension to equal the "
                    "right operand's second to last");
  Shape result = as;
  result.back() = bs.back();
  results.push_back(addOp(makeOp(GraphOp::Kind::MatMul, call, {a.value, b.value}),
                          result));
  return true;
}

bool Checker::evaluateTranspose(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 1, 1, "transpose(t)") || !checkKeywords(call, {}))
    return false;
  Operand t;
  if (!evaluateTensor(*call.args[0], t) || !checkRank(t, {2, 3}, call, "operand"))
    return false;
  Shape s = shapeOf(t);
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  results.push_back(addOp(makeOp(GraphOp::Kind::Transpose, call, {t.value}), s));
  return true;
}

bool Checker::evaluateSoftmax(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 1, 1, "softmax(s, axis = -1)") ||
      !checkKeywords(call, {"axis"}))
    return false;
  Operand t;
  if (!evaluateTensor(*call.args[0], t))
    return false;
  int64_t rank = shapeOf(t).size(), axis = -1;
  if (const KeywordArg *kw = keyword(call, "axis")) {
    if (!integerArg(*kw->value, "'axis'", axis))
      return false;
    if (axis < -rank || axis >= rank)
      return error(kw->value->loc,
                   "axis " + std::to_string(axis) + " is out of range for " +
                       t.description + " of shape " +
                       shapeToString(shapeOf(t)) + "; expected " +
                       std::to_string(-rank) + " to " + std::to_string(rank - 1));
  }
  GraphOp op = makeOp(GraphOp::Kind::Softmax, call, {t.value});
  op.axis = axis < 0 ? axis + rank : axis;
  results.push_back(addOp(std::move(op), shapeOf(t)));
  return true;
}

bool Checker::evaluateMask(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 2, "mask(s, causal | window(N))") ||
      !checkKeywords(call, {}))
    return false;
  Operand s;
  if (!evaluateTensor(*call.args[0], s) || !checkRank(s, {2, 3}, call, "scores"))
    return false;
  GraphOp op = makeOp(GraphOp::Kind::Mask, call, {s.value});
  const Expr &m = *call.args[1];
  // A tensor here would be an additive mask, which is written `s + m`.
  if (m.kind != Expr::Kind::Call && m.kind != Expr::Kind::Name)
    return error(m.loc, "'mask' takes causal or window(N)");
  if (m.kind == Expr::Kind::Name && m.name != "none" && m.name != "causal")
    return error(m.loc, isDefined(m.name)
                            ? "'mask' takes none, causal or window(N); add an "
                              "additive mask tensor with '+'"
                            : "unknown mask '" + m.name +
                                  "'; expected none, causal or window(N)");
  if (!maskKind(m, op.mask, op.window))
    return false;
  Shape shape = shapeOf(s);
  if (shape[shape.size() - 1] != shape[shape.size() - 2] &&
      op.mask != MaskKind::None)
    return error(s.loc, "'mask' needs square [queries, keys] scores, but " +
                            s.description + " is " + shapeToString(shape));
  results.push_back(addOp(std::move(op), shape));
  return true;
}

bool Checker::evaluateSplitHeads(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 1, 1, "split_heads(t, heads = H)") ||
      !checkKeywords(call, {"heads"}))
    return false;
  Operand t;
  if (!evaluateTensor(*call.args[0], t) || !checkRank(t, {2}, call, "operand"))
    return false;
  const KeywordArg *kw = keyword(call, "heads");
  if (!kw)
    return error(call.loc, "'split_heads' needs 'heads = H'");
  GraphOp op = makeOp(GraphOp::Kind::SplitHeads, call, {t.value});
  if (!integerArg(*kw->value, "'heads'", op.heads))
    return false;
  if (op.heads <= 0)
    return error(kw->value->loc, "'heads' must be positive");
  Shape s = shapeOf(t);
  if (s[1] % op.heads != 0)
    return error(kw->value->loc, "heads = " + std::to_string(op.heads) +
                                     " does not divide the width " +
                                     std::to_string(s[1]) + " of " +
                                     t.description);
  int64_t heads = op.heads;
  results.push_back(addOp(std::move(op), {heads, s[0], s[1] / heads}));
  return true;
}

bool Checker::evaluateMergeHeads(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 1, 1, "merge_heads(t)") || !checkKeywords(call, {}))
    return false;
  Operand t;
  if (!evaluateTensor(*call.args[0], t) || !checkRank(t, {3}, call, "operand"))
    return false;
  Shape s = shapeOf(t);
  results.push_back(addOp(makeOp(GraphOp::Kind::MergeHeads, call, {t.value}),
                          {s[1], s[0] * s[2]}));
  return true;
}

bool Checker::evaluateRope(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 1, 1, "rope(x, heads = H, base = 10000, style = half)") ||
      !checkKeywords(call, {"heads", "base", "style"}))
    return false;
  Operand x;
  if (!evaluateTensor(*call.args[0], x) || !checkRank(x, {2, 3}, call, "operand"))
    return false;
  Shape s = shapeOf(x);
  GraphOp op = makeOp(GraphOp::Kind::Rope, call, {x.value});
  const KeywordArg *headsKw = keyword(call, "heads");
  if (s.size() == 2) {
    if (!headsKw)
      return error(call.loc, "'rope' on " + x.description + " of shape " +
                                 shapeToString(s) +
                                 " needs 'heads = H' to know each head's width");
    int64_t heads;
    if (!integerArg(*headsKw->value, "'heads'", heads))
      return false;
    if (heads <= 0)
      return error(headsKw->value->loc, "'heads' must be positive");
    if (s[1] % heads != 0)
      return error(headsKw->value->loc,
                   "heads = " + std::to_string(heads) +
                       " does not divide the width " + std::to_string(s[1]) +
                       " of " + x.description);
    op.headDim = s[1] / heads;
  } else {
    if (headsKw)
      return error(headsKw->loc, "'rope' on [heads, tokens, head_dim] " +
                                     x.description + " takes no 'heads'");
    op.headDim = s[2];
  }
  if (op.headDim % 2 != 0)
    return error(call.loc, "'rope' rotates pairs of features, but the head "
                           "width " + std::to_string(op.headDim) + " is odd");
  if (const KeywordArg *kw = keyword(call, "base")) {
    if (!evaluateNumber(*kw->value, op.base, "'base'"))
      return false;
    float asF32 = static_cast<float>(op.base);
    if (!(asF32 > 1) || std::isinf(asF32))
      return error(kw->value->loc, "'base' must be a number greater than 1 "
                                   "within the range of f32");
  }
  if (const KeywordArg *kw = keyword(call, "style")) {
    const Expr &e = *kw->value;
    if (e.kind == Expr::Kind::Name && e.name == "half")
      op.ropeStyle = RopeStyle::Half;
    else if (e.kind == Expr::Kind::Name && e.name == "interleaved")
      op.ropeStyle = RopeStyle::Interleaved;
    else
      return error(e.loc, "unknown rope style; expected half (Llama, the "
                          "default) or interleaved (GPT-J)");
  }
  results.push_back(addOp(std::move(op), s));
  return true;
}

bool Checker::evaluateNorm(const Expr &call, std::vector<ValueId> &results) {
  bool isLayerNorm = call.name == "layer_norm";
  if (!checkArity(call, isLayerNorm ? 3 : 2, isLayerNorm ? 3 : 2,
                  isLayerNorm ? "layer_norm(x, gamma, beta, eps = 1e-5)"
                              : "rms_norm(x, gamma, eps = 1e-6)") ||
      !checkKeywords(call, {"eps"}))
    return false;
  Operand x;
  if (!evaluateTensor(*call.args[0], x) || !checkRank(x, {2}, call, "input"))
    return false;
  Shape s = shapeOf(x);
  GraphOp op = makeOp(isLayerNorm ? GraphOp::Kind::LayerNorm
                                  : GraphOp::Kind::RmsNorm,
                      call, {x.value});
  for (size_t i = 1; i < call.args.size(); ++i) {
    Operand p;
    const char *role = i == 1 ? "gain" : "bias";
    if (!evaluateTensor(*call.args[i], p) || !checkRank(p, {1}, call, role))
      return false;
    if (shapeOf(p)[0] != s[1])
      return error(p.loc, "shape mismatch in '" + call.name + "': " + role +
                              " " + p.description + " is " +
                              shapeToString(shapeOf(p)) + " but input " +
                              x.description + " is " + shapeToString(s) +
                              "; expected [" + std::to_string(s[1]) + "]");
    op.operands.push_back(p.value);
  }
  op.eps = isLayerNorm ? 1e-5 : 1e-6;
  if (const KeywordArg *kw = keyword(call, "eps")) {
    if (!evaluateNumber(*kw->value, op.eps, "'eps'"))
      return false;
    if (!(op.eps > 0) || !isNormalF32(op.eps))
      return error(kw->value->loc, "'eps' must be a positive number within "
                                   "the range of f32 (about 1.2e-38 to "
                                   "3.4e38)");
  }
  results.push_back(addOp(std::move(op), s));
  return true;
}

bool Checker::evaluateActivation(const Expr &call, std::vector<ValueId> &results) {
  bool isGelu = call.name == "gelu";
  std::string signature =
      isGelu ? "gelu(x, approximate = none)" : call.name + "(x)";
  if (!checkArity(call, 1, 1, signature.c_str()))
    return false;
  if (isGelu ? !checkKeywords(call, {"approximate"}) : !checkKeywords(call, {}))
    return false;
  Operand x;
  if (!evaluateTensor(*call.args[0], x))
    return false;
  GraphOp::Kind kind = isGelu                ? GraphOp::Kind::Gelu
                       : call.name == "silu" ? GraphOp::Kind::Silu
                                             : GraphOp::Kind::Relu;
  GraphOp op = makeOp(kind, call, {x.value});
  if (const KeywordArg *kw = keyword(call, "approximate")) {
    const Expr &e = *kw->value;
    if (e.kind == Expr::Kind::Name && (e.name == "none" || e.name == "tanh"))
      op.geluTanh = e.name == "tanh";
    else
      return error(e.loc, "unknown gelu approximation; expected none (erf, "
                          "the default) or tanh");
  }
  results.push_back(addOp(std::move(op), shapeOf(x)));
  return true;
}

bool Checker::evaluateMul(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 2, "mul(a, b)") || !checkKeywords(call, {}))
    return false;
  Operand a, b;
  if (!evaluateTensor(*call.args[0], a) || !evaluateTensor(*call.args[1], b))
    return false;
  ValueId result;
  if (!elementwise(GraphOp::Kind::Mul, a, b, call.loc, "mul", result))
    return false;
  results.push_back(result);
  return true;
}

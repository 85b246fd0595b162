//===- Sema.cpp - names, attributes and shapes of a .attn model -*- C++ -*-===//

#include "attnc/Frontend/Sema.h"
#include "attnc/Frontend/Parser.h"

#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace attnc;

namespace {

struct Symbol {
  ValueId value;
  llvm::SMLoc loc;
  bool isArgument = false;
  bool used = false;
};

/// A tensor operand of a call, with the words a diagnostic uses for it.
struct Operand {
  ValueId value;
  std::string description; // "'x'" or "the result of linear"
  llvm::SMLoc loc;
};

class Checker {
public:
  Checker(const ModelAST &model, DiagnosticReporter &diag)
      : model(model), diag(diag) {}
  std::optional<Graph> run();

private:
  bool error(llvm::SMLoc loc, const llvm::Twine &message) {
    diag.error(loc, message);
    return false;
  }
  bool declare(const std::string &name, llvm::SMLoc loc, ValueId value,
               bool isArgument);
  bool resolveShape(const Declaration &decl, Shape &shape);
  /// Evaluates a call or name to its result values, appending operations.
  bool evaluate(const Expr &expr, std::vector<ValueId> &results);
  bool evaluateTensor(const Expr &expr, Operand &operand);
  bool checkArity(const Expr &call, size_t minArgs, size_t maxArgs,
                  const char *signature);
  bool checkKeywords(const Expr &call,
                     std::initializer_list<llvm::StringRef> allowed);
  bool checkRank(const Operand &op, size_t rank, const Expr &call,
                 llvm::StringRef role);
  bool integerArg(const Expr &e, llvm::StringRef what, int64_t &value);

  bool evaluateLinear(const Expr &call, std::vector<ValueId> &results);
  bool evaluateSplit(const Expr &call, std::vector<ValueId> &results);
  bool evaluateAttention(const Expr &call, std::vector<ValueId> &results);

  const ModelAST &model;
  DiagnosticReporter &diag;
  Graph graph;
  llvm::StringMap<Symbol> symbols;
};

} // namespace

/// Model and argument names become C identifiers in the generated header.
static bool isCKeyword(llvm::StringRef s) {
  static const char *const keywords[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do",
      "double", "else", "enum", "extern", "float", "for", "goto", "if",
      "inline", "int", "long", "register", "restrict", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
      "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
      "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic",
      "_Noreturn", "_Static_assert", "_Thread_local", "bool", "true", "false"};
  return llvm::is_contained(keywords, s);
}

bool Checker::declare(const std::string &name, llvm::SMLoc loc, ValueId value,
                      bool isArgument) {
  if (isArgument && isCKeyword(name))
    return error(loc, "'" + name + "' is a C keyword and cannot name a kernel "
                      "argument in the generated header");
  auto [it, inserted] = symbols.try_emplace(name, Symbol{value, loc, isArgument});
  if (inserted)
    return true;
  error(loc, "redefinition of '" + name + "'");
  diag.note(it->second.loc, "'" + name + "' was first defined here");
  return false;
}

bool Checker::resolveShape(const Declaration &decl, Shape &shape) {
  int64_t elements = 1;
  for (const DimExpr &dim : decl.dims) {
    int64_t d = dim.isContext ? model.context : dim.value;
    // Every buffer must be addressable with 64-bit byte offsets.
    if (d > (int64_t(1) << 40) || elements > (int64_t(1) << 40) / d)
      return error(dim.loc, "shape of '" + decl.name +
                                "' has more than 2^40 elements");
    elements *= d;
    shape.push_back(d);
  }
  return true;
}

bool Checker::checkArity(const Expr &call, size_t minArgs, size_t maxArgs,
                         const char *signature) {
  size_t n = call.args.size();
  if (n >= minArgs && n <= maxArgs)
    return true;
  std::string expectedCount =
      minArgs == maxArgs ? std::to_string(minArgs)
                         : std::to_string(minArgs) + " or " +
                               std::to_string(maxArgs);
  return error(call.loc, "'" + call.name + "' takes " + expectedCount +
                             " arguments, got " + std::to_string(n) +
                             "; expected " + signature);
}

bool Checker::checkKeywords(const Expr &call,
                            std::initializer_list<llvm::StringRef> allowed) {
  llvm::StringMap<llvm::SMLoc> seen;
  for (const KeywordArg &kw : call.keywords) {
    if (llvm::find(allowed, kw.key) == allowed.end()) {
      std::string list;
      for (llvm::StringRef a : allowed)
        list += (list.empty() ? "" : ", ") + a.str();
      return error(kw.loc, "unknown attribute '" + kw.key + "' for '" +
                               call.name + "'" +
                               (list.empty() ? "; it takes no attributes"
                                             : "; expected one of " + list));
    }
    if (!seen.try_emplace(kw.key, kw.loc).second)
      return error(kw.loc, "attribute '" + kw.key + "' given twice");
  }
  return true;
}

bool Checker::checkRank(const Operand &op, size_t rank, const Expr &call,
                        llvm::StringRef role) {
  const Shape &s = graph.shapeOf(op.value);
  if (s.size() == rank)
    return true;
  return error(op.loc, "'" + call.name + "' expects its " + role + " " +
                           op.description + " to have rank " +
                           std::to_string(rank) + ", but it has shape " +
                           shapeToString(s));
}

bool Checker::integerArg(const Expr &e, llvm::StringRef what, int64_t &value) {
  if (e.kind == Expr::Kind::Name && e.name == "context") {
    value = model.context;
    return true;
  }
  if (e.kind != Expr::Kind::Integer)
    return error(e.loc, what + " must be an integer");
  value = e.intValue;
  return true;
}

bool Checker::evaluateTensor(const Expr &expr, Operand &operand) {
  operand.loc = expr.loc;
  if (expr.kind == Expr::Kind::Integer || expr.kind == Expr::Kind::Float)
    return error(expr.loc, "expected a tensor, found a number");
  if (expr.kind == Expr::Kind::Name) {
    if (expr.name == "context")
      return error(expr.loc, "'context' is the context size, not a tensor");
    auto it = symbols.find(expr.name);
    if (it == symbols.end())
      return error(expr.loc, "use of undefined name '" + expr.name + "'");
    it->second.used = true;
    operand.value = it->second.value;
    operand.description = "'" + expr.name + "'";
    return true;
  }
  std::vector<ValueId> results;
  if (!evaluate(expr, results))
    return false;
  if (results.size() != 1)
    return error(expr.loc, "'" + expr.name + "' gives " +
                               std::to_string(results.size()) +
                               " values; assign them to names first");
  operand.value = results[0];
  operand.description = "the result of '" + expr.name + "'";
  return true;
}

bool Checker::evaluate(const Expr &expr, std::vector<ValueId> &results) {
  if (expr.kind != Expr::Kind::Call) {
    Operand op;
    if (!evaluateTensor(expr, op))
      return false;
    results.push_back(op.value);
    return true;
  }
  if (expr.name == "linear")
    return evaluateLinear(expr, results);
  if (expr.name == "split")
    return evaluateSplit(expr, results);
  if (expr.name == "attention")
    return evaluateAttention(expr, results);
  return error(expr.loc, "unknown operation '" + expr.name +
                             "'; expected one of linear, split, attention");
}

bool Checker::evaluateLinear(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 3, "linear(x, w[, b])") || !checkKeywords(call, {}))
    return false;
  GraphOp op;
  op.kind = GraphOp::Kind::Linear;
  op.loc = call.loc;
  Operand x, w, b;
  if (!evaluateTensor(*call.args[0], x) || !checkRank(x, 2, call, "input") ||
      !evaluateTensor(*call.args[1], w) || !checkRank(w, 2, call, "weight"))
    return false;
  // Copies: evaluating further operands appends values and may reallocate.
  const Shape xs = graph.shapeOf(x.value), ws = graph.shapeOf(w.value);
  if (xs[1] != ws[0])
    return error(w.loc, "shape mismatch in 'linear': weight " + w.description +
                            " is " + shapeToString(ws) + " but input " +
                            x.description + " is " + shapeToString(xs) +
                            "; expected " + std::to_string(xs[1]) +
                            " weight rows (weights are [in, out])");
  op.operands = {x.value, w.value};
  if (call.args.size() == 3) {
    if (!evaluateTensor(*call.args[2], b) || !checkRank(b, 1, call, "bias"))
      return false;
    const Shape bs = graph.shapeOf(b.value);
    if (bs[0] != ws[1])
      return error(b.loc, "shape mismatch in 'linear': bias " + b.description +
                              " is " + shapeToString(bs) + " but weight " +
                              w.description + " is " + shapeToString(ws) +
                              "; expected [" + std::to_string(ws[1]) + "]");
    op.operands.push_back(b.value);
  }
  op.results = {graph.addValue({xs[0], ws[1]})};
  results = op.results;
  graph.ops.push_back(std::move(op));
  return true;
}

bool Checker::evaluateSplit(const Expr &call, std::vector<ValueId> &results) {
  if (!checkArity(call, 2, 2, "split(t, parts)") || !checkKeywords(call, {}))
    return false;
  Operand t;
  int64_t parts;
  if (!evaluateTensor(*call.args[0], t) || !checkRank(t, 2, call, "operand") ||
      !integerArg(*call.args[1], "the number of parts", parts))
    return false;
  const Shape ts = graph.shapeOf(t.value);
  if (parts <= 0 || ts[1] % parts != 0)
    return error(call.args[1]->loc,
                 "'split' cannot cut " + t.description + " of shape " +
                     shapeToString(ts) + " into " + std::to_string(parts) +
                     " equal column blocks; expected a positive divisor of " +
                     std::to_string(ts[1]));
  GraphOp op;
  op.kind = GraphOp::Kind::Split;
  op.loc = call.loc;
  op.operands = {t.value};
  for (int64_t i = 0; i < parts; ++i)
    op.results.push_back(graph.addValue({ts[0], ts[1] / parts}));
  results = op.results;
  graph.ops.push_back(std::move(op));
  return true;
}

bool Checker::evaluateAttention(const Expr &call,
                                std::vector<ValueId> &results) {
  if (!checkArity(call, 3, 3, "attention(q, k, v, heads = H, ...)") ||
      !checkKeywords(call, {"heads", "kv_heads", "mask", "scale"}))
    return false;
  Operand q, k, v;
  if (!evaluateTensor(*call.args[0], q) || !checkRank(q, 2, call, "query") ||
      !evaluateTensor(*call.args[1], k) || !checkRank(k, 2, call, "key") ||
      !evaluateTensor(*call.args[2], v) || !checkRank(v, 2, call, "value"))
    return false;
  const Shape qs = graph.shapeOf(q.value), ks = graph.shapeOf(k.value),
              vs = graph.shapeOf(v.value);
  GraphOp op;
  op.kind = GraphOp::Kind::Attention;
  op.loc = call.loc;
  const KeywordArg *headsKw = nullptr, *kvHeadsKw = nullptr;
  bool scaleGiven = false;
  for (const KeywordArg &kw : call.keywords) {
    if (kw.key == "heads" || kw.key == "kv_heads") {
      int64_t n;
      if (!integerArg(*kw.value, "'" + kw.key + "'", n))
        return false;
      if (n <= 0)
        return error(kw.value->loc, "'" + kw.key + "' must be positive");
      (kw.key == "heads" ? op.heads : op.kvHeads) = n;
      (kw.key == "heads" ? headsKw : kvHeadsKw) = &kw;
    } else if (kw.key == "mask") {
      const Expr &m = *kw.value;
      if (m.kind == Expr::Kind::Name && m.name == "none") {
        op.mask = MaskKind::None;
      } else if (m.kind == Expr::Kind::Name && m.name == "causal") {
        op.mask = MaskKind::Causal;
      } else if (m.kind == Expr::Kind::Call && m.name == "window") {
        if (m.args.size() != 1 || !m.keywords.empty())
          return error(m.loc, "'window' takes one argument: the number of "
                              "tokens a query sees, itself included");
        if (!integerArg(*m.args[0], "the window size", op.window))
          return false;
        if (op.window <= 0 || op.window > model.context)
          return error(m.args[0]->loc,
                       "window(" + std::to_string(op.window) +
                           ") must be between 1 and the context size " +
                           std::to_string(model.context));
        op.mask = MaskKind::Window;
      } else {
        return error(m.loc, "unknown mask; expected none, causal or window(N)");
      }
    } else if (kw.key == "scale") {
      const Expr &s = *kw.value;
      if (s.kind != Expr::Kind::Float && s.kind != Expr::Kind::Integer)
        return error(s.loc, "'scale' must be a number");
      // The kernel computes in f32: the scale must survive the conversion.
      float asF32 = static_cast<float>(s.floatValue);
      if (!(s.floatValue > 0) || asF32 == 0 || std::isinf(asF32))
        return error(s.loc, "'scale' must be a positive number within the "
                            "range of f32 (about 1e-38 to 3e38)");
      op.scale = s.floatValue;
      scaleGiven = true;
    }
  }
  if (!headsKw)
    return error(call.loc, "'attention' needs 'heads = H'");
  if (op.kvHeads == 0)
    op.kvHeads = op.heads;
  if (qs[1] % op.heads != 0)
    return error(headsKw->value->loc,
                 "heads = " + std::to_string(op.heads) +
                     " does not divide the query width " +
                     std::to_string(qs[1]) + " (query " + q.description +
                     " is " + shapeToString(qs) + ")");
  if (op.heads % op.kvHeads != 0)
    return error(kvHeadsKw ? kvHeadsKw->value->loc : call.loc, "kv_heads = " + std::to_string(op.kvHeads) +
                               " does not divide heads = " +
                               std::to_string(op.heads));
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
  if (op.mask != MaskKind::None && ks[0] != qs[0])
    return error(k.loc, "a " + std::string(maskKindName(op.mask)) +
                            " mask needs as many keys as queries, but key " +
                            k.description + " is " + shapeToString(ks) +
                            " and query " + q.description + " is " +
                            shapeToString(qs));
  if (!scaleGiven)
    op.scale = 1.0 / std::sqrt(static_cast<double>(headDim));
  op.operands = {q.value, k.value, v.value};
  op.results = {graph.addValue(qs)};
  results = op.results;
  graph.ops.push_back(std::move(op));
  return true;
}

std::optional<Graph> Checker::run() {
  graph.name = model.name;
  graph.context = model.context;
  if (isCKeyword(model.name)) {
    error(model.loc, "'" + model.name + "' is a C keyword and cannot name the "
                     "kernel function");
    return std::nullopt;
  }
  if (model.context <= 0) {
    error(model.loc, "model '" + model.name +
                         "' has no 'context = N': the fixed context size is "
                         "required");
    return std::nullopt;
  }
  if (model.dtype != "f32") {
    bool reserved = model.dtype == "bf16" || model.dtype == "f16";
    error(model.dtypeLoc,
          "dtype '" + model.dtype + "' " +
              (reserved ? "is reserved but not supported yet; use f32"
                        : "is unknown; expected f32"));
    return std::nullopt;
  }
  for (const Declaration &decl : model.declarations) {
    Shape shape;
    if (!resolveShape(decl, shape))
      return std::nullopt;
    ValueId v = graph.addValue(shape);
    if (!declare(decl.name, decl.loc, v, /*isArgument=*/true))
      return std::nullopt;
    graph.args.push_back({decl.name, decl.role, v, shape});
  }
  for (const Assignment &assign : model.assignments) {
    std::vector<ValueId> results;
    if (!evaluate(*assign.value, results))
      return std::nullopt;
    if (results.size() != assign.targets.size()) {
      error(assign.targets.front().second,
            std::to_string(assign.targets.size()) + " name(s) assigned from '" +
                assign.value->name + "', which gives " +
                std::to_string(results.size()) + " value(s)");
      return std::nullopt;
    }
    for (size_t i = 0; i < results.size(); ++i)
      if (!declare(assign.targets[i].first, assign.targets[i].second,
                   results[i], /*isArgument=*/false))
        return std::nullopt;
  }
  if (model.outputs.empty()) {
    error(model.closeLoc, "model '" + model.name +
                              "' has no output; add 'output NAME' before '}'");
    return std::nullopt;
  }
  llvm::StringMap<llvm::SMLoc> outputNames;
  for (const OutputDecl &out : model.outputs) {
    auto it = symbols.find(out.name);
    if (it == symbols.end()) {
      error(out.loc, "output '" + out.name + "' is not defined");
      return std::nullopt;
    }
    if (isCKeyword(out.name)) {
      error(out.loc, "'" + out.name + "' is a C keyword and cannot name a "
                     "kernel argument in the generated header");
      return std::nullopt;
    }
    const KernelArg *aliased = nullptr;
    for (const KernelArg &arg : graph.args)
      if (arg.role != ArgRole::Output && arg.value == it->second.value)
        aliased = &arg;
    if (aliased) {
      error(out.loc, "output '" + out.name + "' is " +
                         (out.name == aliased->name
                              ? std::string("an input or param")
                              : "the same tensor as '" + aliased->name + "'") +
                         "; an output must be computed");
      return std::nullopt;
    }
    if (!outputNames.try_emplace(out.name, out.loc).second) {
      error(out.loc, "output '" + out.name + "' is listed twice");
      return std::nullopt;
    }
    it->second.used = true;
    graph.args.push_back(
        {out.name, ArgRole::Output, it->second.value,
         graph.shapeOf(it->second.value)});
  }
  for (const Declaration &decl : model.declarations)
    if (!symbols.lookup(decl.name).used)
      diag.warning(decl.loc, "'" + decl.name +
                                 "' is declared but never used; it stays in "
                                 "the kernel's signature");
  for (const Assignment &assign : model.assignments)
    for (const auto &[name, loc] : assign.targets)
      if (!symbols.lookup(name).used)
        diag.warning(loc, "'" + name + "' is computed but never used");
  return std::move(graph);
}

std::optional<Graph> attnc::checkModel(const ModelAST &model,
                                       DiagnosticReporter &diag) {
  return Checker(model, diag).run();
}

std::optional<Graph> attnc::loadModel(DiagnosticReporter &diag) {
  std::optional<ModelAST> ast = parseModel(diag);
  if (!ast)
    return std::nullopt;
  return checkModel(*ast, diag);
}

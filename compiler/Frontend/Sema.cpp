//===- Sema.cpp - names, scopes, blocks and arithmetic of a model ---------===//

#include "Checker.h"

#include "attnc/Frontend/CNames.h"
#include "attnc/Frontend/DecodeStep.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/PromptCost.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace attnc;
using namespace attnc::sema;

static const char *kOperationNames =
    "linear, split, attention, matmul, transpose, softmax, mask, split_heads, "
    "merge_heads, rope, layer_norm, rms_norm, gelu, silu, relu, mul";

bool Checker::error(llvm::SMLoc loc, const llvm::Twine &message) {
  diag.error(loc, message);
  // Inside a block, say which call (of possibly several) went wrong.
  for (auto it = callStack.rbegin(); it != callStack.rend(); ++it)
    diag.note(it->first, "in the call to block '" + it->second + "' here");
  return false;
}

bool Checker::declare(Scope &scope, const std::string &name, llvm::SMLoc loc,
                      ValueId value, bool isArgument) {
  if (isArgument && isCKeyword(name))
    return error(loc, "'" + name + "' is a C keyword and cannot name a kernel "
                      "argument in the generated header");
  auto [it, inserted] = scope.try_emplace(name, Symbol{value, loc, isArgument});
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
                             (maxArgs == 1 ? " argument" : " arguments") +
                             ", got " + std::to_string(n) +
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

const KeywordArg *Checker::keyword(const Expr &call, llvm::StringRef key) const {
  for (const KeywordArg &kw : call.keywords)
    if (kw.key == key)
      return &kw;
  return nullptr;
}

bool Checker::checkRank(const Operand &op, std::initializer_list<size_t> ranks,
                        const Expr &call, llvm::StringRef role) {
  Shape s = graph.shapeOf(op.value);
  if (llvm::is_contained(ranks, s.size()))
    return true;
  std::string want;
  for (size_t r : ranks)
    want += (want.empty() ? "" : " or ") + std::to_string(r);
  return error(op.loc, "'" + call.name + "' expects its " + role + " " +
                           op.description + " to have rank " + want +
                           ", but it has shape " + shapeToString(s));
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

bool Checker::isNumeric(const Expr &e) const {
  switch (e.kind) {
  case Expr::Kind::Integer:
  case Expr::Kind::Float:
    return true;
  case Expr::Kind::Binary:
    return isNumeric(*e.args[0]) && isNumeric(*e.args[1]);
  case Expr::Kind::Call:
    // sqrt(64), so that a scale can be written as it is derived.
    return e.name == "sqrt" && e.args.size() == 1 && e.keywords.empty() &&
           isNumeric(*e.args[0]);
  case Expr::Kind::Name:
    // The context size is a number in arithmetic: `1 / sqrt(context)`.
    return e.name == "context";
  }
  return false;
}

bool Checker::evaluateNumber(const Expr &e, double &value,
                             llvm::StringRef what) {
  switch (e.kind) {
  case Expr::Kind::Integer:
  case Expr::Kind::Float:
    value = e.floatValue;
    return true;
  case Expr::Kind::Binary: {
    double a, b;
    if (!evaluateNumber(*e.args[0], a, what) ||
        !evaluateNumber(*e.args[1], b, what))
      return false;
    if (e.name == "/" && b == 0)
      return error(e.loc, "division by zero");
    value = e.name == "+"   ? a + b
            : e.name == "-" ? a - b
            : e.name == "*" ? a * b
                            : a / b;
    if (!std::isfinite(value))
      return error(e.loc, "this number is out of range");
    return true;
  }
  case Expr::Kind::Call:
    if (isNumeric(e)) {
      double x;
      if (!evaluateNumber(*e.args[0], x, what))
        return false;
      if (x < 0)
        return error(e.loc, "sqrt of a negative number");
      value = std::sqrt(x);
      return true;
    }
    break;
  case Expr::Kind::Name:
    if (e.name == "context") {
      value = static_cast<double>(model.context);
      return true;
    }
    break;
  }
  return error(e.loc, what + " must be a number");
}

ValueId Checker::addOp(GraphOp op, Shape resultShape) {
  return addOp(std::move(op), std::vector<Shape>{std::move(resultShape)})[0];
}

std::vector<ValueId> Checker::addOp(GraphOp op,
                                    const std::vector<Shape> &resultShapes) {
  op.results.clear();
  for (const Shape &shape : resultShapes)
    op.results.push_back(graph.addValue(shape));
  graph.ops.push_back(std::move(op));
  return graph.ops.back().results;
}

bool Checker::evaluateTensor(const Expr &expr, Operand &operand) {
  operand.loc = expr.loc;
  if (expr.kind == Expr::Kind::Name && expr.name == "context")
    return error(expr.loc, "'context' is the context size, not a tensor");
  if (isNumeric(expr))
    return error(expr.loc, "expected a tensor, found a number");
  if (expr.kind == Expr::Kind::Name) {
    if (expr.name == "context")
      return error(expr.loc, "'context' is the context size, not a tensor");
    auto it = scope->find(expr.name);
    if (it == scope->end())
      return error(expr.loc, "use of undefined name '" + expr.name + "'");
    it->second.used = true;
    operand.value = it->second.value;
    operand.description = "'" + expr.name + "'";
    return true;
  }
  if (expr.kind == Expr::Kind::Binary) {
    operand.description = "the result of '" + expr.name + "'";
    return evaluateBinary(expr, operand.value);
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

bool Checker::elementwise(GraphOp::Kind kind, const Operand &a,
                          const Operand &b, llvm::SMLoc loc,
                          llvm::StringRef what, ValueId &result) {
  Shape as = graph.shapeOf(a.value), bs = graph.shapeOf(b.value);
  const Shape &big = as.size() >= bs.size() ? as : bs;
  const Shape &small = as.size() >= bs.size() ? bs : as;
  if (!std::equal(small.begin(), small.end(), big.end() - small.size()))
    return error(loc, "shape mismatch in '" + what + "': " + a.description +
                          " is " + shapeToString(as) + " and " +
                          b.description + " is " + shapeToString(bs) +
                          "; expected equal shapes, or one the trailing "
                          "dimensions of the other");
  GraphOp op;
  op.kind = kind;
  op.loc = loc;
  op.operands = {a.value, b.value};
  result = addOp(std::move(op), big);
  return true;
}

bool Checker::evaluateBinary(const Expr &expr, ValueId &result) {
  const Expr &lhs = *expr.args[0], &rhs = *expr.args[1];
  bool lhsNumber = isNumeric(lhs), rhsNumber = isNumeric(rhs);
  llvm::StringRef op = expr.name;
  if (lhsNumber || rhsNumber) {
    // A number scales a tensor; it is never broadcast-added.
    if (op == "+" || op == "-")
      return error(expr.loc, "'" + op + "' between a tensor and a number is "
                                        "not supported; only '*' and '/' "
                                        "take a number");
    if (op == "/" && lhsNumber)
      return error(expr.loc, "dividing a number by a tensor is not supported");
    const Expr &numberExpr = lhsNumber ? lhs : rhs;
    const Expr &tensorExpr = lhsNumber ? rhs : lhs;
    double factor;
    Operand t;
    if (!evaluateNumber(numberExpr, factor, "the factor") || !evaluateTensor(tensorExpr, t))
      return false;
    if (op == "/") {
      if (factor == 0)
        return error(numberExpr.loc, "division by zero");
      factor = 1.0 / factor;
    }
    if (factor != 0 && !isNormalF32(factor))
      return error(numberExpr.loc,
                   "the factor is outside the range of f32 (about 1.2e-38 to "
                   "3.4e38 in magnitude, or 0)");
    GraphOp scale;
    scale.kind = GraphOp::Kind::Scale;
    scale.loc = expr.loc;
    scale.operands = {t.value};
    scale.scale = factor;
    result = addOp(std::move(scale), graph.shapeOf(t.value));
    return true;
  }
  if (op == "/")
    return error(expr.loc, "dividing tensors elementwise is not supported; "
                           "divide by a number");
  Operand a, b;
  if (!evaluateTensor(lhs, a) || !evaluateTensor(rhs, b))
    return false;
  GraphOp::Kind kind = op == "+"   ? GraphOp::Kind::Add
                       : op == "-" ? GraphOp::Kind::Sub
                                   : GraphOp::Kind::Mul;
  return elementwise(kind, a, b, expr.loc, op, result);
}

bool Checker::evaluateBlockCall(const BlockDef &block, const Expr &call,
                                std::vector<ValueId> &results) {
  if (!call.keywords.empty())
    return error(call.keywords.front().loc,
                 "block '" + block.name + "' takes no keyword arguments");
  if (call.args.size() != block.params.size())
    return error(call.loc, "block '" + block.name + "' takes " +
                               std::to_string(block.params.size()) +
                               " arguments, got " +
                               std::to_string(call.args.size()));
  if (llvm::any_of(callStack, [&](const auto &c) { return c.second == block.name; }))
    return error(call.loc, "block '" + block.name + "' calls itself");
  std::vector<ValueId> arguments;
  for (const ExprPtr &arg : call.args) {
    Operand op;
    if (!evaluateTensor(*arg, op))
      return false;
    arguments.push_back(op.value);
  }
  // The body sees its parameters and the blocks defined before it, nothing
  // of the caller.
  Scope local;
  Scope *callerScope = scope;
  llvm::StringMap<const BlockDef *> callerBlocks = visibleBlocks;
  visibleBlocks.clear();
  for (const BlockDef &b : model.blocks) {
    if (&b == &block)
      break;
    visibleBlocks[b.name] = &b;
  }
  calledBlocks.insert(block.name);
  callStack.emplace_back(call.loc, block.name);
  scope = &local;
  bool ok = true;
  for (size_t i = 0; ok && i < block.params.size(); ++i)
    ok = declare(local, block.params[i].first, block.params[i].second,
                 arguments[i], /*isArgument=*/false);
  for (size_t i = 0; ok && i < block.assignments.size(); ++i)
    ok = assign(block.assignments[i]);
  for (size_t i = 0; ok && i < block.returns.size(); ++i) {
    auto it = local.find(block.returns[i].name);
    if (it == local.end())
      ok = error(block.returns[i].loc, "block '" + block.name +
                                           "' returns undefined name '" +
                                           block.returns[i].name + "'");
    else
      results.push_back(it->second.value);
  }
  scope = callerScope;
  visibleBlocks = std::move(callerBlocks);
  callStack.pop_back();
  return ok;
}

bool Checker::evaluate(const Expr &expr, std::vector<ValueId> &results) {
  if (expr.kind != Expr::Kind::Call) {
    Operand op;
    if (!evaluateTensor(expr, op))
      return false;
    results.push_back(op.value);
    return true;
  }
  using Handler = bool (Checker::*)(const Expr &, std::vector<ValueId> &);
  static const std::pair<const char *, Handler> handlers[] = {
      {"linear", &Checker::evaluateLinear},
      {"split", &Checker::evaluateSplit},
      {"attention", &Checker::evaluateAttention},
      {"matmul", &Checker::evaluateMatmul},
      {"transpose", &Checker::evaluateTranspose},
      {"softmax", &Checker::evaluateSoftmax},
      {"mask", &Checker::evaluateMask},
      {"split_heads", &Checker::evaluateSplitHeads},
      {"merge_heads", &Checker::evaluateMergeHeads},
      {"rope", &Checker::evaluateRope},
      {"layer_norm", &Checker::evaluateNorm},
      {"rms_norm", &Checker::evaluateNorm},
      {"gelu", &Checker::evaluateActivation},
      {"silu", &Checker::evaluateActivation},
      {"relu", &Checker::evaluateActivation},
      {"mul", &Checker::evaluateMul},
  };
  if (const BlockDef *block = visibleBlocks.lookup(expr.name))
    return evaluateBlockCall(*block, expr, results);
  for (const auto &[name, handler] : handlers)
    if (expr.name == name)
      return (this->*handler)(expr, results);
  if (expr.name == "sqrt")
    return error(expr.loc, "'sqrt' applies to numbers only");
  for (const BlockDef &b : model.blocks)
    if (b.name == expr.name)
      return error(expr.loc, "block '" + expr.name +
                                 "' is not visible here: a block may call "
                                 "only blocks defined before it");
  std::vector<std::string> names;
  for (const auto &entry : visibleBlocks)
    names.push_back(entry.first().str());
  llvm::sort(names);
  std::string blocks;
  for (const std::string &n : names)
    blocks += ", " + n;
  return error(expr.loc, "unknown operation '" + expr.name +
                             "'; expected one of " + kOperationNames +
                             (blocks.empty() ? "" : " or a block (" +
                                                        blocks.substr(2) + ")"));
}

bool Checker::assign(const Assignment &assignment) {
  std::vector<ValueId> results;
  if (!evaluate(*assignment.value, results))
    return false;
  if (results.size() != assignment.targets.size()) {
    std::string what = assignment.value->kind == Expr::Kind::Call
                           ? "'" + assignment.value->name + "'"
                           : std::string("the expression");
    return error(assignment.targets.front().second,
                 std::to_string(assignment.targets.size()) +
                     " name(s) assigned from " + what + ", which gives " +
                     std::to_string(results.size()) + " value(s)");
  }
  for (size_t i = 0; i < results.size(); ++i)
    if (!declare(*scope, assignment.targets[i].first,
                 assignment.targets[i].second, results[i],
                 /*isArgument=*/false))
      return false;
  return true;
}

std::optional<Graph> Checker::run() {
  graph.name = model.name;
  graph.context = model.context;
  if (std::optional<llvm::StringRef> why = whyNotAKernelName(model.name)) {
    error(model.nameLoc, "'" + model.name + "' is " + *why +
                             " and cannot name the kernel function");
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
  llvm::StringMap<llvm::SMLoc> blockNames;
  for (const BlockDef &b : model.blocks) {
    if (llvm::is_contained(llvm::split(kOperationNames, ", "), b.name) ||
        b.name == "window" || b.name == "sqrt") {
      error(b.loc, "block '" + b.name + "' has the name of a built-in "
                   "operation");
      return std::nullopt;
    }
    if (!blockNames.try_emplace(b.name, b.loc).second) {
      error(b.loc, "redefinition of block '" + b.name + "'");
      diag.note(blockNames[b.name], "first defined here");
      return std::nullopt;
    }
    visibleBlocks[b.name] = &b;
  }
  for (const Declaration &decl : model.declarations) {
    Shape shape;
    if (!resolveShape(decl, shape))
      return std::nullopt;
    ValueId v = graph.addValue(shape);
    if (!declare(modelScope, decl.name, decl.loc, v, /*isArgument=*/true))
      return std::nullopt;
    graph.args.push_back({decl.name, decl.role, v, shape});
  }
  for (const Assignment &assignment : model.assignments)
    if (!assign(assignment))
      return std::nullopt;
  if (model.outputs.empty()) {
    error(model.closeLoc, "model '" + model.name +
                              "' has no output; add 'output NAME' before '}'");
    return std::nullopt;
  }
  llvm::StringMap<llvm::SMLoc> outputNames;
  for (const OutputDecl &out : model.outputs) {
    auto it = modelScope.find(out.name);
    if (it == modelScope.end()) {
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
    graph.args.push_back({out.name, ArgRole::Output, it->second.value,
                          graph.shapeOf(it->second.value)});
  }
  // The header names each argument's size NAME_ARG_ELEMENTS, in capitals.
  llvm::StringMap<std::pair<std::string, llvm::SMLoc>> macroNames;
  auto sameMacro = [&](const std::string &name, llvm::SMLoc loc) {
    auto [it, inserted] =
        macroNames.try_emplace(llvm::StringRef(name).upper(), name, loc);
    if (inserted)
      return false;
    error(loc, "'" + name + "' and '" + it->second.first +
                   "' differ only in case; the generated header's macro " +
                   llvm::StringRef(model.name).upper() + "_" + it->getKey() +
                   "_ELEMENTS would be defined twice");
    diag.note(it->second.second, "'" + it->second.first + "' is declared here");
    return true;
  };
  for (const Declaration &decl : model.declarations)
    if (sameMacro(decl.name, decl.loc))
      return std::nullopt;
  for (const OutputDecl &out : model.outputs)
    if (sameMacro(out.name, out.loc))
      return std::nullopt;
  for (const Declaration &decl : model.declarations)
    if (!modelScope.lookup(decl.name).used)
      diag.warning(decl.loc, "'" + decl.name +
                                 "' is declared but never used; it stays in "
                                 "the kernel's signature");
  for (const Assignment &assignment : model.assignments)
    for (const auto &[name, loc] : assignment.targets)
      if (!modelScope.lookup(name).used)
        diag.warning(loc, "'" + name + "' is computed but never used");
  // A block is checked with the shapes of each call, so an uncalled one
  // has not been checked at all.
  for (const BlockDef &b : model.blocks)
    if (!calledBlocks.count(b.name))
      diag.warning(b.loc, "block '" + b.name +
                              "' is never called, so it is not checked");
  if (model.decode) {
    std::optional<Graph> step = buildDecodeStep(graph, diag, model.decodeLoc);
    if (!step)
      return std::nullopt;
    graph.decodeStep = std::make_shared<Graph>(std::move(*step));
    graph.prefill =
        std::make_shared<Graph>(buildPrefill(graph, *graph.decodeStep));
    if (chunkRowsFor(graph.context) > 1)
      graph.chunk = std::make_shared<Graph>(
          buildChunk(graph, *graph.decodeStep, diag, model.decodeLoc));
    graph.decodeStep->prefillFrom = prefillFromTokens(graph);
  }
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

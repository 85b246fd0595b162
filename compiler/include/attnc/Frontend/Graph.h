//===- Graph.h - a checked model as a list of typed operations --*- C++ -*-===//
//
// Sema turns the syntax tree into this form: every value has a static shape,
// every operation has its attributes resolved (default scale, mask kind), and
// names are gone except where the ABI needs them. The reference interpreter
// and every lowering consume this, never the raw syntax tree.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_GRAPH_H
#define ATTNC_FRONTEND_GRAPH_H

#include "attnc/Frontend/AST.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnc {

using Shape = std::vector<int64_t>;

int64_t numElements(const Shape &shape);
std::string shapeToString(const Shape &shape);

using ValueId = unsigned;

enum class MaskKind { None, Causal, Window };
const char *maskKindName(MaskKind kind);

struct GraphOp {
  enum class Kind { Linear, Split, Attention };
  Kind kind;
  llvm::SMLoc loc;
  std::vector<ValueId> operands;
  std::vector<ValueId> results;

  // linear: operands (x, w[, b]).
  // split: one operand, results are equal column blocks in order.
  // attention: operands (q, k, v).
  int64_t heads = 0;
  int64_t kvHeads = 0;
  MaskKind mask = MaskKind::None;
  int64_t window = 0;
  double scale = 0;
};

/// An argument of the compiled kernel, in ABI order: inputs and params in
/// declaration order, then outputs in `output` order.
struct KernelArg {
  std::string name;
  ArgRole role;
  ValueId value;
  Shape shape;
};

struct Graph {
  std::string name;
  int64_t context = 0;
  std::vector<Shape> valueShapes;
  std::vector<KernelArg> args;
  std::vector<GraphOp> ops;

  ValueId addValue(Shape shape) {
    valueShapes.push_back(std::move(shape));
    return valueShapes.size() - 1;
  }
  const Shape &shapeOf(ValueId v) const { return valueShapes[v]; }
  unsigned numInputArgs() const;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_GRAPH_H

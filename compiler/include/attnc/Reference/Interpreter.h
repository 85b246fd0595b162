//===- Interpreter.h - double-precision oracle for a model ------*- C++ -*-===//
//
// The straightforward meaning of every operation, in double precision and in
// plain loops, written independently of every lowering. All numerics tests and
// `attn-run` compare compiled kernels against it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_REFERENCE_INTERPRETER_H
#define ATTNC_REFERENCE_INTERPRETER_H

#include "attnc/Frontend/Graph.h"

#include <cstdint>
#include <vector>

namespace attnc {

/// Row-major dense tensor.
struct RefTensor {
  Shape shape;
  std::vector<double> data;
};

/// Runs the graph on `arguments`, one per input/param kernel argument in ABI
/// order; returns one tensor per output, in ABI order.
std::vector<RefTensor> interpret(const Graph &graph,
                                 const std::vector<RefTensor> &arguments);

/// What a decode step's reference remembers between tokens: every key and
/// value row each attention layer has seen, and the next token's position.
struct DecodeHistory {
  std::vector<std::vector<std::vector<double>>> keys, values; ///< [layer][t]
  int64_t position = 0;
};

/// Runs one token through a decode step (buildDecodeStep), appending its
/// keys and values to `history` and advancing its position.
std::vector<RefTensor> interpretDecodeStep(const Graph &step,
                                           const std::vector<RefTensor> &arguments,
                                           DecodeHistory &history);

/// interpret() and interpretDecodeStep() share this: `history` is null
/// except for decode steps.
std::vector<RefTensor> evaluate(const Graph &graph,
                                const std::vector<RefTensor> &arguments,
                                DecodeHistory *history);

/// Deterministic test data for every input/param argument of `graph`:
/// inputs uniform in [-1, 1]; params uniform in [-1, 1] / sqrt(rows) for
/// matrices (so projections keep unit scale) and [-1, 1] for vectors.
std::vector<std::vector<float>> makeRandomArguments(const Graph &graph,
                                                    uint64_t seed);

/// How far a float result is from the reference.
struct ErrorStats {
  double maxAbs = 0;      ///< max_i |got_i - want_i|
  double maxRel = 0;      ///< maxAbs / max_i |want_i|
  double l2Rel = 0;       ///< ||got - want||_2 / ||want||_2
  bool allFinite = true;
};
ErrorStats compareToReference(const float *got, const RefTensor &want);

} // namespace attnc

#endif // ATTNC_REFERENCE_INTERPRETER_H

//===- Algorithm.h - a model's constructs as Halide Funcs -------*- C++ -*-===//
//
// The algorithm half of the Halide backend: what every value of the model
// is, as pure Halide definitions, with no word about loop order, tiling or
// storage. Schedule.h decides those. Vars run innermost first, so a
// row-major [rows, columns] value is f(column, row).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_HALIDE_ALGORITHM_H
#define ATTNC_HALIDE_ALGORITHM_H

#include "attnc/Halide/HalideModule.h"

#include "Halide.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace attnc::hl {

/// The Funcs of one construct. `result` is the model's value; the others
/// are the intermediate stages a schedule places (empty when unused).
struct Construct {
  const attnc_hl_op *op = nullptr;
  Halide::Func result;
  std::vector<Halide::Var> vars; ///< result's, innermost first

  // attention (and its probabilities): keys of a head as columns, q.k,
  // the row maximum, exp(score - max), the row sum, sum of weights * v.
  // `dot` holds the scores as stored: q.k with bias, ALiBi and mask.
  Halide::Func queries, keysT, values, dotSum, dot, partialMax, rowMax, weights, partialSum,
      rowSum, accumulator;
  /// The weighted sum of one chunk of chunkWidth keys' values; the
  /// accumulator adds these up over the chunks.
  Halide::Func chunkSum;
  /// Over the chunks of keys a group of chunkWidth queries sees; over the
  /// keys of a chunk; over a head's width.
  Halide::RDom groupChunks, chunkKeys, features;
  int chunkWidth = 0;
  Halide::Var key, query, head, feature, lane; ///< the vars of the stages above
  Halide::Var inPanel; ///< keysT's key within its panel of panelWidth keys
  /// The accumulator's query: row rowInGroup of group queryGroup of
  /// chunkWidth queries.
  Halide::Var rowInGroup, queryGroup;
  int panelWidth = 0;
  int64_t headDim = 0;
  // decode attention: the new token's own score per head, and the ranges
  // of ring slots the step reads.
  Halide::Func newKeyDot;
  /// One range of slots a decode step or chunk reads: its q.k sums, its
  /// scores as stored (a step's new token's against its own key), its
  /// weights, the range itself and the visible slots in it other than a
  /// step's new token's. A chunk's also has its per-lane row maxima and
  /// sums (slotBlock lanes, each over every slotBlock-th slot) and its sum
  /// of weights times values.
  struct DecodeSlotRange {
    Halide::Func dotSum, dot, weights;
    Halide::RDom slots, valueSlots;
    Halide::Func partialMax, partialSum, valueSum;
  };
  std::vector<DecodeSlotRange> slotRanges;
  /// The ranges' ends are multiples of this many slots.
  int slotBlock = 1;
  /// Rows of decode attention: 1 for a step, N for a chunk.
  int decodeRows = 1;
  /// A chunk's attention over its own rows (row r sees rows up to r): the
  /// keys of a key/value head transposed, so that the scores against
  /// them are unit-stride vectors, then the stages of a slot range.
  Halide::Func ownKeys;
  DecodeSlotRange ownRows;
  // linear and matmul: the reduction over the inner dimension; linear: its
  // weight, whose column panels a schedule may copy.
  Halide::Func product, weight;
  Halide::RDom inner;
  // norms and softmax: per-row statistics; rope: the cos and sin tables.
  Halide::Func stats, cosTable, sinTable;

  bool isReduction() const;   ///< reads whole rows or columns of operands
  bool isIndexRemap() const;  ///< moves elements, computes nothing
};

struct Algorithm {
  /// Inputs and params, then a decode step's caches: ABI order.
  std::vector<Halide::ImageParam> arguments;
  /// A decode step's token position (after the caches), else undefined.
  Halide::Param<int64_t> position{"position"};
  bool hasPosition = false;
  /// ABI order, then a decode step's new key and value of each layer
  /// (HalideModule.h).
  std::vector<Halide::Func> outputs;
  /// Extents, innermost first, of each argument and output.
  std::vector<std::vector<int>> argumentExtents, outputExtents;
  /// Strides of outputs that are not dense (a key cache's column); empty
  /// for dense ones.
  std::vector<std::vector<int>> outputStrides;
  std::vector<Halide::Func> values;           ///< by value id
  std::vector<attnc_hl_shape> shapes;         ///< by value id
  std::vector<Construct> constructs;                  ///< one per op, model order
  /// For each value, the constructs that read it (indices into constructs).
  std::vector<std::vector<int>> consumers;
  std::vector<bool> isOutput; ///< by value id
  /// Outputs that copy their value rather than being it (a value output
  /// twice, or read by constructs too): their Func, vars and extents.
  struct OutputCopy {
    Halide::Func func;
    std::vector<Halide::Var> vars; ///< innermost first
    std::vector<int> extents;
  };
  std::vector<OutputCopy> outputCopies;
};

/// The pipeline's arguments but its outputs, in the order it takes them.
std::vector<Halide::Argument> pipelineArguments(const Algorithm &algorithm);

/// Tells Halide a buffer is the ABI's dense row-major array of `extents`
/// (innermost first), or of `strides` when given: no index arithmetic is
/// left to run time.
void constrainDense(const Halide::OutputImageParam &buffer,
                    const std::vector<int> &extents,
                    const std::vector<int> &strides = {});

/// A construct of the model the backend cannot build.
struct ConstructError : std::runtime_error {
  ConstructError(const attnc_hl_op &op, const std::string &what)
      : std::runtime_error(std::string(op.location) + ": " + what) {}
};

/// `lanes` floats per vector of the target: the reductions over keys go
/// that wide. Throws ConstructError, or Halide's own errors.
Algorithm buildAlgorithm(const attnc_hl_model &model, int lanes);

} // namespace attnc::hl

#endif // ATTNC_HALIDE_ALGORITHM_H

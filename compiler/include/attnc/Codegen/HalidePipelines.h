//===- HalidePipelines.h - a model as several Halide pipelines --*- C++ -*-===//
//
// Halide's compile time grows faster than a pipeline's length: one GPT-2
// layer compiles in about 0.9 s, 8 of them as one pipeline in 15 s, 16 in
// 100 s. A deep model is therefore compiled as several pipelines run one
// after another, cut where a single value, which has a buffer of its own
// anyway, flows from one to the next (between the layers of a stack: the
// residual stream), and the pipelines of equal layers are one.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_HALIDEPIPELINES_H
#define ATTNC_CODEGEN_HALIDEPIPELINES_H

#include "attnc/Codegen/HalideExport.h"

#include <string>
#include <vector>

namespace attnc {

/// Where a pipeline's argument comes from: the whole model's argument at
/// `wholeArg`, or (wholeArg < 0) a buffer the entry point allocates for
/// value `value`, which one pipeline writes and the next reads.
struct PipelineArgSource {
  int32_t wholeArg = -1;
  int32_t value = -1;
};

struct HalidePipeline {
  HalideModel model;
  /// One per argument of model, in its order.
  std::vector<PipelineArgSource> sources;
  /// A decode step's caches among the arguments, in order, as indices
  /// into the whole step's caches: the pipeline's new keys and values go
  /// to those caches' slots.
  std::vector<int32_t> cacheSlots;
  /// Equal to an earlier pipeline, whose name it has: compiled once.
  bool reusesEarlier = false;
};

/// `whole` (named `pipelineName`) as pipelines of at least `minOps` ops
/// each, cut after an op whose result is the only value a later op reads
/// and that cannot hold a mask's -inf (which Halide must see to keep its
/// arithmetic strict); the pipelines are named pipelineName_0, _1, ...,
/// and one equal to an earlier one (the next layer of a stack) takes the
/// earlier one's name and is compiled once.
/// One pipeline, `pipelineName`, when there is no such cut or `minOps` is
/// 0. A decode step's pipelines take the caches and the position their
/// constructs read, and write those caches' new keys and values.
std::vector<HalidePipeline> splitIntoPipelines(const HalideModel &whole,
                                               unsigned minOps,
                                               const std::string &pipelineName);

} // namespace attnc

#endif // ATTNC_CODEGEN_HALIDEPIPELINES_H

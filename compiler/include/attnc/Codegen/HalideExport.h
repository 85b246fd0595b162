//===- HalideExport.h - the attn dialect as a Halide backend model -*- C++ -*-===//
//
// Flattens a model's function, after the attn-dialect passes (fusion,
// canonicalization), into the plain C structures the Halide backend module
// takes (attnc/Halide/HalideModule.h), keeping the strings and arrays they
// point to alive.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_HALIDEEXPORT_H
#define ATTNC_CODEGEN_HALIDEEXPORT_H

#include "attnc/Frontend/Graph.h"
#include "attnc/Halide/HalideModule.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <deque>
#include <string>
#include <vector>

namespace attnc {

class HalideModel {
public:
  /// The function `graph.name` of `module`, as a pipeline named
  /// `pipelineName`. Fails, naming the construct, on an op the Halide
  /// backend does not know.
  static llvm::Expected<HalideModel> fromModule(mlir::ModuleOp module,
                                                const Graph &graph,
                                                const std::string &pipelineName);

  /// A pipeline of `ops` over `values` (their cache indices into `args`)
  /// taking `args` (in HalideModule.h's order), named `pipelineName`: a
  /// part of a model's pipeline. Copies the strings.
  static HalideModel part(const std::vector<attnc_hl_shape> &values,
                          const std::vector<attnc_hl_op> &ops,
                          const std::vector<attnc_hl_arg> &args,
                          const std::string &pipelineName);

  const attnc_hl_model &model() const { return model_; }

  // model_ points into the members: moving keeps their storage, a copy
  // would not.
  HalideModel(HalideModel &&) = default;
  HalideModel(const HalideModel &) = delete;
  HalideModel &operator=(const HalideModel &) = delete;

private:
  HalideModel() = default;
  const char *keep(std::string text);
  /// Points model_ at the members.
  void finish(const std::string &pipelineName);

  attnc_hl_model model_{};
  std::vector<attnc_hl_shape> values;
  std::vector<attnc_hl_arg> args;
  std::vector<attnc_hl_op> ops;
  std::deque<std::string> strings; ///< names and locations; never moves
};

} // namespace attnc

#endif // ATTNC_CODEGEN_HALIDEEXPORT_H

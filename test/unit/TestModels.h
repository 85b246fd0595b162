//===- TestModels.h - compile .attn text into a loaded kernel ---*- C++ -*-===//

#ifndef ATTNC_TEST_TESTMODELS_H
#define ATTNC_TEST_TESTMODELS_H

#include "attnc/Codegen/HalideBackend.h"
#include "attnc/Codegen/Pipeline.h"
#include "attnc/Frontend/Graph.h"
#include "attnc/Reference/Interpreter.h"
#include "attnc/runtime.h"

#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace attnc::test {

/// Parses and checks `text`; diagnostics are appended to `diagnostics`.
std::optional<Graph> checkText(const std::string &text, llvm::SourceMgr &sm,
                               std::string &diagnostics);

/// A model compiled to a temporary shared library and opened through the
/// runtime; the library file is removed when this goes away.
class CompiledModel {
public:
  /// With `attentionProbs`, as attnc --emit-attention-probs: every
  /// attention call also returns its softmax weights. `prepare` may change
  /// the checked graph before it is compiled (embed params, say).
  static std::unique_ptr<CompiledModel>
  compile(const std::string &text, std::string &error,
          const AttnOptimizationOptions &options = {},
          bool attentionProbs = false, Backend backend = Backend::MLIR,
          const std::function<void(Graph &)> &prepare = nullptr,
          const HalideOptions &halide = {});
  ~CompiledModel();

  const Graph &graph() const { return *graph_; }
  attn_model *model() const { return model_; }
  const std::string &libraryPath() const { return path_; }

  /// Runs the kernel on `inputs` (one per input and param the C signature
  /// takes, ABI order: none for an embedded param) and returns
  /// the outputs; `error` is set if the runtime reports a failure.
  std::vector<std::vector<float>>
  run(std::vector<std::vector<float>> &inputs, std::string &error) const;

private:
  llvm::SourceMgr sourceMgr_;
  std::optional<Graph> graph_;
  std::string path_;
  attn_model *model_ = nullptr;
};

/// Compiles `source`, runs it on seeded random inputs and checks every output
/// against the reference: L2 error <= l2Tolerance of the output's L2 norm and
/// max error <= maxTolerance of its largest magnitude (see NumericsTest.cpp
/// for why these bounds). Reports failures through gtest.
void expectMatchesReference(const std::string &source,
                            double l2Tolerance = 1e-5,
                            double maxTolerance = 1e-4,
                            std::initializer_list<uint64_t> seeds = {1, 2},
                            const AttnOptimizationOptions &options = {},
                            Backend backend = Backend::MLIR,
                            const HalideOptions &halide = {});

/// The backends the numerics suites run on: MLIR, and Halide when this
/// build has it. Every parametrized numerics suite crosses its cases with
/// these, with the same tolerances.
std::vector<Backend> testedBackends();
std::string backendName(Backend backend);

/// A numerics suite over (case, backend) pairs.
template <typename Case>
class BackendTest
    : public testing::TestWithParam<std::tuple<Case, Backend>> {
protected:
  const Case &testCase() const { return std::get<0>(this->GetParam()); }
  Backend backend() const { return std::get<1>(this->GetParam()); }
};

/// Test names "<case>_<backend>" from a namer of the cases alone.
template <typename Case, typename CaseNamer>
auto nameWithBackend(CaseNamer caseName) {
  return [caseName](
             const testing::TestParamInfo<std::tuple<Case, Backend>> &info) {
    return std::string(caseName(testing::TestParamInfo<Case>(
               std::get<0>(info.param), info.index))) +
           "_" + backendName(std::get<1>(info.param));
  };
}

/// A whole model's source and the name its test cases take.
struct NamedModel {
  const char *name;
  const char *source;
};

/// Test names "<model name>_<backend>" for a suite over NamedModel cases.
inline auto namedModelWithBackend() {
  return nameWithBackend<NamedModel>(
      [](const testing::TestParamInfo<NamedModel> &info) {
        return std::string(info.param.name);
      });
}

/// The declarations and statements inside `model m { ... }`, and the name
/// its test cases take.
struct ModelBody {
  const char *name;
  const char *body;
};

inline void PrintTo(const ModelBody &b, std::ostream *os) { *os << b.name; }

/// Test names "<body name>_<backend>" for a suite over ModelBody cases.
inline auto modelBodyWithBackend() {
  return nameWithBackend<ModelBody>(
      [](const testing::TestParamInfo<ModelBody> &info) {
        return std::string(info.param.name);
      });
}

/// A test run once on each of testedBackends(), with nothing else varying.
class PerBackendTest : public testing::TestWithParam<Backend> {};

/// Test names "<backend>" for a PerBackendTest suite.
inline std::string
backendTestName(const testing::TestParamInfo<Backend> &info) {
  return backendName(info.param);
}

/// Runs the PerBackendTest suite `Suite` on each of testedBackends(), its
/// tests named "Backends/<Suite>.<test>/<backend>".
#define ATTNC_INSTANTIATE_PER_BACKEND(Suite)                                   \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                    \
                           testing::ValuesIn(testedBackends()),                \
                           backendTestName)

/// The text of a file under the source tree, e.g. "examples/gpt2_block.attn".
std::string readSourceFile(const std::string &relativePath);

/// Reference outputs for float inputs.
std::vector<RefTensor> referenceOutputs(const Graph &graph,
                                        const std::vector<std::vector<float>> &inputs);

} // namespace attnc::test

#endif // ATTNC_TEST_TESTMODELS_H

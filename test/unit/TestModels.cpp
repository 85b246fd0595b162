//===- TestModels.cpp - compile .attn text into a loaded kernel -----------===//

#include "TestModels.h"

#include "attnc/Compiler.h"
#include "attnc/Frontend/Sema.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace attnc;
using namespace attnc::test;

std::optional<Graph> attnc::test::checkText(const std::string &text,
                                            llvm::SourceMgr &sm,
                                            std::string &diagnostics) {
  sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "test.attn"),
                        llvm::SMLoc());
  llvm::raw_string_ostream os(diagnostics);
  DiagnosticReporter diag(sm, &os);
  return loadModel(diag);
}

std::unique_ptr<CompiledModel>
CompiledModel::compile(const std::string &text, std::string &error,
                       const AttnOptimizationOptions &options,
                       bool attentionProbs, Backend backend,
                       const std::function<void(Graph &)> &prepare,
                       const HalideOptions &halide) {
  std::unique_ptr<CompiledModel> m(new CompiledModel());
  m->graph_ = checkText(text, m->sourceMgr_, error);
  if (!m->graph_)
    return nullptr;
  if (attentionProbs)
    addAttentionProbOutputs(*m->graph_);
  if (prepare)
    prepare(*m->graph_);
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("attnc-test", "so", path)) {
    error = "cannot create a temporary file: " + ec.message();
    return nullptr;
  }
  m->path_ = std::string(path);
  if (llvm::Error err = compileGraph(*m->graph_, m->sourceMgr_, TargetOptions(),
                                     m->path_, /*sharedLibrary=*/true,
                                     options, backend, halide)) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  if (attn_model_open(m->path_.c_str(), m->graph_->name.c_str(), &m->model_) !=
      ATTN_OK) {
    error = attn_last_error();
    return nullptr;
  }
  return m;
}

CompiledModel::~CompiledModel() {
  attn_model_close(model_);
  if (!path_.empty())
    llvm::sys::fs::remove(path_);
}

std::vector<std::vector<float>>
CompiledModel::run(std::vector<std::vector<float>> &inputs,
                   std::string &error) const {
  std::vector<std::vector<float>> outputs;
  outputs.reserve(graph_->args.size());
  std::vector<void *> args;
  size_t next = 0;
  for (const KernelArg *abiArg : graph_->abiArgs()) {
    const KernelArg &arg = *abiArg;
    if (arg.role == ArgRole::Output) {
      // NaN-filled, so an element the kernel forgets to write cannot pass.
      outputs.emplace_back(numElements(arg.shape), __builtin_nanf(""));
      args.push_back(outputs.back().data());
    } else {
      args.push_back(inputs[next++].data());
    }
  }
  if (attn_model_run(model_, args.data(), args.size()) != ATTN_OK)
    error = attn_last_error();
  return outputs;
}

std::vector<RefTensor>
attnc::test::referenceOutputs(const Graph &graph,
                              const std::vector<std::vector<float>> &inputs) {
  std::vector<RefTensor> refInputs;
  size_t next = 0;
  for (const KernelArg &arg : graph.args)
    if (arg.role != ArgRole::Output) {
      const std::vector<float> &data = inputs[next++];
      refInputs.push_back({arg.shape, std::vector<double>(data.begin(), data.end())});
    }
  return interpret(graph, refInputs);
}

void attnc::test::expectMatchesReference(const std::string &source,
                                         double l2Tolerance,
                                         double maxTolerance,
                                         std::initializer_list<uint64_t> seeds,
                                         const AttnOptimizationOptions &options,
                                         Backend backend,
                                         const HalideOptions &halide) {
  std::string error;
  auto compiled =
      CompiledModel::compile(source, error, options, /*attentionProbs=*/false,
                             backend, /*prepare=*/nullptr, halide);
  ASSERT_TRUE(compiled) << error << "\nmodel:\n" << source;
  for (uint64_t seed : seeds) {
    std::vector<std::vector<float>> inputs =
        makeRandomArguments(compiled->graph(), seed);
    std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
    std::vector<std::vector<float>> got = compiled->run(inputs, error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_EQ(got.size(), want.size());
    for (size_t o = 0; o < got.size(); ++o) {
      ErrorStats s = compareToReference(got[o].data(), want[o]);
      EXPECT_TRUE(s.allFinite) << "output " << o << " has NaN or Inf\n" << source;
      EXPECT_LE(s.l2Rel, l2Tolerance) << "output " << o << ", seed " << seed
                                      << "\n" << source;
      EXPECT_LE(s.maxRel, maxTolerance) << "output " << o << ", seed " << seed
                                        << "\n" << source;
    }
  }
}

std::string attnc::test::readSourceFile(const std::string &relativePath) {
  std::string path = std::string(ATTNC_SOURCE_DIR) + "/" + relativePath;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  return (*buffer)->getBuffer().str();
}

std::vector<Backend> attnc::test::testedBackends() {
  if (halideBackendBuilt())
    return {Backend::MLIR, Backend::Halide};
  return {Backend::MLIR};
}

std::string attnc::test::backendName(Backend backend) {
  return backend == Backend::Halide ? "halide" : "mlir";
}

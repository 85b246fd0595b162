//===- attn-run.cpp - run a compiled model and check it against the reference ===//
//
// attn-run --model model.attn model.so
// Fills every input and param from a seed, runs the kernel through the
// runtime, runs the double-precision reference on the same data, and prints
// the error of every output. Exits 1 when any output exceeds the tolerance.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Sema.h"
#include "attnc/Reference/Interpreter.h"
#include "attnc/runtime.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <chrono>

using namespace llvm;
using namespace attnc;

namespace {

cl::OptionCategory runCategory("attn-run options");
cl::opt<std::string> libraryPath(cl::Positional, cl::Required,
                                 cl::desc("<model.so>"), cl::cat(runCategory));
cl::opt<std::string> modelPath("model", cl::Required,
                               cl::desc("The .attn source the library was "
                                        "compiled from (for the reference)"),
                               cl::value_desc("model.attn"), cl::cat(runCategory));
cl::opt<uint64_t> seed("seed", cl::desc("Seed for the random inputs"),
                       cl::init(1), cl::cat(runCategory));
cl::opt<double> tolerance(
    "tolerance",
    cl::desc("Largest accepted max abs error relative to the output's largest "
             "magnitude"),
    cl::init(1e-4), cl::cat(runCategory));
cl::opt<unsigned> repeat("repeat", cl::desc("Runs to time (median reported)"),
                         cl::init(5), cl::cat(runCategory));

int fail(const Twine &message) {
  WithColor::error(errs(), "attn-run") << message << "\n";
  return 1;
}

/// The kernel must have been compiled from this model: same arguments, in
/// the same order, with the same shapes.
bool matchesModel(const attn_kernel_info &info, const Graph &graph) {
  if (info.num_args != static_cast<int32_t>(graph.args.size())) {
    fail(Twine("the library's model has ") + Twine(info.num_args) +
         " arguments but '" + modelPath + "' declares " +
         Twine(graph.args.size()));
    return false;
  }
  for (size_t i = 0; i < graph.args.size(); ++i) {
    const attn_arg_info &a = info.args[i];
    const KernelArg &want = graph.args[i];
    Shape got(a.shape, a.shape + a.rank);
    if (want.name != a.name || got != want.shape) {
      fail(Twine("argument #") + Twine(i) + " of the library is '" + a.name +
           "' " + shapeToString(got) + " but the model declares '" +
           want.name + "' " + shapeToString(want.shape));
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&runCategory});
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-run: run a compiled model and check it "
                              "against the reference\n");

  auto file = MemoryBuffer::getFileOrSTDIN(modelPath, /*IsText=*/true);
  if (std::error_code ec = file.getError())
    return fail("cannot read '" + modelPath + "': " + ec.message());
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), SMLoc());
  DiagnosticReporter diag(sourceMgr);
  std::optional<Graph> graph = loadModel(diag);
  if (!graph)
    return 1;

  // dlopen searches the library path for a bare file name; a user means the
  // file in the current directory.
  SmallString<256> library(libraryPath);
  sys::fs::make_absolute(library);
  attn_model *model = nullptr;
  if (attn_model_open(library.c_str(), graph->name.c_str(), &model) != ATTN_OK)
    return fail(attn_last_error());
  const attn_kernel_info *info = attn_model_info(model);
  if (!matchesModel(*info, *graph)) {
    attn_model_close(model);
    return 1;
  }

  std::vector<std::vector<float>> inputs = makeRandomArguments(*graph, seed);
  std::vector<std::vector<float>> outputs;
  // Pointers into `outputs` are taken as it fills, so it must not reallocate.
  outputs.reserve(graph->args.size());
  std::vector<void *> args;
  std::vector<RefTensor> refInputs;
  size_t nextInput = 0;
  for (const KernelArg &arg : graph->args) {
    if (arg.role == ArgRole::Output) {
      outputs.emplace_back(numElements(arg.shape), 0.0f);
      args.push_back(outputs.back().data());
      continue;
    }
    std::vector<float> &data = inputs[nextInput++];
    args.push_back(data.data());
    refInputs.push_back({arg.shape, std::vector<double>(data.begin(), data.end())});
  }
  std::vector<double> millis;
  for (unsigned r = 0; r < std::max(1u, unsigned(repeat)); ++r) {
    auto start = std::chrono::steady_clock::now();
    if (attn_model_run(model, args.data(), args.size()) != ATTN_OK) {
      std::string message = attn_last_error();
      attn_model_close(model);
      return fail(message);
    }
    millis.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count());
  }
  std::sort(millis.begin(), millis.end());

  std::vector<RefTensor> expected = interpret(*graph, refInputs);
  outs() << "model " << graph->name << " (" << modelPath << "), context "
         << graph->context << ", " << graph->args.size() << " arguments, seed "
         << seed << "\n";
  outs() << "kernel time: " << format("%.3f", millis[millis.size() / 2])
         << " ms (median of " << millis.size() << " runs)\n";
  bool ok = true;
  size_t o = 0;
  for (const KernelArg &arg : graph->args) {
    if (arg.role != ArgRole::Output)
      continue;
    ErrorStats s = compareToReference(outputs[o].data(), expected[o]);
    bool pass = s.allFinite && s.maxRel <= tolerance;
    ok &= pass;
    outs() << "output " << arg.name << " " << shapeToString(arg.shape)
           << ": max abs error " << format("%.3e", s.maxAbs)
           << ", max rel error " << format("%.3e", s.maxRel)
           << ", l2 rel error " << format("%.3e", s.l2Rel) << " (tolerance "
           << format("%.1e", double(tolerance)) << ") "
           << (pass ? "ok" : "FAILED") << "\n";
    ++o;
  }
  attn_model_close(model);
  outs() << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? 0 : 1;
}

//===- attn-run.cpp - run a compiled model and check it against the reference ===//
//
//   attn-run --model m.attn m.so             run the kernel, check every output
//   attn-run --model m.attn --write-inputs D write the seeded inputs to D/NAME.bin
//   attn-run --model m.attn --check-outputs D check D/NAME.bin written by an app
//   attn-run --model m.attn --decode=N m.so  feed N tokens through the decode
//                                            step, checking every token
//
// Inputs and params come from a seed, so an application linking the object
// directly can be checked against the same double-precision reference: it
// reads the files from --write-inputs and writes its outputs for
// --check-outputs. Files are raw little-endian float32, row-major.
//
// The output ends in a summary line (model, threads, median time, GFLOP/s,
// error); --json prints the same facts as one JSON object. Exit codes
// (docs/cli.md): 0 pass, 1 input error, 2 usage error, 3 internal error,
// 4 an output differs from the reference.
//
//===----------------------------------------------------------------------===//

#include "AttentionMap.h"
#include "Decode.h"
#include "Report.h"

#include "attnc/Frontend/Flops.h"
#include "attnc/Frontend/KernelInfo.h"
#include "attnc/Frontend/MemoryBudget.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/Reference/Interpreter.h"
#include "attnc/Support/OutputFile.h"
#include "attnc/parallel.h"
#include "attnc/runtime.h"
#include "attnc/weights.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>

using namespace llvm;
using namespace attnc;

namespace {

/// What the exit status tells a script (docs/cli.md).
enum ExitCode : int {
  ExitInputError = 1,    ///< the model, the library or a data file
  ExitUsageError = 2,    ///< the command line
  ExitInternalError = 3, ///< the kernel reported a failure
  ExitCheckFailed = 4,   ///< an output is not within the tolerance
};

cl::OptionCategory runCategory("attn-run options");
cl::opt<std::string> libraryPath(cl::Positional, cl::Optional,
                                 cl::desc("<model.so>"), cl::cat(runCategory));
cl::opt<std::string> modelPath("model", cl::Required,
                               cl::desc("The .attn source the kernel was "
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
// Not "threads": LLVM's libraries register an option of that name.
cl::opt<int> numThreads(
    "num-threads",
    cl::desc("Threads the kernel runs on (default: ATTNC_NUM_THREADS, else "
             "the online CPUs)"),
    cl::init(0), cl::cat(runCategory));
cl::opt<bool> json("json",
                   cl::desc("Print the summary as one JSON object on stdout"),
                   cl::cat(runCategory));
cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("Take the params from a .safetensors file (names, F32 dtype and "
             "shapes checked) instead of seeded random values"),
    cl::value_desc("file.safetensors"), cl::cat(runCategory));
cl::opt<std::string> memoryBudget(
    "memory-budget",
    cl::desc("Refuse models whose check needs more memory than SIZE (the "
             "kernel's buffers in float plus the reference's in double), "
             "e.g. 8G; 'none' for no limit (default: physical memory)"),
    cl::value_desc("SIZE"), cl::cat(runCategory));
cl::opt<std::string> writeInputsDir(
    "write-inputs", cl::desc("Write every input and param to DIR/NAME.bin"),
    cl::value_desc("DIR"), cl::cat(runCategory));
cl::opt<std::string> checkOutputsDir(
    "check-outputs",
    cl::desc("Check DIR/NAME.bin of every output instead of running a library"),
    cl::value_desc("DIR"), cl::cat(runCategory));

cl::opt<std::string> attentionMapPath(
    "attention-map",
    cl::desc("Draw the softmax weights the kernel returned (compile with attnc "
             "--emit-attention-probs) as a heatmap: FILE.png, or FILE.csv"),
    cl::value_desc("FILE.png|FILE.csv"), cl::cat(runCategory));
cl::opt<unsigned> attentionMapIndex(
    "attention-map-index",
    cl::desc("Which attention call --attention-map draws, counted in program "
             "order (default 0)"),
    cl::init(0), cl::cat(runCategory));

cl::opt<unsigned> decodeTokens(
    "decode",
    cl::desc("Feed N seeded tokens one at a time through the model's decode "
             "step, checking each token's outputs and timing each step"),
    cl::value_desc("N"), cl::cat(runCategory));
cl::list<unsigned> promptTokens(
    "prompt",
    cl::desc("With --decode: first feed P tokens in one prefill call; a list "
             "P1,P2,... feeds one prompt after another (0 feeds nothing)"),
    cl::value_desc("P"), cl::CommaSeparated, cl::cat(runCategory));

int fail(const Twine &message, int exitCode = ExitInputError) {
  WithColor::error(errs(), "attn-run") << message << "\n";
  return exitCode;
}

void printVersion(raw_ostream &os) {
  os << "attn-run " ATTNC_VERSION " (kernel ABI version "
     << ATTN_KERNEL_ABI_VERSION << ")\n";
}

/// Replaces the params in `inputs` (inputs and params in call order) by
/// those of --weights, checked by the runtime against the model's arguments.
int loadWeights(const Graph &graph, std::vector<std::vector<float>> &inputs) {
  GraphKernelInfo info(graph);
  attn_weights *weights = nullptr;
  if (attn_weights_load(weightsPath.c_str(), info.get(), &weights) != ATTN_OK)
    return fail(attn_last_error());
  size_t next = 0;
  for (const KernelArg &arg : graph.args) {
    if (arg.role == ArgRole::Output)
      continue;
    std::vector<float> &buffer = inputs[next++];
    if (arg.role != ArgRole::Param)
      continue;
    int64_t count = 0;
    const float *data = attn_weights_get(weights, arg.name.c_str(), &count);
    buffer.assign(data, data + count);
  }
  attn_weights_free(weights);
  return 0;
}

std::string binPath(StringRef dir, StringRef name) {
  SmallString<256> path(dir);
  sys::path::append(path, name + ".bin");
  return std::string(path);
}

/// The kernel (`what`: "the library's model" or its decode step) must have
/// been compiled from this model: same arguments, in the same order, with
/// the same shapes, except that params compiled into the object (attnc
/// --embed-weights) are not arguments. Those are marked embedded in
/// `graph`; checking them needs the same values from --weights.
bool matchesModel(const attn_arg_info *args, int32_t numArgs, Graph &graph,
                  StringRef what) {
  size_t next = 0;
  std::vector<std::string> embedded;
  for (KernelArg &want : graph.args) {
    bool present = next < size_t(numArgs) && want.name == args[next].name;
    if (!present && want.role == ArgRole::Param) {
      embedded.push_back(want.name);
      continue;
    }
    if (!present) {
      fail(what + " does not match '" + modelPath + "': it has no argument '" +
           want.name + "' at position " + Twine(next) +
           " (its arguments: " + Twine(numArgs) + ", the model declares " +
           Twine(graph.args.size()) + ")");
      return false;
    }
    const attn_arg_info &a = args[next];
    Shape got(a.shape, a.shape + a.rank);
    if (got != want.shape) {
      fail(Twine("argument #") + Twine(next) + " of " + what + " is '" +
           a.name + "' " + shapeToString(got) + " but the model declares '" +
           want.name + "' " + shapeToString(want.shape));
      return false;
    }
    ++next;
  }
  if (next != size_t(numArgs)) {
    fail(what + " has " + Twine(numArgs) + " arguments but '" + modelPath +
         "' declares " + Twine(graph.args.size()));
    return false;
  }
  if (!embedded.empty() && weightsPath.empty()) {
    fail("the library embeds the params " + join(embedded, ", ") +
         "; pass the file it was compiled from with --weights to check it");
    return false;
  }
  for (KernelArg &arg : graph.args)
    if (llvm::is_contained(embedded, arg.name))
      arg.embedded = std::make_shared<const std::vector<float>>();
  return true;
}

/// Whether the library's model returns softmax weights (attnc
/// --emit-attention-probs); the reference then returns them too.
bool returnsAttentionProbs(const attn_kernel_info &info) {
  for (int32_t i = 0; i < info.num_args; ++i)
    if (info.args[i].flags & ATTN_ARG_FLAG_ATTENTION_PROBS)
      return true;
  return false;
}

/// Writes --attention-map from the kernel's outputs.
int writeAttentionMap(const Graph &graph,
                      const std::vector<std::vector<float>> &outputs) {
  size_t o = 0;
  unsigned seen = 0;
  for (const KernelArg &arg : graph.args) {
    if (arg.role != ArgRole::Output)
      continue;
    if (arg.attentionProbs && seen++ == attentionMapIndex) {
      AttentionWeights weights{outputs[o].data(), arg.shape[0], arg.shape[1],
                               arg.shape[2]};
      StringRef ext = sys::path::extension(attentionMapPath);
      Error err = ext.equals_insensitive(".csv")
                      ? writeAttentionMapCsv(weights, attentionMapPath)
                      : writeAttentionMapPng(weights, attentionMapPath);
      if (err)
        return fail(toString(std::move(err)));
      errs() << "attn-run: wrote the weights of " << arg.name << " "
             << shapeToString(arg.shape) << " to " << attentionMapPath << "\n";
      return 0;
    }
    ++o;
  }
  if (seen == 0)
    return fail("--attention-map: the library returns no attention weights; "
                "compile the model with attnc --emit-attention-probs");
  return fail("--attention-map-index=" + Twine(attentionMapIndex) +
                  ": the model has " + Twine(seen) + " attention call" +
                  (seen == 1 ? "" : "s"),
              ExitUsageError);
}

int writeInputs(const Graph &graph,
                const std::vector<std::vector<float>> &inputs) {
  if (std::error_code ec = sys::fs::create_directories(writeInputsDir))
    return fail("cannot create '" + writeInputsDir + "': " + ec.message());
  size_t next = 0;
  for (const KernelArg &arg : graph.args) {
    if (arg.role == ArgRole::Output)
      continue;
    std::string path = binPath(writeInputsDir, arg.name);
    Expected<std::unique_ptr<OutputFile>> out = OutputFile::open(path);
    if (!out)
      return fail(toString(out.takeError()));
    const std::vector<float> &data = inputs[next++];
    (*out)->os().write(reinterpret_cast<const char *>(data.data()),
                       data.size() * sizeof(float));
    if (Error err = (*out)->commit())
      return fail(toString(std::move(err)));
  }
  outs() << "wrote " << next << " inputs of model " << graph.name << " to "
         << writeInputsDir << "\n";
  return 0;
}

/// Reads the outputs an application wrote, checking each file's size.
bool readOutputs(const Graph &graph, std::vector<std::vector<float>> &outputs) {
  for (const KernelArg &arg : graph.args) {
    if (arg.role != ArgRole::Output)
      continue;
    std::string path = binPath(checkOutputsDir, arg.name);
    auto file = MemoryBuffer::getFile(path, /*IsText=*/false);
    if (std::error_code ec = file.getError()) {
      fail("cannot read output '" + arg.name + "' from '" + path +
           "': " + ec.message());
      return false;
    }
    size_t want = numElements(arg.shape) * sizeof(float);
    if ((*file)->getBufferSize() != want) {
      fail("'" + path + "' has " + Twine((*file)->getBufferSize()) +
           " bytes; output '" + arg.name + "' " + shapeToString(arg.shape) +
           " needs " + Twine(want));
      return false;
    }
    outputs.emplace_back(numElements(arg.shape));
    std::memcpy(outputs.back().data(), (*file)->getBufferStart(), want);
  }
  return true;
}

/// Runs the library's kernel `repeat` times and sets the median
/// milliseconds; returns 0 or, after reporting an error, an exit code.
int runLibrary(Graph &graph, std::vector<std::vector<float>> &inputs,
               std::vector<std::vector<float>> &outputs, double &medianMillis) {
  // dlopen searches the library path for a bare file name; a user means the
  // file in the current directory.
  SmallString<256> library(libraryPath);
  sys::fs::make_absolute(library);
  attn_model *model = nullptr;
  if (attn_model_open(library.c_str(), graph.name.c_str(), &model) != ATTN_OK)
    return fail(attn_last_error());
  if (returnsAttentionProbs(*attn_model_info(model)))
    addAttentionProbOutputs(graph);
  const attn_kernel_info &info = *attn_model_info(model);
  if (!matchesModel(info.args, info.num_args, graph, "the library's model"))
    return attn_model_close(model), ExitInputError;

  // Pointers into `outputs` are taken as it fills, so it must not reallocate.
  outputs.reserve(graph.args.size());
  std::vector<void *> args;
  size_t nextInput = 0;
  for (const KernelArg &arg : graph.args) {
    if (arg.role == ArgRole::Output) {
      outputs.emplace_back(numElements(arg.shape), 0.0f);
      args.push_back(outputs.back().data());
    } else if (arg.embedded) {
      ++nextInput; // the library has its own copy; the reference uses this one
    } else {
      args.push_back(inputs[nextInput++].data());
    }
  }
  std::vector<double> millis;
  for (unsigned r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    if (attn_model_run(model, args.data(), args.size()) != ATTN_OK) {
      fail(attn_last_error(), ExitInternalError);
      attn_model_close(model);
      return ExitInternalError;
    }
    millis.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count());
  }
  attn_model_close(model);
  std::sort(millis.begin(), millis.end());
  medianMillis = millis[millis.size() / 2];
  return 0;
}

/// Adds output `name`'s comparison with the reference to `report`.
void addOutputCheck(RunReport &report, const std::string &name,
                    const Shape &shape, const float *got,
                    const RefTensor &want) {
  OutputCheck check;
  check.name = name;
  check.shape = shape;
  check.stats = compareToReference(got, want);
  check.ok = check.stats.allFinite && check.stats.maxRel <= report.tolerance;
  report.outputs.push_back(std::move(check));
}

int printReport(const RunReport &report) {
  if (json)
    printJsonReport(report, outs());
  else
    printTextReport(report, outs());
  return report.passed() ? 0 : ExitCheckFailed;
}

/// --decode: feeds the plan through the library's decode step and checks
/// every token's outputs against the reference's step.
int decodeAndCheck(Graph &graph, const MemoryBudget &budget,
                   RunReport &report) {
  if (!graph.decodeStep)
    return fail("--decode: model '" + graph.name + "' in '" + modelPath +
                "' has no decode step; say `decode` in the model "
                "(docs/language.md, \"Decoding\")");
  Graph step = *graph.decodeStep;
  DecodePlan plan;
  for (unsigned prompt : promptTokens)
    if (prompt > 0)
      plan.prompts.push_back(prompt);
  plan.steps = decodeTokens;
  if (Error err = budget.check(estimateDecodeMemory(step, plan),
                               "decoding " + std::to_string(plan.tokens()) +
                                   " tokens of model '" + graph.name + "'"))
    return fail(toString(std::move(err)));

  std::vector<std::vector<float>> inputs;
  {
    std::vector<std::vector<float>> modelInputs =
        makeRandomArguments(graph, seed);
    if (!weightsPath.empty())
      if (int rc = loadWeights(graph, modelInputs))
        return rc;
    inputs = makeDecodeInputs(step, modelInputs, plan, seed);
  }

  SmallString<256> library(libraryPath);
  sys::fs::make_absolute(library);
  attn_model *model = nullptr;
  if (attn_model_open(library.c_str(), graph.name.c_str(), &model) != ATTN_OK)
    return fail(attn_last_error());
  auto closeWith = [&](int rc) {
    attn_model_close(model);
    return rc;
  };
  if (returnsAttentionProbs(*attn_model_info(model)))
    addAttentionProbOutputs(graph);
  const attn_kernel_info &info = *attn_model_info(model);
  if (!matchesModel(info.args, info.num_args, graph, "the library's model"))
    return closeWith(ExitInputError);
  const attn_decode_info *decodeInfo = attn_model_decode_info(model);
  if (!decodeInfo)
    return closeWith(
        fail("--decode: the library has no decode step of model '" +
             graph.name + "'; it was compiled before the model said `decode`"));
  if (!matchesModel(decodeInfo->args, decodeInfo->num_args, step,
                    "the library's decode step"))
    return closeWith(ExitInputError);
  attn_decoder *decoder = nullptr;
  if (attn_decoder_open(model, &decoder) != ATTN_OK)
    return closeWith(fail(attn_last_error(), ExitInternalError));
  std::vector<std::vector<float>> outputs;
  Expected<DecodeTimes> times =
      runDecoder(decoder, step, inputs, plan, outputs);
  attn_decoder_free(decoder);
  attn_model_close(model);
  if (!times)
    return fail(toString(times.takeError()), ExitInternalError);

  std::vector<double> steps = times->stepMillis;
  std::sort(steps.begin(), steps.end());
  report.library = libraryPath;
  report.decode = true;
  report.threads = attn_num_threads();
  report.runs = steps.size();
  report.medianMillis = steps[steps.size() / 2];
  report.prompts = plan.prompts;
  report.prefillMillis = times->prefillMillis;
  report.numArgs = step.abiArgs().size();

  std::vector<RefTensor> expected = referenceDecode(step, inputs, plan);
  size_t o = 0;
  for (const KernelArg &arg : step.args)
    if (arg.role == ArgRole::Output) {
      addOutputCheck(report, arg.name, decodedShape(arg, plan),
                     outputs[o].data(), expected[o]);
      ++o;
    }
  return printReport(report);
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Past a file size limit a write fails with EFBIG and is reported like a
  // full disk (--write-inputs, --attention-map), instead of the signal.
  std::signal(SIGXFSZ, SIG_IGN);
  cl::HideUnrelatedOptions({&runCategory});
  cl::SetVersionPrinter(printVersion);
  // With an error stream, a bad command line returns instead of exiting 1.
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "attn-run: run a compiled model and check "
                                   "it against the reference\n",
                                   &errs()))
    return ExitUsageError;
  int modes = !libraryPath.empty() + !writeInputsDir.empty() +
              !checkOutputsDir.empty();
  if (modes != 1)
    return fail("give exactly one of: a library to run, --write-inputs DIR, "
                "--check-outputs DIR",
                ExitUsageError);
  if (json && !writeInputsDir.empty())
    return fail("--json summarizes a run or a check; --write-inputs has "
                "nothing to summarize",
                ExitUsageError);
  if (numThreads < 0)
    return fail("--num-threads must be positive (0 keeps the default)",
                ExitUsageError);
  if (repeat == 0)
    return fail("--repeat counts the runs to time: 1 or more",
                ExitUsageError);
  // NaN would fail every check and infinity pass any, and neither has a
  // JSON spelling for --json.
  if (!std::isfinite(tolerance) || tolerance < 0)
    return fail("--tolerance must be a finite number, 0 or more",
                ExitUsageError);
  if (numThreads > 0)
    attn_set_num_threads(numThreads);
  if (!attentionMapPath.empty() && libraryPath.empty())
    return fail("--attention-map draws what a library returns; give the "
                "library to run",
                ExitUsageError);
  const bool decoding = decodeTokens.getNumOccurrences() > 0;
  if (decoding && libraryPath.empty())
    return fail("--decode runs a library's decode step; give the library",
                ExitUsageError);
  if (decoding && decodeTokens == 0)
    return fail("--decode counts the tokens fed one at a time: 1 or more",
                ExitUsageError);
  if (promptTokens.getNumOccurrences() && !decoding)
    return fail("--prompt is the prompt of --decode; give --decode=N too",
                ExitUsageError);
  if (decoding && repeat.getNumOccurrences())
    return fail("--repeat times whole runs; --decode times every step",
                ExitUsageError);
  if (decoding && !attentionMapPath.empty())
    return fail("--attention-map draws the weights of a whole run; a decode "
                "step returns none",
                ExitUsageError);
  if (!attentionMapPath.empty()) {
    StringRef ext = sys::path::extension(attentionMapPath);
    if (!ext.equals_insensitive(".png") && !ext.equals_insensitive(".csv"))
      return fail("--attention-map writes FILE.png or FILE.csv, not '" +
                      attentionMapPath + "'",
                  ExitUsageError);
  }

  auto file = MemoryBuffer::getFileOrSTDIN(modelPath, /*IsText=*/true);
  if (std::error_code ec = file.getError())
    return fail("cannot read '" + modelPath + "': " + ec.message());
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), SMLoc());
  DiagnosticReporter diag(sourceMgr);
  std::optional<Graph> graph = loadModel(diag);
  if (!graph)
    return ExitInputError;
  Expected<MemoryBudget> budget = MemoryBudget::fromOption(memoryBudget);
  if (!budget)
    return fail("--memory-budget: " + toString(budget.takeError()),
                ExitUsageError);

  RunReport report;
  report.model = graph->name;
  report.source = modelPath;
  report.context = graph->context;
  report.numArgs = graph->args.size();
  report.seed = seed;
  report.tolerance = tolerance;
  report.flops = productFlops(*graph);
  if (decoding)
    return decodeAndCheck(*graph, *budget, report);

  // Every buffer twice: in float for the library, in double for the
  // reference interpreter.
  if (Error err = budget->checkModel(*graph, sourceMgr,
                                     sizeof(float) + sizeof(double)))
    return fail(toString(std::move(err)));

  std::vector<std::vector<float>> inputs = makeRandomArguments(*graph, seed);
  if (!weightsPath.empty())
    if (int rc = loadWeights(*graph, inputs))
      return rc;
  if (!writeInputsDir.empty())
    return writeInputs(*graph, inputs);

  std::vector<std::vector<float>> outputs;
  if (!checkOutputsDir.empty()) {
    report.outputsDir = checkOutputsDir;
    if (!readOutputs(*graph, outputs))
      return ExitInputError;
  } else {
    report.library = libraryPath;
    report.threads = attn_num_threads();
    report.runs = repeat;
    if (int rc = runLibrary(*graph, inputs, outputs, report.medianMillis))
      return rc;
    // The library's own count: with attention weights, without embedded params.
    report.numArgs = graph->abiArgs().size();
  }

  std::vector<RefTensor> refInputs;
  size_t next = 0;
  for (const KernelArg &arg : graph->args)
    if (arg.role != ArgRole::Output) {
      const std::vector<float> &data = inputs[next++];
      refInputs.push_back({arg.shape, std::vector<double>(data.begin(), data.end())});
    }
  std::vector<RefTensor> expected = interpret(*graph, refInputs);

  size_t o = 0;
  for (const KernelArg &arg : graph->args)
    if (arg.role == ArgRole::Output) {
      addOutputCheck(report, arg.name, arg.shape, outputs[o].data(),
                     expected[o]);
      ++o;
    }
  if (!attentionMapPath.empty())
    if (int rc = writeAttentionMap(*graph, outputs))
      return rc;
  return printReport(report);
}

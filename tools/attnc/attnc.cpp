//===- attnc.cpp - the attnc compiler driver ------------------------------===//
//
// attnc model.attn -o model.o   writes model.o and model.h
// --emit= says how far to lower, in the order of the pipeline (as in the
// MLIR Toy driver): ast, attn, linalg, llvm-mlir, llvm, asm, obj, header, so.
// Exit codes (docs/cli.md): 0 success, 1 input error, 2 usage error,
// 3 internal error.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/EmbeddedWeights.h"
#include "attnc/Codegen/HalideBackend.h"
#include "attnc/Codegen/KernelInterface.h"
#include "attnc/Codegen/ObjectEmitter.h"
#include "attnc/Codegen/Pipeline.h"
#include "attnc/Compiler.h"
#include "attnc/Frontend/DecodeStep.h"
#include "attnc/Frontend/MemoryBudget.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/MLIRGen.h"
#include "attnc/Support/OutputFile.h"
#include "attnc/kernel_info.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <csignal>
#include <cstdlib>
#include <limits>

using namespace llvm;
using namespace attnc;

namespace {

/// What the exit status tells a script (docs/cli.md): a model to fix, a
/// command line to fix, or a bug to report.
enum ExitCode : int {
  ExitInputError = 1,    ///< the model or a file: unreadable, invalid, unwritable
  ExitUsageError = 2,    ///< the command line: unknown option, bad value
  ExitInternalError = 3, ///< a later stage failed on a model the checks accepted
};

enum class Emit {
  Ast, Attn, Linalg, LLVMMLIR, LLVMIR, Asm, Obj, Header, So,
  HalideStmt, HalideRuntime
};

cl::OptionCategory attncCategory("attnc options");

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<model.attn>"),
                                   cl::init("-"), cl::cat(attncCategory));
cl::opt<std::string> outputFilename("o", cl::desc("Output file ('-' for stdout)"),
                                    cl::value_desc("file"),
                                    cl::cat(attncCategory));
cl::opt<Emit> emit(
    "emit", cl::desc("How far to compile (default: obj)"), cl::init(Emit::Obj),
    cl::values(clEnumValN(Emit::Ast, "ast", "canonical .attn text after checks"),
               clEnumValN(Emit::Attn, "attn", "the attn dialect after fusion and canonicalization"),
               clEnumValN(Emit::Linalg, "linalg", "linalg on tensors, C ABI form"),
               clEnumValN(Emit::LLVMMLIR, "llvm-mlir", "the MLIR LLVM dialect"),
               clEnumValN(Emit::LLVMIR, "llvm", "optimized LLVM IR"),
               clEnumValN(Emit::Asm, "asm", "target assembly"),
               clEnumValN(Emit::Obj, "obj", "object file plus C header"),
               clEnumValN(Emit::Header, "header", "the C header only"),
               clEnumValN(Emit::So, "so", "shared library (for attn-run)"),
               clEnumValN(Emit::HalideStmt, "halide-stmt",
                          "Halide's lowered statement (--backend=halide)"),
               clEnumValN(Emit::HalideRuntime, "halide-runtime",
                          "the one Halide runtime an application links next "
                          "to Halide-built kernel objects (needs no model)")),
    cl::cat(attncCategory));
cl::opt<Backend> backend(
    "backend", cl::desc("Code generator (default: mlir)"),
    cl::init(Backend::MLIR),
    cl::values(clEnumValN(Backend::MLIR, "mlir",
                          "attnc's MLIR lowering: flash attention, packed GEMM"),
               clEnumValN(Backend::Halide, "halide",
                          "Halide 14 pipelines with attnc's schedules")),
    cl::cat(attncCategory));
cl::opt<std::string> halideAutoscheduler(
    "halide-autoscheduler",
    cl::desc("With --backend=halide, schedule with one of Halide's "
             "autoschedulers instead of attnc's hand-written schedule: "
             "adams2019, li2018 or mullapudi2016 (a decode model's chunk "
             "keeps attnc's)"),
    cl::value_desc("name"), cl::cat(attncCategory));
cl::opt<unsigned> halidePipelineOps(
    "halide-pipeline-ops",
    cl::desc("With --backend=halide, compile the model as several Halide "
             "pipelines of at least N constructs each, cut where one value "
             "flows on (between layers); 0: one pipeline (default: 12)"),
    cl::value_desc("N"), cl::init(HalideOptions().minOpsPerPipeline),
    cl::cat(attncCategory));
cl::opt<std::string> targetTriple("target",
                                  cl::desc("Target triple (default: host)"),
                                  cl::cat(attncCategory));
cl::opt<std::string> targetCpu("mcpu",
                               cl::desc("Target CPU (default: native)"),
                               cl::init("native"), cl::cat(attncCategory));
cl::list<int64_t> tiles(
    "tile",
    cl::desc("Query and key tile lengths of attention, e.g. --tile=64,32 "
             "(default: chosen from the shape; --emit=attn shows the choice)"),
    cl::value_desc("Tq,Tk"), cl::CommaSeparated, cl::cat(attncCategory));
cl::opt<bool> emitAttentionProbs(
    "emit-attention-probs",
    cl::desc("Also return the softmax weights of every attention call as an "
             "output attention<N>_probs, [heads, queries, keys] (default: off)"),
    cl::cat(attncCategory));
cl::opt<std::string> embedWeightsPath(
    "embed-weights",
    cl::desc("Compile every param's values from a .safetensors file into the "
             "object's read-only data; the kernel then takes only inputs and "
             "outputs (names, F32 dtype and shapes checked)"),
    cl::value_desc("file.safetensors"), cl::cat(attncCategory));
cl::opt<std::string> memoryBudget(
    "memory-budget",
    cl::desc("Refuse models whose kernel needs more memory than SIZE for its "
             "arguments and intermediate values, e.g. 8G or 512M; 'none' for "
             "no limit (default: this machine's physical memory)"),
    cl::value_desc("SIZE"), cl::cat(attncCategory));
cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level 0-3 (default 2)"),
                           cl::Prefix, cl::init(2), cl::cat(attncCategory));

const char *defaultExtension(Emit e) {
  switch (e) {
  case Emit::Ast: return ".attn";
  case Emit::Attn:
  case Emit::Linalg:
  case Emit::LLVMMLIR: return ".mlir";
  case Emit::LLVMIR: return ".ll";
  case Emit::Asm: return ".s";
  case Emit::Obj: return ".o";
  case Emit::Header: return ".h";
  case Emit::So: return ".so";
  case Emit::HalideStmt: return ".stmt";
  case Emit::HalideRuntime: return ".o";
  }
  return ".o";
}

int fail(const Twine &message, int exitCode = ExitInputError) {
  WithColor::error(errs(), "attnc") << message << "\n";
  return exitCode;
}

void printVersion(raw_ostream &os) {
  os << "attnc " ATTNC_VERSION "\n"
     << "  built with LLVM and MLIR " LLVM_VERSION_STRING "\n"
     << "  kernel ABI version " << ATTN_KERNEL_ABI_VERSION << "\n"
     << "  backends: mlir" << (halideBackendBuilt() ? ", halide" : "") << "\n"
     << "  default target: " << sys::getDefaultTargetTriple() << "\n"
     << "  host CPU: " << sys::getHostCPUName() << "\n";
}

/// LLVM's fatal errors (e.g. instruction selection failing) are compiler
/// bugs; LLVM would exit with 1, which here means a bad input.
void onFatalError(void *, const char *reason, bool) {
  WithColor::error(errs(), "attnc") << "internal error: " << reason << "\n";
  sys::RunInterruptHandlers(); // removes partly written outputs
  std::_Exit(ExitInternalError);
}

std::string outputPath() {
  if (!outputFilename.empty())
    return outputFilename;
  if (emit == Emit::HalideRuntime)
    return "halide_runtime.o";
  if (inputFilename == "-" || emit <= Emit::LLVMIR ||
      emit == Emit::HalideStmt)
    return "-";
  SmallString<128> path(sys::path::filename(inputFilename));
  sys::path::replace_extension(path, defaultExtension(emit));
  return std::string(path);
}

std::unique_ptr<OutputFile> openOutput(StringRef path, bool binary) {
  Expected<std::unique_ptr<OutputFile>> file = OutputFile::open(path, binary);
  if (!file) {
    fail(toString(file.takeError()));
    return nullptr;
  }
  return std::move(*file);
}

/// Puts a finished output in place; 0, or the exit code after saying why.
int commitOutput(OutputFile &out) {
  if (Error err = out.commit())
    return fail(toString(std::move(err)));
  return 0;
}

int writeHeader(const Graph &graph, StringRef path) {
  auto out = openOutput(path, /*binary=*/false);
  if (!out)
    return ExitInputError;
  emitKernelHeader(graph, sys::path::filename(inputFilename), out->os());
  return commitOutput(*out);
}

/// Puts an object file in place, and for --emit=obj to a file its header
/// next to it: both written in full before either is renamed into place,
/// so a failure leaves neither behind.
int commitWithHeader(const Graph &graph, OutputFile &out) {
  if (emit != Emit::Obj || out.path() == "-")
    return commitOutput(out);
  SmallString<128> headerPath(out.path());
  sys::path::replace_extension(headerPath, ".h");
  auto header = openOutput(headerPath, /*binary=*/false);
  if (!header)
    return ExitInputError;
  emitKernelHeader(graph, sys::path::filename(inputFilename), header->os());
  if (Error err = header->flush())
    return fail(toString(std::move(err)));
  if (int rc = commitOutput(out))
    return rc;
  return commitOutput(*header);
}

/// Halide 14 indexes a buffer with 32-bit integers (without its
/// large_buffers feature): a value of more elements compiles, with a
/// warning, into a pipeline that fails every call. Refused here instead,
/// where the value is made.
int checkHalideBufferSizes(const Graph &graph, SourceMgr &sourceMgr) {
  constexpr int64_t kMaxElements = std::numeric_limits<int32_t>::max();
  auto tooLarge = [&](const Shape &shape) {
    return "has " + std::to_string(numElements(shape)) +
           " elements; the Halide backend indexes buffers with 32-bit "
           "integers, up to " + std::to_string(kMaxElements) +
           " elements: compile this model with --backend=mlir";
  };
  for (const GraphOp &op : graph.ops)
    for (ValueId v : op.results)
      if (numElements(graph.shapeOf(v)) > kMaxElements) {
        sourceMgr.PrintMessage(errs(), op.loc, SourceMgr::DK_Error,
                               "this value " +
                                   shapeToString(graph.shapeOf(v)) + " " +
                                   tooLarge(graph.shapeOf(v)));
        return ExitInputError;
      }
  for (const KernelArg &arg : graph.args)
    if (numElements(arg.shape) > kMaxElements)
      return fail("argument '" + arg.name + "' " + shapeToString(arg.shape) +
                  " " + tooLarge(arg.shape));
  // Attention over S queries and T keys: Halide 14's 32-bit index
  // arithmetic overflows once 4 * S * T passes 2^31 (from S = T = 23171 on,
  // at any head count), and its simplifier then drops the whole pipeline
  // (the kernel returns 0 having written nothing) or miscomputes it.
  constexpr int64_t kMaxScores = kMaxElements / 4;
  for (const GraphOp &op : graph.ops) {
    bool attention = op.kind == GraphOp::Kind::Attention ||
                     op.kind == GraphOp::Kind::AttentionProbs;
    bool scores = op.kind == GraphOp::Kind::Mask ||
                  op.kind == GraphOp::Kind::Softmax;
    if (!attention && !scores)
      continue;
    // Queries are the rows of q, or of a [.., S, T] score value; keys the
    // rows of k, or the score value's columns.
    const Shape &s = graph.shapeOf(attention ? op.operands[0] : op.results[0]);
    const Shape &t = graph.shapeOf(attention ? op.operands[1] : op.results[0]);
    if (s.size() < 2 || t.size() < 2)
      continue;
    int64_t queries = s[s.size() - 2],
            keys = attention ? t[t.size() - 2] : t.back();
    if (queries > 0 && keys > kMaxScores / queries) {
      sourceMgr.PrintMessage(
          errs(), op.loc, SourceMgr::DK_Error,
          "attention over " + std::to_string(queries) + " queries and " +
              std::to_string(keys) +
              " keys: the Halide backend's 32-bit index arithmetic holds 4 x "
              "queries x keys up to 2^31 - 1 (about 23170 tokens each); "
              "compile this model with --backend=mlir");
      return ExitInputError;
    }
  }
  return 0;
}

/// --backend=halide after the attn-dialect passes: the module is handed to
/// the Halide backend, which writes the statement, object or library.
int compileWithHalide(mlir::ModuleOp module, const Graph &graph,
                      const std::string &output) {
  if (emit != Emit::Obj && emit != Emit::So && emit != Emit::HalideStmt)
    return fail("--emit=linalg, llvm-mlir, llvm and asm are stages of the "
                "MLIR backend; with --backend=halide, emit attn, halide-stmt, "
                "obj, header or so",
                ExitUsageError);
  HalideOptions options;
  options.autoscheduler = halideAutoscheduler;
  options.minOpsPerPipeline = halidePipelineOps;
  attnc::TargetOptions target{targetTriple, targetCpu, optLevel};
  if (auto halideTarget = halideTargetFor(target); !halideTarget)
    return fail(toString(halideTarget.takeError()), ExitUsageError);
  auto out = openOutput(output, emit != Emit::HalideStmt);
  if (!out)
    return ExitInputError;
  if (emit == Emit::HalideStmt) {
    if (Error err = emitHalideStatement(module, graph, options, target, *out))
      return fail(toString(std::move(err)), ExitInternalError);
    return commitOutput(*out);
  }
  if (Error err = emitHalideKernel(module, graph, options, target, *out,
                                   emit == Emit::So))
    return fail(toString(std::move(err)), ExitInternalError);
  return commitWithHeader(graph, *out);
}

int compile(const Graph &graph, SourceMgr &sourceMgr) {
  std::string output = outputPath();
  if (emit == Emit::So && output == "-")
    return fail("--emit=so writes a shared library, which cannot go to "
                "standard output; name it with -o",
                ExitUsageError);
  // --emit=obj writes its header next to the object, with the extension
  // replaced: an object named *.h would be overwritten by its own header.
  if (emit == Emit::Obj && output != "-" &&
      sys::path::extension(output) == ".h")
    return fail("-o " + output + ": --emit=obj also writes the C header "
                "next to the object, under the same name ending in .h; "
                "name the object differently (e.g. -o " +
                std::string(sys::path::stem(output)) +
                ".o), or use --emit=header for the header alone",
                ExitUsageError);
  if (emit == Emit::Header)
    return writeHeader(graph, output);

  auto context = createCompilerContext();
  // Errors point into the .attn file; the generic IR of the op that raised
  // one (MLIR's 'see current operation' note) is for attn-opt's users.
  context->printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, context.get());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      generateAttnModule(*context, graph, sourceMgr);
  if (!module)
    return ExitInternalError;
  auto printModule = [&]() -> int {
    auto out = openOutput(output, /*binary=*/false);
    if (!out)
      return ExitInputError;
    module->print(out->os());
    out->os() << "\n";
    return commitOutput(*out);
  };
  // --emit=attn shows the attn dialect after its own passes: attention
  // written by hand appears fused, as the backends see it. Its failures are
  // input errors: --tile sizes that do not fit the model are reported here,
  // at the attention's line.
  if (!tiles.empty() && tiles.size() != 2)
    return fail("--tile takes two lengths, queries and keys: --tile=Tq,Tk",
                ExitUsageError);
  AttnOptimizationOptions options;
  options.tiles.assign(tiles.begin(), tiles.end());
  if (failed(runPipeline(*module, [&](mlir::OpPassManager &pm) {
        buildAttnOptimizationPipeline(pm, options);
      })))
    return 1;
  if (emit == Emit::Attn)
    return printModule();
  if (backend == Backend::Halide) {
    if (int rc = checkHalideBufferSizes(graph, sourceMgr))
      return rc;
    return compileWithHalide(*module, graph, output);
  }
  if (failed(runPipeline(*module, buildAttnToLinalgPipeline)))
    return ExitInternalError;
  if (emit == Emit::Linalg)
    return printModule();
  if (failed(runPipeline(*module, buildLinalgToLLVMPipeline)))
    return ExitInternalError;
  if (emit == Emit::LLVMMLIR)
    return printModule();

  attnc::TargetOptions target{targetTriple, targetCpu, optLevel};
  auto machine = createTargetMachine(target);
  if (!machine) // only --target and --mcpu decide this
    return fail(toString(machine.takeError()), ExitUsageError);
  LLVMContext llvmContext;
  auto llvmModule =
      translateToLLVMIR(*module, graph, llvmContext, **machine, optLevel);
  if (!llvmModule)
    return fail(toString(llvmModule.takeError()), ExitInternalError);
  if (emit == Emit::LLVMIR) {
    auto out = openOutput(output, /*binary=*/false);
    if (!out)
      return ExitInputError;
    (*llvmModule)->print(out->os(), nullptr);
    return commitOutput(*out);
  }

  // A shared library is linked from a temporary object by the C compiler
  // driver, into its own temporary; only the finished library is renamed
  // into place.
  auto out = openOutput(output, emit != Emit::Asm);
  if (!out)
    return ExitInputError;
  std::unique_ptr<OutputFile> object;
  if (emit == Emit::So) {
    object = openOutput(output + ".o", /*binary=*/true);
    if (!object)
      return ExitInputError;
  }
  OutputFile &code = object ? *object : *out;
  if (Error err = emitMachineCode(**llvmModule, **machine,
                                  emit == Emit::Asm ? OutputKind::Assembly
                                                    : OutputKind::Object,
                                  code.os()))
    return fail(toString(std::move(err)), ExitInternalError);
  if (object) {
    // Checks the object's writes; the object itself is never committed.
    if (Error err = code.flush())
      return fail(toString(std::move(err)));
    if (Error err = linkSharedObject(object->writePath(), *out))
      return fail(toString(std::move(err)), ExitInternalError);
  }
  return commitWithHeader(graph, *out);
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  // Pass names must be known before parsing: --mlir-print-ir-after=PASS.
  registerCompilerPasses();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // --help shows attnc's own options, then the MLIR and LLVM ones that are
  // useful on attnc's pipelines; the hundreds of others stay hidden.
  static cl::OptionCategory internalsCategory(
      "Compiler internals (MLIR and LLVM)");
  for (const char *name :
       {"mlir-print-ir-before", "mlir-print-ir-after",
        "mlir-print-ir-before-all", "mlir-print-ir-after-all",
        "mlir-print-ir-after-failure", "mlir-print-ir-module-scope",
        "mlir-timing", "mlir-timing-display", "mlir-print-debuginfo",
        "time-passes"})
    if (cl::Option *option = cl::getRegisteredOptions().lookup(name)) {
      option->addCategory(internalsCategory);
      option->setHiddenFlag(cl::NotHidden);
    }
  cl::HideUnrelatedOptions({&attncCategory, &internalsCategory});
  cl::SetVersionPrinter(printVersion);
  install_fatal_error_handler(onFatalError);
  // Past a file size limit (ulimit -f) a write then fails with EFBIG and is
  // reported like a full disk, instead of the signal killing attnc.
  std::signal(SIGXFSZ, SIG_IGN);
  // With an error stream, a bad command line returns instead of exiting 1.
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "attnc: compile a .attn attention block\n",
                                   &errs()))
    return ExitUsageError;
  if (optLevel > 3)
    return fail("-O takes a level from 0 to 3, got " + Twine(optLevel),
                ExitUsageError);
  if (emit == Emit::HalideStmt && backend != Backend::Halide)
    return fail("--emit=halide-stmt needs --backend=halide", ExitUsageError);
  if (halidePipelineOps.getNumOccurrences() && backend != Backend::Halide)
    return fail("--halide-pipeline-ops needs --backend=halide",
                ExitUsageError);
  if (!halideAutoscheduler.empty()) {
    if (backend != Backend::Halide)
      return fail("--halide-autoscheduler needs --backend=halide",
                  ExitUsageError);
    if (halideAutoscheduler != "adams2019" && halideAutoscheduler != "li2018" &&
        halideAutoscheduler != "mullapudi2016")
      return fail("--halide-autoscheduler: unknown autoscheduler '" +
                      halideAutoscheduler +
                      "'; choose adams2019, li2018 or mullapudi2016",
                  ExitUsageError);
  }
  // Like an unused compiler flag: compiling still makes sense, but the
  // user asked for something they will not get.
  if (!tiles.empty() && backend == Backend::Halide && emit != Emit::Ast &&
      emit != Emit::Attn)
    WithColor::warning(errs(), "attnc")
        << "--tile has no effect with --backend=halide: its schedule picks "
           "its own tiles (docs/halide.md)\n";
  if ((backend == Backend::Halide || emit == Emit::HalideRuntime) &&
      !halideBackendBuilt())
    return fail("this attnc was built without the Halide backend (Halide 14 "
                "was not found when it was configured)",
                ExitUsageError);
  if (emit == Emit::HalideRuntime) {
    attnc::TargetOptions target{targetTriple, targetCpu, optLevel};
    auto halideTarget = halideTargetFor(target);
    if (!halideTarget) // only --target and --mcpu decide this
      return fail(toString(halideTarget.takeError()), ExitUsageError);
    auto out = openOutput(outputPath(), /*binary=*/true);
    if (!out)
      return ExitInputError;
    if (Error err = emitHalideRuntime(target, *out))
      return fail(toString(std::move(err)), ExitInternalError);
    return commitOutput(*out);
  }
  // Standard input only when asked for: on a terminal, a forgotten file
  // name would otherwise wait for input with no prompt.
  if (!inputFilename.getNumOccurrences())
    return fail("no model to compile: give a .attn file, or - to read one "
                "from standard input",
                ExitUsageError);

  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFileOrSTDIN(inputFilename, /*IsText=*/true);
  if (std::error_code ec = file.getError())
    return fail("cannot read '" + inputFilename + "': " + ec.message());
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), SMLoc());
  DiagnosticReporter diag(sourceMgr);

  std::optional<ModelAST> ast = parseModel(diag);
  if (!ast)
    return 1;
  std::optional<Graph> graph = checkModel(*ast, diag);
  if (!graph)
    return 1;
  if (emitAttentionProbs)
    addAttentionProbOutputs(*graph);
  Expected<MemoryBudget> budget = MemoryBudget::fromOption(memoryBudget);
  if (!budget)
    return fail("--memory-budget: " + toString(budget.takeError()),
                ExitUsageError);
  if (Error err = budget->checkModel(*graph, sourceMgr))
    return fail(toString(std::move(err)));
  if (!embedWeightsPath.empty())
    if (Error err = embedWeights(*graph, embedWeightsPath))
      return fail(toString(std::move(err)));
  if (emit == Emit::Ast) {
    auto out = openOutput(outputPath(), /*binary=*/false);
    if (!out)
      return ExitInputError;
    printModel(*ast, out->os());
    return commitOutput(*out);
  }
  return compile(*graph, sourceMgr);
}

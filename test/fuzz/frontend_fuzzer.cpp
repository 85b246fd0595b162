//===- frontend_fuzzer.cpp - libFuzzer target for the .attn frontend ------===//
//
// Lexer, parser and checks (including the decode step) on arbitrary bytes.
// Every input must be accepted or rejected with at least one error; a
// rejected input never yields a graph, and an accepted one has consistent
// shapes, lowers to attn dialect IR that verifies, and goes through the
// dialect's own passes (fusion, canonicalization, tile choice) without a
// diagnostic. ASan and UBSan catch the rest.
//
//===----------------------------------------------------------------------===//

#include "attnc/Compiler.h"
#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/MLIRGen.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

using namespace attnc;

/// Stops the run with what MLIR said: an accepted model must lower cleanly.
[[noreturn]] static void lowerFailed(const std::string &messages) {
  llvm::errs() << "an accepted model failed to lower:\n" << messages << "\n";
  std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.attn"),
      llvm::SMLoc());
  std::string messages;
  llvm::raw_string_ostream os(messages);
  DiagnosticReporter diag(sourceMgr, &os);
  std::optional<Graph> graph = loadModel(diag);
  if (!graph) {
    if (diag.errorCount() == 0)
      std::abort(); // rejected without saying why
    return 0;
  }
  if (diag.errorCount() != 0)
    std::abort(); // accepted despite an error
  for (const KernelArg &arg : graph->args)
    if (arg.shape != graph->shapeOf(arg.value))
      std::abort();
  if (graph->decodeStep)
    for (const KernelArg &arg : graph->decodeStep->args)
      if (arg.shape != graph->decodeStep->shapeOf(arg.value))
        std::abort();

  // Dialect registration is the slow part, so a context serves many inputs;
  // it keeps every type and attribute it has seen, so it is renewed now and
  // then to keep the fuzzer's memory flat.
  static std::unique_ptr<mlir::MLIRContext> context;
  static unsigned uses = 0;
  if (!context || ++uses % 1024 == 0)
    context = createCompilerContext();
  std::string mlirMessages;
  mlir::ScopedDiagnosticHandler handler(
      context.get(), [&](mlir::Diagnostic &d) {
        mlirMessages += d.str() + "\n";
        return mlir::success();
      });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      generateAttnModule(*context, *graph, sourceMgr);
  if (!module || failed(mlir::verify(*module)))
    lowerFailed(mlirMessages);
  if (failed(runPipeline(*module, [](mlir::OpPassManager &pm) {
        buildAttnOptimizationPipeline(pm, AttnOptimizationOptions());
      })))
    lowerFailed(mlirMessages);
  return 0;
}

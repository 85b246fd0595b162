//===- frontend_fuzzer.cpp - libFuzzer target for the .attn frontend ------===//
//
// Lexer, parser and checks (including the decode step and the reference
// interpreter's shapes) on arbitrary bytes. Every input must be accepted or
// rejected with at least one error; a rejected input never yields a graph,
// and an accepted one has consistent shapes: ASan and UBSan catch the rest.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

using namespace attnc;

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
  return 0;
}

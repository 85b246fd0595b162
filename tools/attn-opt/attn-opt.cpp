//===- attn-opt.cpp - mlir-opt for the attn dialect and attnc passes ------===//

#include "attnc/Codegen/Pipeline.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  // After LLVM's own version lines: which attnc's passes these are.
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    os << "attn-opt from attnc " ATTNC_VERSION "\n";
  });
  mlir::DialectRegistry registry;
  attnc::registerCompilerDialects(registry);
  attnc::registerCompilerPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}

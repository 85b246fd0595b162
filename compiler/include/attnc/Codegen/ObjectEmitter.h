//===- ObjectEmitter.h - LLVM IR to object code for a target ----*- C++ -*-===//

#ifndef ATTNC_CODEGEN_OBJECTEMITTER_H
#define ATTNC_CODEGEN_OBJECTEMITTER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
class raw_pwrite_stream;
} // namespace llvm

namespace attnc {

class OutputFile;

struct TargetOptions {
  std::string triple; ///< empty: the host's
  std::string cpu;    ///< empty or "native": the host CPU and its features
                      ///< (another architecture: LLVM's generic CPU)
  /// 2 by default: on the loop nests attnc emits, LLVM's -O3 unrolls tile
  /// loops fully into blocks that its schedulers take seconds over, and the
  /// kernels measured no faster (a 512-token attention: 1.30 ms at -O2,
  /// 1.92 ms at -O3; compile 0.5 s against 1.2 s).
  unsigned optLevel = 2;
};

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &options);

/// Sets the module's triple and data layout and runs LLVM's default
/// optimization pipeline for the options' level.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine,
                    unsigned optLevel);

enum class OutputKind { Object, Assembly };
llvm::Error emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine,
                            OutputKind kind, llvm::raw_pwrite_stream &os);

enum class LinkKind {
  Shared,     ///< a shared library
  Relocatable ///< one object file made of several (ld -r)
};
/// Links `objects` with the system C compiler driver (`cc`, or `$ATTNC_CC`)
/// into `outputPath`; messages name `destination`.
llvm::Error linkObjects(llvm::ArrayRef<std::string> objects, LinkKind kind,
                        llvm::StringRef outputPath,
                        llvm::StringRef destination);

/// Links one object into a shared library with the system C compiler driver
/// (`cc`, or `$ATTNC_CC`), adding libm for expf. The driver writes to
/// `output`'s temporary; messages name its destination.
llvm::Error linkSharedObject(llvm::StringRef objectPath, OutputFile &output);

} // namespace attnc

#endif // ATTNC_CODEGEN_OBJECTEMITTER_H

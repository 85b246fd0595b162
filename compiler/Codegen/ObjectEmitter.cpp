//===- ObjectEmitter.cpp - LLVM IR to object code for a target ------------===//

#include "attnc/Codegen/ObjectEmitter.h"
#include "attnc/Support/OutputFile.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>

using namespace llvm;

Expected<std::unique_ptr<TargetMachine>>
attnc::createTargetMachine(const TargetOptions &options) {
  InitializeAllTargetInfos();
  InitializeAllTargets();
  InitializeAllTargetMCs();
  InitializeAllAsmPrinters();

  std::string triple =
      options.triple.empty() ? sys::getDefaultTargetTriple() : options.triple;
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return createStringError(inconvertibleErrorCode(),
                             "unknown target '" + triple + "': " + error);

  std::string cpu = options.cpu;
  std::string features;
  if (!cpu.empty() && cpu != "native") {
    // LLVM would only warn and fall back to a generic CPU.
    std::unique_ptr<MCSubtargetInfo> generic(
        target->createMCSubtargetInfo(triple, "", ""));
    if (generic && !generic->isCPUStringValid(cpu))
      return createStringError(inconvertibleErrorCode(),
                               "unknown CPU '" + cpu + "' for target '" +
                                   triple + "'");
  }
  if (cpu == "native")
    cpu.clear();
  // No CPU named: the host's, with its features, for code of the host's
  // architecture; another (--target=aarch64-...) gets LLVM's generic CPU.
  bool hostArch = Triple(triple).getArch() ==
                  Triple(sys::getDefaultTargetTriple()).getArch();
  if (cpu.empty() && hostArch) {
    cpu = sys::getHostCPUName().str();
    SubtargetFeatures f;
    for (auto &feature : sys::getHostCPUFeatures())
      f.AddFeature(feature.first(), feature.second);
    features = f.getString();
  } else if (cpu.empty() && Triple(triple).isRISCV()) {
    // LLVM's generic RISC-V CPU has no floating-point unit: soft float,
    // which cannot lower every vector op the kernels use (LLVM stopped
    // with "Do not know how to soften the result of this operator"), and
    // whose objects do not link with a Linux system's. Linux distributions
    // build for RV64GC / RV32GC, which clang also assumes for these
    // triples; with D, LLVM picks the lp64d / ilp32d calling convention.
    features = "+m,+a,+f,+d,+c";
  }
  CodeGenOptLevel level = options.optLevel == 0   ? CodeGenOptLevel::None
                          : options.optLevel == 1 ? CodeGenOptLevel::Less
                          : options.optLevel == 2 ? CodeGenOptLevel::Default
                                                  : CodeGenOptLevel::Aggressive;
  // PIC so the same object links into executables and shared libraries.
  std::unique_ptr<TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), Reloc::PIC_, std::nullopt,
      level));
  if (!machine)
    return createStringError(inconvertibleErrorCode(),
                             "cannot create a target machine for '" + triple +
                                 "' and CPU '" + cpu + "'");
  return std::move(machine);
}

void attnc::optimizeModule(Module &module, TargetMachine &machine,
                           unsigned optLevel) {
  module.setTargetTriple(machine.getTargetTriple().str());
  module.setDataLayout(machine.createDataLayout());
  if (optLevel == 0)
    return;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(&machine);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  OptimizationLevel level = optLevel == 1   ? OptimizationLevel::O1
                            : optLevel == 2 ? OptimizationLevel::O2
                                            : OptimizationLevel::O3;
  pb.buildPerModuleDefaultPipeline(level).run(module, mam);
}

Error attnc::emitMachineCode(Module &module, TargetMachine &machine,
                             OutputKind kind, raw_pwrite_stream &os) {
  legacy::PassManager pm;
  CodeGenFileType type = kind == OutputKind::Object ? CodeGenFileType::ObjectFile
                                                    : CodeGenFileType::AssemblyFile;
  if (machine.addPassesToEmitFile(pm, os, nullptr, type))
    return createStringError(inconvertibleErrorCode(),
                             "the target cannot emit this kind of file");
  pm.run(module);
  return Error::success();
}

Error attnc::linkObjects(ArrayRef<std::string> objects, LinkKind kind,
                        StringRef outputPath, StringRef destination) {
  const char *override = std::getenv("ATTNC_CC");
  std::string driverName = override && *override ? override : "cc";
  ErrorOr<std::string> driver = sys::findProgramByName(driverName);
  if (!driver)
    return createStringError(driver.getError(),
                             "cannot find the C compiler driver '" + driverName +
                                 "' to link '" + destination + "' (set ATTNC_CC)");
  SmallVector<StringRef> args = {*driver};
  if (kind == LinkKind::Relocatable)
    args.append({"-r", "-nostdlib"});
  else
    args.push_back("-shared");
  args.append({"-o", outputPath});
  for (const std::string &object : objects)
    args.push_back(object);
  // libm for expf and friends; a Halide runtime also needs threads and dl.
  if (kind == LinkKind::Shared)
    args.append({"-lm", "-lpthread", "-ldl"});
  std::string message;
  int rc = sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return createStringError(inconvertibleErrorCode(),
                             "linking '" + destination + "' with '" + *driver +
                                 "' failed" +
                                 (message.empty() ? "" : ": " + message));
  return Error::success();
}

Error attnc::linkSharedObject(StringRef objectPath, OutputFile &output) {
  return linkObjects({objectPath.str()}, LinkKind::Shared, output.writePath(),
                     output.path());
}

//===- Compiler.cpp - a checked model to machine code, step by step -------===//

#include "attnc/Compiler.h"
#include "attnc/Codegen/AllocationHooks.h"
#include "attnc/Codegen/KernelInterface.h"
#include "attnc/Codegen/ParallelLaunch.h"
#include "attnc/Codegen/Pipeline.h"
#include "attnc/MLIRGen.h"
#include "attnc/Support/OutputFile.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Target/TargetMachine.h"

using namespace attnc;

std::unique_ptr<mlir::MLIRContext> attnc::createCompilerContext() {
  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

mlir::LogicalResult
attnc::lowerToLLVMDialect(mlir::ModuleOp module,
                          const AttnOptimizationOptions &options) {
  if (failed(runPipeline(module,
                         [&](mlir::OpPassManager &pm) {
                           buildAttnOptimizationPipeline(pm, options);
                         })) ||
      failed(runPipeline(module, buildAttnToLinalgPipeline)))
    return mlir::failure();
  return runPipeline(module, buildLinalgToLLVMPipeline);
}

/// The ABI says no output overlaps another argument (nor, in a decode step,
/// a KV cache), so every kernel pointer is `noalias` (C `restrict`). The
/// attn.* naming attributes have served their purpose by now and mean
/// nothing to LLVM.
static void markArgumentsNoAlias(mlir::ModuleOp module) {
  module.walk([](mlir::LLVM::LLVMFuncOp func) {
    if (!func->hasAttr("attn.model"))
      return;
    mlir::Builder b(func.getContext());
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      // A decode step's position is an integer.
      if (!llvm::isa<mlir::LLVM::LLVMPointerType>(func.getArgument(i).getType())) {
        func.setArgAttrs(i, b.getDictionaryAttr({}));
        continue;
      }
      func.setArgAttrs(i, b.getDictionaryAttr(b.getNamedAttr(
                              mlir::LLVM::LLVMDialect::getNoAliasAttrName(),
                              b.getUnitAttr())));
    }
  });
}

namespace {
/// An argument attn-contraction-microkernel expects packed ahead of time.
struct PackedArgument {
  std::string function;
  unsigned index;
  int64_t panelWidth;
};
} // namespace

static std::vector<PackedArgument> packedArguments(mlir::ModuleOp module) {
  std::vector<PackedArgument> packed;
  module.walk([&](mlir::LLVM::LLVMFuncOp func) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (auto width = func.getArgAttrOfType<mlir::IntegerAttr>(
              i, "attn.packed_panels"))
        packed.push_back({func.getName().str(), i, width.getInt()});
  });
  return packed;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
attnc::translateKernels(mlir::ModuleOp module, const Graph &graph,
                        llvm::LLVMContext &llvmContext) {
  std::vector<PackedArgument> packed = packedArguments(module);
  markArgumentsNoAlias(module);
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, graph.name);
  if (!llvmModule)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "translation to LLVM IR failed");
  // LLVM IR carries the layout to the kernel interface, which lays out the
  // embedded values (KernelInterface.h).
  for (const PackedArgument &arg : packed)
    llvmModule->getFunction(arg.function)
        ->addParamAttr(arg.index,
                       llvm::Attribute::get(llvmContext, kPackedPanelsAttr,
                                            std::to_string(arg.panelWidth)));
  if (llvm::Error err = defineParallelLaunchers(*llvmModule))
    return std::move(err);
  defineAllocationHooks(*llvmModule);
  return std::move(llvmModule);
}

llvm::Expected<std::unique_ptr<llvm::Module>>
attnc::translateToLLVMIR(mlir::ModuleOp module, const Graph &graph,
                         llvm::LLVMContext &llvmContext,
                         llvm::TargetMachine &machine, unsigned optLevel) {
  auto llvmModule = translateKernels(module, graph, llvmContext);
  if (!llvmModule)
    return llvmModule.takeError();
  if (llvm::Error err = addKernelInterface(**llvmModule, graph))
    return std::move(err);
  optimizeModule(**llvmModule, machine, optLevel);
  return std::move(*llvmModule);
}

llvm::Error attnc::compileGraph(const Graph &graph,
                                const llvm::SourceMgr &sourceMgr,
                                const TargetOptions &target,
                                llvm::StringRef outputPath, bool sharedLibrary,
                                const AttnOptimizationOptions &options,
                                Backend backend, const HalideOptions &halide) {
  auto context = createCompilerContext();
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::ScopedDiagnosticHandler handler(context.get(), [&](mlir::Diagnostic &d) {
    diagStream << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  auto fail = [&](const llvm::Twine &what) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   what + "\n" + diagnostics);
  };
  mlir::OwningOpRef<mlir::ModuleOp> module =
      generateAttnModule(*context, graph, sourceMgr);
  if (!module)
    return fail("generating the attn dialect failed");
  if (backend == Backend::Halide) {
    if (failed(runPipeline(*module, [&](mlir::OpPassManager &pm) {
          buildAttnOptimizationPipeline(pm, options);
        })))
      return fail("the attn-dialect passes failed");
    auto output = OutputFile::open(outputPath);
    if (!output)
      return output.takeError();
    if (llvm::Error err = emitHalideKernel(*module, graph, halide, target,
                                           **output, sharedLibrary))
      return err;
    return (*output)->commit();
  }
  if (failed(lowerToLLVMDialect(*module, options)))
    return fail("lowering to the LLVM dialect failed");

  auto machine = createTargetMachine(target);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateToLLVMIR(*module, graph, llvmContext, **machine,
                                      target.optLevel);
  if (!llvmModule)
    return fail(llvm::toString(llvmModule.takeError()));

  // As in the attnc driver: temporaries renamed into place when complete.
  auto output = OutputFile::open(outputPath);
  if (!output)
    return output.takeError();
  std::unique_ptr<OutputFile> object;
  if (sharedLibrary) {
    auto opened = OutputFile::open(outputPath.str() + ".o");
    if (!opened)
      return opened.takeError();
    object = std::move(*opened);
  }
  OutputFile &code = object ? *object : **output;
  if (llvm::Error err = emitMachineCode(**llvmModule, **machine,
                                        OutputKind::Object, code.os()))
    return err;
  if (object) {
    if (llvm::Error err = code.flush())
      return err;
    if (llvm::Error err =
            linkSharedObject(object->writePath(), **output))
      return err;
  }
  return (*output)->commit();
}

//===- HalideBackend.cpp - attnc --backend=halide -------------------------===//

#include "attnc/Codegen/HalideBackend.h"
#include "attnc/Codegen/HalideExport.h"
#include "attnc/Codegen/Pipeline.h"
#include "attnc/Compiler.h"
#include "attnc/Codegen/KernelInterface.h"
#include "attnc/Halide/HalideModule.h"
#include "attnc/Support/OutputFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Threading.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <dlfcn.h>

#ifndef ATTNC_HALIDE_PLUGIN_DIR
#define ATTNC_HALIDE_PLUGIN_DIR ""
#define ATTNC_HALIDE_MODULE_INSTALLED ""
#endif

using namespace llvm;
using namespace attnc;

namespace {

Error error(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// The entry points of libattnc-halide.
struct HalideModuleEntries {
  decltype(&attnc_hl_compile) compile = nullptr;
  decltype(&attnc_hl_compile_runtime) compileRuntime = nullptr;
  decltype(&attnc_hl_version) version = nullptr;
};

#ifdef ATTNC_HAVE_HALIDE
std::string modulePath() {
  if (const char *path = std::getenv("ATTNC_HALIDE_MODULE"); path && *path)
    return path;
  // Next to attnc in the build tree (bin/, lib/) and once installed
  // (bin/, LIBDIR/attnc/).
  std::string exe = sys::fs::getMainExecutable(nullptr, (void *)&modulePath);
  SmallString<256> dir = sys::path::parent_path(sys::path::parent_path(exe));
  for (const char *relative :
       {"lib/libattnc-halide.so", ATTNC_HALIDE_MODULE_INSTALLED}) {
    SmallString<256> candidate(dir);
    sys::path::append(candidate, relative);
    if (sys::fs::exists(candidate))
      return std::string(candidate);
  }
  return "libattnc-halide.so";
}
#endif

/// Opens the module once. RTLD_LOCAL keeps its symbols out of the global
/// scope; RTLD_DEEPBIND makes it and its libHalide resolve to their own
/// LLVM 14 before the LLVM 19 already loaded into this process.
Expected<const HalideModuleEntries &> loadModule() {
#ifndef ATTNC_HAVE_HALIDE
  return error("this attnc was built without the Halide backend "
               "(Halide 14 was not found when it was configured: apt-get "
               "install libhalide14-0-dev and reconfigure)");
#else
  static HalideModuleEntries entries;
  static std::string failure;
  static bool loaded = [] {
    std::string path = modulePath();
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      failure = "cannot load the Halide backend: " + std::string(dlerror()) +
                " (set ATTNC_HALIDE_MODULE to libattnc-halide.so)";
      return false;
    }
    entries.compile = reinterpret_cast<decltype(entries.compile)>(
        dlsym(handle, "attnc_hl_compile"));
    entries.compileRuntime = reinterpret_cast<decltype(entries.compileRuntime)>(
        dlsym(handle, "attnc_hl_compile_runtime"));
    entries.version = reinterpret_cast<decltype(entries.version)>(
        dlsym(handle, "attnc_hl_version"));
    if (!entries.compile || !entries.compileRuntime || !entries.version) {
      failure = "'" + path + "' is not attnc's Halide backend module";
      return false;
    }
    return true;
  }();
  if (!loaded)
    return error(failure);
  return entries;
#endif
}

/// The Halide pipeline's entry point; local to the kernel's object.
std::string pipelineName(const Graph &graph) {
  return graph.name + "__halide";
}

/// Makes the global symbols of `objectPath` matching `pattern` local, with
/// binutils' objcopy (or $ATTNC_OBJCOPY).
Error localizeSymbols(StringRef objectPath, const std::string &pattern,
                      StringRef destination) {
  const char *override = std::getenv("ATTNC_OBJCOPY");
  std::string name = override && *override ? override : "objcopy";
  ErrorOr<std::string> objcopy = sys::findProgramByName(name);
  if (!objcopy)
    return createStringError(objcopy.getError(),
                             "cannot find '" + name + "' to finish '" +
                                 destination + "' (set ATTNC_OBJCOPY)");
  std::string localize = "--localize-symbol=" + pattern;
  SmallVector<StringRef> args = {*objcopy, "--wildcard", localize, objectPath};
  std::string message;
  if (sys::ExecuteAndWait(*objcopy, args, std::nullopt, {}, 0, 0, &message))
    return error("'" + *objcopy + "' failed on '" + destination + "'" +
                 (message.empty() ? "" : ": " + message));
  return Error::success();
}

/// A temporary file removed when this goes away.
struct TempFile {
  SmallString<128> path;
  FileRemover remover;
};

Expected<std::unique_ptr<TempFile>> makeTemp(StringRef suffix) {
  auto temp = std::make_unique<TempFile>();
  if (std::error_code ec =
          sys::fs::createTemporaryFile("attnc-halide", suffix, temp->path))
    return createStringError(ec, "cannot create a temporary file");
  temp->remover.setFile(temp->path);
  return std::move(temp);
}

/// Copies a finished file into `output` (a file or standard output).
Error copyInto(StringRef path, OutputFile &output) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> data =
      MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!data)
    return createStringError(data.getError(), "cannot read '" + path + "'");
  output.os() << (*data)->getBuffer();
  return Error::success();
}

Error compileWithModule(mlir::ModuleOp module, const Graph &graph,
                        const HalideOptions &options,
                        const std::string &halideTarget,
                        const char *objectPath, const char *stmtPath,
                        const std::string &pipeline) {
  auto entries = loadModule();
  if (!entries)
    return entries.takeError();
  auto model = HalideModel::fromModule(module, graph, pipeline);
  if (!model)
    return model.takeError();
  attnc_hl_options hlOptions{};
  hlOptions.target = halideTarget.c_str();
  hlOptions.object_path = objectPath;
  hlOptions.stmt_path = stmtPath;
  if (!options.autoscheduler.empty())
    hlOptions.autoscheduler = options.autoscheduler.c_str();
  const char *pluginDir = std::getenv("ATTNC_HALIDE_PLUGIN_DIR");
  hlOptions.autoscheduler_dir =
      pluginDir && *pluginDir ? pluginDir : ATTNC_HALIDE_PLUGIN_DIR;
  // The autoschedulers' machine model: this machine's cores.
  hlOptions.threads = static_cast<int32_t>(
      llvm::heavyweight_hardware_concurrency().compute_thread_count());
  char message[8192] = {0};
  if (entries->compile(&model->model(), &hlOptions, message, sizeof message))
    return error(message);
  return Error::success();
}

/// NAME(float *...): the attnc entry point over the Halide pipeline. Each
/// array becomes a halide_buffer_t (HalideRuntime.h) describing it; the
/// runtime's thread pool runs the pipeline's parallel loops when the
/// application links the attnc runtime (as for MLIR-built kernels).
void defineEntryPoint(Module &module, const Graph &graph,
                      StringRef pipelineName) {
  LLVMContext &ctx = module.getContext();
  Type *i8 = Type::getInt8Ty(ctx), *i16 = Type::getInt16Ty(ctx),
       *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  StructType *dimType = StructType::get(ctx, {i32, i32, i32, i32});
  StructType *typeType = StructType::get(ctx, {i8, i8, i16});
  StructType *bufferType =
      StructType::get(ctx, {i64, ptr, ptr, i64, typeType, i32, ptr, ptr});

  SmallVector<Type *> params(graph.args.size(), ptr);
  Function *entry =
      Function::Create(FunctionType::get(i32, params, false),
                       GlobalValue::ExternalLinkage, graph.name, module);
  Function *pipeline = Function::Create(
      FunctionType::get(i32, params, false), GlobalValue::ExternalLinkage,
      pipelineName, module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", entry));

  // halide_set_custom_do_par_for(attnc_halide_do_par_for),
  // halide_set_error_handler(attnc_halide_error) and Halide's malloc and
  // free (attnc_halide_malloc/free) when the attnc runtime is linked (weak
  // references, as MLIR-built kernels make to its pool).
  auto installIfLinked = [&](StringRef hook, FunctionType *hookType,
                             StringRef setter, StringRef block) {
    Function *fn = Function::Create(hookType, GlobalValue::ExternalWeakLinkage,
                                    hook, module);
    Function *set = Function::Create(FunctionType::get(ptr, {ptr}, false),
                                     GlobalValue::ExternalLinkage, setter,
                                     module);
    BasicBlock *install = BasicBlock::Create(ctx, block, entry);
    BasicBlock *next = BasicBlock::Create(ctx, "next", entry);
    b.CreateCondBr(b.CreateIsNotNull(fn), install, next);
    b.SetInsertPoint(install);
    b.CreateCall(set, {fn});
    b.CreateBr(next);
    b.SetInsertPoint(next);
  };
  Type *voidType = Type::getVoidTy(ctx);
  installIfLinked("attnc_halide_do_par_for",
                  FunctionType::get(i32, {ptr, ptr, i32, i32, ptr}, false),
                  "halide_set_custom_do_par_for", "use_attnc_pool");
  installIfLinked("attnc_halide_error",
                  FunctionType::get(voidType, {ptr, ptr}, false),
                  "halide_set_error_handler", "use_attnc_errors");
  installIfLinked("attnc_halide_malloc",
                  FunctionType::get(ptr, {ptr, i64}, false),
                  "halide_set_custom_malloc", "use_attnc_malloc");
  installIfLinked("attnc_halide_free",
                  FunctionType::get(voidType, {ptr, ptr}, false),
                  "halide_set_custom_free", "use_attnc_free");

  SmallVector<Value *> buffers;
  for (auto [index, arg] : llvm::enumerate(graph.args)) {
    int rank = static_cast<int>(arg.shape.size());
    Value *dims = b.CreateAlloca(dimType, b.getInt32(rank));
    int64_t stride = 1;
    for (int d = 0; d < rank; ++d) {
      int64_t extent = arg.shape[rank - 1 - d]; // innermost first
      Value *dim = b.CreateGEP(dimType, dims, b.getInt32(d));
      b.CreateStore(ConstantStruct::get(
                        dimType, {b.getInt32(0), b.getInt32(extent),
                                  b.getInt32(stride), b.getInt32(0)}),
                    dim);
      stride *= extent;
    }
    Value *buffer = b.CreateAlloca(bufferType);
    b.CreateStore(Constant::getNullValue(bufferType), buffer);
    b.CreateStore(entry->getArg(index), b.CreateStructGEP(bufferType, buffer, 2));
    // halide_type_float, 32 bits, 1 lane
    b.CreateStore(ConstantStruct::get(typeType, {b.getInt8(2), b.getInt8(32),
                                                 b.getInt16(1)}),
                  b.CreateStructGEP(bufferType, buffer, 4));
    b.CreateStore(b.getInt32(rank), b.CreateStructGEP(bufferType, buffer, 5));
    b.CreateStore(dims, b.CreateStructGEP(bufferType, buffer, 6));
    buffers.push_back(buffer);
  }
  b.CreateRet(b.CreateCall(pipeline, buffers));
}

/// The Halide runtime for `halideTarget`, as an object at `path`.
Error writeRuntime(StringRef path, const std::string &halideTarget) {
  auto entries = loadModule();
  if (!entries)
    return entries.takeError();
  char message[4096] = {0};
  if (entries->compileRuntime(halideTarget.c_str(), path.str().c_str(),
                              message, sizeof message))
    return error("Halide: " + Twine(message));
  return Error::success();
}

/// An LLVM module for the entry points: empty, or holding the model's
/// decode step compiled by the MLIR backend.
Expected<std::unique_ptr<Module>>
decodeStepModule(mlir::ModuleOp module, const Graph &graph,
                 LLVMContext &llvmContext) {
  if (!graph.decodeStep)
    return std::make_unique<Module>(graph.name, llvmContext);
  mlir::OwningOpRef<mlir::ModuleOp> decode = module.clone();
  if (auto whole = decode->lookupSymbol<mlir::func::FuncOp>(graph.name))
    whole.erase();
  if (failed(runPipeline(*decode, buildAttnToLinalgPipeline)) ||
      failed(runPipeline(*decode, buildLinalgToLLVMPipeline)))
    return error("lowering the decode step '" + graph.decodeStep->name +
                 "' failed");
  return translateKernels(*decode, *graph.decodeStep, llvmContext);
}

} // namespace

bool attnc::halideBackendBuilt() {
#ifdef ATTNC_HAVE_HALIDE
  return true;
#else
  return false;
#endif
}

Expected<std::string> attnc::halideVersion() {
  auto entries = loadModule();
  if (!entries)
    return entries.takeError();
  return std::string(entries->version());
}

Expected<std::string> attnc::halideTargetFor(const TargetOptions &target) {
  Triple host(sys::getDefaultTargetTriple());
  Triple triple(target.triple.empty() ? host.str()
                                      : Triple::normalize(target.triple));
  if (triple.getArch() != host.getArch() || triple.getOS() != host.getOS())
    return error("--target=" + triple.str() +
                 ": the Halide backend compiles for this machine's "
                 "architecture and OS (" +
                 host.str() + ") only; its objects are linked with this "
                 "machine's linker");
  if (target.cpu.empty() || target.cpu == "native")
    return std::string("host");
  auto machine = createTargetMachine(target);
  if (!machine)
    return machine.takeError();
  if (triple.getArch() != Triple::x86_64 || !triple.isOSLinux())
    return error("--mcpu=" + target.cpu +
                 ": the Halide backend names CPUs for x86-64 Linux only");
  // Halide's feature names for what the CPU LLVM knows by that name has;
  // each AVX-512 level needs all of the one before.
  const MCSubtargetInfo *cpu = (*machine)->getMCSubtargetInfo();
  std::string name = "x86-64-linux";
  static const std::pair<const char *, const char *> kFeatures[] = {
      {"sse41", "+sse4.1"}, {"avx", "+avx"}, {"avx2", "+avx2"},
      {"fma", "+fma"},      {"f16c", "+f16c"}};
  for (auto [halide, llvmFeature] : kFeatures)
    if (cpu->checkFeatures(llvmFeature))
      name += std::string("-") + halide;
  static const std::pair<const char *, const char *> kAvx512[] = {
      {"avx512", "+avx512f,+avx512cd"},
      {"avx512_skylake", "+avx512vl,+avx512bw,+avx512dq"},
      {"avx512_cannonlake", "+avx512ifma,+avx512vbmi"}};
  for (auto [halide, llvmFeatures] : kAvx512) {
    if (!cpu->checkFeatures(llvmFeatures))
      break;
    name += std::string("-") + halide;
  }
  return name;
}

Error attnc::emitHalideStatement(mlir::ModuleOp module, const Graph &graph,
                                 const HalideOptions &options,
                                 const TargetOptions &target,
                                 OutputFile &output) {
  auto halideTarget = halideTargetFor(target);
  if (!halideTarget)
    return halideTarget.takeError();
  auto stmt = makeTemp("stmt");
  if (!stmt)
    return stmt.takeError();
  if (Error err = compileWithModule(module, graph, options, *halideTarget,
                                    nullptr,
                                    (*stmt)->path.c_str(),
                                    pipelineName(graph)))
    return err;
  return copyInto((*stmt)->path, output);
}

Error attnc::emitHalideKernel(mlir::ModuleOp module, const Graph &graph,
                              const HalideOptions &options,
                              const TargetOptions &target, OutputFile &output,
                              bool sharedLibrary) {
  auto pipelineObject = makeTemp("o");
  auto entryObject = makeTemp("o");
  if (!pipelineObject)
    return pipelineObject.takeError();
  if (!entryObject)
    return entryObject.takeError();
  auto halideTarget = halideTargetFor(target);
  if (!halideTarget)
    return halideTarget.takeError();
  std::string pipelineName = ::pipelineName(graph);
  if (Error err = compileWithModule(module, graph, options, *halideTarget,
                                    (*pipelineObject)->path.c_str(), nullptr,
                                    pipelineName))
    return err;

  // The entry point and the kernel interface, through LLVM 19 like the
  // MLIR backend's. A model's decode step (one token against KV caches
  // updated in place) is compiled by the MLIR backend into the same module.
  auto machine = createTargetMachine(target);
  if (!machine)
    return machine.takeError();
  LLVMContext llvmContext;
  auto entryModule = decodeStepModule(module, graph, llvmContext);
  if (!entryModule)
    return entryModule.takeError();
  defineEntryPoint(**entryModule, graph, pipelineName);
  if (Error err = addKernelInterface(**entryModule, graph))
    return err;
  optimizeModule(**entryModule, **machine, target.optLevel);
  {
    std::error_code ec;
    raw_fd_ostream os((*entryObject)->path, ec);
    if (ec)
      return createStringError(ec, "cannot write '" + (*entryObject)->path + "'");
    if (Error err = emitMachineCode(**entryModule, **machine,
                                    OutputKind::Object, os))
      return err;
  }

  // One object of the entry points and the pipeline, whose own symbols
  // (NAME__halide, its _argv and _metadata) are then made local: they
  // cannot clash with another model's, e.g. one named NAME__halide.
  auto kernel = makeTemp("o");
  if (!kernel)
    return kernel.takeError();
  if (Error err = linkObjects({std::string((*entryObject)->path),
                               std::string((*pipelineObject)->path)},
                              LinkKind::Relocatable, (*kernel)->path,
                              output.path()))
    return err;
  if (Error err = localizeSymbols((*kernel)->path, pipelineName + "*",
                                  output.path()))
    return err;
  if (!sharedLibrary)
    return copyInto((*kernel)->path, output);

  // A shared library is an application of its own: one runtime inside.
  auto runtime = makeTemp("o");
  auto linked = makeTemp("so");
  if (!runtime)
    return runtime.takeError();
  if (!linked)
    return linked.takeError();
  if (Error err = writeRuntime((*runtime)->path, *halideTarget))
    return err;
  if (Error err = linkObjects({std::string((*kernel)->path),
                               std::string((*runtime)->path)},
                              LinkKind::Shared, (*linked)->path, output.path()))
    return err;
  return copyInto((*linked)->path, output);
}

Error attnc::emitHalideRuntime(const TargetOptions &target,
                               OutputFile &output) {
  auto halideTarget = halideTargetFor(target);
  if (!halideTarget)
    return halideTarget.takeError();
  auto object = makeTemp("o");
  if (!object)
    return object.takeError();
  if (Error err = writeRuntime((*object)->path, *halideTarget))
    return err;
  return copyInto((*object)->path, output);
}

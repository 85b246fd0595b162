//===- HalideBackend.cpp - attnc --backend=halide -------------------------===//

#include "attnc/Codegen/HalideBackend.h"
#include "attnc/Codegen/HalideExport.h"
#include "attnc/Codegen/HalidePipelines.h"
#include "attnc/Codegen/KernelInterface.h"
#include "attnc/Halide/HalideModule.h"
#include "attnc/Support/OutputFile.h"

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

/// The model and, when it has them, its decode step, prefill and chunk:
/// one pipeline each.
std::vector<const Graph *> kernelsOf(const Graph &graph) {
  std::vector<const Graph *> kernels = {&graph};
  for (const Graph *other :
       {graph.decodeStep.get(), graph.prefill.get(), graph.chunk.get()})
    if (other)
      kernels.push_back(other);
  return kernels;
}

/// Makes the global symbols of `objectPath` matching any of `patterns`
/// local, with binutils' objcopy (or $ATTNC_OBJCOPY).
Error localizeSymbols(StringRef objectPath,
                      const std::vector<std::string> &patterns,
                      StringRef destination) {
  const char *override = std::getenv("ATTNC_OBJCOPY");
  std::string name = override && *override ? override : "objcopy";
  ErrorOr<std::string> objcopy = sys::findProgramByName(name);
  if (!objcopy)
    return createStringError(objcopy.getError(),
                             "cannot find '" + name + "' to finish '" +
                                 destination + "' (set ATTNC_OBJCOPY)");
  std::vector<std::string> localize;
  for (const std::string &pattern : patterns)
    localize.push_back("--localize-symbol=" + pattern);
  SmallVector<StringRef> args = {*objcopy, "--wildcard"};
  args.append(localize.begin(), localize.end());
  args.push_back(objectPath);
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

/// The model `graph` of `module` as the Halide pipelines it is compiled as.
Expected<std::vector<HalidePipeline>>
pipelinesOf(mlir::ModuleOp module, const Graph &graph,
            const HalideOptions &options) {
  auto model = HalideModel::fromModule(module, graph, pipelineName(graph));
  if (!model)
    return model.takeError();
  return splitIntoPipelines(*model, options.minOpsPerPipeline,
                            pipelineName(graph));
}

/// The options `kernel`'s pipelines are compiled with. A chunk's keep
/// attnc's hand-written schedule under --halide-autoscheduler: Halide 14's
/// mullapudi2016 stops on its attention with an internal error (in its
/// partitioner's set-up), and the decoder's choice of chunks over the
/// whole model (prefill_from) is counted for attnc's own kernels.
HalideOptions optionsFor(const Graph &kernel, const HalideOptions &options) {
  HalideOptions kernelOptions = options;
  if (kernel.isChunk)
    kernelOptions.autoscheduler.clear();
  return kernelOptions;
}

Error compilePipeline(const HalidePipeline &pipeline,
                      const HalideOptions &options,
                      const std::string &halideTarget, const char *objectPath,
                      const char *stmtPath) {
  auto entries = loadModule();
  if (!entries)
    return entries.takeError();
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
  if (entries->compile(&pipeline.model.model(), &hlOptions, message,
                       sizeof message))
    return error(message);
  return Error::success();
}

/// Emits `body(i)` for i from 0 to `trips` - 1 (at least once).
void emitLoop(IRBuilder<> &b, Function *function, int64_t trips,
              function_ref<void(Value *)> body) {
  LLVMContext &ctx = function->getContext();
  BasicBlock *before = b.GetInsertBlock();
  BasicBlock *loop = BasicBlock::Create(ctx, "loop", function);
  BasicBlock *after = BasicBlock::Create(ctx, "after_loop", function);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  PHINode *i = b.CreatePHI(b.getInt64Ty(), 2);
  i->addIncoming(b.getInt64(0), before);
  body(i);
  Value *next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(trips)), loop, after);
  b.SetInsertPoint(after);
}

/// Stores the keys and values of a chunk's first `count` rows (clamped to
/// [0, rows], as attn.decode_attention does) into their slots, position +
/// r mod context: from `chunkRows` ([width, rows] keys and [kv_heads, rows,
/// head_dim] values per layer) into the caches at `cachePointers`. The
/// rows take at most two runs of slots, the second from slot 0 after a
/// wrap: per feature row of a key cache and per head of a value cache,
/// two copies.
void storeChunkRows(IRBuilder<> &b, Function *entry, const Graph &graph,
                    ArrayRef<Value *> cachePointers,
                    ArrayRef<std::pair<Value *, Value *>> chunkRows,
                    Value *position, Value *count) {
  Type *f32 = b.getFloatTy();
  const int64_t rows = graph.chunkRows, context = graph.context;
  const Align align(sizeof(float));
  Value *stored = b.CreateBinaryIntrinsic(
      Intrinsic::smin,
      b.CreateBinaryIntrinsic(Intrinsic::smax, count, b.getInt64(0)),
      b.getInt64(rows));
  Value *firstSlot = b.CreateURem(position, b.getInt64(context));
  Value *beforeWrap = b.CreateBinaryIntrinsic(
      Intrinsic::umin, stored, b.CreateSub(b.getInt64(context), firstSlot));
  Value *afterWrap = b.CreateSub(stored, beforeWrap);
  // Rows [0, stored) of `from`, `floats` floats each, go to `to` from slot
  // firstSlot on, those past the ring's end from slot 0.
  auto copyRun = [&](Value *to, Value *from, int64_t floats) {
    Value *bytes = b.getInt64(floats * int64_t(sizeof(float)));
    b.CreateMemCpy(b.CreateGEP(f32, to, b.CreateMul(firstSlot,
                                                    b.getInt64(floats))),
                   align, from, align, b.CreateMul(beforeWrap, bytes));
    b.CreateMemCpy(to, align,
                   b.CreateGEP(f32, from,
                               b.CreateMul(beforeWrap, b.getInt64(floats))),
                   align, b.CreateMul(afterWrap, bytes));
  };
  for (auto [layer, width] : llvm::enumerate(graph.kvCacheWidths)) {
    int64_t headDim = graph.kvCacheHeadDims[layer];
    Value *keys = chunkRows[2 * layer].first;
    Value *values = chunkRows[2 * layer + 1].first;
    // Feature f of the keys: row f of the key cache, [context] slots.
    emitLoop(b, entry, width, [&](Value *f) {
      copyRun(b.CreateGEP(f32, cachePointers[2 * layer],
                          b.CreateMul(f, b.getInt64(context))),
              b.CreateGEP(f32, keys, b.CreateMul(f, b.getInt64(rows))), 1);
    });
    // Head g's values: block g of the value cache, [context, head_dim].
    emitLoop(b, entry, width / headDim, [&](Value *g) {
      copyRun(b.CreateGEP(f32, cachePointers[2 * layer + 1],
                          b.CreateMul(g, b.getInt64(context * headDim))),
              b.CreateGEP(f32, values, b.CreateMul(g, b.getInt64(rows * headDim))),
              headDim);
    });
  }
}

/// NAME(float *...): the attnc entry point over the Halide pipelines, with
/// the parameters of the MLIR backend's kernel (KernelInterface.cpp):
/// inputs and params, a decode step's caches and position, outputs. Each
/// array becomes a halide_buffer_t (HalideRuntime.h) describing it; a
/// decode step also passes, after the outputs, the slots of the caches its
/// new keys and values go to; a chunk passes buffers of its rows' keys and
/// values, which it stores into the caches after the last pipeline (its
/// attention reads the slots as they were). The pipelines run in order; a value one
/// hands to the next gets a buffer from halide_malloc (the attnc runtime's
/// scratch blocks when it is linked). The runtime's thread pool runs the
/// pipelines' parallel loops when the application links the attnc runtime
/// (as for MLIR-built kernels).
void defineEntryPoint(Module &module, const Graph &graph,
                      ArrayRef<HalidePipeline> pipelines) {
  LLVMContext &ctx = module.getContext();
  Type *i8 = Type::getInt8Ty(ctx), *i16 = Type::getInt16Ty(ctx),
       *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx),
       *f32 = Type::getFloatTy(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  StructType *dimType = StructType::get(ctx, {i32, i32, i32, i32});
  StructType *typeType = StructType::get(ctx, {i8, i8, i16});
  StructType *bufferType =
      StructType::get(ctx, {i64, ptr, ptr, i64, typeType, i32, ptr, ptr});

  std::vector<const KernelArg *> inputs, outputs;
  for (const KernelArg &arg : graph.args)
    (arg.role == ArgRole::Output ? outputs : inputs).push_back(&arg);
  const size_t caches = 2 * graph.kvCacheWidths.size();
  SmallVector<Type *> params(inputs.size() + caches, ptr);
  if (graph.isDecodeStep || graph.isChunk)
    params.push_back(i64);
  if (graph.isChunk)
    params.push_back(i64);
  params.append(outputs.size(), ptr);
  Function *entry =
      Function::Create(FunctionType::get(i32, params, false),
                       GlobalValue::ExternalLinkage, graph.name, module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", entry));

  // halide_set_custom_do_par_for(attnc_halide_do_par_for),
  // halide_set_error_handler(attnc_halide_error) and Halide's malloc and
  // free (attnc_halide_malloc/free) when the attnc runtime is linked (weak
  // references, as MLIR-built kernels make to its pool).
  // (Declared once per module: a decode step's entry point sits next to
  // the model's.)
  auto installIfLinked = [&](StringRef hook, FunctionType *hookType,
                             StringRef setter, StringRef block) {
    auto *fn = cast<Function>(
        module.getOrInsertFunction(hook, hookType).getCallee());
    fn->setLinkage(GlobalValue::ExternalWeakLinkage);
    FunctionCallee set = module.getOrInsertFunction(
        setter, FunctionType::get(ptr, {ptr}, false));
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

  // A buffer of floats at `host` with (extent, stride) per dimension,
  // innermost first.
  auto buffer = [&](Value *host,
                    ArrayRef<std::pair<int64_t, int64_t>> dimensions) {
    int rank = static_cast<int>(dimensions.size());
    Value *dims = b.CreateAlloca(dimType, b.getInt32(rank));
    for (auto [d, dimension] : llvm::enumerate(dimensions)) {
      auto [extent, stride] = dimension;
      b.CreateStore(ConstantStruct::get(
                        dimType, {b.getInt32(0), b.getInt32(extent),
                                  b.getInt32(stride), b.getInt32(0)}),
                    b.CreateGEP(dimType, dims, b.getInt32(d)));
    }
    Value *result = b.CreateAlloca(bufferType);
    b.CreateStore(Constant::getNullValue(bufferType), result);
    b.CreateStore(host, b.CreateStructGEP(bufferType, result, 2));
    // halide_type_float, 32 bits, 1 lane
    b.CreateStore(ConstantStruct::get(typeType, {b.getInt8(2), b.getInt8(32),
                                                 b.getInt16(1)}),
                  b.CreateStructGEP(bufferType, result, 4));
    b.CreateStore(b.getInt32(rank), b.CreateStructGEP(bufferType, result, 5));
    b.CreateStore(dims, b.CreateStructGEP(bufferType, result, 6));
    return result;
  };
  // A dense row-major array of `shape` (outermost first).
  auto dense = [&](Value *host, ArrayRef<int64_t> shape) {
    SmallVector<std::pair<int64_t, int64_t>> dimensions;
    int64_t stride = 1;
    for (int64_t extent : llvm::reverse(shape)) {
      dimensions.push_back({extent, stride});
      stride *= extent;
    }
    return buffer(host, dimensions);
  };

  SmallVector<Value *> args;
  unsigned next = 0;
  for (const KernelArg *arg : inputs)
    args.push_back(dense(entry->getArg(next++), arg->shape));
  // Keys as columns ([width, context]), values as rows per key/value head
  // ([kv_heads, context, head_dim]).
  const int64_t context = graph.context;
  SmallVector<Value *> cachePointers;
  for (auto [width, headDim] :
       llvm::zip_equal(graph.kvCacheWidths, graph.kvCacheHeadDims))
    for (bool isKey : {true, false}) {
      cachePointers.push_back(entry->getArg(next));
      args.push_back(dense(entry->getArg(next++),
                           isKey ? SmallVector<int64_t>{width, context}
                                 : SmallVector<int64_t>{width / headDim,
                                                        context, headDim}));
    }
  Value *position = graph.isDecodeStep || graph.isChunk
                        ? entry->getArg(next++)
                        : nullptr;
  if (position)
    args.push_back(position);
  Value *count = graph.isChunk ? entry->getArg(next++) : nullptr;
  for (const KernelArg *arg : outputs)
    args.push_back(dense(entry->getArg(next++), arg->shape));
  // The token's slot, as attn.decode_attention computes it (unsigned).
  SmallVector<Value *> slots;
  if (graph.isDecodeStep) {
    Value *slot = b.CreateURem(position, b.getInt64(context));
    for (auto [layer, width] : llvm::enumerate(graph.kvCacheWidths)) {
      int64_t headDim = graph.kvCacheHeadDims[layer];
      Value *keyColumn = b.CreateGEP(f32, cachePointers[2 * layer], slot);
      slots.push_back(buffer(keyColumn, {{1, 1}, {width, context}}));
      // Row `slot` of every head's block: head_dim floats per head.
      Value *valueRows = b.CreateGEP(f32, cachePointers[2 * layer + 1],
                                     b.CreateMul(slot, b.getInt64(headDim)));
      slots.push_back(buffer(
          valueRows, {{headDim, 1}, {width / headDim, context * headDim}}));
    }
  }

  FunctionCallee halideMalloc = module.getOrInsertFunction(
      "halide_malloc", FunctionType::get(ptr, {ptr, i64}, false));
  FunctionCallee halideFree = module.getOrInsertFunction(
      "halide_free", FunctionType::get(voidType, {ptr, ptr}, false));
  FunctionCallee outOfMemory = module.getOrInsertFunction(
      "halide_error_out_of_memory", FunctionType::get(i32, {ptr}, false));
  Value *noContext = ConstantPointerNull::get(ptr);
  // Buffers handed between pipelines, by value id: (host, buffer).
  DenseMap<int32_t, std::pair<Value *, Value *>> handed;
  // A chunk's keys and values of its rows, per cache: (host, buffer).
  SmallVector<std::pair<Value *, Value *>> chunkRows;
  // Returns the code `fail` gives, after freeing the buffers handed on now,
  // when `failed` holds; else goes on.
  auto returnIf = [&](Value *failed, StringRef what,
                      function_ref<Value *()> fail) {
    BasicBlock *failure = BasicBlock::Create(ctx, what, entry);
    BasicBlock *next = BasicBlock::Create(ctx, "next", entry);
    b.CreateCondBr(failed, failure, next);
    b.SetInsertPoint(failure);
    Value *code = fail();
    for (auto &[value, hostAndBuffer] : handed)
      b.CreateCall(halideFree, {noContext, hostAndBuffer.first});
    for (auto &[host, rowsBuffer] : chunkRows)
      b.CreateCall(halideFree, {noContext, host});
    b.CreateRet(code);
    b.SetInsertPoint(next);
  };
  const int64_t rows = graph.chunkRows;
  if (graph.isChunk) {
    for (auto [layer, width] : llvm::enumerate(graph.kvCacheWidths)) {
      int64_t headDim = graph.kvCacheHeadDims[layer];
      for (SmallVector<int64_t> shape :
           {SmallVector<int64_t>{width, rows},
            SmallVector<int64_t>{width / headDim, rows, headDim}}) {
        Value *host = b.CreateCall(
            halideMalloc,
            {noContext, b.getInt64(width * rows * int64_t(sizeof(float)))});
        returnIf(b.CreateIsNull(host), "out_of_memory",
                 [&] { return b.CreateCall(outOfMemory, {noContext}); });
        chunkRows.push_back({host, dense(host, shape)});
        slots.push_back(chunkRows.back().second);
      }
    }
  }
  for (const HalidePipeline &pipeline : pipelines) {
    const attnc_hl_model &model = pipeline.model.model();
    SmallVector<Value *> callArgs;
    SmallVector<Type *> callTypes;
    for (auto [arg, source] : llvm::zip(
             ArrayRef(model.args, model.num_args), pipeline.sources)) {
      callTypes.push_back(arg.role == ATTNC_HL_POSITION ? i64 : ptr);
      if (source.wholeArg >= 0) {
        callArgs.push_back(args[source.wholeArg]);
        continue;
      }
      auto it = handed.find(source.value);
      if (it == handed.end()) {
        // Written by this pipeline: allocate it now.
        const attnc_hl_shape &shape = model.values[arg.value];
        SmallVector<int64_t> dims(shape.dims, shape.dims + shape.rank);
        int64_t bytes = sizeof(float);
        for (int64_t d : dims)
          bytes *= d;
        Value *host =
            b.CreateCall(halideMalloc, {noContext, b.getInt64(bytes)});
        returnIf(b.CreateIsNull(host), "out_of_memory",
                 [&] { return b.CreateCall(outOfMemory, {noContext}); });
        it = handed.insert({source.value, {host, dense(host, dims)}}).first;
      }
      callArgs.push_back(it->second.second);
    }
    for (int32_t cache : pipeline.cacheSlots) {
      callArgs.push_back(slots[cache]);
      callTypes.push_back(ptr);
    }
    FunctionCallee callee = module.getOrInsertFunction(
        model.function_name, FunctionType::get(i32, callTypes, false));
    Value *code = b.CreateCall(callee, callArgs);
    returnIf(b.CreateICmpNE(code, b.getInt32(0)), "failed",
             [&] { return code; });
    // A buffer the pipeline read is not read again.
    for (auto [arg, source] : llvm::zip(
             ArrayRef(model.args, model.num_args), pipeline.sources)) {
      if (source.wholeArg >= 0 || arg.role == ATTNC_HL_OUTPUT)
        continue;
      auto it = handed.find(source.value);
      b.CreateCall(halideFree, {noContext, it->second.first});
      handed.erase(it);
    }
  }
  if (graph.isChunk)
    storeChunkRows(b, entry, graph, cachePointers, chunkRows, position, count);
  for (auto &[host, rowsBuffer] : chunkRows)
    b.CreateCall(halideFree, {noContext, host});
  b.CreateRet(b.getInt32(0));
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
  for (const Graph *kernel : kernelsOf(graph)) {
    auto pipelines = pipelinesOf(module, *kernel, options);
    if (!pipelines)
      return pipelines.takeError();
    for (const HalidePipeline &pipeline : *pipelines) {
      if (pipeline.reusesEarlier)
        continue;
      auto stmt = makeTemp("stmt");
      if (!stmt)
        return stmt.takeError();
      if (Error err = compilePipeline(pipeline, optionsFor(*kernel, options),
                                      *halideTarget, nullptr,
                                      (*stmt)->path.c_str()))
        return err;
      if (Error err = copyInto((*stmt)->path, output))
        return err;
    }
  }
  return Error::success();
}

Error attnc::emitHalideKernel(mlir::ModuleOp module, const Graph &graph,
                              const HalideOptions &options,
                              const TargetOptions &target, OutputFile &output,
                              bool sharedLibrary) {
  auto halideTarget = halideTargetFor(target);
  if (!halideTarget)
    return halideTarget.takeError();
  auto machine = createTargetMachine(target);
  if (!machine)
    return machine.takeError();

  // The pipelines of each kernel (the model, its decode step and prefill),
  // and their entry points and kernel interface through LLVM 19 like the
  // MLIR backend's.
  LLVMContext llvmContext;
  Module entryModule(graph.name, llvmContext);
  std::vector<std::unique_ptr<TempFile>> objects;
  std::vector<std::string> objectPaths, pipelines;
  for (const Graph *kernel : kernelsOf(graph)) {
    auto kernelPipelines = pipelinesOf(module, *kernel, options);
    if (!kernelPipelines)
      return kernelPipelines.takeError();
    for (const HalidePipeline &pipeline : *kernelPipelines) {
      if (pipeline.reusesEarlier)
        continue;
      auto pipelineObject = makeTemp("o");
      if (!pipelineObject)
        return pipelineObject.takeError();
      if (Error err = compilePipeline(pipeline, optionsFor(*kernel, options),
                                      *halideTarget,
                                      (*pipelineObject)->path.c_str(),
                                      nullptr))
        return err;
      objectPaths.push_back(std::string((*pipelineObject)->path));
      objects.push_back(std::move(*pipelineObject));
    }
    defineEntryPoint(entryModule, *kernel, *kernelPipelines);
    pipelines.push_back(pipelineName(*kernel) + "*");
  }
  if (Error err = addKernelInterface(entryModule, graph))
    return err;
  optimizeModule(entryModule, **machine, target.optLevel);
  auto entryObject = makeTemp("o");
  if (!entryObject)
    return entryObject.takeError();
  {
    std::error_code ec;
    raw_fd_ostream os((*entryObject)->path, ec);
    if (ec)
      return createStringError(ec, "cannot write '" + (*entryObject)->path + "'");
    if (Error err = emitMachineCode(entryModule, **machine,
                                    OutputKind::Object, os))
      return err;
  }
  objectPaths.push_back(std::string((*entryObject)->path));

  // One object of the entry points and the pipelines, whose own symbols
  // (NAME__halide, its _argv and _metadata) are then made local: they
  // cannot clash with another model's, e.g. one named NAME__halide.
  auto kernel = makeTemp("o");
  if (!kernel)
    return kernel.takeError();
  if (Error err = linkObjects(objectPaths, LinkKind::Relocatable,
                              (*kernel)->path, output.path()))
    return err;
  if (Error err = localizeSymbols((*kernel)->path, pipelines, output.path()))
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

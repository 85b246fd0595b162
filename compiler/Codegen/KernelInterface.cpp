//===- KernelInterface.cpp - NAME_info, NAME_argv and the C header --------===//

#include "attnc/Codegen/KernelInterface.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace attnc;

// The text of runtime/include/attnc/kernel_info.h, copied in at build time.
static const char kKernelInfoHeader[] =
#include "KernelInfoHeader.inc"
    ;

/// attn_arg_info.flags (kernel_info.h).
static int32_t argFlags(const KernelArg &arg) {
  return (arg.attentionProbs ? 1 : 0) | // ATTN_ARG_FLAG_ATTENTION_PROBS
         (arg.perToken ? 2 : 0);        // ATTN_ARG_FLAG_PER_TOKEN
}

static int32_t abiRole(ArgRole role) {
  switch (role) {
  case ArgRole::Input: return 0;
  case ArgRole::Param: return 1;
  case ArgRole::Output: return 2;
  }
  return 0;
}

namespace {

/// One parameter of a compiled kernel function, in order: inputs and params,
/// then a decode step's KV caches (key and value of each layer) and its
/// position (and a chunk's count), then outputs (the order ExposeCAbi
/// gives).
struct KernelParam {
  const KernelArg *arg = nullptr; ///< an input, param or output
  bool isPosition = false;        ///< without `arg`: the position,
  bool isCount = false;           ///< the count, or else a cache
};

std::vector<KernelParam> kernelParams(const Graph &graph) {
  std::vector<KernelParam> params;
  for (const KernelArg &a : graph.args)
    if (a.role != ArgRole::Output)
      params.push_back({&a});
  for (size_t i = 0; i < 2 * graph.kvCacheWidths.size(); ++i)
    params.push_back({});
  if (graph.isDecodeStep || graph.isChunk)
    params.push_back({nullptr, /*isPosition=*/true});
  if (graph.isChunk)
    params.push_back({nullptr, false, /*isCount=*/true});
  for (const KernelArg &a : graph.args)
    if (a.role == ArgRole::Output)
      params.push_back({&a});
  return params;
}

} // namespace

/// The values of an embedded [K, N] param in the order the kernel reads
/// them: as is, or panel after panel of W columns when its parameter
/// `index` carries kPackedPanelsAttr = W.
static std::vector<float> embeddedLayout(Function *kernel, unsigned index,
                                         const KernelArg &arg) {
  const std::vector<float> &values = *arg.embedded;
  Attribute packed =
      kernel->getAttributes().getParamAttr(index, kPackedPanelsAttr);
  if (!packed.isValid())
    return values;
  int64_t width = 0;
  // The kernel would read other values than the model's: a bug in attnc.
  if (arg.shape.size() != 2 ||
      packed.getValueAsString().getAsInteger(10, width) || width <= 0 ||
      arg.shape[1] % width != 0)
    report_fatal_error("attnc: param '" + Twine(arg.name) +
                       "' cannot be packed as its kernel expects");
  kernel->removeParamAttr(index, kPackedPanelsAttr);
  const int64_t rows = arg.shape[0], cols = arg.shape[1];
  std::vector<float> panels;
  panels.reserve(values.size());
  for (int64_t first = 0; first < cols; first += width)
    for (int64_t r = 0; r < rows; ++r)
      panels.insert(panels.end(), values.begin() + r * cols + first,
                    values.begin() + r * cols + first + width);
  return panels;
}

/// With embedded params, the kernel MLIR compiled still takes every
/// argument; it becomes internal under another name, and the entry point
/// takes the rest and passes the params' constant data.
static Function *bindEmbeddedParams(Module &module, Function *kernel,
                                    const Graph &graph) {
  if (llvm::none_of(graph.args,
                    [](const KernelArg &a) { return bool(a.embedded); }))
    return kernel;
  LLVMContext &ctx = module.getContext();
  std::vector<KernelParam> params = kernelParams(graph);
  kernel->setName(graph.name + ".all_arguments");
  kernel->setLinkage(GlobalValue::InternalLinkage);
  SmallVector<Type *> types;
  for (auto [param, type] :
       llvm::zip(params, kernel->getFunctionType()->params()))
    if (!param.arg || !param.arg->embedded)
      types.push_back(type);
  Function *wrapper = Function::Create(
      FunctionType::get(kernel->getReturnType(), types, false),
      GlobalValue::ExternalLinkage, graph.name, module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", wrapper));
  SmallVector<Value *> callArgs;
  unsigned next = 0;
  for (auto [index, param] : llvm::enumerate(params)) {
    if (!param.arg || !param.arg->embedded) {
      callArgs.push_back(wrapper->getArg(next++));
      continue;
    }
    const KernelArg &arg = *param.arg;
    auto *data = ConstantDataArray::get(
        ctx, ArrayRef<float>(embeddedLayout(kernel, index, arg)));
    auto *global = new GlobalVariable(module, data->getType(), /*isConstant=*/true,
                                      GlobalValue::PrivateLinkage, data,
                                      graph.name + ".param." + arg.name);
    global->setAlignment(Align(64)); // whole cache lines, like the runtime's
    callArgs.push_back(global);
  }
  b.CreateRet(b.CreateCall(kernel, callArgs));
  return wrapper;
}

/// NAME_info (NAME_decode_info for a decode step): the tables of
/// kernel_info.h for the arguments of `graph`'s C signature.
static void addInfo(Module &module, const Graph &graph) {
  LLVMContext &ctx = module.getContext();
  std::vector<const KernelArg *> abiArgs = graph.abiArgs();
  Type *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  // Mirrors attn_arg_info, attn_kernel_info and attn_decode_info in
  // kernel_info.h.
  StructType *argInfoTy = StructType::create(
      ctx, {ptr, i32, i32, i32, i32, ptr}, "attn_arg_info");
  SmallVector<Type *> infoFields = {i32, i32, ptr, i64, ptr};
  if (graph.isDecodeStep)
    infoFields.append({i32, i32, ptr, i64});
  StructType *infoTy = StructType::create(
      ctx, infoFields,
      graph.isDecodeStep ? "attn_decode_info" : "attn_kernel_info");

  auto privateConstant = [&](Constant *init, const Twine &name) {
    return new GlobalVariable(module, init->getType(), /*isConstant=*/true,
                              GlobalValue::PrivateLinkage, init, name);
  };
  auto cString = [&](StringRef s, const Twine &name) {
    auto *gv = privateConstant(ConstantDataArray::getString(ctx, s), name);
    gv->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return gv;
  };

  SmallVector<Constant *> argInfos;
  for (const KernelArg *arg : abiArgs) {
    SmallVector<uint64_t> dims(arg->shape.begin(), arg->shape.end());
    Constant *shape = privateConstant(ConstantDataArray::get(ctx, dims),
                                      graph.name + ".shape." + arg->name);
    argInfos.push_back(ConstantStruct::get(
        argInfoTy, {cString(arg->name, graph.name + ".name." + arg->name),
                    ConstantInt::get(i32, abiRole(arg->role)),
                    ConstantInt::get(i32, 0), // ATTN_DTYPE_F32
                    ConstantInt::get(i32, arg->shape.size()),
                    ConstantInt::get(i32, argFlags(*arg)),
                    shape}));
  }
  Constant *args = privateConstant(
      ConstantArray::get(ArrayType::get(argInfoTy, argInfos.size()), argInfos),
      graph.name + ".args");
  // The model's own name: a decode step is NAME_decode of model NAME.
  StringRef modelName = graph.name;
  if (graph.isDecodeStep)
    modelName.consume_back("_decode");
  SmallVector<Constant *> fields = {
      ConstantInt::get(i32, 2), // ATTN_KERNEL_ABI_VERSION
      ConstantInt::get(i32, abiArgs.size()),
      cString(modelName, graph.name + ".model_name"),
      ConstantInt::get(i64, graph.context), args};
  if (graph.isDecodeStep) {
    SmallVector<uint64_t> widths(graph.kvCacheWidths.begin(),
                                 graph.kvCacheWidths.end());
    fields.append({ConstantInt::get(i32, widths.size()),
                   ConstantInt::get(i32, graph.chunkRows),
                   privateConstant(ConstantDataArray::get(ctx, widths),
                                   graph.name + ".cache_widths"),
                   ConstantInt::get(i64, graph.prefillFrom)});
  }
  Constant *info = privateConstant(ConstantStruct::get(infoTy, fields),
                                   graph.name + ".info");

  // const attn_kernel_info *NAME_info(void) { return &info; }
  Function *infoFn = Function::Create(FunctionType::get(ptr, false),
                                      GlobalValue::ExternalLinkage,
                                      graph.name + "_info", module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", infoFn));
  b.CreateRet(info);
}

/// NAME_info (NAME_decode_info for a decode step, none for a prefill or
/// chunk, which take the step's arguments) and NAME_argv for the kernel
/// function `graph.name`.
static Error addEntryInterface(Module &module, const Graph &graph) {
  LLVMContext &ctx = module.getContext();
  Function *kernel = module.getFunction(graph.name);
  if (!kernel)
    return createStringError(inconvertibleErrorCode(),
                             "kernel function '" + graph.name + "' is missing");
  std::vector<KernelParam> params = kernelParams(graph);
  if (kernel->getFunctionType()->getNumParams() != params.size())
    return createStringError(inconvertibleErrorCode(),
                             "kernel '" + graph.name + "' takes " +
                                 Twine(kernel->getFunctionType()->getNumParams()) +
                                 " arguments but the model declares " +
                                 Twine(params.size()));
  Function *entry = bindEmbeddedParams(module, kernel, graph);
  Type *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  if (!graph.isPrefill && !graph.isChunk)
    addInfo(module, graph);

  // int NAME_argv(void **args) { return NAME(args[0], ..., args[n-1]); };
  // for a step int NAME_decode_argv(void **args, float **caches,
  // int64_t position), the caches and position going before the outputs;
  // for a prefill int NAME_prefill_argv(void **args, float **caches), the
  // cache outputs from `caches`; for a chunk int NAME_chunk_argv(void
  // **args, float **caches, int64_t position, int64_t count).
  SmallVector<Type *> argvParams = {ptr};
  if (graph.isDecodeStep)
    argvParams.append({ptr, i64});
  if (graph.isChunk)
    argvParams.append({ptr, i64, i64});
  if (graph.isPrefill)
    argvParams.push_back(ptr);
  Function *argvFn = Function::Create(FunctionType::get(i32, argvParams, false),
                                      GlobalValue::ExternalLinkage,
                                      graph.name + "_argv", module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", argvFn));
  auto load = [&](Value *array, unsigned i) {
    return b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, array, i));
  };
  SmallVector<Value *> callArgs;
  unsigned nextArg = 0, nextCache = 0;
  for (const KernelParam &param : params) {
    if (param.arg && param.arg->cacheIndex >= 0) {
      callArgs.push_back(load(argvFn->getArg(1), param.arg->cacheIndex));
    } else if (param.arg) {
      if (!param.arg->embedded)
        callArgs.push_back(load(argvFn->getArg(0), nextArg++));
    } else if (param.isPosition) {
      callArgs.push_back(argvFn->getArg(2));
    } else if (param.isCount) {
      callArgs.push_back(argvFn->getArg(3));
    } else {
      callArgs.push_back(load(argvFn->getArg(1), nextCache++));
    }
  }
  b.CreateRet(b.CreateCall(entry, callArgs));
  return Error::success();
}

Error attnc::addKernelInterface(Module &module, const Graph &graph) {
  if (Error err = addEntryInterface(module, graph))
    return err;
  for (const Graph *other :
       {graph.decodeStep.get(), graph.prefill.get(), graph.chunk.get()})
    if (other)
      if (Error err = addEntryInterface(module, *other))
        return err;
  return Error::success();
}

/// int NAME(inputs and params, caches, `scalars`, outputs): the C
/// signature of a decode step or chunk (the order ExposeCAbi gives).
static void emitStepSignature(const Graph &step, StringRef scalars,
                              raw_ostream &os) {
  std::vector<const KernelArg *> abiArgs = step.abiArgs();
  os << "int " << step.name << "(";
  const char *sep = "";
  for (const KernelArg *arg : abiArgs)
    if (arg->role != ArgRole::Output) {
      os << sep << "const float *" << arg->name;
      sep = ", ";
    }
  for (size_t layer = 0; layer < step.kvCacheWidths.size(); ++layer) {
    os << sep << "float *key_cache_" << layer << ", float *value_cache_"
       << layer;
    sep = ", ";
  }
  os << sep << scalars;
  for (const KernelArg *arg : abiArgs)
    if (arg->role == ArgRole::Output)
      os << ", float *" << arg->name;
  os << ");\n";
}

/// The declarations of the decode step NAME_decode.
static void emitDecodeDeclarations(const Graph &step, StringRef upper,
                                   raw_ostream &os) {
  os << "/* Decoding, one token at a time (the model says `decode`; see\n"
        " * docs/abi.md). Each attention layer L keeps a key and a value cache\n"
        " * of " << upper << "_CONTEXT * " << upper
     << "_DECODE_CACHE_WIDTH_L floats (keys\n"
        " * [width, context], values [kv_heads, context, head_dim]), owned by\n"
        " * the caller and kept between calls (no initialization needed);\n"
        " * `position` counts the tokens fed so far, from 0. */\n";
  os << "#define " << upper << "_DECODE_NUM_LAYERS " << step.kvCacheWidths.size()
     << "\n";
  for (auto [layer, width] : llvm::enumerate(step.kvCacheWidths))
    os << "#define " << upper << "_DECODE_CACHE_WIDTH_" << layer << " " << width
       << "\n";
  os << "#define " << upper << "_DECODE_NUM_ARGS " << step.abiArgs().size()
     << "\n";
  emitStepSignature(step, "int64_t position", os);
  os << "/* The same with the inputs, params and outputs as an array (one row\n"
        " * for each token input and output) and the caches as an array: key\n"
        " * and value of layer 0, then of layer 1, ... */\n";
  os << "int " << step.name
     << "_argv(void **args, float **caches, int64_t position);\n";
  os << "const attn_decode_info *" << step.name << "_info(void);\n\n";
}

/// The declarations of NAME_prefill, the model that also fills the caches.
static void emitPrefillDeclarations(const Graph &prefill, const Graph &step,
                                    StringRef upper, raw_ostream &os) {
  os << "/* A prompt from position 0 in one call: the model's arguments (its\n"
        " * inputs, params and outputs as above, without attention weights),\n"
        " * whose keys and values also go to the caches, as the step stores\n"
        " * them; the next token's position is then the prompt's length. A\n"
        " * prompt shorter than the context is its first rows over any\n"
        " * padding: no token depends on later ones. attn_decoder_prefill\n"
        " * calls it for prompts of at least "
     << upper << "_PREFILL_FROM\n"
        " * tokens in the first context (prefill_from in attn_decode_info;\n"
        " * context + 1: never), where by attnc's count of both paths'\n"
        " * products it costs less than chunks and steps. */\n";
  os << "#define " << upper << "_PREFILL_FROM " << step.prefillFrom << "\n";
  os << "int " << prefill.name << "(";
  const char *sep = "";
  for (const KernelArg &arg : prefill.args)
    if (arg.role != ArgRole::Output && !arg.embedded) {
      os << sep << "const float *" << arg.name;
      sep = ", ";
    }
  for (const KernelArg &arg : prefill.args)
    if (arg.role == ArgRole::Output) {
      os << sep << "float *" << arg.name;
      sep = ", ";
    }
  os << ");\n";
  os << "/* The same with the step's arguments as an array (every token input\n"
        " * and output with context rows) and its caches as an array. */\n";
  os << "int " << prefill.name << "_argv(void **args, float **caches);\n\n";
}

/// The declarations of NAME_chunk, the step over several tokens at once.
static void emitChunkDeclarations(const Graph &chunk, StringRef upper,
                                  raw_ostream &os) {
  os << "/* Several tokens at once, for prompts: the step's arguments with "
     << upper << "_CHUNK_ROWS\n"
        " * rows in each token input and output, of which the first `count`\n"
        " * are the tokens at position, position + 1, ...; the rows from\n"
        " * `count` on are ignored (their outputs mean nothing). */\n";
  os << "#define " << upper << "_CHUNK_ROWS " << chunk.chunkRows << "\n";
  emitStepSignature(chunk, "int64_t position, int64_t count", os);
  os << "int " << chunk.name
     << "_argv(void **args, float **caches, int64_t position, int64_t "
        "count);\n\n";
}

void attnc::emitKernelHeader(const Graph &graph, StringRef sourceName,
                             raw_ostream &os) {
  std::string upper = StringRef(graph.name).upper();
  os << "/* " << graph.name << ".h: generated by attnc from " << sourceName
     << ". Do not edit. */\n";
  os << "#ifndef ATTNC_MODEL_" << upper << "_H\n";
  os << "#define ATTNC_MODEL_" << upper << "_H\n\n";
  os << kKernelInfoHeader << "\n";
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  os << "/* The fixed context size, in tokens. */\n";
  os << "#define " << upper << "_CONTEXT " << graph.context << "\n";
  std::vector<const KernelArg *> abiArgs = graph.abiArgs();
  os << "#define " << upper << "_NUM_ARGS " << abiArgs.size() << "\n\n";
  if (abiArgs.size() != graph.args.size()) {
    os << "/* Compiled into the object (attnc --embed-weights), not arguments:";
    for (const KernelArg &arg : graph.args)
      if (arg.embedded)
        os << "\n *   " << arg.name << " " << shapeToString(arg.shape);
    os << " */\n\n";
  }
  os << "/* Element counts of each argument (dense, row-major float). */\n";
  for (const KernelArg *arg : abiArgs)
    os << "#define " << upper << "_" << StringRef(arg->name).upper()
       << "_ELEMENTS " << numElements(arg->shape) << " /* "
       << (arg->role == ArgRole::Input   ? "input"
           : arg->role == ArgRole::Param ? "param"
                                         : "output")
       << " " << shapeToString(arg->shape) << " */\n";
  os << "\n/* Runs the model. Every pointer is a dense row-major float buffer\n"
        " * of the shape above; outputs must not overlap any other argument.\n"
        " * Returns 0 on success. */\n";
  os << "int " << graph.name << "(";
  for (size_t i = 0; i < abiArgs.size(); ++i) {
    const KernelArg &arg = *abiArgs[i];
    os << (i ? ", " : "") << (arg.role == ArgRole::Output ? "" : "const ")
       << "float *" << arg.name;
  }
  os << ");\n\n";
  os << "/* The same call with the arguments as an array, in the order above. */\n";
  os << "int " << graph.name << "_argv(void **args);\n\n";
  os << "/* Name, role, dtype and shape of every argument. */\n";
  os << "const attn_kernel_info *" << graph.name << "_info(void);\n\n";
  if (graph.decodeStep)
    emitDecodeDeclarations(*graph.decodeStep, upper, os);
  if (graph.prefill)
    emitPrefillDeclarations(*graph.prefill, *graph.decodeStep, upper, os);
  if (graph.chunk)
    emitChunkDeclarations(*graph.chunk, upper, os);
  os << "#ifdef __cplusplus\n}\n#endif\n\n";
  os << "#endif /* ATTNC_MODEL_" << upper << "_H */\n";
}

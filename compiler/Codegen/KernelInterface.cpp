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

static int32_t abiRole(ArgRole role) {
  switch (role) {
  case ArgRole::Input: return 0;
  case ArgRole::Param: return 1;
  case ArgRole::Output: return 2;
  }
  return 0;
}

/// With embedded params, the kernel MLIR compiled still takes every
/// argument; it becomes internal under another name, and NAME takes only the
/// inputs and outputs and passes the params' constant data.
static Expected<Function *> bindEmbeddedParams(Module &module, Function *kernel,
                                               const Graph &graph) {
  if (graph.abiArgs().size() == graph.args.size())
    return kernel;
  LLVMContext &ctx = module.getContext();
  PointerType *ptr = PointerType::getUnqual(ctx);
  kernel->setName(graph.name + ".all_arguments");
  kernel->setLinkage(GlobalValue::InternalLinkage);
  SmallVector<Type *> params(graph.abiArgs().size(), ptr);
  Function *wrapper = Function::Create(
      FunctionType::get(kernel->getReturnType(), params, false),
      GlobalValue::ExternalLinkage, graph.name, module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", wrapper));
  SmallVector<Value *> callArgs;
  unsigned next = 0;
  for (const KernelArg &arg : graph.args) {
    if (!arg.embedded) {
      callArgs.push_back(wrapper->getArg(next++));
      continue;
    }
    auto *data = ConstantDataArray::get(ctx, ArrayRef<float>(*arg.embedded));
    auto *global = new GlobalVariable(module, data->getType(), /*isConstant=*/true,
                                      GlobalValue::PrivateLinkage, data,
                                      graph.name + ".param." + arg.name);
    global->setAlignment(Align(64)); // whole cache lines, like the runtime's
    callArgs.push_back(global);
  }
  b.CreateRet(b.CreateCall(kernel, callArgs));
  return wrapper;
}

Error attnc::addKernelInterface(Module &module, const Graph &graph) {
  LLVMContext &ctx = module.getContext();
  Function *kernel = module.getFunction(graph.name);
  if (!kernel)
    return createStringError(inconvertibleErrorCode(),
                             "kernel function '" + graph.name + "' is missing");
  if (kernel->getFunctionType()->getNumParams() != graph.args.size())
    return createStringError(inconvertibleErrorCode(),
                             "kernel '" + graph.name + "' takes " +
                                 Twine(kernel->getFunctionType()->getNumParams()) +
                                 " arguments but the model declares " +
                                 Twine(graph.args.size()));
  Expected<Function *> entry = bindEmbeddedParams(module, kernel, graph);
  if (!entry)
    return entry.takeError();
  std::vector<const KernelArg *> abiArgs = graph.abiArgs();
  Type *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  // Mirrors attn_arg_info and attn_kernel_info in kernel_info.h.
  StructType *argInfoTy = StructType::create(
      ctx, {ptr, i32, i32, i32, i32, ptr}, "attn_arg_info");
  StructType *kernelInfoTy =
      StructType::create(ctx, {i32, i32, ptr, i64, ptr}, "attn_kernel_info");

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
                    ConstantInt::get(i32, arg->attentionProbs
                                              ? 1 // ATTN_ARG_FLAG_ATTENTION_PROBS
                                              : 0),
                    shape}));
  }
  Constant *args = privateConstant(
      ConstantArray::get(ArrayType::get(argInfoTy, argInfos.size()), argInfos),
      graph.name + ".args");
  Constant *info = privateConstant(
      ConstantStruct::get(kernelInfoTy,
                          {ConstantInt::get(i32, 1), // ATTN_KERNEL_ABI_VERSION
                           ConstantInt::get(i32, abiArgs.size()),
                           cString(graph.name, graph.name + ".model_name"),
                           ConstantInt::get(i64, graph.context), args}),
      graph.name + ".info");

  // const attn_kernel_info *NAME_info(void) { return &info; }
  Function *infoFn = Function::Create(FunctionType::get(ptr, false),
                                      GlobalValue::ExternalLinkage,
                                      graph.name + "_info", module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", infoFn));
  b.CreateRet(info);

  // int NAME_argv(void **args) { return NAME(args[0], ..., args[n-1]); }
  Function *argvFn = Function::Create(FunctionType::get(i32, {ptr}, false),
                                      GlobalValue::ExternalLinkage,
                                      graph.name + "_argv", module);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", argvFn));
  SmallVector<Value *> callArgs;
  for (unsigned i = 0; i < abiArgs.size(); ++i)
    callArgs.push_back(b.CreateLoad(
        ptr, b.CreateConstInBoundsGEP1_64(ptr, argvFn->getArg(0), i)));
  b.CreateRet(b.CreateCall(*entry, callArgs));
  return Error::success();
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
  os << "#ifdef __cplusplus\n}\n#endif\n\n";
  os << "#endif /* ATTNC_MODEL_" << upper << "_H */\n";
}

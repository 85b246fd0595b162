//===- AllocationHooks.cpp - where kernels' temporaries come from ---------===//

#include "attnc/Codegen/AllocationHooks.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace llvm;

/// Declares `name` with `type`, weakly when `weak` (a runtime symbol that may
/// be absent: its address is then null).
static Function *declare(Module &module, StringRef name, FunctionType *type,
                         bool weak) {
  auto *fn = cast<Function>(module.getOrInsertFunction(name, type).getCallee());
  if (weak)
    fn->setLinkage(GlobalValue::ExternalWeakLinkage);
  return fn;
}

/// Gives `hook` (already declared by the LLVM lowering, if the kernel
/// allocates at all) a body: call `preferred` when it is linked, else
/// `fallback`, passing the arguments through.
static void defineForwarder(Module &module, StringRef hookName,
                            StringRef preferredName, StringRef fallbackName) {
  Function *hook = module.getFunction(hookName);
  if (!hook || !hook->isDeclaration())
    return;
  FunctionType *type = hook->getFunctionType();
  Function *preferred = declare(module, preferredName, type, /*weak=*/true);
  Function *fallback = declare(module, fallbackName, type, /*weak=*/false);
  hook->setLinkage(GlobalValue::InternalLinkage);

  LLVMContext &ctx = module.getContext();
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", hook));
  BasicBlock *runtime = BasicBlock::Create(ctx, "runtime", hook);
  BasicBlock *libc = BasicBlock::Create(ctx, "libc", hook);
  b.CreateCondBr(b.CreateIsNotNull(preferred), runtime, libc);
  SmallVector<Value *> args;
  for (Argument &arg : hook->args())
    args.push_back(&arg);
  for (auto [block, callee] : {std::pair{runtime, preferred}, {libc, fallback}}) {
    b.SetInsertPoint(block);
    CallInst *call = b.CreateCall(callee, args);
    if (type->getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(call);
  }
}

void attnc::defineAllocationHooks(Module &module) {
  defineForwarder(module, "_mlir_memref_to_llvm_alloc", "attnc_scratch_alloc",
                  "malloc");
  defineForwarder(module, "_mlir_memref_to_llvm_free", "attnc_scratch_free",
                  "free");
}

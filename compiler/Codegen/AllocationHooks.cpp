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

/// Branches, at `b`'s insertion point, to a message on standard error and
/// abort() when the allocation of `size` bytes returned a null `pointer`
/// (and `size` is not 0), and leaves `b` on the path that goes on: a kernel
/// has no way back out of its loops and tasks to return an error, and
/// carrying on would write through the null pointer.
static void abortIfOutOfMemory(IRBuilder<> &b, Function *hook, Value *size,
                               Value *pointer) {
  Module &module = *hook->getParent();
  LLVMContext &ctx = module.getContext();
  BasicBlock *failed = BasicBlock::Create(ctx, "out_of_memory", hook);
  BasicBlock *done = BasicBlock::Create(ctx, "allocated", hook);
  Value *zeroSize = b.CreateICmpEQ(size, ConstantInt::get(size->getType(), 0));
  b.CreateCondBr(b.CreateOr(b.CreateIsNotNull(pointer), zeroSize), done,
                 failed);
  b.SetInsertPoint(failed);
  StringRef message = "attnc kernel: out of memory for its temporaries\n";
  Type *sizeType = b.getIntNTy(module.getDataLayout().getPointerSizeInBits());
  FunctionType *writeType = FunctionType::get(
      sizeType, {b.getInt32Ty(), b.getPtrTy(), sizeType}, false);
  b.CreateCall(module.getOrInsertFunction("write", writeType),
               {b.getInt32(2), b.CreateGlobalStringPtr(message),
                ConstantInt::get(sizeType, message.size())});
  b.CreateCall(module.getOrInsertFunction(
      "abort", FunctionType::get(b.getVoidTy(), false)));
  b.CreateUnreachable();
  b.SetInsertPoint(done);
}

/// Gives `hook` (already declared by the LLVM lowering, if the kernel
/// allocates at all) a body: call `preferred` when it is linked, else
/// `fallback`, passing the arguments through; an allocation (a hook that
/// returns a pointer) that fails aborts.
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
  BasicBlock *called = BasicBlock::Create(ctx, "called", hook);
  b.CreateCondBr(b.CreateIsNotNull(preferred), runtime, libc);
  SmallVector<Value *> args;
  for (Argument &arg : hook->args())
    args.push_back(&arg);
  Type *resultType = type->getReturnType();
  SmallVector<std::pair<Value *, BasicBlock *>, 2> results;
  for (auto [block, callee] : {std::pair{runtime, preferred}, {libc, fallback}}) {
    b.SetInsertPoint(block);
    results.push_back({b.CreateCall(callee, args), block});
    b.CreateBr(called);
  }
  b.SetInsertPoint(called);
  if (resultType->isVoidTy()) {
    b.CreateRetVoid();
    return;
  }
  PHINode *result = b.CreatePHI(resultType, results.size());
  for (auto [value, block] : results)
    result->addIncoming(value, block);
  abortIfOutOfMemory(b, hook, args.front(), result);
  b.CreateRet(result);
}

void attnc::defineAllocationHooks(Module &module) {
  defineForwarder(module, "_mlir_memref_to_llvm_alloc", "attnc_scratch_alloc",
                  "malloc");
  defineForwarder(module, "_mlir_memref_to_llvm_free", "attnc_scratch_free",
                  "free");
}

//===- ParallelLaunch.cpp - launchers of outlined parallel loops ----------===//

#include "attnc/Codegen/ParallelLaunch.h"
#include "attnc/Transforms/ParallelTasks.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace llvm;
using attnc::kLaunchPrefix;

/// `void attnc_parallel_for(i64, ptr, ptr)`, referenced weakly so that a
/// kernel object links without the runtime.
static Function *parallelForDeclaration(Module &module) {
  LLVMContext &ctx = module.getContext();
  auto *ptr = PointerType::getUnqual(ctx);
  auto *type = FunctionType::get(Type::getVoidTy(ctx),
                                 {Type::getInt64Ty(ctx), ptr, ptr}, false);
  FunctionCallee callee = module.getOrInsertFunction("attnc_parallel_for", type);
  auto *fn = cast<Function>(callee.getCallee());
  fn->setLinkage(GlobalValue::ExternalWeakLinkage);
  return fn;
}

/// BODY(args..., i) for each i in [0, count), in order.
static void emitSerialLoop(IRBuilder<> &b, Function *body,
                           ArrayRef<Value *> args, Value *count) {
  Function *fn = b.GetInsertBlock()->getParent();
  LLVMContext &ctx = fn->getContext();
  BasicBlock *pre = b.GetInsertBlock();
  BasicBlock *loop = BasicBlock::Create(ctx, "serial.loop", fn);
  BasicBlock *exit = BasicBlock::Create(ctx, "serial.exit", fn);
  Value *zero = b.getInt64(0);
  b.CreateCondBr(b.CreateICmpSGT(count, zero), loop, exit);
  b.SetInsertPoint(loop);
  PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(zero, pre);
  SmallVector<Value *> callArgs(args.begin(), args.end());
  callArgs.push_back(i);
  b.CreateCall(body, callArgs);
  Value *next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpSLT(next, count), loop, exit);
  b.SetInsertPoint(exit);
  b.CreateRetVoid();
}

static Error defineLauncher(Module &module, Function &launcher) {
  StringRef bodyName = launcher.getName().drop_front(kLaunchPrefix.size());
  Function *body = module.getFunction(bodyName);
  FunctionType *type = launcher.getFunctionType();
  if (!body || body->isDeclaration() || type->getNumParams() == 0 ||
      body->getFunctionType() != type)
    return createStringError(inconvertibleErrorCode(),
                             "parallel launcher '%s' has no matching task body",
                             launcher.getName().str().c_str());
  LLVMContext &ctx = module.getContext();
  SmallVector<Type *> fieldTypes(type->params().drop_back());
  StructType *contextType = StructType::get(ctx, fieldTypes);
  auto *ptr = PointerType::getUnqual(ctx);

  // __attnc_task.BODY(ptr context, i64 i)
  Function *task = Function::Create(
      FunctionType::get(Type::getVoidTy(ctx), {ptr, Type::getInt64Ty(ctx)},
                        false),
      GlobalValue::InternalLinkage, "__attnc_task." + bodyName, module);
  {
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", task));
    Value *context = task->getArg(0);
    SmallVector<Value *> args;
    for (unsigned f = 0; f < fieldTypes.size(); ++f)
      args.push_back(b.CreateLoad(fieldTypes[f],
                                  b.CreateStructGEP(contextType, context, f)));
    args.push_back(task->getArg(1));
    b.CreateCall(body, args);
    b.CreateRetVoid();
  }

  launcher.setLinkage(GlobalValue::InternalLinkage);
  body->setLinkage(GlobalValue::InternalLinkage);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", &launcher));
  SmallVector<Value *> args;
  for (unsigned f = 0; f < fieldTypes.size(); ++f)
    args.push_back(launcher.getArg(f));
  Value *count = launcher.getArg(fieldTypes.size());
  Function *parallelFor = parallelForDeclaration(module);
  BasicBlock *pool = BasicBlock::Create(ctx, "pool", &launcher);
  BasicBlock *serial = BasicBlock::Create(ctx, "serial", &launcher);
  b.CreateCondBr(b.CreateIsNotNull(parallelFor), pool, serial);

  b.SetInsertPoint(pool);
  Value *context = b.CreateAlloca(contextType);
  for (unsigned f = 0; f < fieldTypes.size(); ++f)
    b.CreateStore(args[f], b.CreateStructGEP(contextType, context, f));
  b.CreateCall(parallelFor, {count, task, context});
  b.CreateRetVoid();

  b.SetInsertPoint(serial);
  emitSerialLoop(b, body, args, count);
  return Error::success();
}

Error attnc::defineParallelLaunchers(Module &module) {
  SmallVector<Function *> launchers;
  for (Function &fn : module)
    if (fn.isDeclaration() && fn.getName().starts_with(kLaunchPrefix))
      launchers.push_back(&fn);
  for (Function *launcher : launchers)
    if (Error err = defineLauncher(module, *launcher))
      return err;
  return Error::success();
}

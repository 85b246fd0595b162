//===- AttnOps.h - operations of the attn dialect ---------------*- C++ -*-===//

#ifndef ATTN_ATTNOPS_H
#define ATTN_ATTNOPS_H

#include "attn/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attn/AttnEnums.h.inc"

#define GET_OP_CLASSES
#include "attn/AttnOps.h.inc"

#endif // ATTN_ATTNOPS_H

//===- AttnDialect.cpp - the attn dialect -----------------------*- C++ -*-===//

#include "attn/AttnDialect.h"
#include "attn/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/AttnOpsDialect.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/AttnOps.cpp.inc"
      >();
}

/// `attn.tiles = array<i64: Tq, Tk>` on an attn.sdpa: the flash lowering
/// walks the queries and keys in tiles of these lengths, padding the last
/// tile when they do not divide the sequence; a tile longer than its
/// sequence would only add padding. Other `attn.*` attributes mark functions,
/// arguments and products for attnc's passes and carry no constraint here.
LogicalResult AttnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() != "attn.tiles")
    return success();
  auto sdpa = dyn_cast<SdpaOp>(op);
  if (!sdpa)
    return op->emitOpError("'attn.tiles' is an attribute of attn.sdpa only");
  auto tiles = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
  if (!tiles || tiles.size() != 2)
    return op->emitOpError("'attn.tiles' must be array<i64: Tq, Tk>");
  int64_t queries = sdpa.getQuery().getType().getDimSize(0);
  int64_t keys = sdpa.getKey().getType().getDimSize(0);
  int64_t tq = tiles[0], tk = tiles[1];
  if (tq <= 0 || tk <= 0 || tq > queries || tk > keys)
    return op->emitOpError() << "'attn.tiles' " << tq << "x" << tk
                             << " must be positive and at most the " << queries
                             << " queries and " << keys << " keys";
  return success();
}

//===- AttnDialect.td - the attn dialect ---------------------*- tablegen -*-===//
//
// The attn dialect: operations at the level of the .attn language, on tensors
// with static shapes. Backends lower from here.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT
#define ATTN_DIALECT

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let summary = "Transformer attention blocks at the level of the .attn language.";
  let description = [{
    The `attn` dialect holds the operations of an attention block: projections
    (`attn.linear`) and multi-head scaled dot-product attention (`attn.sdpa`).
    All values are ranked tensors with static shapes, since a model is compiled
    for one fixed context size. Token-major layout is used throughout: a tensor
    of activations is `[tokens, features]`, and head `h` owns the feature
    columns `[h * head_dim, (h + 1) * head_dim)`.
  }];
  let cppNamespace = "::mlir::attn";
  // `attn.tiles`, set by attn-choose-tiles, is checked wherever it appears.
  let hasOperationAttrVerify = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []> :
    Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTN_DIALECT

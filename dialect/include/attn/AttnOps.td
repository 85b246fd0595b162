//===- AttnOps.td - operations of the attn dialect -----------*- tablegen -*-===//

#ifndef ATTN_OPS
#define ATTN_OPS

include "attn/AttnDialect.td"
include "attn/AttnEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_F32Matrix : 2DTensorOf<[F32]>;
def Attn_F32Vector : 1DTensorOf<[F32]>;

//===----------------------------------------------------------------------===//
// attn.linear
//===----------------------------------------------------------------------===//

def Attn_LinearOp : Attn_Op<"linear", [Pure]> {
  let summary = "affine projection y = x @ w + b";
  let description = [{
    Projects every token of `input` (`[tokens, in]`) with `weight`
    (`[in, out]`, the GPT-2 `c_attn` convention) and adds the optional `bias`
    (`[out]`) to every row. The result is `[tokens, out]`.

    ```mlir
    %qkv = attn.linear %x, %w, %b
        : (tensor<128x256xf32>, tensor<256x768xf32>, tensor<768xf32>)
        -> tensor<128x768xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$input, Attn_F32Matrix:$weight,
                       Optional<Attn_F32Vector>:$bias);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.sdpa
//===----------------------------------------------------------------------===//

def Attn_SdpaOp : Attn_Op<"sdpa", [Pure]> {
  let summary = "multi-head scaled dot-product attention";
  let description = [{
    For every query head `h` and query token `i`:
    `out[i, h] = sum_j softmax_j(scale * q[i, h] . k[j, g] + mask(i, j)) * v[j, g]`
    where `g = h / (heads / kv_heads)` is the key/value head that query head
    `h` reads (grouped-query attention; `kv_heads = heads` is plain multi-head
    attention, `kv_heads = 1` multi-query attention).

    `query` is `[queries, heads * head_dim]`; `key` and `value` are
    `[keys, kv_heads * head_dim]`. The mask decides which keys a query sees:
    `none` (all), `causal` (key `j <= i`), `window` (key `i - window < j <= i`,
    the last `window` tokens). A query that sees no key yields zeros.

    ```mlir
    %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = causal
           scale = 1.250000e-01
        : (tensor<128x256xf32>, tensor<128x256xf32>, tensor<128x256xf32>)
        -> tensor<128x256xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$query, Attn_F32Matrix:$key,
                       Attn_F32Matrix:$value,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
                       Attn_MaskKindAttr:$mask,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       F32Attr:$scale);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `heads` `=` $heads `kv_heads` `=` $kv_heads
    `mask` `=` $mask (`window` `=` $window^)? `scale` `=` $scale attr-dict
    `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    int64_t getHeadDim() {
      return getQuery().getType().getDimSize(1) / getHeads();
    }
  }];
  let hasVerifier = 1;
}

#endif // ATTN_OPS

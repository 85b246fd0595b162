//===- AttnOps.td - operations of the attn dialect -----------*- tablegen -*-===//

#ifndef ATTN_OPS
#define ATTN_OPS

include "attn/AttnDialect.td"
include "attn/AttnEnums.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Models are compiled for one fixed context size: every tensor has a static
// shape, and the types say so.
class Attn_StaticF32Tensor<list<int> ranks, string rankWords>
    : RankedTensorOf<[F32], [HasAnyRankOfPred<ranks>, HasStaticShapePred],
                     "statically shaped " # rankWords # " tensor">;
def Attn_F32Matrix : Attn_StaticF32Tensor<[2], "2D">;
def Attn_F32Vector : Attn_StaticF32Tensor<[1], "1D">;
def Attn_F32Tensor3 : Attn_StaticF32Tensor<[3], "3D">;
def Attn_F32Tensor2or3 : Attn_StaticF32Tensor<[2, 3], "2D or 3D">;
def Attn_F32Tensor : RankedTensorOf<[F32], [HasStaticShapePred],
                                    "statically shaped tensor">;

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

def Attn_SdpaOp : Attn_Op<"sdpa", [Pure, AttrSizedOperandSegments]> {
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

    Two optional operands add to the scaled scores before the softmax:
    `bias` (`[queries, keys]`, an additive mask shared by all heads, with
    `-inf` for hidden keys) and `alibi` (`[heads]` slopes: head `h` adds
    `-alibi[h] * |i - j|`).

    ```mlir
    %o = attn.sdpa %q, %k, %v heads = 4 kv_heads = 4 mask = causal
           scale = 1.250000e-01
        : (tensor<128x256xf32>, tensor<128x256xf32>, tensor<128x256xf32>)
        -> tensor<128x256xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$query, Attn_F32Matrix:$key,
                       Attn_F32Matrix:$value,
                       Optional<Attn_F32Matrix>:$bias,
                       Optional<Attn_F32Vector>:$alibi,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
                       Attn_MaskKindAttr:$mask,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       F32Attr:$scale);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`bias` $bias^)? (`alibi` $alibi^)?
    `heads` `=` $heads `kv_heads` `=` $kv_heads
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

//===----------------------------------------------------------------------===//
// attn.attention_probs
//===----------------------------------------------------------------------===//

def Attn_AttentionProbsOp : Attn_Op<"attention_probs",
                                    [Pure, AttrSizedOperandSegments]> {
  let summary = "the softmax weights of multi-head attention, per head";
  let description = [{
    The weights `attn.sdpa` with the same operands and attributes mixes the
    values with: `probs[h, i, j] = softmax_j(scale * q[i, h] . k[j, g] +
    mask(i, j))`, `[heads, queries, keys]`, each visible row summing to 1 and
    rows with no visible key all zero. It is what `attnc
    --emit-attention-probs` returns for every attention call, so a person can
    see which tokens each token attends to. This result is O(S^2) by nature.

    ```mlir
    %p = attn.attention_probs %q, %k heads = 4 kv_heads = 4 mask = causal
           scale = 1.250000e-01
        : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$query, Attn_F32Matrix:$key,
                       Optional<Attn_F32Matrix>:$bias,
                       Optional<Attn_F32Vector>:$alibi,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
                       Attn_MaskKindAttr:$mask,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       F32Attr:$scale);
  let results = (outs Attn_F32Tensor3:$result);
  let assemblyFormat = [{
    $query `,` $key (`bias` $bias^)? (`alibi` $alibi^)?
    `heads` `=` $heads `kv_heads` `=` $kv_heads
    `mask` `=` $mask (`window` `=` $window^)? `scale` `=` $scale attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.decode_attention
//===----------------------------------------------------------------------===//

def Attn_F32Memref2D : MemRefRankOf<[F32], [2]>;
def Attn_F32Memref3D : MemRefRankOf<[F32], [3]>;

def Attn_DecodeAttentionOp : Attn_Op<"decode_attention",
                                     [AttrSizedOperandSegments]> {
  let summary = "tokens' attention over a KV cache (a decode step or chunk)";
  let description = [{
    The attention of a decode step (one token) or of a chunk of `N` tokens
    at once. `query`, `key` and `value` hold the tokens' rows (`[N, heads *
    head_dim]`, `[N, kv_heads * head_dim]`); row `n` is the token at
    `position + n`, and only the first `count` rows are tokens (all `N`
    without `count`; the others are computed and meaningless, and their
    values never reach a token's row). The caches hold earlier tokens,
    token `t` in slot `t mod C` (C, the context: a ring, so once it is full
    the oldest token's slot is reused): its key as column slot of
    `key_cache` (`[kv_heads * head_dim, C]`, keys as columns, so that one
    query's scores against every cached key are a vector-matrix product
    over unit-stride rows) and its value as row slot of each head's block
    of `value_cache` (`[kv_heads, C, head_dim]`, each key/value head's
    values together, so that its weighted sum reads one contiguous block).
    Each token attends over the earlier tokens and the chunk's tokens up
    to itself that the mask lets it see: the last `min(C, t + 1)` for
    `causal`, the last `min(window, t + 1)` for `window` (t, its position).
    A token `a` steps older (`a = 0` is the token itself) is at distance
    `a` for ALiBi. Then the op stores the tokens' keys and values in their
    slots. Other slots of the caches are not read into the result, so the
    caches need no initialization; at position 0 the op may clear the
    other slots of the value cache (the MLIR lowering zeroes them, as it
    multiplies the weights by every row).

    ```mlir
    %o = attn.decode_attention %q, %k, %v cache(%kc, %vc) at %pos
           heads = 4 kv_heads = 2 mask = window window = 8 scale = 0.25
        : (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>,
           memref<16x64xf32>, memref<2x64x8xf32>, i64) -> tensor<1x32xf32>
    %c = attn.decode_attention %q8, %k8, %v8 cache(%kc, %vc) at %pos
           count %n heads = 4 kv_heads = 2 mask = causal scale = 0.25
        : (tensor<8x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>,
           memref<16x64xf32>, memref<2x64x8xf32>, i64, i64)
          -> tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$query, Attn_F32Matrix:$key,
                       Attn_F32Matrix:$value,
                       Arg<Attn_F32Memref2D, "keys of earlier tokens",
                           [MemRead, MemWrite]>:$key_cache,
                       Arg<Attn_F32Memref3D, "values of earlier tokens",
                           [MemRead, MemWrite]>:$value_cache,
                       I64:$position,
                       Optional<I64>:$count,
                       Optional<Attn_F32Vector>:$alibi,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$kv_heads,
                       Attn_MaskKindAttr:$mask,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window,
                       F32Attr:$scale);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `cache` `(` $key_cache `,` $value_cache `)`
    `at` $position (`count` $count^)? (`alibi` $alibi^)?
    `heads` `=` $heads `kv_heads` `=` $kv_heads
    `mask` `=` $mask (`window` `=` $window^)? `scale` `=` $scale attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention written out by hand
//===----------------------------------------------------------------------===//


def Attn_MatmulOp : Attn_Op<"matmul", [Pure]> {
  let summary = "matrix product, batched over a leading dimension";
  let description = [{
    `[M, K] x [K, N] -> [M, N]`, or `[B, M, K] x [B, K, N] -> [B, M, N]` for
    per-head products after `attn.split_heads`.

    ```mlir
    %s = attn.matmul %q, %kt
        : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor2or3:$lhs, Attn_F32Tensor2or3:$rhs);
  let results = (outs Attn_F32Tensor2or3:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Attn_TransposeOp : Attn_Op<"transpose", [Pure]> {
  let summary = "swap the last two dimensions";
  let description = [{
    `[M, N] -> [N, M]`, or `[B, M, N] -> [B, N, M]`. Two transposes in a row
    cancel.

    ```mlir
    %kt = attn.transpose %k : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor2or3:$input);
  let results = (outs Attn_F32Tensor2or3:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Attn_ScaleOp : Attn_Op<"scale", [Pure, SameOperandsAndResultType]> {
  let summary = "multiply every element by a constant";
  let description = [{
    `x * factor`; the language's `x * s` and `x / s` for a number `s`. A
    factor of 1 folds away and consecutive scales merge into one.

    ```mlir
    %s = attn.scale %scores by 1.250000e-01 : tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$input, F32Attr:$factor);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$input `by` $factor attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Attn_MaskOp : Attn_Op<"mask", [Pure, SameOperandsAndResultType]> {
  let summary = "hide scores a query may not see";
  let description = [{
    Over the last two dimensions `[queries, keys]`, sets element `(i, j)` to
    `-inf` where the mask hides key `j` from query `i`: `causal` hides
    `j > i`, `window` also hides `j <= i - window`. `none` hides nothing and
    folds away.

    ```mlir
    %m = attn.mask %s causal : tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$input, Attn_MaskKindAttr:$kind,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$input $kind (`window` `=` $window^)? attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Attn_SoftmaxOp : Attn_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "numerically stable softmax along one dimension";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `axis` (non-negative here; the
    language's negative axes are resolved before). A slice whose elements
    are all `-inf` becomes all zeros.

    ```mlir
    %p = attn.softmax %s axis = 2 : tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$input,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$axis);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$input `axis` `=` $axis attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Attn_SplitHeadsOp : Attn_Op<"split_heads", [Pure]> {
  let summary = "[tokens, heads * head_dim] -> [heads, tokens, head_dim]";
  let description = [{
    Head `h` is the column block `[h * head_dim, (h + 1) * head_dim)`.

    ```mlir
    %qh = attn.split_heads %q heads = 4
        : (tensor<16x32xf32>) -> tensor<4x16x8xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$heads);
  let results = (outs Attn_F32Tensor3:$result);
  let assemblyFormat = "$input `heads` `=` $heads attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Attn_MergeHeadsOp : Attn_Op<"merge_heads", [Pure]> {
  let summary = "[heads, tokens, head_dim] -> [tokens, heads * head_dim]";
  let description = [{
    The inverse of `attn.split_heads`; the pair folds away.

    ```mlir
    %o = attn.merge_heads %oh : (tensor<4x16x8xf32>) -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor3:$input);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Around attention
//===----------------------------------------------------------------------===//

def Attn_RopeOp : Attn_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates pairs of features of every head by an angle proportional to the
    token's position (dimension `-2`): pair `p` of a head of width `D` turns
    by `position * base^(-2p / D)`. `half` pairs feature `p` with
    `p + D/2` (Llama, GPT-NeoX); `interleaved` pairs `2p` with `2p + 1`
    (GPT-J). Heads are `head_dim`-wide column blocks of the last dimension.
    Row `s` is at position `s`, or `position + s` when the optional
    `position` is given (a decode step, whose one row is the token at that
    position of the sequence).

    ```mlir
    %r = attn.rope %q head_dim = 8 base = 1.000000e+04 style = half
        : tensor<16x32xf32>
    %t = attn.rope %q1 at %pos head_dim = 8 base = 1.000000e+04 style = half
        : tensor<1x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor2or3:$input, Optional<I64>:$position,
                       ConfinedAttr<I64Attr, [IntPositive]>:$head_dim,
                       F32Attr:$base, Attn_RopeStyleAttr:$style);
  let results = (outs Attn_F32Tensor2or3:$result);
  let assemblyFormat = [{
    $input (`at` $position^)? `head_dim` `=` $head_dim `base` `=` $base
    `style` `=` $style attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Attn_LayerNormOp : Attn_Op<"layer_norm", [Pure]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `(x - mean) / sqrt(var + eps) * gamma + beta`, with the biased variance.

    ```mlir
    %n = attn.layer_norm %x, %g, %b eps = 9.99999974E-6
        : (tensor<16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$input, Attn_F32Vector:$gamma,
                       Attn_F32Vector:$beta, F32Attr:$eps);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = "$input `,` $gamma `,` $beta `eps` `=` $eps attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Attn_RmsNormOp : Attn_Op<"rms_norm", [Pure]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `x / sqrt(mean(x^2) + eps) * gamma`.

    ```mlir
    %n = attn.rms_norm %x, %g eps = 9.99999997E-7
        : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Matrix:$input, Attn_F32Vector:$gamma, F32Attr:$eps);
  let results = (outs Attn_F32Matrix:$result);
  let assemblyFormat = "$input `,` $gamma `eps` `=` $eps attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class Attn_BinaryOp<string mnemonic, string what> : Attn_Op<mnemonic, [Pure]> {
  let summary = "elementwise " # what # " with trailing broadcast";
  let description = [{
    Both shapes are equal, or one is a suffix of the other and is repeated
    along the leading dimensions (a bias row added to every token).

    ```mlir
    %y = attn.}] # mnemonic # [{ %x, %r
        : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$lhs, Attn_F32Tensor:$rhs);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Attn_AddOp : Attn_BinaryOp<"add", "sum">;
def Attn_SubOp : Attn_BinaryOp<"sub", "difference">;
def Attn_MulOp : Attn_BinaryOp<"mul", "product">;

class Attn_UnaryOp<string mnemonic, string formula> :
    Attn_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let description = [{
    ```mlir
    %y = attn.}] # mnemonic # [{ %x : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$input);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Attn_SiluOp : Attn_UnaryOp<"silu", "x * sigmoid(x)">;
def Attn_ReluOp : Attn_UnaryOp<"relu", "max(x, 0)">;

def Attn_GeluOp : Attn_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise GELU";
  let description = [{
    `none`: `x * (1 + erf(x / sqrt(2))) / 2`. `tanh`: the approximation
    `x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2` that GPT-2 uses.

    ```mlir
    %y = attn.gelu %x approximate = tanh : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tensor:$input,
                       Attn_GeluApproximationAttr:$approximate);
  let results = (outs Attn_F32Tensor:$result);
  let assemblyFormat = "$input `approximate` `=` $approximate attr-dict `:` type($input)";
}

#endif // ATTN_OPS

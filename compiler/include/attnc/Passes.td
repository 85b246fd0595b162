//===- Passes.td - attnc compiler passes ---------------------*- tablegen -*-===//

#ifndef ATTNC_PASSES
#define ATTNC_PASSES

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower attn operations to linalg and tensor operations";
  let description = [{
    Every attn operation becomes linalg and tensor operations on tensors.
    `attn.linear` is a bias broadcast followed by `linalg.matmul`; norms,
    rope, softmax, masks and the elementwise operations are
    `linalg.generic`s; `split_heads`/`merge_heads` are reshapes and
    transposes.

    `attn.sdpa` carrying `attn.tiles` (see `attn-choose-tiles`) becomes a
    flash-attention loop nest (`scf.for` over head groups, heads, query tiles
    and the visible key tiles) with a running max, running sum and rescaled
    accumulator: O(S * D) memory, key tiles hidden by a causal or window mask
    never visited, rows that see no key give 0. A causal query tile wider
    than 64 queries runs its diagonal block in sub-tiles of 64 queries, each
    over the keys up to its own last query. When rows of K and V lie 4 KiB
    or more apart, or a task's query tiles read them 16 times or more (once
    per head of the group each), and a head group's K and V fit in 2 MiB,
    each task first copies the key tiles its queries see into contiguous,
    64-byte aligned buffers. Tiles that do not divide the lengths pad the
    queries, keys and values (and a bias) with zeros to whole tiles, once
    per call, and mask the padded keys. Without `attn.tiles` it becomes a
    materialized score tensor per head group: QK^T, scale and mask, a
    numerically stable softmax, and PV.
    `attn.decode_attention` stores the token's key and value in its KV
    caches (memref writes) and reads them back as tensors for the same steps
    over the cached rows.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"
  ];
}

def ExposeCAbi : Pass<"attn-expose-c-abi", "mlir::ModuleOp"> {
  let summary = "Give model functions the C kernel ABI";
  let description = [{
    Rewrites every function marked `attn.model` from
    `(tensor, ...) -> (tensor, ...)` into destination-passing form
    `(memref inputs..., memref outputs...) -> i32`: inputs are read through
    `bufferization.to_tensor restrict`, results are written into the output
    buffers with `bufferization.materialize_in_destination`, and the function
    returns 0. With the bare-pointer calling convention this is exactly
    `int model(const float *x, ..., float *y)`. A result computed into a
    `tensor.empty` of its own shape (through destination-passing ops,
    `scf.forall` shared outputs and reshapes that nothing else uses) gets
    the output buffer (`to_tensor restrict writable`) in place of that empty
    tensor, so the kernel writes its output directly instead of into a
    temporary it then copies.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::memref::MemRefDialect"
  ];
}

def FuseSdpa : Pass<"attn-fuse-sdpa"> {
  let summary = "Recognise attention written out by hand and fuse it into attn.sdpa";
  let description = [{
    Rewrites the chain the frontend emits for hand-written attention,

    ```
    split_heads(q|k|v) -> matmul(qh, transpose(kh)) -> scale* -> mask?
      -> add(bias)? -> softmax(last axis) -> matmul(p, vh) -> merge_heads
    ```

    (or the same without split/merge heads, all rank 2) into one `attn.sdpa`
    with `heads = kv_heads = H` (1 for the rank-2 form), the mask of the
    `attn.mask` ops (`none` without one), `scale` = the product of every
    positive factor applied to q, k or the scores before the bias is added
    (1.0 without any) and `bias` = the `[queries, keys]` tensor added to the
    scores. Chains that only look similar are left as they are: softmax over
    another axis, a scale after the softmax or after the bias, a
    non-positive scale, a multiplicative mask, a missing or misplaced
    transpose, mismatched heads, or an intermediate value with a user outside
    the chain. FuseSdpa.cpp lists every refusal with its reason.

    The pass touches nothing but the chains it fuses (no folding, no DCE);
    run `canonicalize` before it so that `scale by 1`, `mask none` and double
    transposes are gone and consecutive scales are merged.
  }];
  let options = [
    Option<"reportRefusals", "report-refusals", "bool", /*default=*/"false",
           "Emit a remark on every attention-like chain that is not fused, "
           "saying why">
  ];
  let statistics = [
    Statistic<"numFused", "num-fused", "Chains fused into attn.sdpa">,
    Statistic<"numRefused", "num-refused",
              "Attention-like chains left unfused">
  ];
}

def ChooseTiles : Pass<"attn-choose-tiles", "mlir::ModuleOp"> {
  let summary = "Choose the tile sizes of every attn.sdpa, recorded as attn.tiles";
  let description = [{
    The one place where attention tile sizes are decided. Each `attn.sdpa`
    without an `attn.tiles` attribute gets `attn.tiles = array<i64: Tq, Tk>`
    (query and key tile lengths), which the lowering then follows: ops with
    tiles become a flash-attention loop nest with O(S * D) memory, ops
    without keep the materialized lowering. The heuristic takes the largest
    of 64, 32 and 16 that divides both sequence lengths, and at most 32 for
    a window of up to 256 keys (a query tile then visits window + 32 keys
    instead of window + 64: 7-10 % faster at window(256), measured; from
    512 keys on, 64 and 32 tie). When none divides both and both are longer
    than the largest tile, it takes the one with the fewest padded
    query-key pairs, weighed by a smaller tile's cost per pair (32: 1 %
    more, 16: 6 %; 197 tokens take 16 x 16, padded to 208, 1.44x faster
    than 64 x 64 padded to 256; 1000 tokens keep 64 x 64), and the
    lowering pads the last one; when one length fits in a tile the op keeps
    the materialized lowering, whose scores are then [S, at most 64].
    `tile-sizes` overrides the choice for experiments (`attnc
    --tile=Tq,Tk`): any lengths from 1 to the sequence's.
  }];
  let options = [
    ListOption<"tileSizes", "tile-sizes", "int64_t",
               "Query and key tile lengths to use instead of the heuristic">
  ];
}

def Vectorize : Pass<"attn-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile linalg ops to vector registers and vectorize them";
  let description = [{
    Runs on linalg on tensors, before bufferization. Each statically shaped
    linalg op but the contractions (see `attn-contraction-microkernel`), the
    fills, row scalings and row broadcasts whose only reader is a
    contraction's init, and the elementwise ops that micro-kernel applies to
    a linear's result, is tiled to register size and vectorized: reductions
    along a row's contiguous dimension a whole row at a time (16 elements per step for
    rows longer than 256), everything else to 16 lanes along the output's
    innermost dimension; a reduction across rows (up to 256 of them) is taken
    whole and its rows are combined elementwise. Max reductions become
    compare-and-select trees (one `vmaxps` per step; a NaN may be dropped
    from the max, which softmax tolerates since the NaN still reaches its
    exponentials). Multi-reductions, transposes and transfers are
    lowered to the forms the LLVM x86 backend handles, and `exp`, `tanh`
    and `erf` to polynomial approximations. An op the vectorizer cannot
    handle keeps its scalar loops.

    Each product at the top level gets a start and a buffer of its own: a
    fill or bias broadcast that several products share (CSE merges equal
    ones) is cloned right before each, and a shared `tensor.empty` under it
    becomes a `bufferization.alloc_tensor` for that product alone, so that
    the micro-kernel can fold the start and tell that only its epilogue
    reads the product.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect"
  ];
}

def ContractionMicrokernel : Pass<"attn-contraction-microkernel",
                                  "mlir::func::FuncOp"> {
  let summary = "Matrix products on buffers as register-blocked FMA loops";
  let description = [{
    Every `C[m, n] += A[m, k] * B[k, n]` linalg op on statically shaped f32
    buffers (`linalg.matmul`, the score and value products of attention)
    whose B and C rows are contiguous becomes an outer-product micro-kernel
    (A may be stored transposed, as the attention's probabilities are):
    column blocks of two 16-lane vectors (or one, or 8 lanes, as the width
    allows), 8 rows at a time held in vector registers across the whole k
    loop; per step one vector load of B per column vector and one
    broadcast of A per row feeding the FMAs. Column blocks are the outer
    loop so the panel of B stays in cache. A `linalg.fill` of C right
    before the product, a scaling of each row of C (flash attention's
    rescaled accumulator), or a `linalg.broadcast` of a vector into every
    row of C (a linear's bias), is folded in: the registers start from the
    fill's value, from C's blocks times their row's factor, or from the
    vector, and the op goes.

    At the top level of a function, an all-parallel `linalg.generic` that
    is the next op touching memory after the product and reads C in loop
    order (a linear's activation, a residual sum) is folded in too, when C
    is a temporary only the product and that op use, or is that op's own
    output: its body (elementwise `arith` and `math` ops; other inputs read
    in loop order, per column, per row or as one element) is applied to
    each register block, which is stored into the op's output instead of C.
    Its `tanh`, `erf` and `exp` get the polynomial approximations
    `attn-vectorize` gives them elsewhere. Not when that output shares
    memory with A or B, which other column blocks may still be reading.
    A top-level generic of that form that no product takes (attn-vectorize
    leaves such ops to this pass) becomes a vector loop nest of its own over
    the rows and 16- or 8-lane columns of the matrix it reads in loop order.

    A product copies the panel of a wide B into a dense buffer per column
    block, once per call. A B whose values are known when the model is
    compiled (a function argument marked `attn.embedded`, attnc
    --embed-weights) is packed ahead of time instead: when every reader of
    the argument is such a product with the same panel width W, the
    argument gets `attn.packed_panels = W` and the products read it as
    [N / W, K, W], panel after panel; whoever supplies the values
    (attnc's kernel interface) lays them out so.

    A single row (a decode step's linear, or one head's scores, M = 1)
    whose B is wider than one panel reads B whole rows at a time instead
    (an embedded B too, which is then not packed for it): bands of up to 64
    rows (at the top level an `scf.forall`, tasks for the thread pool;
    inside one, a loop), each adding its rows times A's elements into
    partial sums of its own (an aligned [bands, N] buffer), then one loop
    adds the bands' sums, in order, onto the start (C, the fill, scaled C
    or the bias) and stores them through the folded elementwise op, if any.
    Column blocks would read a piece of every row of B, a row apart, which
    memory streams at about half the rate.

    N or K may be dynamic (M may not) on a product marked
    `attn.extent_multiple = V`, which says every dynamic size is a multiple
    of V: a decode step's products over the cache slots its token sees.
    Register blocks and vector widths are then chosen for V, loops run to
    the sizes read from the buffers, the row-streaming product's partial
    sums are allocated at run time, and at the top level a dynamic N's
    column blocks are as many tasks as the columns of the buffer C views,
    those past N doing nothing. Nothing is packed for such a product.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
    "mlir::vector::VectorDialect"
  ];
}

def OutlineParallelLoops : Pass<"attn-outline-parallel-loops",
                                "mlir::ModuleOp"> {
  let summary = "Turn outermost scf.forall loops into thread-pool tasks";
  let description = [{
    After bufferization, each outermost one-dimensional `scf.forall` with
    constant bounds (attention over head groups, matrix products over column
    blocks) becomes a private function `@F_parallel_N(captures..., %i)` for
    one iteration and a call to a declared launcher
    `@__attnc_launch.F_parallel_N(captures..., %count)`. attnc defines the
    launcher in LLVM IR: it hands the iterations to the runtime's
    `attnc_parallel_for` (a weak reference: without the runtime they run in
    order on the caller). Captured strided views are passed as base buffer,
    offset and any dynamic sizes and rebuilt in the task, so every
    signature lowers to plain pointers and integers.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::func::FuncDialect",
    "mlir::memref::MemRefDialect"
  ];
}

def OutlineSerialLoops : Pass<"attn-outline-serial-loops", "mlir::ModuleOp"> {
  let summary = "Move a model function's top-level scf.for loops into "
                "functions of their own";
  let description = [{
    After `attn-outline-parallel-loops`, each `scf.for` directly in the body
    of a function marked `attn.model` (a norm over a row, a residual, a
    decode step's cache writes: what runs on one thread between the tasks)
    becomes a private function `@F_serial_N(captures...) -> (results...)`,
    marked `attn.serial_loop`, and a call to it. The captures cross the call
    as a task's do. The layers of a stack then call the same functions
    (`attn-merge-identical-tasks` keeps one of each set of equal ones), so
    LLVM compiles a layer's serial code once instead of once per layer:
    the functions have internal linkage (`llvm.linkage`) and `no_inline`,
    so LLVM's inliner does not copy them back into every caller.
    Loops yielding anything but scalars and vectors stay in place.
  }];
  let dependentDialects = [
    "mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
    "mlir::LLVM::LLVMDialect"
  ];
}

def MergeIdenticalTasks : Pass<"attn-merge-identical-tasks",
                                "mlir::ModuleOp"> {
  let summary = "Keep one of thread-pool tasks with the same body";
  let description = [{
    The layers of a stack are expanded in place, so each layer's attention
    and products are outlined into tasks of their own
    (`attn-outline-parallel-loops`), most of them identical to the same
    task of the layer before: the same loops over other buffers, which the
    captures pass in. This pass keeps the first of each set of tasks whose
    bodies are equivalent (locations aside) and whose signatures match,
    points the calls of the others' launchers at its launcher, and erases
    the rest, so that every later pass, LLVM's optimizer and code
    generation compile each distinct task once. Functions outlined by
    `attn-outline-serial-loops` are merged the same way, their calls
    pointed at the one kept.
  }];
}

def FuseElementwise : Pass<"attn-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse chains of the model's elementwise ops into one loop nest";
  let description = [{
    Runs on linalg on tensors, right after `convert-attn-to-linalg`. Each
    `linalg.generic` of the function body whose loops are all parallel and
    which reads its operands in loop order (at most broadcast over leading
    dimensions) absorbs the producers of the same kind that only it reads
    (upstream's elementwise fusion): `y = x * w + x; z = gelu(y) + r`
    becomes one loop nest, with no temporaries between the statements.
    Generics inside loop nests a lowering built (attention's) and ops with
    reductions (norms, softmax, matrix products) are left alone, in the
    forms `attn-vectorize` and `attn-contraction-microkernel` expect.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def LowerStridedCopies : Pass<"attn-lower-strided-copies",
                              "mlir::func::FuncOp"> {
  let summary = "Copies between strided buffers as linalg.copy, so as loops";
  let description = [{
    `finalize-memref-to-llvm` turns a `memref.copy` between two contiguous
    buffers into `llvm.memcpy`, but any other copy into a call to
    `memrefCopy`, which lives in MLIR's C runner utilities, a library no
    kernel links. Such a copy appears when a model outputs a view of an
    input, e.g. one piece of `split(x, 3)`: the output buffer is filled
    from a strided subview. This pass rewrites every `memref.copy` whose
    source or target is not contiguous into a `linalg.copy` of the same
    buffers, which `convert-linalg-to-loops` lowers to plain loops, so the
    object file stays self-contained. Contiguous copies are left alone.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

#endif // ATTNC_PASSES

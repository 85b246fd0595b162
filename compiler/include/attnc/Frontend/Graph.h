//===- Graph.h - a checked model as a list of typed operations --*- C++ -*-===//
//
// Sema turns the syntax tree into this form: every value has a static shape,
// every operation has its attributes resolved (default scale, mask kind), and
// names are gone except where the ABI needs them. The reference interpreter
// and every lowering consume this, never the raw syntax tree.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_GRAPH_H
#define ATTNC_FRONTEND_GRAPH_H

#include "attnc/Frontend/AST.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnc {

using Shape = std::vector<int64_t>;

int64_t numElements(const Shape &shape);
std::string shapeToString(const Shape &shape);

using ValueId = unsigned;

enum class MaskKind { None, Causal, Window };
const char *maskKindName(MaskKind kind);

enum class RopeStyle { Half, Interleaved };

/// One operation of the checked model. Operands and results are value ids;
/// which attribute fields mean something depends on the kind.
struct GraphOp {
  enum class Kind {
    Linear,     ///< (x, w[, b]): x @ w + b
    Split,      ///< (t): `results.size()` equal column blocks, in order
    Attention,  ///< (q, k, v[, bias][, alibi]): heads, kvHeads, mask, window,
                ///< scale, hasBias, hasAlibi
    AttentionProbs, ///< (q, k[, bias][, alibi]): the softmax weights of the
                    ///< Attention with the same attributes, [heads, S, T]
    DecodeAttention, ///< (q, k, v[, alibi]), a row per token, in a decode
                     ///< step or chunk: attends over the cached tokens and
                     ///< the chunk's the mask lets each see, and stores k
                     ///< and v in KV cache `layer` at the tokens' positions
    MatMul,     ///< (a, b): [M,K]x[K,N] or batched [B,M,K]x[B,K,N]
    Transpose,  ///< (t): swap the last two dimensions
    Scale,      ///< (t): t * scale
    Mask,       ///< (s): mask (Causal or Window) over the last two dims
    Softmax,    ///< (s): along `axis` (non-negative)
    SplitHeads, ///< (t): [S, heads*D] -> [heads, S, D]
    MergeHeads, ///< (t): [H, S, D] -> [S, H*D]
    Rope,       ///< (t): headDim, base, ropeStyle; position = dim -2
    LayerNorm,  ///< (x, gamma, beta): eps, over the last dim
    RmsNorm,    ///< (x, gamma): eps, over the last dim
    Add,        ///< (a, b): elementwise, the smaller shape a suffix of the other
    Sub,        ///< (a, b): as Add
    Mul,        ///< (a, b): as Add
    Gelu,       ///< (t): erf form, or the tanh approximation if geluTanh
    Silu,       ///< (t): t * sigmoid(t)
    Relu,       ///< (t): max(t, 0)
  };
  Kind kind;
  llvm::SMLoc loc;
  std::vector<ValueId> operands;
  std::vector<ValueId> results;

  int64_t heads = 0;
  int64_t kvHeads = 0;
  MaskKind mask = MaskKind::None;
  int64_t window = 0;
  double scale = 0;
  bool hasBias = false;  ///< attention: operand 3 is an additive [S, T] mask
  bool hasAlibi = false; ///< attention: the last operand is [heads] slopes
  int64_t layer = 0;     ///< DecodeAttention: which KV cache
  int64_t axis = 0;
  int64_t headDim = 0;
  double base = 10000;
  RopeStyle ropeStyle = RopeStyle::Half;
  bool atStepPosition = false; ///< Rope in a decode step or chunk: row 0 is
                               ///< the token at the step's position, not 0
  double eps = 0;
  bool geluTanh = false;
};

/// An argument of the compiled kernel, in ABI order: inputs and params in
/// declaration order, then outputs in `output` order.
struct KernelArg {
  std::string name;
  ArgRole role;
  ValueId value;
  Shape shape;
  /// An output added by addAttentionProbOutputs: softmax weights [H, S, T].
  bool attentionProbs = false;
  /// A param whose values are compiled into the object (attnc
  /// --embed-weights): the kernel's C signature no longer takes it.
  std::shared_ptr<const std::vector<float>> embedded;
  /// In a decode step: one row of the token's, not a tensor passed whole.
  bool perToken = false;
  /// In a prefill (buildPrefill): an output written into the decoder's
  /// cache number `cacheIndex` (2 * layer for keys, + 1 for values) rather
  /// than into a buffer of the ABI's arguments; -1 for the others.
  int cacheIndex = -1;
};

struct Graph {
  std::string name;
  int64_t context = 0;
  /// A decode step (buildDecodeStep): token inputs and outputs have one row,
  /// and DecodeAttention op `l` reads and writes KV cache `l`: context x
  /// kvCacheWidths[l] floats for the keys and as many for the values, the
  /// width being kv_heads x kvCacheHeadDims[l].
  bool isDecodeStep = false;
  /// A prefill (buildPrefill): outputs with a cacheIndex go to the caches.
  bool isPrefill = false;
  /// A chunk (buildChunk): the decode step over chunkRows tokens at once,
  /// of which the first `count` (an argument after the position) are real.
  bool isChunk = false;
  /// In a decode step and its chunk: the rows of NAME_chunk, 0 without one.
  int64_t chunkRows = 0;
  /// In a decode step: the fewest tokens of a prompt in the first context
  /// that the decoder sends through NAME_prefill (prefillFromTokens).
  int64_t prefillFrom = 0;
  std::vector<int64_t> kvCacheWidths;
  std::vector<int64_t> kvCacheHeadDims;
  /// The model's decode entry point, NAME_decode, when it asks for one.
  std::shared_ptr<Graph> decodeStep;
  /// With it, NAME_prefill: the model that also fills the step's caches
  /// with its keys and values, a whole prompt in one call.
  std::shared_ptr<Graph> prefill;
  /// And NAME_chunk: the step over several tokens at once, for prompts the
  /// prefill cannot take.
  std::shared_ptr<Graph> chunk;
  std::vector<Shape> valueShapes;
  std::vector<KernelArg> args;
  std::vector<GraphOp> ops;

  ValueId addValue(Shape shape) {
    valueShapes.push_back(std::move(shape));
    return valueShapes.size() - 1;
  }
  const Shape &shapeOf(ValueId v) const { return valueShapes[v]; }
  unsigned numInputArgs() const;
  /// The arguments of the kernel's C signature: all but embedded params
  /// and a prefill's cache outputs.
  std::vector<const KernelArg *> abiArgs() const;
};

/// Makes every `attention(...)` also return its softmax weights: appends an
/// AttentionProbs op per Attention op and an output `attention<N>_probs`
/// ([heads, queries, keys], N counting attention calls in program order) for
/// it. `attnc --emit-attention-probs` applies this before compiling.
void addAttentionProbOutputs(Graph &graph);

} // namespace attnc

#endif // ATTNC_FRONTEND_GRAPH_H

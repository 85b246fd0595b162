//===- Algorithm.cpp - a model's constructs as Halide Funcs ---------------===//

#include "Algorithm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

using namespace Halide;
using namespace attnc::hl;

bool Construct::isReduction() const {
  switch (op->kind) {
  case ATTNC_HL_LINEAR:
  case ATTNC_HL_SDPA:
  case ATTNC_HL_ATTENTION_PROBS:
  case ATTNC_HL_DECODE_ATTENTION:
  case ATTNC_HL_MATMUL:
  case ATTNC_HL_SOFTMAX:
  case ATTNC_HL_LAYER_NORM:
  case ATTNC_HL_RMS_NORM:
    return true;
  default:
    return false;
  }
}

bool Construct::isIndexRemap() const {
  switch (op->kind) {
  case ATTNC_HL_SLICE:
  case ATTNC_HL_TRANSPOSE:
  case ATTNC_HL_SPLIT_HEADS:
  case ATTNC_HL_MERGE_HEADS:
    return true;
  default:
    return false;
  }
}

namespace {

Expr negativeInfinity() {
  return Expr(-std::numeric_limits<float>::infinity());
}

/// exp(x) for the softmax's x = score - max <= 0, as the MLIR backend
/// computes it (compiler/Conversion/AttnToLinalg/SoftmaxExp.cpp, whose
/// polynomial this shares): x = n ln2 + r with |r| <= ln2 / 2 and ln2 in two
/// parts (the MLIR backend takes one part and one fused multiply-add, which
/// Halide 14 does not promise to form), exp(r) by a degree-5 polynomial
/// fitted for least relative error (1.5e-7 in float, against Halide's
/// fast_exp's 2^-18), 2^n in the exponent bits. n by one truncating
/// conversion (x / ln2 - 1/2 < 0 truncates upwards, to the nearest integer)
/// instead of floor (two ymm roundings in Halide 14). Below -88 (a hidden
/// key's -inf too) the result is exactly 0. That is a select on a strict
/// compare, not a clamp of x:
/// max(x, -88) compiles to vmaxps, which returns -88 for a NaN x, and a
/// compare under the no-NaN flag may be taken for its unordered twin; a NaN
/// score must give a NaN weight, as in IEEE arithmetic (NonFiniteInputsTest).
/// strict_float marks only that compare strict (docs/halide.md, "Numerics").
Expr expOfNonPositive(Expr x) {
  Expr n = cast<int>(x * 1.44269504088896341f - 0.5f);
  Expr nf = cast<float>(n);
  Expr r = x - nf * 0.693359375f;
  r = r + nf * 2.12194440e-4f;
  Expr p = 8.2903150469e-3f;
  for (float c : {4.1897930205e-2f, 1.6667635739e-1f, 4.9999150634e-1f,
                  9.9999970198e-1f, 1.0f})
    p = p * r + c;
  Expr twoToTheN = reinterpret<float>((n + 127) << 23);
  return select(strict_float(x < -88.f), 0.f, p * twoToTheN);
}

/// a / sum for a softmax's row sum, and 0 where the sum is 0 (a row that
/// sees no key). Not select(sum > 0, a / sum, 0): a NaN sum must give NaN,
/// and under Halide's no-NaN flags LLVM may take an ordered compare for an
/// unordered one; sum + (sum == 0) is NaN for a NaN sum either way.
Expr divideByRowSum(Expr a, Expr sum) {
  return a / (sum + select(sum == 0.f, 1.f, 0.f));
}

std::vector<Var> makeVars(int rank) {
  static const char *names[] = {"x", "y", "z"};
  std::vector<Var> vars;
  for (int d = 0; d < rank; ++d)
    vars.emplace_back(names[d]);
  return vars;
}

std::vector<Expr> asExprs(const std::vector<Var> &vars) {
  return std::vector<Expr>(vars.begin(), vars.end());
}

/// Whether query `i` sees key `j`, or an undefined Expr for no mask.
Expr visibility(const attnc_hl_op &op, Expr i, Expr j) {
  switch (op.mask) {
  case ATTNC_HL_MASK_CAUSAL:
    return j <= i;
  case ATTNC_HL_MASK_WINDOW:
    return j <= i && j > i - static_cast<int>(op.window);
  default:
    return Expr();
  }
}

/// Restricts the reduction `dom` over keys (or chunks of keys) to the range
/// the mask leaves visible, [first, last] (`first` only matters for a
/// window), and returns its index written so that the index itself carries
/// the bounds: equal to `dom.x` wherever the predicate holds, so Halide's
/// bounds inference asks the producers only for the visible keys of a
/// query tile, and its loops skip the rest.
Expr restrictToVisible(const attnc_hl_op &op, RDom &dom, Expr first,
                       Expr last) {
  switch (op.mask) {
  case ATTNC_HL_MASK_CAUSAL:
    dom.where(dom.x <= last);
    return min(dom.x, last);
  case ATTNC_HL_MASK_WINDOW:
    dom.where(dom.x <= last && dom.x >= first);
    return clamp(dom.x, first, last);
  default:
    return dom.x;
  }
}

/// The ranges of ring slots (of C, in blocks of `block`) that hold the
/// `count` tokens up to the one in slot `last`: the recent ones up to it
/// and, past a wrap, the oldest ones at the ring's end. Each range is
/// rounded out to whole blocks of the vectors its scores are computed in
/// (the extra slots are masked like any the token does not see); the older
/// one starts no earlier than the recent one ends, and ends at C, so that
/// an empty one still lies inside the ring. The key cache is [width,
/// context], one feature of every slot to a row, so a range is a piece of
/// every row: past half the ring the ranges become whole rows, where pieces
/// measured slower than whole rows (bench/README.md, "The Halide backend's
/// step"; the MLIR backend's products turn at a quarter).
struct SlotRangeBounds {
  Expr firsts[2], ends[2];
};
SlotRangeBounds slotRangeBounds(Expr last, Expr count, int C, int block) {
  auto down = [&](Expr x) { return x / block * block; };
  auto up = [&](Expr x) { return (x + block - 1) / block * block; };
  Expr recentCount = min(count, last + 1);
  Expr recentFirst = down(last + 1 - recentCount), recentEnd = up(last + 1);
  Expr olderFirst = max(down(C - (count - recentCount)), recentEnd);
  Expr whole = ((recentEnd - recentFirst) + (C - olderFirst)) * 2 > C;
  return {{select(whole, 0, recentFirst), select(whole, C, olderFirst)},
          {select(whole, C, recentEnd), Expr(C)}};
}

/// Slots per block of a decode attention's slot ranges: `width`, or the
/// largest power of 2 below it that divides the ring.
int slotBlockFor(int C, int width) {
  int block = width;
  while (C % block != 0)
    block /= 2;
  return block;
}

class Builder {
public:
  Builder(const attnc_hl_model &model, int lanes) : model(model), lanes(lanes) {}
  Algorithm run();

private:
  const attnc_hl_shape &shape(int32_t value) const {
    return model.values[value];
  }
  /// Extent of Halide dimension `dim` (innermost first) of a value.
  int extent(int32_t value, int dim) const {
    const attnc_hl_shape &s = shape(value);
    return static_cast<int>(s.dims[s.rank - 1 - dim]);
  }
  std::vector<int> extents(int32_t value) const {
    std::vector<int> e;
    for (int d = 0; d < shape(value).rank; ++d)
      e.push_back(extent(value, d));
    return e;
  }
  /// A Func Halide computes into an output buffer is computed there only,
  /// and nothing else should read it there: the same Func cannot fill a
  /// second output (two names for one value would leave one buffer
  /// unwritten); constructs that read it may need more of it than the
  /// buffer holds (attention reads a query tile of 32 rows of an 8-row
  /// output); and Halide 14 reads a buffer it computed with aligned vector
  /// loads, which the caller's output buffers need not allow. So such a
  /// value is computed into a buffer of Halide's own and copied into each
  /// of its outputs.
  bool needsOutputCopy(int32_t value) const {
    if (!alg.consumers[value].empty())
      return true;
    int outputs = 0;
    for (int a = 0; a < model.num_args; ++a)
      if (model.args[a].role == ATTNC_HL_OUTPUT && model.args[a].value == value)
        ++outputs;
    return outputs > 1;
  }
  Func outputCopy(int32_t value, int arg) {
    std::vector<Var> vars = makeVars(shape(value).rank);
    Func copy("output_v" + std::to_string(value) + "_" + std::to_string(arg));
    copy(vars) = alg.values[value](vars);
    alg.outputCopies.push_back({copy, vars, extents(value)});
    return copy;
  }
  Func operand(const attnc_hl_op &op, int index) const {
    return alg.values[op.operands[index]];
  }
  std::string name(const std::string &what, const attnc_hl_op &op) const {
    return what + "_v" + std::to_string(op.result);
  }

  void build(Construct &construct);
  void buildLinear(Construct &construct);
  void buildMatmul(Construct &construct);
  void buildAttention(Construct &construct);
  /// Decode attention's operands: the token rows' queries, keys and
  /// values, ALiBi's slopes (undefined without), the caches as (slot,
  /// feature) and (feature, slot, kv head); query heads per key/value head,
  /// a head's width and the ring's slots.
  struct DecodeOperands {
    Func q, k, v, alibi, keyCache, valueCache;
    int group, D, C;
  };
  DecodeOperands decodeOperands(const attnc_hl_op &op) const {
    const int heads = static_cast<int>(op.heads);
    return {operand(op, 0),
            operand(op, 1),
            operand(op, 2),
            op.has_alibi ? operand(op, 3) : Func(),
            alg.values[model.args[op.key_cache].value],
            alg.values[model.args[op.value_cache].value],
            static_cast<int>(op.heads / op.kv_heads),
            extent(op.operands[0], 0) / heads,
            extent(model.args[op.key_cache].value, 0)};
  }
  void buildDecodeAttention(Construct &construct);
  void buildChunkAttention(Construct &construct);
  void buildSoftmax(Construct &construct);
  void buildRope(Construct &construct);
  void buildNorm(Construct &construct);
  void buildElementwise(Construct &construct);

  const attnc_hl_model &model;
  const int lanes; ///< floats per vector: reductions over keys go this wide
  Algorithm alg;
  /// A decode step's new key or value (a chunk's rows of them), by the
  /// index of its cache argument, and their rows.
  std::map<int, Func> cacheUpdates;
  std::map<int, int> cacheUpdateRows;
  /// Values that may hold the -inf a mask() writes over hidden keys, by
  /// value id: elementwise arithmetic on them is strict (buildElementwise).
  std::vector<bool> holdsMaskInfinity;
};

Algorithm Builder::run() {
  alg.values.resize(model.num_values);
  alg.shapes.assign(model.values, model.values + model.num_values);
  alg.consumers.resize(model.num_values);
  alg.isOutput.assign(model.num_values, false);
  holdsMaskInfinity.assign(model.num_values, false);
  for (int a = 0; a < model.num_args; ++a) {
    const attnc_hl_arg &arg = model.args[a];
    if (arg.role == ATTNC_HL_OUTPUT) {
      alg.isOutput[arg.value] = true;
      continue;
    }
    if (arg.role == ATTNC_HL_POSITION) {
      alg.hasPosition = true;
      continue;
    }
    const attnc_hl_shape &s = shape(arg.value);
    ImageParam param(Float(32), s.rank, arg.name);
    constrainDense(param, extents(arg.value));
    alg.arguments.push_back(param);
    alg.argumentExtents.push_back(extents(arg.value));
    if (arg.role == ATTNC_HL_KEY_CACHE || arg.role == ATTNC_HL_VALUE_CACHE) {
      // Read at slots the attention computes, always inside.
      alg.values[arg.value] = Func(param);
      continue;
    }
    // Rows (the outer dimensions) are clamped into the array: the loops
    // stay inside it, but Halide's whole-pipeline bound of a windowed
    // attention's query rows is looser than that and would fail the call.
    // Columns are not, so their loads stay dense vectors.
    std::vector<Var> vars = makeVars(s.rank);
    std::vector<Expr> at = asExprs(vars);
    for (int d = 1; d < s.rank; ++d)
      at[d] = clamp(vars[d], 0, extent(arg.value, d) - 1);
    Func wrapped(std::string(arg.name) + "_in");
    wrapped(vars) = param(at);
    alg.values[arg.value] = wrapped;
  }
  alg.constructs.resize(model.num_ops);
  for (int o = 0; o < model.num_ops; ++o) {
    Construct &construct = alg.constructs[o];
    construct.op = &model.ops[o];
    build(construct);
    alg.values[construct.op->result] = construct.result;
    for (int i = 0; i < construct.op->num_operands; ++i)
      alg.consumers[construct.op->operands[i]].push_back(o);
  }
  for (int a = 0; a < model.num_args; ++a)
    if (model.args[a].role == ATTNC_HL_OUTPUT) {
      int32_t value = model.args[a].value;
      alg.outputs.push_back(needsOutputCopy(value)
                                ? outputCopy(value, a)
                                : alg.values[value]);
      alg.outputExtents.push_back(extents(value));
      alg.outputStrides.emplace_back();
    }
  // A decode step's new keys and values, in the order of the caches.
  for (int a = 0; a < model.num_args; ++a) {
    const attnc_hl_arg &arg = model.args[a];
    if (arg.role != ATTNC_HL_KEY_CACHE && arg.role != ATTNC_HL_VALUE_CACHE)
      continue;
    auto update = cacheUpdates.find(a);
    if (update == cacheUpdates.end())
      throw std::runtime_error(std::string(arg.name) +
                               ": no attention of the decode step uses it");
    // A column of the key cache ([width, context]: the slot's column is
    // `width` floats `context` apart), or the slot's row of each head's
    // block of the value cache ([kv_heads, context, head_dim]: kv_heads
    // rows of head_dim floats, context * head_dim apart). A chunk's rows
    // go to dense buffers: [width, rows] and [kv_heads, rows, head_dim].
    std::vector<int> cache = extents(arg.value);
    bool isKey = arg.role == ATTNC_HL_KEY_CACHE;
    int rows = cacheUpdateRows[a];
    alg.outputs.push_back(update->second);
    if (rows > 1) {
      alg.outputExtents.push_back(isKey
                                      ? std::vector<int>{rows, cache[1]}
                                      : std::vector<int>{cache[0], rows,
                                                         cache[2]});
      alg.outputStrides.emplace_back();
      continue;
    }
    alg.outputExtents.push_back(isKey ? std::vector<int>{1, cache[1]}
                                      : std::vector<int>{cache[0], cache[2]});
    alg.outputStrides.push_back(isKey
                                    ? std::vector<int>{1, cache[0]}
                                    : std::vector<int>{1, cache[0] * cache[1]});
  }
  return std::move(alg);
}

void Builder::build(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  construct.vars = makeVars(shape(op.result).rank);
  switch (op.kind) {
  case ATTNC_HL_LINEAR:
    return buildLinear(construct);
  case ATTNC_HL_MATMUL:
    return buildMatmul(construct);
  case ATTNC_HL_SDPA:
  case ATTNC_HL_ATTENTION_PROBS:
    return buildAttention(construct);
  case ATTNC_HL_DECODE_ATTENTION:
    return buildDecodeAttention(construct);
  case ATTNC_HL_SOFTMAX:
    return buildSoftmax(construct);
  case ATTNC_HL_ROPE:
    return buildRope(construct);
  case ATTNC_HL_LAYER_NORM:
  case ATTNC_HL_RMS_NORM:
    return buildNorm(construct);
  default:
    return buildElementwise(construct);
  }
}

void Builder::buildLinear(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  Func x = operand(op, 0), w = operand(op, 1);
  Var o = construct.vars[0], t = construct.vars[1];
  construct.inner = RDom(0, extent(op.operands[0], 0), "k");
  construct.weight = w;
  construct.product = Func(name("linear_sum", op));
  construct.product(o, t) = op.num_operands > 2 ? operand(op, 2)(o) : Expr(0.f);
  construct.product(o, t) += x(construct.inner, t) * w(o, construct.inner);
  construct.result = Func(name("linear", op));
  construct.result(o, t) = construct.product(o, t);
}

void Builder::buildMatmul(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  Func a = operand(op, 0), b = operand(op, 1);
  std::vector<Var> &v = construct.vars;
  construct.inner = RDom(0, extent(op.operands[0], 0), "k");
  construct.product = Func(name("matmul_sum", op));
  std::vector<Expr> out = asExprs(v), lhs = asExprs(v), rhs = asExprs(v);
  lhs[0] = construct.inner;  // a(k, m[, batch])
  rhs[1] = construct.inner;  // b(n, k[, batch])
  construct.product(v) = 0.f;
  construct.product(v) += a(lhs) * b(rhs);
  construct.result = Func(name("matmul", op));
  construct.result(v) = construct.product(v);
}

void Builder::buildAttention(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  bool probs = op.kind == ATTNC_HL_ATTENTION_PROBS;
  Func q = operand(op, 0), k = operand(op, 1);
  Func v = probs ? Func() : operand(op, 2);
  int next = probs ? 2 : 3;
  Func bias = op.has_bias ? operand(op, next++) : Func();
  Func alibi = op.has_alibi ? operand(op, next++) : Func();

  const int heads = static_cast<int>(op.heads);
  const int group = static_cast<int>(op.heads / op.kv_heads);
  const int D = extent(op.operands[0], 0) / heads;
  const int T = extent(op.operands[1], 1);
  construct.headDim = D;
  Var j("key"), i("query"), h("head"), d("feature");
  construct.key = j, construct.query = i, construct.head = h, construct.feature = d;

  // Keys of one head packed as columns in panels of P keys, panel after
  // panel: scores against a panel's keys are unit-stride vector loads, and
  // a product over the features walks one panel's memory in order.
  const int P = 2 * lanes;
  construct.panelWidth = P;
  Var inPanel("key_in_panel"), panel("panel");
  construct.keysT = Func(name("keys_packed", op));
  // The attention's scale goes into the packed keys, once per key, rather
  // than into every score.
  construct.keysT(inPanel, d, panel, h) =
      k(h * D + d, panel * P + inPanel) * static_cast<float>(op.scale);
  construct.inPanel = inPanel;

  // A head's queries and values as dense [rows, D] blocks: copies a
  // schedule can place where rows of the whole model's width (multiples of
  // 4 KB apart for wide models) would conflict in the caches.
  construct.queries = Func(name("queries", op));
  construct.queries(d, i, h) = q(h * D + d, i);
  construct.values = Func(name("values", op));
  if (!probs)
    construct.values(d, j, h) = v(h * D + d, j);

  RDom f(0, D, "f");
  construct.features = f;
  // The sum, and its result as a Func of its own: a schedule can then keep
  // one register block of sums at a time while the scores accumulate in a
  // buffer.
  construct.dotSum = Func(name("dot_sum", op));
  construct.dotSum(j, i, h) = 0.f;
  construct.dotSum(j, i, h) += construct.queries(f, i, h) *
                                construct.keysT(j % P, f, j / P, h / group);

  // The scores as the tile stores them: bias, ALiBi and the mask are
  // applied once per score as the product is written, not in the row max
  // and again in the weights, which both read every score (one thread,
  // medians: H8 S512 window(256) 1.71-1.73 -> 1.49-1.68 ms, H12 S1024
  // causal 11.2-11.9 -> 10.7-10.8 ms). The mask compares positions as
  // floats (exact below 2^24 positions): on integers, Halide's bounds
  // inference reads the select's condition and shrinks the block of sums
  // each store reads to its visible part, a block of varying size that no
  // longer stays in registers (causal ran 1.6x slower).
  Expr logit = construct.dotSum(j, i, h);
  if (bias.defined()) // keys clamped: schedules round key ranges up
    logit += bias(clamp(j, 0, T - 1), i);
  if (alibi.defined())
    logit -= alibi(h) * cast<float>(abs(i - j));
  const int S = extent(op.operands[0], 1);
  bool floatExact = std::max(S, T) < (1 << 24);
  Expr seen = floatExact ? visibility(op, cast<float>(i), cast<float>(j))
                         : visibility(op, i, j);
  construct.dot = Func(name("scores", op));
  construct.dot(j, i, h) =
      seen.defined() ? select(seen, logit, negativeInfinity()) : logit;
  Func scores = construct.dot;

  // Row maxima and sums a vector of keys at a time: per-lane partial
  // results over chunks of `lanes` keys, then across the lanes. A scalar
  // running maximum would be a chain of dependent operations as long as
  // the row, slower than the row's dot products.
  const int L = lanes;
  Var lane("lane");
  construct.lane = lane;
  RDom chunk(0, (T + L - 1) / L, "chunk");
  Expr lastChunk = i / L, firstChunk = (i - static_cast<int>(op.window) + 1) / L;
  Expr seenChunk = restrictToVisible(op, chunk, firstChunk, lastChunk);
  Expr chunkKey = seenChunk * L + lane;
  Expr inRange = chunkKey < T; // the last chunk may run past the keys
  bool ragged = T % L != 0;

  construct.partialMax = Func(name("row_max_lanes", op));
  construct.partialMax(lane, i, h) = negativeInfinity();
  Expr chunkScore = scores(chunkKey, i, h);
  construct.partialMax(lane, i, h) =
      max(construct.partialMax(lane, i, h),
          ragged ? select(inRange, chunkScore, negativeInfinity())
                 : chunkScore);
  RDom lanesDom(0, L, "l");
  construct.rowMax = Func(name("row_max", op));
  construct.rowMax(i, h) = negativeInfinity();
  construct.rowMax(i, h) =
      max(construct.rowMax(i, h), construct.partialMax(lanesDom, i, h));

  // A row that sees no key has maximum -inf: it subtracts 0 instead, so
  // that its scores (all -inf) still give weights of exactly 0, its sum is
  // 0 and its result 0, not NaN. Hidden keys of other rows weigh 0 the
  // same way, with no test of the mask here.
  Expr m = construct.rowMax(i, h);
  Expr finiteMax = select(m > negativeInfinity(), m, 0.f);
  construct.weights = Func(name("weights", op));
  construct.weights(j, i, h) = expOfNonPositive(scores(j, i, h) - finiteMax);

  construct.partialSum = Func(name("row_sum_lanes", op));
  construct.partialSum(lane, i, h) = 0.f;
  Expr chunkWeight = construct.weights(chunkKey, i, h);
  construct.partialSum(lane, i, h) +=
      ragged ? select(inRange, chunkWeight, 0.f) : chunkWeight;
  construct.rowSum = Func(name("row_sum", op));
  construct.rowSum(i, h) = 0.f;
  construct.rowSum(i, h) += construct.partialSum(lanesDom, i, h);
  Expr sum = construct.rowSum(i, h);

  if (probs) {
    construct.result = Func(name("attention_probs", op));
    construct.result(j, i, h) =
        divideByRowSum(construct.weights(j, i, h), sum);
    return;
  }
  // The weighted sum of values, a chunk of C keys at a time: a chunk of a
  // head's values (at most 16 KB) stays in L1 while every query of the
  // tile adds its part, where a loop over all keys per query would stream
  // the head's values once per block of queries. A chunk's sums for a
  // block of queries fit in registers; the accumulator adds them up.
  // (32 keys measured best at D 64 and 128: 64 was 5-15 % slower.)
  // The chunks run over those any query of its aligned group of C rows
  // sees (the weights of keys a query does not see are 0): a causal row's
  // last chunk is its own group's, so this costs no extra chunk there.
  // Query i is row i % C of group i / C, so the chunk range is a function
  // of the group alone and a block of rows reads one chunk at a time, a
  // buffer of constant size.
  const int C = std::clamp(4096 / D, 16, 32);
  construct.chunkWidth = C;
  const int chunks = (T + C - 1) / C;
  Var rowInGroup("row_in_group"), queryGroup("query_group");
  construct.rowInGroup = rowInGroup, construct.queryGroup = queryGroup;
  Expr query = queryGroup * C + rowInGroup;
  RDom inChunk(0, C, "ck");
  construct.chunkKeys = inChunk;
  Var chunkVar("value_chunk");
  Expr valueKey = chunkVar * C + inChunk;
  // Keys past the last (a ragged last chunk) weigh nothing.
  Expr valueWeight = construct.weights(valueKey, query, h);
  if (T % C != 0)
    valueWeight = select(valueKey < T, valueWeight, 0.f);
  construct.chunkSum = Func(name("attention_chunk_sum", op));
  std::vector<Expr> at = {d, rowInGroup, queryGroup, chunkVar, h};
  construct.chunkSum(at) = 0.f;
  construct.chunkSum(at) +=
      valueWeight * construct.values(d, valueKey, h / group);

  Expr groupFirst = queryGroup * C;
  Expr groupLast = min(groupFirst + (C - 1), T - 1);
  RDom groupChunks(0, chunks, "c");
  Expr firstKey = groupFirst - static_cast<int>(op.window) + 1;
  Expr c = restrictToVisible(op, groupChunks, max(firstKey, 0) / C,
                             groupLast / C);
  construct.groupChunks = groupChunks;
  construct.accumulator = Func(name("attention_sum", op));
  construct.accumulator(d, rowInGroup, queryGroup, h) = 0.f;
  construct.accumulator(d, rowInGroup, queryGroup, h) +=
      construct.chunkSum(d, rowInGroup, queryGroup, c, h);
  Func normalized(name("attention_heads", op));
  normalized(d, i, h) =
      divideByRowSum(construct.accumulator(d, i % C, i / C, h), sum);
  Var column = construct.vars[0], row = construct.vars[1];
  construct.result = Func(name("attention", op));
  construct.result(column, row) = normalized(column % D, row, column / D);
}

void Builder::buildDecodeAttention(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  if (extent(op.operands[0], 1) > 1)
    return buildChunkAttention(construct);
  DecodeOperands o = decodeOperands(op);
  Func q = o.q, k = o.k, v = o.v, alibi = o.alibi;
  Func keyCache = o.keyCache, valueCache = o.valueCache;
  const int group = o.group, D = o.D, C = o.C;
  construct.headDim = D;
  Var s("slot"), h("head"), d("feature"), g("kv_head");
  construct.key = s, construct.head = h, construct.feature = d;

  // The ring of attn.decode_attention: the token goes to slot position mod
  // C; slot s holds the token age(s) steps old, visible while age(s) <
  // min(span, position + 1). Unsigned, like the MLIR backend, so that both
  // put a token at the same slot for any position the caller passes.
  Expr position = cast<uint64_t>(alg.position);
  Expr slot = cast<int>(position % Expr(static_cast<uint64_t>(C)));
  uint64_t span = op.mask == ATTNC_HL_MASK_WINDOW
                      ? static_cast<uint64_t>(op.window)
                      : static_cast<uint64_t>(C);
  Expr limit = cast<int>(min(position + 1, Expr(span)));
  auto ageOf = [&](Expr at) { return (slot - at + C) % C; };
  auto visibleAt = [&](Expr at) { return ageOf(at) < limit; };
  Expr age = ageOf(s), visible = visibleAt(s), isNew = s == slot;
  cacheUpdates[op.key_cache] = Func(name("new_key", op));
  cacheUpdates[op.key_cache](s, d) = k(d, 0);
  cacheUpdates[op.value_cache] = Func(name("new_value", op));
  cacheUpdates[op.value_cache](d, g) = v(g * D + d, 0);
  cacheUpdateRows[op.key_cache] = cacheUpdateRows[op.value_cache] = 1;

  // The slots the token sees, [slot + 1 - limit, slot] around the ring.
  construct.slotBlock = slotBlockFor(C, lanes);
  SlotRangeBounds bounds = slotRangeBounds(slot, limit, C, construct.slotBlock);
  Expr *firsts = bounds.firsts, *ends = bounds.ends;

  // Scores against the slots of each range, a plain product over unit-
  // stride pieces of key-cache rows; the slot of the new token (whose
  // cached column is stale, or not yet written) takes its score against
  // the new key.
  RDom f(0, D, "f");
  construct.features = f;
  Expr kvFeature = (h / group) * D + f;
  construct.newKeyDot = Func(name("new_key_dot", op));
  construct.newKeyDot(h) = 0.f;
  construct.newKeyDot(h) += q(h * D + f, 0) * k(kvFeature, 0);
  construct.rowMax = Func(name("row_max", op));
  construct.rowMax(h) = negativeInfinity();
  construct.rowSum = Func(name("row_sum", op));
  construct.rowSum(h) = 0.f;
  construct.slotRanges.resize(2);
  auto tagOf = [](int range) { return range == 0 ? "_recent" : "_older"; };
  std::vector<Func> scores(2);
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    std::string tag = tagOf(r);
    range.slots = RDom(firsts[r], ends[r] - firsts[r], "slots" + tag);
    range.dotSum = Func(name("dot_sum" + tag, op));
    range.dotSum(s, h) = 0.f;
    range.dotSum(s, h) += q(h * D + f, 0) * keyCache(s, kvFeature);
    range.dot = Func(name("dot" + tag, op));
    range.dot(s, h) = select(isNew, construct.newKeyDot(h), range.dotSum(s, h));
    Expr logit = range.dot(s, h) * static_cast<float>(op.scale);
    if (alibi.defined())
      logit -= alibi(h) * cast<float>(age);
    // Slots the token does not see hold anything, NaN included: select,
    // never arithmetic, keeps them out.
    scores[r] = Func(name("scores" + tag, op));
    scores[r](s, h) = select(visible, logit, negativeInfinity());
    construct.rowMax(h) =
        max(construct.rowMax(h), scores[r](range.slots, h));
  }
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    std::string tag = tagOf(r);
    range.weights = Func(name("weights" + tag, op));
    range.weights(s, h) = select(
        visible, expOfNonPositive(scores[r](s, h) - construct.rowMax(h)), 0.f);
    construct.rowSum(h) += range.weights(range.slots, h);
  }

  // The new token's value (its slot is in the recent range), then the
  // other visible slots' (a where: a slot not seen is never read, as its
  // value may be NaN).
  Expr kvColumn = (h / group) * D + d;
  construct.accumulator = Func(name("attention_sum", op));
  construct.accumulator(d, h) =
      construct.slotRanges[0].weights(slot, h) * v(kvColumn, 0);
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    range.valueSlots = RDom(firsts[r], ends[r] - firsts[r],
                            std::string("seen") + tagOf(r));
    range.valueSlots.where(visibleAt(range.valueSlots.x) &&
                           range.valueSlots.x != slot);
    construct.accumulator(d, h) += range.weights(range.valueSlots, h) *
                                   valueCache(d, range.valueSlots, h / group);
  }
  Expr sum = construct.rowSum(h);
  Func normalized(name("attention_heads", op));
  normalized(d, h) = divideByRowSum(construct.accumulator(d, h), sum);
  Var column = construct.vars[0], row = construct.vars[1];
  construct.result = Func(name("decode_attention", op));
  construct.result(column, row) = normalized(column % D, column / D);
}

/// A chunk: N tokens at once, row r the token at position + r. Each row
/// attends over the cached tokens before the chunk that its mask lets it
/// see and over the chunk's rows up to its own. The ring is read as it was
/// before the chunk (the caller stores the chunk's keys and values after
/// the call), so a slot that a later row of the chunk takes still holds
/// the token an earlier row sees there.
void Builder::buildChunkAttention(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  DecodeOperands o = decodeOperands(op);
  Func q = o.q, k = o.k, v = o.v, alibi = o.alibi;
  Func keyCache = o.keyCache, valueCache = o.valueCache;
  const int group = o.group, D = o.D, C = o.C;
  const int N = extent(op.operands[0], 1);
  construct.headDim = D;
  construct.decodeRows = N;
  Var s("slot"), n("row"), h("head"), d("feature"), g("kv_head"), m("own");
  Var lane("lane");
  construct.key = s, construct.query = n, construct.head = h;
  construct.feature = d, construct.lane = lane;
  cacheUpdates[op.key_cache] = Func(name("new_keys", op));
  cacheUpdates[op.key_cache](n, d) = k(d, n);
  cacheUpdates[op.value_cache] = Func(name("new_values", op));
  cacheUpdates[op.value_cache](d, n, g) = v(g * D + d, n);
  cacheUpdateRows[op.key_cache] = cacheUpdateRows[op.value_cache] = N;

  // Slot `last` holds the token just before the chunk, slot s the one
  // age(s) steps before that. Row r sees a token at distance a (0: itself)
  // while a < span; the cached tokens the first row sees, the most any row
  // does, are the last min(position, span - 1). No row sees further back
  // than the ring holds (span <= C). Unsigned, as in the step.
  const int64_t span = std::min<int64_t>(
      op.mask == ATTNC_HL_MASK_WINDOW ? op.window : C, C);
  Expr position = cast<uint64_t>(alg.position);
  Expr last = cast<int>((position + Expr(static_cast<uint64_t>(C - 1))) %
                        Expr(static_cast<uint64_t>(C)));
  Expr cached = cast<int>(min(position, Expr(static_cast<uint64_t>(span - 1))));
  auto ageOf = [&](Expr at) { return (last - at + C) % C; };
  Expr cachedDistance = ageOf(s) + n + 1;
  Expr cachedSeen = ageOf(s) < cached && cachedDistance < static_cast<int>(span);
  // Float compares, as for prefill attention (buildAttention): on integers
  // Halide's bounds inference would shrink the register blocks of sums to
  // the visible part.
  Expr ownSeen = cast<float>(m) <= cast<float>(n) &&
                 cast<float>(n - m) < static_cast<float>(span);

  // Blocks of two vectors: a register block of the scores then reads two
  // vectors of a key-cache row per feature, each feature a row of its own
  // (16 KB apart at 4096 slots). With one vector, 512 tokens in chunks
  // after a whole context of 4096 took 56.2 ms instead of 44.1 (the causal
  // block of bench/README.md, one thread).
  construct.slotBlock = slotBlockFor(C, 2 * lanes);
  const int L = construct.slotBlock;
  SlotRangeBounds bounds = slotRangeBounds(last, cached, C, L);

  RDom f(0, D, "f");
  construct.features = f;
  Expr kvFeature = (h / group) * D + f;
  Var fv("key_feature");
  construct.ownKeys = Func(name("own_keys", op));
  construct.ownKeys(m, fv, g) = k(g * D + fv, m);
  const float scale = static_cast<float>(op.scale);
  auto score = [&](Expr dot, Expr distance, Expr seen) {
    Expr logit = dot * scale;
    if (alibi.defined())
      logit -= alibi(h) * cast<float>(distance);
    // Slots not seen hold anything, NaN included: select, never
    // arithmetic, keeps them out.
    return select(seen, logit, negativeInfinity());
  };

  // Scores, per-lane maxima. The chunk's own rows are the third "range".
  construct.slotRanges.resize(2);
  Construct::DecodeSlotRange &own = construct.ownRows;
  own.slots = RDom(0, N, "own_rows");
  own.dotSum = Func(name("own_dot_sum", op));
  own.dotSum(m, n, h) = 0.f;
  own.dotSum(m, n, h) += q(h * D + f, n) * construct.ownKeys(m, f, h / group);
  own.dot = Func(name("own_scores", op));
  own.dot(m, n, h) = score(own.dotSum(m, n, h), n - m, ownSeen);
  construct.rowMax = Func(name("row_max", op));
  construct.rowMax(n, h) = negativeInfinity();
  construct.rowMax(n, h) = max(construct.rowMax(n, h), own.dot(own.slots, n, h));
  auto tagOf = [](int range) { return range == 0 ? "_recent" : "_older"; };
  std::vector<RDom> blocks(2);
  RDom lanesOf(0, L, "lanes");
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    std::string tag = tagOf(r);
    Expr first = bounds.firsts[r], extent = bounds.ends[r] - first;
    range.slots = RDom(first, extent, "slots" + tag);
    range.dotSum = Func(name("dot_sum" + tag, op));
    range.dotSum(s, n, h) = 0.f;
    range.dotSum(s, n, h) += q(h * D + f, n) * keyCache(s, kvFeature);
    range.dot = Func(name("scores" + tag, op));
    range.dot(s, n, h) = score(range.dotSum(s, n, h), cachedDistance, cachedSeen);
    // Maxima and sums a vector of slots at a time: a scalar running
    // maximum would be a chain of dependent operations as long as the row.
    blocks[r] = RDom(0, extent / L, "blocks" + tag);
    range.partialMax = Func(name("row_max_lanes" + tag, op));
    range.partialMax(lane, n, h) = negativeInfinity();
    range.partialMax(lane, n, h) =
        max(range.partialMax(lane, n, h),
            range.dot(first + blocks[r] * L + lane, n, h));
    construct.rowMax(n, h) =
        max(construct.rowMax(n, h), range.partialMax(lanesOf, n, h));
  }
  Expr rowMax = construct.rowMax(n, h);
  construct.rowSum = Func(name("row_sum", op));
  construct.rowSum(n, h) = 0.f;
  own.weights = Func(name("own_weights", op));
  own.weights(m, n, h) =
      select(ownSeen, expOfNonPositive(own.dot(m, n, h) - rowMax), 0.f);
  construct.rowSum(n, h) += own.weights(own.slots, n, h);
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    std::string tag = tagOf(r);
    range.weights = Func(name("weights" + tag, op));
    range.weights(s, n, h) = select(
        cachedSeen, expOfNonPositive(range.dot(s, n, h) - rowMax), 0.f);
    range.partialSum = Func(name("row_sum_lanes" + tag, op));
    range.partialSum(lane, n, h) = 0.f;
    range.partialSum(lane, n, h) +=
        range.weights(bounds.firsts[r] + blocks[r] * L + lane, n, h);
    construct.rowSum(n, h) += range.partialSum(lanesOf, n, h);
  }

  // Weights times values: the chunk's rows up to the row's own (a later
  // row may be past the count, its value anything, NaN included: a
  // select, not a where, whose condition on the row made the sums'
  // updates conditional: 64 against 56.2 ms on the causal block above),
  // and the cached slots the first row sees (every such slot
  // holds a token; a row that does not see it has weight 0 there).
  Expr kvColumn = (h / group) * D + d;
  own.valueSlots = RDom(0, N, "own_seen");
  Expr ownRow = own.valueSlots.x;
  own.valueSum = Func(name("own_value_sum", op));
  own.valueSum(d, n, h) = 0.f;
  own.valueSum(d, n, h) += own.weights(ownRow, n, h) *
                           select(ownRow <= n, v(kvColumn, ownRow), 0.f);
  Expr sum = own.valueSum(d, n, h);
  for (int r = 0; r < 2; ++r) {
    Construct::DecodeSlotRange &range = construct.slotRanges[r];
    range.valueSlots = RDom(bounds.firsts[r], bounds.ends[r] - bounds.firsts[r],
                            std::string("seen") + tagOf(r));
    range.valueSlots.where(ageOf(range.valueSlots.x) < cached);
    range.valueSum = Func(name("value_sum" + std::string(tagOf(r)), op));
    range.valueSum(d, n, h) = 0.f;
    range.valueSum(d, n, h) += range.weights(range.valueSlots, n, h) *
                               valueCache(d, range.valueSlots, h / group);
    sum += range.valueSum(d, n, h);
  }
  construct.accumulator = Func(name("attention_heads", op));
  construct.accumulator(d, n, h) = divideByRowSum(sum, construct.rowSum(n, h));
  Var column = construct.vars[0], row = construct.vars[1];
  construct.result = Func(name("decode_attention", op));
  construct.result(column, row) =
      construct.accumulator(column % D, row, column / D);
}

void Builder::buildSoftmax(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  Func in = operand(op, 0);
  std::vector<Var> &v = construct.vars;
  int rank = static_cast<int>(v.size());
  int dim = rank - 1 - static_cast<int>(op.axis);
  RDom r(0, extent(op.result, dim), "r");
  std::vector<Var> rest;
  for (int d = 0; d < rank; ++d)
    if (d != dim)
      rest.push_back(v[d]);
  std::vector<Expr> along = asExprs(v);
  along[dim] = r;

  Func mx(name("softmax_max", op)), e(name("softmax_exp", op)),
      sum(name("softmax_sum", op));
  mx(rest) = negativeInfinity();
  mx(rest) = max(mx(rest), in(along));
  Expr m = mx(rest);
  e(v) = select(m > negativeInfinity(),
                expOfNonPositive(in(v) - m), 0.f);
  sum(rest) = 0.f;
  sum(rest) += e(along);
  construct.stats = mx;
  construct.product = sum;
  construct.result = Func(name("softmax", op));
  construct.result(v) = divideByRowSum(e(v), sum(rest));
}

void Builder::buildRope(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  Func in = operand(op, 0);
  std::vector<Var> &v = construct.vars;
  const int D = static_cast<int>(op.head_dim);
  const int width = extent(op.result, 0);
  Var p("pair"), s("position");
  // Angles reach thousands of radians in long contexts: computed in double
  // and rounded once, like the MLIR backend and the reference.
  Expr theta = cast<double>(s) *
               pow(Expr(op.base), cast<double>(-2 * p) / Expr(static_cast<double>(D)));
  construct.cosTable = Func(name("rope_cos", op));
  construct.sinTable = Func(name("rope_sin", op));
  construct.cosTable(p, s) = cast<float>(cos(theta));
  construct.sinTable(p, s) = cast<float>(sin(theta));

  // A decode step's one row is the token at the step's position, a
  // chunk's row r the one r after it.
  Expr c = v[0], pos = op.rope_at_position ? cast<int>(alg.position) + v[1]
                                           : v[1];
  Expr within = c % D;
  Expr pair, first, partner;
  if (op.rope_interleaved) {
    pair = within / 2;
    first = within % 2 == 0;
    partner = select(first, c + 1, c - 1);
  } else {
    pair = within % (D / 2);
    first = within < D / 2;
    partner = select(first, c + D / 2, c - D / 2);
  }
  std::vector<Expr> self = asExprs(v), other = asExprs(v);
  other[0] = clamp(partner, 0, width - 1); // always in range; Halide can't tell
  Expr x = in(self), y = in(other);
  Expr sign = select(first, -1.f, 1.f);
  construct.result = Func(name("rope", op));
  construct.result(v) = x * construct.cosTable(pair, pos) +
                    sign * y * construct.sinTable(pair, pos);
}

void Builder::buildNorm(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  Func x = operand(op, 0), gamma = operand(op, 1);
  Var c = construct.vars[0], t = construct.vars[1];
  const int n = extent(op.operands[0], 0);
  RDom r(0, n, "r");
  float eps = static_cast<float>(op.eps);
  construct.result = Func(name(op.kind == ATTNC_HL_RMS_NORM ? "rms_norm"
                                                         : "layer_norm", op));
  if (op.kind == ATTNC_HL_RMS_NORM) {
    construct.stats = Func(name("mean_square", op));
    construct.stats(t) = 0.f;
    construct.stats(t) += x(r, t) * x(r, t);
    Expr inv = 1.f / sqrt(construct.stats(t) / n + eps);
    construct.result(c, t) = x(c, t) * inv * gamma(c);
    return;
  }
  // Sums over the deviations from the row's first feature s, as the MLIR
  // backend's (NormsToLinalg.cpp says why); strict, or LLVM's reassociation
  // flag could turn (x - s) - d back into x - (s + d).
  Expr s = x(0, t);
  construct.stats = Func(name("mean_offset", op));
  construct.stats(t) = 0.f;
  construct.stats(t) += x(r, t) - s;
  Expr d = construct.stats(t) / n;
  auto deviation = [&](Expr feature) {
    return strict_float((x(feature, t) - s) - d);
  };
  construct.product = Func(name("variance", op));
  construct.product(t) = 0.f;
  construct.product(t) += deviation(r) * deviation(r);
  Expr inv = 1.f / sqrt(construct.product(t) / n + eps);
  construct.result(c, t) = deviation(c) * inv * gamma(c) + operand(op, 2)(c);
}

void Builder::buildElementwise(Construct &construct) {
  const attnc_hl_op &op = *construct.op;
  std::vector<Var> &v = construct.vars;
  std::vector<Expr> all = asExprs(v);
  int rank = static_cast<int>(v.size());
  Func in = operand(op, 0);
  Expr value;
  bool masksKeys = false; // a mask op that selects -inf for hidden keys
  switch (op.kind) {
  case ATTNC_HL_SLICE: {
    std::vector<Expr> at = all;
    for (int d = 0; d < rank; ++d)
      at[d] = v[d] + static_cast<int>(op.offsets[rank - 1 - d]);
    value = in(at);
    break;
  }
  case ATTNC_HL_TRANSPOSE: {
    std::vector<Expr> at = all;
    std::swap(at[0], at[1]);
    value = in(at);
    break;
  }
  case ATTNC_HL_SPLIT_HEADS: { // out(d, s, h) = in(h * D + d, s)
    int D = extent(op.result, 0);
    value = in(v[2] * D + v[0], v[1]);
    break;
  }
  case ATTNC_HL_MERGE_HEADS: { // out(c, s) = in(c % D, s, c / D)
    int D = extent(op.operands[0], 0);
    value = in(v[0] % D, v[1], v[0] / D);
    break;
  }
  case ATTNC_HL_SCALE:
    value = in(all) * static_cast<float>(op.scale);
    break;
  case ATTNC_HL_MASK: {
    Expr seen = visibility(op, v[1], v[0]);
    masksKeys = seen.defined();
    value = masksKeys ? select(seen, in(all), negativeInfinity()) : in(all);
    break;
  }
  case ATTNC_HL_ADD:
  case ATTNC_HL_SUB:
  case ATTNC_HL_MUL: {
    // The smaller shape is a suffix of the larger, in Halide's order a
    // prefix of the vars: it repeats along the outer dimensions.
    auto read = [&](int index) {
      int r = shape(op.operands[index]).rank;
      return operand(op, index)(std::vector<Expr>(all.begin(), all.begin() + r));
    };
    Expr a = read(0), b = read(1);
    value = op.kind == ATTNC_HL_ADD ? a + b
            : op.kind == ATTNC_HL_SUB ? a - b
                                      : a * b;
    break;
  }
  case ATTNC_HL_GELU: {
    Expr x = in(all);
    value = op.gelu_tanh
                ? 0.5f * x *
                      (1.f + tanh(0.7978845608f * (x + 0.044715f * x * x * x)))
                : 0.5f * x * (1.f + erf(x * 0.70710678118f));
    break;
  }
  case ATTNC_HL_SILU: {
    Expr x = in(all);
    value = x / (1.f + exp(-x));
    break;
  }
  case ATTNC_HL_RELU:
    value = max(in(all), 0.f);
    break;
  default:
    throw ConstructError(op, "the Halide backend has no lowering for it");
  }
  // Halide compiles floats with LLVM's no-Inf flag, under which an
  // instruction that meets an infinity may give anything, and a -inf LLVM
  // can see (a mask's select) is folded away: `m + select(seen, s, -inf)`
  // became `select(seen, m + s, poison)`, so hidden keys were given m + s
  // and softmax weight. So the mask's select, and arithmetic on a value
  // that may hold its -inf, are strict; layout ops move values unchanged
  // and only pass the -inf on (docs/halide.md, "Numerics").
  bool infiniteOperand = false;
  for (int i = 0; i < op.num_operands; ++i)
    infiniteOperand = infiniteOperand || holdsMaskInfinity[op.operands[i]];
  switch (op.kind) {
  case ATTNC_HL_SLICE:
  case ATTNC_HL_TRANSPOSE:
  case ATTNC_HL_SPLIT_HEADS:
  case ATTNC_HL_MERGE_HEADS:
    holdsMaskInfinity[op.result] = infiniteOperand;
    break;
  case ATTNC_HL_MASK:
    if (masksKeys || infiniteOperand) {
      value = strict_float(value);
      holdsMaskInfinity[op.result] = true;
    }
    break;
  default:
    if (infiniteOperand) {
      value = strict_float(value);
      // Sums, differences and products may keep the -inf; relu, gelu and
      // silu turn it into 0 or NaN, as IEEE arithmetic does.
      holdsMaskInfinity[op.result] = op.kind == ATTNC_HL_ADD ||
                                     op.kind == ATTNC_HL_SUB ||
                                     op.kind == ATTNC_HL_MUL ||
                                     op.kind == ATTNC_HL_SCALE;
    }
  }
  static const char *names[] = {
      "", "linear", "slice", "sdpa", "probs", "matmul", "transpose", "scale",
      "mask", "softmax", "split_heads", "merge_heads", "rope", "layer_norm",
      "rms_norm", "add", "sub", "mul", "gelu", "silu", "relu"};
  construct.result = Func(name(names[op.kind], op));
  construct.result(v) = value;
}

} // namespace

std::vector<Argument> attnc::hl::pipelineArguments(const Algorithm &alg) {
  std::vector<Argument> arguments(alg.arguments.begin(), alg.arguments.end());
  if (alg.hasPosition)
    arguments.push_back(alg.position);
  return arguments;
}

void attnc::hl::constrainDense(const Halide::OutputImageParam &buffer,
                               const std::vector<int> &extents,
                               const std::vector<int> &strides) {
  int stride = 1;
  for (size_t d = 0; d < extents.size(); ++d) {
    buffer.dim(d).set_bounds(0, extents[d]).set_stride(
        strides.empty() ? stride : strides[d]);
    stride *= extents[d];
  }
}

Algorithm attnc::hl::buildAlgorithm(const attnc_hl_model &model, int lanes) {
  return Builder(model, lanes).run();
}

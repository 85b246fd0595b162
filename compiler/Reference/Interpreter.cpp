//===- Interpreter.cpp - double-precision oracle for a model ----*- C++ -*-===//

#include "attnc/Reference/Interpreter.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

using namespace attnc;

static RefTensor makeTensor(Shape shape) {
  RefTensor t;
  t.data.assign(numElements(shape), 0.0);
  t.shape = std::move(shape);
  return t;
}

static constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// y[i, o] = sum_k x[i, k] * w[k, o] + b[o]; leading dims of x are rows.
static RefTensor linear(const RefTensor &x, const RefTensor &w,
                        const RefTensor *b) {
  int64_t in = x.shape.back(), out = w.shape[1];
  int64_t rows = numElements(x.shape) / in;
  assert(w.shape[0] == in && "linear: weight rows");
  Shape shape = x.shape;
  shape.back() = out;
  RefTensor y = makeTensor(shape);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? b->data[o] : 0.0;
      for (int64_t k = 0; k < in; ++k)
        acc += x.data[i * in + k] * w.data[k * out + o];
      y.data[i * out + o] = acc;
    }
  return y;
}

/// Block `part` of `parts` equal blocks along the last dimension.
static RefTensor columnBlock(const RefTensor &t, int64_t part, int64_t parts) {
  int64_t cols = t.shape.back(), rows = numElements(t.shape) / cols;
  int64_t width = cols / parts;
  Shape shape = t.shape;
  shape.back() = width;
  RefTensor r = makeTensor(shape);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < width; ++c)
      r.data[i * width + c] = t.data[i * cols + part * width + c];
  return r;
}

/// Whether the mask kind of `op` lets query/row i see key/column j.
static bool keyVisible(const GraphOp &op, int64_t i, int64_t j) {
  switch (op.mask) {
  case MaskKind::None: return true;
  case MaskKind::Causal: return j <= i;
  case MaskKind::Window: return j <= i && j > i - op.window;
  }
  return true;
}

/// max that propagates NaN, as IEEE 754-2019 maximum does (and the
/// kernels' arith.maximumf): std::max drops a NaN second argument, which
/// would let a NaN logit vanish from a softmax.
static double maxPropagatingNaN(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::nan("") : std::max(a, b);
}

/// The softmax weights of query head `h`, token `i` over all keys, written to
/// `weights` (zeros for hidden keys). Returns false, with all zeros, when the
/// mask hides every key. q: [S, heads*D], k: [T, kvHeads*D], bias: [S, T],
/// alibi: [heads].
static bool attentionWeights(const GraphOp &op, const RefTensor &q,
                             const RefTensor &k, const RefTensor *bias,
                             const RefTensor *alibi, int64_t h, int64_t i,
                             std::vector<double> &weights) {
  int64_t keys = k.shape[0];
  int64_t headDim = q.shape[1] / op.heads;
  int64_t g = h / (op.heads / op.kvHeads);
  int64_t qCols = q.shape[1], kCols = k.shape[1];
  weights.assign(keys, 0.0);
  double maxScore = kNegInf;
  for (int64_t j = 0; j < keys; ++j) {
    if (!keyVisible(op, i, j)) {
      weights[j] = kNegInf;
      continue;
    }
    double dot = 0;
    for (int64_t d = 0; d < headDim; ++d)
      dot += q.data[i * qCols + h * headDim + d] *
             k.data[j * kCols + g * headDim + d];
    double s = dot * op.scale;
    if (bias)
      s += bias->data[i * keys + j];
    if (alibi)
      s -= alibi->data[h] * static_cast<double>(std::llabs(i - j));
    weights[j] = s;
    maxScore = maxPropagatingNaN(maxScore, s);
  }
  if (maxScore == kNegInf) {
    weights.assign(keys, 0.0);
    return false;
  }
  double sum = 0;
  for (int64_t j = 0; j < keys; ++j) {
    weights[j] = std::exp(weights[j] - maxScore); // exp(-inf) == 0
    sum += weights[j];
  }
  for (double &w : weights)
    w /= sum;
  return true;
}

/// Materializes every score row and applies a textbook softmax.
/// q: [S, heads*D], k/v: [T, kvHeads*D], bias: [S, T], alibi: [heads].
static RefTensor attention(const GraphOp &op, const RefTensor &q,
                           const RefTensor &k, const RefTensor &v,
                           const RefTensor *bias, const RefTensor *alibi) {
  assert(!bias || (bias->shape == Shape{q.shape[0], k.shape[0]}));
  assert(!alibi || (alibi->shape == Shape{op.heads}));
  int64_t queries = q.shape[0], keys = k.shape[0];
  int64_t headDim = q.shape[1] / op.heads;
  int64_t groupSize = op.heads / op.kvHeads;
  int64_t qCols = q.shape[1], kCols = k.shape[1];
  RefTensor out = makeTensor(q.shape);
  std::vector<double> weights;
  for (int64_t h = 0; h < op.heads; ++h) {
    int64_t g = h / groupSize;
    for (int64_t i = 0; i < queries; ++i) {
      if (!attentionWeights(op, q, k, bias, alibi, h, i, weights))
        continue; // no visible key: the row stays zero
      for (int64_t d = 0; d < headDim; ++d) {
        double acc = 0;
        // Keys the mask hides take no part, whatever their values hold.
        for (int64_t j = 0; j < keys; ++j)
          if (keyVisible(op, i, j))
            acc += weights[j] * v.data[j * kCols + g * headDim + d];
        out.data[i * qCols + h * headDim + d] = acc;
      }
    }
  }
  return out;
}

/// The softmax weights of every head, [heads, queries, keys].
static RefTensor attentionProbs(const GraphOp &op, const RefTensor &q,
                                const RefTensor &k, const RefTensor *bias,
                                const RefTensor *alibi) {
  int64_t queries = q.shape[0], keys = k.shape[0];
  RefTensor probs = makeTensor({op.heads, queries, keys});
  std::vector<double> weights;
  for (int64_t h = 0; h < op.heads; ++h)
    for (int64_t i = 0; i < queries; ++i) {
      attentionWeights(op, q, k, bias, alibi, h, i, weights);
      std::copy(weights.begin(), weights.end(),
                probs.data.begin() + (h * queries + i) * keys);
    }
  return probs;
}

/// [M,K]x[K,N] -> [M,N], or [B,M,K]x[B,K,N] -> [B,M,N].
static RefTensor matmul(const RefTensor &a, const RefTensor &b) {
  size_t rank = a.shape.size();
  assert((rank == 2 || rank == 3) && b.shape.size() == rank);
  int64_t batch = rank == 3 ? a.shape[0] : 1;
  int64_t m = a.shape[rank - 2], kk = a.shape[rank - 1], n = b.shape[rank - 1];
  assert(b.shape[rank - 2] == kk && "matmul: contraction size");
  assert((rank == 2 || b.shape[0] == batch) && "matmul: batch size");
  Shape shape = rank == 3 ? Shape{batch, m, n} : Shape{m, n};
  RefTensor c = makeTensor(shape);
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < kk; ++p)
          acc += a.data[(bi * m + i) * kk + p] * b.data[(bi * kk + p) * n + j];
        c.data[(bi * m + i) * n + j] = acc;
      }
  return c;
}

/// Swaps the last two dimensions; leading dims are a batch.
static RefTensor transpose(const RefTensor &t) {
  size_t rank = t.shape.size();
  assert(rank >= 2);
  int64_t rows = t.shape[rank - 2], cols = t.shape[rank - 1];
  int64_t batch = numElements(t.shape) / (rows * cols);
  Shape shape = t.shape;
  std::swap(shape[rank - 2], shape[rank - 1]);
  RefTensor r = makeTensor(shape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        r.data[(b * cols + j) * rows + i] = t.data[(b * rows + i) * cols + j];
  return r;
}

static RefTensor scaleBy(const RefTensor &t, double factor) {
  RefTensor r = t;
  for (double &x : r.data)
    x *= factor;
  return r;
}

/// Sets hidden (i, j) of every [S, T] matrix in the last two dims to -inf.
static RefTensor applyMask(const GraphOp &op, const RefTensor &t) {
  size_t rank = t.shape.size();
  assert(rank >= 2);
  int64_t rows = t.shape[rank - 2], cols = t.shape[rank - 1];
  int64_t batch = numElements(t.shape) / (rows * cols);
  RefTensor r = t;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (!keyVisible(op, i, j))
          r.data[(b * rows + i) * cols + j] = kNegInf;
  return r;
}

/// Stable softmax along `axis`; a slice that is all -inf becomes zeros.
static RefTensor softmax(const RefTensor &t, int64_t axis) {
  assert(axis >= 0 && axis < static_cast<int64_t>(t.shape.size()));
  int64_t outer = 1, inner = 1, len = t.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= t.shape[d];
  for (size_t d = axis + 1; d < t.shape.size(); ++d)
    inner *= t.shape[d];
  RefTensor r = makeTensor(t.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t a) { return (o * len + a) * inner + in; };
      double maxVal = kNegInf;
      for (int64_t a = 0; a < len; ++a)
        maxVal = maxPropagatingNaN(maxVal, t.data[at(a)]);
      if (maxVal == kNegInf)
        continue; // every element hidden: the slice stays zero
      double sum = 0;
      for (int64_t a = 0; a < len; ++a)
        sum += std::exp(t.data[at(a)] - maxVal);
      for (int64_t a = 0; a < len; ++a)
        r.data[at(a)] = std::exp(t.data[at(a)] - maxVal) / sum;
    }
  return r;
}

/// [S, H*D] -> [H, S, D]
static RefTensor splitHeads(const RefTensor &t, int64_t heads) {
  assert(t.shape.size() == 2 && t.shape[1] % heads == 0);
  int64_t seq = t.shape[0], width = t.shape[1], d = width / heads;
  RefTensor r = makeTensor({heads, seq, d});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < seq; ++s)
      for (int64_t c = 0; c < d; ++c)
        r.data[(h * seq + s) * d + c] = t.data[s * width + h * d + c];
  return r;
}

/// [H, S, D] -> [S, H*D]
static RefTensor mergeHeads(const RefTensor &t) {
  assert(t.shape.size() == 3);
  int64_t heads = t.shape[0], seq = t.shape[1], d = t.shape[2];
  int64_t width = heads * d;
  RefTensor r = makeTensor({seq, width});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < seq; ++s)
      for (int64_t c = 0; c < d; ++c)
        r.data[s * width + h * d + c] = t.data[(h * seq + s) * d + c];
  return r;
}

/// Rotary embedding. The last dim is split into heads of `headDim` features;
/// the position of an element is its index along dim -2; leading dims (if
/// any) are a batch, e.g. the head dim of [H, S, D].
/// `offset`: the position of row 0 (a decode step's token), else 0.
static RefTensor rope(const GraphOp &op, const RefTensor &t, int64_t offset) {
  size_t rank = t.shape.size();
  assert(rank >= 2);
  int64_t seq = t.shape[rank - 2], width = t.shape[rank - 1];
  int64_t d = op.headDim, half = d / 2;
  assert(d > 0 && d % 2 == 0 && width % d == 0 && "rope: head width");
  int64_t batch = numElements(t.shape) / (seq * width);
  RefTensor r = t;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < seq; ++s) {
      int64_t rowBase = (b * seq + s) * width;
      for (int64_t h = 0; h < width / d; ++h)
        for (int64_t p = 0; p < half; ++p) {
          double theta = static_cast<double>(s + offset) *
                         std::pow(op.base, -2.0 * static_cast<double>(p) /
                                               static_cast<double>(d));
          double c = std::cos(theta), sn = std::sin(theta);
          int64_t i1, i2;
          if (op.ropeStyle == RopeStyle::Half) {
            i1 = p;
            i2 = p + half;
          } else {
            i1 = 2 * p;
            i2 = 2 * p + 1;
          }
          i1 += rowBase + h * d;
          i2 += rowBase + h * d;
          double x1 = t.data[i1], x2 = t.data[i2];
          r.data[i1] = x1 * c - x2 * sn;
          r.data[i2] = x1 * sn + x2 * c;
        }
    }
  return r;
}

/// (x - mean) / sqrt(var + eps) * gamma + beta over the last dim, biased var.
static RefTensor layerNorm(const RefTensor &x, const RefTensor &gamma,
                           const RefTensor &beta, double eps) {
  int64_t e = x.shape.back(), rows = numElements(x.shape) / e;
  assert(numElements(gamma.shape) == e && numElements(beta.shape) == e);
  RefTensor r = makeTensor(x.shape);
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = &x.data[i * e];
    double mean = 0;
    for (int64_t c = 0; c < e; ++c)
      mean += row[c];
    mean /= static_cast<double>(e);
    double var = 0;
    for (int64_t c = 0; c < e; ++c)
      var += (row[c] - mean) * (row[c] - mean);
    var /= static_cast<double>(e);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < e; ++c)
      r.data[i * e + c] = (row[c] - mean) * inv * gamma.data[c] + beta.data[c];
  }
  return r;
}

/// x / sqrt(mean(x^2) + eps) * gamma over the last dim.
static RefTensor rmsNorm(const RefTensor &x, const RefTensor &gamma,
                         double eps) {
  int64_t e = x.shape.back(), rows = numElements(x.shape) / e;
  assert(numElements(gamma.shape) == e);
  RefTensor r = makeTensor(x.shape);
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = &x.data[i * e];
    double sq = 0;
    for (int64_t c = 0; c < e; ++c)
      sq += row[c] * row[c];
    double inv = 1.0 / std::sqrt(sq / static_cast<double>(e) + eps);
    for (int64_t c = 0; c < e; ++c)
      r.data[i * e + c] = row[c] * inv * gamma.data[c];
  }
  return r;
}

/// Whether `small` is a suffix of `big`.
static bool isSuffix(const Shape &small, const Shape &big) {
  if (small.size() > big.size())
    return false;
  return std::equal(small.begin(), small.end(),
                    big.end() - static_cast<std::ptrdiff_t>(small.size()));
}

/// Elementwise a (op) b; the operand of smaller shape (a suffix of the other)
/// repeats along the leading dims of the larger one.
template <typename Fn>
static RefTensor binary(const RefTensor &a, const RefTensor &b, Fn fn) {
  bool aBig = isSuffix(b.shape, a.shape);
  assert((aBig || isSuffix(a.shape, b.shape)) && "binary: shapes");
  RefTensor r = makeTensor(aBig ? a.shape : b.shape);
  int64_t na = static_cast<int64_t>(a.data.size());
  int64_t nb = static_cast<int64_t>(b.data.size());
  for (int64_t i = 0; i < static_cast<int64_t>(r.data.size()); ++i)
    r.data[i] = fn(a.data[i % na], b.data[i % nb]);
  return r;
}

template <typename Fn> static RefTensor unary(const RefTensor &t, Fn fn) {
  RefTensor r = makeTensor(t.shape);
  for (size_t i = 0; i < t.data.size(); ++i)
    r.data[i] = fn(t.data[i]);
  return r;
}

static double gelu(double x, bool tanhForm) {
  if (tanhForm) {
    const double pi = std::acos(-1.0);
    const double c = std::sqrt(2.0 / pi);
    return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

/// One token's attention over every earlier token it may see, from the full
/// history (no ring buffer: the reference keeps all rows and picks).
static RefTensor decodeAttention(const GraphOp &op, int64_t context,
                                 const RefTensor &q, const RefTensor &k,
                                 const RefTensor &v, const RefTensor *alibi,
                                 DecodeHistory &history) {
  if (history.keys.size() <= size_t(op.layer)) {
    history.keys.resize(op.layer + 1);
    history.values.resize(op.layer + 1);
  }
  auto &keys = history.keys[op.layer];
  auto &values = history.values[op.layer];
  keys.push_back(k.data);
  values.push_back(v.data);
  int64_t position = history.position;
  assert(int64_t(keys.size()) == position + 1 && "one row per step");
  // The tokens the new one sees: the last `window` (window(N)) or the last
  // `context` (causal; the cache holds no more), itself included.
  int64_t span = op.mask == MaskKind::Window ? op.window : context;
  int64_t first = std::max<int64_t>(0, position - span + 1);
  int64_t headDim = q.shape[1] / op.heads, group = op.heads / op.kvHeads;
  RefTensor out = makeTensor(q.shape);
  std::vector<double> weights;
  for (int64_t h = 0; h < op.heads; ++h) {
    int64_t g = h / group;
    weights.assign(position - first + 1, 0.0);
    double top = kNegInf;
    for (int64_t t = first; t <= position; ++t) {
      double dot = 0;
      for (int64_t d = 0; d < headDim; ++d)
        dot += q.data[h * headDim + d] * keys[t][g * headDim + d];
      double s = dot * op.scale;
      if (alibi)
        s -= alibi->data[h] * static_cast<double>(position - t);
      weights[t - first] = s;
      top = maxPropagatingNaN(top, s);
    }
    double sum = 0;
    for (double &w : weights)
      sum += (w = std::exp(w - top));
    for (int64_t d = 0; d < headDim; ++d) {
      double acc = 0;
      for (int64_t t = first; t <= position; ++t)
        acc += weights[t - first] / sum * values[t][g * headDim + d];
      out.data[h * headDim + d] = acc;
    }
  }
  return out;
}

std::vector<RefTensor>
attnc::interpret(const Graph &graph, const std::vector<RefTensor> &arguments) {
  assert(!graph.isDecodeStep && "a decode step needs its history");
  return evaluate(graph, arguments, nullptr);
}

std::vector<RefTensor>
attnc::interpretDecodeStep(const Graph &step,
                           const std::vector<RefTensor> &arguments,
                           DecodeHistory &history) {
  assert(step.isDecodeStep && "not a decode step");
  std::vector<RefTensor> outputs = evaluate(step, arguments, &history);
  ++history.position;
  return outputs;
}

std::vector<RefTensor>
attnc::evaluate(const Graph &graph, const std::vector<RefTensor> &arguments,
                DecodeHistory *history) {
  std::vector<RefTensor> values(graph.valueShapes.size());
  size_t next = 0;
  for (const KernelArg &arg : graph.args) {
    if (arg.role == ArgRole::Output)
      continue;
    assert(next < arguments.size() && "too few arguments");
    assert(arguments[next].shape == arg.shape && "argument shape");
    values[arg.value] = arguments[next++];
  }
  for (const GraphOp &op : graph.ops) {
    auto in = [&](size_t i) -> const RefTensor & {
      assert(i < op.operands.size() && "missing operand");
      return values[op.operands[i]];
    };
    RefTensor &result = values[op.results[0]];
    switch (op.kind) {
    case GraphOp::Kind::Linear:
      result = linear(in(0), in(1), op.operands.size() == 3 ? &in(2) : nullptr);
      break;
    case GraphOp::Kind::Split:
      for (size_t p = 0; p < op.results.size(); ++p)
        values[op.results[p]] = columnBlock(in(0), p, op.results.size());
      break;
    case GraphOp::Kind::Attention: {
      const RefTensor *bias = op.hasBias ? &in(3) : nullptr;
      const RefTensor *alibi = op.hasAlibi ? &in(op.operands.size() - 1) : nullptr;
      assert(op.operands.size() == 3u + op.hasBias + op.hasAlibi);
      result = attention(op, in(0), in(1), in(2), bias, alibi);
      break;
    }
    case GraphOp::Kind::AttentionProbs: {
      const RefTensor *bias = op.hasBias ? &in(2) : nullptr;
      const RefTensor *alibi = op.hasAlibi ? &in(op.operands.size() - 1) : nullptr;
      assert(op.operands.size() == 2u + op.hasBias + op.hasAlibi);
      result = attentionProbs(op, in(0), in(1), bias, alibi);
      break;
    }
    case GraphOp::Kind::DecodeAttention: {
      assert(history && "DecodeAttention outside a decode step");
      const RefTensor *alibi = op.hasAlibi ? &in(3) : nullptr;
      result = decodeAttention(op, graph.context, in(0), in(1), in(2), alibi,
                               *history);
      break;
    }
    case GraphOp::Kind::MatMul:
      result = matmul(in(0), in(1));
      break;
    case GraphOp::Kind::Transpose:
      result = transpose(in(0));
      break;
    case GraphOp::Kind::Scale:
      result = scaleBy(in(0), op.scale);
      break;
    case GraphOp::Kind::Mask:
      result = applyMask(op, in(0));
      break;
    case GraphOp::Kind::Softmax:
      result = softmax(in(0), op.axis);
      break;
    case GraphOp::Kind::SplitHeads:
      result = splitHeads(in(0), op.heads);
      break;
    case GraphOp::Kind::MergeHeads:
      result = mergeHeads(in(0));
      break;
    case GraphOp::Kind::Rope:
      result = rope(op, in(0),
                    op.atStepPosition && history ? history->position : 0);
      break;
    case GraphOp::Kind::LayerNorm:
      result = layerNorm(in(0), in(1), in(2), op.eps);
      break;
    case GraphOp::Kind::RmsNorm:
      result = rmsNorm(in(0), in(1), op.eps);
      break;
    case GraphOp::Kind::Add:
      result = binary(in(0), in(1), [](double a, double b) { return a + b; });
      break;
    case GraphOp::Kind::Sub:
      result = binary(in(0), in(1), [](double a, double b) { return a - b; });
      break;
    case GraphOp::Kind::Mul:
      result = binary(in(0), in(1), [](double a, double b) { return a * b; });
      break;
    case GraphOp::Kind::Gelu: {
      bool tanhForm = op.geluTanh;
      result = unary(in(0), [=](double x) { return gelu(x, tanhForm); });
      break;
    }
    case GraphOp::Kind::Silu:
      result = unary(in(0), [](double x) { return x / (1.0 + std::exp(-x)); });
      break;
    case GraphOp::Kind::Relu:
      result = unary(in(0), [](double x) { return x < 0.0 ? 0.0 : x; });
      break;
    }
#ifndef NDEBUG
    for (ValueId r : op.results)
      assert(values[r].shape == graph.shapeOf(r) && "result shape");
#endif
  }
  std::vector<RefTensor> outputs;
  for (const KernelArg &arg : graph.args)
    if (arg.role == ArgRole::Output)
      outputs.push_back(values[arg.value]);
  return outputs;
}

std::vector<std::vector<float>> attnc::makeRandomArguments(const Graph &graph,
                                                           uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<std::vector<float>> result;
  for (const KernelArg &arg : graph.args) {
    if (arg.role == ArgRole::Output)
      continue;
    double scale = 1.0;
    if (arg.role == ArgRole::Param && arg.shape.size() >= 2)
      scale = 1.0 / std::sqrt(static_cast<double>(arg.shape[0]));
    std::vector<float> data(numElements(arg.shape));
    for (float &x : data)
      x = static_cast<float>(unit(rng) * scale);
    result.push_back(std::move(data));
  }
  return result;
}

ErrorStats attnc::compareToReference(const float *got, const RefTensor &want) {
  ErrorStats s;
  double maxWant = 0, diff2 = 0, want2 = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double g = got[i], w = want.data[i];
    if (!std::isfinite(g))
      s.allFinite = false;
    double d = std::fabs(g - w);
    s.maxAbs = std::max(s.maxAbs, d);
    maxWant = std::max(maxWant, std::fabs(w));
    diff2 += d * d;
    want2 += w * w;
  }
  s.maxRel = maxWant > 0 ? s.maxAbs / maxWant : s.maxAbs;
  s.l2Rel = want2 > 0 ? std::sqrt(diff2 / want2) : std::sqrt(diff2);
  if (!s.allFinite) {
    s.maxAbs = s.maxRel = s.l2Rel = std::numeric_limits<double>::infinity();
  }
  return s;
}

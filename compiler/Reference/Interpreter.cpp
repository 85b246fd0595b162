//===- Interpreter.cpp - double-precision oracle for a model ----*- C++ -*-===//

#include "attnc/Reference/Interpreter.h"

#include <cassert>
#include <cmath>
#include <limits>
#include <random>

using namespace attnc;

static RefTensor makeTensor(Shape shape) {
  RefTensor t;
  t.data.assign(numElements(shape), 0.0);
  t.shape = std::move(shape);
  return t;
}

/// y[i, o] = sum_k x[i, k] * w[k, o] + b[o]
static RefTensor linear(const RefTensor &x, const RefTensor &w,
                        const RefTensor *b) {
  int64_t rows = x.shape[0], in = x.shape[1], out = w.shape[1];
  RefTensor y = makeTensor({rows, out});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? b->data[o] : 0.0;
      for (int64_t k = 0; k < in; ++k)
        acc += x.data[i * in + k] * w.data[k * out + o];
      y.data[i * out + o] = acc;
    }
  return y;
}

static RefTensor columnBlock(const RefTensor &t, int64_t part, int64_t parts) {
  int64_t rows = t.shape[0], cols = t.shape[1], width = cols / parts;
  RefTensor r = makeTensor({rows, width});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < width; ++c)
      r.data[i * width + c] = t.data[i * cols + part * width + c];
  return r;
}

static bool keyVisible(const GraphOp &op, int64_t i, int64_t j) {
  switch (op.mask) {
  case MaskKind::None: return true;
  case MaskKind::Causal: return j <= i;
  case MaskKind::Window: return j <= i && j > i - op.window;
  }
  return true;
}

/// Materializes every score row and applies a textbook softmax.
static RefTensor attention(const GraphOp &op, const RefTensor &q,
                           const RefTensor &k, const RefTensor &v) {
  int64_t queries = q.shape[0], keys = k.shape[0];
  int64_t headDim = q.shape[1] / op.heads;
  int64_t groupSize = op.heads / op.kvHeads;
  int64_t qCols = q.shape[1], kCols = k.shape[1];
  RefTensor out = makeTensor(q.shape);
  std::vector<double> scores(keys);
  for (int64_t h = 0; h < op.heads; ++h) {
    int64_t g = h / groupSize;
    for (int64_t i = 0; i < queries; ++i) {
      double maxScore = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < keys; ++j) {
        if (!keyVisible(op, i, j)) {
          scores[j] = -std::numeric_limits<double>::infinity();
          continue;
        }
        double dot = 0;
        for (int64_t d = 0; d < headDim; ++d)
          dot += q.data[i * qCols + h * headDim + d] *
                 k.data[j * kCols + g * headDim + d];
        scores[j] = dot * op.scale;
        maxScore = std::max(maxScore, scores[j]);
      }
      if (std::isinf(maxScore))
        continue; // no visible key: the row stays zero
      double sum = 0;
      for (int64_t j = 0; j < keys; ++j) {
        scores[j] = std::exp(scores[j] - maxScore);
        sum += scores[j];
      }
      for (int64_t d = 0; d < headDim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < keys; ++j)
          acc += scores[j] / sum * v.data[j * kCols + g * headDim + d];
        out.data[i * qCols + h * headDim + d] = acc;
      }
    }
  }
  return out;
}

std::vector<RefTensor>
attnc::interpret(const Graph &graph, const std::vector<RefTensor> &arguments) {
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
    switch (op.kind) {
    case GraphOp::Kind::Linear:
      values[op.results[0]] =
          linear(values[op.operands[0]], values[op.operands[1]],
                 op.operands.size() == 3 ? &values[op.operands[2]] : nullptr);
      break;
    case GraphOp::Kind::Split:
      for (size_t p = 0; p < op.results.size(); ++p)
        values[op.results[p]] =
            columnBlock(values[op.operands[0]], p, op.results.size());
      break;
    case GraphOp::Kind::Attention:
      values[op.results[0]] =
          attention(op, values[op.operands[0]], values[op.operands[1]],
                    values[op.operands[2]]);
      break;
    }
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

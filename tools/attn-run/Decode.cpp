//===- Decode.cpp - attn-run --decode: a decode step, token by token ------===//

#include "Decode.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace attnc;
using namespace llvm;

/// Elements of one token's row of a per-token argument ([1, ...]).
static int64_t rowElements(const KernelArg &arg) {
  return numElements(arg.shape);
}

std::vector<std::vector<float>>
attnc::makeDecodeInputs(const Graph &step,
                        const std::vector<std::vector<float>> &modelInputs,
                        const DecodePlan &plan, uint64_t seed) {
  std::vector<std::vector<float>> result;
  size_t next = 0;
  for (const KernelArg &arg : step.args) {
    if (arg.role == ArgRole::Output)
      continue;
    const std::vector<float> &whole = modelInputs[next];
    if (!arg.perToken) {
      result.push_back(whole);
      ++next;
      continue;
    }
    const int64_t row = rowElements(arg);
    const int64_t seeded = std::min<int64_t>(plan.tokens(), step.context);
    std::vector<float> rows(plan.tokens() * row);
    std::copy(whole.begin(), whole.begin() + seeded * row, rows.begin());
    // Past the model's context: the same distribution as the seeded input,
    // from a generator of its own per argument.
    std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * (next + 1)));
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int64_t i = seeded * row; i < plan.tokens() * row; ++i)
      rows[i] = static_cast<float>(unit(rng));
    result.push_back(std::move(rows));
    ++next;
  }
  return result;
}

MemoryUse attnc::estimateDecodeMemory(const Graph &step,
                                      const DecodePlan &plan) {
  MemoryUse use;
  const uint64_t tokens = plan.tokens();
  auto account = [&](uint64_t bytes, const std::string &what) {
    if (bytes > use.largestBytes) {
      use.largestBytes = bytes;
      use.largestWhat = what;
    }
  };
  for (const KernelArg &arg : step.args) {
    uint64_t elements = numElements(arg.shape);
    uint64_t bytes;
    if (!arg.perToken)
      // A param in float for the library and in double for the reference.
      bytes = elements * (sizeof(float) + sizeof(double));
    else if (arg.role == ArgRole::Output)
      // Every token's row from the library and from the reference.
      bytes = tokens * elements * (sizeof(float) + sizeof(double));
    else
      bytes = tokens * elements * sizeof(float);
    use.arguments += bytes;
    account(bytes, arg.perToken ? "'" + arg.name + "' over " +
                                      std::to_string(tokens) + " tokens"
                                : "param '" + arg.name + "'");
  }
  // The reference keeps every token's keys and values, in double.
  for (size_t layer = 0; layer < step.kvCacheWidths.size(); ++layer) {
    uint64_t bytes = tokens * step.kvCacheWidths[layer] * 2 * sizeof(double);
    use.intermediates += bytes;
    account(bytes, "the reference's keys and values of attention layer " +
                       std::to_string(layer));
  }
  return use;
}

Shape attnc::decodedShape(const KernelArg &output, const DecodePlan &plan) {
  Shape shape = output.shape;
  shape[0] = plan.tokens();
  return shape;
}

/// Pointers to token `first`'s rows of every argument the library takes.
static std::vector<void *>
libraryArgs(const Graph &step, const std::vector<std::vector<float>> &inputs,
            std::vector<std::vector<float>> &outputs, int64_t first) {
  std::vector<void *> args;
  size_t nextInput = 0, nextOutput = 0;
  for (const KernelArg &arg : step.args) {
    if (arg.role == ArgRole::Output) {
      args.push_back(outputs[nextOutput++].data() + first * rowElements(arg));
      continue;
    }
    const std::vector<float> &data = inputs[nextInput++];
    if (arg.embedded)
      continue; // compiled into the library
    const float *p =
        data.data() + (arg.perToken ? first * rowElements(arg) : 0);
    args.push_back(const_cast<float *>(p));
  }
  return args;
}

Expected<DecodeTimes>
attnc::runDecoder(attn_decoder *decoder, const Graph &step,
                  const std::vector<std::vector<float>> &inputs,
                  const DecodePlan &plan,
                  std::vector<std::vector<float>> &outputs) {
  for (const KernelArg &arg : step.args)
    if (arg.role == ArgRole::Output)
      outputs.emplace_back(numElements(decodedShape(arg, plan)), 0.0f);

  using Clock = std::chrono::steady_clock;
  auto millisSince = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start)
        .count();
  };
  auto failed = [](const Twine &what) {
    return createStringError(inconvertibleErrorCode(),
                             what + ": " + attn_last_error());
  };
  DecodeTimes times;
  int64_t fed = 0;
  for (int64_t prompt : plan.prompts) {
    std::vector<void *> args = libraryArgs(step, inputs, outputs, fed);
    auto start = Clock::now();
    if (attn_decoder_prefill(decoder, args.data(), args.size(), prompt) !=
        ATTN_OK)
      return failed("prefill of " + Twine(prompt) + " tokens at position " +
                    Twine(fed));
    times.prefillMillis.push_back(millisSince(start));
    fed += prompt;
  }
  for (int64_t t = fed; t < plan.tokens(); ++t) {
    std::vector<void *> args = libraryArgs(step, inputs, outputs, t);
    auto start = Clock::now();
    if (attn_decoder_step(decoder, args.data(), args.size()) != ATTN_OK)
      return failed("token " + Twine(t));
    times.stepMillis.push_back(millisSince(start));
  }
  return times;
}

std::vector<RefTensor>
attnc::referenceDecode(const Graph &step,
                       const std::vector<std::vector<float>> &inputs,
                       const DecodePlan &plan) {
  // Arguments in double once; a token's rows replace the per-token ones.
  std::vector<RefTensor> args;
  std::vector<const KernelArg *> argOf;
  for (const KernelArg &arg : step.args) {
    if (arg.role == ArgRole::Output)
      continue;
    const std::vector<float> &data = inputs[args.size()];
    size_t count = arg.perToken ? rowElements(arg) : data.size();
    args.push_back(
        {arg.shape, std::vector<double>(data.begin(), data.begin() + count)});
    argOf.push_back(&arg);
  }
  std::vector<RefTensor> result;
  for (const KernelArg &arg : step.args)
    if (arg.role == ArgRole::Output)
      result.push_back(
          {decodedShape(arg, plan),
           std::vector<double>(numElements(decodedShape(arg, plan)))});

  DecodeHistory history;
  for (int64_t t = 0; t < plan.tokens(); ++t) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (!argOf[i]->perToken)
        continue;
      const float *row = inputs[i].data() + t * rowElements(*argOf[i]);
      std::copy(row, row + args[i].data.size(), args[i].data.begin());
    }
    std::vector<RefTensor> token = interpretDecodeStep(step, args, history);
    for (size_t o = 0; o < result.size(); ++o)
      std::copy(token[o].data.begin(), token[o].data.end(),
                result[o].data.begin() + t * token[o].data.size());
  }
  return result;
}

//===- Decode.h - attn-run --decode, token by token ------------*- C++ -*-===//
//
// A decode step is checked the way a user runs it: prompts in one prefill
// call each, then one token per call, past the end of the KV cache's ring.
// Every token's outputs are compared with the reference's decode step, which
// keeps every earlier token's keys and values instead of a ring, and every
// step is timed.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TOOLS_ATTN_RUN_DECODE_H
#define ATTNC_TOOLS_ATTN_RUN_DECODE_H

#include "attnc/Frontend/Graph.h"
#include "attnc/Frontend/MemoryBudget.h"
#include "attnc/Reference/Interpreter.h"
#include "attnc/runtime.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace attnc {

/// What to feed: prompts of `prompts` tokens, one attn_decoder_prefill call
/// each (a chat's turns), then `steps` tokens one attn_decoder_step call
/// each.
struct DecodePlan {
  std::vector<int64_t> prompts;
  int64_t steps = 0;
  int64_t promptTokens() const {
    int64_t sum = 0;
    for (int64_t prompt : prompts)
      sum += prompt;
    return sum;
  }
  int64_t tokens() const { return promptTokens() + steps; }
};

/// The step's arguments for every token of a plan, in the step's argument
/// order (outputs excluded): a per-token input holds `tokens()` rows, any
/// other argument the model's. Token t < context is row t of the model's
/// seeded input, so the first `context` tokens are those a full run with
/// the same seed sees; later rows are drawn from `seed` as well.
std::vector<std::vector<float>>
makeDecodeInputs(const Graph &step,
                 const std::vector<std::vector<float>> &modelInputs,
                 const DecodePlan &plan, uint64_t seed);

/// Bytes a check of `plan` needs: every token's input and output rows in
/// float and double, the params, and the reference's keys and values of
/// every token in double.
MemoryUse estimateDecodeMemory(const Graph &step, const DecodePlan &plan);

/// Feeds the plan through `decoder`, whose step must be `step`. `inputs`
/// are makeDecodeInputs' (embedded params skipped: the library has them);
/// `outputs` get one buffer per output of `tokens()` rows. Returns each
/// prefill call's milliseconds and every step's.
struct DecodeTimes {
  std::vector<double> prefillMillis;
  std::vector<double> stepMillis;
};
llvm::Expected<DecodeTimes>
runDecoder(attn_decoder *decoder, const Graph &step,
           const std::vector<std::vector<float>> &inputs,
           const DecodePlan &plan, std::vector<std::vector<float>> &outputs);

/// The reference's outputs for every token of the plan, one tensor per
/// output with `tokens()` rows.
std::vector<RefTensor>
referenceDecode(const Graph &step,
                const std::vector<std::vector<float>> &inputs,
                const DecodePlan &plan);

/// An output's shape over the plan's tokens: its row's, `tokens()` rows.
Shape decodedShape(const KernelArg &output, const DecodePlan &plan);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTN_RUN_DECODE_H

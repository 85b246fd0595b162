//===- HalidePipelines.cpp - a model as a sequence of Halide pipelines ----===//

#include "attnc/Codegen/HalidePipelines.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace attnc;

namespace {

bool isLayoutOnly(int32_t kind) {
  return kind == ATTNC_HL_SLICE || kind == ATTNC_HL_TRANSPOSE ||
         kind == ATTNC_HL_SPLIT_HEADS || kind == ATTNC_HL_MERGE_HEADS;
}

/// By value id: whether the value may hold the -inf a mask op writes over
/// hidden keys, as the Halide module's builder tracks it (a pipeline's
/// input is not tracked, so such a value must not become one).
std::vector<bool> mayHoldMaskInfinity(const attnc_hl_model &model) {
  std::vector<bool> infinite(model.num_values, false);
  for (int o = 0; o < model.num_ops; ++o) {
    const attnc_hl_op &op = model.ops[o];
    bool operand = false;
    for (int i = 0; i < op.num_operands; ++i)
      operand = operand || infinite[op.operands[i]];
    bool passesOn = isLayoutOnly(op.kind) || op.kind == ATTNC_HL_ADD ||
                    op.kind == ATTNC_HL_SUB || op.kind == ATTNC_HL_MUL ||
                    op.kind == ATTNC_HL_SCALE;
    infinite[op.result] =
        op.kind == ATTNC_HL_MASK || (operand && passesOn);
  }
  return infinite;
}

/// The indices of the ops after which `model` is cut.
std::vector<int> chooseCuts(const attnc_hl_model &model, unsigned minOps) {
  const int numOps = model.num_ops;
  std::vector<int> lastUse(model.num_values, -1), producer(model.num_values, -1);
  for (int o = 0; o < numOps; ++o) {
    const attnc_hl_op &op = model.ops[o];
    producer[op.result] = o;
    for (int i = 0; i < op.num_operands; ++i)
      lastUse[op.operands[i]] = o;
  }
  // Every pipeline must write something: no cut after the last op that
  // computes an output.
  int lastOutputOp = -1;
  for (int a = 0; a < model.num_args; ++a)
    if (model.args[a].role == ATTNC_HL_OUTPUT)
      lastOutputOp = std::max(lastOutputOp, producer[model.args[a].value]);
  std::vector<bool> infinite = mayHoldMaskInfinity(model);

  std::vector<int> cuts;
  // Results of ops so far that a later op reads.
  std::vector<int32_t> live;
  int opsSinceCut = 0;
  for (int o = 0; o < lastOutputOp; ++o) {
    const attnc_hl_op &op = model.ops[o];
    llvm::erase_if(live, [&](int32_t v) { return lastUse[v] <= o; });
    if (lastUse[op.result] > o)
      live.push_back(op.result);
    ++opsSinceCut;
    if (opsSinceCut >= static_cast<int>(minOps) && live.size() == 1 &&
        live.front() == op.result && !infinite[op.result]) {
      cuts.push_back(o);
      opsSinceCut = 0;
    }
  }
  return cuts;
}

} // namespace

std::vector<HalidePipeline>
attnc::splitIntoPipelines(const HalideModel &whole, unsigned minOps,
                          const std::string &pipelineName) {
  const attnc_hl_model &model = whole.model();
  bool decodeStep = false; // caches or a position among the arguments
  for (int a = 0; a < model.num_args; ++a) {
    int32_t role = model.args[a].role;
    decodeStep = decodeStep || (role != ATTNC_HL_INPUT &&
                                role != ATTNC_HL_PARAM &&
                                role != ATTNC_HL_OUTPUT);
  }
  std::vector<int> cuts;
  if (minOps > 0 && !decodeStep)
    cuts = chooseCuts(model, minOps);

  std::vector<HalidePipeline> pipelines;
  if (cuts.empty()) {
    HalidePipeline one{
        HalideModel::part(whole, 0, model.num_ops,
                          {model.args, model.args + model.num_args},
                          pipelineName),
        {}};
    for (int a = 0; a < model.num_args; ++a)
      one.sources.push_back({a, -1});
    pipelines.push_back(std::move(one));
    return pipelines;
  }

  std::vector<int> producer(model.num_values, -1);
  for (int o = 0; o < model.num_ops; ++o)
    producer[model.ops[o].result] = o;
  cuts.push_back(model.num_ops - 1);
  int begin = 0;
  int32_t incoming = -1; // the value the previous pipeline hands on
  PipelineArgSource incomingSource;
  for (auto [index, last] : llvm::enumerate(cuts)) {
    int end = last + 1;
    auto inPart = [&](int32_t value) {
      return producer[value] >= begin && producer[value] < end;
    };
    std::vector<bool> read(model.num_values, false);
    for (int o = begin; o < end; ++o)
      for (int i = 0; i < model.ops[o].num_operands; ++i)
        read[model.ops[o].operands[i]] = true;
    // An output that is an argument itself is written by the first.
    auto writes = [&](const attnc_hl_arg &arg) {
      return inPart(arg.value) || (producer[arg.value] < 0 && index == 0);
    };

    std::vector<attnc_hl_arg> args;
    std::vector<PipelineArgSource> sources;
    for (int a = 0; a < model.num_args; ++a) {
      const attnc_hl_arg &arg = model.args[a];
      if (arg.role == ATTNC_HL_OUTPUT)
        continue;
      bool outputItself = false;
      for (int b = 0; b < model.num_args; ++b)
        outputItself = outputItself || (model.args[b].role == ATTNC_HL_OUTPUT &&
                                        model.args[b].value == arg.value &&
                                        writes(model.args[b]));
      if (read[arg.value] || outputItself) {
        args.push_back(arg);
        sources.push_back({a, -1});
      }
    }
    std::string between;
    if (incoming >= 0) {
      between = "between_v" + std::to_string(incoming);
      args.push_back({between.c_str(), ATTNC_HL_INPUT, incoming});
      sources.push_back(incomingSource);
    }
    // The next pipeline reads the value handed on from the model's output
    // when it is one, else from a buffer of its own.
    int32_t outgoing = index + 1 < cuts.size() ? model.ops[last].result : -1;
    PipelineArgSource outgoingSource{-1, outgoing};
    for (int a = 0; a < model.num_args; ++a) {
      const attnc_hl_arg &arg = model.args[a];
      if (arg.role == ATTNC_HL_OUTPUT && writes(arg)) {
        args.push_back(arg);
        sources.push_back({a, -1});
        if (arg.value == outgoing && outgoingSource.wholeArg < 0)
          outgoingSource = {a, -1};
      }
    }
    std::string handedOn;
    if (outgoing >= 0 && outgoingSource.wholeArg < 0) {
      handedOn = "between_v" + std::to_string(outgoing);
      args.push_back({handedOn.c_str(), ATTNC_HL_OUTPUT, outgoing});
      sources.push_back(outgoingSource);
    }
    pipelines.push_back(
        {HalideModel::part(whole, begin, end, args,
                           pipelineName + "_" + std::to_string(index)),
         std::move(sources)});
    begin = end;
    incoming = outgoing;
    incomingSource = outgoingSource;
  }
  return pipelines;
}

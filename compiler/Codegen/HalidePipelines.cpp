//===- HalidePipelines.cpp - a model as a sequence of Halide pipelines ----===//

#include "attnc/Codegen/HalidePipelines.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <array>
#include <tuple>

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
    infinite[op.result] = op.kind == ATTNC_HL_MASK || (operand && passesOn);
  }
  return infinite;
}

/// The indices of the ops after which `model` is cut.
std::vector<int> chooseCuts(const attnc_hl_model &model, unsigned minOps) {
  const int numOps = model.num_ops;
  std::vector<int> lastUse(model.num_values, -1),
      producer(model.num_values, -1);
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

/// Gives a pipeline's values ids of its own, from 0 in the order it
/// defines them (arguments, then results), so that the same layer gives
/// the same pipeline wherever it is in the model. Returns their shapes.
std::vector<attnc_hl_shape> renumber(const attnc_hl_model &model,
                                     std::vector<attnc_hl_arg> &args,
                                     std::vector<attnc_hl_op> &ops) {
  std::vector<int32_t> local(model.num_values, -1);
  std::vector<attnc_hl_shape> values;
  auto define = [&](int32_t &value) {
    if (local[value] < 0) {
      local[value] = static_cast<int32_t>(values.size());
      values.push_back(model.values[value]);
    }
    value = local[value];
  };
  for (attnc_hl_arg &arg : args)
    if (arg.role != ATTNC_HL_OUTPUT && arg.role != ATTNC_HL_POSITION)
      define(arg.value);
  for (attnc_hl_op &op : ops) {
    for (int i = 0; i < op.num_operands; ++i)
      op.operands[i] = local[op.operands[i]]; // an argument or earlier result
    define(op.result);
  }
  for (attnc_hl_arg &arg : args)
    if (arg.role == ATTNC_HL_OUTPUT)
      arg.value = local[arg.value];
  return values;
}

bool sameShape(const attnc_hl_shape &a, const attnc_hl_shape &b) {
  return a.rank == b.rank && std::equal(a.dims, a.dims + a.rank, b.dims);
}

/// Whether two ops compute the same (their places in the model aside).
bool sameOp(const attnc_hl_op &a, const attnc_hl_op &b) {
  auto fields = [](const attnc_hl_op &op) {
    return std::tie(op.kind, op.num_operands, op.result, op.heads,
                    op.kv_heads, op.window, op.axis, op.head_dim, op.mask,
                    op.has_bias, op.has_alibi, op.rope_interleaved,
                    op.rope_at_position, op.gelu_tanh, op.key_cache,
                    op.value_cache, op.scale, op.base, op.eps);
  };
  return fields(a) == fields(b) &&
         std::equal(a.operands, a.operands + a.num_operands, b.operands) &&
         std::equal(a.offsets, a.offsets + ATTNC_HL_MAX_RANK, b.offsets);
}

/// Whether `pipeline` computes what `values`, `args` and `ops` describe;
/// the arguments' names and the ops' places in the model aside, which only
/// name things in messages.
bool samePipeline(const attnc_hl_model &pipeline,
                  const std::vector<attnc_hl_shape> &values,
                  const std::vector<attnc_hl_arg> &args,
                  const std::vector<attnc_hl_op> &ops) {
  return std::equal(pipeline.values, pipeline.values + pipeline.num_values,
                    values.begin(), values.end(), sameShape) &&
         std::equal(pipeline.args, pipeline.args + pipeline.num_args,
                    args.begin(), args.end(),
                    [](const attnc_hl_arg &a, const attnc_hl_arg &b) {
                      return a.role == b.role && a.value == b.value;
                    }) &&
         std::equal(pipeline.ops, pipeline.ops + pipeline.num_ops, ops.begin(),
                    ops.end(), sameOp);
}

} // namespace

std::vector<HalidePipeline>
attnc::splitIntoPipelines(const HalideModel &whole, unsigned minOps,
                          const std::string &pipelineName) {
  const attnc_hl_model &model = whole.model();
  std::vector<int> cuts;
  if (minOps > 0)
    cuts = chooseCuts(model, minOps);
  cuts.push_back(model.num_ops - 1);

  std::vector<int> producer(model.num_values, -1);
  for (int o = 0; o < model.num_ops; ++o)
    producer[model.ops[o].result] = o;
  // A decode step's caches, numbered as the entry point's cache slots.
  std::vector<int32_t> cacheOrdinal(model.num_args, -1);
  int32_t caches = 0;
  for (int a = 0; a < model.num_args; ++a)
    if (model.args[a].role == ATTNC_HL_KEY_CACHE ||
        model.args[a].role == ATTNC_HL_VALUE_CACHE)
      cacheOrdinal[a] = caches++;

  std::vector<HalidePipeline> pipelines;
  int begin = 0;
  int32_t incoming = -1; // the value the previous pipeline hands on
  PipelineArgSource incomingSource;
  for (auto [index, last] : llvm::enumerate(cuts)) {
    int end = last + 1;
    auto inPart = [&](int32_t value) {
      return producer[value] >= begin && producer[value] < end;
    };
    // An output that is an argument itself is written by the first.
    auto writes = [&](const attnc_hl_arg &arg) {
      return inPart(arg.value) || (producer[arg.value] < 0 && index == 0);
    };
    std::vector<bool> read(model.num_values, false),
        argUsed(model.num_args, false);
    bool readsPosition = false;
    for (int o = begin; o < end; ++o) {
      const attnc_hl_op &op = model.ops[o];
      for (int i = 0; i < op.num_operands; ++i)
        read[op.operands[i]] = true;
      if (op.kind == ATTNC_HL_DECODE_ATTENTION) {
        argUsed[op.key_cache] = argUsed[op.value_cache] = true;
        readsPosition = true;
      }
      readsPosition = readsPosition || op.rope_at_position;
    }
    for (int a = 0; a < model.num_args; ++a) {
      const attnc_hl_arg &arg = model.args[a];
      if (arg.role == ATTNC_HL_OUTPUT && writes(arg) && arg.value >= 0 &&
          producer[arg.value] < 0)
        read[arg.value] = true; // an argument output as it is
      if (arg.role == ATTNC_HL_INPUT || arg.role == ATTNC_HL_PARAM)
        argUsed[a] = argUsed[a] || read[arg.value];
      if (arg.role == ATTNC_HL_POSITION)
        argUsed[a] = readsPosition;
    }

    // HalideModule.h's order: buffers, the position, outputs (then a
    // decode step's new keys and values, in the order of its caches).
    std::vector<attnc_hl_arg> args;
    std::vector<PipelineArgSource> sources;
    std::vector<int32_t> partIndex(model.num_args, -1);
    std::vector<int32_t> cacheSlots;
    auto addWhole = [&](int a) {
      partIndex[a] = static_cast<int32_t>(args.size());
      args.push_back(model.args[a]);
      sources.push_back({a, -1});
      if (cacheOrdinal[a] >= 0)
        cacheSlots.push_back(cacheOrdinal[a]);
    };
    for (int a = 0; a < model.num_args; ++a)
      if (argUsed[a] && model.args[a].role != ATTNC_HL_POSITION &&
          model.args[a].role != ATTNC_HL_OUTPUT)
        addWhole(a);
    // Named once their ids are the pipeline's own (below).
    int incomingArg = -1, outgoingArg = -1;
    if (incoming >= 0) {
      incomingArg = static_cast<int>(args.size());
      args.push_back({"", ATTNC_HL_INPUT, incoming});
      sources.push_back(incomingSource);
    }
    for (int a = 0; a < model.num_args; ++a)
      if (argUsed[a] && model.args[a].role == ATTNC_HL_POSITION)
        addWhole(a);
    // The next pipeline reads the value handed on from the model's output
    // when it is one, else from a buffer of its own.
    int32_t outgoing = index + 1 < cuts.size() ? model.ops[last].result : -1;
    PipelineArgSource outgoingSource{-1, outgoing};
    for (int a = 0; a < model.num_args; ++a) {
      const attnc_hl_arg &arg = model.args[a];
      if (arg.role == ATTNC_HL_OUTPUT && writes(arg)) {
        addWhole(a);
        if (arg.value == outgoing && outgoingSource.wholeArg < 0)
          outgoingSource = {a, -1};
      }
    }
    if (outgoing >= 0 && outgoingSource.wholeArg < 0) {
      outgoingArg = static_cast<int>(args.size());
      args.push_back({"", ATTNC_HL_OUTPUT, outgoing});
      sources.push_back(outgoingSource);
    }

    std::vector<attnc_hl_op> ops(model.ops + begin, model.ops + end);
    for (attnc_hl_op &op : ops)
      if (op.kind == ATTNC_HL_DECODE_ATTENTION) {
        op.key_cache = partIndex[op.key_cache];
        op.value_cache = partIndex[op.value_cache];
      }
    std::vector<attnc_hl_shape> values = renumber(model, args, ops);
    std::string names[2];
    for (auto [arg, name] : llvm::zip(std::array{incomingArg, outgoingArg},
                                      names))
      if (arg >= 0) {
        name = "between_v" + std::to_string(args[arg].value);
        args[arg].name = name.c_str();
      }

    // A pipeline equal to an earlier one (the same layer again) is that
    // one: compiled once, called with other buffers.
    std::string name = cuts.size() == 1
                           ? pipelineName
                           : pipelineName + "_" + std::to_string(index);
    bool reused = false;
    for (const HalidePipeline &earlier : pipelines)
      if (!earlier.reusesEarlier &&
          samePipeline(earlier.model.model(), values, args, ops)) {
        name = earlier.model.model().function_name;
        reused = true;
        break;
      }
    pipelines.push_back({HalideModel::part(values, ops, args, name),
                         std::move(sources), std::move(cacheSlots), reused});
    begin = end;
    incoming = outgoing;
    incomingSource = outgoingSource;
  }
  return pipelines;
}

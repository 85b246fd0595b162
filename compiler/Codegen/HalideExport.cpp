//===- HalideExport.cpp - the attn dialect as a Halide backend model ------===//

#include "attnc/Codegen/HalideExport.h"

#include "attn/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <type_traits>

using namespace attnc;
using namespace mlir;

namespace {

/// "file:line:col", as attnc's own diagnostics print a place in the model.
std::string describe(Location loc) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto fileLoc = dyn_cast<FileLineColLoc>(loc))
    os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
       << fileLoc.getColumn();
  else
    os << loc;
  return text;
}

attnc_hl_mask maskOf(attn::MaskKind kind) {
  switch (kind) {
  case attn::MaskKind::causal: return ATTNC_HL_MASK_CAUSAL;
  case attn::MaskKind::window: return ATTNC_HL_MASK_WINDOW;
  default: return ATTNC_HL_MASK_NONE;
  }
}

double toDouble(const llvm::APFloat &value) { return value.convertToDouble(); }

/// Attention's attributes, shared by attn.sdpa, attn.attention_probs and
/// attn.decode_attention (which has no additive mask tensor).
template <typename AttentionOp>
void setAttention(attnc_hl_op &out, AttentionOp op) {
  out.heads = static_cast<int64_t>(op.getHeads());
  out.kv_heads = static_cast<int64_t>(op.getKvHeads());
  out.mask = maskOf(op.getMask());
  out.window = static_cast<int64_t>(op.getWindow().value_or(0));
  out.scale = toDouble(op.getScale());
  if constexpr (!std::is_same_v<AttentionOp, attn::DecodeAttentionOp>)
    out.has_bias = op.getBias() != nullptr;
  out.has_alibi = op.getAlibi() != nullptr;
}

} // namespace

llvm::Expected<HalideModel> HalideModel::fromModule(ModuleOp module,
                                              const Graph &graph,
                                              const std::string &pipelineName) {
  auto fail = [](Operation *op, const Twine &message) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << describe(op->getLoc()) << ": " << message;
    return llvm::createStringError(llvm::inconvertibleErrorCode(), text);
  };
  auto func = module.lookupSymbol<func::FuncOp>(graph.name);
  if (!func)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "model function '" + graph.name +
                                       "' is missing");

  HalideModel result;
  llvm::DenseMap<Value, int32_t> ids;
  auto addValue = [&](Value value) -> int32_t {
    auto type = cast<RankedTensorType>(value.getType());
    attnc_hl_shape shape{};
    shape.rank = static_cast<int32_t>(type.getRank());
    for (int64_t d = 0; d < type.getRank(); ++d)
      shape.dims[d] = type.getDimSize(d);
    result.values.push_back(shape);
    int32_t id = static_cast<int32_t>(result.values.size() - 1);
    ids[value] = id;
    return id;
  };
  auto keep = [&](std::string text) { return result.keep(std::move(text)); };

  // Block arguments are the non-output arguments in ABI order, then a
  // decode step's caches (key and value of each layer) and its position,
  // then a chunk's count; the returned values are the outputs, in order.
  std::vector<const KernelArg *> inputs, outputs;
  for (const KernelArg &arg : graph.args)
    (arg.role == ArgRole::Output ? outputs : inputs).push_back(&arg);
  Block &body = func.getBody().front();
  size_t caches = 2 * graph.kvCacheWidths.size();
  size_t expected = inputs.size() + caches + (graph.isDecodeStep ? 1 : 0) +
                    (graph.isChunk ? 2 : 0);
  if (body.getNumArguments() != expected)
    return fail(func, "has " + Twine(body.getNumArguments()) +
                          " arguments, the model declares " +
                          Twine(expected));
  // Of the caches and position; a chunk's count is no argument of the
  // pipelines (-1): its rows past the count are computed like the others
  // and never reach a token's, and the caller stores only the tokens'
  // keys and values.
  llvm::DenseMap<Value, int32_t> argIndex;
  for (auto [index, arg] : llvm::enumerate(body.getArguments())) {
    if (index < inputs.size()) {
      const KernelArg *kernelArg = inputs[index];
      if (!isa<RankedTensorType>(arg.getType()))
        return fail(func, "takes an argument that is not a tensor");
      int32_t role = kernelArg->role == ArgRole::Param ? ATTNC_HL_PARAM
                                                       : ATTNC_HL_INPUT;
      result.args.push_back({keep(kernelArg->name), role, addValue(arg)});
      continue;
    }
    if (index == inputs.size() + caches + 1) {
      argIndex[arg] = -1;
      continue;
    }
    argIndex[arg] = static_cast<int32_t>(result.args.size());
    if (index == inputs.size() + caches) {
      result.args.push_back({keep("position"), ATTNC_HL_POSITION, -1});
      continue;
    }
    // Keys [width, context], values [kv_heads, context, head_dim].
    size_t cache = index - inputs.size();
    bool isKey = cache % 2 == 0;
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type || type.getRank() != (isKey ? 2 : 3))
      return fail(func, Twine("takes a ") + (isKey ? "key" : "value") +
                            " cache that is not a " + (isKey ? "2" : "3") +
                            "-D memref");
    attnc_hl_shape shape{};
    shape.rank = static_cast<int32_t>(type.getRank());
    for (int64_t d = 0; d < type.getRank(); ++d)
      shape.dims[d] = type.getDimSize(d);
    result.values.push_back(shape);
    result.args.push_back(
        {keep(std::string(isKey ? "key" : "value") + "_cache_" +
              std::to_string(cache / 2)),
         isKey ? ATTNC_HL_KEY_CACHE : ATTNC_HL_VALUE_CACHE,
         static_cast<int32_t>(result.values.size() - 1)});
  }

  for (Operation &op : body.without_terminator()) {
    attnc_hl_op out{};
    out.location =
        keep(describe(op.getLoc()) + ": " + op.getName().stripDialect().str());
    // The caches and position are not values: decode attention and RoPE
    // name them in fields of their own below.
    auto tensors = llvm::make_filter_range(
        op.getOperands(), [&](Value v) { return !argIndex.count(v); });
    if (op.getNumResults() != 1 ||
        llvm::range_size(tensors) > ATTNC_HL_MAX_OPERANDS)
      return fail(&op, "'" + op.getName().getStringRef() +
                           "' has no Halide lowering");
    for (Value operand : tensors) {
      auto it = ids.find(operand);
      if (it == ids.end())
        return fail(&op, "reads a value the Halide backend cannot take "
                         "(not a tensor of the model)");
      out.operands[out.num_operands++] = it->second;
    }
    auto is = [&](attnc_hl_op_kind kind) {
      out.kind = kind;
      return true;
    };
    bool known =
        llvm::TypeSwitch<Operation *, bool>(&op)
            .Case([&](attn::LinearOp) { return is(ATTNC_HL_LINEAR); })
            .Case([&](tensor::ExtractSliceOp slice) {
              is(ATTNC_HL_SLICE);
              if (slice.getSourceType().getRank() !=
                      slice.getResultType().getRank() ||
                  !slice.hasUnitStride() || !slice.getOffsets().empty())
                return false;
              for (auto [d, offset] :
                   llvm::enumerate(slice.getStaticOffsets()))
                out.offsets[d] = offset;
              return true;
            })
            .Case([&](attn::SdpaOp sdpa) {
              setAttention(out, sdpa);
              return is(ATTNC_HL_SDPA);
            })
            .Case([&](attn::AttentionProbsOp probs) {
              setAttention(out, probs);
              return is(ATTNC_HL_ATTENTION_PROBS);
            })
            .Case([&](attn::MatmulOp) { return is(ATTNC_HL_MATMUL); })
            .Case([&](attn::TransposeOp) {
              return is(ATTNC_HL_TRANSPOSE);
            })
            .Case([&](attn::ScaleOp scale) {
              out.scale = toDouble(scale.getFactor());
              return is(ATTNC_HL_SCALE);
            })
            .Case([&](attn::MaskOp mask) {
              out.mask = maskOf(mask.getKind());
              out.window = static_cast<int64_t>(mask.getWindow().value_or(0));
              return is(ATTNC_HL_MASK);
            })
            .Case([&](attn::SoftmaxOp softmax) {
              out.axis = static_cast<int64_t>(softmax.getAxis());
              return is(ATTNC_HL_SOFTMAX);
            })
            .Case([&](attn::SplitHeadsOp) {
              return is(ATTNC_HL_SPLIT_HEADS);
            })
            .Case([&](attn::MergeHeadsOp) {
              return is(ATTNC_HL_MERGE_HEADS);
            })
            .Case([&](attn::DecodeAttentionOp attention) {
              // Their own argument roles: the caches of the block's
              // arguments; a cache passed any other way has no lowering.
              auto keys = argIndex.find(attention.getKeyCache());
              auto values = argIndex.find(attention.getValueCache());
              if (keys == argIndex.end() || values == argIndex.end() ||
                  !argIndex.count(attention.getPosition()))
                return false;
              out.key_cache = keys->second;
              out.value_cache = values->second;
              setAttention(out, attention);
              return is(ATTNC_HL_DECODE_ATTENTION);
            })
            .Case([&](attn::RopeOp rope) {
              if (rope.getPosition()) {
                if (!argIndex.count(rope.getPosition()))
                  return false;
                out.rope_at_position = 1;
              }
              out.head_dim = static_cast<int64_t>(rope.getHeadDim());
              out.base = toDouble(rope.getBase());
              out.rope_interleaved =
                  rope.getStyle() == attn::RopeStyle::interleaved;
              return is(ATTNC_HL_ROPE);
            })
            .Case([&](attn::LayerNormOp norm) {
              out.eps = toDouble(norm.getEps());
              return is(ATTNC_HL_LAYER_NORM);
            })
            .Case([&](attn::RmsNormOp norm) {
              out.eps = toDouble(norm.getEps());
              return is(ATTNC_HL_RMS_NORM);
            })
            .Case([&](attn::AddOp) { return is(ATTNC_HL_ADD); })
            .Case([&](attn::SubOp) { return is(ATTNC_HL_SUB); })
            .Case([&](attn::MulOp) { return is(ATTNC_HL_MUL); })
            .Case([&](attn::GeluOp gelu) {
              out.gelu_tanh =
                  gelu.getApproximate() == attn::GeluApproximation::tanh;
              return is(ATTNC_HL_GELU);
            })
            .Case([&](attn::SiluOp) { return is(ATTNC_HL_SILU); })
            .Case([&](attn::ReluOp) { return is(ATTNC_HL_RELU); })
            .Default([](Operation *) { return false; });
    if (!known)
      return fail(&op, "'" + op.getName().getStringRef() +
                           "' in this form has no Halide lowering");
    out.result = addValue(op.getResult(0));
    result.ops.push_back(out);
  }

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() != outputs.size())
    return fail(ret, "returns " + Twine(ret.getNumOperands()) +
                         " values, the model declares " +
                         Twine(outputs.size()) + " outputs");
  for (auto [value, kernelArg] : llvm::zip(ret.getOperands(), outputs)) {
    auto it = ids.find(value);
    if (it == ids.end())
      return fail(ret, "returns a value no construct computes");
    result.args.push_back({keep(kernelArg->name), ATTNC_HL_OUTPUT, it->second});
  }

  result.finish(pipelineName);
  return std::move(result);
}

HalideModel HalideModel::part(const std::vector<attnc_hl_shape> &values,
                              const std::vector<attnc_hl_op> &ops,
                              const std::vector<attnc_hl_arg> &args,
                              const std::string &pipelineName) {
  HalideModel result;
  result.values = values;
  for (attnc_hl_arg arg : args) {
    arg.name = result.keep(arg.name);
    result.args.push_back(arg);
  }
  for (attnc_hl_op op : ops) {
    op.location = result.keep(op.location);
    result.ops.push_back(op);
  }
  result.finish(pipelineName);
  return result;
}

const char *HalideModel::keep(std::string text) {
  strings.push_back(std::move(text));
  return strings.back().c_str();
}

void HalideModel::finish(const std::string &pipelineName) {
  model_.interface_version = ATTNC_HL_INTERFACE_VERSION;
  model_.function_name = keep(pipelineName);
  model_.num_values = static_cast<int32_t>(values.size());
  model_.values = values.data();
  model_.num_args = static_cast<int32_t>(args.size());
  model_.args = args.data();
  model_.num_ops = static_cast<int32_t>(ops.size());
  model_.ops = ops.data();
}

//===- EmbeddedWeights.cpp - params compiled into the object --------------===//

#include "attnc/Codegen/EmbeddedWeights.h"
#include "attnc/Frontend/KernelInfo.h"
#include "attnc/weights.h"

using namespace attnc;

llvm::Error attnc::embedWeights(Graph &graph, llvm::StringRef path) {
  GraphKernelInfo info(graph);
  attn_weights *weights = nullptr;
  std::string file = path.str();
  if (attn_weights_load(file.c_str(), info.get(), &weights) != ATTN_OK)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   attn_last_error());
  for (KernelArg &arg : graph.args) {
    if (arg.role != ArgRole::Param)
      continue;
    int64_t count = 0;
    const float *data = attn_weights_get(weights, arg.name.c_str(), &count);
    // attn_weights_load checked every param's presence and shape.
    embedParam(graph, arg, std::vector<float>(data, data + count));
  }
  attn_weights_free(weights);
  return llvm::Error::success();
}

void attnc::embedParam(Graph &graph, KernelArg &param,
                       std::vector<float> values) {
  param.embedded =
      std::make_shared<const std::vector<float>>(std::move(values));
  // The decode step, the prefill and the chunk take the same params.
  for (Graph *other :
       {graph.decodeStep.get(), graph.prefill.get(), graph.chunk.get()})
    if (other)
      for (KernelArg &otherArg : other->args)
        if (otherArg.value == param.value)
          otherArg.embedded = param.embedded;
}

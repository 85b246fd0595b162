//===- KernelInfo.h - a checked model described as NAME_info ----*- C++ -*-===//
//
// The runtime checks data against an attn_kernel_info (kernel_info.h). Tools
// that hold a Graph rather than a compiled kernel (attnc --embed-weights,
// attn-run --weights) describe it the same way with this.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_KERNELINFO_H
#define ATTNC_FRONTEND_KERNELINFO_H

#include "attnc/Frontend/Graph.h"
#include "attnc/kernel_info.h"

#include <vector>

namespace attnc {

/// Every argument of `graph`, embedded or not, as the kernel metadata would
/// list it. Points into `graph`, which must outlive it.
class GraphKernelInfo {
public:
  explicit GraphKernelInfo(const Graph &graph) {
    for (const KernelArg &arg : graph.args)
      args.push_back({arg.name.c_str(),
                      arg.role == ArgRole::Input   ? ATTN_ARG_INPUT
                      : arg.role == ArgRole::Param ? ATTN_ARG_PARAM
                                                   : ATTN_ARG_OUTPUT,
                      ATTN_DTYPE_F32, int32_t(arg.shape.size()), 0,
                      arg.shape.data()});
    info = {ATTN_KERNEL_ABI_VERSION, int32_t(args.size()), graph.name.c_str(),
            graph.context, args.data()};
  }
  GraphKernelInfo(const GraphKernelInfo &) = delete;
  GraphKernelInfo &operator=(const GraphKernelInfo &) = delete;

  const attn_kernel_info *get() const { return &info; }

private:
  std::vector<attn_arg_info> args;
  attn_kernel_info info;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_KERNELINFO_H

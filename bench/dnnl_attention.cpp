// Attention composed from oneDNN 2.x primitives over all heads at once:
//   matmul      scores[H, S, S] = scale * Q[H, S, D] K^T[H, D, S]
//               (Q, K, V read in place through strides: head h of the
//               [S, H*D] tensor is the [S, D] block at column h*D; the scale
//               is the matmul's output scale)
//   binary add  scores += mask[1, S, S]   (0 / -inf; causal and window only)
//   softmax     over the last axis, in place
//   matmul      out[H, S, D] = P V, written through strides into [S, H*D]
// The mask is a separate binary primitive, not a matmul post-op: the binary
// post-op makes oneDNN 2.6 fall back to its reference matmul (~600x slower).
// oneDNN parallelizes each primitive itself with OpenMP; the thread count is
// set with omp_set_num_threads before the primitives are created.
#include "common.h"

#include <dnnl.hpp>
#include <omp.h>

#include <limits>

using namespace dnnl;

namespace attnbench {

struct DnnlAttention::Impl {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  int threads = 1;
  memory q, kt, v, out, scores, mask;
  matmul qk, pv;
  binary addMask;
  bool hasMask = false;
  softmax_forward softmax;
  std::string impls;
  bool reference = false;

  void note(const char *what, const char *impl) {
    if (!impls.empty())
      impls += " ";
    impls += what;
    impls += "=";
    impls += impl;
    if (std::string(impl).find("ref") != std::string::npos)
      reference = true;
  }
};

DnnlAttention::DnnlAttention(const AttnShape &s, const float *q,
                             const float *k, const float *v, float *out,
                             int threads)
    : impl(new Impl) {
  Impl &m = *impl;
  m.threads = threads;
  omp_set_num_threads(threads);
  using dt = memory::data_type;
  const memory::dim H = s.H, S = s.S, D = s.D, HD = H * D;
  // [H, S, D] views of the [S, H*D] tensors; K^T as [H, D, S].
  memory::desc headsMd({H, S, D}, dt::f32, memory::dims{D, HD, 1});
  memory::desc ktMd({H, D, S}, dt::f32, memory::dims{D, 1, HD});
  memory::desc scoresMd({H, S, S}, dt::f32, memory::format_tag::abc);
  memory::desc maskMd({1, S, S}, dt::f32, memory::format_tag::abc);

  m.q = memory(headsMd, m.eng, const_cast<float *>(q));
  m.kt = memory(ktMd, m.eng, const_cast<float *>(k));
  m.v = memory(headsMd, m.eng, const_cast<float *>(v));
  m.out = memory(headsMd, m.eng, out);
  m.scores = memory(scoresMd, m.eng);

  primitive_attr scaled;
  scaled.set_output_scales(0, {s.scale()});
  matmul::primitive_desc qkPd(matmul::desc(headsMd, ktMd, scoresMd), scaled,
                              m.eng);
  m.qk = matmul(qkPd);
  m.note("qk", qkPd.impl_info_str());

  if (s.mask != Mask::None) {
    m.hasMask = true;
    m.mask = memory(maskMd, m.eng);
    float *mk = static_cast<float *>(m.mask.get_data_handle());
    for (int i = 0; i < s.S; ++i) {
      int lo, hi;
      s.visible(i, lo, hi);
      for (int j = 0; j < s.S; ++j)
        mk[int64_t(i) * s.S + j] = (j >= lo && j <= hi)
                                       ? 0.0f
                                       : -std::numeric_limits<float>::infinity();
    }
    binary::primitive_desc addPd(
        binary::desc(algorithm::binary_add, scoresMd, maskMd, scoresMd), m.eng);
    m.addMask = binary(addPd);
    m.note("mask", addPd.impl_info_str());
  }

  softmax_forward::primitive_desc smPd(
      softmax_forward::desc(prop_kind::forward_inference, scoresMd, 2), m.eng);
  m.softmax = softmax_forward(smPd);
  m.note("softmax", smPd.impl_info_str());

  matmul::primitive_desc pvPd(matmul::desc(scoresMd, headsMd, headsMd), m.eng);
  m.pv = matmul(pvPd);
  m.note("pv", pvPd.impl_info_str());
}

DnnlAttention::~DnnlAttention() { delete impl; }

void DnnlAttention::run() {
  Impl &m = *impl;
  omp_set_num_threads(m.threads);
  m.qk.execute(m.strm, {{DNNL_ARG_SRC, m.q},
                        {DNNL_ARG_WEIGHTS, m.kt},
                        {DNNL_ARG_DST, m.scores}});
  if (m.hasMask)
    m.addMask.execute(m.strm, {{DNNL_ARG_SRC_0, m.scores},
                               {DNNL_ARG_SRC_1, m.mask},
                               {DNNL_ARG_DST, m.scores}});
  m.softmax.execute(m.strm, {{DNNL_ARG_SRC, m.scores},
                             {DNNL_ARG_DST, m.scores}});
  m.pv.execute(m.strm, {{DNNL_ARG_SRC, m.scores},
                        {DNNL_ARG_WEIGHTS, m.v},
                        {DNNL_ARG_DST, m.out}});
  m.strm.wait();
}

const std::string &DnnlAttention::implementations() const {
  return impl->impls;
}
bool DnnlAttention::usesReference() const { return impl->reference; }

std::string dnnlDescription() {
  const dnnl_version_t *ver = dnnl_version();
  std::string isa;
  switch (get_effective_cpu_isa()) {
  case cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
  case cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
  case cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
  case cpu_isa::avx512_core: isa = "avx512_core"; break;
  case cpu_isa::avx2_vnni: isa = "avx2_vnni"; break;
  case cpu_isa::avx2: isa = "avx2"; break;
  default: isa = "other"; break;
  }
  return "oneDNN " + std::to_string(ver->major) + "." +
         std::to_string(ver->minor) + "." + std::to_string(ver->patch) +
         ", ISA " + isa + ", OpenMP threads";
}

} // namespace attnbench

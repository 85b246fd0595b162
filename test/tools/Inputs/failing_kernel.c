/* A stand-in for a compiled `tiny` (Inputs/tiny.attn) whose kernel reports a
 * failure, so that attn-run's exit code for it can be tested: compiled
 * kernels never fail. */
#include "attnc/kernel_info.h"

static const int64_t x_shape[] = {4, 8};
static const int64_t w_shape[] = {8, 24};
static const int64_t y_shape[] = {4, 8};
static const attn_arg_info args[] = {
    {"x", ATTN_ARG_INPUT, ATTN_DTYPE_F32, 2, 0, x_shape},
    {"w", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 2, 0, w_shape},
    {"y", ATTN_ARG_OUTPUT, ATTN_DTYPE_F32, 2, 0, y_shape},
};
/* -DABI_VERSION=N builds a stand-in from another ABI version instead. */
#ifndef ABI_VERSION
#define ABI_VERSION ATTN_KERNEL_ABI_VERSION
#endif
static const attn_kernel_info info = {ABI_VERSION, 3, "tiny", 4, args};

const attn_kernel_info *tiny_info(void) { return &info; }
int tiny_argv(void **arguments) {
  (void)arguments;
  return 7;
}

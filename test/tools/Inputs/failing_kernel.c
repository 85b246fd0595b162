/* A stand-in for a compiled `tiny` (Inputs/tiny.attn) whose kernel reports a
 * failure, so that attn-run's exit code for it can be tested: compiled
 * kernels never fail. -DABI_VERSION=N and the -DBAD_* macros below build
 * stand-ins with tables attnc never writes, for the runtime's metadata
 * checks. -DHALIDE_MESSAGE=1 reports a message through the runtime's Halide
 * error handler, as a failing Halide pipeline does, before failing;
 * -DHALIDE_MESSAGE=2 reports one on its first call, which succeeds, and
 * fails later calls without one. */
#include "attnc/kernel_info.h"

#ifndef BAD_DIM
#define BAD_DIM 8
#endif
#ifndef BAD_RANK
#define BAD_RANK 2
#endif
#ifndef BAD_ROLE
#define BAD_ROLE ATTN_ARG_PARAM
#endif
#ifndef BAD_NAME
#define BAD_NAME "w"
#endif
#ifndef BAD_COUNT
#define BAD_COUNT 3
#endif
#ifndef BAD_CONTEXT
#define BAD_CONTEXT 4
#endif

static const int64_t x_shape[] = {4, 8};
static const int64_t w_shape[] = {BAD_DIM, 24};
static const int64_t y_shape[] = {4, 8};
static const attn_arg_info args[] = {
    {"x", ATTN_ARG_INPUT, ATTN_DTYPE_F32, 2, 0, x_shape},
    {BAD_NAME, BAD_ROLE, ATTN_DTYPE_F32, BAD_RANK, 0, w_shape},
    {"y", ATTN_ARG_OUTPUT, ATTN_DTYPE_F32, 2, 0, y_shape},
};
/* -DABI_VERSION=N builds a stand-in from another ABI version instead. */
#ifndef ABI_VERSION
#define ABI_VERSION ATTN_KERNEL_ABI_VERSION
#endif
static const attn_kernel_info info = {ABI_VERSION, BAD_COUNT, "tiny",
                                      BAD_CONTEXT, args};

const attn_kernel_info *tiny_info(void) { return &info; }

void attnc_halide_error(void *user_context, const char *text)
    __attribute__((weak));

int tiny_argv(void **arguments) {
  (void)arguments;
#if HALIDE_MESSAGE == 1
  attnc_halide_error(0, "Out of memory (halide_malloc returned nullptr)");
#elif HALIDE_MESSAGE == 2
  static int calls;
  if (calls++ == 0) {
    attnc_halide_error(0, "a message of a call that succeeded");
    return 0;
  }
#endif
  return 7;
}

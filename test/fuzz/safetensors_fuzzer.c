/* libFuzzer target: the runtime's .safetensors reader on arbitrary bytes,
 * checked against a model with two params. Every input must give either a
 * clean ATTN_OK (then every param is readable, of its declared size) or an
 * error with a message; ASan and UBSan catch the rest. */

#include "attnc/weights.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const int64_t x_shape[] = {4, 8};
static const int64_t w_shape[] = {8, 6};
static const int64_t b_shape[] = {6};
static const int64_t y_shape[] = {4, 6};
static const attn_arg_info args[] = {
    {"x", ATTN_ARG_INPUT, ATTN_DTYPE_F32, 2, 0, x_shape},
    {"w", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 2, 0, w_shape},
    {"b", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 1, 0, b_shape},
    {"y", ATTN_ARG_OUTPUT, ATTN_DTYPE_F32, 2, 0, y_shape},
};
static const attn_kernel_info info = {ATTN_KERNEL_ABI_VERSION, 4, "fuzz", 4,
                                      args};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attn_weights *weights = NULL;
  attn_status status = attn_weights_parse(data, size, &info, &weights);
  if (status != ATTN_OK) {
    if (weights || attn_last_error()[0] == '\0')
      __builtin_trap(); /* a failure must say why and return nothing */
    return 0;
  }
  float sum = 0;
  for (int i = 0; i < 4; ++i) {
    if (args[i].role != ATTN_ARG_PARAM)
      continue;
    int64_t count = 0;
    const float *values = attn_weights_get(weights, args[i].name, &count);
    if (!values || count != attn_arg_num_elements(&args[i]))
      __builtin_trap();
    for (int64_t k = 0; k < count; ++k)
      sum += values[k]; /* every byte readable */
  }
  void *bound[4] = {0};
  attn_weights_bind(weights, bound);
  if (!bound[1] || !bound[2] || bound[0] || bound[3])
    __builtin_trap();
  attn_weights_free(weights);
  (void)sum;
  return 0;
}

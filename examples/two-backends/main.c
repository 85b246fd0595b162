/* One application, the same attention block built by both of attnc's
 * backends: gpt2_block through MLIR, gpt2_block_halide (the same text under
 * another model name) through Halide. Both run on the same inputs and must
 * agree.
 *
 *   attnc examples/gpt2_block.attn -o gpt2_block.o
 *   sed 's/^model gpt2_block /model gpt2_block_halide /' \
 *       examples/gpt2_block.attn > gpt2_block_halide.attn
 *   attnc --backend=halide gpt2_block_halide.attn -o gpt2_block_halide.o
 *   attnc --emit=halide-runtime -o halide_runtime.o   (one per application)
 *   cc -I. main.c gpt2_block.o gpt2_block_halide.o halide_runtime.o \
 *       -lm -lpthread -ldl -o app
 *   ./app
 *
 * Linking the attnc runtime as well (libattnc_runtime.a with
 * -Wl,--undefined=attnc_parallel_for -Wl,--undefined=attnc_scratch_alloc
 * -Wl,--undefined=attnc_halide_do_par_for, see docs/embedding.md) puts both
 * on its thread pool; without it the MLIR kernel runs on the calling thread and
 * the Halide one on Halide's own pool. */

#include "gpt2_block.h"
#include "gpt2_block_halide.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static size_t num_elements(const attn_arg_info *arg) {
  size_t n = 1;
  for (int32_t i = 0; i < arg->rank; ++i)
    n *= (size_t)arg->shape[i];
  return n;
}

/* Uniform in [-1, 1), the same sequence on every run. */
static float next_value(unsigned long long *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((double)(*state >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

int main(void) {
  const attn_kernel_info *mlir = gpt2_block_info();
  const attn_kernel_info *halide = gpt2_block_halide_info();
  if (mlir->num_args != halide->num_args) {
    fprintf(stderr, "app: the two builds take different arguments\n");
    return 1;
  }
  void *mlir_args[GPT2_BLOCK_NUM_ARGS], *halide_args[GPT2_BLOCK_NUM_ARGS];
  unsigned long long state = 42;
  for (int32_t a = 0; a < mlir->num_args; ++a) {
    size_t n = num_elements(&mlir->args[a]);
    float *x = malloc(n * sizeof(float));
    float *y = malloc(n * sizeof(float));
    if (!x || !y)
      return 1;
    for (size_t i = 0; i < n; ++i)
      x[i] = y[i] = mlir->args[a].role == ATTN_ARG_OUTPUT ? NAN
                                                         : 0.1f * next_value(&state);
    mlir_args[a] = x;
    halide_args[a] = y;
  }
  if (gpt2_block_argv(mlir_args) != 0 ||
      gpt2_block_halide_argv(halide_args) != 0) {
    fprintf(stderr, "app: a kernel failed\n");
    return 1;
  }
  int status = 0;
  for (int32_t a = 0; a < mlir->num_args; ++a) {
    if (mlir->args[a].role != ATTN_ARG_OUTPUT)
      continue;
    const float *x = mlir_args[a], *y = halide_args[a];
    double diff = 0, scale = 0;
    for (size_t i = 0; i < num_elements(&mlir->args[a]); ++i) {
      diff = fmax(diff, fabs((double)x[i] - y[i]));
      scale = fmax(scale, fabs((double)x[i]));
    }
    /* Each backend is within 1e-4 of the double-precision reference
     * (relative to the output's largest magnitude); so are they of each
     * other, within twice that. */
    int agree = diff <= 2e-4 * scale && scale > 0;
    printf("output %s: largest |mlir| %.3g, largest |mlir - halide| %.3g: %s\n",
           mlir->args[a].name, scale, diff, agree ? "same" : "DIFFERENT");
    status |= !agree;
  }
  return status;
}

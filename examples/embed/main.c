/* Runs gpt2_block, compiled with its weights inside the object, on the
 * tokens in DIR/x.bin and writes DIR/y.bin: an application passes only its
 * inputs and outputs.
 *
 *   embed_app DIR [THREADS]
 *
 * attn-run --model gpt2_block.attn --weights W --write-inputs DIR writes the
 * input; attn-run ... --weights W --check-outputs DIR checks the output
 * against the double-precision reference. */

#include "gpt2_block.h"

#include "attnc/parallel.h"

#include <stdio.h>
#include <stdlib.h>

static int read_or_write(const char *dir, const char *name, float *data,
                         size_t count, int writing) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.bin", dir, name);
  FILE *f = fopen(path, writing ? "wb" : "rb");
  if (!f) {
    fprintf(stderr, "embed_app: cannot open '%s'\n", path);
    return 1;
  }
  size_t done = writing ? fwrite(data, sizeof(float), count, f)
                        : fread(data, sizeof(float), count, f);
  int failed = fclose(f) != 0 || done != count;
  if (failed)
    fprintf(stderr, "embed_app: '%s' should hold %zu floats\n", path, count);
  return failed;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s DIR [THREADS]\n", argv[0]);
    return 2;
  }
  if (argc == 3)
    attn_set_num_threads(atoi(argv[2]));
  float *x = malloc(sizeof(float) * GPT2_BLOCK_X_ELEMENTS);
  float *y = malloc(sizeof(float) * GPT2_BLOCK_Y_ELEMENTS);
  if (!x || !y || read_or_write(argv[1], "x", x, GPT2_BLOCK_X_ELEMENTS, 0))
    return 1;

  /* Only the input and the output: the params are in the object. */
  int rc = gpt2_block(x, y);
  if (rc != 0) {
    fprintf(stderr, "embed_app: gpt2_block returned %d\n", rc);
    return 1;
  }
  double sum = 0;
  for (int i = 0; i < GPT2_BLOCK_Y_ELEMENTS; ++i)
    sum += y[i];
  printf("gpt2_block: %d tokens on %d threads, %d output values, sum %.6f\n",
         GPT2_BLOCK_CONTEXT, attn_num_threads(), GPT2_BLOCK_Y_ELEMENTS, sum);
  rc = read_or_write(argv[1], "y", y, GPT2_BLOCK_Y_ELEMENTS, 1);
  free(x);
  free(y);
  return rc;
}

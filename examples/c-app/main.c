/* A C application that links the object attnc made from gpt2_block.attn.
 *
 *   attnc examples/gpt2_block.attn -o gpt2_block.o     (also writes gpt2_block.h)
 *   cc -std=c11 -I. main.c gpt2_block.o -lm -o app
 *   attn-run --model examples/gpt2_block.attn --write-inputs data
 *   ./app data                      (writes data/y.bin)
 *   attn-run --model examples/gpt2_block.attn --check-outputs data
 *
 * Argument names and shapes come from the kernel's own metadata, so the files
 * it reads are exactly the ones the model declares. */

#include "gpt2_block.h"

#include <stdio.h>
#include <stdlib.h>

static size_t num_elements(const attn_arg_info *arg) {
  size_t n = 1;
  for (int32_t i = 0; i < arg->rank; ++i)
    n *= (size_t)arg->shape[i];
  return n;
}

static int file_io(const char *dir, const attn_arg_info *arg, float *data,
                   int writing) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.bin", dir, arg->name);
  FILE *f = fopen(path, writing ? "wb" : "rb");
  if (!f) {
    fprintf(stderr, "app: cannot open '%s'\n", path);
    return 1;
  }
  size_t n = num_elements(arg);
  size_t done = writing ? fwrite(data, sizeof(float), n, f)
                        : fread(data, sizeof(float), n, f);
  fclose(f);
  if (done != n) {
    fprintf(stderr, "app: '%s' should hold %zu floats\n", path, n);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const attn_kernel_info *info = gpt2_block_info();
  float *buffers[GPT2_BLOCK_NUM_ARGS];
  int rc = 0;
  for (int i = 0; i < info->num_args; ++i) {
    const attn_arg_info *arg = &info->args[i];
    buffers[i] = calloc(num_elements(arg), sizeof(float));
    if (!buffers[i])
      return 1;
    if (arg->role != ATTN_ARG_OUTPUT)
      rc |= file_io(argv[1], arg, buffers[i], 0);
  }
  if (rc)
    return 1;

  /* The typed entry point, argument order as in the header. */
  rc = gpt2_block(buffers[0], buffers[1], buffers[2], buffers[3], buffers[4],
                  buffers[5]);
  if (rc != 0) {
    fprintf(stderr, "app: gpt2_block returned %d\n", rc);
    return 1;
  }
  for (int i = 0; i < info->num_args; ++i) {
    const attn_arg_info *arg = &info->args[i];
    if (arg->role == ATTN_ARG_OUTPUT) {
      rc |= file_io(argv[1], arg, buffers[i], 1);
      printf("%s: wrote %s [%lld, %lld]\n", info->name, arg->name,
             (long long)arg->shape[0], (long long)arg->shape[1]);
    }
    free(buffers[i]);
  }
  return rc;
}

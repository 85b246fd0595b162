/*===- attnc/runtime.h - calling compiled attnc models ------------*- C -*-===*\
 *
 * A thin C API over compiled models: open a model from a shared library, read
 * its metadata and run it with argument checking. No LLVM, MLIR or Halide is
 * linked into applications that use it.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_RUNTIME_H
#define ATTNC_RUNTIME_H

#include "attnc/kernel_info.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attn_status {
  ATTN_OK = 0,
  ATTN_ERROR_INVALID_ARGUMENT = 1, /* a null, missing or mis-sized argument */
  ATTN_ERROR_NOT_FOUND = 2,        /* library or symbol missing */
  ATTN_ERROR_ABI_MISMATCH = 3,     /* kernel built for another ABI version */
  ATTN_ERROR_KERNEL_FAILED = 4     /* the kernel returned non-zero */
} attn_status;

/* A message describing the last failure on this thread ("" if none). */
const char *attn_last_error(void);

typedef struct attn_model attn_model;

/* Opens the model `name` (its NAME_info and NAME_argv symbols) from the
 * shared library at `path`. */
attn_status attn_model_open(const char *path, const char *name,
                            attn_model **out);
void attn_model_close(attn_model *model);
const attn_kernel_info *attn_model_info(const attn_model *model);

/* Number of elements of argument `index` (product of its shape). */
int64_t attn_arg_num_elements(const attn_arg_info *arg);

/* Runs the model on `num_args` buffers in call order. Checks the count and
 * that no pointer is null before calling the kernel. */
attn_status attn_model_run(const attn_model *model, void **args,
                           size_t num_args);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_H */

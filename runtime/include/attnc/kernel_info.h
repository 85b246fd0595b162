/*===- attnc/kernel_info.h - what a compiled kernel declares -----*- C -*-===*\
 *
 * Every model compiled by attnc exports `const attn_kernel_info *NAME_info(void)`
 * describing each argument of `int NAME(...)` in call order, and
 * `int NAME_argv(void **args)` taking the same arguments as an array. Generic
 * callers (attn-run, the Python frontend, the runtime) need nothing else.
 * attnc copies this file into every generated header, so a header compiles on
 * its own; the include guard lets both be included together.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_KERNEL_INFO_H
#define ATTNC_KERNEL_INFO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the layout of the structs below changes. */
#define ATTN_KERNEL_ABI_VERSION 1

typedef enum attn_arg_role {
  ATTN_ARG_INPUT = 0,  /* activations, e.g. the token embeddings */
  ATTN_ARG_PARAM = 1,  /* weights and biases */
  ATTN_ARG_OUTPUT = 2  /* written by the kernel */
} attn_arg_role;

typedef enum attn_dtype {
  ATTN_DTYPE_F32 = 0
} attn_dtype;

/* Bits of attn_arg_info.flags. */
enum {
  /* An output holding the softmax weights of one attention call,
   * [heads, queries, keys] (attnc --emit-attention-probs). */
  ATTN_ARG_FLAG_ATTENTION_PROBS = 1
};

typedef struct attn_arg_info {
  const char *name;     /* as written in the .attn file */
  int32_t role;         /* attn_arg_role */
  int32_t dtype;        /* attn_dtype */
  int32_t rank;
  int32_t flags;        /* ATTN_ARG_FLAG_* bits; 0 for a plain argument */
  const int64_t *shape; /* rank entries, row-major, innermost last */
} attn_arg_info;

typedef struct attn_kernel_info {
  uint32_t abi_version;      /* ATTN_KERNEL_ABI_VERSION */
  int32_t num_args;
  const char *name;          /* the model's name */
  int64_t context;           /* the fixed context size, in tokens */
  const attn_arg_info *args; /* num_args entries, in call order */
} attn_kernel_info;

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_KERNEL_INFO_H */

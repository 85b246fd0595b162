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
#define ATTN_KERNEL_ABI_VERSION 2

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
  ATTN_ARG_FLAG_ATTENTION_PROBS = 1,
  /* In a decode step: an input or output with one row per token (the
   * token's), rather than a tensor passed whole. */
  ATTN_ARG_FLAG_PER_TOKEN = 2
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

/* A model that says `decode` also exports its one-token step:
 *
 *   const attn_decode_info *NAME_decode_info(void);
 *   int NAME_decode_argv(void **args, float **caches, int64_t position);
 *
 * args: the step's inputs, params and outputs in call order, as `args` below
 * lists them (token inputs and outputs have one row); caches: 2 * num_layers
 * pointers, the key then the value cache of each attention layer, each
 * context * cache_widths[layer] floats that the caller keeps between steps
 * (keys [width, context], a column per token; values [kv_heads, context,
 * head_dim], a row per token in each key/value head's block); position: how
 * many tokens came before this one. A model compiled by the MLIR backend
 * also exports the step over chunk_rows tokens at once:
 *
 *   int NAME_chunk_argv(void **args, float **caches, int64_t position,
 *                       int64_t count);
 *
 * args as the step's with chunk_rows rows in each token input and output,
 * of which the first count (1 to chunk_rows) are tokens at position,
 * position + 1, ...; the other rows are ignored. */
typedef struct attn_decode_info {
  uint32_t abi_version;        /* ATTN_KERNEL_ABI_VERSION */
  int32_t num_args;
  const char *name;            /* the model's name; the step is NAME_decode */
  int64_t context;             /* rows of every cache */
  const attn_arg_info *args;   /* num_args entries, in call order */
  int32_t num_layers;          /* attention layers, each with two caches */
  int32_t chunk_rows;          /* rows of NAME_chunk_argv; 0: no chunk */
  const int64_t *cache_widths; /* num_layers entries: kv_heads * head_dim */
  /* The fewest tokens of a prompt in the first context that
   * attn_decoder_prefill sends through NAME_prefill_argv in one call (the
   * whole model, whatever the prompt's length) when it has the chunk;
   * shorter prompts go through the chunk and steps. attnc counts both
   * paths' products per model; context + 1: never. Without a chunk, or if
   * 0, a quarter of the context (whole model against steps). */
  int64_t prefill_from;
} attn_decode_info;

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_KERNEL_INFO_H */

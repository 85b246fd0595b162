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
  ATTN_ERROR_KERNEL_FAILED = 4,    /* the kernel returned non-zero */
  ATTN_ERROR_INVALID_METADATA = 5  /* a model's tables make no sense */
} attn_status;

/* A message describing the last failure on this thread ("" if none). */
const char *attn_last_error(void);

typedef struct attn_model attn_model;

/* Opens the model `name` (its NAME_info and NAME_argv symbols, NAME_info
 * describing model `name`) from the shared library at `path`; a path
 * without a slash names a file in the current directory. A model's decode
 * step is opened through the model: attn_decoder_open. As with dlopen, a
 * path opened before gives the library loaded then, even if the file was
 * replaced since. */
attn_status attn_model_open(const char *path, const char *name,
                            attn_model **out);
void attn_model_close(attn_model *model);
const attn_kernel_info *attn_model_info(const attn_model *model);

/* Number of elements of argument `index` (product of its shape). */
int64_t attn_arg_num_elements(const attn_arg_info *arg);

/* Runs the model on `num_args` buffers in call order. Checks the count, that
 * no pointer is null or misaligned for a float and that no output overlaps
 * another argument before calling the kernel. Several threads may run one
 * model at once, each on its own buffers. */
attn_status attn_model_run(const attn_model *model, void **args,
                           size_t num_args);

/* The decode step of a model that says `decode` (NAME_decode_info), or NULL
 * if it has none. */
const attn_decode_info *attn_model_decode_info(const attn_model *model);

/*--- Decoding: one token at a time over KV caches --------------------------*/

typedef struct attn_decoder attn_decoder;

/* NAME_decode_argv: the step a decoder calls. */
typedef int (*attn_decode_fn)(void **args, float **caches, int64_t position);

/* NAME_prefill_argv: the whole model over `context` tokens from position 0,
 * also storing every token's keys and values in the caches. */
typedef int (*attn_prefill_fn)(void **args, float **caches);

/* NAME_chunk_argv: the step over info->chunk_rows tokens at once, the first
 * `count` of its rows being tokens (kernel_info.h). */
typedef int (*attn_chunk_fn)(void **args, float **caches, int64_t position,
                             int64_t count);

/* A decoder for the decode step of `model` (opened with attn_model_open),
 * which must outlive it. It owns the KV caches of every attention layer
 * (`context` rows each) and the position of the next token, 0 at first: one
 * thread at a time may use a decoder (a sequence is fed in order); decoders
 * of the same model on different threads are independent. */
attn_status attn_decoder_open(const attn_model *model, attn_decoder **out);

/* The same for a step linked into the program:
 * attn_decoder_create(NAME_decode_info(), NAME_decode_argv, &decoder),
 * then attn_decoder_set_prefill(decoder, NAME_prefill_argv) and
 * attn_decoder_set_chunk(decoder, NAME_chunk_argv) (when the info's
 * chunk_rows is not 0) for fast prompts; attn_decoder_open does all three. */
attn_status attn_decoder_create(const attn_decode_info *info,
                                attn_decode_fn step, attn_decoder **out);
attn_status attn_decoder_set_prefill(attn_decoder *decoder,
                                     attn_prefill_fn prefill);
attn_status attn_decoder_set_chunk(attn_decoder *decoder, attn_chunk_fn chunk);
void attn_decoder_free(attn_decoder *decoder);
const attn_decode_info *attn_decoder_info(const attn_decoder *decoder);

/* How many tokens have been fed since creation or the last reset. */
int64_t attn_decoder_position(const attn_decoder *decoder);

/* Forgets every token: the next one is at position 0 again. */
void attn_decoder_reset(attn_decoder *decoder);

/* Feeds one token. `args` are the step's inputs, params and outputs in the
 * order of attn_decoder_info(d)->args; per-token inputs and outputs
 * (ATTN_ARG_FLAG_PER_TOKEN) hold that token's row. The token attends over
 * the cached tokens its masks let it see: the last `context` for causal, the
 * last N for window(N), itself included. */
attn_status attn_decoder_step(attn_decoder *decoder, void **args,
                              size_t num_args);

/* Feeds `tokens` tokens at once (a prompt): each per-token input and output
 * of `args` holds `tokens` rows, one after the other; params are shared.
 * It gives what `tokens` calls of attn_decoder_step give, to rounding: with
 * a prefill set, the prompt's tokens in the first context, if there are
 * at least info->prefill_from of them (where attnc counts the whole model
 * cheaper than chunks and steps), run through one call of the whole model
 * (a 1024-token prompt on the GPT-2 block 4.7-6.6 times faster than a step
 * per token).
 * After earlier tokens that call runs them again in front of the prompt
 * from their rows, which the decoder keeps (`context` rows of each
 * per-token input) and which must have been fed with the same param
 * pointers (else steps, until a reset); a param's contents must not change
 * within a sequence. With a chunk set, the rest goes through it
 * info->chunk_rows tokens per call, the last call too if it has at least
 * half of them (a 512-token prompt after 1024 earlier tokens on the GPT-2
 * block: see docs/abi.md). What is left, a step per token, bit for
 * bit as attn_decoder_step. ATTNC_PREFILL=steps forces the steps. */
attn_status attn_decoder_prefill(attn_decoder *decoder, void **args,
                                 size_t num_args, int64_t tokens);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_H */

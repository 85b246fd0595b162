/*===- decoder.c - feed a model one token at a time ---------------*- C -*-===*\
 *
 * A decoder owns the KV caches of a model's decode step and the position of
 * the next token. The step itself stores each token's keys and values in row
 * position % context of its caches (a ring) and reads the rows its masks
 * let the token see, so the decoder only allocates, counts and checks. A
 * prompt from position 0 may instead go through the whole model at once
 * (NAME_prefill), which stores the keys and values of its `context` rows.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/runtime.h"
#include "checks.h"
#include "error.h"
#include "halide_glue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct attn_decoder {
  const attn_decode_info *info;
  attn_decode_fn step;
  attn_prefill_fn prefill; /* NULL: prompts run a step per token */
  int64_t position;
  float **caches; /* 2 * num_layers: key and value of each layer */
  float *storage; /* every cache, one 64-byte aligned block */
};

attn_status attn_decoder_create(const attn_decode_info *info,
                                attn_decode_fn step, attn_decoder **out) {
  if (!info || !step || !out)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_create: info, step and out must not be null");
  *out = NULL;
  char subject[300];
  snprintf(subject, sizeof subject, "attn_decoder_create: the decode step of '%s'",
           info->name ? info->name : "(null)");
  attn_status status = attn_check_decode_info(subject, info);
  if (status != ATTN_OK)
    return status;
  size_t floats = 0;
  for (int32_t l = 0; l < info->num_layers; ++l)
    floats += 2 * (size_t)info->context * (size_t)info->cache_widths[l];
  attn_decoder *d = calloc(1, sizeof *d);
  if (!d)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  d->info = info;
  d->step = step;
  d->caches = calloc(2 * (size_t)info->num_layers + 1, sizeof(float *));
  size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  d->storage = bytes ? aligned_alloc(64, bytes) : NULL;
  if (!d->caches || (bytes && !d->storage)) {
    attn_decoder_free(d);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "out of memory for the KV caches of '%s' (%zu bytes)",
                     info->name, bytes);
  }
  /* The step never reads a row before writing it; zeros keep stray reads
   * (a bug) deterministic. */
  if (bytes)
    memset(d->storage, 0, bytes);
  float *next = d->storage;
  for (int32_t l = 0; l < info->num_layers; ++l)
    for (int kv = 0; kv < 2; ++kv) {
      d->caches[2 * l + kv] = next;
      next += (size_t)info->context * (size_t)info->cache_widths[l];
    }
  *out = d;
  attn_clear_error();
  return ATTN_OK;
}

attn_status attn_decoder_set_prefill(attn_decoder *d,
                                     attn_prefill_fn prefill) {
  if (!d || !prefill)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_set_prefill: decoder and prefill must not "
                     "be null");
  d->prefill = prefill;
  attn_clear_error();
  return ATTN_OK;
}

void attn_decoder_free(attn_decoder *d) {
  if (!d)
    return;
  free(d->storage);
  free(d->caches);
  free(d);
}

const attn_decode_info *attn_decoder_info(const attn_decoder *d) {
  return d ? d->info : NULL;
}

int64_t attn_decoder_position(const attn_decoder *d) {
  return d ? d->position : 0;
}

void attn_decoder_reset(attn_decoder *d) {
  if (d)
    d->position = 0;
}

/* `tokens` rows in every per-token argument (1 for a step). */
static attn_status check_args(const attn_decoder *d, void **args,
                              size_t num_args, const char *what,
                              int64_t tokens) {
  if (!d)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "%s: decoder must not be null", what);
  const attn_decode_info *info = d->info;
  int64_t *rows = malloc(sizeof(int64_t) * ((size_t)info->num_args + 1));
  if (!rows)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  for (int32_t i = 0; i < info->num_args; ++i)
    rows[i] = info->args[i].flags & ATTN_ARG_FLAG_PER_TOKEN ? tokens : 1;
  char subject[300];
  snprintf(subject, sizeof subject, "the decode step of '%s'", info->name);
  attn_status status = attn_check_run_args(what, subject, info->args,
                                           info->num_args, args, num_args, rows);
  free(rows);
  return status;
}

static attn_status run_step(attn_decoder *d, void **args) {
  attnc_take_halide_error(NULL, 0);
  int rc = d->step(args, d->caches, d->position);
  if (rc != 0) {
    char what[300];
    snprintf(what, sizeof what, "the decode step of '%s' at position %lld",
             d->info->name, (long long)d->position);
    return attnc_kernel_failed(what, rc);
  }
  ++d->position;
  return ATTN_OK;
}

attn_status attn_decoder_step(attn_decoder *d, void **args, size_t num_args) {
  attn_status status = check_args(d, args, num_args, "attn_decoder_step", 1);
  if (status != ATTN_OK)
    return status;
  return run_step(d, args);
}

/* Whether a prompt of `tokens` goes through the whole model: it costs
 * `context` tokens of the model's compute-bound products whatever the
 * prompt, against a step's weight-bound pass per token, which measured 4-5
 * times a token's share of the whole model on the GPT-2 block (context
 * 1024) and 4 times on a block whose weights stay in cache (docs/abi.md). */
static int prefill_whole(const attn_decoder *d, int64_t tokens) {
  if (!d->prefill || d->position != 0 || tokens * 4 < d->info->context)
    return 0;
  const char *mode = getenv("ATTNC_PREFILL");
  return !(mode && strcmp(mode, "steps") == 0);
}

/* The first `n` <= context tokens of a prompt of `tokens` through the whole
 * model: a shorter prompt's token rows are copied into `context`-row
 * buffers, zero past the prompt, and its outputs copied back. */
static attn_status run_whole(attn_decoder *d, void **args, int64_t n) {
  const attn_decode_info *info = d->info;
  const int64_t context = info->context;
  void **whole = calloc((size_t)info->num_args + 1, sizeof(void *));
  float **padded = calloc((size_t)info->num_args + 1, sizeof(float *));
  attn_status status = whole && padded ? ATTN_OK
                                       : attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                                                   "out of memory");
  for (int32_t i = 0; i < info->num_args && status == ATTN_OK; ++i) {
    const attn_arg_info *arg = &info->args[i];
    whole[i] = args[i];
    if (!(arg->flags & ATTN_ARG_FLAG_PER_TOKEN) || n == context)
      continue;
    size_t row = (size_t)attn_arg_num_elements(arg);
    padded[i] = calloc((size_t)context * row, sizeof(float));
    if (!padded[i]) {
      status = attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                         "out of memory for the prefill of '%s' (%lld rows "
                         "of '%s')",
                         info->name, (long long)context, arg->name);
      break;
    }
    if (arg->role != ATTN_ARG_OUTPUT)
      memcpy(padded[i], args[i], (size_t)n * row * sizeof(float));
    whole[i] = padded[i];
  }
  if (status == ATTN_OK) {
    attnc_take_halide_error(NULL, 0);
    int rc = d->prefill(whole, d->caches);
    if (rc != 0) {
      char what[300];
      snprintf(what, sizeof what, "the prefill of '%s' (%lld tokens)",
               info->name, (long long)n);
      status = attnc_kernel_failed(what, rc);
    }
  }
  for (int32_t i = 0; i < info->num_args && status == ATTN_OK; ++i)
    if (padded[i] && info->args[i].role == ATTN_ARG_OUTPUT)
      memcpy(args[i], padded[i],
             (size_t)n * (size_t)attn_arg_num_elements(&info->args[i]) *
                 sizeof(float));
  if (status == ATTN_OK)
    d->position = n;
  for (int32_t i = 0; padded && i < info->num_args; ++i)
    free(padded[i]);
  free(padded);
  free(whole);
  return status;
}

attn_status attn_decoder_prefill(attn_decoder *d, void **args, size_t num_args,
                                 int64_t tokens) {
  if (tokens < 1)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_prefill: tokens must be at least 1, got %lld",
                     (long long)tokens);
  attn_status status =
      check_args(d, args, num_args, "attn_decoder_prefill", tokens);
  if (status != ATTN_OK)
    return status;
  const attn_decode_info *info = d->info;
  int64_t first = 0;
  if (prefill_whole(d, tokens)) {
    first = tokens < info->context ? tokens : info->context;
    status = run_whole(d, args, first);
    if (status != ATTN_OK)
      return status;
  }
  void **row = malloc(sizeof(void *) * ((size_t)info->num_args + 1));
  if (!row)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  for (int64_t t = first; t < tokens && status == ATTN_OK; ++t) {
    for (int32_t i = 0; i < info->num_args; ++i) {
      const attn_arg_info *arg = &info->args[i];
      row[i] = args[i];
      if (arg->flags & ATTN_ARG_FLAG_PER_TOKEN)
        row[i] = (float *)args[i] + t * attn_arg_num_elements(arg);
    }
    status = run_step(d, row);
  }
  free(row);
  return status;
}

/*===- decoder.c - feed a model one token at a time ---------------*- C -*-===*\
 *
 * A decoder owns the KV caches of a model's decode step and the position of
 * the next token. The step itself stores each token's keys and values in row
 * position % context of its caches (a ring) and reads the rows its masks
 * let the token see, so the decoder only allocates, counts and checks.
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
  void **row = malloc(sizeof(void *) * (size_t)info->num_args);
  if (!row)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  status = ATTN_OK;
  for (int64_t t = 0; t < tokens && status == ATTN_OK; ++t) {
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

/*===- decoder.c - feed a model one token at a time ---------------*- C -*-===*\
 *
 * A decoder owns the KV caches of a model's decode step and the position of
 * the next token. The step itself stores each token's keys and values in row
 * position % context of its caches (a ring) and reads the rows its masks
 * let the token see, so the decoder only allocates, counts and checks.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/runtime.h"
#include "error.h"

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
  if (info->abi_version != ATTN_KERNEL_ABI_VERSION)
    return attn_fail(ATTN_ERROR_ABI_MISMATCH,
                     "decode step of '%s' has kernel ABI version %u; this "
                     "runtime reads version %u",
                     info->name, info->abi_version,
                     (unsigned)ATTN_KERNEL_ABI_VERSION);
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
  if (!d || !args)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "%s: decoder and args must not be null", what);
  const attn_decode_info *info = d->info;
  if (num_args != (size_t)info->num_args)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "%s: the decode step of '%s' takes %d arguments, got %zu",
                     what, info->name, info->num_args, num_args);
  for (int32_t i = 0; i < info->num_args; ++i)
    if (!args[i])
      return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                       "%s: argument '%s' (#%d) of the decode step of '%s' "
                       "is null",
                       what, info->args[i].name, i, info->name);
  int64_t rows[256];
  if (info->num_args > 256)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "%s: %d arguments are more than the runtime checks",
                     what, info->num_args);
  for (int32_t i = 0; i < info->num_args; ++i)
    rows[i] = info->args[i].flags & ATTN_ARG_FLAG_PER_TOKEN ? tokens : 1;
  return attn_check_outputs_disjoint(what, info->name, info->args,
                                     info->num_args, args, rows);
}

static attn_status run_step(attn_decoder *d, void **args) {
  int rc = d->step(args, d->caches, d->position);
  if (rc != 0)
    return attn_fail(ATTN_ERROR_KERNEL_FAILED,
                     "the decode step of '%s' returned %d at position %lld",
                     d->info->name, rc, (long long)d->position);
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

/*===- decoder.c - feed a model one token at a time ---------------*- C -*-===*\
 *
 * A decoder owns the KV caches of a model's decode step and the position of
 * the next token. The step itself stores each token's keys and values in row
 * position % context of its caches (a ring) and reads the rows its masks
 * let the token see, so the decoder only allocates, counts and checks. A
 * long prompt may instead go through the whole model at once (NAME_prefill),
 * which stores the keys and values of its `context` rows: from position 0,
 * or after earlier tokens of the first context, whose input rows the
 * decoder keeps so the call can run them again in front of the prompt.
 * The rest of a prompt may go through the step over several tokens at once
 * (NAME_chunk), which attends over the caches like the step.
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
  attn_chunk_fn chunk;     /* NULL: no chunks either */
  int64_t position;
  float **caches; /* 2 * num_layers: key and value of each layer */
  float *storage; /* every cache, one 64-byte aligned block */
  /* With a prefill: per argument, `context` rows holding each per-token
   * input's rows fed at positions 0 to context - 1 (NULL for the other
   * arguments), and the params those tokens were fed with. */
  float **history;
  void **history_params;
  /* Entries of history, so that freeing reads nothing of `info`, which
   * goes with the library of a model closed first. */
  int32_t history_size;
  int history_stale; /* fed with other params: no rerun until a reset */
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

static void free_history(attn_decoder *d) {
  for (int32_t i = 0; d->history && i < d->history_size; ++i)
    free(d->history[i]);
  free(d->history);
  free(d->history_params);
  d->history = NULL;
  d->history_params = NULL;
}

/* Room for the rows a prefill runs again: `context` rows of each per-token
 * input, zero (the rows past a prompt are the call's padding). */
static attn_status keep_history(attn_decoder *d) {
  const attn_decode_info *info = d->info;
  d->history = calloc((size_t)info->num_args + 1, sizeof(float *));
  d->history_size = info->num_args;
  d->history_params = calloc((size_t)info->num_args + 1, sizeof(void *));
  if (!d->history || !d->history_params) {
    free_history(d);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  }
  for (int32_t i = 0; i < info->num_args; ++i) {
    const attn_arg_info *arg = &info->args[i];
    if (arg->role != ATTN_ARG_INPUT || !(arg->flags & ATTN_ARG_FLAG_PER_TOKEN))
      continue;
    d->history[i] =
        calloc((size_t)info->context * (size_t)attn_arg_num_elements(arg),
               sizeof(float));
    if (!d->history[i]) {
      free_history(d);
      return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                       "out of memory for the prompt rows of '%s' (%lld rows "
                       "of '%s')",
                       info->name, (long long)info->context, arg->name);
    }
  }
  /* The tokens fed so far were not kept. */
  d->history_stale = d->position > 0;
  return ATTN_OK;
}

attn_status attn_decoder_set_prefill(attn_decoder *d,
                                     attn_prefill_fn prefill) {
  if (!d || !prefill)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_set_prefill: decoder and prefill must not "
                     "be null");
  if (!d->history) {
    attn_status status = keep_history(d);
    if (status != ATTN_OK)
      return status;
  }
  d->prefill = prefill;
  attn_clear_error();
  return ATTN_OK;
}

attn_status attn_decoder_set_chunk(attn_decoder *d, attn_chunk_fn chunk) {
  if (!d || !chunk)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_set_chunk: decoder and chunk must not be "
                     "null");
  if (d->info->chunk_rows < 1)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_set_chunk: the decode step of '%s' has no "
                     "chunk (its info's chunk_rows is 0)",
                     d->info->name);
  d->chunk = chunk;
  attn_clear_error();
  return ATTN_OK;
}

void attn_decoder_free(attn_decoder *d) {
  if (!d)
    return;
  free_history(d);
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
  if (d) {
    d->position = 0;
    d->history_stale = 0;
  }
}

/* Keeps the per-token input rows of `tokens` tokens fed at the current
 * position while they lie in the first context, and notes params other
 * than those of the earlier tokens. */
static void remember(attn_decoder *d, void **args, int64_t tokens) {
  const attn_decode_info *info = d->info;
  if (!d->history || d->position >= info->context)
    return;
  if (tokens > info->context - d->position)
    tokens = info->context - d->position;
  for (int32_t i = 0; i < info->num_args; ++i) {
    const attn_arg_info *arg = &info->args[i];
    if (d->history[i]) {
      size_t row = (size_t)attn_arg_num_elements(arg);
      memcpy(d->history[i] + (size_t)d->position * row, args[i],
             (size_t)tokens * row * sizeof(float));
    } else if (arg->role != ATTN_ARG_OUTPUT) {
      if (d->position == 0)
        d->history_params[i] = args[i];
      else if (d->history_params[i] != args[i])
        d->history_stale = 1;
    }
  }
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
  remember(d, args, 1);
  ++d->position;
  return ATTN_OK;
}

attn_status attn_decoder_step(attn_decoder *d, void **args, size_t num_args) {
  attn_status status = check_args(d, args, num_args, "attn_decoder_step", 1);
  if (status != ATTN_OK)
    return status;
  return run_step(d, args);
}

/* Whether `args` holds params other than those the kept rows were fed with. */
static int other_params(const attn_decoder *d, void **args) {
  if (d->history_stale)
    return 1;
  for (int32_t i = 0; i < d->info->num_args; ++i)
    if (!d->history[i] && d->info->args[i].role != ATTN_ARG_OUTPUT &&
        d->history_params[i] != args[i])
      return 1;
  return 0;
}

/* Whether ATTNC_PREFILL=steps asks for a step per token. */
static int steps_forced(void) {
  const char *mode = getenv("ATTNC_PREFILL");
  return mode && strcmp(mode, "steps") == 0;
}

/* How many of a prompt's `tokens` go through the whole model in one call
 * (0: chunks and steps). The call costs `context` tokens of the model's
 * products whatever the prompt, so the prompt's tokens in the first context
 * go through it if there are at least the info's prefill_from, where attnc
 * counts it cheaper than chunks and steps; without a chunk set (or with a
 * prefill_from of 0), a quarter of the context, where the whole model and
 * a step per token measured about even on the GPT-2 block and on a block
 * whose weights stay in cache (docs/abi.md). After earlier tokens the call
 * runs their kept rows again in front of the prompt, which gives their keys
 * and values again only if they were fed with the same params. */
static int64_t whole_tokens(const attn_decoder *d, void **args,
                            int64_t tokens) {
  const int64_t context = d->info->context;
  if (!d->prefill || d->position >= context)
    return 0;
  int64_t n = tokens < context - d->position ? tokens : context - d->position;
  int64_t from = d->info->prefill_from;
  if (!d->chunk || from == 0)
    from = (context + 3) / 4;
  if (n < from || (d->position > 0 && other_params(d, args)) ||
      steps_forced())
    return 0;
  return n;
}

/* The first `n` tokens of a prompt through the whole model, behind the kept
 * rows of the `p` earlier ones: the token inputs are the kept rows with the
 * prompt's after them and zeros after that; outputs go to buffers of
 * `context` rows and rows p to p + n - 1 are copied back. */
static attn_status run_whole(attn_decoder *d, void **args, int64_t n) {
  const attn_decode_info *info = d->info;
  const int64_t context = info->context, p = d->position;
  void **whole = calloc((size_t)info->num_args + 1, sizeof(void *));
  float **padded = calloc((size_t)info->num_args + 1, sizeof(float *));
  attn_status status = whole && padded ? ATTN_OK
                                       : attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                                                   "out of memory");
  if (status == ATTN_OK)
    remember(d, args, n);
  for (int32_t i = 0; i < info->num_args && status == ATTN_OK; ++i) {
    const attn_arg_info *arg = &info->args[i];
    size_t row = (size_t)attn_arg_num_elements(arg);
    whole[i] = args[i];
    if (d->history[i]) {
      memset(d->history[i] + (size_t)(p + n) * row, 0,
             (size_t)(context - p - n) * row * sizeof(float));
      whole[i] = d->history[i];
    }
    if (arg->role != ATTN_ARG_OUTPUT || !(arg->flags & ATTN_ARG_FLAG_PER_TOKEN) ||
        (p == 0 && n == context))
      continue;
    padded[i] = malloc((size_t)context * row * sizeof(float));
    if (!padded[i]) {
      status = attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                         "out of memory for the prefill of '%s' (%lld rows "
                         "of '%s')",
                         info->name, (long long)context, arg->name);
      break;
    }
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
    if (padded[i]) {
      size_t row = (size_t)attn_arg_num_elements(&info->args[i]);
      memcpy(args[i], padded[i] + (size_t)p * row,
             (size_t)n * row * sizeof(float));
    }
  if (status == ATTN_OK)
    d->position = p + n;
  for (int32_t i = 0; padded && i < info->num_args; ++i)
    free(padded[i]);
  free(padded);
  free(whole);
  return status;
}

/* How many of the `tokens` left of a prompt the next chunk call takes (0:
 * steps). A call costs its chunk_rows tokens' products whatever `count`,
 * against a step's pass over every weight per token: a call of half its
 * rows or more, about where the two cost the same with the weights in
 * cache between steps (docs/abi.md). */
static int64_t chunk_tokens(const attn_decoder *d, int64_t tokens) {
  const int64_t rows = d->info->chunk_rows;
  if (!d->chunk || rows < 1 || steps_forced())
    return 0;
  int64_t n = tokens < rows ? tokens : rows;
  return n * 2 >= rows ? n : 0;
}

/* Tokens `t` to `t + n - 1` of a prompt through one chunk call: `args`'
 * rows of them, or, for n < chunk_rows, copies with zeros after the
 * inputs' n rows, the outputs' n rows copied back. */
static attn_status run_chunk(attn_decoder *d, void **args, int64_t t,
                             int64_t n) {
  const attn_decode_info *info = d->info;
  const int64_t rows = info->chunk_rows;
  void **call = calloc((size_t)info->num_args + 1, sizeof(void *));
  float **padded = calloc((size_t)info->num_args + 1, sizeof(float *));
  attn_status status = call && padded ? ATTN_OK
                                      : attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                                                  "out of memory");
  for (int32_t i = 0; i < info->num_args && status == ATTN_OK; ++i) {
    const attn_arg_info *arg = &info->args[i];
    call[i] = args[i];
    if (!(arg->flags & ATTN_ARG_FLAG_PER_TOKEN))
      continue;
    size_t row = (size_t)attn_arg_num_elements(arg);
    float *first = (float *)args[i] + (size_t)t * row;
    call[i] = first;
    if (n == rows)
      continue;
    padded[i] = calloc((size_t)rows * row, sizeof(float));
    if (!padded[i]) {
      status = attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                         "out of memory for a chunk of '%s' (%lld rows of "
                         "'%s')",
                         info->name, (long long)rows, arg->name);
      break;
    }
    if (arg->role == ATTN_ARG_INPUT)
      memcpy(padded[i], first, (size_t)n * row * sizeof(float));
    call[i] = padded[i];
  }
  if (status == ATTN_OK) {
    attnc_take_halide_error(NULL, 0);
    int rc = d->chunk(call, d->caches, d->position, n);
    if (rc != 0) {
      char what[300];
      snprintf(what, sizeof what,
               "the chunk of '%s' at position %lld (%lld tokens)", info->name,
               (long long)d->position, (long long)n);
      status = attnc_kernel_failed(what, rc);
    }
  }
  if (status == ATTN_OK) {
    for (int32_t i = 0; i < info->num_args; ++i)
      if (padded[i] && info->args[i].role == ATTN_ARG_OUTPUT) {
        size_t row = (size_t)attn_arg_num_elements(&info->args[i]);
        memcpy((float *)args[i] + (size_t)t * row, padded[i],
               (size_t)n * row * sizeof(float));
      }
    remember(d, call, n);
    d->position += n;
  }
  for (int32_t i = 0; padded && i < info->num_args; ++i)
    free(padded[i]);
  free(padded);
  free(call);
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
  int64_t first = whole_tokens(d, args, tokens);
  if (first > 0) {
    status = run_whole(d, args, first);
    if (status != ATTN_OK)
      return status;
  }
  int64_t t = first, n;
  while (status == ATTN_OK && (n = chunk_tokens(d, tokens - t)) > 0) {
    status = run_chunk(d, args, t, n);
    t += n;
  }
  if (status != ATTN_OK)
    return status;
  void **row = malloc(sizeof(void *) * ((size_t)info->num_args + 1));
  if (!row)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  for (; t < tokens && status == ATTN_OK; ++t) {
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

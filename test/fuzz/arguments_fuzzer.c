/* libFuzzer target: the runtime's checks of kernel metadata (the tables a
 * compiled library exports) and of the buffers a caller passes, on tables
 * and argument arrays made from arbitrary bytes.
 *
 * A table the checks accept must be safe to size buffers from; arguments
 * they accept are handed to a stand-in kernel that reads every input and
 * param element and writes every output element, as a compiled one would.
 * All buffers live in one pool, and a shadow of the pool records which
 * argument touched each float: an output sharing a float with any other
 * argument means the checks let an overlap through, and the target traps.
 * The decoder (attn_decoder_create, _step, _prefill) gets the same
 * treatment with a stand-in decode step. */

#include "attnc/runtime.h"
#include "checks.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 6
#define MAX_POOL (1 << 14) /* floats */

typedef struct {
  const uint8_t *data;
  size_t size;
} bytes;

static uint8_t take8(bytes *in) {
  if (!in->size)
    return 0;
  uint8_t v = *in->data;
  ++in->data;
  --in->size;
  return v;
}

/* Mostly small sizes, sometimes zero, negative or enormous ones. */
static int64_t take_dim(bytes *in) {
  uint8_t kind = take8(in);
  switch (kind % 16) {
  case 0: return 0;
  case 1: return -(int64_t)take8(in);
  case 2: return (int64_t)((uint64_t)1 << (take8(in) % 64));
  case 3: return INT64_MAX - take8(in);
  default: return 1 + kind % 9;
  }
}

static const char *const names[MAX_ARGS] = {"a", "b", "c", "d", "e", "f"};

/* Fills `args` from the input; returns the count (possibly out of range). */
static int32_t make_table(bytes *in, attn_arg_info *args,
                          int64_t shapes[MAX_ARGS][ATTN_MAX_RANK + 2]) {
  uint8_t count = take8(in);
  int32_t n = count % (MAX_ARGS + 1);
  if (count == 255)
    n = -1;
  for (int32_t i = 0; i < MAX_ARGS; ++i) {
    attn_arg_info *arg = &args[i];
    uint8_t bits = take8(in);
    arg->name = (bits & 0x80) && !(bits & 0x40) ? NULL : names[i];
    arg->role = bits % 3;
    if ((bits & 0xc0) == 0xc0)
      arg->role = (int8_t)take8(in);
    arg->dtype = (bits & 0x20) ? (int8_t)take8(in) % 2 : ATTN_DTYPE_F32;
    arg->flags = (bits & 0x10) ? ATTN_ARG_FLAG_PER_TOKEN : 0;
    arg->rank = (int8_t)take8(in) % (ATTN_MAX_RANK + 3);
    arg->shape = (bits & 0x08) && arg->rank > 0 ? NULL : shapes[i];
    for (int32_t d = 0; d < ATTN_MAX_RANK + 2; ++d)
      shapes[i][d] = take_dim(in);
  }
  return n;
}

/* Who touched each float of the pool: -1 nobody, an argument index for a
 * read (the first reader's), 1000 + the index for a write. */
static int32_t owner[MAX_POOL];

static void touch(float *pool, const float *p, int64_t count, int32_t arg,
                  int write) {
  int64_t first = p - pool;
  for (int64_t k = 0; k < count; ++k) {
    int32_t *o = &owner[first + k];
    int32_t toucher = *o >= 1000 ? *o - 1000 : *o;
    /* An output sharing a float with another argument, either way round
     * (the same argument may come back to it: a prefill writes an output
     * that is not per token at every step). */
    if (*o != -1 && toucher != arg && (write || *o >= 1000))
      __builtin_trap();
    if (write)
      *o = 1000 + arg; /* marks a written float */
    else if (*o == -1)
      *o = arg;
  }
}

static float *pool;
static const attn_arg_info *run_table;
static int32_t run_count;

/* A kernel: read inputs and params, then write outputs, like the real ones. */
static void stand_in_kernel(void **args, int64_t rows) {
  for (int pass = 0; pass < 2; ++pass)
    for (int32_t i = 0; i < run_count; ++i) {
      const attn_arg_info *arg = &run_table[i];
      int write = arg->role == ATTN_ARG_OUTPUT;
      if (write != pass)
        continue;
      int64_t count = attn_arg_num_elements(arg) *
                      (arg->flags & ATTN_ARG_FLAG_PER_TOKEN ? rows : 1);
      float *p = args[i];
      /* A chunk's padded rows are the decoder's own buffers, outside the
       * pool (ASan checks those writes). */
      if (p >= pool && p < pool + MAX_POOL)
        touch(pool, p, count, i, write);
      for (int64_t k = 0; k < count; ++k)
        if (write)
          p[k] = 1.0f;
    }
}

static int argv_entry(void **args) {
  stand_in_kernel(args, 1);
  return 0;
}

static int decode_entry(void **args, float **caches, int64_t position) {
  (void)caches;
  (void)position;
  stand_in_kernel(args, 1);
  return 0;
}

static int64_t run_chunk_rows;

static int chunk_entry(void **args, float **caches, int64_t position,
                       int64_t count) {
  (void)caches;
  (void)position;
  if (count < 1 || count > run_chunk_rows)
    __builtin_trap();
  stand_in_kernel(args, run_chunk_rows);
  return 0;
}

/* Places each argument in the pool (or at NULL, or misaligned) as the input
 * says; returns 0 if the table is too big for the pool. */
static int place_args(bytes *in, const attn_arg_info *table, int32_t n,
                      int64_t rows, void **args) {
  int64_t total = 0;
  for (int32_t i = 0; i < n; ++i) {
    int64_t count = attn_arg_num_elements(&table[i]);
    if (count > MAX_POOL / 4)
      return 0;
    total += count * (table[i].flags & ATTN_ARG_FLAG_PER_TOKEN ? rows : 1);
  }
  if (total > MAX_POOL / 2)
    return 0;
  int64_t next = 0;
  for (int32_t i = 0; i < n; ++i) {
    int64_t count = attn_arg_num_elements(&table[i]) *
                    (table[i].flags & ATTN_ARG_FLAG_PER_TOKEN ? rows : 1);
    uint8_t how = take8(in);
    int64_t at = next;
    if (how % 8 == 6) /* somewhere else in the pool, maybe overlapping */
      at = take8(in) % (MAX_POOL - count + 1);
    next += count;
    args[i] = pool + at;
    if (how % 8 == 7)
      args[i] = NULL;
    if (how == 0xff)
      args[i] = (char *)(pool + at) + 1 + take8(in) % 3;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bytes in = {data, size};
  if (!pool)
    pool = malloc(sizeof(float) * MAX_POOL + 4);
  attn_arg_info table[MAX_ARGS];
  int64_t shapes[MAX_ARGS][ATTN_MAX_RANK + 2];
  uint8_t mode = take8(&in);
  int32_t n = make_table(&in, table, shapes);
  int64_t context = take_dim(&in);
  void *args[MAX_ARGS + 1];

  if (mode % 2 == 0) {
    attn_kernel_info info = {ATTN_KERNEL_ABI_VERSION, n, "fuzz", context,
                             table};
    if (mode & 2)
      info.abi_version = take8(&in);
    if (attn_check_kernel_info("fuzz", &info) != ATTN_OK) {
      if (!attn_last_error()[0])
        __builtin_trap();
      return 0;
    }
    if (!place_args(&in, table, n, 1, args))
      return 0;
    size_t passed = (size_t)n + (mode & 4 ? 1 : 0);
    memset(owner, 0xff, sizeof owner);
    run_table = table;
    run_count = n;
    if (attn_check_run_args("fuzz", "model 'fuzz'", table, n, args, passed,
                            NULL) != ATTN_OK) {
      if (!attn_last_error()[0])
        __builtin_trap();
      return 0;
    }
    if (passed != (size_t)n)
      __builtin_trap();
    argv_entry(args);
    return 0;
  }

  int64_t widths[3] = {take_dim(&in), take_dim(&in), take_dim(&in)};
  attn_decode_info info = {ATTN_KERNEL_ABI_VERSION, n, "fuzz", context, table,
                           (int8_t)take8(&in) % 4, (int8_t)take8(&in) % 4,
                           widths, (int8_t)take8(&in) % 8};
  if (mode & 2)
    info.cache_widths = NULL;
  /* Tables the checks accept may still ask for caches of up to 2^62 bytes,
   * which the decoder would try to allocate (and report if it cannot); keep
   * the fuzzer's memory small. */
  if (attn_check_decode_info("fuzz", &info) == ATTN_OK) {
    int64_t floats = 0;
    for (int32_t l = 0; l < info.num_layers; ++l)
      floats += 2 * info.context * info.cache_widths[l];
    if (floats > MAX_POOL)
      return 0;
  }
  attn_decoder *decoder = NULL;
  if (attn_decoder_create(&info, decode_entry, &decoder) != ATTN_OK) {
    if (decoder || !attn_last_error()[0])
      __builtin_trap();
    return 0;
  }
  run_chunk_rows = info.chunk_rows;
  if (info.chunk_rows > 0 &&
      (attn_decoder_set_chunk(decoder, chunk_entry) != ATTN_OK ||
       attn_last_error()[0]))
    __builtin_trap();
  int64_t tokens = 1 + take8(&in) % 3;
  if (place_args(&in, table, n, tokens, args)) {
    memset(owner, 0xff, sizeof owner);
    run_table = table;
    run_count = n;
    attn_status status =
        mode & 4 ? attn_decoder_prefill(decoder, args, (size_t)n, tokens)
                 : attn_decoder_step(decoder, args, (size_t)n);
    if (status != ATTN_OK && !attn_last_error()[0])
      __builtin_trap();
  }
  attn_decoder_free(decoder);
  return 0;
}

/*===- checks.c - metadata and argument checks --------------------*- C -*-===*\
 *
 * Metadata comes out of a library the runtime did not build (a stale,
 * corrupted or hand-written one is a user error, not a reason to crash), and
 * arguments come from the caller: both are checked here before any size is
 * computed from them or any kernel is called.
 *
\*===----------------------------------------------------------------------===*/

#include "checks.h"
#include "error.h"

#include <stdalign.h>
#include <stdint.h>

/* Sizes past 2^62 bytes cannot be allocated anywhere and would overflow the
 * int64_t arithmetic that follows. */
#define ATTN_MAX_BYTES ((int64_t)1 << 62)

static attn_status check_args_info(const char *subject,
                                   const attn_arg_info *args, int32_t num_args) {
  if (num_args < 0 || num_args > ATTN_MAX_ARGS)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s declares %d arguments; the runtime accepts 0 to %d",
                     subject, num_args, ATTN_MAX_ARGS);
  if (num_args > 0 && !args)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s declares %d arguments but no table of them", subject,
                     num_args);
  for (int32_t i = 0; i < num_args; ++i) {
    const attn_arg_info *arg = &args[i];
    if (!arg->name || !arg->name[0])
      return attn_fail(ATTN_ERROR_INVALID_METADATA,
                       "%s: argument #%d has no name", subject, i);
    if (arg->role < ATTN_ARG_INPUT || arg->role > ATTN_ARG_OUTPUT)
      return attn_fail(ATTN_ERROR_INVALID_METADATA,
                       "%s: argument '%s' (#%d) has role %d; known roles are "
                       "0 (input), 1 (param), 2 (output)",
                       subject, arg->name, i, arg->role);
    if (arg->dtype != ATTN_DTYPE_F32)
      return attn_fail(ATTN_ERROR_INVALID_METADATA,
                       "%s: argument '%s' (#%d) has dtype %d; this runtime "
                       "knows 0 (f32)",
                       subject, arg->name, i, arg->dtype);
    if (arg->rank < 0 || arg->rank > ATTN_MAX_RANK || (arg->rank && !arg->shape))
      return attn_fail(ATTN_ERROR_INVALID_METADATA,
                       "%s: argument '%s' (#%d) has rank %d%s; ranks go from "
                       "0 to %d",
                       subject, arg->name, i, arg->rank,
                       arg->rank > 0 && !arg->shape ? " and no shape" : "",
                       ATTN_MAX_RANK);
    int64_t bytes = (int64_t)sizeof(float);
    for (int32_t d = 0; d < arg->rank; ++d) {
      int64_t dim = arg->shape[d];
      if (dim < 1 || dim > ATTN_MAX_BYTES / bytes)
        return attn_fail(ATTN_ERROR_INVALID_METADATA,
                         "%s: argument '%s' (#%d) has dimension %d of size "
                         "%lld; sizes go from 1 and the buffer must stay under "
                         "2^62 bytes",
                         subject, arg->name, i, d, (long long)dim);
      bytes *= dim;
    }
  }
  return ATTN_OK;
}

/* What kernel and decode tables share: the ABI version first (a table of
 * another version may lay out the rest differently), a name, a context. */
static attn_status check_header(const char *subject, uint32_t abi_version,
                                const char *name, int64_t context) {
  if (abi_version != ATTN_KERNEL_ABI_VERSION)
    return attn_fail(ATTN_ERROR_ABI_MISMATCH,
                     "%s has kernel ABI version %u; this runtime reads "
                     "version %u",
                     subject, abi_version, (unsigned)ATTN_KERNEL_ABI_VERSION);
  if (!name || !name[0])
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s has no model name in its metadata", subject);
  if (context < 1)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s has context %lld; it must be at least 1", subject,
                     (long long)context);
  return ATTN_OK;
}

attn_status attn_check_kernel_info(const char *subject,
                                   const attn_kernel_info *info) {
  if (!info)
    return attn_fail(ATTN_ERROR_INVALID_METADATA, "%s has no kernel info",
                     subject);
  attn_status status =
      check_header(subject, info->abi_version, info->name, info->context);
  if (status != ATTN_OK)
    return status;
  return check_args_info(subject, info->args, info->num_args);
}

attn_status attn_check_decode_info(const char *subject,
                                   const attn_decode_info *info) {
  if (!info)
    return attn_fail(ATTN_ERROR_INVALID_METADATA, "%s has no decode info",
                     subject);
  attn_status status =
      check_header(subject, info->abi_version, info->name, info->context);
  if (status != ATTN_OK)
    return status;
  if (info->context > ATTN_MAX_BYTES / 8)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s has context %lld; its caches must stay under 2^62 "
                     "bytes",
                     subject, (long long)info->context);
  if (info->num_layers < 0 || info->num_layers > ATTN_MAX_ARGS ||
      (info->num_layers > 0 && !info->cache_widths))
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s declares %d layers%s; the runtime accepts 0 to %d",
                     subject, info->num_layers,
                     info->num_layers > 0 && !info->cache_widths
                         ? " but no cache widths"
                         : "",
                     ATTN_MAX_ARGS);
  if (info->chunk_rows < 0 || info->chunk_rows > info->context)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s declares chunks of %d rows; 0 (none) to its context "
                     "of %lld",
                     subject, info->chunk_rows, (long long)info->context);
  if (info->prefill_from < 0 || info->prefill_from > info->context + 1)
    return attn_fail(ATTN_ERROR_INVALID_METADATA,
                     "%s sends prompts of %lld tokens on through its whole "
                     "model; 0 (a quarter of the context) to %lld (never)",
                     subject, (long long)info->prefill_from,
                     (long long)info->context + 1);
  /* Two caches per layer, context * width floats each, in one block. */
  int64_t remaining =
      ATTN_MAX_BYTES / (2 * (int64_t)sizeof(float)) / info->context;
  for (int32_t l = 0; l < info->num_layers; ++l) {
    int64_t width = info->cache_widths[l];
    if (width < 1 || width > remaining)
      return attn_fail(ATTN_ERROR_INVALID_METADATA,
                       "%s: layer %d has cache width %lld; widths go from 1 "
                       "and all caches must stay under 2^62 bytes",
                       subject, l, (long long)width);
    remaining -= width;
  }
  return check_args_info(subject, info->args, info->num_args);
}

/* Fails, naming both, if an output's buffer overlaps another argument's. */
static attn_status check_outputs_disjoint(const char *what, const char *subject,
                                          const attn_arg_info *info, int32_t n,
                                          void **args, const int64_t *rows) {
  for (int32_t i = 0; i < n; ++i) {
    if (info[i].role != ATTN_ARG_OUTPUT)
      continue;
    uintptr_t begin = (uintptr_t)args[i];
    uintptr_t end = begin + (uintptr_t)(attn_arg_num_elements(&info[i]) *
                                        (rows ? rows[i] : 1) * sizeof(float));
    for (int32_t j = 0; j < n; ++j) {
      if (j == i)
        continue;
      uintptr_t other = (uintptr_t)args[j];
      uintptr_t otherEnd =
          other + (uintptr_t)(attn_arg_num_elements(&info[j]) *
                              (rows ? rows[j] : 1) * sizeof(float));
      if (begin < otherEnd && other < end)
        return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                         "%s: output '%s' (#%d) of %s overlaps argument '%s' "
                         "(#%d); outputs need buffers of their own",
                         what, info[i].name, i, subject, info[j].name, j);
    }
  }
  return ATTN_OK;
}

attn_status attn_check_run_args(const char *what, const char *subject,
                                const attn_arg_info *info, int32_t n,
                                void **args, size_t num_args,
                                const int64_t *rows) {
  if (!args)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "%s: args must not be null",
                     what);
  if (num_args != (size_t)n)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "%s: %s takes %d arguments, got %zu", what, subject, n,
                     num_args);
  for (int32_t i = 0; i < n; ++i) {
    if (!args[i])
      return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                       "%s: argument '%s' (#%d) of %s is null", what,
                       info[i].name, i, subject);
    /* Kernels load and store whole floats (and vectors of them). */
    if ((uintptr_t)args[i] % alignof(float) != 0)
      return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                       "%s: argument '%s' (#%d) of %s is at %p, not aligned "
                       "to %zu bytes (a float)",
                       what, info[i].name, i, subject, args[i],
                       alignof(float));
  }
  return check_outputs_disjoint(what, subject, info, n, args, rows);
}

/*===- checks.h - metadata and argument checks (internal) ---------*- C -*-===*/

#ifndef ATTNC_RUNTIME_CHECKS_H
#define ATTNC_RUNTIME_CHECKS_H

#include "attnc/runtime.h"

/* Bounds on metadata the runtime accepts; a compiled model stays far below. */
#define ATTN_MAX_ARGS 4096
#define ATTN_MAX_RANK 8

/* Each fails with ATTN_ERROR_INVALID_METADATA (or ATTN_ERROR_ABI_MISMATCH)
 * naming the field when the table is not one attnc could have written:
 * counts out of range, missing names or shapes, unknown roles or dtypes,
 * sizes below 1 or past 2^62 bytes. Once a table passes, sizes computed from
 * it (attn_arg_num_elements, cache bytes) cannot overflow. `subject` names
 * the table's owner in messages, e.g. "model 'tiny' in 'tiny.so'". */
attn_status attn_check_kernel_info(const char *subject,
                                   const attn_kernel_info *info);
attn_status attn_check_decode_info(const char *subject,
                                   const attn_decode_info *info);

/* Checks the arguments of one call to a kernel with the (checked) argument
 * table `info` of `n` entries: the count, that no pointer is null or
 * misaligned for a float, and that no output overlaps another argument
 * (args[i] holds rows[i] times the elements of its shape; rows NULL means
 * 1 each). `subject` names the callee in messages, e.g. "model 'tiny'". */
attn_status attn_check_run_args(const char *what, const char *subject,
                                const attn_arg_info *info, int32_t n,
                                void **args, size_t num_args,
                                const int64_t *rows);

#endif /* ATTNC_RUNTIME_CHECKS_H */

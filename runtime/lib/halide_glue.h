/*===- halide_glue.h - Halide-built kernels' hooks (internal) -----*- C -*-===*/

#ifndef ATTNC_RUNTIME_HALIDE_GLUE_H
#define ATTNC_RUNTIME_HALIDE_GLUE_H

#include "attnc/runtime.h"

#include <stddef.h>

/* Halide's error handler (halide_error_handler_t) for Halide-built kernels:
 * keeps the message for the run that failed. */
void attnc_halide_error(void *user_context, const char *message);

/* Halide's allocator (halide_malloc_t, halide_free_t) for Halide-built
 * kernels: the scratch allocator's blocks, padded for Halide's reads. */
void *attnc_halide_malloc(void *user_context, size_t size);
void attnc_halide_free(void *user_context, void *buffer);

/* Moves this thread's last Halide error message (else the last one raised on
 * a pool worker) into buffer; 0 if there was none. With a NULL buffer the
 * message is dropped: a call does so first, so that a failure reports no
 * message left over from an earlier one. */
int attnc_take_halide_error(char *buffer, size_t size);

/* The status of a kernel call that returned `rc` (not 0): "<what> returned
 * <rc>", then the Halide message the call raised, if there is one. */
attn_status attnc_kernel_failed(const char *what, int rc);

#endif /* ATTNC_RUNTIME_HALIDE_GLUE_H */

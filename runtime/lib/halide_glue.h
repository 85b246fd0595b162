/*===- halide_glue.h - Halide-built kernels' hooks (internal) -----*- C -*-===*/

#ifndef ATTNC_RUNTIME_HALIDE_GLUE_H
#define ATTNC_RUNTIME_HALIDE_GLUE_H

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

#endif /* ATTNC_RUNTIME_HALIDE_GLUE_H */

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

/* Moves the last Halide error message into buffer; 0 if there was none. */
int attnc_take_halide_error(char *buffer, size_t size);

#endif /* ATTNC_RUNTIME_HALIDE_GLUE_H */

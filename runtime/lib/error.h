/*===- error.h - the runtime's per-thread last error (internal) ---*- C -*-===*/

#ifndef ATTNC_RUNTIME_ERROR_H
#define ATTNC_RUNTIME_ERROR_H

#include "attnc/runtime.h"

/* Formats the message attn_last_error() returns on this thread and returns
 * `status`, so that failures read `return attn_fail(STATUS, "...", ...)`. */
attn_status attn_fail(attn_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to the message (for reports that list several problems). */
void attn_append_error(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Clears the message. */
void attn_clear_error(void);

#endif /* ATTNC_RUNTIME_ERROR_H */

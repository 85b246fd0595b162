/*===- attnc/weights.h - a model's params from a .safetensors file -*- C -*-===*\
 *
 * Reads a .safetensors file (an 8-byte little-endian header length, a JSON
 * header mapping tensor names to dtype, shape and byte offsets, then the
 * data) and checks it against a compiled model's metadata: every `param` of
 * the model must be there, as F32, with exactly its shape. Every problem is
 * reported by name in attn_last_error(), one per line, not just the first.
 * The reader is written for untrusted files: lengths and offsets are checked
 * against the file before anything is read through them.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_WEIGHTS_H
#define ATTNC_WEIGHTS_H

#include "attnc/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_weights attn_weights;

/* Loads `path` and checks it against `info` (a model's NAME_info()). On
 * failure *out is NULL and the status is ATTN_ERROR_NOT_FOUND (the file
 * cannot be read) or ATTN_ERROR_INVALID_ARGUMENT (a malformed file, or
 * params missing or of the wrong dtype or shape). Tensors the model does not
 * use are allowed and ignored. The weights keep their own copy of what they
 * need of `info`: they may outlive the model (attn_model_close) they were
 * loaded for. */
attn_status attn_weights_load(const char *path, const attn_kernel_info *info,
                              attn_weights **out);

/* The same from a file's bytes already in memory (`size` bytes at `data`). */
attn_status attn_weights_parse(const void *data, size_t size,
                               const attn_kernel_info *info,
                               attn_weights **out);

/* The param `name` as `count` floats (64-byte aligned, owned by `weights`),
 * or NULL if the model has no such param. */
const float *attn_weights_get(const attn_weights *weights, const char *name,
                              int64_t *count);

/* Stores each param's data pointer in args[i] for the model's argument i
 * (call order), leaving inputs and outputs untouched. */
void attn_weights_bind(const attn_weights *weights, void **args);

void attn_weights_free(attn_weights *weights);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_WEIGHTS_H */

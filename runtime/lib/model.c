/*===- model.c - open and run compiled models ---------------------*- C -*-===*/

#define _GNU_SOURCE
#include "attnc/runtime.h"
#include "checks.h"
#include "error.h"
#include "halide_glue.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct attn_model {
  void *library;
  const attn_kernel_info *info;
  int (*argv_entry)(void **);
  /* NAME_decode_info and NAME_decode_argv, for a model that says `decode`. */
  const attn_decode_info *decode_info;
  attn_decode_fn decode_entry;
  /* NAME_prefill_argv and NAME_chunk_argv, next to them (NULL from
   * libraries without them). */
  attn_prefill_fn prefill_entry;
  attn_chunk_fn chunk_entry;
};

static _Thread_local char last_error[4096];

attn_status attn_fail(attn_status status, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(last_error, sizeof last_error, format, ap);
  va_end(ap);
  return status;
}

void attn_append_error(const char *format, ...) {
  size_t used = strlen(last_error);
  if (used + 1 >= sizeof last_error)
    return;
  va_list ap;
  va_start(ap, format);
  vsnprintf(last_error + used, sizeof last_error - used, format, ap);
  va_end(ap);
}

void attn_clear_error(void) { last_error[0] = '\0'; }

const char *attn_last_error(void) { return last_error; }

int64_t attn_arg_num_elements(const attn_arg_info *arg) {
  int64_t n = 1;
  for (int32_t i = 0; i < arg->rank; ++i)
    n *= arg->shape[i];
  return n;
}

attn_status attn_model_open(const char *path, const char *name,
                            attn_model **out) {
  if (!path || !name || !out)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                "attn_model_open: path, name and out must not be null");
  *out = NULL;
  /* dlopen searches the library path for a name without a slash; a file
   * name given here means the file in the current directory. */
  char local[4096];
  const char *file = path;
  if (!strchr(path, '/')) {
    if ((size_t)snprintf(local, sizeof local, "./%s", path) >= sizeof local)
      return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot open '%s': name too long",
                       path);
    file = local;
  }
  void *library = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return attn_fail(ATTN_ERROR_NOT_FOUND, "cannot open '%s': %s", path, dlerror());
  char symbol[256];
  snprintf(symbol, sizeof symbol, "%s_info", name);
  const attn_kernel_info *(*info_fn)(void) =
      (const attn_kernel_info *(*)(void))dlsym(library, symbol);
  snprintf(symbol, sizeof symbol, "%s_argv", name);
  int (*argv_fn)(void **) = (int (*)(void **))dlsym(library, symbol);
  if (!info_fn || !argv_fn) {
    dlclose(library);
    return attn_fail(ATTN_ERROR_NOT_FOUND,
                "'%s' has no model '%s' (symbols %s_info and %s_argv)", path,
                name, name, name);
  }
  /* info lives in the library: check it (and format any message) before
   * unloading. */
  char where[512];
  snprintf(where, sizeof where, "model '%s' in '%s'", name, path);
  const attn_kernel_info *info = info_fn();
  attn_status status = attn_check_kernel_info(where, info);
  if (status == ATTN_OK && strcmp(info->name, name) != 0) {
    /* NAME_decode_info and NAME_decode_argv exist too, for the decode step,
     * whose entry point takes caches and a position as well. */
    size_t n = strlen(info->name);
    if (strncmp(name, info->name, n) == 0 && strcmp(name + n, "_decode") == 0)
      status = attn_fail(ATTN_ERROR_NOT_FOUND,
                         "'%s' is the decode step of model '%s' in '%s': "
                         "open model '%s' and use attn_decoder_open",
                         name, info->name, path, info->name);
    else
      status = attn_fail(ATTN_ERROR_NOT_FOUND,
                         "%s: %s_info describes model '%s'", where, name,
                         info->name);
  }
  if (status != ATTN_OK) {
    dlclose(library);
    return status;
  }
  attn_model *model = malloc(sizeof *model);
  if (!model) {
    dlclose(library);
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT, "out of memory");
  }
  model->library = library;
  model->info = info;
  model->argv_entry = argv_fn;
  snprintf(symbol, sizeof symbol, "%s_decode_info", name);
  const attn_decode_info *(*decode_info_fn)(void) =
      (const attn_decode_info *(*)(void))dlsym(library, symbol);
  snprintf(symbol, sizeof symbol, "%s_decode_argv", name);
  model->decode_entry = (attn_decode_fn)dlsym(library, symbol);
  model->decode_info =
      decode_info_fn && model->decode_entry ? decode_info_fn() : NULL;
  snprintf(symbol, sizeof symbol, "%s_prefill_argv", name);
  model->prefill_entry = (attn_prefill_fn)dlsym(library, symbol);
  snprintf(symbol, sizeof symbol, "%s_chunk_argv", name);
  model->chunk_entry = (attn_chunk_fn)dlsym(library, symbol);
  if (model->decode_info) {
    snprintf(where, sizeof where, "the decode step of model '%s' in '%s'",
             name, path);
    status = attn_check_decode_info(where, model->decode_info);
    if (status != ATTN_OK) {
      attn_model_close(model);
      return status;
    }
  }
  *out = model;
  last_error[0] = '\0';
  return ATTN_OK;
}

void attn_model_close(attn_model *model) {
  if (!model)
    return;
  dlclose(model->library);
  free(model);
}

const attn_kernel_info *attn_model_info(const attn_model *model) {
  return model ? model->info : NULL;
}

attn_status attn_model_run(const attn_model *model, void **args,
                           size_t num_args) {
  if (!model)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_model_run: model must not be null");
  const attn_kernel_info *info = model->info;
  char subject[300];
  snprintf(subject, sizeof subject, "model '%s'", info->name);
  attn_status status = attn_check_run_args("attn_model_run", subject,
                                           info->args, info->num_args, args,
                                           num_args, NULL);
  if (status != ATTN_OK)
    return status;
  attnc_take_halide_error(NULL, 0);
  int rc = model->argv_entry(args);
  return rc == 0 ? ATTN_OK : attnc_kernel_failed(subject, rc);
}

const attn_decode_info *attn_model_decode_info(const attn_model *model) {
  return model ? model->decode_info : NULL;
}

attn_status attn_decoder_open(const attn_model *model, attn_decoder **out) {
  if (!model || !out)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                     "attn_decoder_open: model and out must not be null");
  *out = NULL;
  if (!model->decode_info)
    return attn_fail(ATTN_ERROR_NOT_FOUND,
                     "model '%s' has no decode step; add `decode` to the "
                     "model to compile %s_decode",
                     model->info->name, model->info->name);
  attn_status status =
      attn_decoder_create(model->decode_info, model->decode_entry, out);
  if (status == ATTN_OK && model->prefill_entry)
    status = attn_decoder_set_prefill(*out, model->prefill_entry);
  /* A chunk_rows of 0 says the library has no chunk, whatever its
   * symbols. */
  if (status == ATTN_OK && model->chunk_entry &&
      model->decode_info->chunk_rows > 0)
    status = attn_decoder_set_chunk(*out, model->chunk_entry);
  if (status != ATTN_OK) {
    attn_decoder_free(*out);
    *out = NULL;
  }
  return status;
}

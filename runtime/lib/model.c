/*===- model.c - open and run compiled models ---------------------*- C -*-===*/

#define _GNU_SOURCE
#include "attnc/runtime.h"
#include "error.h"

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

attn_status attn_check_outputs_disjoint(const char *what, const char *model,
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
                         "%s: output '%s' (#%d) of model '%s' overlaps "
                         "argument '%s' (#%d); outputs need buffers of their "
                         "own",
                         what, info[i].name, i, model, info[j].name, j);
    }
  }
  return ATTN_OK;
}

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
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
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
  const attn_kernel_info *info = info_fn();
  if (!info || info->abi_version != ATTN_KERNEL_ABI_VERSION) {
    /* info lives in the library: read it before unloading. */
    unsigned version = info ? info->abi_version : 0u;
    dlclose(library);
    return attn_fail(ATTN_ERROR_ABI_MISMATCH,
                "model '%s' in '%s' has kernel ABI version %u; this runtime "
                "reads version %u",
                name, path, version, (unsigned)ATTN_KERNEL_ABI_VERSION);
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
  if (!model || !args)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                "attn_model_run: model and args must not be null");
  const attn_kernel_info *info = model->info;
  if (num_args != (size_t)info->num_args)
    return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                "model '%s' takes %d arguments, got %zu", info->name,
                info->num_args, num_args);
  for (int32_t i = 0; i < info->num_args; ++i)
    if (!args[i])
      return attn_fail(ATTN_ERROR_INVALID_ARGUMENT,
                  "argument '%s' (#%d) of model '%s' is null",
                  info->args[i].name, i, info->name);
  attn_status status = attn_check_outputs_disjoint(
      "attn_model_run", info->name, info->args, info->num_args, args, NULL);
  if (status != ATTN_OK)
    return status;
  int rc = model->argv_entry(args);
  if (rc != 0)
    return attn_fail(ATTN_ERROR_KERNEL_FAILED, "model '%s' returned %d", info->name,
                rc);
  return ATTN_OK;
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
  return attn_decoder_create(model->decode_info, model->decode_entry, out);
}

//===- HalideModule.cpp - the entry points of libattnc-halide -------------===//
//
// The only symbols the module exports (HalideModule.h). Halide reports
// errors by throwing; every entry point catches and turns them into a
// message, naming the model construct when Halide's text names one of its
// Funcs, so nothing unwinds into attnc.
//
//===----------------------------------------------------------------------===//

#include "Algorithm.h"
#include "Schedule.h"

#include <cstdio>
#include <exception>
#include <regex>

#define EXPORT extern "C" __attribute__((visibility("default")))

using namespace attnc::hl;

namespace {

void copyMessage(const std::string &message, char *error, size_t size) {
  if (error && size)
    std::snprintf(error, size, "%s", message.c_str());
}

/// Halide names Funcs in its messages; ours end in "_v<value id>".
std::string withConstruct(const std::string &message,
                          const attnc_hl_model &model) {
  std::smatch match;
  static const std::regex funcName("[a-z_]+_v([0-9]+)");
  if (std::regex_search(message, match, funcName)) {
    int value = std::stoi(match[1]);
    for (int o = 0; o < model.num_ops; ++o)
      if (model.ops[o].result == value && model.ops[o].location)
        return std::string(model.ops[o].location) + ": Halide: " + message;
  }
  return "Halide: " + message;
}

Halide::Target targetFor(const char *name) {
  Halide::Target target =
      name && *name ? Halide::Target(name) : Halide::get_host_target();
  return target;
}

int compile(const attnc_hl_model &model, const attnc_hl_options &options) {
  // Kernels carry no runtime: an application links one, shared by all.
  Halide::Target target =
      targetFor(options.target).with_feature(Halide::Target::NoRuntime);
  Algorithm alg = buildAlgorithm(model, target.natural_vector_size<float>());
  for (size_t o = 0; o < alg.outputs.size(); ++o)
    constrainDense(alg.outputs[o].output_buffer(), alg.outputExtents[o],
                   alg.outputStrides[o]);
  Halide::Pipeline pipeline(alg.outputs);
  if (options.autoscheduler && *options.autoscheduler)
    scheduleAutomatically(alg, pipeline, target, options.autoscheduler,
                          options.autoscheduler_dir ? options.autoscheduler_dir
                                                    : ".",
                          options.threads > 0 ? options.threads : 1);
  else
    scheduleByHand(alg, target);
  std::vector<Halide::Argument> arguments = pipelineArguments(alg);
  if (options.stmt_path)
    pipeline.compile_to_lowered_stmt(options.stmt_path, arguments,
                                     Halide::Text, target);
  if (options.object_path)
    pipeline.compile_to_object(options.object_path, arguments,
                               model.function_name, target);
  return 0;
}

} // namespace

EXPORT int attnc_hl_compile(const attnc_hl_model *model,
                            const attnc_hl_options *options, char *error,
                            size_t error_size) {
  if (!model || !options) {
    copyMessage("no model or no options", error, error_size);
    return 1;
  }
  if (model->interface_version != ATTNC_HL_INTERFACE_VERSION) {
    copyMessage("the Halide backend module speaks interface version " +
                    std::to_string(ATTNC_HL_INTERFACE_VERSION) +
                    ", attnc version " +
                    std::to_string(model->interface_version),
                error, error_size);
    return 1;
  }
  try {
    return compile(*model, *options);
  } catch (const Halide::Error &e) {
    copyMessage(withConstruct(e.what(), *model), error, error_size);
  } catch (const std::exception &e) {
    copyMessage(withConstruct(e.what(), *model), error, error_size);
  }
  return 1;
}

EXPORT int attnc_hl_compile_runtime(const char *target, const char *object_path,
                                    char *error, size_t error_size) {
  try {
    Halide::compile_standalone_runtime(object_path, targetFor(target));
    return 0;
  } catch (const std::exception &e) {
    copyMessage(e.what(), error, error_size);
  }
  return 1;
}

EXPORT const char *attnc_hl_version(void) {
  return ATTNC_HALIDE_VERSION; // Halide's headers carry no version macro
}

# AttncModel.cmake: compile .attn models into static libraries at build time,
# in the manner of Halide's add_halide_library.
#
#   attnc_add_model(<name> SOURCE <file.attn>
#                   [EXCLUDE_FROM_ALL]      # as for add_library
#                   [OUTPUT_DIR <dir>]
#                   [MCPU <cpu>]            # attnc --mcpu (default: native)
#                   [TARGET_TRIPLE <triple>] # attnc --target (default: host)
#                   [OPT_LEVEL <0-3>]       # attnc -O (default: attnc's, 2)
#                   [WEIGHTS <f.safetensors>] # attnc --embed-weights
#                   [BACKEND mlir|halide]   # halide: links one Halide runtime
#                                           # (target attnc_halide_runtime)
#                   [COMPILER <target-or-path>]
#                   [OPTIONS <attnc args>...] # e.g. --tile=64,32 (FLAGS: the same)
#                   [DEPENDS <files-or-targets>...]
#                   [OBJECT_VAR <var>] [HEADER_VAR <var>])
#
# At build time runs `attnc <file.attn> -o <dir>/<name>.o`, which writes
# <dir>/<name>.o and <dir>/<name>.h (<dir> defaults to the current binary
# directory), and defines a STATIC library target <name> holding that object.
# Linking to <name> adds <dir> to the include path and links libm (the kernels
# call expf), so a consumer just does
#
#   attnc_add_model(gpt2_block SOURCE gpt2_block.attn)
#   target_link_libraries(app PRIVATE gpt2_block)
#   // app.c: #include "gpt2_block.h"
#
# With WEIGHTS, every param's values are compiled into the object from the
# file (checked against the model at build time), and the kernel takes only
# inputs and outputs; the object is rebuilt when the file changes.
#
# The C functions are named after the `model` line in the file (see
# docs/abi.md), not after <name>; keeping the two equal is the simple rule.
# The header and object are rebuilt when the .attn file, anything in DEPENDS
# or the compiler changes, and compiling a consumer waits for the header.
#
# Which compiler runs, first match wins: COMPILER (a CMake target or a path);
# the cache variable ATTNC_COMPILER (a path, to benchmark or use another build
# of attnc); the in-tree target `attnc`; an imported target `attnc::attnc`;
# `attnc` on the PATH.
#
# The target gets the properties ATTNC_SOURCE, ATTNC_OBJECT and ATTNC_HEADER
# (absolute paths); OBJECT_VAR / HEADER_VAR also return the last two.

include_guard(GLOBAL)

set(ATTNC_COMPILER "" CACHE FILEPATH
    "attnc executable for attnc_add_model (empty: the in-tree attnc target)")

function(_attnc_resolve_compiler out_exe out_dep requested)
  set(dep "")
  if(requested)
    if(TARGET ${requested})
      set(exe "$<TARGET_FILE:${requested}>")
      set(dep ${requested})
    else()
      set(exe "${requested}")
    endif()
  elseif(ATTNC_COMPILER)
    set(exe "${ATTNC_COMPILER}")
  elseif(TARGET attnc)
    set(exe "$<TARGET_FILE:attnc>")
    set(dep attnc)
  elseif(TARGET attnc::attnc)
    set(exe "$<TARGET_FILE:attnc::attnc>")
    set(dep attnc::attnc)
  else()
    find_program(ATTNC_EXECUTABLE attnc)
    if(NOT ATTNC_EXECUTABLE)
      message(FATAL_ERROR "attnc_add_model: no attnc compiler: build it in "
                          "this project, pass COMPILER or set ATTNC_COMPILER")
    endif()
    set(exe "${ATTNC_EXECUTABLE}")
  endif()
  # A plain path is still a dependency, so a rebuilt compiler recompiles.
  if(NOT dep AND IS_ABSOLUTE "${exe}")
    set(dep "${exe}")
  endif()
  set(${out_exe} "${exe}" PARENT_SCOPE)
  set(${out_dep} "${dep}" PARENT_SCOPE)
endfunction()

# The language whose archiver bundles an attnc object: the objects hold no
# source, so any enabled one will do, and a C++-only project (no C enabled)
# must not need C for it.
function(_attnc_archive_language out)
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  foreach(language IN ITEMS C CXX)
    if(language IN_LIST languages)
      set(${out} ${language} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "attnc_add_model needs C or CXX enabled in project() "
                      "or enable_language() to link the model's object")
endfunction()

# The target attnc_halide_runtime: the Halide runtime for this machine
# (attnc --emit=halide-runtime) as a static library, made once per project.
function(_attnc_halide_runtime compiler compiler_dep)
  if(TARGET attnc_halide_runtime)
    return()
  endif()
  set(object "${CMAKE_BINARY_DIR}/attnc_halide_runtime/halide_runtime.o")
  file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/attnc_halide_runtime")
  add_custom_command(
    OUTPUT "${object}"
    COMMAND ${compiler} --emit=halide-runtime -o "${object}"
    DEPENDS ${compiler_dep}
    COMMENT "attnc: the Halide runtime"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(attnc_halide_runtime STATIC EXCLUDE_FROM_ALL "${object}")
  _attnc_archive_language(language)
  set_target_properties(attnc_halide_runtime PROPERTIES
    LINKER_LANGUAGE ${language})
  find_package(Threads REQUIRED)
  target_link_libraries(attnc_halide_runtime INTERFACE Threads::Threads
                        ${CMAKE_DL_LIBS})
endfunction()

function(attnc_add_model name)
  set(options EXCLUDE_FROM_ALL)
  set(one_value SOURCE OUTPUT_DIR MCPU TARGET_TRIPLE OPT_LEVEL COMPILER
                WEIGHTS BACKEND OBJECT_VAR HEADER_VAR)
  set(multi_value OPTIONS FLAGS DEPENDS)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "${options}" "${one_value}" "${multi_value}")

  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "attnc_add_model(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "attnc_add_model(${name}): SOURCE <file.attn> is required")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "attnc_add_model(${name}): the name must be a C identifier "
                        "(it names the object, the header and the target)")
  endif()
  if(TARGET ${name})
    message(FATAL_ERROR "attnc_add_model(${name}): a target named '${name}' already exists")
  endif()

  get_filename_component(source "${ARG_SOURCE}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(ARG_OUTPUT_DIR)
    get_filename_component(outdir "${ARG_OUTPUT_DIR}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(outdir "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  set(object "${outdir}/${name}${CMAKE_C_OUTPUT_EXTENSION}")
  if(NOT CMAKE_C_OUTPUT_EXTENSION)
    set(object "${outdir}/${name}.o")
  endif()
  # attnc writes the header next to the object, with the extension replaced.
  set(header "${outdir}/${name}.h")

  _attnc_resolve_compiler(compiler compiler_dep "${ARG_COMPILER}")

  set(args "${source}" -o "${object}")
  if(ARG_MCPU)
    list(APPEND args "--mcpu=${ARG_MCPU}")
  endif()
  if(ARG_TARGET_TRIPLE)
    list(APPEND args "--target=${ARG_TARGET_TRIPLE}")
  endif()
  if(NOT "${ARG_OPT_LEVEL}" STREQUAL "")
    if(NOT ARG_OPT_LEVEL MATCHES "^[0-3]$")
      message(FATAL_ERROR "attnc_add_model(${name}): OPT_LEVEL must be 0-3")
    endif()
    list(APPEND args "-O${ARG_OPT_LEVEL}")
  endif()
  set(backend_dep "")
  if(ARG_BACKEND STREQUAL "halide")
    list(APPEND args "--backend=halide")
    # In this tree, the Halide backend module is part of the compiler.
    if(TARGET attnc-halide)
      set(backend_dep attnc-halide)
    endif()
  elseif(ARG_BACKEND AND NOT ARG_BACKEND STREQUAL "mlir")
    message(FATAL_ERROR "attnc_add_model(${name}): BACKEND must be mlir or "
                        "halide, not ${ARG_BACKEND}")
  endif()
  set(weights "")
  if(ARG_WEIGHTS)
    get_filename_component(weights "${ARG_WEIGHTS}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args "--embed-weights=${weights}")
  endif()
  list(APPEND args ${ARG_OPTIONS} ${ARG_FLAGS})

  file(MAKE_DIRECTORY "${outdir}")
  add_custom_command(
    OUTPUT "${object}" "${header}"
    COMMAND ${compiler} ${args}
    DEPENDS "${source}" ${weights} ${compiler_dep} ${backend_dep} ${ARG_DEPENDS}
    WORKING_DIRECTORY "${outdir}"
    COMMENT "attnc: compiling ${name} from ${ARG_SOURCE}"
    VERBATIM COMMAND_EXPAND_LISTS)

  set_source_files_properties("${object}" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set_source_files_properties("${header}" PROPERTIES
    HEADER_FILE_ONLY TRUE GENERATED TRUE)

  # The header is a source of the library so that every consumer's compile
  # is ordered after the custom command that writes it.
  set(exclude "")
  if(ARG_EXCLUDE_FROM_ALL)
    set(exclude EXCLUDE_FROM_ALL)
  endif()
  add_library(${name} STATIC ${exclude} "${object}" "${header}")
  _attnc_archive_language(language)
  set_target_properties(${name} PROPERTIES
    LINKER_LANGUAGE ${language}
    ATTNC_SOURCE "${source}"
    ATTNC_OBJECT "${object}"
    ATTNC_HEADER "${header}")
  target_include_directories(${name} PUBLIC "$<BUILD_INTERFACE:${outdir}>")
  if(UNIX AND NOT APPLE)
    target_link_libraries(${name} PUBLIC m)
  endif()
  # The runtime gives the kernel its thread pool and scratch blocks (the
  # object references them weakly and runs without them otherwise): the
  # in-tree target, or the one find_package(attnc) imports.
  if(TARGET attnc_runtime)
    target_link_libraries(${name} PUBLIC attnc_runtime)
  elseif(TARGET attnc::runtime)
    target_link_libraries(${name} PUBLIC attnc::runtime)
  endif()

  # Halide-built kernels carry no Halide runtime; every application links
  # exactly one, shared by all its Halide models.
  if(ARG_BACKEND STREQUAL "halide")
    _attnc_halide_runtime("${compiler}" "${compiler_dep}")
    target_link_libraries(${name} PUBLIC attnc_halide_runtime)
  endif()

  if(ARG_OBJECT_VAR)
    set(${ARG_OBJECT_VAR} "${object}" PARENT_SCOPE)
  endif()
  if(ARG_HEADER_VAR)
    set(${ARG_HEADER_VAR} "${header}" PARENT_SCOPE)
  endif()
endfunction()

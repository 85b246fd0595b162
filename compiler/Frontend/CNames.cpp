//===- CNames.cpp - names a kernel cannot take in C -----------------------===//
//
// A kernel defines global symbols; one named like a C library function
// replaces that function in every program that links the kernel (a model
// named `malloc` made the application's own calls to malloc run the
// kernel). The lists below are the C11 library functions a C or C++
// program commonly links, the names C reserves, and what attnc's header
// and runtimes define; a name outside them can still clash with some other
// library, as any C function's name can.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/CNames.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace attnc;
using llvm::StringRef;

bool attnc::isCKeyword(StringRef name) {
  static const char *const keywords[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do",
      "double", "else", "enum", "extern", "float", "for", "goto", "if",
      "inline", "int", "long", "register", "restrict", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
      "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
      "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic",
      "_Noreturn", "_Static_assert", "_Thread_local", "bool", "true", "false"};
  return llvm::is_contained(keywords, name);
}

namespace {

const llvm::StringSet<> &cLibraryNames() {
  static const llvm::StringSet<> names = [] {
    llvm::StringSet<> set;
    // <stdlib.h>, <string.h>, <stdio.h>, <time.h>, <ctype.h>, <signal.h>,
    // <setjmp.h>, and the entry point.
    for (const char *name :
         {"abort", "abs", "aligned_alloc", "at_quick_exit", "atexit", "atof",
          "atoi", "atol", "atoll", "bsearch", "calloc", "div", "exit", "free",
          "getenv", "labs", "ldiv", "llabs", "lldiv", "malloc", "mblen",
          "mbstowcs", "mbtowc", "posix_memalign", "qsort", "quick_exit",
          "rand", "realloc", "srand", "strtod", "strtof", "strtol", "strtold",
          "strtoll", "strtoul", "strtoull", "system", "wcstombs", "wctomb",
          "memchr", "memcmp", "memcpy", "memmove", "memset", "strcat",
          "strchr", "strcmp", "strcoll", "strcpy", "strcspn", "strdup",
          "strerror", "strlen", "strncat", "strncmp", "strncpy", "strndup",
          "strpbrk", "strrchr", "strspn", "strstr", "strtok", "strxfrm",
          "clearerr", "fclose", "feof", "ferror", "fflush", "fgetc", "fgetpos",
          "fgets", "fopen", "fprintf", "fputc", "fputs", "fread", "freopen",
          "fscanf", "fseek", "fsetpos", "ftell", "fwrite", "getc", "getchar",
          "perror", "printf", "putc", "putchar", "puts", "remove", "rename",
          "rewind", "scanf", "setbuf", "setvbuf", "snprintf", "sprintf",
          "sscanf", "tmpfile", "tmpnam", "ungetc", "vfprintf", "vprintf",
          "vsnprintf", "vsprintf", "asctime", "clock", "ctime", "difftime",
          "gmtime", "localtime", "mktime", "strftime", "time", "isalnum",
          "isalpha", "isblank", "iscntrl", "isdigit", "isgraph", "islower",
          "isprint", "ispunct", "isspace", "isupper", "isxdigit", "tolower",
          "toupper", "raise", "signal", "longjmp", "setjmp", "main",
          // Macros of the C library that would rewrite the header.
          "assert", "errno", "stdin", "stdout", "stderr", "offsetof"})
      set.insert(name);
    // <math.h>, each in double, float and long double.
    for (StringRef name :
         {"acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt",
          "ceil", "copysign", "cos", "cosh", "erf", "erfc", "exp", "exp2",
          "expm1", "fabs", "fdim", "floor", "fma", "fmax", "fmin", "fmod",
          "frexp", "hypot", "ilogb", "ldexp", "lgamma", "llrint", "llround",
          "log", "log10", "log1p", "log2", "logb", "lrint", "lround", "modf",
          "nan", "nearbyint", "nextafter", "nexttoward", "pow", "remainder",
          "remquo", "rint", "round", "scalbln", "scalbn", "sin", "sinh",
          "sqrt", "tan", "tanh", "tgamma", "trunc"}) {
      set.insert(name);
      set.insert((name + "f").str());
      set.insert((name + "l").str());
    }
    return set;
  }();
  return names;
}

/// The types of the generated header (runtime/include/attnc/kernel_info.h)
/// and the functions of attnc's runtime library.
const llvm::StringSet<> &attncNames() {
  static const llvm::StringSet<> names = {
      "attn_arg_role", "attn_dtype", "attn_arg_info", "attn_kernel_info",
      "attn_decode_info", "attn_decode_fn", "attn_prefill_fn", "attn_chunk_fn",
      "attn_status",
      "attn_model", "attn_decoder", "attn_weights", "attn_append_error",
      "attn_arg_num_elements",
      "attn_check_decode_info", "attn_check_kernel_info",
      "attn_check_run_args", "attn_clear_error", "attn_decoder_create",
      "attn_decoder_free", "attn_decoder_info", "attn_decoder_open",
      "attn_decoder_position", "attn_decoder_prefill", "attn_decoder_reset",
      "attn_decoder_set_chunk", "attn_decoder_set_prefill",
      "attn_decoder_step", "attn_fail",
      "attn_last_error", "attn_model_close",
      "attn_model_decode_info", "attn_model_info", "attn_model_open",
      "attn_model_run", "attn_num_threads", "attn_scratch_kept",
      "attn_scratch_release", "attn_scratch_reset_peak",
      "attn_scratch_usage", "attn_set_num_threads", "attn_weights_bind",
      "attn_weights_free", "attn_weights_get", "attn_weights_load",
      "attn_weights_parse"};
  return names;
}

} // namespace

std::optional<StringRef> attnc::whyNotAKernelName(StringRef name) {
  if (isCKeyword(name))
    return StringRef("a C keyword");
  // C reserves __x and _X everywhere; POSIX reserves pthread_; attnc's
  // runtime and the Halide runtime it links define attnc_ and halide_.
  if (name.starts_with("__") ||
      (name.size() > 1 && name[0] == '_' && llvm::isUpper(name[1])))
    return StringRef("reserved by C (it starts with __ or _ and a capital)");
  if (name.starts_with("pthread_"))
    return StringRef("reserved by POSIX threads");
  if (cLibraryNames().contains(name))
    return StringRef("a name of the C standard library");
  if (name.starts_with("attnc_") || name.starts_with("halide_") ||
      attncNames().contains(name))
    return StringRef("a name of attnc's runtime or of the header it "
                     "generates");
  return std::nullopt;
}

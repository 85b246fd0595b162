/*===- HalideModule.h - the C interface of the Halide backend module -*- C -*-===*\
 *
 * Halide 14 is built on LLVM 14 and attnc on LLVM 19; one process must not
 * resolve either one's LLVM symbols into the other. The Halide backend is
 * therefore a module of its own (libattnc-halide.so: Halide linked in, every
 * symbol hidden but these entry points, opened with RTLD_LOCAL |
 * RTLD_DEEPBIND), and attnc talks to it only through this plain C interface:
 * a model as flat arrays of values, arguments and operations, taken from the
 * attn dialect after its passes.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_HALIDE_HALIDEMODULE_H
#define ATTNC_HALIDE_HALIDEMODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change to the structures below; the module refuses a caller
 * built against another version. */
#define ATTNC_HL_INTERFACE_VERSION 3

typedef enum attnc_hl_op_kind {
  ATTNC_HL_LINEAR = 1,     /* (x, w[, b]): x @ w + b                        */
  ATTNC_HL_SLICE,          /* (t): the block at offsets[] of result's shape  */
  ATTNC_HL_SDPA,           /* (q, k, v[, bias][, alibi])                     */
  ATTNC_HL_ATTENTION_PROBS,/* (q, k[, bias][, alibi]): [heads, S, T]         */
  ATTNC_HL_MATMUL,         /* (a, b), 2D or batched 3D                       */
  ATTNC_HL_TRANSPOSE,      /* (t): swap the last two dimensions              */
  ATTNC_HL_SCALE,          /* (t): t * scale                                 */
  ATTNC_HL_MASK,           /* (s): hide keys over the last two dimensions    */
  ATTNC_HL_SOFTMAX,        /* (s): along axis (0 = outermost)                */
  ATTNC_HL_SPLIT_HEADS,    /* (t): [S, H*D] -> [H, S, D]                     */
  ATTNC_HL_MERGE_HEADS,    /* (t): [H, S, D] -> [S, H*D]                     */
  ATTNC_HL_ROPE,           /* (t): head_dim, base, rope_style                */
  ATTNC_HL_LAYER_NORM,     /* (x, gamma, beta): eps                          */
  ATTNC_HL_RMS_NORM,       /* (x, gamma): eps                                */
  ATTNC_HL_ADD,            /* (a, b): the smaller shape a suffix of the other */
  ATTNC_HL_SUB,
  ATTNC_HL_MUL,
  ATTNC_HL_GELU,           /* (t): erf form, or tanh if gelu_tanh            */
  ATTNC_HL_SILU,
  ATTNC_HL_RELU,
  ATTNC_HL_DECODE_ATTENTION, /* (q, k, v[, alibi]) over the caches of args
                                key_cache and value_cache at the position */
} attnc_hl_op_kind;

typedef enum attnc_hl_mask { ATTNC_HL_MASK_NONE, ATTNC_HL_MASK_CAUSAL,
                             ATTNC_HL_MASK_WINDOW } attnc_hl_mask;

#define ATTNC_HL_MAX_RANK 3
#define ATTNC_HL_MAX_OPERANDS 5

/* A value's shape, outermost dimension first (as in the .attn text). */
typedef struct attnc_hl_shape {
  int32_t rank;
  int64_t dims[ATTNC_HL_MAX_RANK];
} attnc_hl_shape;

typedef struct attnc_hl_op {
  int32_t kind; /* attnc_hl_op_kind */
  int32_t num_operands;
  int32_t operands[ATTNC_HL_MAX_OPERANDS]; /* value ids */
  int32_t result;                          /* value id */
  /* Where the construct is in the model, "file:line:col: attention", for
   * error messages. */
  const char *location;
  int64_t heads, kv_heads, window, axis, head_dim;
  int32_t mask;       /* attnc_hl_mask */
  int32_t has_bias;   /* attention: operand 3 is an additive [S, T] mask */
  int32_t has_alibi;  /* attention: the last operand is [heads] slopes */
  int32_t rope_interleaved;
  int32_t rope_at_position; /* row r at the position + r (a step, a chunk) */
  int32_t gelu_tanh;
  int32_t key_cache, value_cache; /* decode attention: argument indices */
  double scale, base, eps;
  int64_t offsets[ATTNC_HL_MAX_RANK]; /* slice, outermost first */
} attnc_hl_op;

/* A decode step's caches are [width, context] (keys as columns) and
 * [kv_heads, context, head_dim] (values as rows, per key/value head); its
 * position is a scalar. */
typedef enum attnc_hl_role { ATTNC_HL_INPUT, ATTNC_HL_PARAM, ATTNC_HL_OUTPUT,
                             ATTNC_HL_KEY_CACHE, ATTNC_HL_VALUE_CACHE,
                             ATTNC_HL_POSITION } attnc_hl_role;

/* An argument of the pipeline; the generated function takes them in this
 * order (inputs and params, a decode step's caches and position, then
 * outputs), buffers as halide_buffer_t pointers and the position as an
 * int64_t. A decode step's pipeline has two more outputs per cache pair
 * after the model's: the new key, a [width, 1] column of the key cache, and
 * the new value, a [kv_heads, head_dim] row of each head's block of the
 * value cache, which the caller places at the token's slot (position mod
 * context) of the caches. A chunk's (decode attention over N > 1 rows, row
 * r the token at position + r) are the rows' keys, [width, N], and values,
 * [kv_heads, N, head_dim], in buffers of their own: its attention reads
 * slots of the caches that later rows of the chunk take, so the caller
 * stores the rows that are tokens into their slots only after the call. */
typedef struct attnc_hl_arg {
  const char *name;
  int32_t role;  /* attnc_hl_role */
  int32_t value; /* its shape's value id; -1 for the position */
} attnc_hl_arg;

typedef struct attnc_hl_model {
  int32_t interface_version; /* ATTNC_HL_INTERFACE_VERSION */
  const char *function_name; /* the pipeline's entry point */
  int32_t num_values;
  const attnc_hl_shape *values; /* indexed by value id */
  int32_t num_args;
  const attnc_hl_arg *args;
  int32_t num_ops;
  const attnc_hl_op *ops; /* in an order where operands come first */
} attnc_hl_model;

typedef struct attnc_hl_options {
  /* Halide target string, e.g. "host" or "x86-64-linux-avx2-fma". */
  const char *target;
  const char *object_path; /* the pipeline, no_runtime; NULL: none */
  const char *stmt_path;   /* Halide's lowered statement; NULL: none */
  /* NULL: the hand-written schedule; else "adams2019", "li2018" or
   * "mullapudi2016", loaded from autoscheduler_dir. */
  const char *autoscheduler;
  const char *autoscheduler_dir;
  int32_t threads; /* for the autoschedulers' machine model */
} attnc_hl_options;

/* Builds and schedules the model's pipeline and writes what options ask
 * for. Returns 0, or non-zero with a message in error[error_size]. */
int attnc_hl_compile(const attnc_hl_model *model,
                     const attnc_hl_options *options, char *error,
                     size_t error_size);

/* Writes one standalone Halide runtime for target into object_path: every
 * application linking Halide-built kernels links exactly one. */
int attnc_hl_compile_runtime(const char *target, const char *object_path,
                             char *error, size_t error_size);

/* Halide's version, e.g. "14.0.0". */
const char *attnc_hl_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_HALIDE_HALIDEMODULE_H */

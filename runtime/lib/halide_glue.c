/*===- halide_glue.c - the runtime as Halide-built kernels see it ---------===*\
 *
 * Kernels from attnc's Halide backend install these as Halide's parallel
 * loop and error handler when the application links the runtime (weak
 * references, like the MLIR backend's kernels make to attnc_parallel_for):
 * both backends then share one thread pool and thread count, and a Halide
 * error becomes part of attn_last_error() instead of a line on stderr.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/parallel.h"
#include "attnc/scratch.h"
#include "error.h"
#include "halide_glue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Halide-built kernels: a parallel loop of Halide's (halide_do_par_for_t)
 * on this pool. Every task runs even after one fails, as in Halide's own
 * pool; the loop returns one failing task's status. */
typedef struct halide_loop {
  int (*task)(void *user_context, int index, uint8_t *closure);
  void *userContext;
  int min;
  uint8_t *closure;
  atomic_int status;
} halide_loop;

static void runHalideTask(void *context, int64_t i) {
  halide_loop *loop = context;
  int status = loop->task(loop->userContext, loop->min + (int)i, loop->closure);
  if (status != 0)
    atomic_store(&loop->status, status);
}

int attnc_halide_do_par_for(void *user_context,
                            int (*task)(void *, int, uint8_t *), int min,
                            int size, uint8_t *closure) {
  halide_loop loop = {.task = task, .userContext = user_context, .min = min,
                      .closure = closure};
  atomic_init(&loop.status, 0);
  attnc_parallel_for(size, runHalideTask, &loop);
  return atomic_load(&loop.status);
}

/* Halide-built kernels' buffers (score tiles, packed keys) come from the
 * scratch allocator like the MLIR backend's temporaries: with plain malloc a
 * large buffer is a fresh mapping on every call, and its page faults took
 * a third of a 32-head kernel's time. Halide reads up to 8 bytes before and
 * after a buffer and wants vector alignment: blocks are padded by a cache
 * line on both sides. */
enum { kHalidePad = 64 };

void *attnc_halide_malloc(void *user_context, size_t size) {
  (void)user_context;
  char *block = attnc_scratch_alloc(size + 2 * kHalidePad);
  return block ? block + kHalidePad : NULL;
}

void attnc_halide_free(void *user_context, void *buffer) {
  (void)user_context;
  if (buffer)
    attnc_scratch_free((char *)buffer - kHalidePad);
}

/* Halide reports from whichever thread failed, and the kernel then returns
 * non-zero on the thread that called it. Most failures (argument checks,
 * the pipeline's own buffers) are raised on that thread: the message waits
 * in its own slot, where no other thread's call can take it. One raised in
 * a task on a pool worker goes to the shared slot, which the caller takes
 * when its own is empty. */
static _Thread_local char threadMessage[1024];
static pthread_mutex_t sharedLock = PTHREAD_MUTEX_INITIALIZER;
static char sharedMessage[1024];

void attnc_halide_error(void *user_context, const char *text) {
  (void)user_context;
  snprintf(threadMessage, sizeof threadMessage, "%s", text);
  pthread_mutex_lock(&sharedLock);
  snprintf(sharedMessage, sizeof sharedMessage, "%s", text);
  pthread_mutex_unlock(&sharedLock);
}

int attnc_take_halide_error(char *buffer, size_t size) {
  const char *found = threadMessage[0] ? threadMessage : NULL;
  pthread_mutex_lock(&sharedLock);
  if (!found && sharedMessage[0])
    found = sharedMessage;
  if (found && buffer && size)
    snprintf(buffer, size, "%s", found);
  int took = found != NULL;
  /* Taken, or (buffer NULL) dropped before a call, so that it cannot be
   * reported for a later failure it has nothing to do with. */
  if (found == sharedMessage || (found && !strcmp(found, sharedMessage)))
    sharedMessage[0] = 0;
  pthread_mutex_unlock(&sharedLock);
  threadMessage[0] = 0;
  return took;
}

attn_status attnc_kernel_failed(const char *what, int rc) {
  char halide[1024];
  if (attnc_take_halide_error(halide, sizeof halide))
    return attn_fail(ATTN_ERROR_KERNEL_FAILED, "%s returned %d: %s", what, rc,
                     halide);
  return attn_fail(ATTN_ERROR_KERNEL_FAILED, "%s returned %d", what, rc);
}

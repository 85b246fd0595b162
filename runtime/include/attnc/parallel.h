/*===- attnc/parallel.h - the thread pool generated kernels use ---*- C -*-===*\
 *
 * Generated kernels split their outermost independent loops (attention over
 * head groups, matrix products over column blocks) into tasks and hand them
 * to attnc_parallel_for. Kernels reference it as a weak symbol: an
 * application that links the runtime gets the pool; one that links only the
 * kernel object gets the same results on the calling thread.
 *
 * The thread count comes from attn_set_num_threads, else from the
 * ATTNC_NUM_THREADS environment variable (a whole number from 1; anything
 * else is ignored), else from the number of online CPUs, read once; at most
 * 256. With one thread no pool is started and tasks run on the caller. A
 * child of fork() starts workers of its own.
 *
 * A worker waiting for the next loop, and a caller waiting for its workers,
 * polls for up to ATTNC_SPIN_US microseconds (a whole number, read once;
 * default 100, 0 never polls) before it sleeps.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_PARALLEL_H
#define ATTNC_PARALLEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs task(context, i) for every i in [0, count), on the pool's threads
 * and the caller, and returns when all have finished. Tasks must be
 * independent. A call made from inside a task runs its tasks serially on
 * that thread (no nested parallelism, no deadlock). */
void attnc_parallel_for(int64_t count, void (*task)(void *context, int64_t i),
                        void *context);

/* Sets the number of threads (the caller included) later parallel loops
 * use; 0 restores the default. Returns the previous setting. Not to be
 * called while a parallel loop runs. */
int attn_set_num_threads(int threads);

/* The number of threads parallel loops use now. */
int attn_num_threads(void);

/* The same pool for kernels built by attnc's Halide backend: their entry
 * point installs this as Halide's do_par_for (halide_do_par_for_t) when
 * the runtime is linked, so both backends share one thread count. */
int attnc_halide_do_par_for(void *user_context,
                            int (*task)(void *user_context, int index,
                                        uint8_t *closure),
                            int min, int size, uint8_t *closure);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_PARALLEL_H */

/*===- threads.h - the thread pool, for the runtime itself (internal) -----===*/

#ifndef ATTNC_RUNTIME_THREADS_H
#define ATTNC_RUNTIME_THREADS_H

/* Runs `fn` once on each of the pool's workers, waiting for a parallel loop
 * another thread runs to end first, and returns when they have all run it:
 * what a worker keeps for itself (its scratch blocks) can only be let go on
 * that worker. Inside a task of a parallel loop it does nothing. */
void attnc_run_on_each_worker(void (*fn)(void));

#endif /* ATTNC_RUNTIME_THREADS_H */

/*===- threads.c - the thread pool behind attnc_parallel_for --------------===*\
 *
 * One process-wide pool of worker threads, started lazily at the first
 * parallel loop that needs it and grown when more threads are asked for.
 * Tasks are handed out one index at a time from an atomic counter, so
 * uneven tasks (causal attention: later query blocks see more keys) balance
 * by themselves. The calling thread works too; a loop started inside a task,
 * or while another application thread runs a loop, runs on its caller.
 * A child of fork() has none of its parent's workers: it starts its own.
 *
 * Waiting polls before it sleeps: a worker that finished a loop watches for
 * the next one, and a caller that finished its share watches its workers,
 * for up to ATTNC_SPIN_US microseconds (default kDefaultSpinMicros) before
 * blocking on a condition variable. A decode step runs a dozen loops of
 * tens of microseconds one after another; waking a sleeping thread through
 * the kernel costs about as much as such a loop (pool/back_to_back in
 * bench/README.md).
 *
\*===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "attnc/parallel.h"
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpuRelax() _mm_pause()
#elif defined(__aarch64__)
#define cpuRelax() __asm__ __volatile__("yield")
#else
#define cpuRelax() ((void)0)
#endif

enum { kMaxThreads = 256 };
/* Long enough to bridge the serial code between a kernel's loops and the
 * application's between two decode steps; short enough that an idle pool
 * gives its cores back within a fraction of a millisecond. */
enum { kDefaultSpinMicros = 100, kMaxSpinMicros = 1000000 };

typedef struct job {
  void (*task)(void *, int64_t);
  void *context;
  int64_t count;
  atomic_int_fast64_t next;
  void (*onEachWorker)(void); /* instead of tasks: once per participant */
  /* Participants not finished yet. The one that brings it to 0 signals
   * jobFinished under poolLock and touches the job no more. */
  atomic_int running;
} job;

static pthread_mutex_t poolLock = PTHREAD_MUTEX_INITIALIZER;
/* One wake-up per worker, so that a job wakes its participants only: a
 * pool grown to 64 threads once would otherwise wake all 63 workers for
 * every later 2-thread loop, each to find it has nothing to do (a decode
 * step's loops took 28 us instead of 16). */
static pthread_cond_t jobPosted[kMaxThreads];
static pthread_cond_t jobFinished = PTHREAD_COND_INITIALIZER;
/* Held by the one application thread whose loop uses the pool. */
static pthread_mutex_t loopLock = PTHREAD_MUTEX_INITIALIZER;
static int numWorkers;
/* Bumped for every posted job, under poolLock; polled without it. */
static atomic_uint_fast64_t generation;
/* The latest job and how many workers take part in it. A worker reads the
 * count under poolLock and touches the job only if it takes part: the job
 * lives on its caller's stack, and the caller waits only for participants. */
static job *current;
static atomic_int currentParticipants; /* written under poolLock */
/* The latest job has more threads than there are CPUs: a polling thread
 * would only take the CPU from the one it waits for, so nobody polls. */
static atomic_bool oversubscribed;
static atomic_int requestedThreads; /* 0: default */
static _Thread_local int insideTask;
/* The online CPUs, read once: sysconf opens and reads /sys every time, two
 * system calls per parallel loop (a decode step has several). */
static atomic_int onlineCpus; /* 0: not read yet */
static atomic_int spinMicros = -1; /* -1: ATTNC_SPIN_US not read yet */

static int cpuCount(void) {
  int n = atomic_load(&onlineCpus);
  if (n == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus < 1 ? 1 : cpus > kMaxThreads ? kMaxThreads : (int)cpus;
    atomic_store(&onlineCpus, n);
  }
  return n;
}

/* ATTNC_SPIN_US, read once: a whole number of microseconds from 0 (never
 * poll); anything else gives the default. */
static int spinBudgetMicros(void) {
  int us = atomic_load_explicit(&spinMicros, memory_order_relaxed);
  if (us < 0) {
    us = kDefaultSpinMicros;
    const char *env = getenv("ATTNC_SPIN_US");
    if (env && *env) {
      char *end;
      long n = strtol(env, &end, 10);
      if (*end == '\0' && n >= 0)
        us = n > kMaxSpinMicros ? kMaxSpinMicros : (int)n;
    }
    atomic_store_explicit(&spinMicros, us, memory_order_relaxed);
  }
  return us;
}

static int64_t nowNanos(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Polls until done(arg) or the spin budget has passed; returns done(arg).
 * Every 64 polls (a pause is tens of cycles) it reads the clock and yields:
 * the scheduler may have queued the very thread it waits for on this CPU
 * (a worker it just woke, a caller the worker just signalled), which would
 * otherwise wait out the whole budget. */
static bool pollFor(bool (*done)(const void *), const void *arg) {
  int us = spinBudgetMicros();
  if (us == 0 || atomic_load_explicit(&oversubscribed, memory_order_relaxed))
    return done(arg);
  int64_t deadline = nowNanos() + (int64_t)us * 1000;
  for (unsigned polls = 1;; ++polls) {
    if (done(arg))
      return true;
    cpuRelax();
    if (polls % 64 == 0) {
      if (nowNanos() >= deadline)
        return done(arg);
      sched_yield();
    }
  }
}

typedef struct worker_wait {
  int index;
  uint64_t seen; /* the last job this worker saw */
} worker_wait;

/* A job this worker takes part in has been posted since it last looked. */
static bool postedToWorker(const void *arg) {
  const worker_wait *w = arg;
  return atomic_load_explicit(&generation, memory_order_acquire) != w->seen &&
         w->index < atomic_load_explicit(&currentParticipants,
                                         memory_order_relaxed);
}

static bool jobDone(const void *j) {
  return atomic_load_explicit(&((job *)j)->running, memory_order_acquire) == 0;
}

static int defaultThreads(void) {
  const char *env = getenv("ATTNC_NUM_THREADS");
  if (env && *env) {
    char *end;
    long n = strtol(env, &end, 10);
    if (*end == '\0' && n >= 1)
      return n > kMaxThreads ? kMaxThreads : (int)n;
  }
  return cpuCount();
}

int attn_num_threads(void) {
  int n = atomic_load(&requestedThreads);
  return n > 0 ? n : defaultThreads();
}

int attn_set_num_threads(int threads) {
  if (threads < 0)
    threads = 0;
  if (threads > kMaxThreads)
    threads = kMaxThreads;
  return atomic_exchange(&requestedThreads, threads);
}

static void runTasks(job *j) {
  insideTask = 1;
  int64_t i;
  while ((i = atomic_fetch_add(&j->next, 1)) < j->count)
    j->task(j->context, i);
  insideTask = 0;
}

/* `arg`: a malloc'd worker_wait whose `seen` is the last job posted before
 * the worker existed. */
static void *workerMain(void *arg) {
  worker_wait w = *(worker_wait *)arg;
  free(arg);
  pthread_mutex_lock(&poolLock);
  for (;;) {
    /* Jobs this worker does not take part in pass it by. */
    if (!postedToWorker(&w)) {
      pthread_mutex_unlock(&poolLock);
      pollFor(postedToWorker, &w);
      pthread_mutex_lock(&poolLock);
      while (!postedToWorker(&w))
        pthread_cond_wait(&jobPosted[w.index], &poolLock);
    }
    w.seen = generation;
    job *j = current;
    pthread_mutex_unlock(&poolLock);
    if (j->onEachWorker)
      j->onEachWorker();
    else
      runTasks(j);
    int last = atomic_fetch_sub_explicit(&j->running, 1,
                                         memory_order_acq_rel) == 1;
    pthread_mutex_lock(&poolLock);
    if (last) /* the caller may be asleep, or polling and gone with j */
      pthread_cond_signal(&jobFinished);
  }
  return NULL;
}

/* fork() copies the pool's state but none of its workers: without this a
 * child would post jobs to workers it does not have and wait for them
 * forever. poolLock is held across the fork, so the child's copy of the
 * state is consistent, then the child forgets the workers and any loop in
 * flight (its caller thread is not in the child either). */
static void lockPoolForFork(void) { pthread_mutex_lock(&poolLock); }
static void unlockPoolAfterFork(void) { pthread_mutex_unlock(&poolLock); }
static void resetPoolInChild(void) {
  numWorkers = 0;
  current = NULL;
  currentParticipants = 0;
  for (int i = 0; i < kMaxThreads; ++i)
    pthread_cond_init(&jobPosted[i], NULL);
  pthread_cond_init(&jobFinished, NULL);
  pthread_mutex_init(&loopLock, NULL);
  pthread_mutex_unlock(&poolLock);
}
static pthread_once_t poolOnce = PTHREAD_ONCE_INIT;
static void initPool(void) {
  for (int i = 0; i < kMaxThreads; ++i)
    pthread_cond_init(&jobPosted[i], NULL);
  pthread_atfork(lockPoolForFork, unlockPoolAfterFork, resetPoolInChild);
}

/* Starts workers until there are `wanted`; returns how many there are. */
static int ensureWorkers(int wanted) {
  pthread_once(&poolOnce, initPool);
  pthread_mutex_lock(&poolLock);
  while (numWorkers < wanted) {
    /* A worker waits for jobs posted after it was created: the one about
     * to be posted included, however late the thread starts. */
    worker_wait *start = malloc(sizeof *start);
    if (!start)
      break;
    start->index = numWorkers;
    start->seen = generation;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attr, workerMain, start);
    pthread_attr_destroy(&attr);
    if (failed) {
      free(start);
      break; /* run with the workers there are */
    }
    ++numWorkers;
  }
  int have = numWorkers;
  pthread_mutex_unlock(&poolLock);
  return have;
}

static void runSerially(int64_t count, void (*task)(void *, int64_t),
                        void *context) {
  for (int64_t i = 0; i < count; ++i)
    task(context, i);
}

/* Posts `j` to its participants, the first `workers` workers, and returns
 * once they have all finished it (the caller's own share, if any, runs in
 * between: `whileWaiting`). */
static void runJob(job *j, int workers, void (*whileWaiting)(job *)) {
  pthread_mutex_lock(&poolLock);
  current = j;
  currentParticipants = workers;
  atomic_store_explicit(&oversubscribed, workers + 1 > cpuCount(),
                        memory_order_relaxed);
  atomic_fetch_add_explicit(&generation, 1, memory_order_release);
  /* Cheap for a worker that is polling: glibc signals no one without a
   * system call. */
  for (int i = 0; i < workers; ++i)
    pthread_cond_signal(&jobPosted[i]);
  pthread_mutex_unlock(&poolLock);

  if (whileWaiting)
    whileWaiting(j);

  if (pollFor(jobDone, j))
    return;
  pthread_mutex_lock(&poolLock);
  while (!jobDone(j))
    pthread_cond_wait(&jobFinished, &poolLock);
  pthread_mutex_unlock(&poolLock);
}

void attnc_run_on_each_worker(void (*fn)(void)) {
  if (insideTask)
    return;
  pthread_once(&poolOnce, initPool);
  pthread_mutex_lock(&loopLock);
  pthread_mutex_lock(&poolLock);
  int workers = numWorkers;
  pthread_mutex_unlock(&poolLock);
  if (workers > 0) {
    job j = {.onEachWorker = fn, .running = workers};
    atomic_init(&j.next, 0);
    runJob(&j, workers, NULL);
  }
  pthread_mutex_unlock(&loopLock);
}

void attnc_parallel_for(int64_t count, void (*task)(void *, int64_t),
                        void *context) {
  if (count <= 0)
    return;
  int threads = attn_num_threads();
  if (threads > count)
    threads = (int)count;
  if (threads <= 1 || insideTask || pthread_mutex_trylock(&loopLock) != 0) {
    runSerially(count, task, context);
    return;
  }
  int workers = ensureWorkers(threads - 1);
  if (workers > threads - 1)
    workers = threads - 1;
  job j = {.task = task, .context = context, .count = count,
           .running = workers};
  atomic_init(&j.next, 0);
  runJob(&j, workers, runTasks);
  pthread_mutex_unlock(&loopLock);
}


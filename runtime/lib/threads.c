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
\*===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "attnc/parallel.h"
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

enum { kMaxThreads = 256 };

typedef struct job {
  void (*task)(void *, int64_t);
  void *context;
  int64_t count;
  atomic_int_fast64_t next;
  void (*onEachWorker)(void); /* instead of tasks: once per participant */
  int running;      /* participants not finished yet; guarded by poolLock */
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
static uint64_t generation; /* bumped for every posted job */
/* The latest job and how many workers take part in it. A worker reads the
 * count under poolLock and touches the job only if it takes part: the job
 * lives on its caller's stack, and the caller waits only for participants. */
static job *current;
static int currentParticipants;
static atomic_int requestedThreads; /* 0: default */
static _Thread_local int insideTask;
/* The online CPUs, read once: sysconf opens and reads /sys every time, two
 * system calls per parallel loop (a decode step has several). */
static atomic_int onlineCpus; /* 0: not read yet */

static int cpuCount(void) {
  int n = atomic_load(&onlineCpus);
  if (n == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus < 1 ? 1 : cpus > kMaxThreads ? kMaxThreads : (int)cpus;
    atomic_store(&onlineCpus, n);
  }
  return n;
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

typedef struct worker_start {
  int index;
  uint64_t seen; /* the last job before this worker existed */
} worker_start;

static void *workerMain(void *arg) {
  worker_start start = *(worker_start *)arg;
  free(arg);
  int index = start.index;
  uint64_t seen = start.seen;
  pthread_mutex_lock(&poolLock);
  for (;;) {
    /* Jobs this worker does not take part in pass it by. */
    while (generation == seen || index >= currentParticipants)
      pthread_cond_wait(&jobPosted[index], &poolLock);
    seen = generation;
    job *j = current;
    pthread_mutex_unlock(&poolLock);
    if (j->onEachWorker)
      j->onEachWorker();
    else
      runTasks(j);
    pthread_mutex_lock(&poolLock);
    if (--j->running == 0)
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
    worker_start *start = malloc(sizeof *start);
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
  ++generation;
  for (int i = 0; i < workers; ++i)
    pthread_cond_signal(&jobPosted[i]);
  pthread_mutex_unlock(&poolLock);

  if (whileWaiting)
    whileWaiting(j);

  pthread_mutex_lock(&poolLock);
  while (j->running > 0)
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


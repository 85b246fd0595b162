/*===- scratch.c - per-thread reuse of kernels' temporary blocks ----------===*\
 *
 * Each block carries a 64-byte header holding its capacity and the size
 * last asked of it, so a freed block can be matched to a later request.
 * MLIR-built kernels request the same few sizes on every call; Halide-built
 * ones size a causal attention's score tiles by the keys the tile sees, so
 * sizes grow from task to task. Blocks are therefore made a power of two
 * long, and a request takes the smallest kept block that holds it and is
 * at most twice its size: a growing sequence reuses one block per power of
 * two, and no small request pins a large block. The pages past what a
 * kernel touches are never faulted in, so the rounding costs address space,
 * not memory. Usage counts the sizes asked for.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/scratch.h"
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

enum { kHeader = 64 };

typedef struct cache {
  void *blocks[ATTN_SCRATCH_CACHE_BLOCKS]; /* headers, not user pointers */
  size_t sizes[ATTN_SCRATCH_CACHE_BLOCKS]; /* their capacities */
  int count;
  size_t bytes;
} cache;

static _Thread_local cache threadCache;

/* Bytes handed out and not yet returned, over all threads, and their most
 * since the last attn_scratch_reset_peak. */
static _Atomic size_t inUse, peakInUse;
/* Capacity kept in all threads' caches. (A child of fork() counts its
 * parent's other threads' blocks too, which it cannot reach.) */
static _Atomic size_t kept;

static void countTaken(size_t size) {
  size_t now = atomic_fetch_add(&inUse, size) + size;
  size_t peak = atomic_load(&peakInUse);
  while (now > peak && !atomic_compare_exchange_weak(&peakInUse, &peak, now))
    ;
}
static pthread_key_t exitKey;
static int haveExitKey; /* pthread_key_create can fail (too many keys) */
static pthread_once_t exitKeyOnce = PTHREAD_ONCE_INIT;

static void releaseCache(cache *c) {
  atomic_fetch_sub(&kept, c->bytes);
  for (int i = 0; i < c->count; ++i)
    free(c->blocks[i]);
  c->count = 0;
  c->bytes = 0;
}

static void onThreadExit(void *unused) {
  (void)unused;
  releaseCache(&threadCache);
}

static void createExitKey(void) {
  haveExitKey = pthread_key_create(&exitKey, onThreadExit) == 0;
}

/* Registers the calling thread for cleanup at exit (the key's destructor
 * runs only for threads that set a non-null value). Without a key a
 * thread's blocks are not freed when it exits; key 0 may be someone
 * else's. */
static void watchThread(void) {
  pthread_once(&exitKeyOnce, createExitKey);
  if (haveExitKey && !pthread_getspecific(exitKey))
    pthread_setspecific(exitKey, &threadCache);
}

typedef struct header {
  size_t capacity;
  size_t requested;
} header;

static size_t capacityFor(size_t size) {
  size_t capacity = kHeader;
  while (capacity < size && capacity <= SIZE_MAX / 2)
    capacity *= 2;
  return capacity < size ? size : capacity;
}

void *attnc_scratch_alloc(size_t size) {
  cache *c = &threadCache;
  int best = -1;
  for (int i = 0; i < c->count; ++i)
    if (c->sizes[i] >= size && c->sizes[i] - size <= size &&
        (best < 0 || c->sizes[i] < c->sizes[best]))
      best = i;
  header *h = NULL;
  if (best >= 0) {
    h = c->blocks[best];
    c->bytes -= c->sizes[best];
    atomic_fetch_sub(&kept, c->sizes[best]);
    --c->count;
    c->blocks[best] = c->blocks[c->count];
    c->sizes[best] = c->sizes[c->count];
  } else {
    size_t capacity = capacityFor(size);
    if (capacity > SIZE_MAX - kHeader)
      return NULL;
    void *fresh = NULL;
    if (posix_memalign(&fresh, kHeader, capacity + kHeader) != 0)
      return NULL;
    h = fresh;
    h->capacity = capacity;
  }
  h->requested = size;
  countTaken(size);
  return (char *)h + kHeader;
}

void attnc_scratch_free(void *block) {
  if (!block)
    return;
  header *h = (header *)((char *)block - kHeader);
  atomic_fetch_sub(&inUse, h->requested);
  cache *c = &threadCache;
  size_t capacity = h->capacity;
  if (c->count == ATTN_SCRATCH_CACHE_BLOCKS ||
      capacity > ATTN_SCRATCH_CACHE_BYTES - c->bytes) {
    free(h);
    return;
  }
  watchThread();
  c->blocks[c->count] = h;
  c->sizes[c->count] = capacity;
  ++c->count;
  c->bytes += capacity;
  atomic_fetch_add(&kept, capacity);
}

static void releaseThisThreadsCache(void) { releaseCache(&threadCache); }

void attn_scratch_release(void) {
  releaseThisThreadsCache();
  /* The pool's workers keep blocks of the kernels' tasks too, up to
   * ATTN_SCRATCH_CACHE_BYTES each, for as long as the process runs. */
  attnc_run_on_each_worker(releaseThisThreadsCache);
}

void attn_scratch_usage(size_t *in_use, size_t *peak) {
  if (in_use)
    *in_use = atomic_load(&inUse);
  if (peak)
    *peak = atomic_load(&peakInUse);
}

size_t attn_scratch_kept(void) { return atomic_load(&kept); }

void attn_scratch_reset_peak(void) {
  atomic_store(&peakInUse, atomic_load(&inUse));
}

/*===- scratch.c - per-thread reuse of kernels' temporary blocks ----------===*\
 *
 * Each block carries a 64-byte header holding its size, so a freed block
 * can be matched to the next request of the same size. Kernels request the
 * same few sizes on every call; an exact-size match keeps that simple and
 * wastes nothing.
 *
\*===----------------------------------------------------------------------===*/

#include "attnc/scratch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

enum { kHeader = 64 };

typedef struct cache {
  void *blocks[ATTN_SCRATCH_CACHE_BLOCKS]; /* headers, not user pointers */
  size_t sizes[ATTN_SCRATCH_CACHE_BLOCKS];
  int count;
  size_t bytes;
} cache;

static _Thread_local cache threadCache;

/* Bytes handed out and not yet returned, over all threads, and their most
 * since the last attn_scratch_reset_peak. */
static _Atomic size_t inUse, peakInUse;

static void countTaken(size_t size) {
  size_t now = atomic_fetch_add(&inUse, size) + size;
  size_t peak = atomic_load(&peakInUse);
  while (now > peak && !atomic_compare_exchange_weak(&peakInUse, &peak, now))
    ;
}
static pthread_key_t exitKey;
static pthread_once_t exitKeyOnce = PTHREAD_ONCE_INIT;

static void releaseCache(cache *c) {
  for (int i = 0; i < c->count; ++i)
    free(c->blocks[i]);
  c->count = 0;
  c->bytes = 0;
}

static void onThreadExit(void *unused) {
  (void)unused;
  releaseCache(&threadCache);
}

static void createExitKey(void) { pthread_key_create(&exitKey, onThreadExit); }

/* Registers the calling thread for cleanup at exit (the key's destructor
 * runs only for threads that set a non-null value). */
static void watchThread(void) {
  pthread_once(&exitKeyOnce, createExitKey);
  if (!pthread_getspecific(exitKey))
    pthread_setspecific(exitKey, &threadCache);
}

void *attnc_scratch_alloc(size_t size) {
  cache *c = &threadCache;
  for (int i = c->count - 1; i >= 0; --i) {
    if (c->sizes[i] != size)
      continue;
    void *header = c->blocks[i];
    c->bytes -= size;
    --c->count;
    c->blocks[i] = c->blocks[c->count];
    c->sizes[i] = c->sizes[c->count];
    countTaken(size);
    return (char *)header + kHeader;
  }
  if (size > SIZE_MAX - kHeader)
    return NULL;
  void *header = NULL;
  if (posix_memalign(&header, kHeader, size + kHeader) != 0)
    return NULL;
  *(size_t *)header = size;
  countTaken(size);
  return (char *)header + kHeader;
}

void attnc_scratch_free(void *block) {
  if (!block)
    return;
  void *header = (char *)block - kHeader;
  size_t size = *(size_t *)header;
  atomic_fetch_sub(&inUse, size);
  cache *c = &threadCache;
  if (c->count == ATTN_SCRATCH_CACHE_BLOCKS ||
      size > ATTN_SCRATCH_CACHE_BYTES - c->bytes) {
    free(header);
    return;
  }
  watchThread();
  c->blocks[c->count] = header;
  c->sizes[c->count] = size;
  ++c->count;
  c->bytes += size;
}

void attn_scratch_release(void) { releaseCache(&threadCache); }

void attn_scratch_usage(size_t *in_use, size_t *peak) {
  if (in_use)
    *in_use = atomic_load(&inUse);
  if (peak)
    *peak = atomic_load(&peakInUse);
}

void attn_scratch_reset_peak(void) {
  atomic_store(&peakInUse, atomic_load(&inUse));
}

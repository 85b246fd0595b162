/*===- attnc/scratch.h - memory for kernels' temporaries -----------*- C -*-===*\
 *
 * Kernels allocate their temporaries (score and query tiles, accumulators)
 * through these when the application links the runtime (weak references,
 * as for attnc_parallel_for), else through malloc and free. Shapes are
 * fixed, so every call asks for the same sizes: freed blocks are kept per
 * thread and handed out again, and a kernel called in a loop stops paying
 * for fresh pages (page faults were a third of a large kernel's time).
 * Blocks are a power of two long and serve any request down to half their
 * length (Halide-built kernels size score tiles by the keys a tile sees).
 *
 * At most ATTN_SCRATCH_CACHE_BLOCKS blocks and ATTN_SCRATCH_CACHE_BYTES
 * bytes (of capacity) are kept per thread; the rest is freed at once. A
 * thread's blocks are freed when it exits or by attn_scratch_release on
 * it; the thread pool's workers' blocks by attn_scratch_release on any
 * thread.
 *
\*===----------------------------------------------------------------------===*/

#ifndef ATTNC_SCRATCH_H
#define ATTNC_SCRATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTN_SCRATCH_CACHE_BLOCKS 32
#define ATTN_SCRATCH_CACHE_BYTES ((size_t)256 << 20)

/* A block of at least `size` bytes, aligned to 64 bytes; NULL if out of
 * memory. */
void *attnc_scratch_alloc(size_t size);
/* Returns a block from attnc_scratch_alloc (NULL is ignored). */
void attnc_scratch_free(void *block);
/* Frees the calling thread's kept blocks and those of the thread pool's
 * workers (after a parallel loop another thread runs has ended). Called
 * from inside a kernel's task, only the calling thread's. */
void attn_scratch_release(void);
/* Bytes asked for by blocks handed out and not yet returned, over all
 * threads (`in_use`), and the most at any time since the last
 * attn_scratch_reset_peak (`peak`): a kernel's temporary memory. Either
 * pointer may be NULL. */
void attn_scratch_usage(size_t *in_use, size_t *peak);
void attn_scratch_reset_peak(void);
/* Bytes of capacity all threads keep for reuse: what attn_scratch_release
 * on every thread would free (the pool's workers' included). */
size_t attn_scratch_kept(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_SCRATCH_H */

//===- ScratchTest.cpp - the runtime's per-thread scratch blocks ----------===//

#include "attnc/parallel.h"
#include "attnc/scratch.h"

#include "gtest/gtest.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

namespace {

bool aligned64(const void *p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}

TEST(ScratchTest, BlocksAreAlignedAndUsable) {
  for (size_t size : {size_t(1), size_t(63), size_t(4096), size_t(3) << 20}) {
    void *p = attnc_scratch_alloc(size);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned64(p)) << size;
    std::memset(p, 0xab, size);
    attnc_scratch_free(p);
  }
  attn_scratch_release();
}

/// The point of the cache: a kernel called again gets its blocks back
/// instead of fresh pages.
TEST(ScratchTest, AFreedBlockIsReusedForTheSameSize) {
  attn_scratch_release();
  void *a = attnc_scratch_alloc(1 << 20);
  attnc_scratch_free(a);
  void *b = attnc_scratch_alloc(1 << 20);
  EXPECT_EQ(a, b);
  void *c = attnc_scratch_alloc(1 << 20); // the cached one is taken
  EXPECT_NE(b, c);
  attnc_scratch_free(b);
  attnc_scratch_free(c);
  void *d = attnc_scratch_alloc(2 << 20); // no block of this size is kept
  EXPECT_NE(d, b);
  EXPECT_NE(d, c);
  attnc_scratch_free(d);
  attn_scratch_release();
}

// Halide-built kernels size score tiles by the keys a tile sees: blocks
// are a power of two long, serve requests down to half their length, and
// the smallest fitting block is taken. Usage counts the sizes asked for.
TEST(ScratchTest, GrowingRequestsReuseABlockPerPowerOfTwo) {
  attn_scratch_release();
  void *large = attnc_scratch_alloc(100000); // 128 KiB
  void *small = attnc_scratch_alloc(40000);  // 64 KiB
  attnc_scratch_free(large);
  attnc_scratch_free(small);
  void *a = attnc_scratch_alloc(50000); // both fit: the smaller is taken
  EXPECT_EQ(a, small);
  void *b = attnc_scratch_alloc(66000); // 66000..131072: the larger
  EXPECT_EQ(b, large);
  attnc_scratch_free(a);
  attnc_scratch_free(b);
  void *grown = attnc_scratch_alloc(65536); // still 64 KiB
  EXPECT_EQ(grown, small);
  void *tiny = attnc_scratch_alloc(20000); // under half of 128 KiB
  EXPECT_NE(tiny, large);
  void *bigger = attnc_scratch_alloc(131073); // more than either
  EXPECT_NE(bigger, large);
  size_t inUse = 0;
  attn_scratch_usage(&inUse, nullptr);
  attnc_scratch_free(tiny);
  attnc_scratch_free(bigger);
  size_t after = 0;
  attn_scratch_usage(&after, nullptr);
  EXPECT_EQ(inUse - after, 20000u + 131073u);
  attnc_scratch_free(grown);
  attn_scratch_release();
}

TEST(ScratchTest, BlocksAreKeptPerThread) {
  attn_scratch_release();
  void *mine = attnc_scratch_alloc(4096);
  attnc_scratch_free(mine);
  void *theirs = nullptr;
  std::thread([&] {
    theirs = attnc_scratch_alloc(4096);
    attnc_scratch_free(theirs);
  }).join(); // the thread's cache is freed when it exits
  EXPECT_NE(mine, theirs);
  EXPECT_EQ(attnc_scratch_alloc(4096), mine);
  attnc_scratch_free(mine);
  attn_scratch_release();
}

TEST(ScratchTest, TheCacheIsBounded) {
  attn_scratch_release();
  void *blocks[ATTN_SCRATCH_CACHE_BLOCKS + 4];
  for (void *&b : blocks)
    b = attnc_scratch_alloc(64);
  for (void *b : blocks)
    attnc_scratch_free(b); // the last 4 go straight back to malloc
  int reused = 0;
  for (int i = 0; i < ATTN_SCRATCH_CACHE_BLOCKS + 4; ++i) {
    void *p = attnc_scratch_alloc(64);
    for (void *b : blocks)
      reused += p == b;
    blocks[i] = p;
  }
  EXPECT_LE(reused, ATTN_SCRATCH_CACHE_BLOCKS);
  for (void *b : blocks)
    attnc_scratch_free(b);
  attnc_scratch_free(nullptr);
  attn_scratch_release();
}

TEST(ScratchTest, UsageCountsBlocksHandedOutOverAllThreads) {
  attn_scratch_release();
  size_t base = 0, peak = 0;
  attn_scratch_usage(&base, nullptr);
  attn_scratch_reset_peak();
  void *a = attnc_scratch_alloc(1000);
  void *b = attnc_scratch_alloc(3000);
  std::thread other([] {
    void *c = attnc_scratch_alloc(500);
    attnc_scratch_free(c);
  });
  other.join();
  attnc_scratch_free(a);
  size_t inUse = 0;
  attn_scratch_usage(&inUse, &peak);
  EXPECT_EQ(inUse, base + 3000);
  // a and b at once, plus the other thread's block if it ran meanwhile.
  EXPECT_GE(peak, base + 4000);
  EXPECT_LE(peak, base + 4500);
  attn_scratch_reset_peak();
  attn_scratch_usage(nullptr, &peak);
  EXPECT_EQ(peak, base + 3000);
  // A kept block handed out again counts again.
  void *again = attnc_scratch_alloc(1000);
  attn_scratch_usage(&inUse, nullptr);
  EXPECT_EQ(inUse, base + 4000);
  attnc_scratch_free(again);
  attnc_scratch_free(b);
  attn_scratch_usage(&inUse, nullptr);
  EXPECT_EQ(inUse, base);
  attn_scratch_release();
}

/// attn_scratch_release frees what the pool's workers keep as well as the
/// calling thread's blocks: a worker has no other moment to let go of them
/// (it never exits), so a process that ran one large kernel would hold its
/// workers' temporaries, up to ATTN_SCRATCH_CACHE_BYTES each, for good.
TEST(ScratchTest, ReleaseFreesThePoolWorkersBlocks) {
  int saved = attn_set_num_threads(2);
  attn_scratch_release();
  ASSERT_EQ(attn_scratch_kept(), 0u);
  struct Run {
    std::atomic<int> started{0};
    std::atomic<bool> onWorker{false};
    std::thread::id caller = std::this_thread::get_id();
  } run;
  // Two tasks that wait for each other, so that the caller and the worker
  // take one each (a lone caller gives up waiting after 10 s).
  attnc_parallel_for(
      2,
      [](void *context, int64_t) {
        auto &r = *static_cast<Run *>(context);
        if (std::this_thread::get_id() != r.caller)
          r.onWorker = true;
        ++r.started;
        auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (r.started < 2 && std::chrono::steady_clock::now() < giveUp)
          std::this_thread::yield();
        attnc_scratch_free(attnc_scratch_alloc(1 << 20));
      },
      &run);
  ASSERT_TRUE(run.onWorker) << "no pool worker ran a task";
  EXPECT_EQ(attn_scratch_kept(), size_t(2) << 20); // one block per thread
  attn_scratch_release();
  EXPECT_EQ(attn_scratch_kept(), 0u);
  attn_set_num_threads(saved);
}

} // namespace

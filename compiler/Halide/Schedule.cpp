//===- Schedule.cpp - where and in which order the Funcs are computed -----===//

#include "Schedule.h"

#include <algorithm>

using namespace Halide;
using namespace attnc::hl;

namespace {

/// Attention runs in at least this many tasks: one per head, or parts of
/// heads when there are fewer heads. Whole heads measured best (two parts
/// per head at 8 heads lost most of the gain of whole heads over single
/// query tiles); 8 tasks keep up to 8 threads busy.
constexpr int kMinAttentionTasks = 8;

/// A linear runs a task per column panel of its weight when it has at
/// least this many panels (enough tasks for 8 threads); with fewer, its
/// tasks are tiles of rows and columns.
constexpr int kMinProductPanels = 8;

/// The largest of `candidates` (descending) that divides `n`: tiles that
/// divide their loop exactly keep constant extents, so they can be
/// unrolled, and need no tail code.
int divisorOf(int n, std::initializer_list<int> candidates) {
  for (int c : candidates)
    if (n % c == 0)
      return c;
  return 1;
}

class HandScheduler {
public:
  HandScheduler(Algorithm &alg, const Target &target)
      : alg(alg), lanes(target.natural_vector_size<float>()) {}

  void run() {
    for (Construct &construct : alg.constructs) {
      // RoPE's tables once, in double, even when the rotation is inlined.
      if (construct.cosTable.defined()) {
        construct.cosTable.compute_root();
        construct.sinTable.compute_root();
      }
      if (!needsOwnBuffer(construct))
        continue; // inlined into its one consumer
      switch (construct.op->kind) {
      case ATTNC_HL_LINEAR:
      case ATTNC_HL_MATMUL:
        scheduleProduct(construct);
        break;
      case ATTNC_HL_SDPA:
        scheduleAttention(construct);
        break;
      case ATTNC_HL_ATTENTION_PROBS:
        scheduleProbabilities(construct);
        break;
      case ATTNC_HL_DECODE_ATTENTION:
        if (construct.decodeRows > 1)
          scheduleChunkAttention(construct);
        else
          scheduleDecodeAttention(construct);
        break;
      case ATTNC_HL_LAYER_NORM:
      case ATTNC_HL_RMS_NORM:
        scheduleRows(construct);
        break;
      case ATTNC_HL_SOFTMAX:
        construct.stats.compute_root();
        construct.product.compute_root();
        scheduleElementwise(construct);
        break;
      default:
        scheduleElementwise(construct);
        break;
      }
    }
    for (Algorithm::OutputCopy &copy : alg.outputCopies) {
      if (int vec = vectorFor(copy.extents[0]); vec > 1)
        copy.func.vectorize(copy.vars[0], vec);
      if (copy.vars.size() > 1)
        copy.func.parallel(copy.vars.back());
    }
  }

private:
  int extentOf(const Construct &construct, int dim) const {
    const attnc_hl_shape &s = alg.shapes[construct.op->result];
    return static_cast<int>(s.dims[s.rank - 1 - dim]);
  }
  int vectorFor(int n) const {
    for (int v = lanes; v > 1; v /= 2)
      if (n % v == 0)
        return v;
    return 1;
  }

  /// A sum computed per block of `consumer`'s loop `level`: columns `x`
  /// in vectors of `vec`, rows `y`, the reduction `r` outermost, every
  /// vector and row unrolled in both stages, so the block's sums are a
  /// small buffer of constant indices that LLVM keeps in registers over
  /// the reduction. Callers unroll the consumer's loops over the block
  /// too: then no access is left at a computed index, LLVM promotes the
  /// whole buffer, and the sums go from registers to where the consumer
  /// stores them (with a loop over rows at either end, each block was
  /// zeroed in memory, reloaded, stored and reloaded again: 106
  /// instructions at the ends of a block of H8 S512 D64's scores, 43 now;
  /// the time of the kernels moved less than this machine's noise).
  static void keepInRegisters(Func sum, Func consumer, Var level, Var x,
                              Var y, RVar r, int vec) {
    keepInRegisters(sum, LoopLevel(consumer, level), x, y, r, vec);
  }
  static void keepInRegisters(Func sum, LoopLevel level, Var x, Var y,
                              RVar r, int vec) {
    sum.compute_at(level);
    Halide::Stage update = sum.update();
    update.reorder(x, y, r);
    if (vec > 1) {
      sum.vectorize(x, vec).unroll(x);
      update.vectorize(x, vec).unroll(x);
    }
    sum.unroll(y);
    update.unroll(y);
  }

  /// Outputs and anything a reduction reads (a product would recompute an
  /// inlined producer for every output element) get their own buffer, as
  /// does a value read by several constructs. Moves of elements (slices,
  /// head splits, transposes) are always folded into their readers.
  bool needsOwnBuffer(const Construct &construct) const {
    int32_t value = construct.op->result;
    if (alg.isOutput[value] || construct.isReduction())
      return true;
    if (construct.isIndexRemap())
      return false;
    const std::vector<int> &readers = alg.consumers[value];
    if (readers.size() != 1)
      return true;
    const Construct &reader = alg.constructs[readers[0]];
    return reader.isReduction() || reader.op->kind == ATTNC_HL_ROPE;
  }

  void scheduleElementwise(Construct &construct) {
    Func f = construct.result;
    std::vector<Var> &v = construct.vars;
    f.compute_root();
    int inner = extentOf(construct, 0);
    // Aligned, a reader's part of the columns (a piece of a split) is
    // computed in whole vectors inside the value; unaligned, Halide would
    // shift the last vector to before column 0.
    if (int vec = vectorFor(inner); vec > 1)
      f.align_bounds(v[0], vec).vectorize(v[0], vec);
    if (v.size() > 1)
      f.parallel(v.back());
  }

  /// Linear and matmul: output tiles of rows x (2 vectors), the sum over
  /// the inner dimension kept in 2 x rows vector registers, tiles ordered
  /// so that consecutive ones share the same weight columns.
  void scheduleProduct(Construct &construct) {
    Func out = construct.result, sum = construct.product;
    std::vector<Var> &v = construct.vars;
    Var x = v[0], y = v[1], xi("xi"), yi("yi"), tile("tile");
    int cols = extentOf(construct, 0), rows = extentOf(construct, 1);
    int vec = vectorFor(cols);
    if (rows == 1 && v.size() == 2)
      return scheduleRowProduct(construct, vec);
    // A single row of a batched product (an unbatched one takes
    // scheduleRowProduct) is bound by reading the weight: up to 16 vectors
    // of columns per pass read 1 KB of each weight row at a time, which the
    // memory system streams far better than 128 bytes.
    int tileCols = rows == 1 ? divisorOf(cols, {16 * vec, 8 * vec, 4 * vec,
                                                2 * vec, vec})
                             : divisorOf(cols, {2 * vec, vec});
    int tileRows = divisorOf(rows, {8, 6, 4, 3, 2});
    if (construct.weight.defined() && v.size() == 2 &&
        cols / tileCols >= kMinProductPanels)
      return schedulePanelProduct(construct, tileCols, tileRows, vec);
    // Tiles divide the value's extents; aligned to them, the tiles of a
    // reader's part (a piece of a split) stay inside the value.
    out.compute_root()
        .align_bounds(x, tileCols)
        .align_bounds(y, tileRows)
        .tile(x, y, xi, yi, tileCols, tileRows)
        .reorder(xi, yi, y, x);
    if (v.size() == 3)
      out.fuse(y, x, tile).fuse(tile, v[2], tile).parallel(tile);
    else
      out.fuse(y, x, tile).parallel(tile);
    if (vec > 1)
      out.vectorize(xi, vec).unroll(xi);
    out.unroll(yi);
    keepInRegisters(sum, out, tile, x, y, construct.inner.x, vec);
  }

  /// A linear: a task takes a column panel of the weight (2 vectors wide),
  /// copies it into a dense buffer (K x 2 vectors), then runs every row tile
  /// over it. Read in place, the panel's rows lie a whole weight row apart:
  /// rows a multiple of 4 KB long all fall into the same cache sets (a
  /// grouped-query attention block of width 2048 at 2048 tokens, its four
  /// projections and the attention: 1273 -> 722 ms on one thread), and
  /// others into a fraction of them (the GPT-2 block at 1024 tokens: 65.9
  /// -> 62.6 ms). The MLIR backend copies its panels the same way.
  void schedulePanelProduct(Construct &construct, int tileCols, int tileRows,
                            int vec) {
    Func out = construct.result, sum = construct.product;
    Var x = construct.vars[0], y = construct.vars[1], xi("xi"), yi("yi");
    out.compute_root()
        .align_bounds(x, tileCols)
        .align_bounds(y, tileRows)
        .tile(x, y, xi, yi, tileCols, tileRows)
        .reorder(xi, yi, y, x)
        .parallel(x);
    if (vec > 1)
      out.vectorize(xi, vec).unroll(xi);
    out.unroll(yi);
    Func panel = construct.weight.in(sum);
    panel.compute_at(out, x);
    if (vec > 1)
      panel.vectorize(panel.args()[0], vec);
    keepInRegisters(sum, out, y, x, y, construct.inner.x, vec);
  }

  /// A single row times a matrix (a decode step's linears) is bound by
  /// reading the matrix: its rows are read whole, in order, in bands of
  /// 64, each band a task summing its rows into partial sums of every
  /// column (a row of the GPT-2 block's QKV weight is 9 KB, its sums stay
  /// in L1), then the bands' sums are added up per column.
  void scheduleRowProduct(Construct &construct, int vec) {
    Func out = construct.result, sum = construct.product;
    Var x = construct.vars[0], y = construct.vars[1], band("band");
    RVar k = construct.inner.x, bandOf("band_of"), inBand("in_band");
    Func partial = sum.update()
                       .split(k, bandOf, inBand, 64, TailStrategy::GuardWithIf)
                       .rfactor(bandOf, band);
    partial.compute_root();
    partial.update().reorder(x, inBand, y, band).parallel(band);
    sum.compute_root();
    out.compute_root();
    if (vec > 1) {
      partial.vectorize(x, vec);
      partial.update().vectorize(x, vec);
      sum.vectorize(x, vec);
      sum.update().vectorize(x, vec);
      out.vectorize(x, vec);
    }
  }

  /// Query rows per task of attention_probs: 32, fewer when the tile's
  /// scores and weights (2 x rows x keys floats) would pass 256 KB, half of
  /// L2.
  int queryTile(const Construct &construct, int queries) const {
    int keys = static_cast<int>(alg.shapes[construct.op->operands[1]].dims[0]);
    for (int tq : {32, 16, 8, 4, 2})
      if (queries % tq == 0 && (2 * 4 * tq * keys <= (256 << 10) || tq == 8))
        return tq;
    return 1;
  }

  /// Attention: a task is a head, or a part of its query tiles when there
  /// are too few heads to keep the threads busy. A task packs the keys its
  /// tiles see (so they stay in its core's cache and no parallel pass of
  /// its own packs them first: at 8 heads and S512, that pass and its
  /// wake-up of the workers cost 10-15 % on two threads), then runs its
  /// query tiles one after the other. Inside a tile: scores of the tile's
  /// rows against the keys they see (a register-blocked product over the
  /// head's features), their maximum, the weights, their sum, and the
  /// weighted sum of values.
  void scheduleAttention(Construct &construct) {
    const int D = static_cast<int>(construct.headDim);
    Func out = construct.result;
    Var c = construct.vars[0], row = construct.vars[1];
    Var head("h"), feature("d"), tileRow("io"), rowInTile("ii"), task("task");
    Var part("part"), tileInPart("tile");
    int queries = extentOf(construct, 1);
    // A query tile is one of the algorithm's groups of rows that share a
    // range of value chunks: a tile of part of a group would make Halide
    // compute the whole group's accumulator. The last tile of a context
    // that is not a multiple of it shifts inwards (recomputes some rows).
    int tq = std::min(construct.chunkWidth, queries);
    int tiles = (queries + tq - 1) / tq;
    int heads = static_cast<int>(construct.op->heads);
    int parts = std::clamp((kMinAttentionTasks + heads - 1) / heads, 1, tiles);
    int tilesPerPart = (tiles + parts - 1) / parts;
    int vecD = vectorFor(D);
    out.compute_root()
        .split(c, head, feature, D)
        .split(row, tileRow, rowInTile, tq)
        .split(tileRow, part, tileInPart, tilesPerPart)
        .reorder(feature, rowInTile, tileInPart, part, head)
        .fuse(part, head, task)
        .parallel(task);
    if (vecD > 1)
      out.vectorize(feature, vecD);
    construct.keysT.compute_at(out, task);
    scheduleTile(construct, out, task, tileInPart, tq);

    // Sum of weights times values, chunk after chunk of keys (whose values
    // stay in L1): for each chunk, blocks of rows x (D / vecD) vectors
    // whose sums over the chunk's keys are a small buffer of constant
    // indices that LLVM keeps in registers, then added to the tile's
    // accumulator. A chunk's sums for D / vecD <= 4 vectors per row take
    // 4 rows at a time, wider rows 2: at most 16 registers of sums.
    int blockRows = divisorOf(tq, {D / vecD <= 4 ? 4 : 2, 2});
    Func acc = construct.accumulator;
    Var block("rows"), rowInBlock("row");
    Var d = construct.feature, i = construct.rowInGroup;
    acc.compute_at(out, tileInPart);
    acc.update()
        .split(i, block, rowInBlock, blockRows)
        .reorder(d, rowInBlock, block, construct.groupChunks.x,
                 construct.queryGroup);
    if (vecD > 1) {
      acc.vectorize(d, vecD);
      acc.update().vectorize(d, vecD).unroll(d);
    }
    acc.update().unroll(rowInBlock);
    keepInRegisters(construct.chunkSum, LoopLevel(acc, block), d, i,
                    construct.chunkKeys.x, vecD);
  }

  void scheduleProbabilities(Construct &construct) {
    Func out = construct.result;
    Var j = construct.key, i = construct.query, h = construct.head;
    Var io("io"), ii("ii"), task("task");
    int tq = queryTile(construct, extentOf(construct, 1));
    out.compute_root()
        .split(i, io, ii, tq)
        .reorder(j, ii, io, h)
        .fuse(io, h, task)
        .parallel(task);
    if (int vec = vectorFor(extentOf(construct, 0)); vec > 1)
      out.vectorize(j, vec);
    construct.keysT.compute_root().parallel(construct.head);
    scheduleTile(construct, out, task, task, tq);
  }

  /// A decode step's attention, one row per head, parallel over heads:
  /// scores against each range of slots the step reads, summed over the
  /// head's features a key-cache row (one feature of the range's slots) at
  /// a time, so the rows stream in order (blocks of 64 slots with their
  /// sums in registers read pieces of 64 rows at once: a GPT-2 step, cold,
  /// took 0.79-0.96 ms on one thread against 0.69-0.86, 0.49-0.63 on two
  /// against 0.50-0.57, alternated); then per head the maximum, the
  /// weights and their sum, then the visible slots' values a vector of
  /// features at a time. A range's bounds are known only at run time, so
  /// each of its stages is realized over just that range.
  void scheduleDecodeAttention(Construct &construct) {
    Func out = construct.result;
    Var s = construct.key, h = construct.head, d = construct.feature;
    const int D = static_cast<int>(construct.headDim);
    out.compute_root();
    if (int vec = vectorFor(extentOf(construct, 0)); vec > 1)
      out.vectorize(construct.vars[0], vec);
    construct.newKeyDot.compute_root();
    // Ranges are whole blocks of slotBlock slots: no vector tails.
    int vecS = construct.slotBlock;
    for (const Construct::DecodeSlotRange &range : construct.slotRanges) {
      Func dot = range.dot, dotSum = range.dotSum, weights = range.weights;
      dot.compute_root().parallel(h);
      dotSum.compute_at(dot, h);
      dotSum.update().reorder(s, construct.features.x, h);
      weights.compute_root().parallel(h);
      if (vecS > 1) {
        dot.vectorize(s, vecS);
        dotSum.vectorize(s, vecS);
        dotSum.update().vectorize(s, vecS);
        weights.vectorize(s, vecS);
      }
    }
    construct.rowMax.compute_root();
    construct.rowSum.compute_root();
    Func acc = construct.accumulator;
    acc.compute_root().parallel(h);
    int vecD = vectorFor(D);
    if (vecD > 1)
      acc.vectorize(d, vecD);
    for (int r = 0; r < 2; ++r) {
      Stage update = acc.update(r);
      update.reorder(d, construct.slotRanges[r].valueSlots.x, h).parallel(h);
      if (vecD > 1)
        update.vectorize(d, vecD);
    }
  }

  /// A chunk's attention, a task per head: the scores of the chunk's rows
  /// against the slots of each range and against the chunk's own rows, in
  /// register blocks of 8 rows x (a block of slotBlock slots, two vectors)
  /// summed over the head's features (a feature of the range's slots is a
  /// piece of a key-cache row); per-lane maxima, the weights, per-lane
  /// sums; then the
  /// weighted sums of values for blocks of rows x (the head's features),
  /// each block's sums in registers over the slots. A range's bounds are
  /// known only at run time; they are whole blocks of slotBlock slots.
  void scheduleChunkAttention(Construct &construct) {
    const int D = static_cast<int>(construct.headDim);
    const int N = construct.decodeRows;
    Var s = construct.key, n = construct.query, h = construct.head;
    Var d = construct.feature, lane = construct.lane;
    Func heads = construct.accumulator, out = construct.result;
    out.compute_root().parallel(construct.vars[1]);
    if (int vec = vectorFor(extentOf(construct, 0)); vec > 1)
      out.vectorize(construct.vars[0], vec);

    int vecD = vectorFor(D);
    int blockRows = divisorOf(N, {D / std::max(vecD, 1) <= 4 ? 4 : 2, 2});
    Var block("rows"), rowInBlock("row");
    heads.compute_root()
        .split(n, block, rowInBlock, blockRows)
        .reorder(d, rowInBlock, block, h)
        .parallel(h)
        .unroll(rowInBlock);
    if (vecD > 1)
      heads.vectorize(d, vecD).unroll(d);
    LoopLevel task(heads, h);

    int dotRows = divisorOf(N, {8, 4, 2});
    auto scheduleScores = [&](Construct::DecodeSlotRange &range, Var key,
                              int vec) {
      Var ko("dot_ko"), ki("dot_ki"), io("dot_io"), ii("dot_ii");
      range.dot.compute_at(task)
          .split(key, ko, ki, vec)
          .split(n, io, ii, dotRows)
          .reorder(ki, ii, io, ko)
          .unroll(ii);
      if (vec > 1)
        range.dot.vectorize(ki, std::min(vec, lanes)).unroll(ki);
      keepInRegisters(range.dotSum, range.dot, io, key, n,
                      construct.features.x, vec);
      range.weights.compute_at(task);
      if (vec > 1)
        range.weights.vectorize(key, std::min(vec, lanes));
    };
    Construct::DecodeSlotRange &own = construct.ownRows;
    Var m = own.dot.args()[0];
    construct.ownKeys.compute_at(task);
    if (int vec = vectorFor(N); vec > 1)
      construct.ownKeys.vectorize(construct.ownKeys.args()[0], vec);
    scheduleScores(own, m, vectorFor(N));
    int vecS = construct.slotBlock;
    for (Construct::DecodeSlotRange &range : construct.slotRanges) {
      scheduleScores(range, s, vecS);
      for (Func partial : {range.partialMax, range.partialSum}) {
        partial.compute_at(task);
        if (vecS > 1) {
          partial.vectorize(lane);
          partial.update().vectorize(lane);
        }
      }
    }
    construct.rowMax.compute_at(task);
    construct.rowSum.compute_at(task);

    for (Construct::DecodeSlotRange *range :
         {&own, &construct.slotRanges[0], &construct.slotRanges[1]})
      keepInRegisters(range->valueSum, LoopLevel(heads, block), d, n,
                      range->valueSlots.x, vecD);
  }

  /// The stages of one query tile up to the weights, in a task of the
  /// same head (`task`); the caller places the packed keys. The key
  /// ranges they cover start and end anywhere; they are widened to whole
  /// panels and vectors (align_bounds, RoundUp: the buffers grow to match,
  /// and the extra keys read clamped rows of the inputs and are never
  /// consumed). Halide 14's GuardWithIf vector tails wrote past these
  /// buffers instead.
  void scheduleTile(Construct &construct, Func out, Var task, Var tile,
                    int tq) {
    Var j = construct.key, i = construct.query;
    construct.keysT.vectorize(construct.inPanel, lanes);
    int vecD = vectorFor(static_cast<int>(construct.headDim));
    // Copies of the head's queries and values only where the model's rows
    // are a multiple of 4 KB long: there consecutive rows fall into the
    // same cache sets. Elsewhere the copy costs more than it saves.
    const attnc_hl_shape &q = alg.shapes[construct.op->operands[0]];
    bool conflicting = (q.dims[1] * 4) % 4096 == 0;
    if (conflicting) {
      construct.queries.compute_at(out, tile);
      if (vecD > 1)
        construct.queries.vectorize(construct.feature, vecD);
    }
    if (conflicting && construct.values.defined()) {
      construct.values.compute_at(out, task);
      if (vecD > 1)
        construct.values.vectorize(construct.feature, vecD);
    }
    // q . k for blocks of 8 rows x (2 vectors of keys), each block's 16
    // sums in registers over the features, then stored into the tile's
    // scores (4-row blocks: 6 loads per 8 FMAs and 8 sums, too few to
    // cover the FMA latency; 5-10 % slower at D 64 and 128).
    Var jo("dot_jo"), ji("dot_ji"), io("dot_io"), ii("dot_ii");
    int blockRows = divisorOf(tq, {8, 4, 2});
    // Whole panels of keys: the panel and the key in it are then the block
    // and the lane index, with no division left in the loop.
    construct.dot.compute_at(out, tile)
        .align_bounds(j, construct.panelWidth)
        .split(j, jo, ji, construct.panelWidth, TailStrategy::RoundUp)
        .split(i, io, ii, blockRows)
        .reorder(ji, ii, io, jo) // a key block stays in L1 for every row block
        .vectorize(ji, lanes)
        .unroll(ji)
        .unroll(ii);
    keepInRegisters(construct.dotSum, construct.dot, io, j, i,
                    construct.features.x, lanes);
    for (Func partial : {construct.partialMax, construct.partialSum}) {
      partial.compute_at(out, tile).vectorize(construct.lane);
      partial.update().vectorize(construct.lane);
    }
    construct.rowMax.compute_at(out, tile);
    construct.weights.compute_at(out, tile)
        .vectorize(j, lanes, TailStrategy::RoundUp);
    construct.rowSum.compute_at(out, tile);
  }

  /// Norms: a row's statistics, then the row, in parallel over rows.
  void scheduleRows(Construct &construct) {
    Func out = construct.result;
    Var c = construct.vars[0], t = construct.vars[1];
    out.compute_root().parallel(t);
    if (int vec = vectorFor(extentOf(construct, 0)); vec > 1)
      out.vectorize(c, vec);
    construct.stats.compute_at(out, t);
    if (construct.product.defined())
      construct.product.compute_at(out, t);
  }

  Algorithm &alg;
  const int lanes;
};

} // namespace

void attnc::hl::scheduleByHand(Algorithm &algorithm, const Target &target) {
  HandScheduler(algorithm, target).run();
}

void attnc::hl::scheduleAutomatically(Algorithm &alg, Pipeline &pipeline,
                                      const Target &target,
                                      const std::string &name,
                                      const std::string &pluginDir,
                                      int threads) {
  for (size_t a = 0; a < alg.arguments.size(); ++a) {
    Region region;
    for (int e : alg.argumentExtents[a])
      region.push_back(Range(0, e));
    alg.arguments[a].set_estimates(region);
  }
  if (alg.hasPosition)
    alg.position.set_estimate(0);
  for (size_t o = 0; o < alg.outputs.size(); ++o) {
    Region region;
    for (int e : alg.outputExtents[o])
      region.push_back(Range(0, e));
    alg.outputs[o].set_estimates(region);
  }
  // The plugins register under capitalized names.
  std::string registered = name == "adams2019"       ? "Adams2019"
                           : name == "li2018"        ? "Li2018"
                           : name == "mullapudi2016" ? "Mullapudi2016"
                                                     : name;
  load_plugin(pluginDir + "/libautoschedule_" + name + ".so");
  // Caches of this class of machine: 1 MB of L2 per core; the balance is
  // Halide's default for CPUs.
  pipeline.auto_schedule(registered, target,
                         MachineParams(threads, 1 << 20, 40));
}

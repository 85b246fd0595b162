//===- ChooseTiles.cpp - tile sizes of attention, decided in one place ----===//
//
// Recording the choice as an attribute before lowering (as IREE records a
// lowering_config) lets `attnc --emit=attn` show why a kernel looks as it
// does and lets tests pin it.
//
//===----------------------------------------------------------------------===//

#include "attnc/Passes.h"

#include "attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

#include <optional>
#include <tuple>

namespace attnc {
#define GEN_PASS_DEF_CHOOSETILES
#include "attnc/Passes.h.inc"
} // namespace attnc

using namespace mlir;

namespace {

/// Largest candidate dividing both lengths, at most `largest`; 0 if none
/// does. 64 x 64 score tiles (16 KiB) with their [64, D] accumulators stay
/// in L1/L2.
int64_t heuristicTile(int64_t queries, int64_t keys, int64_t largest) {
  for (int64_t t : {64, 32, 16})
    if (t <= largest && queries % t == 0 && keys % t == 0)
      return t;
  return 0;
}

/// The tile for lengths none of the candidates divides, whose last tile
/// the lowering pads: the one with the fewest padded query-key pairs,
/// weighed by what a smaller tile costs per pair. Unmasked H12 D64 on one
/// thread, 256 and 1024 tokens (no padding), 32 x 32 tiles took 1.00 and
/// 1.01x the time of 64 x 64, 16 x 16 1.06 and 1.02x; at 197 tokens
/// (ViT's 196 patches and a class token) 16 x 16 tiles, padded to 208,
/// took 1.52 ms where 64 x 64, padded to 256, took 2.18-2.25 (32 x 32:
/// 1.75). At 1000 tokens 64 x 64 stays: 20.3 ms causal against 21.4 with
/// 16 x 16.
int64_t paddedTile(int64_t queries, int64_t keys, int64_t largest) {
  constexpr std::pair<int64_t, int64_t> costPercent[] = {
      {64, 100}, {32, 101}, {16, 106}};
  int64_t best = 0, bestCost = 0;
  for (auto [t, percent] : costPercent) {
    if (t > largest)
      continue;
    int64_t cost = llvm::divideCeil(queries, t) * t *
                   llvm::divideCeil(keys, t) * t * percent;
    if (best == 0 || cost < bestCost) {
      best = t;
      bestCost = cost;
    }
  }
  return best;
}

/// A query tile of a window(W) mask visits about W + T keys of which it
/// uses W: up to W = 256 the smaller tile's waste outweighs its overhead.
int64_t largestTileFor(attn::SdpaOp op) {
  if (op.getMask() == attn::MaskKind::window && op.getWindow() &&
      *op.getWindow() <= 256)
    return 32;
  return 64;
}

/// Without a mask, heads of 128 features or more take 256 queries by 32
/// keys: each key tile's K and V rows then serve 256 queries instead of 64
/// (H32 S2048 D128 on one thread, lowest of four calls: 406 ms against 420
/// ms with 64 x 64; 128 x 32: 413 ms). A mask keeps square tiles. Causal
/// tiles of 256 x 32, whose diagonal block runs in 64-query sub-tiles
/// (SdpaToFlash), were still slower than 64 x 64: 244-246 ms against
/// 231-237 ms at H32 S2048 D128 on one thread, 125-139 against 117-123 ms
/// on two (128 x 64 and 256 x 64 in between). Since the query tile is
/// transposed in 16 x 16 register blocks (attn-vectorize), which cost the
/// 256-query tiles most, the two are level: 203-218 ms (64 x 64) against
/// 201-220 ms (256 x 32) over three alternating rounds, 128 x 64, 128 x 32
/// and 256 x 64 within the same range, so causal tiles stay square.
std::optional<std::pair<int64_t, int64_t>>
wideHeadTiles(attn::SdpaOp op, int64_t queries, int64_t keys) {
  int64_t width = op.getQuery().getType().getDimSize(1);
  int64_t headDim = width / static_cast<int64_t>(op.getHeads());
  if (op.getMask() != attn::MaskKind::none || op.getBias() || headDim < 128 ||
      queries % 256 != 0 || keys % 32 != 0)
    return std::nullopt;
  return std::make_pair(int64_t(256), int64_t(32));
}

struct ChooseTilesPass : attnc::impl::ChooseTilesBase<ChooseTilesPass> {
  using ChooseTilesBase::ChooseTilesBase;

  void runOnOperation() override {
    if (!tileSizes.empty() && tileSizes.size() != 2) {
      getOperation().emitError("tile-sizes takes two values: query and key "
                               "tile lengths");
      return signalPassFailure();
    }
    WalkResult result = getOperation().walk([&](attn::SdpaOp op) {
      if (op->hasAttr("attn.tiles"))
        return WalkResult::advance();
      int64_t queries = op.getQuery().getType().getDimSize(0);
      int64_t keys = op.getKey().getType().getDimSize(0);
      int64_t tq, tk;
      if (!tileSizes.empty()) {
        tq = tileSizes[0];
        tk = tileSizes[1];
        if (tq <= 0 || tk <= 0 || tq > queries || tk > keys) {
          op.emitError() << "tile sizes " << tq << "x" << tk
                         << " must be positive and at most the " << queries
                         << " queries and " << keys << " keys";
          return WalkResult::interrupt();
        }
      } else if (auto wide = wideHeadTiles(op, queries, keys)) {
        std::tie(tq, tk) = *wide;
      } else {
        int64_t largest = largestTileFor(op);
        tq = tk = heuristicTile(queries, keys, largest);
        // Lengths none of them divides (1000, 4095, a prime, 197) take
        // paddedTile's tile, and the lowering pads the last one: O(S * D)
        // memory where the materialized lowering's [S, T] scores took 2 GB
        // at 16383 tokens. Against the largest divisor of each length
        // (from 8 to 64), whose tiles have vector tails, one thread: H8
        // D64 causal 1000 tokens 6.4-6.5 ms padded to 64 x 64 against
        // 100-101 ms with 50 x 50, unmasked 12.1-12.3 against 182-193;
        // 4095 causal 91-97 against 1835-2015 ms with 63 x 63. When one
        // length fits in a tile, the scores of the materialized lowering
        // are [S, at most 64]: O(S) too, and the op keeps it.
        if (tq == 0 && queries > largest && keys > largest)
          tq = tk = paddedTile(queries, keys, largest);
        if (tq == 0)
          return WalkResult::advance();
      }
      op->setAttr("attn.tiles", Builder(op).getDenseI64ArrayAttr({tq, tk}));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

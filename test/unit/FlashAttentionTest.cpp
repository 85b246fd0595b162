//===- FlashAttentionTest.cpp - the tiled online-softmax lowering ---------===//
//
// attn.sdpa with attn.tiles lowers to a flash-attention loop nest. Each case
// forces tile sizes (as `attnc --tile=` does) so that tiles are smaller than
// the context and the running max/sum rescaling, the skipping of key tiles
// hidden by causal and window masks, and the in-register masking of partly
// visible tiles all happen; results are checked against the double-precision
// reference with the tolerances of NumericsTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <sstream>

using namespace attnc;
using namespace attnc::test;

namespace {

struct FlashCase {
  int64_t context, heads, kvHeads, headDim;
  std::string mask; ///< none, causal, window(N)
  bool alibi;
  int64_t queryTile, keyTile;
};

std::string caseName(const FlashCase &c) {
  std::string mask = c.mask;
  for (char &ch : mask)
    if (!isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  while (!mask.empty() && mask.back() == '_')
    mask.pop_back();
  std::ostringstream os;
  os << "S" << c.context << "_H" << c.heads << "_G" << c.kvHeads << "_D"
     << c.headDim << "_" << mask << (c.alibi ? "_alibi" : "") << "_tiles"
     << c.queryTile << "x" << c.keyTile;
  return os.str();
}

void PrintTo(const FlashCase &c, std::ostream *os) { *os << caseName(c); }

std::string flashSource(const FlashCase &c) {
  std::ostringstream os;
  os << "model flash {\n  context = " << c.context << "\n  dtype = f32\n"
     << "  input q : [context, " << c.heads * c.headDim << "]\n"
     << "  input k : [context, " << c.kvHeads * c.headDim << "]\n"
     << "  input v : [context, " << c.kvHeads * c.headDim << "]\n";
  if (c.alibi)
    os << "  param slopes : [" << c.heads << "]\n";
  os << "  y = attention(q, k, v, heads = " << c.heads
     << ", kv_heads = " << c.kvHeads << ", mask = " << c.mask;
  if (c.alibi)
    os << ", alibi = slopes";
  os << ")\n  output y\n}\n";
  return os.str();
}

class FlashAttentionTest : public BackendTest<FlashCase> {};

/// The tiles are the MLIR backend's; the Halide backend chooses its own.
TEST_P(FlashAttentionTest, MatchesReference) {
  const FlashCase &c = testCase();
  AttnOptimizationOptions options;
  options.tiles = {c.queryTile, c.keyTile};
  expectMatchesReference(flashSource(c), 1e-5, 1e-4, {1, 2}, options,
                         backend());
}

INSTANTIATE_TEST_SUITE_P(
    Tiles, FlashAttentionTest,
    testing::Combine(testing::Values(
        // many key tiles per row: the running max and sum are rescaled
        FlashCase{128, 2, 2, 16, "none", false, 32, 16},
        // causal, query tiles narrower than key tiles: the diagonal key
        // tile is partly visible, later ones are skipped
        FlashCase{128, 2, 2, 16, "causal", false, 16, 32},
        // causal, query tiles wider than key tiles
        FlashCase{128, 2, 2, 16, "causal", false, 64, 16},
        // a window that straddles key tiles: leading tiles are skipped too
        FlashCase{96, 2, 2, 16, "window(20)", false, 32, 16},
        // window(1): a single visible key per row
        FlashCase{96, 1, 1, 8, "window(1)", false, 16, 16},
        // grouped-query: 8 query heads read 2 key/value heads
        FlashCase{64, 8, 2, 8, "causal", false, 16, 16},
        // multi-query with a window
        FlashCase{64, 4, 1, 16, "window(24)", false, 32, 32},
        // ALiBi slopes with causal masking
        FlashCase{64, 4, 4, 8, "causal", true, 16, 32},
        // ALiBi without a mask: distances in both directions
        FlashCase{64, 2, 2, 8, "none", true, 32, 16},
        // one tile covering the whole context
        FlashCase{32, 2, 2, 32, "causal", false, 32, 32},
        // the heuristic's tiles for unmasked heads of 128 features
        FlashCase{512, 2, 2, 128, "none", false, 256, 32},
        // causal tiles wider than 64 queries (attnc --tile=256,32): each
        // query tile's diagonal block runs in sub-tiles of 64 queries over
        // the keys up to their own last one
        FlashCase{512, 2, 2, 128, "causal", false, 256, 32},
        // causal sub-tiles narrower than the key tiles, with grouped-query
        // heads and ALiBi (whose scores are adjusted on every key tile)
        FlashCase{256, 4, 2, 16, "causal", true, 128, 128},
        // causal sub-tiles over many key tiles
        FlashCase{384, 2, 2, 16, "causal", false, 128, 16},
        // rows of K and V 4 KiB apart (G * D = 1024 floats): each task
        // first copies the key tiles its queries see into contiguous
        // buffers; unmasked, two blocks of query tiles per group
        FlashCase{128, 4, 4, 256, "none", false, 32, 16},
        // packed, grouped-query and causal: one query tile per task, which
        // copies the key tiles up to its diagonal only
        FlashCase{128, 8, 2, 512, "causal", false, 32, 32},
        // packed with a window: a task copies from its first query's
        // window on
        FlashCase{192, 2, 2, 512, "window(40)", false, 32, 16},
        // packed, causal tiles of 128 queries in sub-tiles of 64
        FlashCase{256, 4, 4, 256, "causal", false, 128, 32},
        // rows 128 bytes apart, copied because each task reads them 16
        // times (4 heads per group x 4 query tiles per block): causal, so
        // each of a group's 4 tasks copies up to its block's last query
        FlashCase{512, 8, 2, 16, "causal", false, 32, 32},
        // the same with a window: each task copies from its block's first
        // query's window on
        FlashCase{512, 8, 2, 16, "window(40)", false, 32, 32},
        // one head per group and 16 query tiles per task: copied
        FlashCase{512, 8, 8, 16, "none", false, 32, 16},
        // Tiles that do not divide the context: the last tile is padded.
        // Unmasked, real queries would see the padded keys: they are masked
        // (the query and key tiles padded to 128 and 112 tokens)
        FlashCase{100, 2, 2, 16, "none", false, 32, 16},
        // ... so are they under ALiBi, whose scores are adjusted anyway
        FlashCase{75, 2, 2, 8, "none", true, 32, 16},
        // causal: only padded queries see padded keys
        FlashCase{100, 2, 2, 16, "causal", false, 32, 48},
        // a prime context padded to whole 64 x 64 tiles
        FlashCase{131, 2, 2, 16, "causal", false, 64, 64},
        // the heuristic's choice for 197 tokens (ViT): 16 x 16, padded to
        // 208
        FlashCase{197, 2, 2, 16, "none", false, 16, 16},
        FlashCase{197, 4, 2, 16, "causal", false, 16, 16},
        // one key/value head over 13 query tiles, one per task, the last
        // first; and over 5 tiles with a window
        FlashCase{197, 4, 1, 16, "causal", false, 16, 16},
        FlashCase{80, 4, 1, 8, "window(20)", false, 16, 16},
        // grouped-query heads with a window across the padded tile
        FlashCase{100, 8, 2, 8, "window(20)", false, 16, 32},
        // causal tiles of 128 queries in sub-tiles of 64, padded to 256
        // queries and 224 keys
        FlashCase{200, 2, 2, 16, "causal", false, 128, 32},
        // rows 4 KiB apart, copied per task into padded buffers
        FlashCase{130, 4, 4, 256, "none", false, 32, 16}),
        testing::ValuesIn(testedBackends())),
    nameWithBackend<FlashCase>([](const testing::TestParamInfo<FlashCase> &info) {
      return caseName(info.param);
    }));

/// An additive mask that hides every key from some rows: those rows give 0,
/// not NaN, as documented for attention (and as the reference computes).
void expectFullyMaskedRowsGiveZero(int64_t queryTile, int64_t keyTile,
                                   Backend backend) {
  const int64_t S = 64, H = 2, D = 8;
  std::ostringstream os;
  os << "model flash_pad {\n  context = " << S << "\n  dtype = f32\n"
     << "  input q : [context, " << H * D << "]\n"
     << "  input k : [context, " << H * D << "]\n"
     << "  input v : [context, " << H * D << "]\n"
     << "  input pad : [context, context]\n"
     << "  y = attention(q, k, v, heads = " << H << ", mask = pad)\n"
     << "  output y\n}\n";
  AttnOptimizationOptions options;
  options.tiles = {queryTile, keyTile};
  std::string error;
  auto compiled =
      CompiledModel::compile(os.str(), error, options, false, backend);
  ASSERT_TRUE(compiled) << error;
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(compiled->graph(), 3);
  std::vector<float> &pad = inputs[3];
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) {
      bool hidden = i == 5 || i == 40 ||     // rows that see nothing
                    (i >= 16 && j < 20) ||   // whole and partial key tiles
                    (i % 7 == 0 && j % 3 == 0);
      pad[i * S + j] = hidden ? -inf : 0.0f;
    }
  std::vector<RefTensor> want = referenceOutputs(compiled->graph(), inputs);
  std::vector<std::vector<float>> got = compiled->run(inputs, error);
  ASSERT_TRUE(error.empty()) << error;
  ErrorStats s = compareToReference(got[0].data(), want[0]);
  EXPECT_TRUE(s.allFinite);
  EXPECT_LE(s.l2Rel, 1e-5);
  EXPECT_LE(s.maxRel, 1e-4);
  for (int64_t row : {5, 40})
    for (int64_t d = 0; d < H * D; ++d)
      EXPECT_EQ(got[0][row * H * D + d], 0.0f) << "row " << row;
}

using FullyMaskedRowsTest = PerBackendTest;

TEST_P(FullyMaskedRowsTest, GiveZero) {
  // Whole tiles, and tiles the MLIR lowering pads (the queries and the
  // mask's rows to 72, the keys and its columns to 80).
  for (auto [tq, tk] : {std::pair<int64_t, int64_t>{16, 16}, {24, 40}}) {
    SCOPED_TRACE(testing::Message() << "tiles " << tq << "x" << tk);
    expectFullyMaskedRowsGiveZero(tq, tk, GetParam());
  }
}

ATTNC_INSTANTIATE_PER_BACKEND(FullyMaskedRowsTest);

/// Tiles are a performance choice: every legal choice computes the same
/// outputs up to float rounding, whatever the heuristic would pick.
TEST(FlashAttentionMaskTest, TileChoiceDoesNotChangeTheResult) {
  FlashCase c{64, 2, 2, 16, "window(10)", false, 0, 0};
  std::string source = flashSource(c), error;
  auto materialized = CompiledModel::compile(source, error);
  ASSERT_TRUE(materialized) << error;
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(materialized->graph(), 11);
  std::vector<float> base = materialized->run(inputs, error)[0];
  for (auto [tq, tk] : {std::pair<int64_t, int64_t>{16, 16}, {16, 64},
                        {64, 16}, {32, 32}, {24, 40}, {48, 48}}) {
    AttnOptimizationOptions options;
    options.tiles = {tq, tk};
    auto tiled = CompiledModel::compile(source, error, options);
    ASSERT_TRUE(tiled) << error;
    std::vector<float> y = tiled->run(inputs, error)[0];
    ASSERT_TRUE(error.empty()) << error;
    double maxDiff = 0;
    for (size_t i = 0; i < y.size(); ++i)
      maxDiff = std::max(maxDiff, double(std::fabs(y[i] - base[i])));
    EXPECT_LE(maxDiff, 1e-5) << tq << "x" << tk;
  }
}

} // namespace

//===- MemoryBudgetTest.cpp - sizes, estimates and the budget check -------===//

#include "TestModels.h"

#include "attnc/Frontend/MemoryBudget.h"

#include "gtest/gtest.h"

using namespace attnc;
using namespace attnc::test;

namespace {

TEST(MemoryBudgetTest, SizesReadInPowersOf1024) {
  struct Case {
    const char *text;
    uint64_t bytes;
  } cases[] = {{"1048576", 1048576},     {"512M", 512ull << 20},
               {"8G", 8ull << 30},       {"1.5GiB", 3ull << 29},
               {"3kb", 3072},            {"1T", 1ull << 40},
               {" 2 g ", 2ull << 30},    {"0", 0}};
  for (const Case &c : cases) {
    llvm::Expected<uint64_t> bytes = parseByteSize(c.text);
    ASSERT_TRUE(bool(bytes)) << c.text << ": " << toString(bytes.takeError());
    EXPECT_EQ(*bytes, c.bytes) << c.text;
  }
  for (const char *bad : {"", "G", "12X", "-3", "1e3", "1.2.3", "4 GB B",
                          "99999999999P"}) {
    llvm::Expected<uint64_t> bytes = parseByteSize(bad);
    ASSERT_FALSE(bool(bytes)) << bad;
    EXPECT_NE(toString(bytes.takeError()).find("expected a size such as"),
              std::string::npos)
        << bad;
  }
}

TEST(MemoryBudgetTest, BytesPrintWithTheirUnit) {
  EXPECT_EQ(formatBytes(1), "1 byte");
  EXPECT_EQ(formatBytes(768), "768 bytes");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(3ull << 29), "1.5 GiB");
  EXPECT_EQ(formatBytes(1ull << 40), "1.0 TiB");
}

/// Intermediates count while alive: the projection [4, 96] dies into the
/// split, whose three [4, 32] parts live until the attention, whose result
/// dies into the output projection.
TEST(MemoryBudgetTest, IntermediatesCountWhileAlive) {
  const char *source = R"(model live {
  context = 4
  input x : [4, 32]
  param w : [32, 96]
  param wo : [32, 32]
  q, k, v = split(linear(x, w), 3)
  a = attention(q, k, v, heads = 2, mask = causal)
  y = linear(a, wo)
  output y
})";
  llvm::SourceMgr sm;
  std::string diagnostics;
  std::optional<Graph> graph = checkText(source, sm, diagnostics);
  ASSERT_TRUE(graph) << diagnostics;
  MemoryUse use = estimateMemoryUse(*graph, sm);
  // x 512 + w 12288 + wo 4096 + y 512 bytes.
  EXPECT_EQ(use.arguments, 512u + 12288u + 4096u + 512u);
  // At the split: the projection (1536) and q, k, v (3 x 512).
  EXPECT_EQ(use.intermediates, 1536u + 3 * 512u);
  EXPECT_EQ(use.largestBytes, 12288u);
  EXPECT_EQ(use.largestWhat, "param 'w' [32, 96]");
  // Doubles for the reference: everything twice as large.
  EXPECT_EQ(estimateMemoryUse(*graph, sm, 8).total(), 2 * use.total());

  MemoryBudget roomy;
  roomy.bytes = use.total();
  EXPECT_FALSE(bool(roomy.checkModel(*graph, sm)));
  MemoryBudget tight;
  tight.bytes = use.total() - 1;
  std::string message = toString(tight.checkModel(*graph, sm));
  EXPECT_NE(message.find("model 'live' needs 20.0 KiB of memory (17.0 KiB "
                         "for its arguments and 3.0 KiB for intermediate "
                         "values at their peak; the largest buffer is param "
                         "'w' [32, 96], 12.0 KiB)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("(from --memory-budget)"), std::string::npos)
      << message;
  MemoryBudget unlimited;
  EXPECT_FALSE(bool(unlimited.checkModel(*graph, sm)));
}

TEST(MemoryBudgetTest, TheDefaultIsPhysicalMemory) {
  llvm::Expected<MemoryBudget> budget = MemoryBudget::fromOption(std::nullopt);
  ASSERT_TRUE(bool(budget));
  EXPECT_TRUE(budget->isDefault);
  ASSERT_TRUE(budget->bytes.has_value());
  EXPECT_GT(*budget->bytes, 64ull << 20);
  llvm::Expected<MemoryBudget> none = MemoryBudget::fromOption("NONE");
  ASSERT_TRUE(bool(none));
  EXPECT_FALSE(none->bytes.has_value());
  // Given but empty is an error, not the default.
  llvm::Expected<MemoryBudget> empty = MemoryBudget::fromOption("");
  ASSERT_FALSE(bool(empty));
  EXPECT_NE(llvm::toString(empty.takeError()).find("not ''"),
            std::string::npos);
}

} // namespace

//===- WeightsTest.cpp - params from .safetensors files --------------------===//

#include "attnc/weights.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

// A model with an input x [4, 8], params w [8, 6] and b [6], output y [4, 6].
const int64_t kShapeX[] = {4, 8}, kShapeW[] = {8, 6}, kShapeB[] = {6},
              kShapeY[] = {4, 6};
const attn_arg_info kArgs[] = {
    {"x", ATTN_ARG_INPUT, ATTN_DTYPE_F32, 2, 0, kShapeX},
    {"w", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 2, 0, kShapeW},
    {"b", ATTN_ARG_PARAM, ATTN_DTYPE_F32, 1, 0, kShapeB},
    {"y", ATTN_ARG_OUTPUT, ATTN_DTYPE_F32, 2, 0, kShapeY}};
const attn_kernel_info kInfo = {ATTN_KERNEL_ABI_VERSION, 4, "lin", 4, kArgs};

/// header length (u64 little endian) + header + data
std::string file(const std::string &header, const std::vector<float> &data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = char((n >> (8 * i)) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char *>(data.data()),
             data.size() * sizeof(float));
  return out;
}

std::vector<float> iota(size_t n, float start = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = start + float(i);
  return v;
}

/// w at bytes [0, 192), b at [192, 216).
const char *kGoodHeader =
    R"({"__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 192]},
        "b": {"dtype": "F32", "shape": [6], "data_offsets": [192, 216]},
        "unused": {"dtype": "F32", "shape": [0], "data_offsets": [216, 216]}})";

attn_status parse(const std::string &bytes, attn_weights **w) {
  return attn_weights_parse(bytes.data(), bytes.size(), &kInfo, w);
}

TEST(WeightsTest, LoadsEveryParamAndBindsIt) {
  attn_weights *w = nullptr;
  ASSERT_EQ(parse(file(kGoodHeader, iota(54)), &w), ATTN_OK) << attn_last_error();
  int64_t count = 0;
  const float *wd = attn_weights_get(w, "w", &count);
  ASSERT_NE(wd, nullptr);
  EXPECT_EQ(count, 48);
  EXPECT_EQ(wd[0], 0.0f);
  EXPECT_EQ(wd[47], 47.0f);
  const float *bd = attn_weights_get(w, "b", &count);
  ASSERT_NE(bd, nullptr);
  EXPECT_EQ(count, 6);
  EXPECT_EQ(bd[0], 48.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(wd) % 64, 0u);
  EXPECT_EQ(attn_weights_get(w, "x", nullptr), nullptr); // an input
  EXPECT_EQ(attn_weights_get(w, "unused", nullptr), nullptr);

  void *args[4] = {nullptr, nullptr, nullptr, nullptr};
  attn_weights_bind(w, args);
  EXPECT_EQ(args[0], nullptr);
  EXPECT_EQ(args[1], wd);
  EXPECT_EQ(args[2], bd);
  EXPECT_EQ(args[3], nullptr);
  attn_weights_free(w);
}

/// The weights keep what they need of the model's metadata: a library's
/// metadata goes away when the model is closed, which may happen first.
TEST(WeightsTest, OutliveTheMetadataTheyWereCheckedAgainst) {
  auto names = std::make_unique<std::string[]>(4);
  auto args = std::make_unique<attn_arg_info[]>(4);
  for (int i = 0; i < 4; ++i) {
    names[i] = kArgs[i].name;
    args[i] = kArgs[i];
    args[i].name = names[i].c_str();
  }
  auto info = std::make_unique<attn_kernel_info>(kInfo);
  info->args = args.get();
  attn_weights *w = nullptr;
  std::string bytes = file(kGoodHeader, iota(54));
  ASSERT_EQ(attn_weights_parse(bytes.data(), bytes.size(), info.get(), &w),
            ATTN_OK)
      << attn_last_error();
  // As if the library were unloaded: its names and arguments are gone.
  for (int i = 0; i < 4; ++i)
    names[i].assign("gone");
  std::memset(static_cast<void *>(args.get()), 0xff, 4 * sizeof(attn_arg_info));
  info.reset();
  args.reset();
  names.reset();

  int64_t count = 0;
  const float *b = attn_weights_get(w, "b", &count);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(count, 6);
  EXPECT_EQ(b[0], 48.0f);
  void *slots[4] = {nullptr, nullptr, nullptr, nullptr};
  attn_weights_bind(w, slots);
  EXPECT_EQ(slots[2], b);
  EXPECT_EQ(slots[0], nullptr);
  attn_weights_free(w);
}

/// Every mismatch is named, not only the first.
TEST(WeightsTest, ReportsEveryMismatchByName) {
  const char *header =
      R"({"w": {"dtype": "F16", "shape": [8, 6], "data_offsets": [0, 96]},
          "c": {"dtype": "F32", "shape": [6], "data_offsets": [96, 120]}})";
  attn_weights *w = nullptr;
  EXPECT_EQ(parse(file(header, iota(30)), &w), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(w, nullptr);
  std::string msg = attn_last_error();
  EXPECT_NE(msg.find("2 problems with model 'lin'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("param 'w' is F16, expected F32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("param 'b' [6] is missing"), std::string::npos) << msg;
}

TEST(WeightsTest, ReportsAWrongShape) {
  const char *header =
      R"({"w": {"dtype": "F32", "shape": [6, 8], "data_offsets": [0, 192]},
          "b": {"dtype": "F32", "shape": [6], "data_offsets": [192, 216]}})";
  attn_weights *w = nullptr;
  EXPECT_EQ(parse(file(header, iota(54)), &w), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attn_last_error())
                .find("param 'w' has shape [6, 8], expected [8, 6]"),
            std::string::npos)
      << attn_last_error();
}

struct BadFile {
  const char *what;
  std::string bytes;
  const char *message;
};

void PrintTo(const BadFile &b, std::ostream *os) { *os << b.what; }

class CorruptWeightsTest : public testing::TestWithParam<BadFile> {};

TEST_P(CorruptWeightsTest, IsRejectedWithAReason) {
  attn_weights *w = nullptr;
  EXPECT_EQ(parse(GetParam().bytes, &w), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(w, nullptr);
  EXPECT_NE(std::string(attn_last_error()).find(GetParam().message),
            std::string::npos)
      << GetParam().what << ": " << attn_last_error();
}

std::string withLength(uint64_t n, const std::string &rest) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = char((n >> (8 * i)) & 0xff);
  return out + rest;
}

INSTANTIATE_TEST_SUITE_P(
    Files, CorruptWeightsTest,
    testing::Values(
        BadFile{"empty", "", "too short for the 8-byte header length"},
        BadFile{"length past the end", withLength(1000, "{}"),
                "header length 1000 runs past the end"},
        BadFile{"length of 2^63", withLength(uint64_t(1) << 63, "{}"),
                "runs past the end"},
        BadFile{"truncated JSON", file(R"({"w": {"dtype": "F32", "sha)", {}),
                "malformed JSON header"},
        BadFile{"not an object", file("[1, 2]", {}), "malformed JSON header"},
        BadFile{"bad escape", file(R"({"w\q": {}})", {}), "bad escape"},
        BadFile{"negative dim",
                file(R"({"w": {"dtype": "F32", "shape": [-8, 6], "data_offsets": [0, 0]}})", {}),
                "expected a non-negative integer"},
        BadFile{"huge offset",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 99999999999999999999]}})", {}),
                "integer too large"},
        BadFile{"offsets past the data",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 192]}})", iota(10)),
                "lie outside the 40 data bytes"},
        BadFile{"offsets that lie about the size",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 100]}})", iota(54)),
                "do not hold its shape"},
        BadFile{"overlapping tensors",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 192]},
                         "b": {"dtype": "F32", "shape": [6], "data_offsets": [168, 192]}})", iota(54)),
                "tensor 'b' overlaps another tensor's data"},
        BadFile{"unknown dtype",
                file(R"({"w": {"dtype": "Q4", "shape": [8, 6], "data_offsets": [0, 192]}})", iota(54)),
                "unknown dtype 'Q4'"},
        BadFile{"missing data_offsets",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6]}})", iota(54)),
                "tensor 'w' lacks data_offsets"},
        BadFile{"a name twice",
                file(R"({"b": {"dtype": "F32", "shape": [6], "data_offsets": [0, 24]},
                         "b": {"dtype": "F32", "shape": [6], "data_offsets": [24, 48]}})", iota(12)),
                "tensor 'b' appears twice"},
        BadFile{"a tensor the model does not use, twice",
                file(R"({"w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 192]},
                         "b": {"dtype": "F32", "shape": [6], "data_offsets": [192, 216]},
                         "extra": {"dtype": "F32", "shape": [1], "data_offsets": [216, 220]},
                         "extra": {"dtype": "F32", "shape": [1], "data_offsets": [220, 224]}})",
                     iota(56)),
                "tensor 'extra' appears twice"},
        BadFile{"nesting bomb",
                file("{\"__metadata__\": " + std::string(100000, '['), {}),
                "nested too deeply"},
        BadFile{"text after the object", file(R"({} x)", {}),
                "text after the header's object"}),
    [](const testing::TestParamInfo<BadFile> &info) {
      std::string name = info.param.what;
      for (char &c : name)
        if (!isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return name;
    });

// The format bounds neither metadata strings (a model's whole config is
// often stored there) nor tensor names; those the model does not read
// only have to be well-formed.
TEST(WeightsTest, LongMetadataAndLongUnusedNamesAreRead) {
  std::string longText(100000, 'x'), longName(5000, 'n');
  std::string header =
      R"({"__metadata__": {"config": ")" + longText + R"("},
          "w": {"dtype": "F32", "shape": [8, 6], "data_offsets": [0, 192]},
          ")" + longName + R"(": {"dtype": "F32", "shape": [1], "data_offsets": [216, 220]},
          "b": {"dtype": "F32", "shape": [6], "data_offsets": [192, 216]}})";
  attn_weights *w = nullptr;
  ASSERT_EQ(parse(file(header, iota(55)), &w), ATTN_OK) << attn_last_error();
  EXPECT_NE(attn_weights_get(w, "b", nullptr), nullptr);
  attn_weights_free(w);
}

TEST(WeightsTest, LoadsFromAFileAndNamesAMissingOne) {
  std::string path = testing::TempDir() + "attnc-weights-test.safetensors";
  std::string bytes = file(kGoodHeader, iota(54));
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  attn_weights *w = nullptr;
  ASSERT_EQ(attn_weights_load(path.c_str(), &kInfo, &w), ATTN_OK)
      << attn_last_error();
  EXPECT_NE(attn_weights_get(w, "b", nullptr), nullptr);
  attn_weights_free(w);
  std::remove(path.c_str());

  EXPECT_EQ(attn_weights_load(path.c_str(), &kInfo, &w), ATTN_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(attn_last_error()).find("cannot open '" + path + "'"),
            std::string::npos)
      << attn_last_error();
}

} // namespace

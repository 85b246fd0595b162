//===- RuntimeTest.cpp - the runtime's loading and argument checks --------===//

#include "TestModels.h"

#include "attnc/scratch.h"

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

using namespace attnc;
using namespace attnc::test;

namespace {

const char *kTinyModel = R"(model tiny {
  context = 4
  input x : [4, 8]
  param w : [8, 24]
  q, k, v = split(linear(x, w), 3)
  y = attention(q, k, v, heads = 2, mask = causal)
  output y
})";

class RuntimeTest : public testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string error;
    compiled = CompiledModel::compile(kTinyModel, error).release();
    ASSERT_TRUE(compiled) << error;
  }
  static void TearDownTestSuite() { delete compiled; }
  static CompiledModel *compiled;
};
CompiledModel *RuntimeTest::compiled = nullptr;

TEST_F(RuntimeTest, MetadataDescribesEveryArgument) {
  const attn_kernel_info *info = attn_model_info(compiled->model());
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->abi_version, unsigned(ATTN_KERNEL_ABI_VERSION));
  EXPECT_STREQ(info->name, "tiny");
  EXPECT_EQ(info->context, 4);
  ASSERT_EQ(info->num_args, 3);
  const char *names[] = {"x", "w", "y"};
  int roles[] = {ATTN_ARG_INPUT, ATTN_ARG_PARAM, ATTN_ARG_OUTPUT};
  int64_t shapes[][2] = {{4, 8}, {8, 24}, {4, 8}};
  for (int i = 0; i < 3; ++i) {
    const attn_arg_info &a = info->args[i];
    EXPECT_STREQ(a.name, names[i]);
    EXPECT_EQ(a.role, roles[i]);
    EXPECT_EQ(a.dtype, ATTN_DTYPE_F32);
    ASSERT_EQ(a.rank, 2);
    EXPECT_EQ(a.shape[0], shapes[i][0]);
    EXPECT_EQ(a.shape[1], shapes[i][1]);
    EXPECT_EQ(attn_arg_num_elements(&a), shapes[i][0] * shapes[i][1]);
  }
}

TEST_F(RuntimeTest, MissingLibraryIsReportedWithItsPath) {
  attn_model *m = nullptr;
  EXPECT_EQ(attn_model_open("/nonexistent/model.so", "tiny", &m),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(attn_last_error()).find("/nonexistent/model.so"),
            std::string::npos)
      << attn_last_error();
}

TEST_F(RuntimeTest, WrongModelNameNamesTheSymbols) {
  attn_model *m = nullptr;
  EXPECT_EQ(attn_model_open(compiled->libraryPath().c_str(), "other", &m),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(attn_last_error()).find("other_info"), std::string::npos)
      << attn_last_error();
}

// A path without a slash is a file in the current directory, as for any
// other file a program opens (dlopen alone would search the library path).
TEST_F(RuntimeTest, AFileNameIsLookedUpInTheCurrentDirectory) {
  const std::string &path = compiled->libraryPath();
  size_t slash = path.rfind('/');
  ASSERT_NE(slash, std::string::npos);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(chdir(path.substr(0, slash).c_str()), 0);
  attn_model *m = nullptr;
  attn_status status = attn_model_open(path.substr(slash + 1).c_str(), "tiny", &m);
  std::string message = attn_last_error();
  ASSERT_EQ(chdir(cwd), 0);
  EXPECT_EQ(status, ATTN_OK) << message;
  attn_model_close(m);
}

// A library's NAME_decode_info and NAME_decode_argv belong to the decode
// step, whose entry point also takes caches and a position: opening
// "NAME_decode" as a model must fail, not run that entry point.
TEST(RuntimeOpenTest, ADecodeStepIsNotAModel) {
  std::string error;
  auto decoding = CompiledModel::compile(R"(model dec {
  context = 8
  decode
  input x : [context, 8]
  param w : [8, 24]
  q, k, v = split(linear(x, w), 3)
  y = attention(q, k, v, heads = 2, mask = causal)
  output y
})",
                                         error);
  ASSERT_TRUE(decoding) << error;
  attn_model *m = nullptr;
  EXPECT_EQ(attn_model_open(decoding->libraryPath().c_str(), "dec_decode", &m),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(attn_last_error())
                .find("'dec_decode' is the decode step of model 'dec'"),
            std::string::npos)
      << attn_last_error();
}

TEST_F(RuntimeTest, WrongArgumentCountIsRejected) {
  float x[32] = {0}, w[192] = {0}, y[32];
  void *args[] = {x, w, y};
  EXPECT_EQ(attn_model_run(compiled->model(), args, 2),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attn_last_error()).find("takes 3 arguments, got 2"),
            std::string::npos)
      << attn_last_error();
}

TEST_F(RuntimeTest, NullArgumentIsNamed) {
  float x[32] = {0}, y[32];
  void *args[] = {x, nullptr, y};
  EXPECT_EQ(attn_model_run(compiled->model(), args, 3),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attn_last_error()).find("argument 'w' (#1)"),
            std::string::npos)
      << attn_last_error();
}

TEST_F(RuntimeTest, MisalignedArgumentIsNamed) {
  // Kernels load whole floats: a pointer one byte into a float buffer is a
  // caller's bug the runtime names rather than pass on.
  alignas(4) unsigned char x[32 * 4 + 4] = {0};
  float w[192] = {0}, y[32];
  void *args[] = {x + 1, w, y};
  EXPECT_EQ(attn_model_run(compiled->model(), args, 3),
            ATTN_ERROR_INVALID_ARGUMENT);
  std::string message = attn_last_error();
  EXPECT_NE(message.find("attn_model_run: argument 'x' (#0) of model 'tiny' "
                         "is at 0x"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("not aligned to 4 bytes (a float)"), std::string::npos)
      << message;
}

TEST_F(RuntimeTest, OverlappingOutputIsNamed) {
  // y shares its last floats with x's; inputs may alias, outputs may not.
  float buffer[32 + 16] = {0}, w[192] = {0};
  void *args[] = {buffer, w, buffer + 16};
  EXPECT_EQ(attn_model_run(compiled->model(), args, 3),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_model_run: output 'y' (#2) of model 'tiny' overlaps "
               "argument 'x' (#0); outputs need buffers of their own");
  float y[32];
  void *inputsAlias[] = {w, w, y}; // x and w the same buffer: allowed
  EXPECT_EQ(attn_model_run(compiled->model(), inputsAlias, 3), ATTN_OK)
      << attn_last_error();
}

TEST_F(RuntimeTest, NestedCallsCompileAndRun) {
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(compiled->graph(), 3);
  std::string error;
  auto got = compiled->run(inputs, error);
  ASSERT_TRUE(error.empty()) << error;
  auto want = referenceOutputs(compiled->graph(), inputs);
  ErrorStats s = compareToReference(got[0].data(), want[0]);
  EXPECT_LE(s.maxRel, 1e-5);
}

// Halide-built kernels allocate their buffers (packed keys, score tiles)
// through the runtime's scratch allocator, as MLIR-built kernels do, and
// return every block by the end of the call.
TEST(HalideRuntimeTest, BuffersComeFromTheScratchAllocator) {
  if (!halideBackendBuilt())
    GTEST_SKIP() << "this build has no Halide backend";
  std::string error;
  auto halide = CompiledModel::compile(R"(model scratch_through_halide {
    context = 256
    input q : [context, 64]
    input k : [context, 64]
    input v : [context, 64]
    y = attention(q, k, v, heads = 2, mask = causal)
    output y
  })",
                                       error, {}, false, Backend::Halide);
  ASSERT_TRUE(halide) << error;
  std::vector<std::vector<float>> inputs =
      makeRandomArguments(halide->graph(), 1);
  size_t before = 0, after = 0, peak = 0;
  attn_scratch_usage(&before, nullptr);
  attn_scratch_reset_peak();
  auto got = halide->run(inputs, error);
  ASSERT_TRUE(error.empty()) << error;
  attn_scratch_usage(&after, &peak);
  // The keys packed for both heads alone are 256 x 64 floats.
  EXPECT_GE(peak - before, 256u * 64 * sizeof(float));
  EXPECT_EQ(after, before);
  auto want = referenceOutputs(halide->graph(), inputs);
  EXPECT_LE(compareToReference(got[0].data(), want[0]).maxRel, 1e-5);
}

} // namespace

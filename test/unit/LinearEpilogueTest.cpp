//===- LinearEpilogueTest.cpp - elementwise ops run on a linear's registers -===//
//
// attn-contraction-microkernel starts a linear's register blocks at its bias
// and applies the elementwise ops that read its result to the blocks before
// they are stored (ContractionFusion.h). Each case is a shape of that
// fusion, or of a near miss that must stay unfused (the product read twice,
// or returned), compiled
// and run against the reference on both backends; so is each shape of a
// single row's product (emitRowStreamingProduct). Tolerances as in
// NumericsTest.cpp: the fused ops are the same ops on the same values.
//
//===----------------------------------------------------------------------===//

#include "TestModels.h"

#include <gtest/gtest.h>

using namespace attnc;
using namespace attnc::test;

namespace {

using Epilogue = ModelBody;

class LinearEpilogueTest : public BackendTest<Epilogue> {};

TEST_P(LinearEpilogueTest, MatchesReference) {
  // 40 rows: five blocks of 8, so wide weights are packed per panel too.
  expectMatchesReference(std::string("model m {\n  context = 40\n") +
                             testCase().body + "\n}\n",
                         1e-5, 1e-4, {1, 2}, {}, backend());
}

INSTANTIATE_TEST_SUITE_P(
    Fusion, LinearEpilogueTest,
    testing::Combine(testing::Values(
        Epilogue{"bias_only", R"(
  input x : [40, 16]
  param w : [16, 64]
  param b : [64]
  y = linear(x, w, b)
  output y)"},
        Epilogue{"gelu_erf_in_place", R"(
  input x : [40, 16]
  param w : [16, 64]
  param b : [64]
  y = gelu(linear(x, w, b) * 3)
  output y)"},
        Epilogue{"gelu_tanh_wide_packed", R"(
  input x : [40, 16]
  param w : [16, 256]
  param b : [256]
  y = gelu(linear(x, w, b), approximate = tanh)
  output y)"},
        Epilogue{"silu_relu_chain", R"(
  input x : [40, 16]
  param w : [16, 32]
  y = relu(silu(linear(x, w) * 2) / 4)
  output y)"},
        Epilogue{"residual_into_output", R"(
  input x : [40, 32]
  param w : [32, 32]
  param b : [32]
  y = x + linear(x, w, b)
  output y)"},
        Epilogue{"column_vector_and_matrix", R"(
  input x : [40, 16]
  input r : [40, 48]
  param w : [16, 48]
  param g : [48]
  y = linear(x, w) * g + r
  output y)"},
        Epilogue{"eight_lanes", R"(
  input x : [40, 16]
  param w : [16, 24]
  param b : [24]
  y = silu(linear(x, w, b))
  output y)"},
        Epilogue{"two_linears_mlp", R"(
  input x : [40, 32]
  param w1 : [32, 128]
  param b1 : [128]
  param w2 : [128, 32]
  param b2 : [32]
  y = x + linear(gelu(linear(x, w1, b1), approximate = tanh), w2, b2)
  output y)"},
        // Bias-less linears of one shape: one zero fill and one buffer
        // for all of them until attn-vectorize gives each its own.
        Epilogue{"equal_linears_without_bias", R"(
  input x : [40, 32]
  param w1 : [32, 32]
  param w2 : [32, 32]
  param w3 : [32, 32]
  h = x + linear(x, w1)
  g = gelu(linear(h, w2))
  y = h + linear(g, w3)
  output y)"},
        // The product's input, a temporary, read again by the epilogue
        // while other column blocks still read it as A.
        Epilogue{"input_read_again", R"(
  input x : [40, 32]
  param w : [32, 32]
  h = x * 2
  y = relu(h + linear(h, w))
  output y)"},
        Epilogue{"product_read_twice", R"(
  input x : [40, 16]
  param w : [16, 32]
  param b : [32]
  h = linear(x, w, b)
  y = relu(h) * h
  z = h * 3
  output y, z)"},
        Epilogue{"product_returned", R"(
  input x : [40, 16]
  param w : [16, 32]
  h = linear(x, w)
  y = relu(h)
  output h, y)"}),
        testing::ValuesIn(testedBackends())),
    modelBodyWithBackend());

/// One row (context 1, as in a decode step): a weight wider than one
/// register block is streamed a band of whole rows per task into partial
/// sums, which one pass adds onto the bias and hands to the epilogue.
class SingleRowLinearTest : public BackendTest<Epilogue> {};

TEST_P(SingleRowLinearTest, MatchesReference) {
  expectMatchesReference(std::string("model m {\n  context = 1\n") +
                             testCase().body + "\n}\n",
                         1e-5, 1e-4, {1, 2}, {}, backend());
}

INSTANTIATE_TEST_SUITE_P(
    Bands, SingleRowLinearTest,
    testing::Combine(testing::Values(
        // 130 rows: three bands of 44, 44 and 42.
        Epilogue{"bands_with_tail", R"(
  input x : [1, 130]
  param w : [130, 96]
  param b : [96]
  y = gelu(linear(x, w, b))
  output y)"},
        // The first weight streamed (512 columns), the second one panel.
        Epilogue{"mlp", R"(
  input x : [1, 64]
  param w1 : [64, 512]
  param b1 : [512]
  param w2 : [512, 64]
  param b2 : [64]
  y = x + linear(gelu(linear(x, w1, b1), approximate = tanh), w2, b2)
  output y)"},
        Epilogue{"no_bias_scaled_residual", R"(
  input x : [1, 96]
  input r : [1, 160]
  param w : [96, 160]
  y = linear(x, w) * 0.5 + r
  output y)"},
        Epilogue{"eight_lanes", R"(
  input x : [1, 70]
  param w : [70, 24]
  param b : [24]
  y = silu(linear(x, w, b))
  output y)"}),
        testing::ValuesIn(testedBackends())),
    modelBodyWithBackend());

} // namespace

// Decoding, one token at a time, against the machine's memory bandwidth.
//
// A decode step of the GPT-2 block reads every weight (QKV and output
// projections, 9.4 MB) and the whole KV cache (2 x 1024 x 768 floats,
// 6.3 MB) to produce one token, so it is bound by memory, not FLOPs: its
// measure is bytes read per second against a STREAM-style triad
// (a[i] = b[i] + s * c[i] over arrays far larger than the caches) measured
// in the same run. Benchmarks:
//   bandwidth/triad/t1, t2       GB/s of the triad (24 bytes per element),
//                                median of 20 passes
//   decode/gpt2_block_1024/halide/t1, t2 (when built), then .../attnc/
//                                tokens/s and GB/s of a step reading from
//                                memory (cold) and of one right after
//                                another (warm), and pct_triad: cold GB/s
//                                over a triad pass measured just before it
//   prompt/gpt2_block_1024/<impl>/steps|whole/t1, t2
//                                a 1024-token prompt through
//                                attn_decoder_prefill: a step per token, or
//                                the whole model at once (NAME_prefill);
//                                tokens/s
//   prompt/gpt2_block_1024_after_256/<impl>/steps|whole|chunks/t1, t2
//                                the same for 512 tokens after a prompt of
//                                256 (not timed), which the whole model
//                                runs again in front of them; `chunks`
//                                with both the prefill and the chunk set,
//                                where the decoder takes chunks under
//                                prefill_from tokens
//   prompt/gpt2_block_1024_after_1024/<impl>/steps|chunks/t1, t2
//                                512 tokens after a whole context (not
//                                timed), a step per token or 64 at a time
//                                (NAME_chunk)
//   decode/window_block_4096/halide|attnc/window256|causal/t1, t2
//                                a step from memory (a triad pass before
//                                each) past the first context of a
//                                sliding-window block (ring of 4096, width
//                                512, 8 heads, window(256)) and of its
//                                causal twin, whose step reads every slot
//                                (the window's reads the window's); ms
//   prompt/window_block_4096_after_4096/<impl>/window256|causal/t1, t2
//                                512 tokens after a whole context (not
//                                timed), in chunks; ms

#include "common.h"

#include "attnc/parallel.h"
#include "attnc/runtime.h"
#include "attn_bench_models.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void registerTriad() {
  for (int t : {1, 2}) {
    std::string name = "bandwidth/triad/t" + std::to_string(t);
    benchmark::RegisterBenchmark(name.c_str(), [t](benchmark::State &state) {
      // 3 x 64 MB: far past any cache of this machine.
      const size_t n = size_t(8) << 20;
      std::unique_ptr<double[]> a(new double[n]), b(new double[n]),
          c(new double[n]);
      parallelChunks(t, t, [&](int, int, int th) {
        for (size_t i = n * th / t; i < n * (th + 1) / t; ++i)
          a[i] = 0, b[i] = 1.0, c[i] = 2.0; // first touch on its thread
      });
      std::vector<double> rates;
      for (auto _ : state) {
        auto t0 = Clock::now();
        parallelChunks(t, t, [&](int, int, int th) {
          double *pa = a.get(), *pb = b.get(), *pc = c.get();
          for (size_t i = n * th / t; i < n * (th + 1) / t; ++i)
            pa[i] = pb[i] + 3.0 * pc[i];
        });
        double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        state.SetIterationTime(dt);
        rates.push_back(24.0 * double(n) / dt * 1e-9);
      }
      benchmark::DoNotOptimize(a[n / 2]);
      state.counters["GBs"] = median(rates);
    })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(20);
  }
}

/// GB/s of one triad pass over a, b, c (n doubles each) on `t` threads.
double triadPass(double *a, const double *b, const double *c, size_t n, int t) {
  auto t0 = Clock::now();
  parallelChunks(t, t, [&](int, int, int th) {
    for (size_t i = n * th / t; i < n * (th + 1) / t; ++i)
      a[i] = b[i] + 3.0 * c[i];
  });
  double dt = std::chrono::duration<double>(Clock::now() - t0).count();
  return 24.0 * double(n) / dt * 1e-9;
}

constexpr int64_t W = 768, C = 1024;

/// The GPT-2 block's params and one token's row in and out, in the step's
/// argument order.
struct Gpt2Arguments {
  std::vector<float> wqkv, bqkv, wo, bo, x, y;
  explicit Gpt2Arguments(int64_t tokens) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    auto make = [&](size_t n, float scale) {
      std::vector<float> v(n);
      for (float &e : v)
        e = unit(rng) * scale;
      return v;
    };
    wqkv = make(W * 3 * W, 0.036f), bqkv = make(3 * W, 0.1f);
    wo = make(W * W, 0.036f), bo = make(W, 0.1f);
    x = make(tokens * W, 1.0f), y.assign(tokens * W, 0.0f);
  }
  /// The arguments of a prompt whose token rows start at row `first`.
  std::vector<void *> pointers(int64_t first = 0) {
    return {x.data() + first * W, wqkv.data(), bqkv.data(), wo.data(),
            bo.data(), y.data() + first * W};
  }
};

/// Random arguments for a decoder of `info`'s model, every per-token input
/// and output `tokens` rows long, in the step's argument order.
struct DecodeArguments {
  std::vector<std::vector<float>> values;
  std::vector<int64_t> rowElements; ///< per-token arguments' row; else 0
  DecodeArguments(const attn_decode_info &info, int64_t tokens) {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (int32_t a = 0; a < info.num_args; ++a) {
      const attn_arg_info &arg = info.args[a];
      int64_t elements = attn_arg_num_elements(&arg);
      bool perToken = arg.flags & ATTN_ARG_FLAG_PER_TOKEN;
      rowElements.push_back(perToken ? elements : 0);
      // Unit inputs; a weight scaled by 1 / sqrt(its rows) keeps the
      // activations at unit scale.
      float scale = perToken || arg.rank < 2
                        ? 1.0f
                        : 1.0f / std::sqrt(float(arg.shape[0]));
      std::vector<float> v(perToken ? tokens * elements : elements);
      for (float &e : v)
        e = unit(rng) * scale;
      values.push_back(std::move(v));
    }
  }
  /// The arguments of a prompt whose token rows start at row `first`.
  std::vector<void *> pointers(int64_t first = 0) {
    std::vector<void *> result;
    for (size_t a = 0; a < values.size(); ++a)
      result.push_back(values[a].data() + first * rowElements[a]);
    return result;
  }
};

/// The decode step of the GPT-2 block as backend `impl` compiled it.
void registerGpt2Decode(const std::string &impl,
                        const attn_decode_info *(*info)(void),
                        attn_decode_fn step) {
  // Bytes one step must read: every param once and both caches whole.
  const double paramBytes = 4.0 * (W * 3 * W + 3 * W + W * W + W);
  const double cacheBytes = 4.0 * 2 * C * W;
  const double stepBytes = paramBytes + cacheBytes;
  for (int t : {1, 2}) {
    std::string name =
        "decode/gpt2_block_1024/" + impl + "/t" + std::to_string(t);
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &state) {
      int previous = attn_set_num_threads(t);
      Gpt2Arguments arguments(1);
      std::vector<void *> pointers = arguments.pointers();
      void **args = pointers.data();
      attn_decoder *decoder = nullptr;
      if (attn_decoder_create(info(), step, &decoder) != ATTN_OK) {
        state.SkipWithError(attn_last_error());
        return;
      }
      // Fill the whole cache first: a step then sees `context` tokens.
      for (int64_t i = 0; i < C; ++i)
        attn_decoder_step(decoder, args, 6);
      // The machine is shared and its bandwidth drifts by 2x between runs,
      // so every iteration measures a triad pass (which also evicts the
      // step's 15.7 MB from the caches, as the other layers of a real model
      // would) and then a step from memory ("cold"), then a few more steps
      // with whatever stayed cached ("warm"). pct_triad is the median of the
      // per-iteration ratios cold / triad.
      const size_t n = size_t(8) << 20;
      std::unique_ptr<double[]> a(new double[n]), b(new double[n]),
          c(new double[n]);
      for (size_t i = 0; i < n; ++i)
        a[i] = 0, b[i] = 1.0, c[i] = 2.0;
      std::vector<double> cold, warm, ratios;
      for (auto _ : state) {
        double triad = triadPass(a.get(), b.get(), c.get(), n, t);
        auto t0 = Clock::now();
        attn_decoder_step(decoder, args, 6);
        double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        state.SetIterationTime(dt);
        cold.push_back(dt);
        ratios.push_back(stepBytes / dt * 1e-9 / triad);
        for (int w = 0; w < 4; ++w) {
          auto w0 = Clock::now();
          attn_decoder_step(decoder, args, 6);
          warm.push_back(
              std::chrono::duration<double>(Clock::now() - w0).count());
        }
      }
      benchmark::DoNotOptimize(a[n / 2]);
      attn_decoder_free(decoder);
      attn_set_num_threads(previous);
      double coldStep = median(cold), warmStep = median(warm);
      state.counters["tokens_per_s"] = 1.0 / coldStep;
      state.counters["GBs"] = stepBytes / coldStep * 1e-9;
      state.counters["warm_tokens_per_s"] = 1.0 / warmStep;
      state.counters["warm_GBs"] = stepBytes / warmStep * 1e-9;
      state.counters["MB_per_token"] = stepBytes * 1e-6;
      state.counters["pct_triad"] = 100.0 * median(ratios);
    })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(60);
  }
}

/// A prompt of `tokens` through attn_decoder_prefill after one of `earlier`
/// tokens (not timed), a step per token or (`prefill` given) in one call of
/// the whole model, or past the first context (`chunk` given) in chunks;
/// `way` names which.
void registerGpt2Prompt(const std::string &impl,
                        const attn_decode_info *(*info)(void),
                        attn_decode_fn step, attn_prefill_fn prefill,
                        attn_chunk_fn chunk, const char *way,
                        int64_t earlier, int64_t tokens) {
  for (int t : {1, 2}) {
    std::string name =
        "prompt/gpt2_block_1024" +
        (earlier ? "_after_" + std::to_string(earlier) : std::string()) +
        "/" + impl + "/" + way + "/t" + std::to_string(t);
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State &state) {
      int previous = attn_set_num_threads(t);
      Gpt2Arguments arguments(std::max(C, earlier + tokens));
      std::vector<void *> args = arguments.pointers();
      // The prompt's rows follow the earlier ones'.
      std::vector<void *> later = arguments.pointers(earlier);
      attn_decoder *decoder = nullptr;
      if (attn_decoder_create(info(), step, &decoder) != ATTN_OK ||
          (prefill && attn_decoder_set_prefill(decoder, prefill) != ATTN_OK) ||
          (chunk && attn_decoder_set_chunk(decoder, chunk) != ATTN_OK)) {
        state.SkipWithError(attn_last_error());
        return;
      }
      std::vector<double> times;
      for (auto _ : state) {
        attn_decoder_reset(decoder);
        if (earlier && attn_decoder_prefill(decoder, args.data(), args.size(),
                                            earlier) != ATTN_OK) {
          state.SkipWithError(attn_last_error());
          break;
        }
        auto t0 = Clock::now();
        if (attn_decoder_prefill(decoder, later.data(), later.size(),
                                 tokens) != ATTN_OK) {
          state.SkipWithError(attn_last_error());
          break;
        }
        double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        state.SetIterationTime(dt);
        times.push_back(dt);
      }
      attn_decoder_free(decoder);
      attn_set_num_threads(previous);
      if (!times.empty())
        state.counters["tokens_per_s"] = double(tokens) / median(times);
    })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(5);
  }
}

/// Each prompt line of `impl`: a whole context from position 0, and 512
/// tokens after 256; with a chunk, 512 tokens after a whole context (the
/// earlier prompt through the prefill), a step per token or in chunks.
void registerGpt2Prompts(const std::string &impl,
                         const attn_decode_info *(*info)(void),
                         attn_decode_fn step, attn_prefill_fn prefill,
                         attn_chunk_fn chunk = nullptr) {
  for (auto [earlier, tokens] : {std::pair<int64_t, int64_t>{0, C},
                                 std::pair<int64_t, int64_t>{C / 4, C / 2}})
    for (attn_prefill_fn whole : {attn_prefill_fn(nullptr), prefill})
      registerGpt2Prompt(impl, info, step, whole, nullptr,
                         whole ? "whole" : "steps", earlier, tokens);
  if (chunk) {
    for (attn_chunk_fn chunks : {attn_chunk_fn(nullptr), chunk})
      registerGpt2Prompt(impl, info, step, prefill, chunks,
                         chunks ? "chunks" : "steps", C, C / 2);
    // With both, the decoder's own choice: 512 tokens are under the
    // block's prefill_from (582), so chunks.
    registerGpt2Prompt(impl, info, step, prefill, chunk, "chunks", C / 4,
                       C / 2);
  }
}

/// A model's entry points for a decoder.
struct DecoderModel {
  const char *label;
  const attn_decode_info *(*info)(void);
  attn_decode_fn step;
  attn_prefill_fn prefill;
  attn_chunk_fn chunk;
};

/// The sliding-window block and its causal twin past the first context: a
/// step from memory and, for a backend with chunks, 512 tokens in chunks,
/// each after a whole context through the prefill (not timed). In the same
/// run, so the two compare.
void registerWindowLines(const char *impl, const DecoderModel (&models)[2]) {
  for (bool prompt : {false, true})
    for (const DecoderModel &model : models)
      for (int t : {1, 2}) {
        if (prompt && !model.chunk)
          continue;
        std::string name =
            std::string(prompt ? "prompt/window_block_4096_after_4096/"
                               : "decode/window_block_4096/") +
            impl + "/" + model.label + "/t" + std::to_string(t);
        benchmark::RegisterBenchmark(
            name.c_str(), [=](benchmark::State &state) {
              int previous = attn_set_num_threads(t);
              const attn_decode_info &info = *model.info();
              const int64_t context = info.context, tokens = 512;
              DecodeArguments arguments(info, context + tokens);
              std::vector<void *> args = arguments.pointers();
              attn_decoder *decoder = nullptr;
              if (attn_decoder_create(&info, model.step, &decoder) !=
                      ATTN_OK ||
                  attn_decoder_set_prefill(decoder, model.prefill) !=
                      ATTN_OK ||
                  (model.chunk &&
                   attn_decoder_set_chunk(decoder, model.chunk) != ATTN_OK)) {
                state.SkipWithError(attn_last_error());
                return;
              }
              const size_t n = size_t(8) << 20;
              std::unique_ptr<double[]> a(new double[n]), b(new double[n]),
                  c(new double[n]);
              for (size_t i = 0; i < n; ++i)
                a[i] = 0, b[i] = 1.0, c[i] = 2.0;
              std::vector<void *> later = arguments.pointers(context);
              std::vector<double> times;
              for (auto _ : state) {
                if (prompt || times.empty()) {
                  attn_decoder_reset(decoder);
                  if (attn_decoder_prefill(decoder, args.data(), args.size(),
                                           context) != ATTN_OK) {
                    state.SkipWithError(attn_last_error());
                    break;
                  }
                }
                if (!prompt)
                  triadPass(a.get(), b.get(), c.get(), n, t);
                auto t0 = Clock::now();
                attn_status status =
                    prompt ? attn_decoder_prefill(decoder, later.data(),
                                                  later.size(), tokens)
                           : attn_decoder_step(decoder, later.data(),
                                               later.size());
                double dt =
                    std::chrono::duration<double>(Clock::now() - t0).count();
                if (status != ATTN_OK) {
                  state.SkipWithError(attn_last_error());
                  break;
                }
                state.SetIterationTime(dt);
                times.push_back(dt);
              }
              attn_decoder_free(decoder);
              attn_set_num_threads(previous);
              if (!times.empty())
                state.counters["tokens_per_s"] =
                    double(prompt ? tokens : 1) / median(times);
            })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(prompt ? 5 : 60);
      }
}

} // namespace

void registerDecode() {
  registerTriad();
#ifdef ATTN_BENCH_HAVE_HALIDE
  registerGpt2Decode("halide", gpt2_block_1024_halide_decode_info,
                     gpt2_block_1024_halide_decode_argv);
#endif
  registerGpt2Decode("attnc", gpt2_block_1024_decode_info,
                     gpt2_block_1024_decode_argv);
#ifdef ATTN_BENCH_HAVE_HALIDE
  registerGpt2Prompts("halide", gpt2_block_1024_halide_decode_info,
                      gpt2_block_1024_halide_decode_argv,
                      &gpt2_block_1024_halide_prefill_argv,
                      &gpt2_block_1024_halide_chunk_argv);
#endif
  registerGpt2Prompts("attnc", gpt2_block_1024_decode_info,
                      gpt2_block_1024_decode_argv,
                      &gpt2_block_1024_prefill_argv,
                      &gpt2_block_1024_chunk_argv);
#ifdef ATTN_BENCH_HAVE_HALIDE
  registerWindowLines(
      "halide", {{"window256", window_block_4096_halide_decode_info,
                  window_block_4096_halide_decode_argv,
                  &window_block_4096_halide_prefill_argv,
                  &window_block_4096_halide_chunk_argv},
                 {"causal", causal_block_4096_halide_decode_info,
                  causal_block_4096_halide_decode_argv,
                  &causal_block_4096_halide_prefill_argv,
                  &causal_block_4096_halide_chunk_argv}});
#endif
  registerWindowLines(
      "attnc", {{"window256", window_block_4096_decode_info,
                 window_block_4096_decode_argv, &window_block_4096_prefill_argv,
                 &window_block_4096_chunk_argv},
                {"causal", causal_block_4096_decode_info,
                 causal_block_4096_decode_argv, &causal_block_4096_prefill_argv,
                 &causal_block_4096_chunk_argv}});
}

} // namespace attnbench

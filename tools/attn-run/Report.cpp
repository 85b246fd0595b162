//===- Report.cpp - what attn-run tells people and scripts ----------------===//

#include "Report.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <limits>

using namespace attnc;
using namespace llvm;

bool RunReport::passed() const {
  for (const OutputCheck &o : outputs)
    if (!o.ok)
      return false;
  return true;
}

double RunReport::worstRelError() const {
  double worst = 0;
  for (const OutputCheck &o : outputs)
    worst = std::max(worst, o.stats.allFinite
                                ? o.stats.maxRel
                                : std::numeric_limits<double>::infinity());
  return worst;
}

double RunReport::tokensPerSecond() const {
  return decode && medianMillis > 0 ? 1e3 / medianMillis : 0;
}

/// Zero when nothing was timed or the model has no products to count. A
/// decode step's products grow with the tokens cached: none counted.
static double gflopsPerSecond(const RunReport &r) {
  if (!r.timed() || r.decode || r.medianMillis <= 0 || r.flops <= 0)
    return 0;
  return r.flops / (r.medianMillis * 1e-3) * 1e-9;
}

/// A step of a small model takes microseconds: four decimals below 1 ms.
static std::string stepMillis(const RunReport &r) {
  return formatv(r.medianMillis < 1 ? "{0:F4}" : "{0:F3}", r.medianMillis)
      .str();
}

void attnc::printTextReport(const RunReport &r, raw_ostream &os) {
  os << "model " << r.model << " (" << r.source << "), context " << r.context
     << ", " << r.numArgs << " arguments, seed " << r.seed << "\n";
  if (r.decode) {
    os << "decode: ";
    const size_t n = r.prompts.size();
    if (n > 0) {
      os << (n == 1 ? "a prompt of " : "prompts of ");
      for (size_t i = 0; i < n; ++i)
        os << (i == 0 ? "" : i + 1 == n ? " and " : ", ") << r.prompts[i];
      os << " tokens in one prefill call" << (n == 1 ? "" : " each") << " (";
      for (size_t i = 0; i < n; ++i)
        os << (i == 0 ? "" : "; ") << format("%.3f", r.prefillMillis[i])
           << " ms, "
           << format("%.1f", r.prompts[i] / (r.prefillMillis[i] * 1e-3))
           << " tokens/s";
      os << "), then ";
    }
    os << r.runs << " tokens one step each\n";
    os << "step time: " << stepMillis(r) << " ms (median of " << r.runs
       << " steps), " << format("%.1f", r.tokensPerSecond()) << " tokens/s\n";
  } else if (r.timed()) {
    os << "kernel time: " << format("%.3f", r.medianMillis) << " ms (median of "
       << r.runs << " runs)\n";
  }
  for (const OutputCheck &o : r.outputs)
    os << "output " << o.name << " " << shapeToString(o.shape)
       << ": max abs error " << format("%.3e", o.stats.maxAbs)
       << ", max rel error " << format("%.3e", o.stats.maxRel)
       << ", l2 rel error " << format("%.3e", o.stats.l2Rel) << " (tolerance "
       << format("%.1e", r.tolerance) << ") " << (o.ok ? "ok" : "FAILED")
       << "\n";

  // The summary: one line with what a person compares between runs.
  os << (r.passed() ? "PASS: " : "FAIL: ") << r.model;
  if (r.decode) {
    os << " decoding on " << r.threads
       << (r.threads == 1 ? " thread, " : " threads, ") << stepMillis(r)
       << " ms per token (median of " << r.runs << "), "
       << format("%.1f", r.tokensPerSecond()) << " tokens/s";
  } else if (r.timed()) {
    os << " on " << r.threads << (r.threads == 1 ? " thread, " : " threads, ")
       << format("%.3f", r.medianMillis) << " ms (median of " << r.runs << ")";
    if (double g = gflopsPerSecond(r))
      os << ", " << format("%.2f", g) << " GFLOP/s";
  } else {
    os << " (outputs read from " << r.outputsDir << ")";
  }
  double worst = r.worstRelError();
  if (std::isinf(worst))
    os << ", an output is not finite\n";
  else
    os << ", max rel error " << format("%.1e", worst)
       << (worst <= r.tolerance ? " <= " : " > ") << format("%.1e", r.tolerance)
       << "\n";
}

void attnc::printJsonReport(const RunReport &r, raw_ostream &os) {
  json::OStream j(os, /*IndentSize=*/2);
  auto numberOrNull = [&](StringRef key, bool present, double value) {
    if (present)
      j.attribute(key, value);
    else
      j.attribute(key, nullptr);
  };
  j.object([&] {
    j.attribute("model", r.model);
    j.attribute("source", r.source);
    j.attribute("mode", r.decode    ? "decode"
                        : r.timed() ? "run"
                                    : "check-outputs");
    if (r.timed())
      j.attribute("library", r.library);
    else
      j.attribute("outputs_dir", r.outputsDir);
    j.attribute("context", r.context);
    j.attribute("arguments", int64_t(r.numArgs));
    j.attribute("seed", int64_t(r.seed));
    if (r.timed()) {
      j.attribute("threads", r.threads);
      j.attribute("runs", int64_t(r.runs));
    } else {
      j.attribute("threads", nullptr);
      j.attribute("runs", nullptr);
    }
    numberOrNull("median_ms", r.timed(), r.medianMillis);
    if (r.decode) {
      // Every prompt together, then each.
      int64_t promptTokens = 0;
      double prefillMillis = 0;
      for (size_t i = 0; i < r.prompts.size(); ++i) {
        promptTokens += r.prompts[i];
        prefillMillis += r.prefillMillis[i];
      }
      j.attribute("prompt_tokens", promptTokens);
      numberOrNull("prefill_ms", promptTokens > 0, prefillMillis);
      numberOrNull("prefill_tokens_per_second",
                   promptTokens > 0 && prefillMillis > 0,
                   promptTokens / (prefillMillis * 1e-3));
      j.attributeArray("prompts", [&] {
        for (size_t i = 0; i < r.prompts.size(); ++i)
          j.object([&] {
            j.attribute("tokens", r.prompts[i]);
            j.attribute("ms", r.prefillMillis[i]);
            numberOrNull("tokens_per_second", r.prefillMillis[i] > 0,
                         r.prompts[i] / (r.prefillMillis[i] * 1e-3));
          });
      });
      j.attribute("tokens_per_second", r.tokensPerSecond());
      j.attribute("flop_per_run", nullptr);
    } else {
      // Exact: products of shapes.
      j.attribute("flop_per_run", int64_t(r.flops));
    }
    numberOrNull("gflops", gflopsPerSecond(r) > 0, gflopsPerSecond(r));
    j.attribute("tolerance", r.tolerance);
    j.attributeArray("outputs", [&] {
      for (const OutputCheck &o : r.outputs)
        j.object([&] {
          j.attribute("name", o.name);
          j.attributeArray("shape", [&] {
            for (int64_t d : o.shape)
              j.value(d);
          });
          j.attribute("finite", o.stats.allFinite);
          // JSON has no infinity or NaN: errors of a non-finite output are
          // null.
          numberOrNull("max_abs_error", o.stats.allFinite, o.stats.maxAbs);
          numberOrNull("max_rel_error", o.stats.allFinite, o.stats.maxRel);
          numberOrNull("l2_rel_error", o.stats.allFinite, o.stats.l2Rel);
          j.attribute("ok", o.ok);
        });
    });
    double worst = r.worstRelError();
    numberOrNull("max_rel_error", !std::isinf(worst), worst);
    j.attribute("pass", r.passed());
  });
  os << "\n";
}

//===- Report.h - what attn-run tells people and scripts --------*- C++ -*-===//
//
// One run or check of a model, printed either as readable lines ending in a
// one-line summary, or (--json) as one JSON object for scripts.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TOOLS_ATTN_RUN_REPORT_H
#define ATTNC_TOOLS_ATTN_RUN_REPORT_H

#include "attnc/Reference/Interpreter.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace attnc {

struct OutputCheck {
  std::string name;
  Shape shape;
  ErrorStats stats;
  bool ok = false;
};

struct RunReport {
  std::string model;
  std::string source;     ///< the .attn file
  std::string library;    ///< the shared library run; empty for a check
  std::string outputsDir; ///< --check-outputs DIR; empty for a run
  int64_t context = 0;
  size_t numArgs = 0;
  uint64_t seed = 0;
  double tolerance = 0;
  double flops = 0; ///< of the matrix products, per run (Frontend/Flops.h)
  // Timing, for a run only.
  int threads = 0;
  unsigned runs = 0;       ///< runs timed; with --decode, the tokens stepped
  double medianMillis = 0; ///< of a run; with --decode, of a step
  // --decode: prompts in one prefill call each, then `runs` tokens a step
  // each.
  bool decode = false;
  std::vector<int64_t> prompts;
  std::vector<double> prefillMillis; ///< of each prompt's call
  std::vector<OutputCheck> outputs;

  bool timed() const { return !library.empty(); }
  /// Tokens a second at the median step (--decode).
  double tokensPerSecond() const;
  bool passed() const;
  /// The largest max-rel error over the outputs (infinite if one is not
  /// finite).
  double worstRelError() const;
};

/// The readable form: the model, the timing, one line per output, then
/// "PASS: ..." or "FAIL: ..." summarizing model, threads, time, GFLOP/s
/// (tokens/s when decoding) and error.
void printTextReport(const RunReport &report, llvm::raw_ostream &os);

/// The same facts as one JSON object (docs/cli.md lists the fields).
void printJsonReport(const RunReport &report, llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTN_RUN_REPORT_H

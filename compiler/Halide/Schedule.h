//===- Schedule.h - where and in which order the Funcs are computed -*- C++ -*-===//
//
// The schedule half of the Halide backend. The hand-written schedule tiles
// every construct for the target's vector width and the cache sizes that
// matter here, parallelizes over its outer tiles, and computes attention a
// query tile at a time: its scores live only for the tile's rows and the
// keys they see (Tq x keys floats per thread, never keys x queries).
// Alternatively one of Halide's autoschedulers decides.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_HALIDE_SCHEDULE_H
#define ATTNC_HALIDE_SCHEDULE_H

#include "Algorithm.h"

namespace attnc::hl {

void scheduleByHand(Algorithm &algorithm, const Halide::Target &target);

/// Gives every argument and output its (known) extents as estimates and
/// runs autoscheduler `name` (adams2019, li2018 or mullapudi2016) from the
/// plugin in `pluginDir`.
void scheduleAutomatically(Algorithm &algorithm, Halide::Pipeline &pipeline,
                           const Halide::Target &target,
                           const std::string &name,
                           const std::string &pluginDir, int threads);

} // namespace attnc::hl

#endif // ATTNC_HALIDE_SCHEDULE_H

// What every family's GPU benchmark shares (bench/<family>_bench.cu): the device-to-device copy
// ceiling and the empty graph node measured in the same process (BM_Copy, BM_EmptyKernel, run
// first), the two timers (one launch between CUDA events with the L2 flushed before
// it; a CUDA graph of back-to-back launches replayed), the counters and the structured row
// label (kc/results/perf.h) of every row, and main(), which exits 77 without a GPU.
//
// Method (README, "Benchmarks"): bandwidth shapes move about 1 GiB and are timed one launch at
// a time after a 256 MiB memset flushes the 50 MB L2; decode shapes replay a graph of kGraphReps
// calls (warm L2, as a serving engine sees it) with PDL off (the headline) and on; a row's
// GB/s counts every input read once and every output written once; pct_copy refers to the copy
// measured in the same run. A family checks each configuration against its twin before timing
// it and ends a mismatching row with SkipWithError.
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kc/results/perf.h"

namespace kc::bench {

inline constexpr int kGraphReps = 20;
inline constexpr std::size_t kFlushBytes = std::size_t{256} << 20;  // > 5x the 50 MB L2

// The copy ceiling of this run in GB/s (0 until BM_Copy ran; it is registered first).
double copy_gbps();

// false (and the row ended with SkipWithError naming `what`) on a CUDA error.
bool check(cudaError_t e, benchmark::State& st, const char* what);

// Times `launch()` alone between CUDA events, the L2 flushed before each; seconds per call.
double flushed_time(benchmark::State& st, const std::function<void()>& launch);

// Times kGraphReps calls of `launch(stream)` captured in one graph and replayed; seconds per
// call (the iteration is the whole replay, so --benchmark_min_time counts real GPU time).
double graph_time(benchmark::State& st, const std::function<void(cudaStream_t)>& launch);

// GBps, us_per_call, pct_copy and bytes of a row.
void set_counters(benchmark::State& st, double bytes, double seconds_per_call);

// A kconform row's label: the PerfKey as a JSON object.
void set_label(benchmark::State& st, const results::PerfKey& key);

// Defined by the family's benchmark file: registers its rows (main() calls it after registering
// the copy ceiling and the empty node, so those run first and every pct_copy has its ceiling).
void register_family_benchmarks();

}  // namespace kc::bench

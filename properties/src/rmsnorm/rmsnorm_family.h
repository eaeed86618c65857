// Internals of the norm family shared by its files (rmsnorm_family.cpp, rmsnorm_expectation.cpp,
// the subjects and mutants): the case's profile in the reference's terms and the row inputs the
// reference evaluates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/case.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"
#include "kc/ref/rmsnorm.h"

namespace kc::props {

ref::NormProfile norm_profile(const Case& c);  // the case's profile (claimed or judged)

// The bound rule of flat-ULP subjects whose fp32 arithmetic flushes subnormal operands and
// results to zero (built with -ftz=true, as -use_fast_math does). An element whose scaled input
// z, weight w, normalised value z R or exact output lies below 2^-126 in magnitude (with a 2^-20
// relative margin) may then come out as a zero (or NaN when its weight factor is infinite), as
// if that value had been flushed; and a row with subnormal inputs may also give the results of
// the same row with those inputs read as zeros (x, r and w flushed on load: two subnormal
// addends whose sum is normal then give a zero sum). Such elements are counted as flushed, not
// in the ULP statistics.
inline constexpr const char* kFlushToZeroRule = "flush_to_zero";

// One row's inputs, captured before a run (in-place runs overwrite them).
struct NormRowData {
  std::vector<float> x, residual, weight;
};
std::vector<NormRowData> capture_norm_rows(const OpSpec& op, const Case& c, const CaseBuffers& b);

ref::NormRowInput norm_row_input(const Case& c, const NormRowData& d);

// How the comparison evaluates the profile: the certified fast path (rmsnorm_fast.h) with exact
// values only where a decision or a reported figure needs them (the family's comparison), or
// evaluate() for every row, as the comparison did before the fast path (the reference the fast
// one is tested against: both give the same verdicts, statistics and evidence).
enum class NormReferencePath : std::uint8_t { kFast, kExact };

// How often the fast comparison needed exact values, since the process started (tests and
// benchmarks print them: the fallback rates of the comparison).
struct NormComparisonCounts {
  std::int64_t elements = 0;          // output elements compared within a bound (fast rows)
  std::int64_t exact_rows = 0;        // rows compared from evaluate() (exact ties, unsupported)
  std::int64_t row_exact = 0;         // rows that built a NormRowExact for some element
  std::int64_t exact_errors = 0;      // exact ULP errors (the maximum, the worst, bin edges)
  std::int64_t exact_intervals = 0;   // kernel intervals computed from exact values
  std::int64_t exact_compares = 0;    // flat-bound comparisons the enclosure left open
  std::int64_t exact_signs = 0;       // ... that only the comparison of squares decided (any path)
  std::int64_t exact_thresholds = 0;  // regimes, row constants, flush tests from exact values
};
NormComparisonCounts norm_comparison_counts();

// The expectation of a norm case (rmsnorm_expectation.cpp).
std::unique_ptr<Expectation> norm_expectation(const Case& c, const CaseBuffers& before,
                                              NormReferencePath path = NormReferencePath::kFast);

}  // namespace kc::props

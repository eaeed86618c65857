// Precision statistics of compared output elements: ULP errors against a profile's exact values,
// a histogram fine enough for the quantiles a report prints, and counts of the elements the
// properties judged by other rules. Mergeable across cases, runs, shards and files.
#pragma once

#include <array>
#include <cstdint>

namespace kc::results {

struct PrecisionStats {
  // Bins: 1/64 ULP wide up to 8 ULPs, then one per power of two up to 2^24, then the rest.
  static constexpr int kLinearBins = 512;
  static constexpr int kBins = kLinearBins + 22;
  std::int64_t elements = 0;
  std::int64_t exact = 0;             // equal to the profile's correct rounding
  std::int64_t special_elements = 0;  // checked by the exact IEEE rules instead
  std::int64_t flushed_elements = 0;  // admitted by a flush-to-zero rule of the subject's bound
  std::int64_t rows = 0;
  std::int64_t out_of_range_rows = 0;
  double max_ulp = 0;
  std::array<std::int64_t, kBins> hist{};

  void add(double ulp, bool is_exact);
  // The histogram bin of an error (monotone in it: an error known to lie between two values
  // whose bins agree has that bin).
  static int bin_of(double ulp);
  void merge(const PrecisionStats& o);
  // Upper edge of the histogram bin holding the q-quantile (0 when empty).
  double quantile(double q) const;
};

}  // namespace kc::results

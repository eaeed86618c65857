// Precision statistics (precision.h).
#include "kc/results/precision.h"

#include <algorithm>
#include <cmath>

namespace kc::results {

int PrecisionStats::bin_of(double ulp) {
  if (!(ulp < 8.0)) {
    if (!std::isfinite(ulp)) return kBins - 1;
    return kLinearBins +
           std::min(21, std::max(0, static_cast<int>(std::floor(std::log2(ulp))) - 3));
  }
  return std::min(kLinearBins - 1, static_cast<int>(ulp * 64.0));
}

void PrecisionStats::add(double ulp, bool is_exact) {
  ++elements;
  exact += is_exact;
  max_ulp = std::max(max_ulp, ulp);
  ++hist[static_cast<std::size_t>(bin_of(ulp))];
}

void PrecisionStats::merge(const PrecisionStats& o) {
  elements += o.elements;
  exact += o.exact;
  special_elements += o.special_elements;
  flushed_elements += o.flushed_elements;
  rows += o.rows;
  out_of_range_rows += o.out_of_range_rows;
  max_ulp = std::max(max_ulp, o.max_ulp);
  for (int i = 0; i < kBins; ++i) {
    hist[static_cast<std::size_t>(i)] += o.hist[static_cast<std::size_t>(i)];
  }
}

double PrecisionStats::quantile(double q) const {
  if (elements == 0) return 0;
  const auto want = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(elements)));
  std::int64_t seen = 0;
  for (int i = 0; i < kBins; ++i) {
    seen += hist[static_cast<std::size_t>(i)];
    if (seen >= want) {
      if (i < kLinearBins) return (i + 1) / 64.0;
      return std::ldexp(1.0, i - kLinearBins + 4);
    }
  }
  return max_ulp;
}

}  // namespace kc::results

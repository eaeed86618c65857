// Statistics and the worst element of a comparison whose expected values are enclosures (the
// families' certified fast paths, reference/include/kc/ref/certified.h), with exact ULP errors
// computed only where a result depends on them.
//
// A family's comparison gives each element certified bounds lo <= err <= hi of its ULP error
// (ulp_error_bounds on the enclosure; lo == hi when the error is known exactly, e.g. for an exact
// expected value) and a tag of its own that identifies the element. The results are those of a
// one-pass comparison that had every exact error:
//  - statistics (PrecisionStats::add): an element whose bounds share a histogram bin is counted
//    there (the bin is monotone in the error); the others are binned from their exact errors;
//    the maximum is the largest exact error among the elements whose hi reaches the largest lo
//    (no other element can hold it);
//  - the worst element: the first failing element with the largest error, or when none failed,
//    the first passing one with the largest error (NaN errors count as 1e308): candidates are
//    the elements whose hi reaches the largest lo of their kind, in the order they came.
// So with enclosures a few double ulps wide the exact path runs for about one element a case.
// The exact error of a tag (ulp_error() of the exact path's value) must be the same number on
// every call; finish() asks each tag at most once.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "kc/results/precision.h"

namespace kc::props {

// Certified bounds of one element's ULP error.
struct ErrorBounds {
  double lo = 0;
  double hi = 0;
  static ErrorBounds exactly(double err) { return {err, err}; }
};

class CertifiedTally {
 public:
  // An element of the precision statistics (a bounded comparison's compared element).
  void add_stat(const ErrorBounds& e, bool is_exact, std::int64_t tag);
  // An element that may be reported as the worst.
  void offer_worst(const ErrorBounds& e, bool failed, std::int64_t tag);

  struct Worst {
    std::int64_t tag = -1;  // -1: nothing was offered
    bool failed = false;
    double err = 0;  // its exact ULP error
  };
  // Settles what the bounds left open with exact errors (err(tag)), adds the statistics to
  // *stats and returns the worst element.
  Worst finish(const std::function<double(std::int64_t)>& err, results::PrecisionStats* stats);

  // Exact errors finish() asked for (for tests and counters).
  std::int64_t exact_errors() const { return static_cast<std::int64_t>(memo_.size()); }

 private:
  struct Candidate {
    double lo, hi;
    std::int64_t tag;
  };
  // Candidates of one kind: those whose hi reaches the largest lo seen, in arrival order.
  struct Pool {
    std::vector<Candidate> items;
    double best_lo = -1;
    std::size_t pruned_at = 0;
    bool any = false;
    void offer(const Candidate& c);
    void prune();
  };
  double exact_error(std::int64_t tag, const std::function<double(std::int64_t)>& err);

  results::PrecisionStats binned_;  // elements, exact, the histogram of the binned elements
  std::vector<std::int64_t> unbinned_;
  Pool max_;  // the statistics' maximum
  Pool fail_, pass_;
  std::unordered_map<std::int64_t, double> memo_;
};

}  // namespace kc::props

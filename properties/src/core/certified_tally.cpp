// Statistics and the worst element from certified error bounds (certified_tally.h).
#include "kc/props/certified_tally.h"

#include <algorithm>
#include <cmath>

namespace kc::props {
namespace {

// The one-pass comparison's key of an error: NaN sorts above everything.
double key(double e) { return std::isnan(e) ? 1e308 : e; }

}  // namespace

void CertifiedTally::Pool::offer(const Candidate& c) {
  any = true;
  if (c.hi < best_lo) return;  // below an error already certain: never the largest
  items.push_back(c);
  if (c.lo > best_lo) best_lo = c.lo;
  if (items.size() > 2 * pruned_at + 16) prune();
}

void CertifiedTally::Pool::prune() {
  const double b = best_lo;
  items.erase(
      std::remove_if(items.begin(), items.end(), [b](const Candidate& c) { return c.hi < b; }),
      items.end());
  pruned_at = items.size();
}

void CertifiedTally::add_stat(const ErrorBounds& e, bool is_exact, std::int64_t tag) {
  const double lo = key(e.lo);
  const double hi = key(e.hi);
  const int bin = results::PrecisionStats::bin_of(e.lo);
  if (lo == hi || bin == results::PrecisionStats::bin_of(e.hi)) {
    ++binned_.hist[static_cast<std::size_t>(bin)];
  } else {
    unbinned_.push_back(tag);
  }
  ++binned_.elements;
  binned_.exact += is_exact;
  max_.offer({e.lo, e.hi, tag});
}

void CertifiedTally::offer_worst(const ErrorBounds& e, bool failed, std::int64_t tag) {
  (failed ? fail_ : pass_).offer({key(e.lo), key(e.hi), tag});
}

double CertifiedTally::exact_error(std::int64_t tag,
                                   const std::function<double(std::int64_t)>& err) {
  const auto it = memo_.find(tag);
  if (it != memo_.end()) return it->second;
  const double e = err(tag);
  memo_.emplace(tag, e);
  return e;
}

CertifiedTally::Worst CertifiedTally::finish(const std::function<double(std::int64_t)>& err,
                                             results::PrecisionStats* stats) {
  // Statistics: the unbinned elements from their exact errors, the maximum among the
  // candidates (an element known exactly needs no call: lo == hi is its error).
  for (const std::int64_t tag : unbinned_) {
    ++binned_
          .hist[static_cast<std::size_t>(results::PrecisionStats::bin_of(exact_error(tag, err)))];
  }
  double max = 0;
  max_.prune();
  for (const Candidate& c : max_.items) {
    const double e = c.lo == c.hi ? c.lo : exact_error(c.tag, err);
    max = std::max(max, e);
  }
  stats->elements += binned_.elements;
  stats->exact += binned_.exact;
  stats->max_ulp = std::max(stats->max_ulp, max);
  for (int i = 0; i < results::PrecisionStats::kBins; ++i) {
    stats->hist[static_cast<std::size_t>(i)] += binned_.hist[static_cast<std::size_t>(i)];
  }
  // The worst: the first of the largest among failures, else among passes.
  Pool& pool = fail_.any ? fail_ : pass_;
  Worst w;
  if (!pool.any) return w;
  pool.prune();
  double best = -1;
  for (const Candidate& c : pool.items) {
    const double e = c.lo == c.hi ? c.lo : exact_error(c.tag, err);
    if (key(e) > best) {
      best = key(e);
      w.tag = c.tag;
      w.err = e;
    }
  }
  w.failed = fail_.any;
  return w;
}

}  // namespace kc::props

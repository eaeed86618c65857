// CertifiedTally (certified_tally.h) against a one-pass comparison that has every exact error:
// the same statistics (element and exact counts, histogram, maximum) and the same worst element
// (the first failure with the largest error, else the first pass with the largest), for errors
// given as random certified bounds around them: exact points, bounds inside one histogram bin,
// bounds across bin edges, ties (equal errors in many elements, the first must win), infinite
// errors, and failures among passes. It asks for few exact errors: only where the bounds overlap
// the largest one or a bin edge.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kc/props/certified_tally.h"

namespace kc::props {
namespace {

struct Element {
  double err;
  ErrorBounds bounds;
  bool failed;
  bool exact;
};

TEST(CertifiedTallyTest, MatchesAOnePassComparison) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::int64_t asked = 0;
  std::int64_t elements = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const int flavour = trial % 6;
    std::vector<Element> el(static_cast<std::size_t>(n));
    const double tied = unit(rng) * 2;
    for (Element& e : el) {
      switch (flavour) {
        case 0:  // ties everywhere
          e.err = tied;
          break;
        case 1:  // errors on bin edges (k / 64) and near them
          e.err = static_cast<double>(rng() % 200) / 64 + (rng() % 3 == 0 ? 1e-15 : 0);
          break;
        case 2:  // a few huge and infinite errors
          e.err = rng() % 50 == 0 ? std::numeric_limits<double>::infinity() : unit(rng) * 1e6;
          break;
        default:
          e.err = unit(rng) * (flavour == 3 ? 0.5 : 40);
          break;
      }
      const double w =
          std::isinf(e.err) ? 0 : std::ldexp(e.err + 1, -20 - static_cast<int>(rng() % 40));
      const int shape = static_cast<int>(rng() % 4);
      e.bounds = shape == 0
                     ? ErrorBounds::exactly(e.err)
                     : ErrorBounds{std::max(0.0, e.err - w * unit(rng)), e.err + w * unit(rng)};
      e.failed = flavour == 5 ? rng() % 40 == 0 : flavour == 4 && rng() % 7 == 0;
      e.exact = rng() % 3 == 0;
    }
    // The one-pass reference: PrecisionStats::add and the first-largest rule.
    results::PrecisionStats want;
    std::int64_t want_tag = -1;
    bool any_fail = false;
    double best = -1;
    for (int i = 0; i < n; ++i) {
      const Element& e = el[static_cast<std::size_t>(i)];
      want.add(e.err, e.exact);
      if (e.failed && (!any_fail || e.err > best)) {
        any_fail = true;
        best = e.err;
        want_tag = i;
      } else if (!any_fail && !e.failed && e.err > best) {
        best = e.err;
        want_tag = i;
      }
    }
    CertifiedTally tally;
    for (int i = 0; i < n; ++i) {
      const Element& e = el[static_cast<std::size_t>(i)];
      tally.add_stat(e.bounds, e.exact, i);
      tally.offer_worst(e.bounds, e.failed, i);
    }
    results::PrecisionStats got;
    const CertifiedTally::Worst w = tally.finish(
        [&](std::int64_t tag) {
          ++asked;
          return el[static_cast<std::size_t>(tag)].err;
        },
        &got);
    elements += n;
    ASSERT_EQ(got.elements, want.elements);
    ASSERT_EQ(got.exact, want.exact);
    ASSERT_EQ(got.max_ulp, want.max_ulp) << "trial " << trial;
    ASSERT_EQ(got.hist, want.hist) << "trial " << trial;
    ASSERT_EQ(w.tag, want_tag) << "trial " << trial << " flavour " << flavour;
    ASSERT_EQ(w.failed, any_fail);
    ASSERT_EQ(w.err, el[static_cast<std::size_t>(want_tag)].err);
  }
  std::printf("[ tally    ] %lld elements, %lld exact errors asked for\n",
              static_cast<long long>(elements), static_cast<long long>(asked));
  EXPECT_LT(asked, elements / 4);
}

TEST(CertifiedTallyTest, NothingOffered) {
  CertifiedTally tally;
  results::PrecisionStats s;
  const CertifiedTally::Worst w = tally.finish([](std::int64_t) { return 0.0; }, &s);
  EXPECT_EQ(w.tag, -1);
  EXPECT_EQ(s.elements, 0);
}

}  // namespace
}  // namespace kc::props

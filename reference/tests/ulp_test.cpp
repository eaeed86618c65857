// ulp() and ulp_error(): exact matches, midpoints, binade boundaries, subnormals, NaN/inf rules.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kc/ref/format.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
Exact p2(int e) { return mp::ldexp(Exact(1), e); }

TEST(UlpTest, UlpDefinition) {
  EXPECT_EQ(ulp(kFp32, Exact(1)), p2(-23));
  EXPECT_EQ(ulp(kFp32, Exact(1.5)), p2(-23));
  EXPECT_EQ(ulp(kFp32, p2(1) - p2(-100)), p2(-23));  // just below 2: still the [1,2) binade
  EXPECT_EQ(ulp(kFp32, Exact(2)), p2(-22));
  EXPECT_EQ(ulp(kBf16, Exact(1)), p2(-7));
  EXPECT_EQ(ulp(kFp16, Exact(1)), p2(-10));
  EXPECT_EQ(ulp(kFp16, Exact(-3)), p2(-9));
  // Subnormal range and zero: the subnormal quantum.
  EXPECT_EQ(ulp(kFp16, p2(-20)), p2(-24));
  EXPECT_EQ(ulp(kFp16, Exact(0)), p2(-24));
  EXPECT_EQ(ulp(kBf16, p2(-130)), p2(-133));
  EXPECT_EQ(ulp(kFp32, p2(-126)), p2(-149));  // smallest normal: same quantum as subnormals
  EXPECT_TRUE(mp::isnan(ulp(kFp32, std::numeric_limits<Exact>::infinity())));
}

TEST(UlpTest, ExactMatchesScoreZero) {
  for (const Format& f : {kFp16, kBf16}) {
    for (std::uint32_t b = 0; b <= f.max_finite(); b += 7) {
      ASSERT_EQ(ulp_error(f, b, decode(f, b)), 0.0) << describe_bits(f, b);
      ASSERT_EQ(ulp_error(f, b | f.sign_mask(), decode(f, b | f.sign_mask())), 0.0);
    }
  }
  // The two zeros are equal values.
  EXPECT_EQ(ulp_error(kFp32, 0x80000000u, Exact(0)), 0.0);
}

TEST(UlpTest, MidpointsScoreExactlyHalf) {
  for (const Format& f : {kFp16, kBf16}) {
    for (std::uint32_t b = 0; b < f.max_finite(); ++b) {
      const Exact mid = midpoint_above(f, b);
      ASSERT_EQ(ulp_error(f, b, mid), 0.5) << describe_bits(f, b);
      ASSERT_EQ(ulp_error(f, b + 1, mid), 0.5) << describe_bits(f, b + 1);
    }
  }
}

TEST(UlpTest, BinadeBoundaries) {
  // v = 2 exactly: its ulp is the upper binade's; the value below 2 is half an ulp away.
  const std::uint32_t below_two = 0x3fffffffu;  // largest fp32 below 2
  EXPECT_EQ(ulp_error(kFp32, below_two, Exact(2)), 0.5);
  // v just below 2 is measured in the lower binade's ulp 2^-23.
  const Exact v = Exact(2) - p2(-40);
  EXPECT_EQ(ulp_error(kFp32, 0x40000000u, v), std::ldexp(1.0, -17));
  EXPECT_EQ(ulp_error(kFp32, below_two, v), 1.0 - std::ldexp(1.0, -17));
  // Two ulps away in bf16 at 1.0.
  EXPECT_EQ(ulp_error(kBf16, 0x3f82u, Exact(1)), 2.0);
}

TEST(UlpTest, SubnormalRange) {
  // fp16 subnormal quantum is 2^-24 everywhere below 2^-14.
  EXPECT_EQ(ulp_error(kFp16, 0x0003u, p2(-24) * 2), 1.0);
  EXPECT_EQ(ulp_error(kFp16, 0x0000u, p2(-25)), 0.5);
  EXPECT_EQ(ulp_error(kFp16, 0x0001u, Exact(0)), 1.0);
  EXPECT_EQ(ulp_error(kBf16, 0x0002u, p2(-133) * 3), 1.0);
}

TEST(UlpTest, NanAndInfinityRules) {
  const Exact nan = std::numeric_limits<Exact>::quiet_NaN();
  const Exact inf = std::numeric_limits<Exact>::infinity();
  EXPECT_EQ(ulp_error(kBf16, 0x7fc0u, nan), 0.0);
  EXPECT_EQ(ulp_error(kBf16, 0xffffu, nan), 0.0);  // any NaN pattern is a NaN
  EXPECT_EQ(ulp_error(kBf16, 0x3f80u, nan), kInf);
  EXPECT_EQ(ulp_error(kBf16, 0x7f80u, inf), 0.0);
  EXPECT_EQ(ulp_error(kBf16, 0xff80u, inf), kInf);  // wrong sign
  EXPECT_EQ(ulp_error(kBf16, 0x7f7fu, inf), kInf);  // finite for an infinite value
  EXPECT_EQ(ulp_error(kBf16, 0x7fc0u, Exact(1)), kInf);
  // A finite value at or beyond the overflow threshold 65520: inf is its correct rounding ...
  const Exact max = decode(kFp16, kFp16.max_finite());
  EXPECT_EQ(ulp_error(kFp16, 0x7c00u, max + 16), 0.5);
  EXPECT_EQ(ulp_error(kFp16, 0x7c00u, Exact(1e6)), 0.5);
  // The wrong infinity counts as -2^16: (10^6 + 2^16) / 2^9 ulps.
  EXPECT_EQ(ulp_error(kFp16, 0xfc00u, Exact(1e6)), 2081.125);
  // ... and overflowing early is an error measured from 2^16.
  EXPECT_EQ(ulp_error(kFp16, 0x7c00u, max), 1.0);
}

}  // namespace
}  // namespace kc::ref

// The certified double path (certified.h) against the exact one (format.h, Exact):
//  - round_double / decode_double against round_to / decode on every fp16 and bf16 midpoint
//    (and a sample of values) with the doubles one ulp either side, on double-doubles around
//    them, on fp32 samples (three ulps either side), overflow thresholds, subnormals, signs;
//  - decide_rounding: sound (a decided enclosure holds no boundary, checked exactly in Exact)
//    and tight (an undecided one holds a boundary within a double rounding of its radius) on
//    the same neighbourhoods with radii from 0 to beyond the distance to the boundary;
//  - ulp_error_bounds / compare_ulp_error sound on random enclosures (every sampled value's
//    exact ULP error inside the bounds, every verdict true for every sample), exact on points;
//  - ulp_error_within exact where the double ulp_error() rounds onto the bound.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kc/ref/certified.h"
#include "kc/ref/format.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Exact p2(int e) { return mp::ldexp(Exact(1), e); }

double next_up(double v) { return std::nextafter(v, kInf); }
double next_down(double v) { return std::nextafter(v, -kInf); }

// round_double and decode_double agree with round_to / decode.
::testing::AssertionResult rounds_like_round_to(const Format& f, double v) {
  const std::uint32_t want = round_to(f, Exact(v));
  const std::uint32_t got = round_double(f, v);
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << f.name << " " << v << " (" << std::hexfloat << v << std::defaultfloat
         << "): round_double " << describe_bits(f, got) << ", round_to " << describe_bits(f, want);
}

// The nearest rounding boundary of f to the exact value v, including zero (the sign).
Exact boundary_distance(const Format& f, const Exact& v) {
  Exact d;
  (void)round_to(f, v, &d);
  const Exact a = mp::abs(v);
  return a < d ? a : d;
}

// Soundness and tightness of one decision (mid, rad both doubles, rad >= 0, mid finite).
// Sound: decided => bits = round_to(mid) and no boundary in the closed [mid - rad, mid + rad]
// (for rad > 0), i.e. the boundary distance of mid exceeds rad. Tight: undecided => a
// boundary within rad (1 + 2^-50) + 2^-1074 of mid.
::testing::AssertionResult decides_soundly(const Format& f, double mid, double rad) {
  std::uint32_t bits = 0;
  const bool decided = decide_rounding(f, Enclosure{mid, rad}, &bits);
  const Exact dist = boundary_distance(f, Exact(mid));
  const Exact r(rad);
  if (decided) {
    if (bits != round_to(f, Exact(mid))) {
      return ::testing::AssertionFailure()
             << f.name << " mid " << std::hexfloat << mid << " rad " << rad << std::defaultfloat
             << ": decided " << describe_bits(f, bits) << ", round_to "
             << describe_bits(f, round_to(f, Exact(mid)));
    }
    if (rad > 0 && !(dist > r)) {
      return ::testing::AssertionFailure()
             << f.name << " mid " << std::hexfloat << mid << " rad " << rad << std::defaultfloat
             << ": decided with a boundary inside";
    }
    return ::testing::AssertionSuccess();
  }
  if (rad == 0) return ::testing::AssertionFailure() << "a point was not decided";
  if (dist > r * (1 + p2(-50)) + p2(-1074)) {
    return ::testing::AssertionFailure()
           << f.name << " mid " << std::hexfloat << mid << " rad " << rad << std::defaultfloat
           << ": undecided with no boundary near (distance " << to_decimal(dist, 10) << ")";
  }
  return ::testing::AssertionSuccess();
}

// Radii around the distance d from mid to the nearest boundary (an exact double or 0).
std::vector<double> radii_around(double d) {
  std::vector<double> r = {0.0, 0x1p-1074, 0x1p-300, 1e-30};
  if (d > 0) {
    r.insert(r.end(), {d, next_down(d), next_up(d), d * 0.5, d * 2, d * 0x1p-40});
  }
  return r;
}

// Every decision and rounding around a point B (a double) of format f, a boundary or a value:
// mid at B and one double ulp either side (wide: also three ulps either side); radii around
// each distance to B; both signs; double-doubles with low parts of either sign.
enum class Reach { kOneUlp, kThreeUlps };
void check_neighbourhood(const Format& f, double b, Reach reach = Reach::kOneUlp) {
  const double mids[] = {b, next_up(b), next_down(b), next_up(next_up(next_up(b))),
                         next_down(next_down(next_down(b)))};
  const int count = reach == Reach::kOneUlp ? 3 : 5;
  for (double sign : {1.0, -1.0}) {
    for (int k = 0; k < count; ++k) {
      const double m = mids[k];
      const double mid = sign * m;
      ASSERT_TRUE(rounds_like_round_to(f, mid));
      // Double-doubles: hi = mid with a low part of either sign, normalised.
      for (double lo : {mid * 0x1p-60, -mid * 0x1p-60, mid * 0x1p-54, -mid * 0x1p-54}) {
        // A zero low part leaves hi's value, signed zero included (two_sum(-0, -0) = (-0, +0)).
        const std::uint32_t want = round_to(f, lo == 0 ? Exact(mid) : Exact(mid) + Exact(lo));
        ASSERT_EQ(round_double(f, mid, lo), want)
            << f.name << std::hexfloat << " hi " << mid << " lo " << lo;
      }
      const double d = std::fabs(mid - sign * b);  // exact: a few ulps
      for (double rad : radii_around(d)) ASSERT_TRUE(decides_soundly(f, mid, rad));
      if (k != 0 || sign < 0) continue;
      // Radii of a fraction of the format's quantum reach the neighbouring boundaries too (the
      // one a quarter quantum below a power of two included).
      const double quantum = ulp(f, Exact(mid)).convert_to<double>();
      for (double q : {0.2, 0.24, 0.26, 0.3, 0.45, 0.55, 0.7, 0.76, 1.1}) {
        ASSERT_TRUE(decides_soundly(f, mid, q * quantum));
      }
    }
  }
}

TEST(CertifiedTest, DecodeDoubleIsDecode) {
  for (const Format& f : {kFp16, kBf16}) {
    for (std::uint32_t b = 0; b <= 0xffffu; ++b) {
      const double v = decode_double(f, b);
      const Exact want = decode(f, b);
      if (mp::isnan(want)) {
        ASSERT_TRUE(std::isnan(v)) << describe_bits(f, b);
      } else {
        ASSERT_EQ(Exact(v), want) << describe_bits(f, b);
        ASSERT_EQ(std::signbit(v), mp::signbit(want) != 0) << describe_bits(f, b);
      }
    }
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const std::uint32_t b = i < 1000 ? static_cast<std::uint32_t>(i) : rng();
    const Exact want = decode(kFp32, b);
    const double v = decode_double(kFp32, b);
    if (mp::isnan(want)) {
      ASSERT_TRUE(std::isnan(v));
    } else {
      ASSERT_EQ(Exact(v), want) << describe_bits(kFp32, b);
    }
  }
}

// Every midpoint of fp16 and bf16 (and the overflow threshold) and +-1 double ulp around it,
// one value in eight likewise, both signs.
TEST(CertifiedTest, ExhaustiveSixteenBitNeighbourhoods) {
  for (const Format& f : {kFp16, kBf16}) {
    for (std::uint32_t b = 0; b <= f.max_finite(); ++b) {
      check_neighbourhood(f, midpoint_above(f, b).convert_to<double>());
      if (b % 8 == 0) check_neighbourhood(f, decode_double(f, b));  // values: a sample
      if (HasFatalFailure()) return;
    }
  }
}

TEST(CertifiedTest, Fp32Samples) {
  std::mt19937 rng(2);
  for (int i = 0; i < 6000; ++i) {
    // Finite positive patterns, weighted to the ends of the range.
    std::uint32_t b = rng() % kFp32.max_finite();
    if (i % 4 == 0) b = rng() % (1u << 24);                 // subnormals and the lowest binade
    if (i % 4 == 1) b = kFp32.max_finite() - rng() % 1000;  // the top binade
    if (i % 4 == 2) b = (1 + static_cast<std::uint32_t>(rng() % 254)) << 23;  // powers of two
    check_neighbourhood(kFp32, midpoint_above(kFp32, b).convert_to<double>(), Reach::kThreeUlps);
    check_neighbourhood(kFp32, decode_double(kFp32, b), Reach::kThreeUlps);
    if (HasFatalFailure()) return;
    // Random doubles anywhere in the range and beyond it.
    const double v = std::ldexp(std::uniform_real_distribution<double>(1, 2)(rng),
                                static_cast<int>(rng() % 320) - 170);
    ASSERT_TRUE(rounds_like_round_to(kFp32, v));
    ASSERT_TRUE(decides_soundly(kFp32, v, v * 0x1p-30));
  }
}

TEST(CertifiedTest, OverflowThresholds) {
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    const double t = midpoint_above(f, f.max_finite()).convert_to<double>();
    const std::uint32_t inf = f.infinity(false);
    const std::uint32_t max = f.max_finite();
    EXPECT_EQ(round_double(f, t), inf) << f.name;  // a tie; the even neighbour is 2^(emax+1)
    EXPECT_EQ(round_double(f, next_down(t)), max) << f.name;
    EXPECT_EQ(round_double(f, -t), inf | f.sign_mask()) << f.name;
    EXPECT_EQ(round_double(f, t, -t * 0x1p-60), max) << f.name;
    EXPECT_EQ(round_double(f, t, t * 0x1p-60), inf) << f.name;
    EXPECT_EQ(round_double(f, 1e300), inf) << f.name;
    std::uint32_t bits = 0;
    EXPECT_TRUE(decide_rounding(f, {t, 0.0}, &bits));
    EXPECT_EQ(bits, inf);
    EXPECT_FALSE(decide_rounding(f, {t, 1e-300}, &bits)) << f.name;
    EXPECT_FALSE(decide_rounding(f, {next_up(t), next_up(t) - t}, &bits)) << f.name;
    EXPECT_TRUE(decide_rounding(f, {next_up(next_up(t)), next_up(t) - t}, &bits)) << f.name;
    EXPECT_EQ(bits, inf);
    EXPECT_TRUE(decide_rounding(f, {-2 * t, t / 2}, &bits));
    EXPECT_EQ(bits, inf | f.sign_mask());
    EXPECT_TRUE(decide_rounding(f, {next_down(next_down(t)), t - next_down(t)}, &bits));
    EXPECT_EQ(bits, max);
    check_neighbourhood(f, t);
    check_neighbourhood(f, 2 * t);
  }
}

TEST(CertifiedTest, SubnormalsZerosAndSigns) {
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    const double q = std::ldexp(1.0, f.emin() - f.fraction_bits());  // smallest subnormal
    EXPECT_EQ(round_double(f, q / 2), 0u) << f.name;                 // tie to even: +0
    EXPECT_EQ(round_double(f, -q / 2), f.sign_mask()) << f.name;     // -0
    EXPECT_EQ(round_double(f, next_up(q / 2)), 1u) << f.name;
    EXPECT_EQ(round_double(f, q / 2, q * 0x1p-70), 1u) << f.name;
    EXPECT_EQ(round_double(f, q / 2, -q * 0x1p-70), 0u) << f.name;
    EXPECT_EQ(round_double(f, 1.5 * q), 2u) << f.name;  // tie to even
    EXPECT_EQ(round_double(f, 2.5 * q), 2u) << f.name;
    EXPECT_EQ(round_double(f, 1e-300), 0u) << f.name;
    EXPECT_EQ(round_double(f, -1e-310), f.sign_mask()) << f.name;  // a double subnormal
    std::uint32_t bits = 7;
    EXPECT_TRUE(decide_rounding(f, {0.0, 0.0}, &bits));
    EXPECT_EQ(bits, 0u);
    EXPECT_TRUE(decide_rounding(f, {-0.0, 0.0}, &bits));
    EXPECT_EQ(bits, f.sign_mask());
    // The sign must be settled: an enclosure that holds zero, or touches it, is undecided.
    EXPECT_FALSE(decide_rounding(f, {0.0, 1e-300}, &bits));
    EXPECT_FALSE(decide_rounding(f, {q / 8, q / 8}, &bits));
    EXPECT_TRUE(decide_rounding(f, {-q / 8, q / 16}, &bits));
    EXPECT_EQ(bits, f.sign_mask());
    EXPECT_TRUE(decide_rounding(f, {q / 8, next_down(q / 8)}, &bits));
    EXPECT_EQ(bits, 0u);
    // Smallest normal: the binade below has the same quantum.
    const double min_normal = std::ldexp(1.0, f.emin());
    check_neighbourhood(f, min_normal - q / 2);
    check_neighbourhood(f, min_normal + q / 2);
    check_neighbourhood(f, q / 2);
    check_neighbourhood(f, q * 0x1p-30);
  }
}

TEST(CertifiedTest, NonFiniteAndMalformedEnclosures) {
  std::uint32_t bits = 0;
  EXPECT_TRUE(decide_rounding(kBf16, {kNaN, 0.0}, &bits));
  EXPECT_EQ(bits, kBf16.canonical_nan());
  EXPECT_TRUE(decide_rounding(kFp16, {-kInf, 0.0}, &bits));
  EXPECT_EQ(bits, 0xfc00u);
  EXPECT_EQ(round_double(kFp32, kNaN), kFp32.canonical_nan());
  EXPECT_FALSE(decide_rounding(kBf16, {1.0, kNaN}, &bits));
  EXPECT_FALSE(decide_rounding(kBf16, {1.0, kInf}, &bits));
  EXPECT_FALSE(decide_rounding(kBf16, {1.0, -1e-30}, &bits));
}

TEST(CertifiedTest, ExactDecisionOverload) {
  const Exact mid = Exact(387) / 512;  // a bf16 tie between 0x3f41 and 0x3f42
  std::uint32_t bits = 0;
  EXPECT_TRUE(decide_rounding(kBf16, mid, Exact(0), &bits));
  EXPECT_EQ(bits, 0x3f42u);
  EXPECT_FALSE(decide_rounding(kBf16, mid - p2(-300), p2(-300), &bits));
  EXPECT_TRUE(decide_rounding(kBf16, mid - p2(-300), p2(-301), &bits));
  EXPECT_EQ(bits, 0x3f41u);
  EXPECT_FALSE(decide_rounding(kBf16, p2(-200), p2(-200), &bits));  // touches zero
  EXPECT_TRUE(decide_rounding(kBf16, -p2(-200), p2(-201), &bits));
  EXPECT_EQ(bits, 0x8000u);
}

// --- ULP errors.

// The exact ULP error (format.h rules) as an Exact: the reference the bounds are checked on.
Exact exact_ulp_error(const Format& f, std::uint32_t y, const Exact& v) {
  const Exact inf = std::numeric_limits<Exact>::infinity();
  if (mp::isnan(v)) return is_nan(f, y) ? Exact(0) : inf;
  if (mp::isinf(v)) {
    return is_inf(f, y) && sign_bit(f, y) == (mp::signbit(v) != 0) ? Exact(0) : inf;
  }
  if (is_nan(f, y)) return inf;
  Exact yv;
  if (is_inf(f, y)) {
    if (round_to(f, v) == (y & f.all_mask())) return Exact(0.5);
    yv = p2(f.emax() + 1);
    if (sign_bit(f, y)) yv = -yv;
  } else {
    yv = decode(f, y);
  }
  return mp::abs(yv - v) / ulp(f, v);  // exact here: the samples keep |y - v| within 300 bits
}

TEST(CertifiedTest, UlpErrorBoundsAreSoundOnRandomEnclosures) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  const Format formats[] = {kFp16, kBf16, kFp32};
  int checked = 0;
  int undecided = 0;
  for (int trial = 0; trial < 30000; ++trial) {
    const Format& f = formats[trial % 3];
    // mid near a format value, a midpoint, a power of two, the threshold, or anywhere.
    const std::uint32_t b = static_cast<std::uint32_t>(rng() % f.max_finite());
    double mid;
    switch (trial % 5) {
      case 0:
        mid = decode_double(f, b);
        break;
      case 1:
        mid = midpoint_above(f, b).convert_to<double>();
        break;
      case 2:
        mid = std::ldexp(1.0, static_cast<int>(rng() % 40) - 20);
        break;
      case 3:
        mid = midpoint_above(f, f.max_finite()).convert_to<double>();
        break;
      default:
        mid = decode_double(f, b) * (1 + unit(rng));
        break;
    }
    const double ulp_d = ulp(f, Exact(mid)).convert_to<double>();
    mid += ulp_d * (unit(rng) - 0.5) * (trial % 7 == 0 ? 0 : 1e-3);
    if (rng() & 1) mid = -mid;
    const double rads[] = {0.0, ulp_d * 1e-12, ulp_d * 1e-3, ulp_d * 0.7, ulp_d * 3};
    const double rad = rads[rng() % 5];
    // y: the correct rounding, its neighbours, an infinity, a NaN.
    std::uint32_t y = round_to(f, Exact(mid));
    const int pick = static_cast<int>(rng() % 8);
    if (!is_inf(f, y) && pick < 3 && (y & ~f.sign_mask()) > 2) y = y + 1u - pick;
    if (pick == 6) y = f.infinity(mid < 0);
    if (pick == 7) y = f.canonical_nan();
    const Enclosure e{mid, rad};
    const UlpErrorBounds bounds = ulp_error_bounds(f, y, e);
    const double bound_choices[] = {0.5,       1.0,       2.0,
                                    bounds.lo, bounds.hi, (bounds.lo + bounds.hi) / 2};
    const double bound = bound_choices[rng() % 6];
    const UlpCompare verdict = compare_ulp_error(f, y, e, bound);
    if (verdict == UlpCompare::kUndecided) ++undecided;
    if (rad == 0) {
      ASSERT_NE(verdict, UlpCompare::kUndecided);
    }
    // Samples: both ends, interior points, and any power of two or midpoint inside.
    std::vector<Exact> samples = {Exact(mid) - Exact(rad), Exact(mid) + Exact(rad), Exact(mid)};
    for (int k = 0; k < 4; ++k)
      samples.push_back(Exact(mid) + Exact(rad) * Exact(2 * unit(rng) - 1));
    const Exact a_lo = mp::abs(Exact(mid)) - Exact(rad);
    const Exact a_hi = mp::abs(Exact(mid)) + Exact(rad);
    if (a_lo > 0) {
      int k = 0;
      (void)mp::frexp(a_hi, &k);
      const Exact pw = p2(k - 1);
      if (pw >= a_lo) samples.push_back(mid < 0 ? Exact(-pw) : pw);
    }
    for (const Exact& v : samples) {
      const Exact err = exact_ulp_error(f, y, v);
      ASSERT_LE(Exact(bounds.lo), err) << f.name << " y " << describe_bits(f, y) << " mid "
                                       << std::hexfloat << mid << " rad " << rad;
      ASSERT_GE(Exact(bounds.hi), err) << f.name << " y " << describe_bits(f, y) << " mid "
                                       << std::hexfloat << mid << " rad " << rad;
      if (verdict == UlpCompare::kWithin) {
        ASSERT_LE(err, Exact(bound));
      } else if (verdict == UlpCompare::kBeyond) {
        ASSERT_GT(err, Exact(bound));
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 200000);
  EXPECT_GT(undecided, 100);  // the grid does reach the undecided band
}

// Points: compare_ulp_error on rad = 0 is exact and agrees with ulp_error_within, including
// errors that equal the bound exactly and errors a 2^-60 ulp either side of it.
TEST(CertifiedTest, PointComparisonsAreExact) {
  std::mt19937_64 rng(4);
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    for (int trial = 0; trial < 20000; ++trial) {
      const std::uint32_t y = static_cast<std::uint32_t>(rng() % (f.max_finite() - 4)) + 2;
      const double yv = decode_double(f, y);
      const double u = ulp(f, Exact(yv)).convert_to<double>();
      const double k = static_cast<double>(rng() % 9) / 4;  // 0 .. 2 ulps in quarters
      double v = yv + (rng() & 1 ? k : -k) * u;
      if (trial % 3 == 1) v = next_up(v);
      if (trial % 3 == 2) v = next_down(v);
      for (double bound : {k, 0.5, 0.25, 1.0}) {
        const bool within = ulp_error_within(f, y, Exact(v), bound);
        const UlpCompare c = compare_ulp_error(f, y, Enclosure{v, 0.0}, bound);
        ASSERT_EQ(c, within ? UlpCompare::kWithin : UlpCompare::kBeyond)
            << f.name << " y " << describe_bits(f, y) << std::hexfloat << " v " << v << " bound "
            << bound;
        ASSERT_EQ(within, exact_ulp_error(f, y, Exact(v)) <= Exact(bound));
      }
    }
  }
}

// ulp_error() returns the exact fraction rounded to a double; near a bound that rounding can
// cross it. ulp_error_within() cannot.
TEST(CertifiedTest, UlpErrorWithinIsExactWhereTheDoubleIsNot) {
  // bf16 around 64.75, the midpoint of 0x4281 (64.5) and 0x4282 (65); ulp 0.5.
  const Exact v = Exact(64.75) - p2(-63);  // about 1.1e-19 below the midpoint
  EXPECT_EQ(ulp_error(kBf16, 0x4282u, v), 0.5);
  EXPECT_FALSE(ulp_error_within(kBf16, 0x4282u, v, 0.5));
  EXPECT_TRUE(ulp_error_within(kBf16, 0x4281u, v, 0.5));
  // An exact tie scores exactly 0.5 from both sides and passes a 0.5 bound.
  EXPECT_TRUE(ulp_error_within(kBf16, 0x4282u, Exact(64.75), 0.5));
  EXPECT_TRUE(ulp_error_within(kBf16, 0x4281u, Exact(64.75), 0.5));
  EXPECT_FALSE(ulp_error_within(kBf16, 0x4281u, Exact(64.75), std::nextafter(0.5, 0.0)));
  // 320-bit subtraction that rounds onto the bound: y = 1 (fp32), v = 2^-10 +- 2^-329 (a
  // 320-bit number), |y - v| = 1 - 2^-10 -+ 2^-329, which rounds to 1 - 2^-10 in 320 bits.
  // bound = (1 - 2^-10) / ulp(v) makes the rounded difference equal to bound * ulp (ulp(v) is
  // 2^-33 above 2^-10, 2^-34 below); only the exact integer comparison tells them apart.
  EXPECT_TRUE(
      ulp_error_within(kFp32, 0x3f800000u, p2(-10) + p2(-329), std::ldexp(1 - 0x1p-10, 33)));
  EXPECT_FALSE(
      ulp_error_within(kFp32, 0x3f800000u, p2(-10) - p2(-329), std::ldexp(1 - 0x1p-10, 34)));
  // The same in double for a point enclosure: y = 1, v = 2^-20 -+ 2^-73 or 2^-72 (doubles);
  // 1 - v needs 72 or 73 bits, so TwoSum leaves a low part of -+2^-72 / 2^-73 under
  // dh = 1 - 2^-20 = bound * ulp(v) exactly.
  EXPECT_EQ(compare_ulp_error(kFp32, 0x3f800000u, Enclosure{0x1p-20 + 0x1p-72, 0.0},
                              std::ldexp(1 - 0x1p-20, 43)),
            UlpCompare::kWithin);
  EXPECT_EQ(compare_ulp_error(kFp32, 0x3f800000u, Enclosure{0x1p-20 - 0x1p-73, 0.0},
                              std::ldexp(1 - 0x1p-20, 44)),
            UlpCompare::kBeyond);
  // Special values.
  const Exact inf = std::numeric_limits<Exact>::infinity();
  const Exact nan = std::numeric_limits<Exact>::quiet_NaN();
  EXPECT_TRUE(ulp_error_within(kFp16, 0x7e00u, nan, 0.0));
  EXPECT_FALSE(ulp_error_within(kFp16, 0x3c00u, nan, 1e9));
  EXPECT_TRUE(ulp_error_within(kFp16, 0x7c00u, inf, 0.0));
  EXPECT_FALSE(ulp_error_within(kFp16, 0xfc00u, inf, 1e9));
  EXPECT_TRUE(ulp_error_within(kFp16, 0x7c00u, Exact(1e6), 0.5));  // correct overflow: 0.5
  EXPECT_FALSE(ulp_error_within(kFp16, 0x7c00u, Exact(1e6), 0.25));
  EXPECT_FALSE(ulp_error_within(kFp16, 0x3c00u, Exact(1), kNaN));
}

TEST(CertifiedTest, ApproximateValuesAreUndecidedWithinTheirError) {
  const Exact v = Exact(64.75) - p2(-63);
  // An error interval that reaches the midpoint cannot say which neighbour is right.
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4282u, v, p2(-60), 0.5), UlpCompare::kUndecided);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, v, p2(-60), 0.5), UlpCompare::kUndecided);
  // One that stays below it can.
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4282u, v, p2(-70), 0.5), UlpCompare::kBeyond);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, v, p2(-70), 0.5), UlpCompare::kWithin);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, v, Exact(0), 0.5), UlpCompare::kWithin);
  // Around a power of two the ulp of v itself is ambiguous: v = 64 -+ 2^-60 has ulp 0.25
  // below 64 and 0.5 from 64 on; y = 64.5 (0x4281) is 1 ulp or 2 ulps away.
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, Exact(64), p2(-60), 1.5), UlpCompare::kUndecided);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, Exact(64), p2(-60), 2.5), UlpCompare::kWithin);
  EXPECT_EQ(compare_ulp_error(kBf16, 0x4281u, Exact(64), p2(-60), 0.9), UlpCompare::kBeyond);
  // Overflow: every value of the interval rounds to inf, or only part of it does.
  const Exact t = midpoint_above(kFp16, kFp16.max_finite());
  EXPECT_EQ(compare_ulp_error(kFp16, 0x7c00u, t + 1, Exact(0.5), 0.5), UlpCompare::kWithin);
  EXPECT_EQ(compare_ulp_error(kFp16, 0x7c00u, t, Exact(0.5), 0.5), UlpCompare::kUndecided);
}

TEST(CertifiedTest, EncloseHoldsTheValue) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const Exact v =
        (Exact(static_cast<double>(rng())) + Exact(static_cast<double>(rng())) * p2(-70)) *
        p2(static_cast<int>(rng() % 400) - 250);
    const Exact rad = i % 2 ? Exact(0) : mp::abs(v) * p2(-200);
    const Enclosure e = enclose(v, rad);
    ASSERT_LE(mp::abs(Exact(e.mid) - v) + rad, Exact(e.rad));
    ASSERT_LE(e.rad, std::fabs(e.mid) * 0x1p-50);
  }
  const Enclosure n = enclose(std::numeric_limits<Exact>::quiet_NaN(), Exact(0));
  EXPECT_TRUE(std::isnan(n.mid));
  EXPECT_EQ(enclose(Exact(3), Exact(0)).rad, 0.0);
}

// ulp_error_of_double(): the same double as ulp_error() of the exact value, on doubles around
// format values, midpoints, powers of two and the overflow threshold, far apart exponents, zero,
// infinite and NaN outputs.
TEST(CertifiedTest, UlpErrorOfADoubleIsUlpErrorOfItsExactValue) {
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> unit(0, 1);
  int checked = 0;
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    for (int trial = 0; trial < 20000; ++trial) {
      const std::uint32_t b = static_cast<std::uint32_t>(rng() % f.max_finite());
      double v;
      switch (trial % 6) {
        case 0:
          v = decode_double(f, b);
          break;
        case 1:
          v = midpoint_above(f, b).convert_to<double>();
          break;
        case 2:
          v = std::ldexp(1.0, static_cast<int>(rng() % 60) - 40);
          break;
        case 3:
          v = std::ldexp(unit(rng), static_cast<int>(rng() % 900) - 700);  // far from y
          break;
        case 4:
          v = 0;
          break;
        default:
          v = decode_double(f, b) * (1 + unit(rng));
          break;
      }
      if (trial % 5 == 1) v = next_up(v);
      if (trial % 5 == 2) v = next_down(v);
      if (rng() & 1) v = -v;
      std::uint32_t y = std::isfinite(v) ? round_double(f, v) : f.canonical_nan();
      const int pick = static_cast<int>(rng() % 8);
      if (!is_inf(f, y) && pick < 3 && (y & ~f.sign_mask()) > 2) y = y + 1u - pick;
      if (pick == 5) y = b;
      if (pick == 6) y = f.infinity(rng() & 1);
      if (pick == 7) y = f.canonical_nan();
      const double want = ulp_error(f, y, Exact(v));
      const double got = ulp_error_of_double(f, y, v);
      ASSERT_TRUE(got == want || (std::isnan(got) && std::isnan(want)))
          << f.name << " y " << describe_bits(f, y) << std::hexfloat << " v " << v << " got " << got
          << " want " << want;
      ++checked;
    }
  }
  EXPECT_EQ(ulp_error_of_double(kFp32, 0x3f800000u, 0x1p-700),
            ulp_error(kFp32, 0x3f800000u, Exact(0x1p-700)));
  EXPECT_GT(checked, 50000);
}

// Decisions about the double nearest to an enclosed value, and about its side of a double:
// sound on random enclosures (checked at both ends and the middle in Exact), and decided when
// the enclosure is clear of the threshold.
TEST(CertifiedTest, MagnitudeAndSideDecisionsAreSound) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  int decided = 0;
  for (int trial = 0; trial < 50000; ++trial) {
    const double t = std::ldexp(1.0, static_cast<int>(rng() % 20) - 130);
    const double mid =
        (rng() & 1 ? 1 : -1) * t * (trial % 4 == 0 ? 1.0 : 1 + (unit(rng) - 0.5) * 1e-12);
    const double rad = trial % 5 == 0 ? 0.0 : t * std::ldexp(unit(rng), -20 - 20 * (trial % 3));
    const Enclosure e{mid, rad};
    bool below = false;
    int side = 0;
    for (const Exact& v : {Exact(mid) - Exact(rad), Exact(mid), Exact(mid) + Exact(rad)}) {
      if (decide_magnitude_below(e, t, &below)) {
        ASSERT_EQ(below, std::fabs(v.convert_to<double>()) < t)
            << std::hexfloat << mid << " " << rad;
      }
      if (decide_sign(e, t, &side)) {
        ASSERT_EQ(side, v > Exact(t) ? 1 : v < Exact(t) ? -1 : 0);
      }
    }
    decided += decide_magnitude_below(e, t, &below);
    const Enclosure far{mid * 3, rad};
    ASSERT_TRUE(decide_magnitude_below(far, t, &below));
    ASSERT_FALSE(below);
    ASSERT_TRUE(decide_sign(far, t, &side));
  }
  EXPECT_GT(decided, 20000);
  EXPECT_LT(decided, 50000);  // the grid reaches the undecided band
}

// compare_ulp_error with an exact fallback: where the enclosure and the 320-bit value cannot
// tell (errors exactly on the bound, or a 2^-330 fraction of an ulp either side of it), the exact
// comparison decides, and agrees with ulp_error_within() on the exact value.
TEST(CertifiedTest, ExactSignDecidesWhatTheEnclosureCannot) {
  std::mt19937_64 rng(8);
  int exact_calls = 0;
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    for (int trial = 0; trial < 3000; ++trial) {
      const std::uint32_t y = static_cast<std::uint32_t>(rng() % (f.max_finite() - 8)) + 4;
      const Exact yv = decode(f, y);
      const double bound = static_cast<double>(rng() % 9) / 4;  // 0 .. 2 ulps in quarters
      const Exact u = ulp(f, yv);
      // v exactly `bound` ulps from y (either side), or a 2^-330 hair off that.
      Exact v = (rng() & 1) ? yv + Exact(bound) * u : yv - Exact(bound) * u;
      const int hair = static_cast<int>(rng() % 3) - 1;
      v += Exact(hair) * mp::ldexp(mp::abs(v) + u, -330);
      if (v == 0) continue;
      const bool want = ulp_error_within(f, y, v, bound);
      // The real value is v; the oracle compares it exactly (v is dyadic).
      const ExactSign sign = [&](const Exact& d) {
        ++exact_calls;
        return v > d ? 1 : v < d ? -1 : 0;
      };
      const Exact rad = mp::abs(v) * mp::ldexp(Exact(1), -300);
      const Enclosure e = enclose(v, rad);
      const UlpCompare c = compare_ulp_error(
          f, y, e, bound,
          [&] {
            return ExactValue{v, rad};
          },
          sign);
      ASSERT_NE(c, UlpCompare::kUndecided) << f.name << " y " << describe_bits(f, y);
      ASSERT_EQ(c == UlpCompare::kWithin, want)
          << f.name << " y " << describe_bits(f, y) << " bound " << bound << " hair " << hair;
      // Without the oracle the same question may stay undecided, never wrong.
      const UlpCompare plain = compare_ulp_error(f, y, ExactValue{v, rad}, bound, ExactSign());
      if (plain != UlpCompare::kUndecided) {
        ASSERT_EQ(plain == UlpCompare::kWithin, want);
      }
    }
  }
  EXPECT_GT(exact_calls, 1000);
}

}  // namespace
}  // namespace kc::ref

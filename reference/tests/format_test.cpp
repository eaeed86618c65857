// Exhaustive and property tests of decode / round_to (and their fast double/float variants)
// for fp16, bf16 and fp32.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kc/ref/certified.h"
#include "kc/ref/format.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

const Format kSixteen[] = {kFp16, kBf16};

// A hair: far below any ulp of the formats (2^-149 * 2^-100), far above Exact's resolution
// for the values involved (all below 2^129, so Exact resolves 2^(129-320) = 2^-191).
const Exact& hair() {
  static const Exact h = mp::ldexp(Exact(1), -160);
  return h;
}

std::uint32_t sixteen_bits(const Format& f, int i) {
  return static_cast<std::uint32_t>(i) & f.all_mask();
}

TEST(FormatTest, Constants) {
  EXPECT_EQ(kFp32.bias(), 127);
  EXPECT_EQ(kFp16.bias(), 15);
  EXPECT_EQ(kBf16.emin(), -126);
  EXPECT_EQ(kFp16.max_finite(), 0x7bffu);
  EXPECT_EQ(kBf16.max_finite(), 0x7f7fu);
  EXPECT_EQ(kFp32.max_finite(), 0x7f7fffffu);
  EXPECT_EQ(decode(kFp16, 0x7bff), Exact(65504));
  EXPECT_EQ(decode(kFp16, 0x0001), mp::ldexp(Exact(1), -24));
  EXPECT_EQ(decode(kBf16, 0x0001), mp::ldexp(Exact(1), -133));
  EXPECT_EQ(decode(kFp32, 0x00000001), mp::ldexp(Exact(1), -149));
  EXPECT_TRUE(mp::signbit(decode(kFp16, 0x8000)));
  EXPECT_TRUE(mp::isnan(decode(kBf16, 0x7fc1)));
  EXPECT_TRUE(mp::isinf(decode(kBf16, 0xff80)) && mp::signbit(decode(kBf16, 0xff80)));
}

// Every 16-bit pattern decodes and re-rounds to itself (NaNs to a NaN).
TEST(FormatTest, ExhaustiveSixteenBitRoundTrip) {
  for (const Format& f : kSixteen) {
    int nans = 0;
    for (int i = 0; i < 65536; ++i) {
      const std::uint32_t b = sixteen_bits(f, i);
      const std::uint32_t back = round_to(f, decode(f, b));
      if (is_nan(f, b)) {
        ++nans;
        ASSERT_TRUE(is_nan(f, back)) << f.name << " " << describe_bits(f, b);
      } else {
        ASSERT_EQ(back, b) << f.name << " " << describe_bits(f, b);
      }
    }
    // 2 * (2^fraction_bits - 1) NaN patterns.
    EXPECT_EQ(nans, 2 * ((1 << f.fraction_bits()) - 1)) << f.name;
  }
}

// Every midpoint between adjacent finite 16-bit values rounds to the even neighbour; a hair
// above goes up (away from zero), a hair below goes down. Covers zero/subnormal/normal
// boundaries, every binade edge, and the overflow threshold after the largest finite value.
TEST(FormatTest, ExhaustiveSixteenBitMidpoints) {
  for (const Format& f : kSixteen) {
    for (std::uint32_t sign : {0u, f.sign_mask()}) {
      for (std::uint32_t mag = 0; mag <= f.max_finite(); ++mag) {
        const std::uint32_t lo = sign | mag;
        const std::uint32_t hi = mag == f.max_finite() ? f.infinity(sign != 0) : lo + 1;
        const Exact mid = midpoint_above(f, lo);
        const std::uint32_t even = (mag & 1u) ? hi : lo;
        ASSERT_EQ(round_to(f, mid), even) << f.name << " midpoint above " << describe_bits(f, lo);
        const Exact away = sign ? Exact(mid - hair()) : Exact(mid + hair());
        const Exact toward = sign ? Exact(mid + hair()) : Exact(mid - hair());
        ASSERT_EQ(round_to(f, away), hi) << f.name << " above midpoint of " << describe_bits(f, lo);
        ASSERT_EQ(round_to(f, toward), lo)
            << f.name << " below midpoint of " << describe_bits(f, lo);
      }
    }
  }
}

TEST(FormatTest, OverflowThresholds) {
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    const Exact max = decode(f, f.max_finite());
    const Exact half_ulp = ulp(f, max) / 2;
    EXPECT_EQ(round_to(f, max + half_ulp), f.infinity(false)) << f.name;  // tie -> even = inf
    EXPECT_EQ(round_to(f, max + half_ulp - hair()), f.max_finite()) << f.name;
    EXPECT_EQ(round_to(f, -(max + half_ulp)), f.infinity(true)) << f.name;
    EXPECT_EQ(round_to(f, mp::ldexp(Exact(1), 1000)), f.infinity(false)) << f.name;
    EXPECT_EQ(round_to(f, std::numeric_limits<Exact>::infinity()), f.infinity(false));
    EXPECT_TRUE(is_nan(f, round_to(f, std::numeric_limits<Exact>::quiet_NaN())));
  }
}

TEST(FormatTest, SignedZeroAndUnderflow) {
  for (const Format& f : {kFp32, kFp16, kBf16}) {
    const Exact tiny = decode(f, 1);  // smallest subnormal
    EXPECT_EQ(round_to(f, Exact(0)), 0u);
    EXPECT_EQ(round_to(f, -Exact(0)), f.sign_mask());
    EXPECT_EQ(round_to(f, tiny / 2), 0u) << f.name;              // tie -> even (zero)
    EXPECT_EQ(round_to(f, -tiny / 2), f.sign_mask()) << f.name;  // -0 kept
    EXPECT_EQ(round_to(f, tiny / 2 + hair()), 1u) << f.name;
    EXPECT_EQ(round_to(f, mp::ldexp(Exact(3), -2) * tiny), 1u) << f.name;  // 0.75 -> 1
    EXPECT_EQ(round_to(f, mp::ldexp(Exact(3), -1) * tiny), 2u) << f.name;  // 1.5 -> 2 (even)
    EXPECT_EQ(round_to(f, mp::ldexp(Exact(5), -1) * tiny), 2u) << f.name;  // 2.5 -> 2 (even)
    EXPECT_EQ(round_to(f, mp::ldexp(Exact(1), -2000)), 0u) << f.name;
  }
}

// fp32: every exponent with edge and sampled fractions round-trips.
TEST(FormatTest, Fp32RoundTripSampled) {
  std::uint32_t state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  for (std::uint32_t e = 0; e < 256; ++e) {
    for (int k = 0; k < 64; ++k) {
      std::uint32_t frac = k == 0 ? 0u : k == 1 ? 0x7fffffu : k == 2 ? 1u : (next() >> 9);
      for (std::uint32_t s : {0u, 0x80000000u}) {
        const std::uint32_t b = s | (e << 23) | frac;
        const std::uint32_t back = round_to(kFp32, decode(kFp32, b));
        if (is_nan(kFp32, b)) {
          ASSERT_TRUE(is_nan(kFp32, back));
        } else {
          ASSERT_EQ(back, b) << describe_bits(kFp32, b);
        }
      }
    }
  }
}

// Random finite dyadic values with up to 200 significant bits over a wide exponent range.
rc::Gen<Exact> arbitrary_exact() {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::arbitrary<std::uint64_t>(), rc::gen::arbitrary<std::uint64_t>(),
                     rc::gen::inRange(-200, 160), rc::gen::arbitrary<bool>()),
      [](const std::tuple<std::uint64_t, std::uint64_t, int, bool>& t) {
        Exact m = Exact(std::get<0>(t)) * mp::ldexp(Exact(1), 64) + Exact(std::get<1>(t));
        Exact v = mp::ldexp(m, std::get<2>(t) - 128);
        return std::get<3>(t) ? Exact(-v) : v;
      });
}

const Format& format_of(int i) {
  static const Format all[] = {kFp32, kFp16, kBf16};
  return all[i];
}

// round_double (the fast path of act_and_mul) against round_to: every value of the 16-bit
// formats and of a sample of fp32 patterns, the midpoint above each, the doubles next to that
// midpoint on both sides, negated; random doubles over the whole double range (subnormals and
// overflow included); the specials.
TEST(FormatTest, RoundDoubleMatchesRoundTo) {
  std::mt19937_64 rng(9);
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    const std::uint32_t count = f == kFp32 ? 200000u : 65536u;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t b = f == kFp32 ? static_cast<std::uint32_t>(rng()) : i;
      if (is_nan(f, b) || is_inf(f, b)) continue;
      const double v = decode(f, b).convert_to<double>();  // exact: at most 24 bits
      const double mid = midpoint_above(f, b).convert_to<double>();
      for (double x :
           {v, mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300 * (mid > 0 ? 1 : -1))}) {
        for (double y : {x, -x}) {
          ASSERT_EQ(round_double(f, y), round_to(f, Exact(y))) << f.name << " " << y;
        }
      }
    }
    for (int i = 0; i < 200000; ++i) {
      const std::uint64_t w = rng();
      double x = 0;
      std::memcpy(&x, &w, sizeof x);
      if (std::isnan(x)) continue;
      ASSERT_EQ(round_double(f, x), round_to(f, Exact(x))) << f.name << " " << x;
      const double y = std::ldexp(static_cast<double>(w >> 11), -static_cast<int>(w % 230) - 53);
      ASSERT_EQ(round_double(f, y), round_to(f, Exact(y))) << f.name << " " << y;
    }
    EXPECT_TRUE(is_nan(f, round_double(f, std::nan(""))));
    EXPECT_EQ(round_double(f, -std::numeric_limits<double>::infinity()), f.infinity(true));
    EXPECT_EQ(round_double(f, -0.0), f.sign_mask());
    EXPECT_EQ(round_double(f, -std::numeric_limits<double>::denorm_min()), f.sign_mask());
  }
}

// decode_float is decode for every 16-bit pattern and a sample of fp32 ones.
TEST(FormatTest, DecodeFloatMatchesDecode) {
  std::mt19937 rng(10);
  for (const Format& f : {kFp16, kBf16, kFp32}) {
    for (std::uint32_t i = 0; i < 65536; ++i) {
      const std::uint32_t b = f == kFp32 ? static_cast<std::uint32_t>(rng()) : i;
      const float v = decode_float(f, b);
      if (is_nan(f, b)) {
        ASSERT_TRUE(std::isnan(v)) << f.name << " " << b;
      } else {
        ASSERT_EQ(Exact(v), decode(f, b)) << f.name << " " << b;
        ASSERT_EQ(std::signbit(v), sign_bit(f, b)) << f.name << " " << b;
      }
    }
  }
}

// The result is a nearest representable value: no other value of the format is closer.
RC_GTEST_PROP(FormatProps, RoundToIsNearest, ()) {
  const Format& f = format_of(*rc::gen::inRange(0, 3));
  const Exact v = *arbitrary_exact();
  const std::uint32_t r = round_to(f, v);
  RC_ASSERT(!is_nan(f, r));
  RC_ASSERT(ulp_error(f, r, v) <= 0.5);
  if (!is_inf(f, r) && !is_zero(f, r)) {
    // Neighbours of r are no closer.
    const Exact d = mp::abs(decode(f, r) - v);
    const std::uint32_t mag = r & ~f.sign_mask();
    if (mag < f.max_finite()) RC_ASSERT(mp::abs(decode(f, r + 1) - v) >= d);
    RC_ASSERT(mp::abs(decode(f, r - 1) - v) >= d);
  }
}

RC_GTEST_PROP(FormatProps, RoundToIsMonotoneAndOdd, ()) {
  const Format& f = format_of(*rc::gen::inRange(0, 3));
  const Exact a = *arbitrary_exact();
  const Exact b = *arbitrary_exact();
  const Exact lo = a < b ? a : b;
  const Exact hi = a < b ? b : a;
  RC_ASSERT(decode(f, round_to(f, lo)) <= decode(f, round_to(f, hi)));
  RC_ASSERT(round_to(f, -a) == (round_to(f, a) ^ f.sign_mask()));
}

}  // namespace
}  // namespace kc::ref

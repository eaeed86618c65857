// round_to(fp32, exact) agrees with the IEEE hardware wherever the hardware result is a single
// correct rounding of a value Exact holds exactly: sums, differences and products of floats, and
// double -> float conversion. Division and sqrt are rounded twice (320 bits, then 24); since
// 320 >= 2 * 24 + 2 that double rounding is innocuous (Figueroa 1995), so they agree as well.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "kc/ref/format.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float float_of(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Floats from every exponent, subnormals and zeros included, with random fractions.
float random_float(std::mt19937& rng, int exp_lo = 0, int exp_hi = 254) {
  std::uniform_int_distribution<int> e(exp_lo, exp_hi);
  const std::uint32_t b =
      (rng() & 0x80000000u) | (static_cast<std::uint32_t>(e(rng)) << 23) | (rng() & 0x7fffffu);
  return float_of(b);
}

void expect_same(float hw, const Exact& exact, const char* what, float a, float b) {
  const std::uint32_t want = bits_of(hw);
  const std::uint32_t got = round_to(kFp32, exact);
  if (std::isnan(hw)) {
    ASSERT_TRUE(is_nan(kFp32, got)) << what;
  } else {
    ASSERT_EQ(got, want) << what << " a=" << describe_bits(kFp32, bits_of(a))
                         << " b=" << describe_bits(kFp32, bits_of(b))
                         << " hardware=" << describe_bits(kFp32, want)
                         << " reference=" << describe_bits(kFp32, got);
  }
}

TEST(IeeeAgreementTest, SumsDifferencesProducts) {
  std::mt19937 rng(7);
  for (int i = 0; i < 300000; ++i) {
    // Mix wide exponent gaps (sums needing ~278 bits) with nearby ones (cancellation).
    const float a = random_float(rng);
    const float b = (i % 3 == 0) ? float_of(bits_of(a) ^ (rng() & 0x800000ffu)) : random_float(rng);
    const Exact ea(a), eb(b);
    expect_same(a + b, ea + eb, "sum", a, b);
    expect_same(a - b, ea - eb, "difference", a, b);
    expect_same(a * b, ea * eb, "product", a, b);
  }
}

TEST(IeeeAgreementTest, QuotientsAndSquareRoots) {
  std::mt19937 rng(11);
  for (int i = 0; i < 100000; ++i) {
    const float a = random_float(rng);
    const float b = random_float(rng);
    if (b != 0) expect_same(a / b, Exact(a) / Exact(b), "quotient", a, b);
    const float m = std::fabs(a);
    expect_same(std::sqrt(m), mp::sqrt(Exact(m)), "sqrt", m, 0.0f);
  }
}

TEST(IeeeAgreementTest, DoubleToFloat) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 300000; ++i) {
    std::uint64_t b = rng();
    // Keep exponents around the float range (overflow and deep underflow included).
    const std::uint64_t e = 1023 - 160 + (rng() % 300);
    b = (b & 0x800fffffffffffffull) | (e << 52);
    double d;
    std::memcpy(&d, &b, 8);
    expect_same(static_cast<float>(d), Exact(d), "double->float", static_cast<float>(d), 0.0f);
  }
}

TEST(IeeeAgreementTest, FusedMultiplyAddInModerateRange) {
  // With exponents in [-40, 40] the exact a*b+c spans < 200 bits, so Exact holds it.
  std::mt19937 rng(17);
  for (int i = 0; i < 100000; ++i) {
    const float a = random_float(rng, 127 - 20, 127 + 20);
    const float b = random_float(rng, 127 - 20, 127 + 20);
    const float c = random_float(rng, 127 - 40, 127 + 40);
    expect_same(std::fma(a, b, c), Exact(a) * Exact(b) + Exact(c), "fma", a, b);
  }
}

}  // namespace
}  // namespace kc::ref

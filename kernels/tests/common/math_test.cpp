// kernels/src/common/math.h against x86 long double libm (ld_oracle.h) and exact rounding:
//  - the float-float primitives (exact error-free transformations; product and quotient to
//    2^-44);
//  - round_to_odd + Storage<D>::store (the 16-bit rounding of a float-float) against the exact
//    rounding of hi + lo, on every sign/exponent/top-bits pattern of hi with the low bits at and
//    around every rounding decision (quick) or on all 2^32 hi (soak), lo of both signs and zero;
//  - round_ff (any exponent, subnormal and overflowing results, all three formats);
//  - exp_fast, exp_f32, exp_ff, normal_tail_fast, normal_tail_ff, erfc_f32, erf_f32, tanh_f32:
//    their stated error bounds on sweeps (every 1021st fp32 pattern, quick) or on all 2^32
//    inputs (soak), special values.
// The measured maxima are printed; each bound asserted is the one stated in math.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

#include "common/math.h"
#include "ld_oracle.h"

namespace kc::detail {
namespace {

using test::LD;
using test::rn_ld;
using test::ulp_error;

LD ld(const ScaledFf& v) { return ldexpl(static_cast<LD>(v.hi) + static_cast<LD>(v.lo), v.exp); }

LD rel_error(LD y, LD t) { return t == 0 ? fabsl(y) : fabsl(y / t - 1); }

// --- float-float ------------------------------------------------------------------------------

float random_float(std::mt19937& rng, int emin, int emax) {
  std::uniform_int_distribution<int> e(emin, emax);
  std::uniform_int_distribution<std::uint32_t> m(0, 0x7fffffu);
  std::uniform_int_distribution<int> s(0, 1);
  const float f = bits_float(static_cast<std::uint32_t>(e(rng) + 127) << 23 | m(rng));
  return s(rng) ? -f : f;
}

TEST(FloatFloatTest, ErrorFreeTransformationsAreExact) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const float a = random_float(rng, -20, 20);
    const float b = random_float(rng, -20, 20);
    const Ff s = two_sum(a, b);
    ASSERT_EQ(static_cast<LD>(s.hi) + s.lo, static_cast<LD>(a) + b) << a << " " << b;
    ASSERT_EQ(s.hi, fadd(a, b));
    const float big = fabs_bits(a) >= fabs_bits(b) ? a : b;
    const float small = fabs_bits(a) >= fabs_bits(b) ? b : a;
    const Ff f = fast_two_sum(big, small);
    ASSERT_EQ(static_cast<LD>(f.hi) + f.lo, static_cast<LD>(a) + b);
    const Ff p = two_prod(a, b);
    ASSERT_EQ(static_cast<LD>(p.hi) + p.lo, static_cast<LD>(a) * b);
  }
}

TEST(FloatFloatTest, ProductAndQuotientAreAccurate) {
  std::mt19937 rng(8);
  LD worst_mul = 0, worst_div = 0;
  for (int i = 0; i < 200000; ++i) {
    const Ff a = fast_two_sum(random_float(rng, -10, 10), random_float(rng, -40, -34));
    const Ff b = fast_two_sum(random_float(rng, -10, 10), random_float(rng, -40, -34));
    const LD la = static_cast<LD>(a.hi) + a.lo, lb = static_cast<LD>(b.hi) + b.lo;
    const Ff m = ff_mul(a, b);
    const Ff q = ff_div(a, b);
    worst_mul = std::max(worst_mul, rel_error(static_cast<LD>(m.hi) + m.lo, la * lb));
    worst_div = std::max(worst_div, rel_error(static_cast<LD>(q.hi) + q.lo, la / lb));
  }
  std::printf("ff_mul max relative error 2^%.2f, ff_div 2^%.2f\n",
              static_cast<double>(log2l(worst_mul)), static_cast<double>(log2l(worst_div)));
  EXPECT_LE(worst_mul, 0x1p-44L);
  EXPECT_LE(worst_div, 0x1p-44L);
}

// --- rounding ---------------------------------------------------------------------------------

// Decision tails: the low bits of hi at and around every place a rounding decision can fall
// (bf16 cuts 16 bits, fp16 13 in its normal range and more in its subnormal range, where the
// decision bit is in the top half and tail 0 reaches it).
const std::uint32_t kTails[] = {0x0000, 0x0001, 0x0002, 0x0003, 0x07ff, 0x0800, 0x0801, 0x0fff,
                                0x1000, 0x1001, 0x1002, 0x17ff, 0x1800, 0x1801, 0x1fff, 0x2000,
                                0x2001, 0x3000, 0x3fff, 0x4000, 0x4001, 0x7ffe, 0x7fff, 0x8000,
                                0x8001, 0x8002, 0x9000, 0xbfff, 0xc000, 0xfffe, 0xffff};

// Checks store(round_to_odd(hi, lo)) == rn(hi + lo) for D with lo in {0, +-ulp(hi)/4} and, where
// hi is not a power of two (where that would not be normalised), +-ulp(hi)/2 (1 - 2^-20). The
// sum is exact in long double. hi from 2^-124 (normal hi is all round_ff and the fast windows
// hand to round_to_odd, and below 2^-124 ulp(hi)/4 is not a float).
template <DType D>
void check_round_to_odd(float hi, long* checked) {
  const std::uint32_t b = float_bits(hi);
  const std::uint32_t mag = b & 0x7fffffffu;
  if (mag < 0x01800000u || mag >= 0x7f800000u) return;  // round_to_odd serves normal hi only
  const float q = fmul(bits_float(b & 0x7f800000u), 0x1p-23f);  // ulp(hi), exact
  const bool pow2 = (b & 0x7fffffu) == 0;
  const float los[] = {0.0f, fmul(q, 0.25f), fmul(q, -0.25f), fmul(q, 0.5f - 0x1p-21f),
                       fmul(q, -0.5f + 0x1p-21f)};
  const int n = pow2 || mag < 0x0d000000u ? 3 : 5;  // near-half lo: exact and normalised
  for (int i = 0; i < n; ++i) {
    const float lo = los[i];
    const LD want = rn_ld(D, static_cast<LD>(hi) + lo);
    const LD got = Storage<D>::load(Storage<D>::store(round_to_odd(hi, lo)));
    ASSERT_TRUE(got == want && std::signbit(got) == std::signbit(want))
        << dtype_name(D) << " hi " << std::hexfloat << hi << " lo " << lo << " got " << got
        << " want " << want;
    ++*checked;
  }
}

TEST(RoundTest, RoundToOddThenStoreIsCorrectRoundingAtEveryDecision) {
  long checked = 0;
  for (std::uint32_t top = 0; top < 65536; ++top) {
    for (const std::uint32_t tail : kTails) {
      const float hi = bits_float(top << 16 | tail);
      check_round_to_odd<DType::kBf16>(hi, &checked);
      check_round_to_odd<DType::kFp16>(hi, &checked);
      if (HasFatalFailure()) return;
    }
  }
  std::printf("%ld (hi, lo) pairs checked\n", checked);
}

// All 2^32 hi (soak label).
TEST(RoundTest, RoundToOddThenStoreOnAllFloatsSoak) {
  long checked = 0;
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); ++b) {
    const float hi = bits_float(static_cast<std::uint32_t>(b));
    check_round_to_odd<DType::kBf16>(hi, &checked);
    check_round_to_odd<DType::kFp16>(hi, &checked);
    if (HasFatalFailure()) return;
  }
  std::printf("%ld (hi, lo) pairs checked\n", checked);
}

template <DType D>
void check_round_ff(float hi, float lo, int k) {
  const LD want = rn_ld(D, ldexpl(static_cast<LD>(hi) + lo, k));
  const LD got = Storage<D>::load(round_ff<D>({hi, lo, k}));
  ASSERT_TRUE(got == want && std::signbit(got) == std::signbit(want))
      << dtype_name(D) << " hi " << std::hexfloat << hi << " lo " << lo << " k " << std::dec << k
      << " got " << std::hexfloat << got << " want " << want;
}

template <DType D>
void check_round_ff_all_lo(float hi, int k) {
  const std::uint32_t b = float_bits(hi);
  const float q = bits_float((b & 0x7f800000u) - (23u << 23));  // ulp(hi), hi >= 2^-100
  const bool pow2 = (b & 0x7fffffu) == 0;
  const float los[] = {
      0.0f,          fmul(q, 0.25f), fmul(q, -0.25f), fmul(q, 0x1p-30f), fmul(q, -0x1p-30f),
      fmul(q, 0.5f), fmul(q, -0.5f)};
  // lo = +-ulp/2 is normalised only where hi's last bit is even (a tie rounding to hi), and not
  // toward zero from a power of two (hi - ulp/2 is the float below it)
  const bool even = (b & 1u) == 0;
  for (int i = 0; i < 7; ++i) {
    const bool shrinks = (float_bits(los[i]) ^ b) >> 31;
    if (i >= 5 && (!even || (pow2 && shrinks))) continue;
    check_round_ff<D>(hi, los[i], k);
  }
}

// round_ff for the three formats: exponents across the whole range (overflow, normal, every
// subnormal cut, below the smallest subnormal) with hi's low bits at the decision places.
TEST(RoundTest, RoundFfMatchesExactRoundingForEveryExponent) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::uint32_t> top(0, 0x1ffu);
  long n = 0;
  for (int k = -200; k <= 200; ++k) {
    for (int i = 0; i < 64; ++i) {
      for (const std::uint32_t tail : kTails) {
        // hi in [1, 2) with random top mantissa bits and a decision tail, either sign
        const std::uint32_t b = 0x3f800000u | (top(rng) << 14 & 0x7fc000u) | tail;
        const float hi = (i & 1) ? -bits_float(b) : bits_float(b);
        check_round_ff_all_lo<DType::kFp32>(hi, k);
        check_round_ff_all_lo<DType::kBf16>(hi, k);
        check_round_ff_all_lo<DType::kFp16>(hi, k);
        if (HasFatalFailure()) return;
        ++n;
      }
    }
  }
  // Specials are passed through (NaN canonical).
  EXPECT_EQ(round_ff<DType::kBf16>({bits_float(0x7fc00001u), 0.0f, 0}), kCanonicalNan16);
  EXPECT_EQ(float_bits(round_ff<DType::kFp32>({bits_float(0xffc00000u), 0.0f, 0})),
            kCanonicalNanF32);
  EXPECT_EQ(round_ff<DType::kFp16>({-0.0f, 0.0f, 0}), 0x8000u);
  EXPECT_EQ(round_ff<DType::kFp16>({bits_float(0xff800000u), 0.0f, 0}), 0xfc00u);
  std::printf("%ld hi patterns x 401 exponents checked\n", n);
}

// --- exp ----------------------------------------------------------------------------------------

struct Worst {
  LD err = 0;
  float at = 0;
  void add(LD e, float x) {
    if (e > err) {
      err = e;
      at = x;
    }
  }
};

// Errors of exp_fast and exp_f32 on every `stride`-th fp32 pattern.
void exp_sweep(std::uint32_t stride, LD fast_bound, LD rounded_bound) {
  Worst fast, rounded;
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += stride) {
    const float x = bits_float(static_cast<std::uint32_t>(b));
    if (!std::isfinite(x)) continue;
    const LD t = expl(static_cast<LD>(x));
    const LD tr = rn_ld(DType::kFp32, t);
    const float f = exp_fast(x);
    const float r = exp_f32(x);
    if (std::isinf(tr)) {
      ASSERT_TRUE(std::isinf(r)) << x;
      continue;
    }
    fast.add(ulp_error(DType::kFp32, f, t), x);
    rounded.add(ulp_error(DType::kFp32, r, t), x);
  }
  std::printf("exp_fast max error %.4f ulp at %a; exp_f32 %.4f ulp at %a\n",
              static_cast<double>(fast.err), fast.at, static_cast<double>(rounded.err), rounded.at);
  EXPECT_LE(fast.err, fast_bound);
  EXPECT_LE(rounded.err, rounded_bound);
}

TEST(ExpTest, FastAndRoundedErrorBoundsOnASweep) { exp_sweep(1021, 1.0L, 0.516L); }
TEST(ExpTest, FastAndRoundedErrorBoundsOnAllFloatsSoak) { exp_sweep(1, 1.0L, 0.516L); }

TEST(ExpTest, FloatFloatRelativeErrorAndSmallArguments) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> xs(-1000.0f, 1000.0f);
  std::uniform_real_distribution<float> frac(-0.5f, 0.5f);
  Worst all, small;
  for (int i = 0; i < 400000; ++i) {
    const float hi = xs(rng);
    const float lo = fmul(frac(rng), bits_float((float_bits(hi) & 0x7f800000u) - (23u << 23)));
    const LD x = static_cast<LD>(hi) + lo;
    all.add(rel_error(ld(exp_ff({hi, lo})), expl(x)), hi);
  }
  // Near 0 the error shrinks with x: e^x - 1 keeps 2^-25 relative accuracy down to |x| = 2^-20.
  for (int i = 0; i < 200000; ++i) {
    const float x = random_float(rng, -20, -1);
    const LD em1 = ld(exp_ff({x, 0.0f})) - 1;
    small.add(rel_error(em1, expm1l(static_cast<LD>(x))), x);
  }
  std::printf(
      "exp_ff max relative error 2^%.2f at %a; (exp_ff - 1) vs expm1 for |x| in "
      "[2^-20, 1): 2^%.2f at %a\n",
      static_cast<double>(log2l(all.err)), all.at, static_cast<double>(log2l(small.err)), small.at);
  EXPECT_LE(all.err, 0x1p-30L);
  EXPECT_LE(small.err, 0x1p-25L);
}

TEST(ExpTest, SpecialValuesAndThresholds) {
  for (const float x : {0.0f, -0.0f}) {
    EXPECT_EQ(exp_fast(x), 1.0f);
    EXPECT_EQ(exp_f32(x), 1.0f);
  }
  const float inf = bits_float(0x7f800000u);
  EXPECT_EQ(exp_fast(inf), inf);
  EXPECT_EQ(exp_f32(inf), inf);
  EXPECT_EQ(float_bits(exp_fast(-inf)), 0u);
  EXPECT_EQ(float_bits(exp_f32(-inf)), 0u);
  EXPECT_TRUE(std::isnan(exp_fast(bits_float(0x7fc00000u))));
  EXPECT_TRUE(std::isnan(exp_f32(bits_float(0xffc00001u))));
  // The floats around the overflow threshold ln(max + ulp/2) = 88.7228391 and the underflow one
  // ln(2^-150) = -103.972077: exp_f32 rounds them as long double does (to max or inf, to
  // 2^-149 or 0).
  for (const float c : {88.7228391f, -103.972077f}) {
    std::uint32_t b = float_bits(c) - 8;
    for (int i = 0; i < 17; ++i, ++b) {
      const float x = bits_float(b);
      EXPECT_EQ(static_cast<LD>(exp_f32(x)), rn_ld(DType::kFp32, expl(static_cast<LD>(x))))
          << std::hexfloat << x;
    }
  }
  EXPECT_EQ(exp_f32(88.8f), inf);
  EXPECT_EQ(float_bits(exp_f32(-104.0f)), 0u);
}

// --- normal tail, erfc, erf, tanh
// -----------------------------------------------------------------

TEST(NormalTailTest, FastOnEverySixteenBitArgument) {
  Worst w;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    for (const float y : {bf16_to_float(static_cast<std::uint16_t>(b)),
                          fp16_to_float(static_cast<std::uint16_t>(b))}) {
      if (!(y >= 0.0f && y <= 13.0f)) continue;
      const float s = fmul(y, y);
      if (y >= 0x1p-60f) {
        ASSERT_EQ(static_cast<LD>(s), static_cast<LD>(y) * y);  // exact for 16-bit y
      }
      w.add(ulp_error(DType::kFp32, normal_tail_fast(y, s), test::normal_tail_ld(y)), y);
    }
  }
  std::printf("normal_tail_fast max error %.4f ulp at %a\n", static_cast<double>(w.err), w.at);
  EXPECT_LE(w.err, 4.5L);
}

TEST(NormalTailTest, FloatFloatRelativeErrorOnZeroToTwenty) {
  Worst w;
  const std::uint32_t end = float_bits(20.0f);
  for (std::uint32_t b = 0; b <= end; b += 257) {
    const float y = bits_float(b);
    const Ff y2 = two_prod(y, y);
    const ScaledFf q = normal_tail_ff({y, 0.0f}, {fmul(y2.hi, 0.5f), fmul(y2.lo, 0.5f)});
    w.add(rel_error(ld(q), test::normal_tail_ld(y)), y);
  }
  std::printf("normal_tail_ff max relative error 2^%.2f at %a\n", static_cast<double>(log2l(w.err)),
              w.at);
  EXPECT_LE(w.err, 0x1.6a09e6p-29L);  // 2^-28.5
}

// erfc_f32, erf_f32, tanh_f32 on every `stride`-th fp32 pattern: error below 1 ulp.
void erf_tanh_sweep(std::uint32_t stride, LD bound) {
  Worst c, e, t;
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += stride) {
    const float x = bits_float(static_cast<std::uint32_t>(b));
    if (!std::isfinite(x)) continue;
    const LD lx = x;
    c.add(ulp_error(DType::kFp32, erfc_f32(x), erfcl(lx)), x);
    e.add(ulp_error(DType::kFp32, erf_f32(x), erfl(lx)), x);
    t.add(ulp_error(DType::kFp32, tanh_f32(x), tanhl(lx)), x);
  }
  std::printf("max error: erfc_f32 %.4f ulp at %a, erf_f32 %.4f at %a, tanh_f32 %.4f at %a\n",
              static_cast<double>(c.err), c.at, static_cast<double>(e.err), e.at,
              static_cast<double>(t.err), t.at);
  EXPECT_LT(c.err, bound);
  EXPECT_LT(e.err, bound);
  EXPECT_LT(t.err, bound);
}

TEST(ErfTanhTest, BelowOneUlpOnASweep) { erf_tanh_sweep(1021, 1.0L); }
TEST(ErfTanhTest, BelowOneUlpOnAllFloatsSoak) { erf_tanh_sweep(1, 1.0L); }

TEST(ErfTanhTest, SpecialValues) {
  const float inf = bits_float(0x7f800000u);
  const float nan = bits_float(0x7fc00000u);
  EXPECT_EQ(erfc_f32(inf), 0.0f);
  EXPECT_EQ(erfc_f32(-inf), 2.0f);
  EXPECT_EQ(erfc_f32(0.0f), 1.0f);
  EXPECT_EQ(erf_f32(inf), 1.0f);
  EXPECT_EQ(erf_f32(-inf), -1.0f);
  EXPECT_EQ(float_bits(erf_f32(-0.0f)), 0x80000000u);
  EXPECT_EQ(tanh_f32(inf), 1.0f);
  EXPECT_EQ(tanh_f32(-inf), -1.0f);
  EXPECT_EQ(float_bits(tanh_f32(-0.0f)), 0x80000000u);
  EXPECT_TRUE(std::isnan(erfc_f32(nan)));
  EXPECT_TRUE(std::isnan(erf_f32(nan)));
  EXPECT_TRUE(std::isnan(tanh_f32(nan)));
  // erfc's subnormal results: erfc(10) = 2.088e-45 = 1.49 * 2^-149 -> 2^-149 (long double says).
  EXPECT_EQ(static_cast<LD>(erfc_f32(10.0f)), rn_ld(DType::kFp32, erfcl(10.0L)));
}

}  // namespace
}  // namespace kc::detail

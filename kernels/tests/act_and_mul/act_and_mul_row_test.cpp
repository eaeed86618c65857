// act_and_mul_row.h on the CPU against x86 long double (common/ld_oracle.h: expl, erfcl, 64-bit
// significand, about 2^-63 relative) and exact rounding:
//  - rn_D(act(g)) for every one of the 2^16 bf16 and fp16 gates, each activation: through
//    act_rounded (fast value where its window decides, else the float-float) and through the
//    float-float path alone. Exceptions allowed: none. Values the oracle finds within 2^-60 of a
//    midpoint are decided by the exact argument that applies (tiny gates: act(g) = g/2 + c g^2
//    + O(g^3), c > 0, lies above g/2) or reported as undecided (test failure); the counts are
//    printed.
//  - The fast forms' windows (kFastWindow) on every 16-bit gate whose fast value they serve.
//  - Both profiles' outputs for every 16-bit gate times 16 ups (signs, ones, values whose
//    products sit on midpoints, random values, the smallest and largest values), through
//    act_and_mul_value and through the accurate step alone, and random (g, u) pairs of all three
//    dtypes; single's products near a tie are decided the same way (tiny g: above g u / 2 when
//    u > 0; large g with g u on a midpoint: act(g) u = g u (1 - e), 0 < e < 2^-40, below it
//    when u > 0).
//  - fp32: the float-float activation rounded to fp32 within 1 ulp (max printed) on every
//    4093rd fp32 pattern and, at reduced density, the negative tails silu [-110, -80] and
//    gelu [-14.5, -4], gelu_tanh [-12, -4] (soak: the tails at full density and every 16th
//    pattern).
//  - Special values by IEEE rules on the exact expressions (act(-inf) = NaN, 0 * inf = NaN, a
//    finite gate's act times inf is +-inf in single even where torch's rn(act) is -0).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "../common/ld_oracle.h"
#include "act_and_mul/act_and_mul_row.h"
#include "common/scalar.h"

namespace kc::detail {
namespace {

using test::LD;
using test::rn_ld;

enum class Fn { kSilu, kGelu, kGeluTanh };
constexpr Fn kFns[] = {Fn::kSilu, Fn::kGelu, Fn::kGeluTanh};
const char* fn_name(Fn f) {
  return f == Fn::kSilu ? "silu" : f == Fn::kGelu ? "gelu" : "gelu_tanh";
}

// act(g) exactly for the special gates, else the long double oracle.
LD act_ld(Fn f, float g) {
  if (std::isnan(g)) return NAN;
  if (std::isinf(g)) return g > 0 ? static_cast<LD>(INFINITY) : static_cast<LD>(NAN);
  if (g == 0.0f) return g;
  const LD x = g;
  return f == Fn::kSilu   ? test::silu_ld(x)
         : f == Fn::kGelu ? test::gelu_ld(x)
                          : test::gelu_tanh_ld(x);
}

float gate_value(DType d, std::uint32_t bits) {
  return d == DType::kBf16 ? bf16_to_float(static_cast<std::uint16_t>(bits))
                           : fp16_to_float(static_cast<std::uint16_t>(bits));
}

// The oracle's rn_D(act(g) u) (u = 1 for the activation alone), near-ties decided as described
// at the top; *undecided when none applies.
struct Decided {
  LD value;
  bool near_tie = false;
  bool undecided = false;
};
Decided oracle_times(DType d, float g, LD act, LD u) {
  Decided r;
  if (std::isinf(u) && std::isfinite(g) && g != 0.0f) {
    // act(g) is nonzero (long double underflows it below g = -11355 for silu)
    r.value = (g > 0) == (u > 0) ? static_cast<LD>(INFINITY) : -static_cast<LD>(INFINITY);
    return r;
  }
  const LD t = act * u;
  r.value = rn_ld(d, t, 0, &r.near_tie);
  if (!r.near_tie) return r;
  const int su = u > 0 ? 1 : -1;
  if (fabsl(static_cast<LD>(g)) < 0x1p-20L) {
    // act(g) u = (g u / 2)(1 + c g + O(g^2)) with c > 0: above g u / 2 for u > 0
    r.value = rn_ld(d, static_cast<LD>(g) * u / 2, su);
    return r;
  }
  const LD gu = static_cast<LD>(g) * u;  // exact: two format values
  bool gu_tie = false;
  rn_ld(d, gu, 0, &gu_tie);
  if (g > 0 && gu_tie && fabsl(t - gu) <= ldexpl(fabsl(gu), -40)) {
    // act(g) = g (1 - e) with 0 < e < 2^-40 (large positive g) and g u on a midpoint: below it
    // for u > 0
    r.value = rn_ld(d, gu, -su);
    return r;
  }
  r.undecided = true;
  return r;
}

template <DType D>
bool same(typename Storage<D>::Type got, LD want) {
  if (want != want) {
    if constexpr (D == DType::kFp32) {
      return float_bits(got) == kCanonicalNanF32;
    } else {
      return got == kCanonicalNan16;
    }
  }
  const LD g = Storage<D>::load(got);
  return g == want && std::signbit(g) == std::signbit(want);
}

template <class A, DType D>
void exhaustive_act_rounded(Fn f) {
  long near = 0, fast = 0, checked = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const float g = gate_value(D, b);
    const Decided want = oracle_times(D, g, act_ld(f, g), 1);
    ASSERT_FALSE(want.undecided) << fn_name(f) << " " << dtype_name(D) << " g " << std::hexfloat
                                 << g << ": the oracle cannot decide the rounding";
    near += want.near_tie;
    const auto got = act_rounded<A, D>(g);
    const auto acc = round_ff<D>(A::accurate(g));
    std::uint16_t r;
    fast += act_detail::fast_store<D>(A::fast(g), A::kFastWindow, &r);
    ASSERT_TRUE(same<D>(got, want.value))
        << fn_name(f) << " " << dtype_name(D) << " g " << std::hexfloat << g << " got "
        << Storage<D>::load(got) << " want " << want.value;
    ASSERT_TRUE(same<D>(acc, want.value))
        << fn_name(f) << " " << dtype_name(D) << " float-float path, g " << std::hexfloat << g;
    ++checked;
  }
  std::printf(
      "%s %s: %ld gates correctly rounded (%ld decided by the fast value, %ld near-ties "
      "decided by the tiny-gate argument), 0 exceptions\n",
      fn_name(f), dtype_name(D), checked, fast, near);
}

TEST(ActRoundedTest, EverySixteenBitGateIsCorrectlyRounded) {
  exhaustive_act_rounded<Silu, DType::kBf16>(Fn::kSilu);
  exhaustive_act_rounded<Silu, DType::kFp16>(Fn::kSilu);
  exhaustive_act_rounded<Gelu, DType::kBf16>(Fn::kGelu);
  exhaustive_act_rounded<Gelu, DType::kFp16>(Fn::kGelu);
  exhaustive_act_rounded<GeluTanh, DType::kBf16>(Fn::kGeluTanh);
  exhaustive_act_rounded<GeluTanh, DType::kFp16>(Fn::kGeluTanh);
}

// |bits(v) - bits(rn32(act))| in fp32 steps (sign-magnitude bits of equal sign).
long steps(float v, float w) {
  const long a = static_cast<long>(float_bits(v) & 0x7fffffffu);
  const long b = static_cast<long>(float_bits(w) & 0x7fffffffu);
  if (std::signbit(v) != std::signbit(w)) return a + b;
  return a > b ? a - b : b - a;
}

template <class A>
void fast_window(Fn f) {
  long worst = 0, served = 0;
  float at = 0;
  for (const DType d : {DType::kBf16, DType::kFp16}) {
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const float g = gate_value(d, b);
      const float v = A::fast(g);
      const std::uint32_t m = float_bits(v) & 0x7fffffffu;
      if (m < act_detail::kMinFastBits || m >= act_detail::kMaxFastBits) continue;
      ++served;
      const long s = steps(v, static_cast<float>(act_ld(f, g)));
      if (s > worst) {
        worst = s;
        at = g;
      }
    }
  }
  std::printf(
      "%s fast: %ld 16-bit gates in range, max %ld steps from rn32(act) (at %a), window "
      "%u\n",
      fn_name(f), served, worst, at, A::kFastWindow);
  EXPECT_LE(worst, static_cast<long>(A::kFastWindow) - 1);
}

TEST(ActRoundedTest, FastWindowsHoldOnEverySixteenBitGate) {
  fast_window<Silu>(Fn::kSilu);
  fast_window<Gelu>(Fn::kGelu);
  fast_window<GeluTanh>(Fn::kGeluTanh);
}

// The ups of the exhaustive profile tests: signs, one, values whose products with 16-bit gates
// sit on ties, random values, the extremes.
template <DType D>
std::vector<float> ups() {
  std::vector<float> u = {1.0f, -1.0f, 3.0f, -0.75f, 1.5f, 0.1f, -7.0f, 17.0f, 1e-3f, 65504.0f};
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0xffffu);
  for (int i = 0; i < 4; ++i) u.push_back(gate_value(D, bits(rng) & 0x7bffu));
  u.push_back(gate_value(D, 1));       // smallest subnormal
  u.push_back(gate_value(D, 0x8400));  // -smallest normal
  for (float& x : u) x = Storage<D>::load(Storage<D>::store(x));
  return u;
}

template <class A, DType D>
void exhaustive_profiles(Fn f) {
  const std::vector<float> us = ups<D>();
  long near = 0, n = 0, single_steps = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const float g = gate_value(D, b);
    if (!std::isfinite(g)) continue;
    const LD act = act_ld(f, g);
    const Decided a = oracle_times(D, g, act, 1);
    for (const float u : us) {
      // torch: rn(rn(act) u), the product of two D values exact in long double
      const LD want_t = rn_ld(D, a.value * u);
      const auto got_t = act_and_mul_value<A, ActRounding::kTorch, D>(g, u);
      ASSERT_TRUE(same<D>(got_t, want_t))
          << fn_name(f) << " torch " << dtype_name(D) << " g " << std::hexfloat << g << " u " << u;
      ASSERT_TRUE(same<D>(act_and_mul_accurate<A, ActRounding::kTorch, D>(g, u), want_t))
          << fn_name(f) << " torch, accurate step alone, " << dtype_name(D) << " g "
          << std::hexfloat << g << " u " << u;
      const Decided want_s = oracle_times(D, g, act, u);
      ASSERT_FALSE(want_s.undecided) << fn_name(f) << " single " << dtype_name(D) << " g "
                                     << std::hexfloat << g << " u " << u << ": undecided";
      near += want_s.near_tie;
      const auto got_s = act_and_mul_value<A, ActRounding::kSingle, D>(g, u);
      ASSERT_TRUE(same<D>(got_s, want_s.value))
          << fn_name(f) << " single " << dtype_name(D) << " g " << std::hexfloat << g << " u " << u
          << " got " << Storage<D>::load(got_s) << " want " << want_s.value;
      ASSERT_TRUE(same<D>(act_and_mul_accurate<A, ActRounding::kSingle, D>(g, u), want_s.value))
          << fn_name(f) << " single, accurate step alone, " << dtype_name(D) << " g "
          << std::hexfloat << g << " u " << u;
      ++n;
      // The fast single window against the measured distance of rn32(v u) from rn32(act u)
      // (where the fast path would use it: v and the product in fp32's normal range).
      const float v = A::fast(g);
      const float p = fmul(v, u);
      const std::uint32_t vm = float_bits(v) & 0x7fffffffu, pm = float_bits(p) & 0x7fffffffu;
      if (vm >= act_detail::kMinFastBits && vm < act_detail::kMaxFastBits &&
          pm >= act_detail::kMinFastBits && pm < act_detail::kMaxFastBits) {
        single_steps = std::max(single_steps, steps(p, static_cast<float>(act * u)));
      }
    }
  }
  std::printf(
      "%s %s: %ld (g, u) pairs, both profiles exact (%ld single near-ties decided); fast "
      "single product at most %ld steps from rn32(act u), window %u\n",
      fn_name(f), dtype_name(D), n, near, single_steps, act_detail::kSingleWindow<A>);
  EXPECT_LE(single_steps, static_cast<long>(act_detail::kSingleWindow<A>) - 1);
}

TEST(ActAndMulTest, BothProfilesOnEverySixteenBitGateTimesUps) {
  exhaustive_profiles<Silu, DType::kBf16>(Fn::kSilu);
  exhaustive_profiles<Silu, DType::kFp16>(Fn::kSilu);
  exhaustive_profiles<Gelu, DType::kBf16>(Fn::kGelu);
  exhaustive_profiles<Gelu, DType::kFp16>(Fn::kGelu);
  exhaustive_profiles<GeluTanh, DType::kBf16>(Fn::kGeluTanh);
  exhaustive_profiles<GeluTanh, DType::kFp16>(Fn::kGeluTanh);
}

// torch_product's claim: the fp32 product of two bf16 values, stored to bf16, is rn_bf16 of the
// exact product also below fp32's normal range. The rounding depends on the significands and the
// exponent sum only, so a runs over every significand at exponent -25 and u over every normal
// significand and exponent putting the product in [2^-151, 2^-123); then every bf16 subnormal u
// times every normal a with a u in [2^-151, 2^-126).
TEST(ActAndMulTest, TorchBf16ProductRoundsOnceBelowTheNormalRange) {
  long n = 0;
  auto check = [&n](float a, float u) {
    const LD want = rn_ld(DType::kBf16, static_cast<LD>(a) * u);
    const LD got = bf16_to_float(act_detail::torch_product<DType::kBf16>(a, u));
    ASSERT_TRUE(got == want && std::signbit(got) == std::signbit(want))
        << std::hexfloat << a << " * " << u << ": got " << got << " want " << want;
    ++n;
  };
  for (std::uint32_t ma = 0; ma < 128; ++ma) {
    const float a = bf16_to_float(static_cast<std::uint16_t>((127 - 25) << 7 | ma));
    for (int eu = -126; eu <= -99; ++eu) {
      for (std::uint32_t mu = 0; mu < 128; ++mu) {
        check(a, bf16_to_float(static_cast<std::uint16_t>((127 + eu) << 7 | mu)));
        if (HasFatalFailure()) return;
      }
    }
  }
  for (std::uint32_t sub = 1; sub < 128; ++sub) {
    const float u = bf16_to_float(static_cast<std::uint16_t>(sub));
    for (int ea = -18; ea <= 7; ++ea) {
      for (std::uint32_t ma = 0; ma < 128; ++ma) {
        check(-bf16_to_float(static_cast<std::uint16_t>((127 + ea) << 7 | ma)), u);
        if (HasFatalFailure()) return;
      }
    }
  }
  std::printf("%ld bf16 products below 2^-123 rounded once\n", n);
}

// Random 16-bit (g, u) patterns, every value (specials included); fp32 random patterns: single
// within 1 ulp of act(g) u, torch = rn(a u) with a = act_rounded<fp32> within 1 ulp of act.
template <class A, DType D>
void random_pairs(Fn f, int count) {
  std::mt19937 rng(static_cast<unsigned>(f) * 3 + static_cast<unsigned>(D));
  std::uniform_int_distribution<std::uint32_t> bits;
  LD worst_single = 0, worst_act = 0;
  for (int i = 0; i < count; ++i) {
    const std::uint32_t gb = bits(rng), ub = bits(rng);
    if constexpr (D == DType::kFp32) {
      const float g = bits_float(gb), u = bits_float(ub);
      const LD act = act_ld(f, g);
      const float a = act_rounded<A, D>(g);
      const float y_t = act_and_mul_value<A, ActRounding::kTorch, D>(g, u);
      ASSERT_EQ(float_bits(y_t), float_bits(Storage<D>::store(fmul(a, u))));
      const float y_s = act_and_mul_value<A, ActRounding::kSingle, D>(g, u);
      const LD t = act * u;
      if (std::isfinite(g) && std::isfinite(u) && g != 0 && u != 0 && fabsl(t) < 0x1p127L) {
        worst_act = std::max(worst_act, test::ulp_error(D, a, act));
        worst_single = std::max(worst_single, test::ulp_error(D, y_s, t));
      } else {
        ASSERT_TRUE(same<D>(y_s, oracle_times(D, g, act, u).value))
            << fn_name(f) << " fp32 single g " << std::hexfloat << g << " u " << u;
      }
    } else {
      const float g = gate_value(D, gb & 0xffffu), u = gate_value(D, ub & 0xffffu);
      const LD act = act_ld(f, g);
      const Decided a = oracle_times(D, g, act, 1);
      const Decided s = oracle_times(D, g, act, u);
      ASSERT_FALSE(a.undecided || s.undecided);
      ASSERT_TRUE(
          same<D>(act_and_mul_value<A, ActRounding::kTorch, D>(g, u), rn_ld(D, a.value * u)))
          << fn_name(f) << " torch " << dtype_name(D) << " g " << std::hexfloat << g << " u " << u;
      ASSERT_TRUE(same<D>(act_and_mul_value<A, ActRounding::kSingle, D>(g, u), s.value))
          << fn_name(f) << " single " << dtype_name(D) << " g " << std::hexfloat << g << " u " << u;
    }
  }
  if constexpr (D == DType::kFp32) {
    std::printf("%s fp32 random pairs: act max %.4f ulp, single max %.4f ulp\n", fn_name(f),
                static_cast<double>(worst_act), static_cast<double>(worst_single));
    EXPECT_LT(worst_act, 1.0L);
    EXPECT_LT(worst_single, 1.0L);
  }
}

TEST(ActAndMulTest, RandomPairsOfEveryDtype) {
  random_pairs<Silu, DType::kBf16>(Fn::kSilu, 200000);
  random_pairs<Silu, DType::kFp16>(Fn::kSilu, 200000);
  random_pairs<Silu, DType::kFp32>(Fn::kSilu, 200000);
  random_pairs<Gelu, DType::kBf16>(Fn::kGelu, 200000);
  random_pairs<Gelu, DType::kFp16>(Fn::kGelu, 200000);
  random_pairs<Gelu, DType::kFp32>(Fn::kGelu, 200000);
  random_pairs<GeluTanh, DType::kBf16>(Fn::kGeluTanh, 200000);
  random_pairs<GeluTanh, DType::kFp16>(Fn::kGeluTanh, 200000);
  random_pairs<GeluTanh, DType::kFp32>(Fn::kGeluTanh, 200000);
}

// fp32: rn32 of the float-float activation on every `stride`-th pattern and on the negative
// tails every `tail_stride`-th float.
template <class A>
LD fp32_sweep(Fn f, std::uint32_t stride, std::uint32_t tail_stride, float tail_lo, float tail_hi) {
  LD worst = 0;
  float at = 0;
  auto check = [&](float g) {
    const LD t = act_ld(f, g);
    const float y = round_ff<DType::kFp32>(A::accurate(g));
    const LD e = test::ulp_error(DType::kFp32, y, t);
    if (e > worst) {
      worst = e;
      at = g;
    }
  };
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += stride) {
    const float g = bits_float(static_cast<std::uint32_t>(b));
    if (std::isfinite(g)) check(g);
  }
  // negative floats: bits grow with the magnitude
  for (std::uint32_t b = float_bits(tail_hi); b <= float_bits(tail_lo); b += tail_stride) {
    check(bits_float(b));
  }
  std::printf("%s fp32: max error %.4f ulp at %.9g (every %u-th pattern; [%g, %g] every %u-th)\n",
              fn_name(f), static_cast<double>(worst), at, stride, tail_lo, tail_hi, tail_stride);
  return worst;
}

TEST(ActFp32Test, BelowOneUlpOnASweepAndTheTails) {
  EXPECT_LT(fp32_sweep<Silu>(Fn::kSilu, 4093, 61, -110.0f, -80.0f), 1.0L);
  EXPECT_LT(fp32_sweep<Gelu>(Fn::kGelu, 4093, 241, -14.5f, -4.0f), 1.0L);
  EXPECT_LT(fp32_sweep<GeluTanh>(Fn::kGeluTanh, 4093, 241, -12.0f, -4.0f), 1.0L);
}

TEST(ActFp32Test, BelowOneUlpDenseSoak) {
  EXPECT_LT(fp32_sweep<Silu>(Fn::kSilu, 16, 1, -110.0f, -80.0f), 1.0L);
  EXPECT_LT(fp32_sweep<Gelu>(Fn::kGelu, 16, 1, -14.5f, -4.0f), 1.0L);
  EXPECT_LT(fp32_sweep<GeluTanh>(Fn::kGeluTanh, 16, 1, -12.0f, -4.0f), 1.0L);
}

// Special gates and ups, every activation, profile and dtype, against IEEE rules applied to
// the exact expressions (the long double oracle carries them: act_ld of specials, then
// products with inf, zero and NaN).
template <class A, DType D>
void specials(Fn f) {
  const float inf = bits_float(0x7f800000u), nan = bits_float(0x7fc00000u);
  const float gates[] = {nan, inf, -inf, 0.0f, -0.0f, -200.0f, -20.0f, 1e-30f, -1e-30f, 3.0f};
  const float us[] = {nan, inf, -inf, 0.0f, -0.0f, 1.0f, -2.0f};
  for (const float g0 : gates) {
    const float g = Storage<D>::load(Storage<D>::store(g0));
    const LD act = act_ld(f, g);
    const LD a = rn_ld(D, act);
    for (const float u : us) {
      ASSERT_TRUE(same<D>(act_and_mul_value<A, ActRounding::kTorch, D>(g, u), rn_ld(D, a * u)))
          << fn_name(f) << " torch " << dtype_name(D) << " g " << g << " u " << u;
      ASSERT_TRUE(same<D>(act_and_mul_value<A, ActRounding::kSingle, D>(g, u),
                          oracle_times(D, g, act, u).value))
          << fn_name(f) << " single " << dtype_name(D) << " g " << g << " u " << u;
    }
  }
}

TEST(ActAndMulTest, SpecialValuesFollowIeeeRulesOnTheExactExpressions) {
  specials<Silu, DType::kBf16>(Fn::kSilu);
  specials<Silu, DType::kFp16>(Fn::kSilu);
  specials<Silu, DType::kFp32>(Fn::kSilu);
  specials<Gelu, DType::kBf16>(Fn::kGelu);
  specials<Gelu, DType::kFp16>(Fn::kGelu);
  specials<Gelu, DType::kFp32>(Fn::kGelu);
  specials<GeluTanh, DType::kBf16>(Fn::kGeluTanh);
  specials<GeluTanh, DType::kFp16>(Fn::kGeluTanh);
  specials<GeluTanh, DType::kFp32>(Fn::kGeluTanh);
  // Spelled out: silu(-inf) = NaN; single's act(-200) * inf = -inf where torch's rn(act(-200))
  // = -0 gives NaN; NaN results are the canonical NaN.
  const float inf = bits_float(0x7f800000u);
  EXPECT_EQ((act_rounded<Silu, DType::kBf16>(-inf)), kCanonicalNan16);
  EXPECT_EQ((act_and_mul_value<Silu, ActRounding::kSingle, DType::kBf16>(-200.0f, inf)), 0xff80u);
  EXPECT_EQ((act_and_mul_value<Silu, ActRounding::kTorch, DType::kBf16>(-200.0f, inf)),
            kCanonicalNan16);
  EXPECT_EQ((act_and_mul_value<Gelu, ActRounding::kTorch, DType::kFp16>(0.0f, inf)),
            kCanonicalNan16);
}

// The negative tails keep their value where every engine's fp32 formula returns -0 (GELU for
// x <= -6 in bf16, silu below -88.7).
TEST(ActAndMulTest, NegativeTailsAreNotFlushed) {
  struct Case {
    Fn f;
    float g;
  };
  const Case cases[] = {{Fn::kGelu, -6.0f},     {Fn::kGelu, -10.0f},    {Fn::kGelu, -13.0f},
                        {Fn::kSilu, -90.0f},    {Fn::kSilu, -96.0f},    {Fn::kGeluTanh, -6.0f},
                        {Fn::kGeluTanh, -9.0f}, {Fn::kGeluTanh, -10.0f}};
  for (const Case& c : cases) {
    const std::uint16_t got = c.f == Fn::kSilu   ? act_rounded<Silu, DType::kBf16>(c.g)
                              : c.f == Fn::kGelu ? act_rounded<Gelu, DType::kBf16>(c.g)
                                                 : act_rounded<GeluTanh, DType::kBf16>(c.g);
    const LD want = rn_ld(DType::kBf16, act_ld(c.f, c.g));
    EXPECT_NE(want, 0) << fn_name(c.f) << " " << c.g;
    EXPECT_TRUE(same<DType::kBf16>(got, want)) << fn_name(c.f) << " " << c.g;
  }
}

}  // namespace
}  // namespace kc::detail

// Portable elementary functions for the kernels and their host twins, built only from the
// correctly rounded fp32 operations of scalar.h (fadd, fmul, ffma, frcp) and integer bit
// manipulation: no libm or libdevice call, no fast-math intrinsic, no table. nvcc (device) and
// the host compiler (-ffp-contract=off) therefore run the same IEEE operations in the same
// order, and every function here returns the same bits on both sides.
//
// Sections (the RoPE family adds sin/cos as a section of its own):
//  1. Float-float arithmetic: a value hi + lo held in two floats (about 48 bits), the error-free
//     transformations it is built from, and ScaledFf, a float-float times 2^exp (results far
//     below the fp32 range stay exact until their one final rounding).
//  2. Rounding a float-float to a storage format, correctly: round_ff<D>.
//  3. exp: exp_fast (fp32 evaluation), exp_ff (float-float), exp_f32 (exp_ff rounded once,
//     error below 0.516 ulp).
//  4. The normal upper tail Q(y) = erfc(y / sqrt 2) / 2 (GELU's Phi(-y)): normal_tail_fast and
//     normal_tail_ff; erfc_f32 and erf_f32 from them.
//  5. tanh_f32.
//
// Why float-float: a 16-bit result rn_D(f(x)) is correctly rounded only if the value handed to
// the rounding is on the right side of every midpoint between D's neighbours; an fp32 value
// within 1 ulp of f(x) can sit across one (about 2^-12 of fp16 results, 2^-15 of bf16).
// The float-float forms are accurate to about 2^-30 relative and exact in structure near 0
// (their errors shrink with the argument), which is what the act_and_mul tests need: every
// 16-bit gate's rounding decided correctly (act_and_mul_row.h). The fp32 (_fast) forms cost
// about half and carry a measured error bound that the caller uses to detect the rare inputs
// whose rounding they cannot decide.
//
// Error bounds: "measured" bounds come from kernels/tests/common/math_test.cpp against x86
// `long double` libm (expl, erfcl, erfl, tanhl: 64-bit significand, about 2^-63 relative), over
// the inputs stated there; "approximation" errors are those of the fitted polynomials, printed by
// scripts/derive_act_math.py, which derives every coefficient below (minimax fits of the relative
// error, coefficients rounded to fp32 or to hi + lo pairs and refitted degree by degree).
#pragma once

#include <cstdint>

#include "common/scalar.h"

namespace kc::detail {

// ============================================================================================
// 1. Float-float arithmetic
// ============================================================================================

// hi + lo, normally with |lo| <= ulp(hi) / 2 ("normalised": then hi = rn(hi + lo)).
struct Ff {
  float hi;
  float lo;
};

// (hi + lo) * 2^exp: hi a normal float (or zero, inf, NaN with lo = 0, exp = 0), normalised.
// The exponent keeps results that lie below fp32's range (the negative tails of act_and_mul)
// exact until their final rounding. exp = 0 for everything in the normal range.
struct ScaledFf {
  float hi;
  float lo;
  int exp;
};

// s + e = a + b exactly (Knuth's TwoSum, 6 operations, any a and b).
KC_HD Ff two_sum(float a, float b) {
  const float s = fadd(a, b);
  const float bb = fadd(s, -a);
  const float e = fadd(fadd(a, -fadd(s, -bb)), fadd(b, -bb));
  return {s, e};
}

// s + e = a + b exactly when |a| >= |b| or a = 0 (Dekker's FastTwoSum, 3 operations).
KC_HD Ff fast_two_sum(float a, float b) {
  const float s = fadd(a, b);
  return {s, fadd(b, -fadd(s, -a))};
}

// p + e = a * b exactly unless the product underflows (2 operations).
KC_HD Ff two_prod(float a, float b) {
  const float p = fmul(a, b);
  return {p, ffma(a, b, -p)};
}

// 2^k for k in [-126, 127], by its bits.
KC_HD float pow2i(int k) { return bits_float(static_cast<std::uint32_t>(k + 127) << 23); }

KC_HD float fabs_bits(float x) { return bits_float(float_bits(x) & 0x7fffffffu); }
KC_HD bool is_finite(float x) { return (float_bits(x) & 0x7fffffffu) < 0x7f800000u; }

// (a.hi + a.lo) * b, normalised (5 operations).
KC_HD Ff ff_mul_f(Ff a, float b) {
  const float p = fmul(a.hi, b);
  float e = ffma(a.hi, b, -p);
  e = ffma(a.lo, b, e);
  return fast_two_sum(p, e);
}

// (a.hi + a.lo) * (b.hi + b.lo), normalised (7 operations); relative error about 2^-46.
KC_HD Ff ff_mul(Ff a, Ff b) {
  const float p = fmul(a.hi, b.hi);
  float e = ffma(a.hi, b.hi, -p);
  e = ffma(a.hi, b.lo, e);
  e = ffma(a.lo, b.hi, e);
  return fast_two_sum(p, e);
}

// n / d in float-float (frcp + 6 operations); relative error about 2^-45 for |n.lo| <= ulp(n.hi)
// and normalised d. The residual n - q d is formed with fmas (exact up to its own rounding).
KC_HD Ff ff_div(Ff n, Ff d) {
  const float r = frcp(d.hi);
  const float q = fmul(n.hi, r);
  float rho = ffma(-q, d.hi, n.hi);
  rho = ffma(-q, d.lo, rho);
  rho = fadd(rho, n.lo);
  return {q, fmul(rho, r)};
}

// c0 + x (c1 + x (c2 + ... x cn)) in fp32 by Horner's rule, one fma a coefficient (n fmas).
// The coefficients are scalar constants: namespace-scope constexpr floats are usable in device
// code, constexpr arrays are not.
KC_HD float horner(float, float c) { return c; }
template <class... C>
KC_HD float horner(float x, float c0, C... cs) {
  return ffma(horner(x, cs...), x, c0);
}

// ============================================================================================
// 2. Correct rounding of a float-float to a storage format
// ============================================================================================
//
// round_to_odd(hi, lo): the float nearest hi + lo "rounded to odd" (RO): hi when lo = 0, else of
// hi and its neighbour toward lo the one with an odd last bit. For normalised hi + lo
// (|lo| <= ulp(hi)/2) this is RO(hi + lo) at fp32 precision. RO at p + 2 or more bits followed by
// a round-to-nearest-even to p bits gives the correctly rounded p-bit result (Boldo and
// Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
// odd", IEEE TC 57(4), 2008): a normal fp32 value has 24 bits where bf16 has 8 and fp16 at most
// 11 (fp16's subnormals lie in fp32's normal range). So for normal hi, rn_D(hi + lo) =
// Storage<D>::store(round_to_odd(hi, lo)), the hardware conversion on the device and scalar.h's
// bit code on the host, identical bits; round_ff takes this path only where the result is a
// normal float (the rest goes through round_scaled_bits). 4 integer operations and a select.
KC_HD float round_to_odd(float hi, float lo) {
  const std::uint32_t b = float_bits(hi);
  const std::uint32_t down = (float_bits(lo) ^ b) >> 31;  // lo shrinks |hi + lo| below |hi|
  return lo == 0.0f ? hi : bits_float((b - down) | 1u);
}

namespace round_detail {
// Precision (bits, with the implicit one), exponent range and infinity of each format.
template <DType D>
struct FormatBits;
template <>
struct FormatBits<DType::kFp32> {
  static constexpr int kP = 24, kEmin = -126, kEmax = 127, kSignShift = 31;
  static constexpr std::uint32_t kInf = 0x7f800000u;
};
template <>
struct FormatBits<DType::kBf16> {
  static constexpr int kP = 8, kEmin = -126, kEmax = 127, kSignShift = 15;
  static constexpr std::uint32_t kInf = 0x7f80u;
};
template <>
struct FormatBits<DType::kFp16> {
  static constexpr int kP = 11, kEmin = -14, kEmax = 15, kSignShift = 15;
  static constexpr std::uint32_t kInf = 0x7c00u;
};
}  // namespace round_detail

// Bits of rn_D((hi + lo) 2^k), round to nearest even, for normal hi and normalised hi + lo, by
// integer code (any k): the significand of hi is cut at the format's precision at the result's
// exponent (fewer bits in the subnormal range), the cut bits against the half decide, and a tie
// of hi alone goes the way lo points (to even only when lo = 0). Overflow gives the format's
// infinity, results below half the smallest subnormal a signed zero. This is the path of the
// results that fp32 cannot hold in normal form (tails of act_and_mul and results that overflow);
// about 20 integer operations.
template <DType D>
KC_HD std::uint32_t round_scaled_bits(float hi, float lo, int k) {
  using F = round_detail::FormatBits<D>;
  const std::uint32_t b = float_bits(hi);
  const std::uint32_t sign = (b >> 31) << F::kSignShift;
  const int re = static_cast<int>((b >> 23) & 0xffu) - 127 + k;
  const std::uint32_t m = (b & 0x7fffffu) | 0x800000u;
  if (re > F::kEmax) return sign | F::kInf;
  const int e = re < F::kEmin ? F::kEmin : re;
  const int sh = (24 - F::kP) + (e - re);  // bits of m below the result's last place
  std::uint32_t n = 0;
  if (sh == 0) {
    n = m;
  } else if (sh <= 24) {
    n = m >> sh;
    const std::uint32_t rem = m & ((1u << sh) - 1u);
    const std::uint32_t half = 1u << (sh - 1);
    const bool lo_up = lo != 0.0f && (float_bits(lo) >> 31) == (b >> 31);
    const bool lo_down = lo != 0.0f && !lo_up;
    if (rem > half || (rem == half && (lo_up || (!lo_down && (n & 1u))))) ++n;
  }  // sh >= 25: |value| < half the smallest subnormal, n = 0
  std::uint32_t bits = (static_cast<std::uint32_t>(e - F::kEmin) << (F::kP - 1)) + n;
  if (bits > F::kInf) bits = F::kInf;
  return sign | bits;
}

// rn_D((v.hi + v.lo) 2^v.exp) as D's storage value: NaN canonical, infinities and signed zeros
// kept (then lo = 0, exp = 0). Results in fp32's normal range take the cheap path: the scaling
// is exact and fp32 is hi itself (hi = rn(hi + lo)), a 16-bit format stores round_to_odd
// (5-8 operations); the rest the integer path.
template <DType D>
KC_HD typename Storage<D>::Type round_ff(const ScaledFf& v) {
  const std::uint32_t b = float_bits(v.hi);
  const int e = static_cast<int>((b >> 23) & 0xffu);  // biased
  if (e == 0xff || v.hi == 0.0f) return Storage<D>::store(v.hi);
  const int re = e - 127 + v.exp;
  if (e != 0 && re >= -126 && re <= 127) {
    const float h = bits_float(b + (static_cast<std::uint32_t>(v.exp) << 23));
    if constexpr (D == DType::kFp32) {
      return h;
    } else {
      return Storage<D>::store(round_to_odd(h, v.lo));
    }
  }
  float hi = v.hi, lo = v.lo;
  int k = v.exp;
  if (e == 0) {  // subnormal hi: scale it into the normal range first (exact)
    hi = fmul(hi, 0x1p64f);
    lo = fmul(lo, 0x1p64f);
    k -= 64;
  }
  const std::uint32_t r = round_scaled_bits<D>(hi, lo, k);
  if constexpr (D == DType::kFp32) {
    return bits_float(r);
  } else {
    return static_cast<std::uint16_t>(r);
  }
}

// ============================================================================================
// 3. exp
// ============================================================================================
//
// Argument reduction (both forms): k = rint(x log2 e) by the 1.5 * 2^23 trick (ffma rounds
// x log2e + 1.5 2^23 to an integer, exact for |x| < 2^21), r = x - k ln2 with ln2 = L1 + L2 (L1
// = rn(ln 2), L2 = rn(ln 2 - L1), |ln 2 - L1 - L2| < 2^-52): x - k L1 is exact in one fma (k has
// at most 11 bits and the result, of magnitude < 0.36, is a multiple of ulp(x) / 2 that fits in
// 24 bits), so r's error is k L2's rounding and |k| 2^-52. Then |r| <= ln2/2 + 2^-17 < 0.3467
// for |x| <= 1000, the interval the polynomials are fitted on.
namespace exp_detail {
inline constexpr float kLog2e = 0x1.715476p+0f;   // rn(1 / ln 2)
inline constexpr float kLn2Hi = 0x1.62e43p-1f;    // rn(ln 2)
inline constexpr float kLn2Lo = -0x1.05c61p-29f;  // rn(ln 2 - kLn2Hi)
inline constexpr float kRoundMagic = 0x1.8p23f;   // 1.5 * 2^23
// (e^r - 1 - r) / r^2 on |r| <= 0.3467, degree 4; approximation error 2^-22.9 relative to it,
// below 2^-26 relative to e^r.
inline constexpr float kF0 = 0x1p-1f, kF1 = 0x1.5554ep-3f, kF2 = 0x1.555588p-5f,
                       kF3 = 0x1.1209a2p-7f, kF4 = 0x1.6c886ep-10f;
// A(r) = (e^r - 1 - r - r^2/2) / r^3 on |r| <= 0.3467, degree 5; approximation error 2^-25
// relative to A (from the rounding of A(0) = 1/6 to fp32), below 2^-32 relative to e^r.
inline constexpr float kA0 = 0x1.555556p-3f, kA1 = 0x1.555556p-5f, kA2 = 0x1.110e28p-7f,
                       kA3 = 0x1.6c1122p-10f, kA4 = 0x1.a6d67ep-13f, kA5 = 0x1.ac5326p-16f;

struct Reduced {
  float k;  // the integer k as a float
  int ki;   // and as an int
  float r;  // x - k ln2 (its high part)
};

KC_HD Reduced reduce(float x) {
  const float t = ffma(x, kLog2e, kRoundMagic);
  const float k = fadd(t, -kRoundMagic);
  const int ki = static_cast<int>(float_bits(t)) - static_cast<int>(float_bits(kRoundMagic));
  const float r1 = ffma(k, -kLn2Hi, x);  // exact
  return {k, ki, ffma(k, -kLn2Lo, r1)};
}
}  // namespace exp_detail

// e^x = p 2^k in fp32: p = e^r to about 1 ulp (|r| <= 0.3467, p in [0.70, 1.42]), k as in the
// reduction, for x in [-104, 89] (callers clamp; NaN stays NaN). The caller scales: one pow2i
// multiply in the normal range (exp_fast_normal), two for the whole range (exp_fast).
// 14 operations.
struct ExpParts {
  float p;
  int k;
};
KC_HD ExpParts exp_fast_parts(float x) {
  using namespace exp_detail;
  const Reduced red = reduce(x);
  const float r = red.r;
  const float p = horner(r, 1.0f, 1.0f, kF0, kF1, kF2, kF3, kF4);
  return {p, red.ki};
}

// e^x in fp32 for x in [-87, 88] (a normal result): error below 1 ulp (measured over every fp32:
// 0.951 ulp; math_test.cpp). Outside: garbage (callers clamp). 17 operations.
KC_HD float exp_fast_normal(float x) {
  const ExpParts e = exp_fast_parts(x);
  return fmul(e.p, pow2i(e.k));
}

// e^x in fp32 for every x: NaN -> NaN, +inf -> +inf, -inf -> +0; x >= 89 -> +inf; results below
// the normal range are p 2^k rounded once to fp32's subnormal grid (the second multiply), so
// they keep an error below 1 ulp of that grid plus p's. Max error below 1 ulp (measured over
// every fp32: 0.951 ulp). 22 operations.
KC_HD float exp_fast(float x) {
  const float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
  const ExpParts e = exp_fast_parts(xc);
  const int k1 = e.k >> 1;  // both halves in [-75, 65]: the first multiply is exact
  return fmul(fmul(e.p, pow2i(k1)), pow2i(e.k - k1));
}

// e^(x.hi + x.lo) as a ScaledFf with relative error below 2^-30 (derived below; measured
// 2^-30.4: math_test.cpp), for |x.hi| <= 1000 and |x.lo| <= ulp(x.hi); the exponent is the
// reduction's k. Near x = 0 the error shrinks like |x|^3 (all approximation terms are O(r^3)),
// so e^x - 1 keeps its relative accuracy down to x ~ 2^-20.
//   e^r = 1 + r (1 + r (1/2 + r A(r))): A in fp32 (5 fmas), then three float-float Horner
//   steps; every step adds c + r s with |r s| < |c| (0.06 < 1/2, 0.20 < 1, 0.42 < 1), so a
//   fast two-sum is exact. Error: A's fp32 value (up to 1.5 ulp of A ~ 1/6 = 2^-25.4 absolute,
//   times |r|^3 <= 0.042) 2^-30 relative to e^r, A's approximation 2^-32, the float-float steps
//   2^-46. r = rh + rl comes from r1 (exact) and rn(x.lo - k L2) by a two-sum: its error is
//   that rounding (|x.lo - k L2| <= 2^-13, so 2^-38) and |k| 2^-52; rl (<= ulp(rh)/2) enters
//   e^r as e^r (1 + rl), one fma.
// 41 operations.
KC_HD ScaledFf exp_ff(Ff x) {
  using namespace exp_detail;
  const float t = ffma(x.hi, kLog2e, kRoundMagic);
  const float k = fadd(t, -kRoundMagic);
  const int ki = static_cast<int>(float_bits(t)) - static_cast<int>(float_bits(kRoundMagic));
  const float r1 = ffma(k, -kLn2Hi, x.hi);  // exact
  const Ff r = two_sum(r1, ffma(k, -kLn2Lo, x.lo));
  const float rh = r.hi, rl = r.lo;  // |rl| <= ulp(rh) / 2
  const float a = horner(rh, kA0, kA1, kA2, kA3, kA4, kA5);
  // B = 1/2 + rh a
  Ff p = two_prod(rh, a);
  Ff s = fast_two_sum(0.5f, p.hi);
  s.lo = fadd(s.lo, p.lo);
  // C = 1 + rh B
  p = two_prod(rh, s.hi);
  p.lo = ffma(rh, s.lo, p.lo);
  s = fast_two_sum(1.0f, p.hi);
  s.lo = fadd(s.lo, p.lo);
  // D = 1 + rh C
  p = two_prod(rh, s.hi);
  p.lo = ffma(rh, s.lo, p.lo);
  s = fast_two_sum(1.0f, p.hi);
  s.lo = fadd(s.lo, p.lo);
  // e^(rh + rl) = D (1 + rl)
  s.lo = ffma(s.hi, rl, s.lo);
  const Ff n = fast_two_sum(s.hi, s.lo);
  return {n.hi, n.lo, ki};
}

// e^x rounded once from exp_ff: error below 0.5 + 2^-6 ulp (2^-30 relative; measured over every
// fp32: 0.508 ulp), subnormal results rounded once on fp32's grid (round_ff), x > 88.73 -> +inf,
// x < -103.98 -> +0, NaN -> NaN, +-inf -> +inf / +0. About 55 operations.
KC_HD float exp_f32(float x) {
  if (!(x == x)) return x;
  if (x > 89.0f) return bits_float(0x7f800000u);
  if (x < -110.0f) return 0.0f;
  return round_ff<DType::kFp32>(exp_ff({x, 0.0f}));
}

// ============================================================================================
// 4. The normal upper tail, erfc and erf
// ============================================================================================
//
// Q(y) = erfc(y / sqrt 2) / 2 = Phi(-y), y >= 0, is computed as
//     Q(y) = e^(-y^2/2) t W(t),   t = 1 / (1 + P y),  P = rn(0.35),
// W a polynomial in tau = t - tc (Q e^(y^2/2) = erfcx(y / sqrt 2) / 2 is smooth and t W(t)
// carries its 1/y decay). The exponential takes y^2/2 exactly (callers pass it as a
// float-float), so the product has no cancellation anywhere: GELU's negative tail, where
// 1 + erf(x) loses everything, is a product of positive factors here.
//   - y in [0, 7]: tc = 0.5625 (t in [0.29, 1], within [tc/2, 2 tc]: tau = t - tc is exact).
//   - y in [7, 20]: tc = 0.1875 (t in [0.125, 0.29]).
// Q(20) = 2^-293 (e^(-200) / 20 / sqrt(2 pi)): beyond, every product with a format value rounds
// to zero.
namespace tail_detail {
inline constexpr float kP = 0x1.666666p-2f;  // rn(0.35)
inline constexpr float kTcMain = 0.5625f;
inline constexpr float kTcFar = 0.1875f;
// Fast form, y in [0, 13], degree 8 in tau; approximation error 2^-24.15 relative to W (that of
// the fp32 rounding of c0; the fit itself is below it).
inline constexpr float kF0 = 0x1.1a6e2ap-2f, kF1 = 0x1.8485d6p-2f, kF2 = 0x1.30d938p-2f,
                       kF3 = 0x1.e72174p-5f, kF4 = -0x1.8b30dcp-4f, kF5 = -0x1.3455a6p-5f,
                       kF6 = 0x1.b1409p-5f, kF7 = 0x1.99bbf4p-7f, kF8 = -0x1.d9c1fap-6f;
// Float-float form, y in [0, 7], degree 11; c0..c2 as hi + lo. Approximation error 2^-34.7.
inline constexpr float kM0Hi = 0x1.1a6e2ap-2f, kM0Lo = -0x1.fd652cp-27f;
inline constexpr float kM1Hi = 0x1.8485d6p-2f, kM1Lo = -0x1.c119ap-27f;
inline constexpr float kM2Hi = 0x1.30d9f4p-2f, kM2Lo = -0x1.cc59c6p-27f;
inline constexpr float kM3 = 0x1.e71d36p-5f, kM4 = -0x1.8b9fc2p-4f, kM5 = -0x1.334e12p-5f,
                       kM6 = 0x1.be24dap-5f, kM7 = 0x1.5f8d52p-7f, kM8 = -0x1.3d0ea6p-5f,
                       kM9 = 0x1.2db122p-7f, kM10 = 0x1.58fedep-6f, kM11 = -0x1.f6d298p-7f;
// Float-float form, y in [7, 20], degree 7; c0..c1 as hi + lo. Approximation error 2^-35.9.
inline constexpr float kR0Hi = 0x1.5db356p-3f, kR0Lo = -0x1.7cb3fp-28f;
inline constexpr float kR1Hi = 0x1.916224p-3f, kR1Lo = -0x1.68434ap-28f;
inline constexpr float kR2 = 0x1.721c3ep-3f, kR3 = 0x1.dbf546p-4f, kR4 = 0x1.84f2b6p-6f,
                       kR5 = -0x1.79ff7p-5f, kR6 = -0x1.8a629p-5f, kR7 = 0x1.50e82ep-6f;

// One float-float Horner step c + tau s, tau = th + tl (tl from t's low part), exact sum by a
// fast two-sum: the script checks |tau s| < |c| on the whole interval (worst ratio 0.81).
KC_HD Ff horner_step(Ff s, float th, float tl, float ch, float cl) {
  const float p = fmul(th, s.hi);
  float e = ffma(th, s.hi, -p);
  e = ffma(th, s.lo, e);
  e = ffma(tl, s.hi, e);
  const Ff r = fast_two_sum(ch, p);
  return {r.hi, fadd(fadd(r.lo, e), cl)};
}
}  // namespace tail_detail

// Q(y) in fp32 for y in [0, 13] given s = y^2 exactly (y a 16-bit value, or callers accept the
// rounding of s): error below 4.5 ulp (measured over all bf16 and fp16 y in [0, 13], at small y;
// derived: W's approximation 0.5 ulp and its fp32 Horner about 2 (its terms sum to 2.6 times W
// at tau = 0.44), exp_fast below 1, t's rounding folded in by tl, the products 1.5). Q(13) is
// 2^-125.6: the result stays in fp32's normal range. 35 operations, the reciprocal one of them.
KC_HD float normal_tail_fast(float y, float s) {
  using namespace tail_detail;
  const float e = exp_fast_normal(fmul(s, -0.5f));
  const float dh = ffma(kP, y, 1.0f);
  const float dl = ffma(kP, y, fadd(1.0f, -dh));  // 1 - dh is exact (dh >= 1)
  const float th = frcp(dh);
  float rho = ffma(-th, dh, 1.0f);
  rho = ffma(-th, dl, rho);
  const float tl = fmul(th, rho);  // t = th + tl to about 2^-46
  const float tau = fadd(th, -kTcMain);
  const float w = horner(tau, kF0, kF1, kF2, kF3, kF4, kF5, kF6, kF7, kF8);
  const float r = ffma(tl, w, fmul(th, w));  // t W, t's low part times W (its t W' part dropped)
  return fmul(e, r);
}

// Q(y) as a ScaledFf for y = y.hi + y.lo in [0, 20] and h = y^2/2 (both float-float; exact where
// the caller has them exact). Relative error below 2^-28.5 (derived: exp_ff 2^-30; W's
// approximation 2^-34.7 / 2^-35.9; its fp32 part, 2^-6 of W at most (the coefficient tail past
// the float-float steps), evaluated to 2 ulp: 2^-29.5; tl's effect on that part 2^-30.9; the
// float-float steps and products 2^-44) and measured 2^-29.05 (math_test.cpp, every 257th fp32
// in [0, 20]). y > 7 takes the far branch (rare: GELU gates below -7). 99 operations on the
// main branch.
KC_HD ScaledFf normal_tail_ff(Ff y, Ff h) {
  using namespace tail_detail;
  const ScaledFf e = exp_ff({-h.hi, -h.lo});
  const float dh = ffma(kP, y.hi, 1.0f);
  const float dl = ffma(kP, y.lo, ffma(kP, y.hi, fadd(1.0f, -dh)));  // 1 - dh exact (dh >= 1)
  const float th = frcp(dh);
  float rho = ffma(-th, dh, 1.0f);
  rho = ffma(-th, dl, rho);
  const float tl = fmul(th, rho);
  Ff w;
  if (y.hi <= 7.0f) {
    const float tau = fadd(th, -kTcMain);  // exact (Sterbenz)
    const float a = horner(tau, kM3, kM4, kM5, kM6, kM7, kM8, kM9, kM10, kM11);
    w = horner_step({a, 0.0f}, tau, tl, kM2Hi, kM2Lo);
    w = horner_step(w, tau, tl, kM1Hi, kM1Lo);
    w = horner_step(w, tau, tl, kM0Hi, kM0Lo);
  } else {
    const float tau = fadd(th, -kTcFar);
    const float a = horner(tau, kR2, kR3, kR4, kR5, kR6, kR7);
    w = horner_step({a, 0.0f}, tau, tl, kR1Hi, kR1Lo);
    w = horner_step(w, tau, tl, kR0Hi, kR0Lo);
  }
  const Ff r = ff_mul({th, tl}, w);
  const Ff q = ff_mul({e.hi, e.lo}, r);
  return {q.hi, q.lo, e.exp};
}

// erfc(x) = 2 Q(sqrt 2 x) in fp32, correctly rounded from the float-float form (round_ff):
// error below 0.5 + 2^-4 ulp, subnormal results included (x up to 10.06); x >= 10.1 -> +0,
// x < 0 -> 2 - erfc(-x); erfc(NaN) = NaN, erfc(+inf) = +0, erfc(-inf) = 2. Measured over every
// fp32: 0.529 ulp. About 115 operations.
KC_HD float erfc_f32(float x) {
  if (!(x == x)) return x;
  const float ax = fabs_bits(x);
  if (x >= 10.1f) return 0.0f;
  if (x <= -4.0f) return 2.0f;  // erfc(-4) = 2 - 1.5e-8: rn = 2
  // y = sqrt 2 |x| and y^2/2 = x^2, both as float-float.
  const Ff y = ff_mul_f({0x1.6a09e6p+0f, 0x1.9fcef4p-26f}, ax);
  const Ff h = two_prod(ax, ax);
  ScaledFf q = normal_tail_ff(y, h);
  q.exp += 1;  // erfc = 2 Q
  if (x >= 0.0f) return round_ff<DType::kFp32>(q);
  // 2 - erfc(|x|), erfc(|x|) = (hi + lo) 2^exp in (0, 1]: fold the scale (exact, >= 2^-24 here).
  const float s = pow2i(q.exp);
  const Ff r = fast_two_sum(2.0f, -fmul(q.hi, s));
  return fadd(r.hi, fadd(r.lo, -fmul(q.lo, s)));
}

namespace erf_detail {
// erf(x) = x (2/sqrt(pi) + s S1(s)), s = x^2 in [0, 0.25]; S1 degree 5, approximation error
// 2^-34.2 relative to erf(x)/x.
inline constexpr float kTwoOverSqrtPiHi = 0x1.20dd76p+0f;
inline constexpr float kTwoOverSqrtPiLo = -0x1.f7ac92p-25f;
inline constexpr float kS0 = -0x1.812746p-2f, kS1 = 0x1.ce2e86p-4f, kS2 = -0x1.b8003ap-6f,
                       kS3 = 0x1.50c1b2p-8f, kS4 = -0x1.1c59c8p-11f, kS5 = -0x1.4418e2p-12f;
}  // namespace erf_detail

// erf(x) in fp32, error below 1 ulp (measured over every fp32: 0.750 ulp, at a subnormal x where
// the scaled form rounds twice): |x| < 0.5 the series form, x (c0 + c0lo + s S1(s)) with the
// correction s S1 at most 0.083 of the total (its fp32 error 2^-27.6 relative), evaluated on
// x 2^64 below 2^-100 (x c0lo would underflow), else sign(x) (1 - erfc(|x|)) from the
// float-float tail (no cancellation: erfc(0.5) = 0.48).
// erf(+-0) = +-0, erf(+-inf) = +-1, NaN -> NaN.
KC_HD float erf_f32(float x) {
  using namespace erf_detail;
  if (!(x == x)) return x;
  const float ax = fabs_bits(x);
  if (x == 0.0f) return x;
  if (ax < 0x1p-100f) {  // erf(x) = (2/sqrt(pi)) x (1 - x^2/3): scaled, so x c0lo cannot underflow
    const float xs = fmul(x, 0x1p64f);
    return fmul(ffma(xs, kTwoOverSqrtPiHi, fmul(xs, kTwoOverSqrtPiLo)), 0x1p-64f);
  }
  if (ax < 0.5f) {
    const float s = fmul(x, x);
    const float c = horner(s, kS0, kS1, kS2, kS3, kS4, kS5);
    const float corr = ffma(s, c, kTwoOverSqrtPiLo);  // c0lo + s S1
    return ffma(x, kTwoOverSqrtPiHi, fmul(x, corr));
  }
  float r = 1.0f;
  if (ax < 4.0f) {  // erf(4) = 1 - 1.5e-8 rounds to 1
    const Ff y = ff_mul_f({0x1.6a09e6p+0f, 0x1.9fcef4p-26f}, ax);
    const ScaledFf q = normal_tail_ff(y, two_prod(ax, ax));
    const float sc = pow2i(q.exp + 1);  // erfc = 2 Q; erfc(|x|) >= 1.5e-8, the fold is exact
    const Ff d = fast_two_sum(1.0f, -fmul(q.hi, sc));
    r = fadd(d.hi, fadd(d.lo, -fmul(q.lo, sc)));
  }
  return x < 0.0f ? -r : r;
}

// ============================================================================================
// 5. tanh
// ============================================================================================
namespace tanh_detail {
// tanh(x) = x + x s T(s), s = x^2 in [0, 0.3025]; degree 6, approximation error 2^-34.2
// relative to tanh(x)/x.
inline constexpr float kT0 = -0x1.555556p-2f, kT1 = 0x1.111164p-3f, kT2 = -0x1.ba3696p-5f,
                       kT3 = 0x1.6851aep-6f, kT4 = -0x1.3598c4p-7f, kT5 = 0x1.41f5c8p-8f,
                       kT6 = -0x1.3a3686p-9f;
}  // namespace tanh_detail

// tanh(x) in fp32, error below 1 ulp (measured over every fp32: 0.711 ulp): |x| < 0.55 the series,
// the correction x s T(s) at most 0.1 of the total; else (1 - E) / (1 + E) with E = e^(-2|x|) from
// exp_ff, a float-float quotient (1 - E >= 0.66: no cancellation); |x| >= 9.1 -> +-1.
// tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN -> NaN.
KC_HD float tanh_f32(float x) {
  using namespace tanh_detail;
  if (!(x == x)) return x;
  const float ax = fabs_bits(x);
  if (ax < 0x1p-12f) return x;  // x^3/3 < 2^-25.6 x: rounds to x (and keeps -0)
  if (ax < 0.55f) {
    const float s = fmul(x, x);
    const float c = horner(s, kT0, kT1, kT2, kT3, kT4, kT5, kT6);
    return ffma(fmul(x, s), c, x);
  }
  float r = 1.0f;
  if (ax < 9.1f) {
    const ScaledFf e = exp_ff({fmul(ax, -2.0f), 0.0f});  // -2|x| exact
    const float sc = pow2i(e.exp);                       // e.exp >= -27: exact fold
    const float eh = fmul(e.hi, sc), el = fmul(e.lo, sc);
    Ff n = fast_two_sum(1.0f, -eh);
    n.lo = fadd(n.lo, -el);
    Ff d = fast_two_sum(1.0f, eh);
    d.lo = fadd(d.lo, el);
    const Ff q = ff_div(n, d);
    r = fadd(q.hi, q.lo);
  }
  return x < 0.0f ? -r : r;
}

}  // namespace kc::detail

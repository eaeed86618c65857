// Per-head arithmetic of the qknorm_rope family, shared bit for bit by the CUDA kernels
// (qknorm_rope.cuh) and the host twin (qknorm_rope_twin.cpp). Profile: qknorm_rope.exact
// (kc/kernels/qknorm_rope.h). Everything a head's result depends on is here, plus the per-pair
// frequency constants the host computes once a call (qknorm_rope_table.cpp):
//
//  1. Norm (the norm family's fp32 arithmetic, rmsnorm/rmsnorm_row.h's inv_rms): the head of n
//     elements is cut into 32 lane chunks of E = 2 ceil(n / 64) consecutive elements (lane l owns
//     [l E, l E + E) clipped to n; n = 64, 128, 256, 512 give E = 2, 4, 8, 16, one vector load a
//     lane). Each lane runs acc = fma(z, z, acc) from 0 over its chunk in order, then the
//     pairwise tree over the 32 lanes in natural order (the xor butterfly on the GPU), then
//     R = 1 / sqrt(sum / n + eps), each step correctly rounded. Depends on n only.
//  2. v_i = (z_i R) w_i in double: z_i R is exact (24 x 24 bits), one rounding for w_i.
//  3. Angle: theta_j / (2 pi) mod 1 = p c_j mod 1 with c_j = f_j / (2 pi) as a 128-bit fixed-point
//     fraction C_j = C_hi 2^-64 + C_lo 2^-128 (the integer part of c_j is dropped: p is an
//     integer). T = lo64(|p| C_hi) + hi64(|p| C_lo) mod 2^64 is p c_j mod 1 in units of 2^-64,
//     negated for p < 0; exact integer arithmetic (umulhi64), the same on host and device.
//  4. sin and cos of 2 pi T 2^-64: the nearest quarter turn q = round(4 T 2^-64) is taken off in
//     integers, leaving r = (T - q 2^62) 2^-64 in [-1/8, 1/8); x = 2 pi r in double (r rounded
//     once to double, times 2 pi as hi + lo by one fma), |x| <= pi / 4; sin x and cos x by their
//     Taylor series to x^17 and x^16 in Horner form (doubles, fma), then the quadrant's swap and
//     signs. Coefficients: scripts/derive_rope_math.py.
//  5. Rotation: d_a = fma(v_a, cos, -(v_b sin)), d_b = fma(v_b, cos, v_a sin) in double, times af,
//     then ONE rounding to the storage format (round_double: for fp16/bf16 a round-to-odd to fp32
//     then the format's round to nearest even, which equals the direct rounding, Boldo and
//     Melquiond 2008). Passthrough elements: rn(v_i).
//
// Error bound (exact profile, per output y of true value Y = af R (t_a cos th - t_b sin th)):
//  - Constant c_j: host double-double, relative error below 2^-89.9 (qknorm_rope_table.cpp), so
//    |C_j - c_j| < 2^-92.5 + 2^-128 (c_j < 2^-2.6, fraction only). The reduced turn's error:
//    |p| 2^-92.5 + 2^-64 (the dropped low word): below 2^-61 for |p| < 2^31 (angle error below
//    2^-58 rad: the reduction is exact for every practical purpose), below 2^-29.5 turns for
//    every int64 (2^-26.8 rad).
//  - sin/cos: r's rounding (2^-53 relative), 2 pi's split (2^-106), Horner in double (about 4
//    roundings of terms below 1: < 2^-51 absolute), truncation (x^19 / 19! < 2^-63; x^18 / 18!
//    < 2^-58 for cos): |error| < 2^-50 absolute, plus the angle error above.
//  - R: the fp32 sum of squares carries a relative error below (E + 5) 2^-24 (E fma steps, 5
//    tree levels), mean and eps two roundings, sqrt and reciprocal one each: |R' / R - 1| <=
//    ((E + 7) / 2 + 2) 2^-24 <= 13.5 2^-24 < 2^-20.2 for n <= 512 (typical values are far
//    smaller: the rounding errors are independent).
//  - Rotation in double: v (one rounding) and d (two): (|t_a| + |t_b|) R 2^-51 absolute.
//  So |y - Y| <= ulp(y)/2 + 2^-20.2 |Y| + af R (|t_a| + |t_b|) (2^-50 + angle error). For
//  fp16/bf16 outputs (|Y| / ulp < 2^11) the middle term is below 0.0017 ulp: a wrong rounding
//  needs Y within that of a midpoint (about 0.35 % of fp16 outputs at worst, typically much
//  less; bf16 2^3 times less) and the error stays below 0.502 ulp unless the rotation cancels
//  (|Y| < 2^-37 af R (|t_a| + |t_b|)). fp32 outputs: below 0.5 + 2^3.8 ulp.
#pragma once

#include <cstdint>

#include "common/scalar.h"
#include "kc/kernels/qknorm_rope.h"
#include "rmsnorm/rmsnorm_row.h"

namespace kc::detail {

// --- double operations with explicit rounding (device intrinsics, host operators) ------------
KC_HD double dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
KC_HD double dmul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
KC_HD double dfma(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
// Round to nearest even conversions (IEEE on both sides).
KC_HD double ll_to_double(std::int64_t v) {
#if defined(__CUDA_ARCH__)
  return __ll2double_rn(static_cast<long long>(v));
#else
  return static_cast<double>(v);
#endif
}
KC_HD float double_to_float_rn(double d) {
#if defined(__CUDA_ARCH__)
  return __double2float_rn(d);
#else
  return static_cast<float>(d);
#endif
}
// hi64(a b), exact.
KC_HD std::uint64_t umulhi64(std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  const std::uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
  const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

// --- 1. layout and norm ----------------------------------------------------------------------
inline constexpr int kQkLanes = 32;

// Elements of a lane's chunk: 2 ceil(n / 64).
KC_HD constexpr int qk_chunk(int head_dim) { return 2 * ((head_dim + 63) / 64); }

// --- 3. angle --------------------------------------------------------------------------------
// c_j = f_j / (2 pi) mod 1 = hi 2^-64 + lo 2^-128.
struct RopeConst {
  std::uint64_t hi;
  std::uint64_t lo;
};

// p c_j mod 1 in units of 2^-64.
KC_HD std::uint64_t rope_turn(std::int64_t p, RopeConst c) {
  const std::uint64_t m =
      p < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(p) : static_cast<std::uint64_t>(p);
  const std::uint64_t t = m * c.hi + umulhi64(m, c.lo);
  return p < 0 ? std::uint64_t{0} - t : t;
}

// --- 4. sin and cos of a turn ------------------------------------------------------------------
namespace rope_detail {
inline constexpr double kTwoPiHi = 0x1.921fb54442d18p+2;
inline constexpr double kTwoPiLo = 0x1.1a62633145c07p-52;
// (-1)^k / (2k + 1)! and (-1)^k / (2k)!, k = 1 .. 8, rounded to double.
inline constexpr double kS1 = -0x1.5555555555555p-3, kS2 = 0x1.1111111111111p-7,
                        kS3 = -0x1.a01a01a01a01ap-13, kS4 = 0x1.71de3a556c734p-19,
                        kS5 = -0x1.ae64567f544e4p-26, kS6 = 0x1.6124613a86d09p-33,
                        kS7 = -0x1.ae7f3e733b81fp-41, kS8 = 0x1.952c77030ad4ap-49;
inline constexpr double kC1 = -0x1.0000000000000p-1, kC2 = 0x1.5555555555555p-5,
                        kC3 = -0x1.6c16c16c16c17p-10, kC4 = 0x1.a01a01a01a01ap-16,
                        kC5 = -0x1.27e4fb7789f5cp-22, kC6 = 0x1.1eed8eff8d898p-29,
                        kC7 = -0x1.93974a8c07c9dp-37, kC8 = 0x1.ae7f3e733b81fp-45;
}  // namespace rope_detail

struct SinCos {
  double s;
  double c;
};

// sin and cos of 2 pi t 2^-64.
KC_HD SinCos sincos_turn(std::uint64_t t) {
  using namespace rope_detail;
  const std::uint64_t q = (t + (std::uint64_t{1} << 61)) >> 62;  // nearest quarter turn, 0..4
  const auto rem = static_cast<std::int64_t>(t - (q << 62));     // in [-2^61, 2^61)
  const double r = dmul(ll_to_double(rem), 0x1p-64);
  const double x = dfma(r, kTwoPiHi, dmul(r, kTwoPiLo));
  const double x2 = dmul(x, x);
  double ps = dfma(kS8, x2, kS7);
  ps = dfma(ps, x2, kS6);
  ps = dfma(ps, x2, kS5);
  ps = dfma(ps, x2, kS4);
  ps = dfma(ps, x2, kS3);
  ps = dfma(ps, x2, kS2);
  ps = dfma(ps, x2, kS1);
  const double s = dfma(dmul(x, x2), ps, x);
  double pc = dfma(kC8, x2, kC7);
  pc = dfma(pc, x2, kC6);
  pc = dfma(pc, x2, kC5);
  pc = dfma(pc, x2, kC4);
  pc = dfma(pc, x2, kC3);
  pc = dfma(pc, x2, kC2);
  pc = dfma(pc, x2, kC1);
  const double c = dfma(x2, pc, 1.0);
  switch (q & 3u) {
    case 0:
      return {s, c};
    case 1:
      return {c, -s};
    case 2:
      return {-s, -c};
    default:
      return {-c, s};
  }
}

// Element i < rotary_dim of a head: its pair j, its partner element and whether it is the
// pair's first element (a) or second (b).
struct PairOf {
  int j;
  int partner;
  bool first;
};
KC_HD PairOf pair_of(int i, int rotary_dim, RopePairing pairing) {
  if (pairing == RopePairing::kNeox) {
    const int h = rotary_dim / 2;
    return i < h ? PairOf{i, i + h, true} : PairOf{i - h, i - h, false};
  }
  return PairOf{i >> 1, i ^ 1, (i & 1) == 0};
}

// --- 5. rotation and the final rounding -----------------------------------------------------
// v_i = (z_i R) w_i.
KC_HD double head_value(float z, float r, float w) {
  return dmul(dmul(static_cast<double>(z), static_cast<double>(r)), static_cast<double>(w));
}

// The unrounded output of element `self` of a pair: af (v_self cos - v_other sin) for the first
// element (first == true), af (v_self cos + v_other sin) for the second.
KC_HD double rotated(double v_self, double v_other, SinCos sc, double af, bool first) {
  const double p = dmul(v_other, sc.s);
  return dmul(dfma(v_self, sc.c, first ? -p : p), af);
}

// The float nearest d rounded to odd (the truncation toward zero with its last bit set when
// inexact): exact for every finite double, infinities and NaN kept.
KC_HD float double_to_float_odd(double d) {
  const float f = double_to_float_rn(d);
  if (is_nan(f) || static_cast<double>(f) == d) return f;
  std::uint32_t b = float_bits(f);
  const double af = f < 0.0f ? -static_cast<double>(f) : static_cast<double>(f);
  const double ad = d < 0.0 ? -d : d;
  if (af > ad) b -= 1u;  // f rounded away from zero: its neighbour toward zero
  return bits_float(b | 1u);
}

// rn_D(d): one correct rounding of a double to the storage format.
template <DType D>
KC_HD typename Storage<D>::Type round_double(double d) {
  if constexpr (D == DType::kFp32) {
    return Storage<D>::store(double_to_float_rn(d));
  } else {
    return Storage<D>::store(double_to_float_odd(d));
  }
}

}  // namespace kc::detail

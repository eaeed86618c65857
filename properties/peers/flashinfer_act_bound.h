// The bound of FlashInfer's act_and_mul peer (flashinfer_act_subjects.cpp), derived from the
// fp32 formulas FlashInfer's JIT generates (flashinfer_act.cu) compiled with -use_fast_math.
// Header-only so that the subjects and the peer's tests (properties/tests/peers/) use one
// computation.
//
// The bound: BoundSpec::kUlps plus the act_and_mul family's rules "act_tail_to_zero" and
// "act_absolute_2^-N", properties/src/act_and_mul/act_and_mul_family.h). Notation: u = 2^-24,
// v = act(g) u the exact value, y' the fp32 value before the final rounding to T, p the
// precision of T (11 fp16, 8 bf16), rho_c = |fl(c) - c| / c the relative error of a constant
// rounded to float (computed below: log2 e 0.224 u, 1/sqrt 2 0.287 u, sqrt(2/pi) 0.477 u,
// 0.044715 0.580 u).
// Premises (measured on the GPU by props_flashinfer_act, compiled like the peer):
//   E2 = 2^-22: ex2.approx.ftz.f32 (what __expf becomes) relative error, 2 ulp, on [-125, 128)
//          (below, e^-g < 2^-125 moves D = 1 + e^-g by less than 2^-125: inside SLACK);
//   EDIV = 2^-22: the fast-math division x / D for D in [1, 2^126] (rcp.approx then a multiply;
//          CUDA Programming Guide: 2 ulp for x / y under -prec-div=false, |y| in [2^-126, 2^126]);
//   EERF = 2^-22: erff, 2 ulp (CUDA Math API; fast math leaves erff unchanged but for FTZ);
//   ETANH = 2^-16: tanh.approx.f32 relative error (a published exhaustive measurement found
//          1.113e-5 = 2^-16.46; kconform asserts 2^-16 on every float).
// Shape of every derivation: |y' - v| <= theta |v| + alpha |g u|, then the rounding to T gives
// |y - v| <= ulp(v)/2 + 2 |y' - v| (a rounding crosses at most a binade boundary, which is
// representable), so |y - v| <= (0.5 + 2 theta 2^p) ulp(v) + 2 alpha |g u| (|v| < 2^p ulp(v)):
// flat ulps = 0.5 + 2 theta 2^p and N = the largest integer with 2^-N >= 2 alpha. Second-order
// products of the small terms (all below 2^-16) are covered by SLACK = 2^-30 in theta and a
// factor (1 + 2^-15) on alpha.
//  silu: t = fl(-g fl(log2 e)), e = ex2(t), D = fl(1 + e), a = g / D (fast division), y' = fl(a u).
//    t is off the exact -g log2 e by at most |t| (rho_log2e + u + rho u), so
//    2^t = e^-g (1 + x) with |x| <= 1.224 u |g| (ln 2 log2 e = 1). D = (1 + e^-g)(1 + w eps_e)
//    (1 + d1) with w = e^-g / (1 + e^-g) = sigma(-g) in (0, 1) and eps_e = E2 or x. The E2 part
//    is relative: theta = EDIV + E2 + u (D) + u (y') + SLACK = 10 u + SLACK. The x part changes a
//    by |g| sigma(g) sigma(-g) 1.224 u |g| <= 0.2239 * 1.224 u |g| (max over g of
//    |g| sigma(g) sigma(-g) = 0.2239): alpha = 0.274 u; 2 alpha = 0.548 u <= 2^-24, N = 24.
//    Where e^-g > 2^126 (g < -87.34) the reciprocal flushes to zero and the output is a zero:
//    |v| < 2^-126 |g u| there, inside the absolute term; where 1 + e^-g overflows (g < -88.72)
//    likewise (the tail rule names that case too).
//  gelu: h = g * 0.5 (exact), s = fl(g fl(1/sqrt 2)), c = fl(1 + erff(s)), a = fl(h c), y' = fl(a
//  u).
//    s is off g / sqrt 2 by |s| (rho_isqrt2 + u + rho u) = 1.287 u |s|; erff's error EERF |erf|
//    <= EERF and the argument error moves erf by at most (2 / sqrt(pi)) |s| e^-s^2 1.287 u
//    <= 0.48394 * 1.287 u = 0.623 u: 1 + erff(s) is off 2 Phi(g) by an absolute
//    eps_a <= EERF + 0.623 u = 4.623 u, which is relative where 1 + erf >= 1 and absolute in the
//    negative tail (the cancellation). theta = u (c) + u (a) + u (y') + SLACK;
//    alpha = 0.5 eps_a (1 + 2^-15); 2 alpha = 4.623 u <= 2^-21, N = 21.
//  gelu_tanh: z = fl(fl(b) fl(g + fl(fl(fl(k) g) g) g)), th = tanh.approx(z), c = 0.5 fl(1 + th),
//    a = fl(g c), y' = fl(a u), b = sqrt(2/pi), k = 0.044715. g and k g^3 have one sign, so z
//    is off the exact z* by eps_z |z*|, eps_z <= rho_b + rho_k + 5 u (three products of the cubic
//    term, the sum, the product by b; counted unfused, which covers the fused form) = 6.057 u.
//    1 + th is off 1 + tanh(z*) by at most ETANH |tanh| + max(|z| sech^2 z) eps_z
//    <= ETANH + 0.44774 * 6.057 u = ETANH + 2.712 u (absolute; the cancellation near z -> -inf).
//    theta = u (1 + th) + u (a) + u (y') + SLACK; alpha = 0.5 (ETANH + 2.712 u)(1 + 2^-15);
//    2 alpha = 2^-16 (1 + 2.712 2^-8) <= 2^-15, N = 15.
//  All three flush subnormal fp32 operands and results (FTZ): a subnormal gate (bf16) or an
//  act(g) below 2^-126 becomes a zero of the exact value's sign: the tail rule. Not covered by
//  either rule: a product a u flushed below 2^-126 where act(g) itself is normal and not inside
//  the absolute term (|u| below about 2^-100 for silu and gelu's positive side); the family's
//  generator draws ups of N(0, 1), zero or large magnitude, so it never draws one.
// Flat bounds that follow (computed in bound_for): silu 0.50031 (bf16) / 0.50244 (fp16) ulp;
// gelu and gelu_tanh 0.50009 / 0.50073.
//
#pragma once

#include <cmath>

#include "flashinfer_act.h"

namespace kc::peers {
namespace act_bound_detail {

inline constexpr double kU = 0x1p-24;
inline constexpr double kEx2 = 0x1p-22;
inline constexpr double kDiv = 0x1p-22;
inline constexpr double kErf = 0x1p-22;
inline constexpr double kTanh = 0x1p-16;
inline constexpr double kSlack = 0x1p-30;
inline constexpr double kAlphaSlack = 1 + 0x1p-15;
// Maxima over x of |x| sigma(x) sigma(-x) (0.223872 at |x| = 1.5434), |x| sech^2(x) (0.447743 at
// |x| = 0.7717) and (2 / sqrt pi) |x| e^(-x^2) (= sqrt(2 / pi) e^(-1/2) = 0.483941), rounded up.
inline constexpr double kMaxXSigmaSigma = 0.22388;
inline constexpr double kMaxXSech2 = 0.44775;
inline constexpr double kMaxErfSlope = 0.48395;

// Relative error of the float nearest to c.
inline double rho(double c) {
  return std::fabs(static_cast<double>(static_cast<float>(c)) - c) / c;
}

}  // namespace act_bound_detail

struct FlashInferActBound {
  double theta;  // relative error of y' (before the rounding to T)
  double alpha;  // absolute error of y', times |g u|
};

inline FlashInferActBound flashinfer_act_bound(FlashInferAct act) {
  using namespace act_bound_detail;
  switch (act) {
    case FlashInferAct::kSilu: {
      const double r = rho(1.4426950408889634074);  // log2 e
      const double x = r + kU + r * kU;             // |2^t / e^-g - 1| per unit of |g|
      return {kDiv + kEx2 + 2 * kU + kSlack, kMaxXSigmaSigma * x * kAlphaSlack};
    }
    case FlashInferAct::kGelu: {
      const double r = rho(0.70710678118654752440);  // 1 / sqrt 2
      const double eps_a = kErf + kMaxErfSlope * (r + kU + r * kU);
      return {3 * kU + kSlack, 0.5 * eps_a * kAlphaSlack};
    }
    case FlashInferAct::kGeluTanh:
      break;
  }
  // sqrt(2 / pi) and 0.044715 as FlashInfer writes them.
  const double eps_z = rho(0.79788456080286535588) + rho(0.044715) + 5 * kU;
  const double e = kTanh + kMaxXSech2 * eps_z;
  return {3 * kU + kSlack, 0.5 * e * kAlphaSlack};
}

// The flat bound in ULPs of a format of precision p (11 fp16, 8 bf16): 0.5 + 2 theta 2^p.
inline double flashinfer_act_flat_ulps(FlashInferAct act, int p) {
  return 0.5 + 2 * flashinfer_act_bound(act).theta * std::ldexp(1.0, p);
}

// N of the absolute rule: the largest integer with 2^-N >= 2 alpha.
inline int flashinfer_act_absolute_n(FlashInferAct act) {
  return static_cast<int>(std::floor(-std::log2(2 * flashinfer_act_bound(act).alpha)));
}

}  // namespace kc::peers

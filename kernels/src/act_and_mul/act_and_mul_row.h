// Per-element arithmetic of the act_and_mul family, shared bit for bit by the CUDA kernels and
// their host twins: out = act(g) * u with g = x[t, j] (gate) and u = x[t, d + j] (up), for the
// profiles of reference/include/kc/ref/act_and_mul.h:
//   single: y = rn_D(act(g) u)          torch: y = rn_D(rn_D(act(g)) u)
// act is the mathematical function (silu, gelu with the true erf, gelu_tanh with the true tanh
// and exact constants); rn_D rounds to nearest even in the storage dtype D. Everything is built
// from common/math.h, so the kernels and twins agree bit for bit.
//
// Each activation is a functor (Silu, Gelu, GeluTanh) with two evaluations:
//  - accurate(g): act(g) as a ScaledFf, (hi + lo) 2^exp, relative error below 2^-28 (derived
//    beside each function; measured in act_and_mul_row_test.cpp) and exact in structure near 0
//    and in the tails, for every fp32 g. The forms avoid every cancellation:
//      silu(g)      = g s(g),               s(w) = 1 / (1 + e^-w) for w >= 0, e^w / (1 + e^w)
//                                           for w < 0 (no overflow: e^-|w| <= 1)
//      gelu_tanh(g) = g s(2z), z = sqrt(2/pi) (g + 0.044715 g^3), since (1 + tanh z)/2 = s(2z)
//      gelu(g)      = g (1 - Q(g)) for g >= 0, g Q(|g|) for g < 0, Q the normal upper tail
//                     e^(-y^2/2) t W(t) (math.h): no 1 + erf(x) anywhere
//    e^-|w| and Q come as float-float with their own exponent, so the negative tails (where the
//    engines' fp32 formulas return -0: gelu from -6, gelu_tanh from -5.5, silu below -88.7) keep
//    their value until the one final rounding. Gates with |g| < 2^-40 use act(g) = (g/2)(1 + c g)
//    + O(g^3) (c = 1/2 for silu, sqrt(2/pi) for both gelus) in scaled form: its low part
//    c g^2 / 2 is positive however small, so ties of g/2 (bf16 subnormal gates) round the
//    right way.
//  - fast(g), for gates that are 16-bit values: act(g) in plain fp32 (exp_fast, frcp) with a
//    measured error of at most kFastWindow - 1 fp32 steps (|bits(v) - bits(rn32(act))|, over
//    every bf16 and fp16 gate; act_and_mul_row_test.cpp asserts it). A value v decides rn_D
//    when its whole window [bits(v) - W, bits(v) + W], which holds act(g), rounds to one D value
//    (fast_store); otherwise, and where v leaves fp32's normal range (tails, tiny gates,
//    specials), the element takes the accurate path: about 2W/2^16 of bf16 results and 2W/2^13
//    of fp16 results.
//
// Output steps (act_and_mul_value):
//  - torch: a = act_rounded<D>(g) = rn_D(act(g)); y = rn_D(a u) = store(rn32(a u)), one rounding
//    for fp16 and bf16 (torch_product says why) and fp32.
//  - single, 16-bit: p = rn32(v u) from the fast value, decided when its window (2W + 2 steps:
//    kSingleWindow says why) has no rounding boundary; else the accurate act times u as a
//    float-float (u split into mu 2^e, mu in [1, 2), so nothing overflows or underflows before
//    round_ff): correctly rounded up to the float-float's own error.
//  - single, fp32: always the accurate path (the fast one cannot promise < 1 ulp).
// Special values, from IEEE rules on the exact expressions: act(NaN) = NaN, act(+inf) = +inf,
// act(-inf) = NaN (-inf * 0), act(+-0) = +-0; act(g) is nonzero for every finite g != 0 (scaled,
// so single gives act(g) * inf = +-inf); products follow IEEE (0 * inf = NaN); NaN results are
// the canonical NaN of scalar.h.
//
// Operation counts, normal range (host-side operations: fp32 arithmetic, integer operations,
// compares and selects one each, frcp one; on sm_90 __frcp_rn is about 7 instructions and the
// compiler folds negations and absolute values into operands):
//   fast (16-bit storage):  silu 27, gelu_tanh 45, gelu 46; the window check and store 7; the
//                           torch product 3-5; the single product and its check 12.
//   accurate:               silu 87, gelu_tanh 110, gelu 130 (exp_ff 41; gelu's normal_tail_ff
//                           99); round_ff 12 in the normal range; single_product 29.
// SASS of the 16-bit fast path with its check, read from nvcc 13.0 -arch=sm_90a builds of these
// functions (one element a thread): silu about 47, gelu_tanh about 70, gelu about 77
// instructions. The 16-bit kernels run the fast column and fall back for about 2W/2^16 (bf16)
// or 2W/2^13 (fp16) of their elements (2(2W + 2)/2^13 for fp16 single); fp32 storage runs the
// accurate column.
#pragma once

#include <cstdint>

#include "common/math.h"
#include "common/scalar.h"
#include "kc/kernels/act_and_mul.h"

namespace kc::detail {

namespace act_detail {

// act of NaN, +-inf, +-0 (IEEE rules on g s(w) and g Phi(g)).
KC_HD ScaledFf special(float g) {
  if (g == bits_float(0xff800000u)) return {bits_float(kCanonicalNanF32), 0.0f, 0};
  return {g, 0.0f, 0};
}

// act(g) = (g/2)(1 + c g) for 0 < |g| < 2^-40, the next term O(g^3) below 2^-80 of the value.
// hi = g/2 scaled into the normal range (exact), lo = |hi| max(c|g|, 2^-100) > 0: the true low
// part c g^2/2 (positive for either sign of g) or, where that underflows, a stand-in of the same
// sign 2^-100 of hi (every rounding of hi + lo to a format depends on lo's sign only there).
KC_HD ScaledFf tiny(float g, float c) {
  const bool very = fabs_bits(g) < 0x1p-100f;
  const float big = fmul(g, 0x1p64f);
  const float gg = very ? fmul(big, 0x1p64f) : big;
  const float hi = fmul(gg, 0.5f);
  float cg = fmul(c, fabs_bits(g));
  cg = cg < 0x1p-100f ? 0x1p-100f : cg;
  return {hi, fmul(fabs_bits(hi), cg), very ? -128 : -64};
}

// g s(w) for finite g with |g| >= 2^-40, w = w.hi + w.lo (silu: w = g; gelu_tanh: w = 2z).
// E = e^-|w| (exp_ff); |w| is capped at 60 for w > 0 (s(w) = 1 - E within 2^-86 of 1: the
// result's low part keeps its sign) and 1000 for w < 0 (everything below rounds to zero even
// times the largest format value). E 2^k is folded into fp32 when k >= -96; below, D = 1 + E
// is 1 (to 2^-96) and the result keeps the exponent k (E taken as (E 2^-32) 2^(k+32), so that
// g E cannot overflow for |g| near fp32's maximum). Then s = N / D with N = 1 (w >= 0) or E
// (w < 0) and the product g s, all float-float.
// Error: exp_ff 2^-30, the quotient and product 2^-44. 41 operations + exp_ff.
KC_HD ScaledFf times_logistic(float g, Ff w) {
  const bool neg = w.hi < 0.0f;
  float ah = fabs_bits(w.hi);
  float al = neg ? -w.lo : w.lo;
  const float cap = neg ? 1000.0f : 60.0f;
  if (ah > cap) {
    ah = cap;
    al = 0.0f;
  }
  const ScaledFf e = exp_ff({-ah, -al});
  const bool fold = e.exp >= -96;
  const float s = pow2i(fold ? e.exp : 0);
  const float eh = fold ? fmul(e.hi, s) : 0.0f;
  const float el = fold ? fmul(e.lo, s) : 0.0f;
  Ff d = fast_two_sum(1.0f, eh);
  d.lo = fadd(d.lo, el);
  Ff n{1.0f, 0.0f};
  if (neg) n = fold ? Ff{eh, el} : Ff{fmul(e.hi, 0x1p-32f), fmul(e.lo, 0x1p-32f)};
  const Ff a = ff_mul_f(ff_div(n, d), g);
  return {a.hi, a.lo, neg && !fold ? e.exp + 32 : 0};
}

// rn32(v u) against the window: see fast_store.
inline constexpr std::uint32_t kMinFastBits = 0x04000000u;  // 2^-119
inline constexpr std::uint32_t kMaxFastBits = 0x7f000000u;  // 2^127

// v decides rn_D(x) for every x in its window [bits(v) - w, bits(v) + w] (fp32 steps) when no
// rounding boundary of D lies in it, and v is a normal float in [2^-119, 2^127) (the windows of
// the fast forms are measured there). The boundaries between D's neighbours are the midpoints,
// fp32 values whose cut bits are 1000...0: the low 16 bits 0x8000 for bf16 everywhere in this
// range (the overflow threshold included), the low 13 bits 0x1000 for fp16 from 2^-14 up (its
// normal range and overflow threshold); the window holds one iff those bits of b lie within w of
// that pattern (bit patterns are contiguous across binades). Below fp16's normal range (more
// bits cut) both ends are converted and compared. 7 operations (bf16, fp16 normal).
template <DType D>
KC_HD bool fast_store(float v, std::uint32_t w, std::uint16_t* out) {
  const std::uint32_t b = float_bits(v);
  const std::uint32_t mag = b & 0x7fffffffu;
  if (mag < kMinFastBits || mag >= kMaxFastBits) return false;
  if constexpr (D == DType::kBf16) {
    if (((b - (0x8000u - w)) & 0xffffu) <= 2u * w) return false;
  } else {
    if (mag >= 0x38800000u + w) {  // the whole window at or above 2^-14
      if (((b - (0x1000u - w)) & 0x1fffu) <= 2u * w) return false;
    } else if (Storage<D>::store(bits_float(b - w)) != Storage<D>::store(bits_float(b + w))) {
      return false;
    }
  }
  *out = Storage<D>::store(v);
  return true;
}

// rn_D(a u) for a and u values of D as store(rn32(a u)): one rounding. fp16 products are at
// least 2^-48, exact in fp32. A bf16 product (16 significant bits) is inexact in fp32 only
// where it needs bits below 2^-149, that is below 2^-134, half bf16's smallest subnormal:
// rn32 keeps it at or below 2^-134 (monotone, 2^-134 is a float), and store rounds either to
// +-0, as rn_bf16 of the exact product does (2^-134 itself ties to even, +-0). The test checks
// it on every significand pair and exponent sum whose product lies in [2^-151, 2^-123).
template <DType D>
KC_HD typename Storage<D>::Type torch_product(float a, float u) {
  return Storage<D>::store(fmul(a, u));
}

// The fast single window. With |bits(v) - bits(rn32(act))| <= W - 1, |act - v| < (W - 1/2)
// steps of v, each at most 2^-23 |v|; so |act u - v u| < (W - 1/2) 2^-23 |v u|, and p = rn32(v u)
// adds at most 2^-24 |p|: |act u - p| < 2W 2^-24 |p| (1 + 2^-22), at most 2W + 1 steps of p (a
// step is at least 2^-24 of the value). The test also measures the steps on every 16-bit gate
// times its ups.
template <class Act>
inline constexpr std::uint32_t kSingleWindow = 2 * Act::kFastWindow + 2;

// rn_D(act u) from the accurate act = (a.hi + a.lo) 2^a.exp: u = mu 2^e with mu in [1, 2) (and
// a.hi scaled down by 2^64 when at or above 2^126) so the float-float product stays in fp32's
// normal range; round_ff rounds it once. Special operands by IEEE rules on a.hi * u.
template <DType D>
KC_HD typename Storage<D>::Type single_product(const ScaledFf& a, float u) {
  if (!is_finite(a.hi) || a.hi == 0.0f || !is_finite(u) || u == 0.0f) {
    return Storage<D>::store(fmul(a.hi, u));
  }
  std::uint32_t ub = float_bits(u);
  int k = a.exp;
  if ((ub & 0x7f800000u) == 0u) {  // subnormal u
    ub = float_bits(fmul(u, 0x1p64f));
    k -= 64;
  }
  k += static_cast<int>((ub >> 23) & 0xffu) - 127;
  const float mu = bits_float((ub & 0x807fffffu) | 0x3f800000u);
  float h = a.hi, l = a.lo;
  if (fabs_bits(h) >= 0x1p126f) {
    h = fmul(h, 0x1p-64f);
    l = fmul(l, 0x1p-64f);
    k += 64;
  }
  const Ff p = ff_mul_f({h, l}, mu);
  return round_ff<D>({p.hi, p.lo, k});
}

}  // namespace act_detail

// --- the activations --------------------------------------------------------------------------

// silu(g) = g / (1 + e^-g).
struct Silu {
  // fast(): at most kFastWindow - 1 fp32 steps from rn32(silu(g)) for every bf16 and fp16 g
  // whose fast value lies in [2^-119, 2^127) (asserted exhaustively by the test).
  static constexpr std::uint32_t kFastWindow = 4;

  // For 16-bit gates. g < -87 (e^g no longer normal) gives 0: the accurate path takes it.
  // 27 operations.
  KC_HD static float fast(float g) {
    const float x = -fabs_bits(g);
    const float e = exp_fast_normal(x < -87.0f ? -87.0f : x);
    const float n = g < 0.0f ? (g < -87.0f ? 0.0f : e) : 1.0f;
    return fmul(fmul(g, n), frcp(fadd(1.0f, e)));
  }

  // 87 operations in the normal range (times_logistic + exp_ff).
  KC_HD static ScaledFf accurate(float g) {
    if (!is_finite(g) || g == 0.0f) return act_detail::special(g);
    if (fabs_bits(g) < 0x1p-40f) return act_detail::tiny(g, 0.5f);
    return act_detail::times_logistic(g, {g, 0.0f});
  }
};

namespace act_detail {
inline constexpr float kSqrt2OverPi = 0x1.988454p-1f;  // rn(sqrt(2/pi)), the tiny-gate slope
// 2z = c1 g + c3 g^3 with c1 = 2 sqrt(2/pi), c3 = 2 sqrt(2/pi) 0.044715 (exact decimal), as
// hi + lo pairs.
inline constexpr float kC1Hi = 0x1.988454p+0f, kC1Lo = -0x1.857936p-25f;
inline constexpr float kC3Hi = 0x1.2444f2p-4f, kC3Lo = 0x1.49b16ap-29f;
}  // namespace act_detail

// gelu_tanh(g) = (g/2)(1 + tanh(sqrt(2/pi)(g + 0.044715 g^3))) = g s(2z).
struct GeluTanh {
  static constexpr std::uint32_t kFastWindow = 4;

  // For 16-bit gates in [-10, inf): 2z = wh + wl from g^2 (exact for 16-bit g), c3 g^2 by
  // two_prod and c1 + c3 g^2 by an ordered fast two-sum (both nonnegative), the constants' low
  // parts added, so e^-|2z| = e^-|wh| (1 -+ wl) is as good as exp_fast. g > 10 is evaluated at
  // 10 (s is 1 in fp32 from 8.9 on); g < -10 gives 0 (the accurate path: |2z| > 87).
  // 45 operations.
  KC_HD static float fast(float g) {
    using namespace act_detail;
    if (g < -10.0f) return 0.0f;
    const float gc = g > 10.0f ? 10.0f : g;
    const float s = fmul(gc, gc);
    const Ff p = two_prod(kC3Hi, s);
    const bool c1_first = kC1Hi >= p.hi;
    const Ff a = fast_two_sum(c1_first ? kC1Hi : p.hi, c1_first ? p.hi : kC1Hi);
    const float al = fadd(fadd(a.lo, p.lo), ffma(kC3Lo, s, kC1Lo));
    const float wh = fmul(gc, a.hi);
    const float wl = ffma(gc, al, ffma(gc, a.hi, -wh));
    const bool neg = wh < 0.0f;
    const float x = -fabs_bits(wh);
    float e = exp_fast_normal(x < -87.0f ? -87.0f : x);
    e = ffma(-e, neg ? -wl : wl, e);
    const float n = neg ? e : 1.0f;
    return fmul(fmul(g, n), frcp(fadd(1.0f, e)));
  }

  // 2z as a float-float for |g| <= 30 (beyond, s(2z) is 0 or 1 to 2^-86; g is clamped for z
  // only): g^2, c3 g^2 and c1 + c3 g^2 with their errors (a two-sum: c3 g^2 exceeds c1 past
  // |g| = 4.73), times g. 110 operations (23 for 2z).
  KC_HD static ScaledFf accurate(float g) {
    using namespace act_detail;
    if (!is_finite(g) || g == 0.0f) return special(g);
    if (fabs_bits(g) < 0x1p-40f) return tiny(g, kSqrt2OverPi);
    const float gc = g > 30.0f ? 30.0f : (g < -30.0f ? -30.0f : g);
    const Ff s = two_prod(gc, gc);
    const float p = fmul(kC3Hi, s.hi);
    float pe = ffma(kC3Hi, s.hi, -p);
    pe = ffma(kC3Hi, s.lo, pe);
    pe = ffma(kC3Lo, s.hi, pe);
    const Ff a = two_sum(kC1Hi, p);
    const Ff w = ff_mul_f({a.hi, fadd(fadd(a.lo, pe), kC1Lo)}, gc);
    return times_logistic(g, w);
  }
};

// gelu(g) = g Phi(g) = (g/2)(1 + erf(g / sqrt 2)).
struct Gelu {
  static constexpr std::uint32_t kFastWindow = 5;

  // For 16-bit gates in [-13, inf): Q(|g|) from normal_tail_fast (|g| clamped at 7 for g > 0:
  // Phi(7) is 1 in fp32), Phi = Q or 1 - Q. g < -13 gives 0 (the accurate path).
  // 46 operations.
  KC_HD static float fast(float g) {
    if (g < -13.0f) return 0.0f;
    float y = fabs_bits(g);
    y = y > 7.0f && g > 0.0f ? 7.0f : y;
    const float q = normal_tail_fast(y, fmul(y, y));
    const float phi = g < 0.0f ? q : fadd(1.0f, -q);
    return fmul(g, phi);
  }

  // y = |g| clamped at 7 for g > 0 (Q(7) = 2^-39.5: Phi = 1 - Q keeps a negative low part);
  // y^2/2 exact from two_prod. g >= 0: Phi = 1 - Q with Q's scale folded (Q >= 2^-40: exact);
  // g < 0: Phi = Q, folded when its exponent is >= -96 (y up to about 11.5) and kept otherwise.
  // g < -20: |act| = y Q(y) < 20 Q(20) = 2^-289 (y Q(y) decreases for y > 1), so act times any
  // format value (at most 2^128) is below 2^-161 and rounds to -0 or +0: act is given as
  // -2^-400, nonzero with the right sign (for act * inf). Error: normal_tail_ff 2^-28.5, the
  // rest 2^-44. 130 operations on the main branch.
  KC_HD static ScaledFf accurate(float g) {
    using namespace act_detail;
    if (!is_finite(g) || g == 0.0f) return special(g);
    if (fabs_bits(g) < 0x1p-40f) return tiny(g, kSqrt2OverPi);
    const bool neg = g < 0.0f;
    float y = fabs_bits(g);
    if (neg && y > 20.0f) return {-1.0f, 0.0f, -400};  // |act| < 20 Q(20) = 2^-289: see above
    y = y > 7.0f && !neg ? 7.0f : y;
    const Ff y2 = two_prod(y, y);
    const ScaledFf q = normal_tail_ff({y, 0.0f}, {fmul(y2.hi, 0.5f), fmul(y2.lo, 0.5f)});
    const bool fold = q.exp >= -96;
    const float s = pow2i(fold ? q.exp : 0);
    Ff phi{fmul(q.hi, s), fmul(q.lo, s)};
    if (!fold) phi = {q.hi, q.lo};
    if (!neg) {
      const Ff d = fast_two_sum(1.0f, -phi.hi);
      phi = {d.hi, fadd(d.lo, -phi.lo)};
    }
    const Ff a = ff_mul_f(phi, g);
    return {a.hi, a.lo, fold ? 0 : q.exp};
  }
};

// --- the outputs ------------------------------------------------------------------------------

// rn_D(act(g)) for a gate g that is a value of D: the torch profile's rounded activation (and
// its output for u = 1). 16-bit: the fast value where its window decides, else the accurate one
// rounded by round_ff (correctly rounded for every bf16 and fp16 gate: exhaustive test).
// fp32: the accurate value rounded (error < 1 ulp).
template <class Act, DType D>
KC_HD typename Storage<D>::Type act_rounded(float g) {
  if constexpr (D != DType::kFp32) {
    std::uint16_t r;
    if (act_detail::fast_store<D>(Act::fast(g), Act::kFastWindow, &r)) return r;
  }
  return round_ff<D>(Act::accurate(g));
}

// One output element of act_and_mul for gate g and up u (values of D), in two steps a kernel
// may separate (to keep the fast step free of branches across a vector and take the rare
// accurate steps together): act_and_mul_fast decides the element from the fast value or returns
// false (always false for fp32), act_and_mul_accurate computes it from the float-float value.
// Where both decide, they give the same bits (both are the correct rounding); act_and_mul_value
// is fast-then-accurate, the definition kernels and twins share.
template <class Act, ActRounding R, DType D>
KC_HD bool act_and_mul_fast(float g, float u, typename Storage<D>::Type* y) {
  if constexpr (D == DType::kFp32) {
    (void)g;
    (void)u;
    (void)y;
    return false;
  } else {
    const float v = Act::fast(g);
    if constexpr (R == ActRounding::kTorch) {
      std::uint16_t a;
      if (!act_detail::fast_store<D>(v, Act::kFastWindow, &a)) return false;
      *y = act_detail::torch_product<D>(Storage<D>::load(a), u);
      return true;
    } else {
      const float p = fmul(v, u);
      const std::uint32_t vm = float_bits(v) & 0x7fffffffu;
      if (vm < act_detail::kMinFastBits || vm >= act_detail::kMaxFastBits) return false;
      if (p == 0.0f) {  // u = +-0 (or a bf16 product below 2^-150): rn(act(g) u) = +-0
        *y = Storage<D>::store(p);
        return true;
      }
      return act_detail::fast_store<D>(p, act_detail::kSingleWindow<Act>, y);
    }
  }
}

template <class Act, ActRounding R, DType D>
KC_HD typename Storage<D>::Type act_and_mul_accurate(float g, float u) {
  if constexpr (R == ActRounding::kTorch) {
    return act_detail::torch_product<D>(Storage<D>::load(round_ff<D>(Act::accurate(g))), u);
  } else {
    return act_detail::single_product<D>(Act::accurate(g), u);
  }
}

template <class Act, ActRounding R, DType D>
KC_HD typename Storage<D>::Type act_and_mul_value(float g, float u) {
  typename Storage<D>::Type y;
  if (act_and_mul_fast<Act, R, D>(g, u, &y)) return y;
  return act_and_mul_accurate<Act, R, D>(g, u);
}

}  // namespace kc::detail

// Inline core of the certified double path (certified.h): error-free transformations, correct
// rounding of a double (or a double-double) to a storage format, and the rounding decision for
// an enclosure. Internal to the reference library on purpose: these functions are exact only
// under the library's floating-point flags (kc_fp_strict: no contraction of a * b + c into an
// fma, no flush-to-zero, IEEE double with round-to-nearest-even), so they are compiled into the
// library's own translation units (certified.cpp, the families' fast paths) and never into a
// caller's. certified.h exports out-of-line copies of the same functions.
//
// Scope: formats with precision <= 24 and at most 8 exponent bits (fp32, fp16, bf16, the fp8
// formats). Every value of such a format, every midpoint between neighbours and the overflow
// threshold is a double; format_in_scope() says whether a format qualifies.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kc/ref/format.h"

// The helpers below sit in per-element loops; GCC's size heuristics otherwise leave the larger
// ones as calls, which costs a third of the fast path's time.
#if defined(__GNUC__)
#define KC_REF_INLINE inline __attribute__((always_inline))
#else
#define KC_REF_INLINE inline
#endif

namespace kc::ref::detail {

KC_REF_INLINE std::uint64_t bits_of(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
KC_REF_INLINE double double_of(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// 2^e for -1022 <= e <= 1023 (a normal double, built from its bits).
KC_REF_INLINE double pow2(int e) { return double_of(static_cast<std::uint64_t>(e + 1023) << 52); }

// The neighbours of a finite double toward +inf / -inf (next_up(-min subnormal) = -0).
KC_REF_INLINE double next_up(double v) {
  if (v == 0) return std::numeric_limits<double>::denorm_min();
  const std::uint64_t b = bits_of(v);
  return double_of(v > 0 ? b + 1 : b - 1);
}
KC_REF_INLINE double next_down(double v) { return -next_up(-v); }

constexpr bool format_in_scope(const Format& f) {
  return f.precision >= 2 && f.precision <= 24 && f.exponent_bits >= 2 && f.exponent_bits <= 8;
}

// --- Error-free transformations (Knuth's TwoSum, Dekker's TwoProduct with Veltkamp's split).
// Exact for finite doubles under round-to-nearest: two_sum needs no overflow; two_prod needs
// |a|, |b| < 2^995 and |a b| >= 2^-969 or a b = 0 (so that the error term is representable),
// which every caller of this library meets (its values lie between 2^-600 and 2^600).
struct DoubleDouble {
  double hi;
  double lo;
};

KC_REF_INLINE DoubleDouble two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double err = (a - (s - bb)) + (b - bb);
  return {s, err};
}

KC_REF_INLINE DoubleDouble split(double a) {
  const double c = 134217729.0 * a;  // 2^27 + 1
  const double hi = c - (c - a);
  return {hi, a - hi};
}

KC_REF_INLINE DoubleDouble two_prod(double a, double b) {
  const double p = a * b;
  const DoubleDouble as = split(a);
  const DoubleDouble bs = split(b);
  const double err = ((as.hi * bs.hi - p) + as.hi * bs.lo + as.lo * bs.hi) + as.lo * bs.lo;
  return {p, err};
}

// --- Rounding a double to a format.
//
// For a finite a = |v| >= 0 with double exponent E = floor(log2 a), the format's quantum (the
// spacing of its values around a) is 2^qe with qe = max(E, emin) - (p - 1). The scaled value
// s = a * 2^-qe is exact (a power-of-two scaling of a normal result; qe lies in
// [emin - p + 1, emax - p + 1], so 2^-qe is a normal double), and s < 2^p. Rounding a to the
// format is rounding s to an integer n with ties to even, which (s + 2^52) - 2^52 does exactly
// for 0 <= s < 2^52 (the sum has unit spacing; the subtraction is exact). The pattern is then
// n itself below the normal range and ((E + bias - 1) << (p - 1)) + n in it: the carry of
// n = 2^p into the exponent field comes out of the addition. Magnitudes at or above the
// overflow threshold T = 2^(emax+1) - 2^(emax-p) round to infinity (T itself is a tie whose
// even neighbour is 2^(emax+1)), so n = 2^p at E = emax never reaches the formula.
// The constants of a format that the rounding needs, copied by value so that a hot loop keeps
// them in registers (a Format reached through a reference must be re-read after every store
// to a uint32_t output, which may alias its int fields).
struct FormatConsts {
  int p;  // precision
  int emin;
  int emax;
  int bias;
  std::uint32_t sign_mask;
  std::uint32_t exponent_mask;  // also the pattern of +inf
  std::uint32_t canonical_nan;
  double threshold;  // overflow threshold T = 2^(emax+1) - 2^(emax-p)
  double half_n;     // 2^(p-1)
  std::uint32_t fraction_bits() const { return static_cast<std::uint32_t>(p - 1); }
};

inline FormatConsts consts_of(const Format& f);

struct Scaled {
  double s;  // a * 2^-qe, exact
  double n;  // s rounded to an integer, ties to even
  int qe;    // quantum exponent
  int e;     // floor(log2 a) (-1023 for a double subnormal or zero)
};

inline FormatConsts consts_of(const Format& f) {
  FormatConsts c;
  c.p = f.precision;
  c.emin = f.emin();
  c.emax = f.emax();
  c.bias = f.bias();
  c.sign_mask = f.sign_mask();
  c.exponent_mask = f.exponent_mask();
  c.canonical_nan = f.canonical_nan();
  c.threshold = pow2(f.emax() + 1) - pow2(f.emax() - f.precision);  // exact: p + 1 <= 25 bits
  c.half_n = pow2(f.precision - 1);
  return c;
}

KC_REF_INLINE Scaled scale(const FormatConsts& f, double a) {
  Scaled r;
  r.e = static_cast<int>(bits_of(a) >> 52) - 1023;
  r.qe = (r.e > f.emin ? r.e : f.emin) - (f.p - 1);
  r.s = a * pow2(-r.qe);
  r.n = (r.s + 0x1p52) - 0x1p52;
  return r;
}

// The rounded value n 2^qe itself, as a double (exact: n <= 2^p, 2^qe a normal double).
KC_REF_INLINE double value_of(const Scaled& sc) { return sc.n * pow2(sc.qe); }

KC_REF_INLINE std::uint32_t pattern_of(const FormatConsts& f, const Scaled& sc) {
  const std::uint32_t n = static_cast<std::uint32_t>(sc.n);
  if (sc.e < f.emin) return n;  // subnormal (n = 2^(p-1) is the smallest normal)
  return (static_cast<std::uint32_t>(sc.e + f.bias - 1) << f.fraction_bits()) + n;
}

// Correct rounding of a double (round_to of its exact value). NaN -> canonical NaN.
KC_REF_INLINE std::uint32_t round_double(const FormatConsts& f, double v) {
  if (std::isnan(v)) return f.canonical_nan;
  const std::uint32_t sign = std::signbit(v) ? f.sign_mask : 0u;
  const double a = std::fabs(v);
  if (a >= f.threshold) return sign | f.exponent_mask;
  return sign | pattern_of(f, scale(f, a));
}

// Correct rounding of the exact sum hi + lo of a normalised double-double (|lo| at most half
// an ulp of hi, as two_sum returns; hi = 0 implies lo = 0). Since p + 1 <= 25 < 53, every
// rounding boundary of the format is a double, and hi + lo lies strictly on hi's side of every
// boundary other than hi itself (the nearest other boundary is at least a full double spacing
// away, lo at most half of one). So the result is round_double(hi) unless hi IS a boundary: a
// midpoint (s - n = +-1/2) or the threshold T; then lo's sign picks the side.
// *value receives the rounded value as a double (+-inf on overflow).
KC_REF_INLINE std::uint32_t round_double(const FormatConsts& f, double hi, double lo,
                                         double* value) {
  if (std::isnan(hi)) {
    *value = hi;
    return f.canonical_nan;
  }
  const bool neg = std::signbit(hi);
  const std::uint32_t sign = neg ? f.sign_mask : 0u;
  const bool up = (lo > 0) != neg;  // lo moves the magnitude up
  const double a = std::fabs(hi);
  const double t = f.threshold;
  if (a > t || (a == t && (up || lo == 0))) {
    *value =
        neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return sign | f.exponent_mask;
  }
  Scaled sc = scale(f, a);
  if (lo != 0) {
    const double d = sc.s - sc.n;                                    // exact (Sterbenz; or n = 0)
    if (d == 0.5 || d == -0.5) sc.n = up ? sc.s + 0.5 : sc.s - 0.5;  // exact integers
  }
  const double v = value_of(sc);
  *value = neg ? -v : v;
  return sign | pattern_of(f, sc);
}

KC_REF_INLINE std::uint32_t round_double(const FormatConsts& f, double hi, double lo) {
  double value;
  return detail::round_double(f, hi, lo, &value);
}

// The exact value of a pattern as a double (NaN patterns give a NaN; -0 stays -0).
KC_REF_INLINE double decode_double(const FormatConsts& f, std::uint32_t bits) {
  const bool neg = (bits & f.sign_mask) != 0;
  const std::uint32_t mag = bits & (f.sign_mask - 1u);
  const std::uint32_t fb = f.fraction_bits();
  const std::uint32_t frac = mag & ((1u << fb) - 1u);
  double v;
  if (mag >= f.exponent_mask) {
    v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (mag < (1u << fb)) {
    v = static_cast<double>(frac) * pow2(f.emin - static_cast<int>(fb));
  } else {
    const int e = static_cast<int>(mag >> fb);
    v = double_of((static_cast<std::uint64_t>(e - f.bias + 1023) << 52) |
                  (static_cast<std::uint64_t>(frac) << (52 - fb)));
  }
  return neg ? -v : v;
}

// The rounding decision (certified.h, decide_rounding). Derivation:
//  - A non-finite mid is the value itself (rad ignored); rad = 0 is an exact value: both are
//    rounded directly.
//  - Otherwise, with a = |mid| and the candidate n = rn(s) of the scaled a, the reals that round
//    to n (on mid's side of zero) are the open scaled interval (lo_b, hi_b) (plus, for an even
//    n, its ends) with hi_b = n + 1/2, except hi_b = n + 1 when n = 2^p (s carried into the
//    next binade, whose quantum is 2 in these units), and lo_b = n - 1/2, except
//    lo_b = n - 1/4 when n = 2^(p-1) in a binade above emin (the value below lies in the binade
//    underneath, whose quantum is 1/2), and lo_b = 0 when n = 0 (zero is the boundary where
//    the sign changes). Scaling by 2^-qe is exact, so the enclosure
//    [a - rad, a + rad] scales to [s - rad_s, s + rad_s] with rad_s = rad * 2^-qe, which is
//    exact unless it underflows; an underflowed product errs by at most half a subnormal step
//    (2^-1075), so its next double up bounds it.
//  - Decided iff rn(s - lo_b) > rad_s and rn(hi_b - s) > rad_s, computed in double. Sound by
//    monotonicity of rounding alone: if s - lo_b <= rad_s held exactly, its rounding would be
//    <= rn(rad_s) = rad_s. So no double rounding of mid +- rad is ever trusted: the enclosure's
//    endpoints are never formed. Tight up to that rounding: an enclosure that misses every
//    boundary by more than a double rounding of the distance (and, for a radius that
//    underflows when scaled, one subnormal step) is decided.
//  - At or above the threshold T the only boundary is T: decided iff rn(a - T) > rad.
// *value receives the rounded value as a double when decided (+-inf on overflow, NaN for NaN).
KC_REF_INLINE bool decide_rounding(const FormatConsts& f, double mid, double rad,
                                   std::uint32_t* bits, double* value) {
  if (!std::isfinite(mid) || rad == 0) {
    *bits = detail::round_double(f, mid, 0.0, value);
    return true;
  }
  if (!(rad > 0) || std::isinf(rad)) return false;  // negative or NaN radius: nothing known
  const bool neg = std::signbit(mid);
  const std::uint32_t sign = neg ? f.sign_mask : 0u;
  const double a = std::fabs(mid);
  if (a >= f.threshold) {
    *bits = sign | f.exponent_mask;
    *value =
        neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return a - f.threshold > rad;
  }
  const Scaled sc = scale(f, a);
  *bits = sign | pattern_of(f, sc);
  *value = neg ? -value_of(sc) : value_of(sc);
  const double half_n = f.half_n;
  const double lo_b = sc.n == 0                           ? 0.0
                      : (sc.n == half_n && sc.e > f.emin) ? sc.n - 0.25
                                                          : sc.n - 0.5;
  const double hi_b = sc.n == 2 * half_n ? sc.n + 1 : sc.n + 0.5;
  double rad_s = rad * pow2(-sc.qe);
  if (rad_s < std::numeric_limits<double>::min()) rad_s = next_up(rad_s);
  return sc.s - lo_b > rad_s && hi_b - sc.s > rad_s;
}

KC_REF_INLINE bool decide_rounding(const FormatConsts& f, double mid, double rad,
                                   std::uint32_t* bits) {
  double value;
  return detail::decide_rounding(f, mid, rad, bits, &value);
}

}  // namespace kc::ref::detail

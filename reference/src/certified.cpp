// Certified values (certified.h): the out-of-line double path, enclosures of Exact values, and
// the exact ULP-error comparisons.
//
// Outward rounding without changing the rounding mode: after a round-to-nearest operation the
// exact result lies strictly between the neighbours of the rounded one, so next_down / next_up
// of a result bound the exact value (for a zero result the operation was exact: a difference
// of doubles that rounds to zero is zero). Multiplying or dividing by a power of two is exact
// unless the result is subnormal, where the same neighbours still bound it.
//
// 320-bit Exact operations have a relative error below 2^-319 (one ulp at 320 bits, even if
// only faithfully rounded); the Exact comparisons below widen by 2^-316 per chain of at most
// four such operations, and fall back to exact integer arithmetic (dyadic.h) only where a
// 320-bit value lands exactly on the quantity it is compared with.
#include "kc/ref/certified.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "certified_core.h"
#include "dyadic.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ulp(f, a) for a double a >= 0 (format.h definition; a may lie beyond the format's range).
double ulp_of(const Format& f, double a) {
  const int e = static_cast<int>(detail::bits_of(a) >> 52) - 1023;  // -1023 for 0 / subnormal
  return detail::pow2(std::max(e, f.emin()) - f.fraction_bits());
}

// 1 / ulp(f, a), exact (a power of two within 2^-1000 .. 2^149): multiplying by it is dividing
// by ulp(f, a), without a division.
double inverse_ulp_of(const Format& f, double a) {
  const int e = static_cast<int>(detail::bits_of(a) >> 52) - 1023;
  return detail::pow2(f.fraction_bits() - std::max(e, f.emin()));
}

// The value an infinite output counts as when it is not the correct rounding: +-2^(emax+1).
double overflow_value(const Format& f, bool negative) {
  const double v = detail::pow2(f.emax() + 1);
  return negative ? -v : v;
}

const Exact& widen_factor() {  // 2^-316
  static const Exact w = mp::ldexp(Exact(1), -316);
  return w;
}
Exact widen_up(const Exact& v) { return v + mp::abs(v) * widen_factor(); }
Exact widen_down(const Exact& v) { return v - mp::abs(v) * widen_factor(); }

UlpErrorBounds point(double v) { return {v, v}; }

}  // namespace

std::uint32_t round_double(const Format& f, double v) {
  return detail::round_double(detail::consts_of(f), v);
}

std::uint32_t round_double(const Format& f, double hi, double lo) {
  return detail::round_double(detail::consts_of(f), hi, lo);
}

double decode_double(const Format& f, std::uint32_t bits) {
  return detail::decode_double(detail::consts_of(f), bits);
}

bool decide_rounding(const Format& f, const Enclosure& e, std::uint32_t* bits) {
  return detail::decide_rounding(detail::consts_of(f), e.mid, e.rad, bits);
}

bool decide_rounding(const Format& f, const Exact& mid, const Exact& rad, std::uint32_t* bits) {
  if (!mp::isfinite(mid) || rad == 0) {
    *bits = round_to(f, mid);
    return true;
  }
  if (!(rad > 0) || mp::isinf(rad)) return false;
  // round_to's boundary distance covers the midpoints and the overflow threshold; zero (the
  // sign) is the one boundary it does not report.
  Exact distance;
  *bits = round_to(f, mid, &distance);
  return distance > rad && mp::abs(mid) > rad;
}

Enclosure enclose(const Exact& v, const Exact& rad) {
  if (!mp::isfinite(v)) return {v.convert_to<double>(), 0.0};
  const double mid = v.convert_to<double>();
  // |v - mid| is exact or correctly within 2^-319; widen, then round the double up.
  const Exact e = widen_up(mp::abs(v - Exact(mid)) + rad);
  double r = e.convert_to<double>();
  if (Exact(r) < e) r = detail::next_up(r);
  return {mid, r};
}

UlpErrorBounds ulp_error_bounds(const Format& f, std::uint32_t y, const Enclosure& v) {
  const bool y_nan = is_nan(f, y);
  if (std::isnan(v.mid)) return point(y_nan ? 0.0 : kInf);
  if (std::isinf(v.mid)) {
    const bool same = is_inf(f, y) && sign_bit(f, y) == std::signbit(v.mid);
    return point(same ? 0.0 : kInf);
  }
  if (!(v.rad >= 0) || std::isinf(v.rad)) return {0.0, kInf};
  if (y_nan) return point(kInf);

  double yv = detail::decode_double(detail::consts_of(f), y);
  bool with_half = false;  // an infinite y that is the correct rounding of part of the enclosure
  if (is_inf(f, y)) {
    const bool neg = sign_bit(f, y);
    const double t = detail::consts_of(f).threshold;
    // Signed so that "toward y" is positive: the enclosure is [m - rad, m + rad].
    const double m = neg ? -v.mid : v.mid;
    if (m - v.rad > t) return point(0.5);  // rn(x) > t implies x > t: all of it rounds to y
    with_half = m + v.rad >= t;            // rn(x) < t implies x < t: none of it does
    yv = overflow_value(f, neg);
  }
  using detail::next_down;
  using detail::next_up;
  // |y - v| over the enclosure, outward.
  const double d = std::fabs(yv - v.mid);
  const double d_up = d == 0 ? 0.0 : next_up(d);
  const double d_dn = d == 0 ? 0.0 : next_down(d);
  const double dmax = next_up(d_up + v.rad);
  const double dmin = std::max(0.0, next_down(d_dn - v.rad));
  // |v| over the enclosure, outward, and the ulps at its ends (ulp is monotone in |v|).
  const double a = std::fabs(v.mid);
  const double amax = next_up(a + v.rad);
  const double amin = std::max(0.0, next_down(a - v.rad));
  UlpErrorBounds b;
  b.hi = next_up(dmax * inverse_ulp_of(f, amin));
  b.lo = std::max(0.0, next_down(dmin * inverse_ulp_of(f, amax)));
  if (with_half) {
    b.lo = std::min(b.lo, 0.5);
    b.hi = std::max(b.hi, 0.5);
  }
  return b;
}

UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Enclosure& v, double bound) {
  if (std::isnan(bound)) return UlpCompare::kBeyond;
  if (v.rad == 0 && std::isfinite(v.mid) && !is_nan(f, y)) {
    // A point: decide |y - mid| <= bound * ulp exactly. y - mid = dh + dl exactly (TwoSum),
    // dh = rn(dh + dl); B = bound * ulp is exact when it is a normal double. Then dh < B
    // implies dh + dl <= B (else its rounding dh would be >= B), dh > B implies dh + dl > B,
    // and dh = B leaves the sign of dl.
    double yv;
    if (is_inf(f, y)) {
      if (detail::round_double(detail::consts_of(f), v.mid) == (y & f.all_mask())) {
        return 0.5 <= bound ? UlpCompare::kWithin : UlpCompare::kBeyond;
      }
      yv = overflow_value(f, sign_bit(f, y));
    } else {
      yv = detail::decode_double(detail::consts_of(f), y);
    }
    const double b = bound * ulp_of(f, std::fabs(v.mid));
    if (std::isinf(bound) && bound > 0) return UlpCompare::kWithin;
    if (b >= std::numeric_limits<double>::min() && std::isfinite(b)) {
      detail::DoubleDouble d = detail::two_sum(yv, -v.mid);
      if (d.hi < 0 || (d.hi == 0 && d.lo < 0)) d = {-d.hi, -d.lo};
      const bool within = d.hi < b || (d.hi == b && d.lo <= 0);
      return within ? UlpCompare::kWithin : UlpCompare::kBeyond;
    }
    // A subnormal, zero or negative B: the Exact comparison.
    return ulp_error_within(f, y, Exact(v.mid), bound) ? UlpCompare::kWithin : UlpCompare::kBeyond;
  }
  const UlpErrorBounds b = ulp_error_bounds(f, y, v);
  if (b.hi <= bound) return UlpCompare::kWithin;
  if (b.lo > bound) return UlpCompare::kBeyond;
  return UlpCompare::kUndecided;
}

bool ulp_error_within(const Format& f, std::uint32_t y, const Exact& v, double bound) {
  if (std::isnan(bound)) return false;
  const bool y_nan = is_nan(f, y);
  if (mp::isnan(v)) return (y_nan ? 0.0 : kInf) <= bound;
  if (mp::isinf(v)) {
    const bool same = is_inf(f, y) && sign_bit(f, y) == (mp::signbit(v) != 0);
    return (same ? 0.0 : kInf) <= bound;
  }
  if (y_nan) return kInf <= bound;
  if (std::isinf(bound)) return bound > 0;
  Exact yv;
  if (is_inf(f, y)) {
    if (round_to(f, v) == (y & f.all_mask())) return 0.5 <= bound;
    yv = Exact(overflow_value(f, sign_bit(f, y)));
  } else {
    yv = decode(f, y);
  }
  const Exact b = Exact(bound) * ulp(f, v);  // exact: a double times a power of two
  const Exact d = mp::abs(yv - v);           // within one 320-bit rounding of |y - v|
  // b is a 320-bit number, so the rounding of |y - v| cannot cross it: d < b implies
  // |y - v| < b, d > b implies |y - v| > b. Only d = b needs the exact difference.
  if (d < b) return true;
  if (d > b) return false;
  using detail::Dyadic;
  Dyadic diff = Dyadic::of(yv) - Dyadic::of(v);
  if (diff.m < 0) diff.m = -diff.m;
  return compare(diff, Dyadic::of(b)) <= 0;
}

UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Exact& v, const Exact& rad,
                             double bound) {
  if (rad == 0 || !mp::isfinite(v)) {
    return ulp_error_within(f, y, v, bound) ? UlpCompare::kWithin : UlpCompare::kBeyond;
  }
  if (std::isnan(bound) || !(rad > 0)) return UlpCompare::kBeyond;
  if (is_nan(f, y)) return kInf <= bound ? UlpCompare::kWithin : UlpCompare::kBeyond;
  if (std::isinf(bound)) return UlpCompare::kWithin;
  Exact yv;
  bool with_half = false;
  if (is_inf(f, y)) {
    const bool neg = sign_bit(f, y);
    const std::uint32_t lo = round_to(f, widen_down(v - rad));
    const std::uint32_t hi = round_to(f, widen_up(v + rad));
    const std::uint32_t want = y & f.all_mask();
    if (lo == want && hi == want) {  // rounding is monotone: all of it rounds to y
      return 0.5 <= bound ? UlpCompare::kWithin : UlpCompare::kBeyond;
    }
    with_half = lo == want || hi == want;
    yv = Exact(overflow_value(f, neg));
  } else {
    yv = decode(f, y);
  }
  const Exact d = mp::abs(yv - v);
  const Exact dmax = widen_up(d + rad);
  Exact dmin = widen_down(d - rad);
  if (dmin < 0) dmin = 0;
  const Exact a = mp::abs(v);
  const Exact amax = widen_up(a + rad);
  Exact amin = widen_down(a - rad);
  if (amin < 0) amin = 0;
  const Exact b(bound);
  const bool within = dmax <= b * ulp(f, amin) && (!with_half || 0.5 <= bound);
  const bool beyond = dmin > b * ulp(f, amax) && (!with_half || 0.5 > bound);
  if (within) return UlpCompare::kWithin;
  if (beyond) return UlpCompare::kBeyond;
  return UlpCompare::kUndecided;
}

// ---- Comparisons with exact fallbacks.

namespace {

// The exponent of the lowest set bit of a nonzero finite double.
int lowest_bit(double v) {
  const std::uint64_t b = detail::bits_of(v);
  std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
  int e = static_cast<int>((b >> 52) & 0x7ff);
  if (e != 0) {
    m |= std::uint64_t{1} << 52;
  } else {
    e = 1;
  }
  return e - 1075 + __builtin_ctzll(m);
}

// An exact Dyadic as an Exact, when it fits in kExactBits bits.
bool exact_of(const detail::Dyadic& d, Exact* out) {
  if (d.m == 0) {
    *out = 0;
    return true;
  }
  const boost::multiprecision::cpp_int a = boost::multiprecision::abs(d.m);
  const unsigned top = boost::multiprecision::msb(a);
  const unsigned low = boost::multiprecision::lsb(a);
  if (top - low + 1 > kExactBits) return false;
  const boost::multiprecision::cpp_int m = d.m >> low;  // exact: the low bits are zeros
  *out = mp::ldexp(Exact(m), d.e + static_cast<int>(low));
  return true;
}

}  // namespace

double ulp_error_of_double(const Format& f, std::uint32_t y, double v) {
  if (!std::isfinite(v) || is_nan(f, y)) return ulp_error(f, y, Exact(v));
  const detail::FormatConsts fc = detail::consts_of(f);
  double yv;
  if (is_inf(f, y)) {
    if (detail::round_double(fc, v) == (y & f.all_mask())) return 0.5;
    yv = overflow_value(f, sign_bit(f, y));
  } else {
    yv = detail::decode_double(fc, y);
  }
  // ulp_error() forms rn320(|y - v|) / ulp(f, v) and rounds it to a double. When |y - v| spans
  // at most 320 bits it is exact there, the division by a power of two is exact, and the
  // double rounding of |y - v| is |hi| of two_sum(y, -v): the result is |hi| / ulp, exact in
  // double unless it is subnormal.
  const double u = ulp_of(f, std::fabs(v));
  if (yv != 0 && v != 0) {
    const int top = std::max(std::ilogb(yv), std::ilogb(v)) + 1;
    const int low = std::min(lowest_bit(yv), lowest_bit(v));
    if (top - low + 1 > static_cast<int>(kExactBits)) return ulp_error(f, y, Exact(v));
  }
  const double r = std::fabs(detail::two_sum(yv, -v).hi) / u;
  if (r != 0 && r < std::numeric_limits<double>::min()) return ulp_error(f, y, Exact(v));
  return r;
}

Enclosure widen_relative(const Enclosure& e, double rel) {
  if (!std::isfinite(e.mid) || e.rad == 0) return e;
  const double grow = detail::next_up(std::fabs(e.mid) * rel);
  return {e.mid, detail::next_up(e.rad + grow)};
}

bool decide_magnitude_below(const Enclosure& e, double t, bool* below) {
  if (std::isnan(e.mid) || !(e.rad >= 0)) return false;
  const double a = std::fabs(e.mid);
  if (std::isinf(a) || e.rad == 0) {
    *below = a < t;
    return true;
  }
  const double upper = detail::next_up(a + e.rad);  // >= |v|
  if (upper < t) {
    *below = true;
    return true;
  }
  const double lower = detail::next_down(a - e.rad);  // <= |v|
  if (lower >= t) {
    *below = false;
    return true;
  }
  return false;
}

bool decide_sign(const Enclosure& e, double g, int* sign) {
  if (!std::isfinite(e.mid) || !(e.rad >= 0) || !std::isfinite(g)) return false;
  if (e.rad == 0) {
    *sign = e.mid > g ? 1 : e.mid < g ? -1 : 0;
    return true;
  }
  // rn(|g - mid|) > rad implies |g - mid| > rad (rounding is monotone and rad a double): v lies
  // on mid's side of g.
  if (!(std::fabs(g - e.mid) > e.rad)) return false;
  *sign = e.mid > g ? 1 : -1;
  return true;
}

UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const ExactValue& v, double bound,
                             const ExactSign& sign) {
  const UlpCompare c = compare_ulp_error(f, y, v.v, v.rad, bound);
  if (c != UlpCompare::kUndecided || !sign) return c;
  if (!mp::isfinite(v.v) || is_nan(f, y) || is_inf(f, y) || !std::isfinite(bound)) {
    return UlpCompare::kUndecided;
  }
  if (bound < 0) return UlpCompare::kBeyond;
  // The sign of v, then its binade: |v| >= 2^k exactly by `sign`.
  const int s = sign(Exact(0));
  int k = f.emin();
  if (s != 0) {
    auto at_least = [&](int e) {
      const Exact p = mp::ldexp(Exact(1), e);
      return s > 0 ? sign(p) >= 0 : sign(-p) <= 0;
    };
    int e0 = 0;
    mp::frexp(mp::abs(v.v), &e0);  // 2^(e0-1) <= |approx| < 2^e0
    k = e0 - 1;
    for (int step = 0; step < 4 && !at_least(k); ++step) --k;
    for (int step = 0; step < 4 && at_least(k + 1); ++step) ++k;
    if (!at_least(k) || at_least(k + 1)) return UlpCompare::kUndecided;
  }
  const Exact b = Exact(bound) * mp::ldexp(Exact(1), std::max(k, f.emin()) - f.fraction_bits());
  const Exact yv = decode(f, y);
  Exact lo;
  Exact hi;
  using detail::Dyadic;
  if (!exact_of(Dyadic::of(yv) - Dyadic::of(b), &lo) ||
      !exact_of(Dyadic::of(yv) + Dyadic::of(b), &hi)) {
    return UlpCompare::kUndecided;
  }
  return sign(lo) >= 0 && sign(hi) <= 0 ? UlpCompare::kWithin : UlpCompare::kBeyond;
}

UlpCompare compare_ulp_error(const Format& f, std::uint32_t y, const Enclosure& e, double bound,
                             const std::function<ExactValue()>& exact, const ExactSign& sign) {
  const UlpCompare c = compare_ulp_error(f, y, e, bound);
  if (c != UlpCompare::kUndecided || !exact) return c;
  return compare_ulp_error(f, y, exact(), bound, sign);
}

}  // namespace kc::ref

// The norm kernels' error bound (derivation in rmsnorm_bound.h).
#include "rmsnorm_bound.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kc::props {
namespace mp = boost::multiprecision;
using ref::Exact;

namespace {

constexpr double kU = 0x1p-24;
constexpr double kTiny = 0x1p-150;
constexpr double kSlack = 1.01;
constexpr double kInf = std::numeric_limits<double>::infinity();

double gamma(double k) { return k * kU / (1 - k * kU); }
double compose(double a, double b) { return a + b + a * b; }

int log2_int(int v) {
  int l = 0;
  while ((1 << l) < v) ++l;
  return l;
}

}  // namespace

NormKernelBound::NormKernelBound(ref::NormProfile profile, DType dtype, std::int64_t hidden)
    : profile_(profile),
      structure_(ref::profile_structure(profile)),
      dtype_(dtype),
      format_(format_of(dtype)),
      hidden_(hidden),
      layout_(rmsnorm_layout(dtype, hidden)) {
  theta_z_ = structure_.ss_from == ref::NormSource::kSum ? kU : 0.0;
  const int m = layout_.per_lane * layout_.vec;
  theta_ss_ = gamma(m + log2_int(layout_.lanes));
  // Row-independent parts (the absolute underflow term is added per row in y_interval).
  const double tq =
      compose(compose(compose(theta_ss_, 2 * theta_z_ + theta_z_ * theta_z_), kU), kU);
  const double tsqrt = compose(1 - std::sqrt(1 - tq), kU);
  theta_r_ = compose(tsqrt / (1 - tsqrt), kU);
  theta_a_ = compose(compose(theta_z_, theta_r_), kU);
  const double tw = structure_.weight_offset_one ? kU : 0.0;
  theta_b_ = compose(compose(theta_a_, kU), tw);
}

NormKernelBound::Regime NormKernelBound::regime(const ref::NormRowInput& in,
                                                const ref::NormRowResult& r,
                                                std::string* why) const {
  const Exact& q = r.mean_sq_plus_eps;
  if (!mp::isfinite(r.inv_rms) || r.inv_rms == 0 || !mp::isfinite(q)) return Regime::kSpecial;
  for (std::int64_t i = 0; i < in.hidden; ++i) {
    if (!std::isfinite(in.x[i]) || (in.residual && !std::isfinite(in.residual[i]))) {
      return Regime::kSpecial;
    }
  }
  if (q * in.hidden > mp::ldexp(Exact(1), 126)) {
    *why = "the sum of squares exceeds 2^126 (fp32 accumulation may overflow)";
    return Regime::kOutOfRange;
  }
  if (q < mp::ldexp(Exact(1), -100)) {
    *why = "mean(z^2) + eps is below 2^-100 (fp32 underflow dominates)";
    return Regime::kOutOfRange;
  }
  return Regime::kBounded;
}

bool NormKernelBound::exact_element(const ref::NormRowInput& in, const ref::NormRowResult& r,
                                    std::int64_t i) {
  return !std::isfinite(in.weight[i]) || !mp::isfinite(r.y_exact[static_cast<std::size_t>(i)]);
}

bool NormKernelBound::matches_exactly(std::uint32_t expected, std::uint32_t observed) const {
  if (ref::is_nan(format_, expected)) return ref::is_nan(format_, observed);
  return expected == observed;
}

NormKernelBound::RowThetas NormKernelBound::row_thetas(double q) const {
  const double n = static_cast<double>(hidden_);
  const double abs_q = ((n + layout_.lanes) * kTiny / n + 2 * kTiny) / q;
  // Per-row r error: the row-independent theta_r with the underflow term folded into theta_q.
  const double tq =
      compose(compose(compose(theta_ss_, 2 * theta_z_ + theta_z_ * theta_z_), kU), kU) + abs_q;
  const double tsqrt = compose(1 - std::sqrt(1 - tq), kU);
  const double tr = compose(tsqrt / (1 - tsqrt), kU);
  RowThetas t;
  t.ta = compose(compose(theta_z_, tr), kU);
  const double tw = structure_.weight_offset_one ? kU : 0.0;
  t.tb = compose(compose(t.ta, kU), tw);
  return t;
}

bool NormKernelBound::row_thetas(const ref::Enclosure& q, RowThetas* out) const {
  if (!std::isfinite(q.mid) || !(q.rad >= 0)) return false;
  // Doubles below and above every value of the enclosure: the double nearest to any of them
  // lies in [lo, hi].
  const double lo = q.rad == 0 ? q.mid : std::nextafter(q.mid - q.rad, 0.0);
  const double hi = q.rad == 0 ? q.mid : std::nextafter(q.mid + q.rad, kInf);
  if (!(lo > 0)) return false;
  const RowThetas a = row_thetas(lo);
  if (!(a == row_thetas(hi))) return false;
  *out = a;
  return true;
}

Interval NormKernelBound::y_interval(const ref::NormRowInput& in, const ref::NormRowResult& r,
                                     std::int64_t i) const {
  const auto k = static_cast<std::size_t>(i);
  return y_interval(row_thetas(r.mean_sq_plus_eps.convert_to<double>()), in, i, r.y_exact[k],
                    r.scaled_times_r[k]);
}

Interval NormKernelBound::y_interval(const RowThetas& t, const ref::NormRowInput& in,
                                     std::int64_t i, const Exact& y_exact,
                                     const Exact& scaled_times_r) const {
  const Exact slack(kSlack);
  if (!structure_.cast_before_weight) {
    const double wp = structure_.weight_offset_one ? std::fabs(1.0 + in.weight[i])
                                                   : std::fabs(static_cast<double>(in.weight[i]));
    const Exact& v = y_exact;
    const Exact e = (mp::abs(v) * Exact(t.tb) + Exact((wp + 1) * kTiny)) * slack;
    return bracket(v - e, v + e);
  }
  // Cast before weight: bracket the stored xn, then the product with w.
  const Exact& zr = scaled_times_r;
  const Exact ea = (mp::abs(zr) * Exact(t.ta) + Exact(kTiny)) * slack;
  return cast_interval(in.weight[i], ref::round_to(format_, zr - ea),
                       ref::round_to(format_, zr + ea));
}

Interval NormKernelBound::cast_interval(float weight, std::uint32_t xlo, std::uint32_t xhi) const {
  const Exact w(weight);
  Exact plo = w * ref::decode(format_, xlo);
  Exact phi = w * ref::decode(format_, xhi);
  if (plo > phi) std::swap(plo, phi);
  const Exact tp(dtype_ == DType::kFp32 ? kU : 0.0);
  const Exact lo = plo - mp::abs(plo) * tp - Exact(kTiny);
  const Exact hi = phi + mp::abs(phi) * tp + Exact(kTiny);
  return bracket(lo, hi);
}

// ---- The same intervals from the fast path's enclosures.
//
// Notation: u = 2^-53; a computed double carries one rounding, |fl(x) - x| <= u |fl(x)|.
// For an end of [v - E, v + E], E(v) = (|v| theta + A) s with s = 1.01 and A = (|w'| + 1) tiny
// (theta = theta_b) or tiny (theta = theta_a, the stored xn of cast-before-weight profiles):
//  - lo(v) = v - E(v) and hi(v) = v + E(v) are increasing in v (theta s < 1) with slope at most
//    1 + theta s; so over an enclosure {m, r} of v they move by at most (1 + theta s) r.
//  - In double: em = fl(fl(fl(|m| theta) + A) s) is within 3.02 u em of E(m) (three roundings,
//    (1+u)^3 - 1 <= 3.01 u, and E(m) <= em (1 + 3.02 u)); lm = fl(m - em) is within u |lm| of
//    m - em. So |lm - lo(m)| <= 3.02 u em + u |lm|.
//  - The exact path computes the same ends with 320-bit operations (each within 2^-319 of its
//    result) from its own 320-bit v, which the enclosure holds (it is widened for that): its
//    ends are within 2^-316 (E + |lo|) of lo(v_320), which 2^-300 (em + |lm|) covers.
// The radius (1 + theta s) r + 3.02 u em + u |lm| + 2^-300 (em + |lm|) is computed in double
// and multiplied by 1 + 2^-20, which covers the roundings of computing it (fewer than ten, each
// within a factor 1 + 2^-53). Each end is then rounded (bracket_end) by decide_rounding(), which
// returns the exact path's round_to() of its end whenever no rounding boundary lies in the
// enclosure; for fp32 rows the inward step compares the rounded value with the end by
// decide_sign(), decided when the value lies outside the enclosure.
namespace {

bool end_enclosures(const ref::Enclosure& v, double theta, double a, ref::Enclosure* lo,
                    ref::Enclosure* hi) {
  constexpr double kU53 = 0x1p-53;
  if (!std::isfinite(v.mid) || !(v.rad >= 0)) return false;
  const double m = v.mid;
  const double em = (std::fabs(m) * theta + a) * kSlack;
  const double lm = m - em;
  const double hm = m + em;
  if (!std::isfinite(em) || !std::isfinite(lm) || !std::isfinite(hm)) return false;
  const double common = (1 + theta * kSlack) * v.rad + 3.02 * kU53 * em;
  const double margin = 1 + 0x1p-20;
  lo->mid = lm;
  lo->rad = (common + kU53 * std::fabs(lm) + 0x1p-300 * (em + std::fabs(lm))) * margin;
  hi->mid = hm;
  hi->rad = (common + kU53 * std::fabs(hm) + 0x1p-300 * (em + std::fabs(hm))) * margin;
  return true;
}

}  // namespace

bool NormKernelBound::y_interval(const RowThetas& t, const ref::NormRowInput& in, std::int64_t i,
                                 const ref::Enclosure& y, const ref::Enclosure& scaled_times_r,
                                 Interval* iv) const {
  ref::Enclosure lo;
  ref::Enclosure hi;
  if (!structure_.cast_before_weight) {
    const double wp = structure_.weight_offset_one ? std::fabs(1.0 + in.weight[i])
                                                   : std::fabs(static_cast<double>(in.weight[i]));
    if (!end_enclosures(y, t.tb, (wp + 1) * kTiny, &lo, &hi)) return false;
    return bracket_end(lo, false, &iv->lo) && bracket_end(hi, true, &iv->hi);
  }
  std::uint32_t xlo;
  std::uint32_t xhi;
  if (!end_enclosures(scaled_times_r, t.ta, kTiny, &lo, &hi) ||
      !ref::decide_rounding(format_, lo, &xlo) || !ref::decide_rounding(format_, hi, &xhi)) {
    return false;
  }
  // xlo and xhi are the exact path's: what follows depends on them and the weight only.
  if (!cast_interval_fast(in.weight[i], xlo, xhi, iv)) *iv = cast_interval(in.weight[i], xlo, xhi);
  return true;
}

// The products p = w xn are exact doubles (a float times a format value: at most 48 bits,
// between 2^-298 and 2^256). The exact path's ends are lo = p - |p| tp - tiny and
// hi = p + |p| tp + tiny (tp = 2^-24 for fp32 rows, else 0), exact in 320 bits while
// |p| < 2^169 (they span at most 169 + 150 bits, or 48 + 24 + 150 for smaller p).
// 16-bit rows: two_sum(p, -+tiny) holds the end exactly as a normalised double-double.
// fp32 rows: (s1, e1) = two_sum(p, -+|p| 2^-24) is exact; when e1 = 0 (p (1 -+ 2^-24) is a
// double, as for weights of few bits), two_sum(s1, -+tiny) holds the end exactly; otherwise it
// lies within |e1| + tiny of s1, an enclosure for bracket_end. An exact double-double end is
// always decided (bracket_end_dd); anything else (|p| of 2^169 or more, an infinite xn, an
// undecided enclosure) returns false, and the caller computes the same ends in Exact, which is
// cheap: no R is involved.
namespace {

double two_sum(double a, double b, double* err) {
  const double s = a + b;
  const double bb = s - a;
  *err = (a - (s - bb)) + (b - bb);
  return s;
}

}  // namespace

bool NormKernelBound::cast_interval_fast(float weight, std::uint32_t xlo, std::uint32_t xhi,
                                         Interval* iv) const {
  const double xl = ref::decode_double(format_, xlo);
  const double xh = ref::decode_double(format_, xhi);
  if (!std::isfinite(xl) || !std::isfinite(xh)) return false;
  double plo = static_cast<double>(weight) * xl;
  double phi = static_cast<double>(weight) * xh;
  if (plo > phi) std::swap(plo, phi);
  const bool fp32 = dtype_ == DType::kFp32;
  auto end = [&](double p, bool upper, std::uint32_t* bits) {
    const double sign = upper ? 1.0 : -1.0;
    if (p != 0 && std::ilogb(p) >= 169) return false;
    double e1 = 0;
    const double s1 = fp32 ? two_sum(p, sign * std::fabs(p) * kU, &e1) : p;  // |p| 2^-24: exact
    if (e1 == 0) {
      double e2;
      const double s2 = two_sum(s1, sign * kTiny, &e2);
      bracket_end_dd(s2, e2, upper, bits);
      return true;
    }
    return bracket_end({s1, std::nextafter(std::fabs(e1) + kTiny, kInf)}, upper, bits);
  };
  return end(plo, false, &iv->lo) && end(phi, true, &iv->hi);
}

void NormKernelBound::bracket_end_dd(double hi, double lo, bool upper, std::uint32_t* bits) const {
  *bits = ref::round_double(format_, hi, lo);
  if (dtype_ != DType::kFp32) return;
  const double g = ref::decode_double(format_, *bits);
  bool outside;
  if (std::isinf(g)) {
    outside = upper ? g > 0 : g < 0;
  } else {
    int s;
    if (!ref::decide_sign({hi, std::fabs(lo)}, g, &s)) {
      // |g - hi| <= |lo| <= 2^-53 |hi|: hi - g is exact (Sterbenz), and the rounding of
      // (hi - g) + lo has the sign of the exact sum (nothing here underflows to zero).
      const double t = (hi - g) + lo;
      s = t > 0 ? 1 : t < 0 ? -1 : 0;
    }
    outside = upper ? s < 0 : s > 0;
  }
  if (outside) *bits = step(*bits, !upper);
}

bool NormKernelBound::bracket_end(const ref::Enclosure& e, bool upper, std::uint32_t* bits) const {
  if (!ref::decide_rounding(format_, e, bits)) return false;
  if (dtype_ != DType::kFp32) return true;
  // bracket(): the fp32 values inside [lo, hi]: step inward when the rounding lies outside.
  const double g = ref::decode_double(format_, *bits);
  bool outside;
  if (std::isinf(g)) {
    outside = upper ? g > 0 : g < 0;  // the end itself is finite
  } else {
    int s;
    if (!ref::decide_sign(e, g, &s)) return false;
    outside = upper ? s < 0 : s > 0;
  }
  if (outside) *bits = step(*bits, !upper);
  return true;
}

Interval NormKernelBound::bracket(const Exact& lo, const Exact& hi) const {
  Interval iv{ref::round_to(format_, lo), ref::round_to(format_, hi)};
  if (dtype_ == DType::kFp32) {
    // The fp32 output is the pre-rounding value itself: only fp32 values inside [lo, hi].
    if (ref::decode(format_, iv.lo) < lo) iv.lo = step(iv.lo, true);
    if (ref::decode(format_, iv.hi) > hi) iv.hi = step(iv.hi, false);
  }
  return iv;
}

// The neighbour of a finite pattern toward +inf (up) or -inf.
std::uint32_t NormKernelBound::step(std::uint32_t bits, bool up) const {
  const bool neg = ref::sign_bit(format_, bits);
  const std::uint32_t mag = bits & ~format_.sign_mask();
  if (mag == 0) return up ? 1u : (format_.sign_mask() | 1u);
  // Away from zero when the direction matches the sign, toward zero otherwise.
  return (up != neg) ? bits + 1u : bits - 1u;
}

bool NormKernelBound::admits(const Interval& iv, std::uint32_t y) const {
  if (ref::is_nan(format_, y) || ref::is_nan(format_, iv.lo) || ref::is_nan(format_, iv.hi)) {
    return false;
  }
  // Every value of these formats is a double: the comparison is exact.
  const double yv = ref::decode_double(format_, y);
  return ref::decode_double(format_, iv.lo) <= yv && yv <= ref::decode_double(format_, iv.hi);
}

double NormKernelBound::interval_ulps(const Interval& iv, const Exact& v) const {
  return std::max(ref::ulp_error(format_, iv.lo, v), ref::ulp_error(format_, iv.hi, v));
}

double NormKernelBound::worst_case_ulps() const {
  const double p2 = std::ldexp(1.0, format_.precision);
  if (dtype_ == DType::kFp32) {
    return structure_.cast_before_weight ? compose(compose(theta_a_, kU), kU) * p2 * 1.01
                                         : theta_b_ * p2 * 1.01;
  }
  if (structure_.cast_before_weight) return 0.5 + 2 * 2.01;
  return 0.5 + 2 * theta_b_ * p2 * 1.01;
}

}  // namespace kc::props

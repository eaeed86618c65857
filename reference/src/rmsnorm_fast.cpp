// Certified fast evaluation of the norm profiles (rmsnorm_fast.h).
//
// One row goes through three tiers; every rounding is decided by the first tier that can
// prove it (decide_rounding, certified.h), so all three return the same bits as evaluate():
//  1. double, every element: the sum of squares in double-double, q and R in double, each
//     element's value in double with a relative error bound K (derivations below);
//  2. 320-bit, the few elements tier 1 leaves undecided: R from the double-double sum in Exact
//     (a few microseconds a row), the element's exact numerator times it;
//  3. evaluate(), once for the row, for what tier 2 leaves undecided (exact ties).
// No Exact is constructed in tier 1's loops.
//
// Notation: u = 2^-53 (double unit roundoff), rn = round to nearest double, n = hidden,
// S = sum z_i^2, q = S / n + eps, R = 1 / sqrt(q); t is the exact value that multiplies R to
// give the rounded quantity (t = u w' for u R w', t = u for the inner rn(u R)). Facts used:
// |rn(x) - x| <= u |x| and <= u |rn(x)| (no underflow: every nonzero double value here lies
// between 2^-600 and 2^600, because inputs are floats, |x| in [2^-149, 2^128], so |s| < 2^129,
// squares and products u w' lie in [2^-298, 2^258], q in [2^-322, 2^258] and R in
// [2^-130, 2^161] for n <= 2^24, and every error term two_sum / two_prod produce is a multiple
// of 2^-402); two_sum / two_prod are exact (certified_core.h).
//
// Inputs are single floats (exact doubles). Products of two of them (u w with u a float or a
// format value) have at most 48 significant bits and are exact in double; 1 + w and
// s = x + r are exact as double-doubles (two_sum).
#include "kc/ref/rmsnorm_fast.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "certified_core.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

using detail::DoubleDouble;
using detail::two_prod;
using detail::two_sum;

constexpr double kU = 0x1p-53;
constexpr std::int64_t kMaxHidden = std::int64_t{1} << 24;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Margin on every computed bound: each bound below is evaluated with at most ten double
// operations whose relative errors (<= 2^-53 each) could round it down; 1 + 2^-20 covers them
// with a wide margin, so the computed bound is >= the derived one.
constexpr double kMargin = 1 + 0x1p-20;

// --- Sum of squares S in double-double.
//
// Terms: z_i^2 = p_i + e_i + c_i with p_i = rn(zh_i^2), e_i = zh_i^2 - p_i (exact, two_prod;
// zero for a float z, whose square has <= 48 bits), c_i = 2 zh_i zl_i + zl_i^2 for a
// double-double z (c'_i = rn(2 zh_i zl_i) is added; |c'_i - c_i| <= 2u^2 zh^2 + u^2 zh^2).
// Loop: (h_i, g_i) = two_sum(h_{i-1}, p_i) (exact: h_n + sum g_i = sum p_i), and
// l += g_i + (e_i + c'_i) in double. S_dd = h_n + l_n, renormalised by two_sum.
// Bound: all p_i >= 0, so h_i <= (1+u)^i P (P = sum p_i) and |g_i| <= u h_i; |e_i| <= u p_i;
// |c'_i| <= 2u(1+u)^2 p_i. The 3n terms summed into l have sum |.| <=
// u P (n (1+u)^n + 3.01), and any summation tree of N terms errs by at most
// gamma_{N-1} = (N-1)u / (1 - (N-1)u) times that sum (Higham, Accuracy and Stability of
// Numerical Algorithms, 2nd ed., eq. 4.4). With P <= (1+3.01u) S (zh^2 <= z^2 / (1-u)^2):
//   |S_dd - S| <= (1+3.01u) [gamma_3n u (n (1+u)^n + 3.01) + 3u^2 (1+u)] S
//              <= (4n^2 + 16n + 4) u^2 S =: sigma S        for n <= 2^24
// (there 3nu <= 2^-27 and (1+u)^n <= 1 + 2^-28, so the bracket is below 3.01 n^2 + 9.1 n + 3.1
// in units of u^2). sigma is exact in double (4n^2 + 16n + 4 < 2^53 times a power of two).
double sum_error_bound(std::int64_t n) {
  const double m = static_cast<double>(n);
  return (4 * m * m + 16 * m + 4) * 0x1p-106;
}

// --- Row constants (tier 1).
//  S = Sh (1 + d), |d| <= d0 = u + sigma (1+u) / (1-sigma)   (|Sl| <= u Sh, |S_dd - S| <= sigma S)
//  q1 = rn(rn(Sh / n) + eps): both addends >= 0, so q1 / q lies within
//    [(1-u)^2 / (1+d0), (1+u)^2 / (1-d0)]: |q1/q - 1| <= tq = (2u + u^2 + d0) / (1 - d0).
//  R1 = rn(1 / rn(sqrt(q1))) = R sqrt(q / q1) (1+e4) / (1+e3):
//    |R1/R - 1| <= tr = (A (1+u) + 2u) / (1-u), A = tq / (2 (1 - tq)) >= (1-tq)^(-1/2) - 1.
//  Element: t = th (1 + dt), |dt| <= tau, and m = rn(th R1) = th R (1+r)(1+e), |r| <= tr, so
//    |m - t R| <= |th| R (tr + u + tr u + tau) and |th| R <= |m| / ((1-tr)(1-u)):
//    rad = |m| K,  K = (tr + u + tr u + tau) / ((1 - tr)(1 - u)).
//  tau: 0 when th = t exactly (a product of two floats); u when th = sh, t = sh + sl; 2u + u^2
//  when th = rn(a bh), t = a (bh + bl) with |bl| <= u |bh| (s w, u (1 + w)).
// All computed without cancellation (sums of non-negative terms), then times kMargin; the
// product |m| K is rounded once more, which the margin also covers.
struct RowBound {
  double sigma = 0;                          // relative error of S_dd
  double tq = 0;                             // of q1
  double tr = 0;                             // of R1
  double k_exact = 0, k_hi = 0, k_prod = 0;  // K for tau = 0, u, 2u + u^2
};

double element_k(double tr, double tau) {
  return (tr + kU + tr * kU + tau) / ((1 - tr) * (1 - kU)) * kMargin;
}

RowBound row_bound(std::int64_t n) {
  RowBound b;
  b.sigma = sum_error_bound(n);
  const double d0 = kU + b.sigma * (1 + kU) / (1 - b.sigma);
  b.tq = (2 * kU + kU * kU + d0) / (1 - d0) * kMargin;
  const double a = b.tq / (2 * (1 - b.tq));
  b.tr = (a * (1 + kU) + 2 * kU) / (1 - kU) * kMargin;
  b.k_exact = element_k(b.tr, 0);
  b.k_hi = element_k(b.tr, kU);
  b.k_prod = element_k(b.tr, 2 * kU + kU * kU);
  return b;
}

// rad of an enclosure of x around a computed mid with |mid/x - 1| <= theta: |mid - x| <=
// theta |x| <= theta / (1 - theta) |mid|.
double rad_of(double mid, double theta) {
  return std::fabs(mid) * (theta / (1 - theta) * kMargin) * kMargin;
}

// --- Tier 2 (320-bit). R_e = 1 / sqrt((Sh + Sl) / n + eps) in Exact (five roundings of 2^-319).
// q_dd = S_dd / n + eps is within sigma q of q, so R_dd = q_dd^(-1/2) is within
// sigma / (2 (1 - sigma)) <= sigma of R (relative), and y_e = rn320(t R_e) is within
// |y_e| (sigma (1 + 2^-50) + 2^-314) of t R; the radius below rounds that up generously.
struct ExactTier {
  Exact r;
  Exact rel;
};

ExactTier exact_tier(double sh, double sl, std::int64_t n, float eps, double sigma) {
  ExactTier t;
  const Exact q = (Exact(sh) + Exact(sl)) / Exact(n) + Exact(eps);
  t.r = 1 / mp::sqrt(q);
  t.rel = Exact(sigma) * Exact(1 + 0x1p-40) + mp::ldexp(Exact(1), -310);
  return t;
}

std::vector<std::int64_t>& pending_scratch() {
  thread_local std::vector<std::int64_t> pending;
  return pending;
}

// rn(s) of each element, from pass A to pass B (decoding the pattern again costs more than
// the memory). A float holds it exactly: every fp32, fp16 and bf16 value is a float.
std::vector<float>& rounded_sum_scratch() {
  thread_local std::vector<float> rs;
  return rs;
}

constexpr float kFloatMax = 3.4028234663852886e38f;
inline int not_finite(float v) { return !(std::fabs(v) <= kFloatMax); }

// The exact value (Exact, no rounding: at most 302 bits) of the numerator t of element i.
Exact source_exact(NormSource src, const NormRowInput& in, std::int64_t i) {
  switch (src) {
    case NormSource::kX:
      return Exact(in.x[i]);
    case NormSource::kSum:
      return Exact(in.x[i]) + Exact(in.residual[i]);
    case NormSource::kRoundedSum:
      return decode(in.format, round_to(in.format, Exact(in.x[i]) + Exact(in.residual[i])));
  }
  return Exact(0);
}

void fill_from_exact(NormProfile p, const NormRowInput& in, FastNormRowResult* out) {
  NormRowResult ex = evaluate(p, in);
  const std::size_t n = ex.y_bits.size();
  out->y_bits = ex.y_bits;
  out->residual_bits = ex.residual_bits;
  out->y.resize(n);
  out->scaled_times_r.resize(n);
  out->residual.resize(ex.residual_exact.size());
  const bool cast = profile_structure(p).cast_before_weight;
  for (std::size_t i = 0; i < n; ++i) {
    const Exact& v = ex.y_exact[i];
    out->y[i] = enclose(v, cast ? Exact(0) : Exact(mp::abs(v) * ex.approx_rel_error));
    const Exact& ur = ex.scaled_times_r[i];
    out->scaled_times_r[i] = enclose(ur, Exact(mp::abs(ur) * ex.approx_rel_error));
  }
  for (std::size_t i = 0; i < ex.residual_exact.size(); ++i) {
    out->residual[i] = enclose(ex.residual_exact[i], Exact(0));
  }
  out->mean_sq_plus_eps =
      enclose(ex.mean_sq_plus_eps, Exact(mp::abs(ex.mean_sq_plus_eps) * ex.approx_rel_error));
  out->inv_rms = enclose(ex.inv_rms, Exact(mp::abs(ex.inv_rms) * ex.approx_rel_error));
  out->path = NormRowPath::kExactRow;
  out->fallback = static_cast<std::int64_t>(n);
  out->exact_fallback = static_cast<std::int64_t>(n);
  out->exact = std::move(ex);
}

// A row whose R is not finite and nonzero: a NaN among the z (R = NaN), else an infinity among
// them (R = 0), else q = 0 (every z zero and eps = 0: R = +inf). Every value evaluate() returns
// is then an IEEE special value or a signed zero, and double arithmetic gives the same ones:
// u R, (u w') R and w rn(u R) are products whose classes (zero, finite nonzero, infinite, NaN)
// and signs do not depend on rounding (no product of these factors overflows or underflows in
// double: u, w' within 2^-149 .. 2^129 or zero), and multiplying by R = 0, NaN or +inf keeps
// only that class and sign. (With R = +inf every u is a zero: the z are all zero, and u = rn(s)
// of a zero s is zero.) So the row is evaluated in double, every enclosure a point.
template <NormSource kSs, NormSource kScaled, bool kCast, bool kOffset>
void special_row(const NormRowInput& in, FastNormRowResult* out) {
  const detail::FormatConsts fc = detail::consts_of(in.format);
  const std::size_t n = static_cast<std::size_t>(in.hidden);
  const float* x = in.x;
  const float* r = in.residual;
  const float* w = in.weight;
  const float* rsp = rounded_sum_scratch().data();  // pass A's rn(s) (fused profiles)
  auto z_of = [&](std::size_t i) -> double {
    switch (kSs) {
      case NormSource::kX:
        return x[i];
      case NormSource::kSum:
        return static_cast<double>(x[i]) + static_cast<double>(r[i]);
      case NormSource::kRoundedSum:
        return rsp[i];
    }
    return 0;
  };
  bool nan = false;
  bool inf = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = z_of(i);
    nan = nan || std::isnan(z);
    inf = inf || std::isinf(z);
  }
  const double rr = nan ? kNaN : inf ? 0.0 : std::numeric_limits<double>::infinity();
  const double q = nan ? kNaN : inf ? std::numeric_limits<double>::infinity() : 0.0;
  out->mean_sq_plus_eps = {q, 0.0};
  out->inv_rms = {rr, 0.0};
  out->y_bits.resize(n);
  out->y.resize(n);
  out->scaled_times_r.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    double u;
    if (kScaled == NormSource::kX) {
      u = x[i];
    } else if (kScaled == NormSource::kSum) {
      u = static_cast<double>(x[i]) + static_cast<double>(r[i]);  // class and sign exact
    } else {
      u = rsp[i];
    }
    const double ur = u * rr;
    out->scaled_times_r[i] = {ur, 0.0};
    double y;
    if (kCast) {
      const double inner = detail::decode_double(fc, detail::round_double(fc, ur));
      y = static_cast<double>(w[i]) * inner;
    } else {
      const double wp = kOffset ? 1.0 + static_cast<double>(w[i]) : static_cast<double>(w[i]);
      y = (u * wp) * rr;
    }
    out->y[i] = {y, 0.0};
    out->y_bits[i] = detail::round_double(fc, y);
  }
  for (Enclosure& e : out->residual) {
    if (!std::isfinite(e.mid)) e.rad = 0;
  }
  out->path = NormRowPath::kSpecialRow;
  out->fallback = 0;
  out->exact_fallback = 0;
  out->exact.reset();
}

// One profile structure, fixed at compile time so that the loops carry no per-element branch
// on the profile. kSs: what R is taken over; kScaled: what R multiplies. Two passes over the
// row: A reads x (and r), writes the residual outputs and sums the squares; B computes and
// decides every element. Returns false for a row that must take the exact path.
template <NormSource kSs, NormSource kScaled, bool kCast, bool kOffset>
bool fast_row(NormProfile p, const NormRowInput& in, FastNormRowResult* out) {
  static_assert(!(kScaled == NormSource::kSum && kOffset), "no profile scales s by 1 + w");
  constexpr bool kFused = kSs != NormSource::kX || kScaled != NormSource::kX;
  constexpr bool kUsesRounded =
      kSs == NormSource::kRoundedSum || kScaled == NormSource::kRoundedSum;
  const detail::FormatConsts fc = detail::consts_of(in.format);
  const std::size_t n = static_cast<std::size_t>(in.hidden);
  const float* x = in.x;
  const float* r = in.residual;
  const float* w = in.weight;

  // Pass A. The sum of squares (see sum_error_bound): (h, g) = two_sum(h, p_i), l += g + ...
  int bad = 0;
  std::uint32_t overflow = 0;  // an infinite rn(s)
  double h = 0;
  double l = 0;
  if (kFused) {
    out->residual_bits.resize(n);
    out->residual.resize(n);
    std::uint32_t* rb = out->residual_bits.data();
    Enclosure* re = out->residual.data();
    std::vector<float>& rsv = rounded_sum_scratch();
    if (kUsesRounded) rsv.resize(n);
    float* rsp = rsv.data();
    for (std::size_t i = 0; i < n; ++i) {
      bad |= not_finite(x[i]) | not_finite(r[i]);
      const DoubleDouble s = two_sum(x[i], r[i]);  // s = x + r exactly
      double rs;                                   // rn(s) as a double
      const std::uint32_t b = detail::round_double(fc, s.hi, s.lo, &rs);
      rb[i] = b;
      re[i] = {s.hi, std::fabs(s.lo)};
      if (kUsesRounded) {
        rsp[i] = static_cast<float>(rs);
        overflow |= (b & ~fc.sign_mask) == fc.exponent_mask;
      }
      if (kSs == NormSource::kSum) {
        const DoubleDouble sq = two_prod(s.hi, s.hi);
        const double c = (2 * s.hi) * s.lo;
        const DoubleDouble a = two_sum(h, sq.hi);
        h = a.hi;
        l += a.lo + (sq.lo + c);
      } else {
        const DoubleDouble a = two_sum(h, rs * rs);
        h = a.hi;
        l += a.lo;
      }
    }
    // An infinite rn(s) in the sum of squares (fp16) makes R = 0: a special row. Where only
    // the scaled source is rn(s) (legacy_mixed), the element alone is special (pass B).
    if (kSs == NormSource::kRoundedSum && overflow) bad = 1;
  } else {
    out->residual_bits.clear();
    out->residual.clear();
    for (std::size_t i = 0; i < n; ++i) {
      bad |= not_finite(x[i]);
      const double z = x[i];
      const DoubleDouble a = two_sum(h, z * z);
      h = a.hi;
      l += a.lo;
    }
  }
  const DoubleDouble s_dd = two_sum(h, l);
  const double eps = in.eps;
  if (bad || (s_dd.hi == 0 && eps == 0)) {
    special_row<kSs, kScaled, kCast, kOffset>(in, out);
    return true;
  }

  const RowBound bd = row_bound(in.hidden);
  const double q1 = s_dd.hi / static_cast<double>(in.hidden) + eps;
  const double r1 = 1 / std::sqrt(q1);
  out->mean_sq_plus_eps = {q1, rad_of(q1, bd.tq)};
  out->inv_rms = {r1, rad_of(r1, bd.tr)};

  // Pass B (tier 1), every element. uh: u itself, or rn(s) = x + r in double for u = s (tau).
  constexpr bool kScaledExact = kScaled != NormSource::kSum;  // u a float or a format value
  const double k_u = kScaledExact ? bd.k_exact : bd.k_hi;
  const double k_y = kCast ? k_u : (kScaledExact && !kOffset) ? bd.k_exact : bd.k_prod;
  out->y_bits.resize(n);
  out->y.resize(n);
  out->scaled_times_r.resize(n);
  std::uint32_t* yb = out->y_bits.data();
  Enclosure* ye = out->y.data();
  Enclosure* ue = out->scaled_times_r.data();
  const float* rsp = rounded_sum_scratch().data();
  std::vector<std::int64_t>& pending = pending_scratch();
  pending.clear();
  int special = 0;  // a non-finite weight
  for (std::size_t i = 0; i < n; ++i) {
    double uh;
    if (kScaled == NormSource::kX) {
      uh = x[i];
    } else if (kScaled == NormSource::kSum) {
      uh = static_cast<double>(x[i]) + static_cast<double>(r[i]);
    } else {
      uh = rsp[i];
    }
    const double wi = w[i];
    special |= not_finite(w[i]);
    const double ur = uh * r1;
    const double ur_rad = std::fabs(ur) * k_u;
    ue[i] = {ur, ur_rad};
    std::uint32_t bits;
    if (kCast) {
      // y = rn(w rn(u R)): decide the inner rounding; w rn(u R) is then an exact double.
      double inner;
      if (detail::decide_rounding(fc, ur, ur_rad, &bits, &inner)) {
        const double yv = wi * inner;
        ye[i] = {yv, 0.0};
        yb[i] = detail::round_double(fc, yv);
        continue;
      }
      ye[i] = {kNaN, 0.0};
    } else {
      // y = rn(u R w'): th = u w' (exact), or rn(u rn(1 + w)), rn(rn(s) w) (tau in RowBound).
      const double th = kOffset ? uh * (1 + wi) : uh * wi;
      const double ym = th * r1;
      const double rad = std::fabs(ym) * k_y;
      ye[i] = {ym, rad};
      if (detail::decide_rounding(fc, ym, rad, &bits)) {
        yb[i] = bits;
        continue;
      }
    }
    yb[i] = 0;
    pending.push_back(static_cast<std::int64_t>(i));
  }
  // A non-finite weight, or legacy_mixed's overflowed rn(s) as u, makes u R or y +-inf or NaN
  // exactly, as IEEE rules applied to the exact products give (no double product here overflows:
  // |u w'| < 2^258); decide_rounding() rounds a non-finite mid directly. Such an enclosure is a
  // point: its radius is set to 0 here, out of the loop above.
  if (special || (kScaled == NormSource::kRoundedSum && overflow)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(ye[i].mid)) ye[i].rad = 0;
      if (!std::isfinite(ue[i].mid)) ue[i].rad = 0;
    }
  }
  out->fallback = static_cast<std::int64_t>(pending.size());
  out->exact_fallback = 0;
  out->path = NormRowPath::kFast;
  out->exact.reset();
  if (pending.empty()) return true;

  // Tier 2: the pending elements from a 320-bit R.
  const Format& f = in.format;
  const ExactTier et = exact_tier(s_dd.hi, s_dd.lo, in.hidden, in.eps, bd.sigma);
  std::size_t still = 0;
  for (const std::int64_t i : pending) {
    const std::size_t k = static_cast<std::size_t>(i);
    Exact t = source_exact(kScaled, in, i);
    if (!kCast) t *= kOffset ? Exact(1 + Exact(w[i])) : Exact(w[i]);  // exact (<= 302 bits)
    const Exact v = t * et.r;
    const Exact rad = mp::abs(v) * et.rel;
    std::uint32_t bits;
    if (!decide_rounding(f, v, rad, &bits)) {
      pending[still++] = i;
      continue;
    }
    if (kCast) {
      const double yv = static_cast<double>(w[i]) * detail::decode_double(fc, bits);
      ye[k] = {yv, 0.0};
      yb[k] = detail::round_double(fc, yv);
    } else {
      yb[k] = bits;
    }
  }
  pending.resize(still);
  if (still == 0) return true;

  // Tier 3: evaluate() for the row; its bits for what is still pending.
  NormRowResult ex = evaluate(p, in);
  for (const std::int64_t i : pending) {
    const std::size_t k = static_cast<std::size_t>(i);
    yb[k] = ex.y_bits[k];
    if (kCast) ye[k] = enclose(ex.y_exact[k], Exact(0));  // dyadic: exact
  }
  out->exact_fallback = static_cast<std::int64_t>(still);
  out->path = NormRowPath::kExactElements;
  out->exact = std::move(ex);
  return true;
}

bool dispatch(NormProfile p, const NormRowInput& in, FastNormRowResult* out) {
  using S = NormSource;
  switch (p) {
    case NormProfile::kRmsNormFp32:
      return fast_row<S::kX, S::kX, false, false>(p, in, out);
    case NormProfile::kRmsNormHf:
      return fast_row<S::kX, S::kX, true, false>(p, in, out);
    case NormProfile::kRmsNormGemma:
      return fast_row<S::kX, S::kX, false, true>(p, in, out);
    case NormProfile::kFusedFp32Sum:
      return fast_row<S::kSum, S::kSum, false, false>(p, in, out);
    case NormProfile::kFusedHf:
      return fast_row<S::kRoundedSum, S::kRoundedSum, true, false>(p, in, out);
    case NormProfile::kFusedFp32SumHfCast:
      return fast_row<S::kSum, S::kSum, true, false>(p, in, out);
    case NormProfile::kFusedGemma:
      return fast_row<S::kRoundedSum, S::kRoundedSum, false, true>(p, in, out);
    case NormProfile::kFusedLegacyMixed:
      return fast_row<S::kSum, S::kRoundedSum, false, false>(p, in, out);
  }
  return false;
}

}  // namespace

const char* path_name(NormRowPath p) {
  switch (p) {
    case NormRowPath::kFast:
      return "fast";
    case NormRowPath::kExactElements:
      return "exact_elements";
    case NormRowPath::kSpecialRow:
      return "special_row";
    case NormRowPath::kExactRow:
      return "exact_row";
  }
  return "?";
}

void evaluate_fast(NormProfile p, const NormRowInput& in, FastNormRowResult* out) {
  if (in.hidden < 1) {
    *out = FastNormRowResult{};
    out->mean_sq_plus_eps = {kNaN, 0.0};
    out->inv_rms = {kNaN, 0.0};
    out->path = NormRowPath::kExactRow;
    return;
  }
  const bool eligible = detail::format_in_scope(in.format) && in.hidden <= kMaxHidden &&
                        in.eps >= 0 && std::isfinite(in.eps);
  if (eligible && dispatch(p, in, out)) return;
  fill_from_exact(p, in, out);
}

FastNormRowResult evaluate_fast(NormProfile p, const NormRowInput& in) {
  FastNormRowResult out;
  evaluate_fast(p, in, &out);
  return out;
}

}  // namespace kc::ref

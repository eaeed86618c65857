// The norm kernels' error bound (derivation in rmsnorm_bound.h).
#include "rmsnorm_bound.h"

#include <algorithm>
#include <cmath>

namespace kc::props {
namespace mp = boost::multiprecision;
using ref::Exact;

namespace {

constexpr double kU = 0x1p-24;
constexpr double kTiny = 0x1p-150;

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

Interval NormKernelBound::y_interval(const ref::NormRowInput& in, const ref::NormRowResult& r,
                                     std::int64_t i) const {
  const double n = static_cast<double>(hidden_);
  const double q = r.mean_sq_plus_eps.convert_to<double>();
  const double abs_q = ((n + layout_.lanes) * kTiny / n + 2 * kTiny) / q;
  // Per-row r error: the row-independent theta_r with the underflow term folded into theta_q.
  const double tq =
      compose(compose(compose(theta_ss_, 2 * theta_z_ + theta_z_ * theta_z_), kU), kU) + abs_q;
  const double tsqrt = compose(1 - std::sqrt(1 - tq), kU);
  const double tr = compose(tsqrt / (1 - tsqrt), kU);
  const double ta = compose(compose(theta_z_, tr), kU);
  const Exact slack(1.01);

  if (!structure_.cast_before_weight) {
    const double tw = structure_.weight_offset_one ? kU : 0.0;
    const double tb = compose(compose(ta, kU), tw);
    const double wp = structure_.weight_offset_one ? std::fabs(1.0 + in.weight[i])
                                                   : std::fabs(static_cast<double>(in.weight[i]));
    const Exact& v = r.y_exact[i];
    const Exact e = (mp::abs(v) * Exact(tb) + Exact((wp + 1) * kTiny)) * slack;
    return bracket(v - e, v + e);
  }
  // Cast before weight: bracket the stored xn, then the product with w.
  const Exact& zr = r.scaled_times_r[i];
  const Exact ea = (mp::abs(zr) * Exact(ta) + Exact(kTiny)) * slack;
  const Exact xlo = ref::decode(format_, ref::round_to(format_, zr - ea));
  const Exact xhi = ref::decode(format_, ref::round_to(format_, zr + ea));
  const Exact w(in.weight[i]);
  Exact plo = w * xlo;
  Exact phi = w * xhi;
  if (plo > phi) std::swap(plo, phi);
  const Exact tp(dtype_ == DType::kFp32 ? kU : 0.0);
  const Exact lo = plo - mp::abs(plo) * tp - Exact(kTiny);
  const Exact hi = phi + mp::abs(phi) * tp + Exact(kTiny);
  return bracket(lo, hi);
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
  const Exact yv = ref::decode(format_, y);
  return ref::decode(format_, iv.lo) <= yv && yv <= ref::decode(format_, iv.hi);
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

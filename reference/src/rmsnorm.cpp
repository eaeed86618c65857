// Norm profiles (rmsnorm.h): one generic row evaluator driven by each profile's structure, and
// the certified rounding of products with R.
#include "kc/ref/rmsnorm.h"

#include <limits>

#include "dyadic.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

using detail::Dyadic;

// R = 1 / sqrt(mean(z^2) + eps) of one row, and certified rounding of d * R.
class InvRms {
 public:
  InvRms(const std::vector<Exact>& z, const Exact& eps) : z_(z), eps_(eps) {
    const std::int64_t n = static_cast<std::int64_t>(z.size());
    bool nan = false;
    bool inf = false;
    Exact sum = 0;
    for (const Exact& v : z) {
      if (mp::isnan(v)) nan = true;
      if (mp::isinf(v)) inf = true;
      if (!nan && !inf) sum += v * v;
    }
    if (nan) {
      r_ = std::numeric_limits<Exact>::quiet_NaN();
      q_ = r_;
    } else if (inf) {
      r_ = 0;
      q_ = std::numeric_limits<Exact>::infinity();
    } else {
      q_ = sum / n + eps;
      r_ = q_ == 0 ? std::numeric_limits<Exact>::infinity() : Exact(1 / mp::sqrt(q_));
      exact_r_ = mp::isfinite(r_) && r_ != 0;
      // Relative error of r_: each square and each addition of the sum rounds once (sum of
      // non-negative terms: <= 2n roundings of relative size <= 2^-319), then /n, +eps, sqrt
      // and 1/x: four more. Doubled for second-order terms.
      rel_ = exact_op_rel_error() * Exact(2 * (2 * n + 8));
    }
  }

  const Exact& value() const { return r_; }
  const Exact& rel_error() const { return rel_; }
  const Exact& mean_sq_plus_eps() const { return q_; }

  // rn(d * R) for an exact d; *approx receives the 320-bit value of d * R.
  std::uint32_t round_product(const Format& f, const Exact& d, Exact* approx, int* exact_count) {
    *approx = d * r_;
    if (!exact_r_ || !mp::isfinite(d) || d == 0) return round_to(f, *approx);  // exact cases
    Exact distance;
    const std::uint32_t bits = round_to(f, *approx, &distance);
    const Exact err = mp::abs(*approx) * (rel_ + exact_op_rel_error());
    if (distance > err) return bits;
    ++*exact_count;
    return round_exactly(f, d, *approx, err);
  }

 private:
  // Decides rn(d R) when d R lies within err of a rounding boundary: the two candidate results
  // are the roundings of approx -+ err; compare |d| R with their midpoint M exactly.
  std::uint32_t round_exactly(const Format& f, const Exact& d, const Exact& approx,
                              const Exact& err) {
    const std::uint32_t lo = round_to(f, mp::abs(approx) - err);
    const std::uint32_t hi = round_to(f, mp::abs(approx) + err);
    const std::uint32_t sign = mp::signbit(d) ? f.sign_mask() : 0u;
    if (lo == hi) return sign | lo;
    // lo and hi are adjacent magnitudes (err is far below any ulp).
    const Exact mid = midpoint_above(f, lo);
    // |d| R vs M  <=>  d^2 n vs M^2 (sum z^2 + n eps), all dyadic.
    const Dyadic n = Dyadic::of_int(static_cast<std::int64_t>(z_.size()));
    const Dyadic dd = Dyadic::of(d);
    const Dyadic mm = Dyadic::of(mid);
    const int c = compare(dd * dd * n, mm * mm * (exact_sum_sq() + n * Dyadic::of(eps_)));
    std::uint32_t mag;
    if (c > 0) {
      mag = hi;
    } else if (c < 0) {
      mag = lo;
    } else {
      mag = (lo & 1u) ? hi : lo;  // a true tie: to even
    }
    return sign | mag;
  }

  const Dyadic& exact_sum_sq() {
    if (!have_exact_sum_) {
      for (const Exact& v : z_) {
        const Dyadic d = Dyadic::of(v);
        exact_sum_ = exact_sum_ + d * d;
      }
      have_exact_sum_ = true;
    }
    return exact_sum_;
  }

  const std::vector<Exact>& z_;
  Exact eps_;
  Exact r_;
  Exact q_;
  Exact rel_ = 0;
  bool exact_r_ = false;
  bool have_exact_sum_ = false;
  Dyadic exact_sum_;
};

NormRowResult evaluate_structure(const NormStructure& st, bool fused, const NormRowInput& in) {
  const Format& f = in.format;
  const std::size_t n = static_cast<std::size_t>(in.hidden);
  NormRowResult out;
  std::vector<Exact> sum;
  std::vector<Exact> rounded_sum;
  if (fused) {
    sum.resize(n);
    rounded_sum.resize(n);
    out.residual_bits.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      sum[i] = Exact(in.x[i]) + Exact(in.residual[i]);  // exact: <= 278 bits
      out.residual_bits[i] = round_to(f, sum[i]);
      rounded_sum[i] = decode(f, out.residual_bits[i]);
    }
    out.residual_exact = sum;
  }
  auto source = [&](NormSource src) {
    if (src == NormSource::kSum) return sum;
    if (src == NormSource::kRoundedSum) return rounded_sum;
    std::vector<Exact> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = Exact(in.x[i]);
    return x;
  };
  const std::vector<Exact> z = source(st.ss_from);
  const std::vector<Exact> u = st.scaled == st.ss_from ? z : source(st.scaled);

  InvRms r(z, Exact(in.eps));
  out.inv_rms = r.value();
  out.mean_sq_plus_eps = r.mean_sq_plus_eps();
  // One more rounded operation (u R, d R) on top of R's own error.
  out.approx_rel_error = r.rel_error() + 2 * exact_op_rel_error();
  out.y_exact.resize(n);
  out.y_bits.resize(n);
  out.scaled_times_r.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Exact w(in.weight[i]);
    if (st.cast_before_weight) {
      // y = rn(w rn(u R)): the inner rounding is certified; w * rn(u R) is exact (48 bits).
      const std::uint32_t inner =
          r.round_product(f, u[i], &out.scaled_times_r[i], &out.exact_decisions);
      out.y_exact[i] = w * decode(f, inner);
      out.y_bits[i] = round_to(f, out.y_exact[i]);
    } else {
      // y = rn(u R w'): u w' is exact (<= 302 bits), one certified rounding of (u w') R.
      const Exact wp = st.weight_offset_one ? Exact(Exact(1) + w) : w;
      out.scaled_times_r[i] = u[i] * r.value();
      out.y_bits[i] = r.round_product(f, u[i] * wp, &out.y_exact[i], &out.exact_decisions);
    }
  }
  return out;
}

}  // namespace

const char* profile_name(NormProfile p) {
  switch (p) {
    case NormProfile::kRmsNormFp32:
      return "rmsnorm.fp32";
    case NormProfile::kRmsNormHf:
      return "rmsnorm.hf";
    case NormProfile::kRmsNormGemma:
      return "rmsnorm.gemma";
    case NormProfile::kFusedFp32Sum:
      return "fused_add_rmsnorm.fp32_sum";
    case NormProfile::kFusedHf:
      return "fused_add_rmsnorm.hf";
    case NormProfile::kFusedFp32SumHfCast:
      return "fused_add_rmsnorm.fp32_sum_hf_cast";
    case NormProfile::kFusedGemma:
      return "fused_add_rmsnorm.gemma";
    case NormProfile::kFusedLegacyMixed:
      return "fused_add_rmsnorm.legacy_mixed";
  }
  return "?";
}

bool profile_from_name(const std::string& name, NormProfile* out) {
  for (NormProfile p : kAllNormProfiles) {
    if (name == profile_name(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

bool is_fused(NormProfile p) {
  return p != NormProfile::kRmsNormFp32 && p != NormProfile::kRmsNormHf &&
         p != NormProfile::kRmsNormGemma;
}

NormStructure profile_structure(NormProfile p) {
  using S = NormSource;
  switch (p) {
    case NormProfile::kRmsNormFp32:
      return {S::kX, S::kX, false, false};
    case NormProfile::kRmsNormHf:
      return {S::kX, S::kX, true, false};
    case NormProfile::kRmsNormGemma:
      return {S::kX, S::kX, false, true};
    case NormProfile::kFusedFp32Sum:
      return {S::kSum, S::kSum, false, false};
    case NormProfile::kFusedHf:
      return {S::kRoundedSum, S::kRoundedSum, true, false};
    case NormProfile::kFusedFp32SumHfCast:
      return {S::kSum, S::kSum, true, false};
    case NormProfile::kFusedGemma:
      return {S::kRoundedSum, S::kRoundedSum, false, true};
    case NormProfile::kFusedLegacyMixed:
      return {S::kSum, S::kRoundedSum, false, false};
  }
  return {S::kX, S::kX, false, false};
}

NormRowResult evaluate(NormProfile p, const NormRowInput& in) {
  return evaluate_structure(profile_structure(p), is_fused(p), in);
}

NormRowResult rmsnorm_fp32(const NormRowInput& in) {
  return evaluate(NormProfile::kRmsNormFp32, in);
}
NormRowResult rmsnorm_hf(const NormRowInput& in) { return evaluate(NormProfile::kRmsNormHf, in); }
NormRowResult rmsnorm_gemma(const NormRowInput& in) {
  return evaluate(NormProfile::kRmsNormGemma, in);
}
NormRowResult fused_add_rmsnorm_fp32_sum(const NormRowInput& in) {
  return evaluate(NormProfile::kFusedFp32Sum, in);
}
NormRowResult fused_add_rmsnorm_hf(const NormRowInput& in) {
  return evaluate(NormProfile::kFusedHf, in);
}
NormRowResult fused_add_rmsnorm_fp32_sum_hf_cast(const NormRowInput& in) {
  return evaluate(NormProfile::kFusedFp32SumHfCast, in);
}
NormRowResult fused_add_rmsnorm_gemma(const NormRowInput& in) {
  return evaluate(NormProfile::kFusedGemma, in);
}
NormRowResult fused_add_rmsnorm_legacy_mixed(const NormRowInput& in) {
  return evaluate(NormProfile::kFusedLegacyMixed, in);
}

}  // namespace kc::ref

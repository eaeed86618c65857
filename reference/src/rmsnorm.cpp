// Norm profiles (rmsnorm.h): one generic row evaluator driven by each profile's structure, and
// the certified rounding of products with R.
#include "kc/ref/rmsnorm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "certified_core.h"
#include "dyadic.h"
#include "exact_sum.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

using detail::Dyadic;

// The sum of squares of a row as evaluate() forms it: 320-bit additions of 320-bit squares, in
// element order (exact whenever every square and partial sum fits in 320 bits), with flags for
// NaN and infinite elements.
struct SumOfSquares {
  bool nan = false;
  bool inf = false;
  Exact sum = 0;
};

SumOfSquares sum_of_squares(const std::vector<Exact>& z) {
  SumOfSquares ss;
  for (const Exact& v : z) {
    if (mp::isnan(v)) ss.nan = true;
    if (mp::isinf(v)) ss.inf = true;
    if (!ss.nan && !ss.inf) ss.sum += v * v;
  }
  return ss;
}

// The exact (dyadic) sum of squares of a row, for the decisions a 320-bit R cannot settle.
using ExactSumFn = std::function<Dyadic()>;

// The exact sign of d R - m for finite d and m, with R = 1 / sqrt(S / n + eps) finite and nonzero
// (S the exact sum of squares): |d| R vs |m| is d^2 n vs m^2 (S + n eps), all dyadic.
int compare_product(std::int64_t n, const Exact& eps, const Dyadic& sum_sq, const Exact& d,
                    const Exact& m) {
  const int sd = d > 0 ? 1 : d < 0 ? -1 : 0;
  const int sm = m > 0 ? 1 : m < 0 ? -1 : 0;
  if (sd == 0) return -sm;
  if (sm != sd) return sd;
  const Dyadic nn = Dyadic::of_int(n);
  const Dyadic dd = Dyadic::of(d);
  const Dyadic mm = Dyadic::of(m);
  return sd * compare(dd * dd * nn, mm * mm * (sum_sq + nn * Dyadic::of(eps)));
}

// R = 1 / sqrt(mean(z^2) + eps) of one row, and certified rounding of d * R.
class InvRms {
 public:
  // ss: the row's sum of squares as evaluate() forms it; exact_sum: the exact sum, on demand.
  InvRms(const SumOfSquares& ss, std::int64_t n, const Exact& eps, ExactSumFn exact_sum)
      : n_(n), eps_(eps), exact_sum_fn_(std::move(exact_sum)) {
    if (ss.nan) {
      r_ = std::numeric_limits<Exact>::quiet_NaN();
      q_ = r_;
    } else if (ss.inf) {
      r_ = 0;
      q_ = std::numeric_limits<Exact>::infinity();
    } else {
      q_ = ss.sum / n + eps;
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
  bool finite_nonzero() const { return exact_r_; }

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

  // The exact sign of d R - m (see compare_product below).
  int compare_product(const Exact& d, const Exact& m) {
    return kc::ref::compare_product(n_, eps_, exact_sum_sq(), d, m);
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
    const int c = compare_product(mp::abs(d), mid);
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
      exact_sum_ = exact_sum_fn_();
      have_exact_sum_ = true;
    }
    return exact_sum_;
  }

  std::int64_t n_;
  Exact eps_;
  ExactSumFn exact_sum_fn_;
  Exact r_;
  Exact q_;
  Exact rel_ = 0;
  bool exact_r_ = false;
  bool have_exact_sum_ = false;
  Dyadic exact_sum_;
};

Dyadic dyadic_sum_of_squares(const std::vector<Exact>& z) {
  Dyadic sum;
  for (const Exact& v : z) {
    const Dyadic d = Dyadic::of(v);
    sum = sum + d * d;
  }
  return sum;
}

// One element of a row (evaluate() and NormRowExact share it): u the scaled source's exact value,
// w the weight. Sets y_exact, scaled_times_r (u R) and the correct rounding y_bits.
void evaluate_element(const NormStructure& st, const Format& f, const Exact& u, float weight,
                      InvRms& r, Exact* y_exact, Exact* ur, std::uint32_t* y_bits,
                      int* exact_count) {
  const Exact w(weight);
  if (st.cast_before_weight) {
    // y = rn(w rn(u R)): the inner rounding is certified; w * rn(u R) is exact (48 bits).
    const std::uint32_t inner = r.round_product(f, u, ur, exact_count);
    *y_exact = w * decode(f, inner);
    *y_bits = round_to(f, *y_exact);
  } else {
    // y = rn(u R w'): u w' is exact (<= 302 bits), one certified rounding of (u w') R.
    const Exact wp = st.weight_offset_one ? Exact(Exact(1) + w) : w;
    *ur = u * r.value();
    *y_bits = r.round_product(f, u * wp, y_exact, exact_count);
  }
}

// The exact source values of element i (evaluate()'s sum[i], rounded_sum[i] and x[i]).
Exact source_value(NormSource src, const NormRowInput& in, std::int64_t i) {
  switch (src) {
    case NormSource::kX:
      return Exact(in.x[i]);
    case NormSource::kSum:
      return Exact(in.x[i]) + Exact(in.residual[i]);  // exact: <= 278 bits
    case NormSource::kRoundedSum:
      return decode(in.format, round_to(in.format, Exact(in.x[i]) + Exact(in.residual[i])));
  }
  return Exact(0);
}

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

  InvRms r(sum_of_squares(z), in.hidden, Exact(in.eps), [&z] { return dyadic_sum_of_squares(z); });
  out.inv_rms = r.value();
  out.mean_sq_plus_eps = r.mean_sq_plus_eps();
  // One more rounded operation (u R, d R) on top of R's own error.
  out.approx_rel_error = r.rel_error() + 2 * exact_op_rel_error();
  out.y_exact.resize(n);
  out.y_bits.resize(n);
  out.scaled_times_r.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    evaluate_element(st, f, u[i], in.weight[i], r, &out.y_exact[i], &out.scaled_times_r[i],
                     &out.y_bits[i], &out.exact_decisions);
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

// ---- NormRowExact

namespace {

// The exponent of the lowest set bit of a nonzero finite double.
int lowest_bit(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
  int e = static_cast<int>((b >> 52) & 0x7ff);
  if (e != 0) {
    m |= std::uint64_t{1} << 52;
  } else {
    e = 1;
  }
  return e - 1075 + __builtin_ctzll(m);
}

// S = sum z_i^2 exactly, true when evaluate()'s 320-bit loop forms this same S (see the class
// comment in rmsnorm.h); false for rows with a non-finite z and rows past the condition.
// Squares: z a float or a format value (kX, kRoundedSum) squares exactly in double (<= 48 bits,
// 2^-298 .. 2^256); z = s = hi + lo (kSum, two_sum) squares to hi^2 + 2 hi lo + lo^2, six
// doubles by two_prod (exact: every factor lies within 2^-150 .. 2^130). The lowest set bit of
// s is lo's when lo != 0 (|lo| is below half an ulp of hi), else hi's.
bool exact_sum_of_squares(NormSource src, const NormRowInput& in, Exact* sum) {
  const detail::FormatConsts fc = detail::consts_of(in.format);
  detail::ExactSum acc;
  int low = std::numeric_limits<int>::max();
  auto add_square = [&](double z) {
    if (z == 0) return;
    acc.add(z * z);
    low = std::min(low, 2 * lowest_bit(z));
  };
  for (std::int64_t i = 0; i < in.hidden; ++i) {
    if (src == NormSource::kX) {
      const double z = in.x[i];
      if (!std::isfinite(z)) return false;
      add_square(z);
      continue;
    }
    if (!std::isfinite(in.x[i]) || !std::isfinite(in.residual[i])) return false;
    const detail::DoubleDouble s = detail::two_sum(in.x[i], in.residual[i]);
    if (src == NormSource::kRoundedSum) {
      double v;
      detail::round_double(fc, s.hi, s.lo, &v);
      if (!std::isfinite(v)) return false;
      add_square(v);
      continue;
    }
    if (s.hi == 0) continue;  // s = 0 (lo is 0 too)
    const detail::DoubleDouble a = detail::two_prod(s.hi, s.hi);
    const detail::DoubleDouble b = detail::two_prod(2 * s.hi, s.lo);
    const detail::DoubleDouble c = detail::two_prod(s.lo, s.lo);
    for (double t : {a.hi, a.lo, b.hi, b.lo, c.hi, c.lo}) {
      if (t != 0) acc.add(t);
    }
    low = std::min(low, 2 * lowest_bit(s.lo != 0 ? s.lo : s.hi));
  }
  if (!acc.to_exact(sum)) return false;
  if (*sum == 0) return true;
  int top = 0;
  mp::frexp(*sum, &top);  // 2^(top-1) <= S < 2^top
  return top <= low + static_cast<int>(kExactBits);
}

Dyadic dyadic_sum_of_squares(NormSource src, const NormRowInput& in) {
  Dyadic sum;
  for (std::int64_t i = 0; i < in.hidden; ++i) {
    const Dyadic d = Dyadic::of(source_value(src, in, i));
    sum = sum + d * d;
  }
  return sum;
}

}  // namespace

struct NormRowExact::Impl {
  NormStructure st;
  NormRowInput in;
  std::optional<NormRowResult> whole;  // evaluate()'s result, for rows it evaluates
  std::unique_ptr<InvRms> r;           // otherwise
  Exact q, inv_rms, rel;
  bool have_exact_sum = false;
  Dyadic exact_sum;
  int exact_count = 0;

  const Dyadic& sum_sq() {
    if (!have_exact_sum) {
      exact_sum = dyadic_sum_of_squares(st.ss_from, in);
      have_exact_sum = true;
    }
    return exact_sum;
  }
};

NormRowExact::NormRowExact(NormProfile p, const NormRowInput& in) : impl_(new Impl) {
  Impl& m = *impl_;
  m.st = profile_structure(p);
  m.in = in;
  SumOfSquares ss;
  if (in.hidden >= 1 && exact_sum_of_squares(m.st.ss_from, in, &ss.sum)) {
    Impl* self = impl_.get();
    m.r = std::make_unique<InvRms>(ss, in.hidden, Exact(in.eps), [self] { return self->sum_sq(); });
    m.q = m.r->mean_sq_plus_eps();
    m.inv_rms = m.r->value();
    m.rel = m.r->rel_error() + 2 * exact_op_rel_error();
    return;
  }
  m.whole = evaluate(p, in);
  m.q = m.whole->mean_sq_plus_eps;
  m.inv_rms = m.whole->inv_rms;
  m.rel = m.whole->approx_rel_error;
}

NormRowExact::~NormRowExact() = default;

bool NormRowExact::evaluated_whole_row() const { return impl_->whole.has_value(); }
const Exact& NormRowExact::mean_sq_plus_eps() const { return impl_->q; }
const Exact& NormRowExact::inv_rms() const { return impl_->inv_rms; }
const Exact& NormRowExact::approx_rel_error() const { return impl_->rel; }

NormRowExact::Element NormRowExact::element(std::int64_t i) {
  Impl& m = *impl_;
  Element e;
  if (m.whole) {
    const auto k = static_cast<std::size_t>(i);
    e.y_exact = m.whole->y_exact[k];
    e.scaled_times_r = m.whole->scaled_times_r[k];
    e.y_bits = m.whole->y_bits[k];
    return e;
  }
  evaluate_element(m.st, m.in.format, source_value(m.st.scaled, m.in, i), m.in.weight[i], *m.r,
                   &e.y_exact, &e.scaled_times_r, &e.y_bits, &m.exact_count);
  return e;
}

Exact NormRowExact::residual_exact(std::int64_t i) const {
  return Exact(impl_->in.x[i]) + Exact(impl_->in.residual[i]);
}

int NormRowExact::compare_y(std::int64_t i, const Exact& d) {
  Impl& m = *impl_;
  const Element e = element(i);
  const bool r_regular = mp::isfinite(m.inv_rms) && m.inv_rms != 0;
  if (m.st.cast_before_weight || !r_regular || !mp::isfinite(e.y_exact)) {
    // Dyadic and exact: w rn(u R), or the IEEE result of a special row.
    return e.y_exact > d ? 1 : e.y_exact < d ? -1 : 0;
  }
  const Exact w(m.in.weight[i]);
  const Exact wp = m.st.weight_offset_one ? Exact(Exact(1) + w) : w;
  const Exact t = source_value(m.st.scaled, m.in, i) * wp;  // exact (<= 302 bits)
  return compare_product(m.in.hidden, Exact(m.in.eps), m.sum_sq(), t, d);
}

}  // namespace kc::ref

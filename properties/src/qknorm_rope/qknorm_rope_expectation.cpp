// The qknorm_rope family's expectations: every output element of every token against the exact
// profile (reference/include/kc/ref/qknorm_rope.h, ref::evaluate of the claimed or judged
// profile) and the subject's bound; heads whose outputs IEEE rules fix (a NaN or infinity in the
// head or its weight, R infinite) by the exact rules; v heads bit for bit (untouched in place,
// copied out of place).
//
// The bound of kconform's kernels (BoundSpec::kDerivedByFamily), restated from their arithmetic
// (kernels/src/qknorm_rope/qknorm_rope_row.h, "Error bound"). For an output of true value Y (one
// pair (a, b) of a head with exact R, t = z w, af the attention factor, p the position):
//   |y' - Y| <= E,  E = 2^-20.2 |Y| + af R (|t_a| + |t_b|) (2^-50 + 2 pi (|p| 2^-92.5 + 2^-64))
// where y' is the double the kernel rounds once (y = rn(y')):
//  - 2^-20.2 |Y|: R in fp32 (E-element fma chunks, 5 tree levels, mean, eps, sqrt, reciprocal:
//    at most 13.5 2^-24 relative for head_dim <= 512);
//  - af R (|t_a| + |t_b|) 2^-50: the double sin/cos polynomial (< 2^-50 absolute) and the
//    rotation's three double roundings (2^-51);
//  - 2 pi (|p| 2^-92.5 + 2^-64) rad: the reduced turn's error from the 128-bit frequency
//    constant (2^-92.5 absolute) times |p| and the dropped low word.
// Passthrough elements (i >= rotary_dim): y' = (z R') w in double, E = 2^-20.2 |Y| + 2^-52 |Y|.
// As rn is monotone, y lies in [rn(Y - E), rn(Y + E)]: that interval is the bound. It is
// evaluated in double from the reference's Y (its enclosure midpoint, relative error < 2^-50),
// so E is widened by 2^-47 |Y| (Y's error, its conversion, Y -+ E's rounding) and by 2^-40 E.
// The interval's ulps are what the report shows as the bound (for 16-bit outputs below 0.502
// ulp unless the rotation cancels; fp32 below 0.5 + 2^3.8).
//
// A head is out of the bound's range (counted as out_of_range_rows, not judged) when its values
// are finite (its weight may not be) and the fp32 sum of squares could overflow or underflow: n q >
// 2^126 or q < 2^-100, q = mean(z^2) + eps (the norm family's rule).
//
// Flat ULP bounds (BoundSpec::kUlps) judge every element against the profile's exact value.
// The family defines no bound rules yet: a subject naming one fails every comparison.
#include <algorithm>
#include <cmath>
#include <memory>

#include "kc/props/evidence.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"
#include "kc/ref/certified.h"
#include "qknorm_rope_family.h"

namespace kc::props {
namespace {

using ref::Exact;

// 2^-20.2 (R's relative error) and 2^-92.5 (the frequency constant's absolute error in turns):
// powers with fractional exponents, rounded up to the next double.
const double kRelR = std::nextafter(std::exp2(-20.2), 1.0);
const double kConstErr = std::nextafter(std::exp2(-92.5), 1.0);

enum class HeadRegime : std::uint8_t { kBounded, kSpecial, kOutOfRange };

class QkExpectation : public Expectation {
 public:
  QkExpectation(const Case& c, const CaseBuffers& before)
      : c_(c),
        profile_(qk_profile(c)),
        params_(qk_ref_params(c)),
        format_(format_of(c.dtype)),
        n_(qk_head_dim(c)),
        hidden_(qk_hidden(c)) {
    using T = QkNormRopeTensors;
    const HostTensor& in = before.tensor(T::kQkv);
    const std::int64_t tokens = c.num_tokens;
    if (params_.num_q_heads > 0) qw_ = row_values(c, before.tensor(T::kQWeight), 0);
    if (params_.num_k_heads > 0) kw_ = row_values(c, before.tensor(T::kKWeight), 0);
    if (qw_.empty()) qw_.assign(static_cast<std::size_t>(n_), 1.0f);
    if (kw_.empty()) kw_.assign(static_cast<std::size_t>(n_), 1.0f);
    rows_.resize(static_cast<std::size_t>(tokens));
    input_bits_.resize(static_cast<std::size_t>(tokens));
    positions_.resize(static_cast<std::size_t>(tokens));
    results_.reserve(static_cast<std::size_t>(tokens));
    const std::int64_t qk = params_.num_q_heads + params_.num_k_heads;
    regimes_.resize(static_cast<std::size_t>(tokens * qk));
    for (std::int64_t r = 0; r < tokens; ++r) {
      const auto k = static_cast<std::size_t>(r);
      rows_[k] = row_values(c, in, r);
      auto& bits = input_bits_[k];
      bits.resize(static_cast<std::size_t>(hidden_));
      for (std::int64_t i = 0; i < hidden_; ++i) bits[static_cast<std::size_t>(i)] = in.get(r, i);
      positions_[k] = qk_stored_position(c, before.tensor(T::kPositions), r);
      ref::QkNormRopeTokenInput ti;
      ti.format = format_;
      ti.row = rows_[k].data();
      ti.q_weight = qw_.data();
      ti.k_weight = kw_.data();
      ti.position = positions_[k];
      results_.push_back(ref::evaluate(profile_, params_, ti));
      for (std::int64_t h = 0; h < qk; ++h) {
        const HeadRegime g = regime(r, h);
        const std::vector<float>& w = h < params_.num_q_heads ? qw_ : kw_;
        for (float wi : w) special_ = special_ || (g == HeadRegime::kBounded && !std::isfinite(wi));
        regimes_[static_cast<std::size_t>(r * qk + h)] = g;
        special_ = special_ || g == HeadRegime::kSpecial;
      }
    }
  }

  bool has_special() const override { return special_; }

  void compare(const Subject& s, const CaseBuffers& after, Mode mode, Verdict* v) const override {
    const BoundSpec spec = s.bound_for(c_.dtype);
    if (!spec.rules.empty()) {
      v->kind = Verdict::Kind::kFail;
      v->message = "the subject's bound names rule '" + spec.rules.front() +
                   "', which the qknorm_rope family does not define (it defines none)";
      return;
    }
    const bool derived = spec.kind == BoundSpec::Kind::kDerivedByFamily;
    const HostTensor& y = after.tensor(QkNormRopeTensors::kOutput);
    const std::int64_t qk = params_.num_q_heads + params_.num_k_heads;
    const std::int64_t rd = params_.rotary_dim;
    const double af = static_cast<double>(params_.yarn.attention_factor);
    Evidence ev(v, format_, c_.profile);
    for (std::int64_t r = 0; r < c_.num_tokens; ++r) {
      const auto k = static_cast<std::size_t>(r);
      const ref::QkNormRopeResult& want = results_[k];
      if (want.status != ref::QkNormRopeStatus::kOk) {
        v->kind = Verdict::Kind::kFail;
        v->message =
            "the reference could not evaluate token " + std::to_string(r) + ": " + want.message;
        return;
      }
      const std::vector<float>& x = rows_[k];
      const double angle_err =
          6.2831853071795866 *
          (std::fabs(static_cast<double>(positions_[k])) * kConstErr + 0x1p-64);
      for (std::int64_t h = 0; h * n_ < hidden_; ++h) {
        ++v->stats.rows;
        if (h >= qk) {  // v head: the input's bits, in both modes
          for (std::int64_t i = h * n_; i < (h + 1) * n_; ++i) {
            const std::uint32_t got = y.get(r, i);
            const std::uint32_t exp = input_bits_[k][static_cast<std::size_t>(i)];
            if (got != exp) {
              ev.note("output", r, i, want.y_exact[static_cast<std::size_t>(i)], exp, got, 0,
                      "the v head's input bits", true);
            }
          }
          continue;
        }
        const HeadRegime g = regimes_[static_cast<std::size_t>(r * qk + h)];
        if (g == HeadRegime::kOutOfRange) {
          ++v->stats.out_of_range_rows;
          continue;
        }
        const std::vector<float>& w = h < params_.num_q_heads ? qw_ : kw_;
        const double rr = static_cast<double>(want.inv_rms[static_cast<std::size_t>(h)]);
        for (std::int64_t e = 0; e < n_; ++e) {
          const std::int64_t i = h * n_ + e;
          const auto ki = static_cast<std::size_t>(i);
          const std::uint32_t got = y.get(r, i);
          const std::uint32_t exp = want.y_bits[ki];
          const Exact& exact = want.y_exact[ki];
          // A non-finite weight of the element or its partner (R finite and nonzero: the head is
          // in range) gives inf or NaN by IEEE rules.
          const bool weight_special =
              !std::isfinite(w[static_cast<std::size_t>(e)]) ||
              (e < rd && !std::isfinite(w[static_cast<std::size_t>(partner_of(e))]));
          if (g == HeadRegime::kSpecial || weight_special) {
            ++v->stats.special_elements;
            if (mode == Mode::kSpecial && !matches_exactly(exp, got)) {
              ev.note("output", r, i, exact, exp, got, 0, "exactly (IEEE special-value rule)",
                      true);
            }
            continue;
          }
          if (mode == Mode::kSpecial) continue;
          bool ok;
          double bound;
          std::string admissible;
          if (derived) {
            const double yv = static_cast<double>(exact);
            double e_abs = kRelR * std::fabs(yv);
            if (e < rd) {
              const std::int64_t partner = partner_of(e);
              const double ta = static_cast<double>(x[ki]) * w[static_cast<std::size_t>(e)];
              const double tb = static_cast<double>(x[static_cast<std::size_t>(h * n_ + partner)]) *
                                w[static_cast<std::size_t>(partner)];
              e_abs += std::fabs(af) * rr * (std::fabs(ta) + std::fabs(tb)) * (0x1p-50 + angle_err);
            } else {
              e_abs += 0x1p-52 * std::fabs(yv);
            }
            e_abs = (e_abs + 0x1p-47 * std::fabs(yv)) * (1 + 0x1p-40);
            const std::uint32_t lo = ref::round_double(format_, yv - e_abs);
            const std::uint32_t hi = ref::round_double(format_, yv + e_abs);
            const double gv = ref::decode_double(format_, got);
            ok = !ref::is_nan(format_, got) && gv >= ref::decode_double(format_, lo) &&
                 gv <= ref::decode_double(format_, hi);
            bound =
                std::max(ref::ulp_error(format_, lo, exact), ref::ulp_error(format_, hi, exact));
            admissible = "[" + ref::describe_bits(format_, lo) + ", " +
                         ref::describe_bits(format_, hi) + "] (kernel bound)";
          } else {
            bound = spec.ulps;
            ok = ref::ulp_error_within(format_, got, exact, spec.ulps);
            admissible = "<= " + std::to_string(spec.ulps) + " ulp";
          }
          const double err = ref::ulp_error(format_, got, exact);
          v->stats.add(err, got == exp);
          ev.note("output", r, i, exact, exp, got, bound, admissible, !ok, err);
        }
      }
    }
  }

 private:
  // The partner element of element e < rotary_dim of a head.
  std::int64_t partner_of(std::int64_t e) const {
    const std::int64_t rd = params_.rotary_dim;
    if (params_.style == ref::RopeStyle::kNeox) return e < rd / 2 ? e + rd / 2 : e - rd / 2;
    return e ^ 1;
  }

  HeadRegime regime(std::int64_t r, std::int64_t h) const {
    const ref::QkNormRopeResult& want = results_[static_cast<std::size_t>(r)];
    if (want.status != ref::QkNormRopeStatus::kOk) return HeadRegime::kBounded;
    const std::vector<float>& x = rows_[static_cast<std::size_t>(r)];
    double sum = 0;
    for (std::int64_t e = 0; e < n_; ++e) {
      const double z = x[static_cast<std::size_t>(h * n_ + e)];
      if (!std::isfinite(z)) return HeadRegime::kSpecial;
      sum += z * z;
    }
    const double q = sum / static_cast<double>(n_) + static_cast<double>(params_.eps);
    if (q == 0.0) return HeadRegime::kSpecial;  // R = +inf
    if (static_cast<double>(n_) * q > 0x1p126 || q < 0x1p-100) return HeadRegime::kOutOfRange;
    return HeadRegime::kBounded;
  }

  bool matches_exactly(std::uint32_t expected, std::uint32_t observed) const {
    if (ref::is_nan(format_, expected)) return ref::is_nan(format_, observed);
    return expected == observed;
  }

  Case c_;
  ref::QkNormRopeProfile profile_;
  ref::QkNormRopeParams params_;
  ref::Format format_;
  std::int64_t n_;
  std::int64_t hidden_;
  std::vector<float> qw_, kw_;
  std::vector<std::vector<float>> rows_;
  std::vector<std::vector<std::uint32_t>> input_bits_;
  std::vector<std::int64_t> positions_;
  std::vector<ref::QkNormRopeResult> results_;
  std::vector<HeadRegime> regimes_;
  bool special_ = false;
};

}  // namespace

std::unique_ptr<Expectation> qk_expectation(const Case& c, const CaseBuffers& before) {
  return std::make_unique<QkExpectation>(c, before);
}

}  // namespace kc::props

// The norm family's expectations: every output element against the exact profile (reference/
// rmsnorm.h) and the subject's bound (a flat ULP bound, or NormKernelBound for kconform's own
// kernels), the residual output against its single correct rounding, special rows by the exact
// IEEE rules; and the flush-to-zero rule of flat bounds (rmsnorm_family.h).
#include <cmath>
#include <memory>

#include "kc/props/property.h"
#include "kc/props/subject.h"
#include "rmsnorm_bound.h"
#include "rmsnorm_family.h"

namespace kc::props {

ref::NormProfile norm_profile(const Case& c) {
  ref::NormProfile p = ref::NormProfile::kRmsNormFp32;
  ref::profile_from_name(c.profile, &p);
  return p;
}

std::vector<NormRowData> capture_norm_rows(const OpSpec& op, const Case& c, const CaseBuffers& b) {
  const int xi = tensor_index(op, "input");
  const int ri = tensor_index(op, "residual");
  const int wi = tensor_index(op, "weight");
  const std::vector<float> w = row_values(c, b.tensor(wi), 0);
  std::vector<NormRowData> rows(static_cast<std::size_t>(c.num_tokens));
  for (std::int64_t r = 0; r < c.num_tokens; ++r) {
    NormRowData& d = rows[static_cast<std::size_t>(r)];
    d.x = row_values(c, b.tensor(xi), r);
    if (ri >= 0) d.residual = row_values(c, b.tensor(ri), r);
    d.weight = w;
  }
  return rows;
}

ref::NormRowInput norm_row_input(const Case& c, const NormRowData& d) {
  ref::NormRowInput in;
  in.format = format_of(c.dtype);
  in.hidden = norm_hidden(c);
  in.x = d.x.data();
  in.residual = d.residual.empty() ? nullptr : d.residual.data();
  in.weight = d.weight.data();
  in.eps = norm_eps(c);
  return in;
}

namespace {

class NormExpectation : public Expectation {
 public:
  NormExpectation(const Case& c, const CaseBuffers& before)
      : c_(c),
        op_(*find_op(c.op)),
        hidden_(norm_hidden(c)),
        profile_(norm_profile(c)),
        structure_(ref::profile_structure(profile_)),
        format_(format_of(c.dtype)) {
    rows_ = capture_norm_rows(op_, c, before);
    results_.reserve(rows_.size());
    for (const NormRowData& d : rows_)
      results_.push_back(ref::evaluate(profile_, norm_row_input(c, d)));
    const NormKernelBound k(profile_, c.dtype, norm_hidden(c));
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      std::string why;
      const ref::NormRowInput in = norm_row_input(c_, rows_[r]);
      const auto regime = k.regime(in, results_[r], &why);
      special_ = special_ || regime == NormKernelBound::Regime::kSpecial;
      for (std::int64_t i = 0; i < hidden_ && !special_; ++i) {
        special_ = NormKernelBound::exact_element(in, results_[r], i);
      }
    }
  }

  bool has_special() const override { return special_; }

  void compare(const Subject& s, const CaseBuffers& after, Mode mode, Verdict* v) const override {
    const BoundSpec spec = s.bound_for(c_.dtype);
    for (const std::string& rule : spec.rules) {
      if (rule != kFlushToZeroRule) {
        v->kind = Verdict::Kind::kFail;
        v->message = "the subject's bound names rule '" + rule +
                     "', which the norm family does not define (it knows: " + kFlushToZeroRule +
                     ")";
        return;
      }
    }
    const bool ftz = spec.has_rule(kFlushToZeroRule);
    const NormKernelBound kernel(profile_, c_.dtype, hidden_);
    const HostTensor& y = after.tensor(tensor_index(op_, "output"));
    const int ro_role = tensor_index(op_, "residual_out");
    double worst_fail = -1;
    double worst_pass = -1;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const ref::NormRowInput in = norm_row_input(c_, rows_[r]);
      const ref::NormRowResult& want = results_[r];
      const auto row = static_cast<std::int64_t>(r);
      std::string why;
      const auto regime = kernel.regime(in, want, &why);
      ++v->stats.rows;
      if (regime == NormKernelBound::Regime::kOutOfRange) {
        ++v->stats.out_of_range_rows;
        continue;
      }
      const bool special_row = regime == NormKernelBound::Regime::kSpecial;
      // Flush to zero: the row as a flushing subject reads it (subnormal inputs as zeros), when
      // it differs; its results are the other admissible outcome of each element.
      NormRowData flushed_data;
      ref::NormRowResult flushed;
      const bool alt = ftz && flush_inputs(rows_[r], &flushed_data);
      const ref::NormRowInput flushed_in = alt ? norm_row_input(c_, flushed_data) : in;
      if (alt) flushed = ref::evaluate(profile_, flushed_in);
      // The stored residual is a single correct rounding in every profile and bound (a flush-
      // to-zero subject may store a zero for a sum below 2^-126: its fp32 add flushed it; or
      // the sum of the flushed inputs).
      if (ro_role >= 0) {
        const HostTensor& ro = after.tensor(ro_role);
        for (std::int64_t i = 0; i < hidden_; ++i) {
          const std::uint32_t got = ro.get(row, i);
          const std::uint32_t exp = want.residual_bits[static_cast<std::size_t>(i)];
          const ref::Exact& sum = want.residual_exact[static_cast<std::size_t>(i)];
          if (ftz && got != exp &&
              ((ref::is_zero(format_, got) && std::fabs(sum.convert_to<double>()) < 0x1p-126) ||
               (alt &&
                kernel.matches_exactly(flushed.residual_bits[static_cast<std::size_t>(i)], got)))) {
            ++v->stats.flushed_elements;
            continue;
          }
          if (!kernel.matches_exactly(exp, got)) {
            note(v, "residual_out", row, i, want.residual_exact[static_cast<std::size_t>(i)], exp,
                 got, 0.5, "the correct rounding of x + r", true, &worst_fail, &worst_pass);
          }
        }
      }
      for (std::int64_t i = 0; i < hidden_; ++i) {
        const std::uint32_t got = y.get(row, i);
        const std::uint32_t exp = want.y_bits[static_cast<std::size_t>(i)];
        const ref::Exact& exact = want.y_exact[static_cast<std::size_t>(i)];
        const bool exact_rule = special_row || NormKernelBound::exact_element(in, want, i);
        if (ftz && got != exp &&
            (flush_admits(in, want, i, got) ||
             (alt && (kernel.matches_exactly(flushed.y_bits[static_cast<std::size_t>(i)], got) ||
                      flush_admits(flushed_in, flushed, i, got) ||
                      (spec.kind == BoundSpec::Kind::kUlps &&
                       ref::ulp_error(format_, got, flushed.y_exact[static_cast<std::size_t>(i)]) <=
                           spec.ulps))))) {
          ++v->stats.flushed_elements;
          continue;
        }
        if (exact_rule) {
          if (mode == Mode::kSpecial && !kernel.matches_exactly(exp, got)) {
            note(v, "output", row, i, exact, exp, got, 0, "exactly (IEEE special-value rule)", true,
                 &worst_fail, &worst_pass);
          }
          ++v->stats.special_elements;
          continue;
        }
        if (mode == Mode::kSpecial) continue;
        const double err = ref::ulp_error(format_, got, exact);
        bool ok;
        double bound;
        std::string admissible;
        if (spec.kind == BoundSpec::Kind::kUlps) {
          ok = err <= spec.ulps;
          bound = spec.ulps;
          admissible = "<= " + std::to_string(spec.ulps) + " ulp";
        } else {
          const Interval iv = kernel.y_interval(in, want, i);
          ok = kernel.admits(iv, got);
          bound = kernel.interval_ulps(iv, exact);
          admissible = "[" + ref::describe_bits(format_, iv.lo) + ", " +
                       ref::describe_bits(format_, iv.hi) + "]";
        }
        v->stats.add(err, got == exp);
        note(v, "output", row, i, exact, exp, got, bound, admissible, !ok, &worst_fail, &worst_pass,
             err);
      }
    }
  }

 private:
  // BoundSpec::flush_to_zero: the row's inputs with every nonzero value below 2^-126 in
  // magnitude (fp32 subnormals: bf16 and fp32 rows) replaced by a zero of its sign, as an
  // arithmetic that flushes its operands reads them. False when the row has none.
  static bool flush_inputs(const NormRowData& d, NormRowData* out) {
    *out = d;
    bool any = false;
    for (std::vector<float>* v : {&out->x, &out->residual, &out->weight}) {
      for (float& f : *v) {
        if (f != 0.0f && std::fabs(f) < 0x1p-126f) {
          f = std::copysign(0.0f, f);
          any = true;
        }
      }
    }
    return any;
  }

  // BoundSpec::flush_to_zero: whether element i has a value below 2^-126 on its path (its scaled
  // input z, its weight when the weight multiplies directly, z R, or the output) and `got` is
  // what flushing that value gives: a zero, or a NaN when the weight is infinite (0 * inf).
  // The 2^-20 margin covers the subject's rounding of z R and of the output (far below 2^-20).
  bool flush_admits(const ref::NormRowInput& in, const ref::NormRowResult& want, std::int64_t i,
                    std::uint32_t got) const {
    const auto k = static_cast<std::size_t>(i);
    const double t = 0x1p-126 * (1 + 0x1p-20);
    double z = 0;
    switch (structure_.scaled) {
      case ref::NormSource::kX:
        z = in.x[k];
        break;
      case ref::NormSource::kSum:
        z = want.residual_exact[k].convert_to<double>();
        break;
      case ref::NormSource::kRoundedSum:
        z = ref::decode(format_, want.residual_bits[k]).convert_to<double>();
        break;
    }
    // A Gemma weight enters as fl(1 + w): flushing a tiny w changes that by less than 2^-126.
    const bool tiny = std::fabs(z) < t ||
                      (!structure_.weight_offset_one && std::fabs(in.weight[k]) < t) ||
                      std::fabs(want.scaled_times_r[k].convert_to<double>()) < t ||
                      std::fabs(want.y_exact[k].convert_to<double>()) < t;
    if (!tiny) return false;
    return ref::is_zero(format_, got) || (ref::is_nan(format_, got) && std::isinf(in.weight[k]));
  }

  // Records an element: a failure replaces a smaller failure; a pass replaces a smaller pass
  // only while nothing has failed.
  void note(Verdict* v, const char* tensor, std::int64_t row, std::int64_t col,
            const ref::Exact& exact, std::uint32_t expected, std::uint32_t got, double bound,
            const std::string& admissible, bool failed, double* worst_fail, double* worst_pass,
            double err = -1) const {
    if (err < 0) err = ref::ulp_error(format_, got, exact);
    const double key = std::isnan(err) ? 1e308 : err;
    if (failed) {
      if (v->kind != Verdict::Kind::kFail || key > *worst_fail) {
        *worst_fail = key;
        v->kind = Verdict::Kind::kFail;
        v->message = std::string(tensor) + " outside the subject's bound of " + c_.profile;
        fill(v, tensor, row, col, exact, expected, got, bound, admissible, err);
      }
    } else if (v->kind != Verdict::Kind::kFail && key > *worst_pass) {
      *worst_pass = key;
      fill(v, tensor, row, col, exact, expected, got, bound, admissible, err);
    }
  }
  void fill(Verdict* v, const char* tensor, std::int64_t row, std::int64_t col,
            const ref::Exact& exact, std::uint32_t expected, std::uint32_t got, double bound,
            const std::string& admissible, double err) const {
    ElementReport& w = v->worst;
    w.tensor = tensor;
    w.row = row;
    w.col = col;
    w.expected_exact = ref::to_decimal(exact, 30);
    w.expected_rounded = ref::describe_bits(format_, expected);
    w.observed = ref::describe_bits(format_, got);
    w.admissible = admissible;
    w.ulp_error = err;
    w.bound = bound;
  }

  Case c_;
  const OpSpec& op_;
  std::int64_t hidden_;
  ref::NormProfile profile_;
  ref::NormStructure structure_;
  ref::Format format_;
  std::vector<NormRowData> rows_;
  std::vector<ref::NormRowResult> results_;
  bool special_ = false;
};

}  // namespace

std::unique_ptr<Expectation> norm_expectation(const Case& c, const CaseBuffers& before) {
  return std::make_unique<NormExpectation>(c, before);
}

}  // namespace kc::props

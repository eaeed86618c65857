// The norm family's expectations: every output element against the exact profile (reference/
// rmsnorm.h) and the subject's bound (a flat ULP bound, or NormKernelBound for kconform's own
// kernels), the residual output against its single correct rounding, special rows by the exact
// IEEE rules; and the flush-to-zero rule of flat bounds (rmsnorm_family.h).
//
// Evaluation (issue 13): every row goes through the certified fast path (rmsnorm_fast.h), which
// gives the correctly rounded bits and double enclosures of the values the comparison reads.
// Each decision is taken from the enclosures when they settle it, and otherwise from the exact
// path's values for that element, so every verdict, statistic and reported figure is the one the
// exact path (evaluate() for every row, NormReferencePath::kExact) gives:
//  - the exact path's values are 320-bit approximations within approx_rel_error (< 2^-290) of
//    the real ones; the enclosures are widened by 2^-280 of their magnitude to hold both, so a
//    decision taken on a widened enclosure holds for the exact path's value too;
//  - exact values come from NormRowExact (rmsnorm.h): evaluate()'s numbers for single elements,
//    at the cost of an exact sum of squares for the row; point enclosures are exact values
//    already (special rows and elements, cast-before-weight outputs); rows that the fast path
//    evaluated with evaluate() anyway (exact ties, unsupported rows) take the exact path whole;
//  - flat bounds: `error <= bound` is decided exactly (compare_ulp_error with exact fallbacks,
//    down to the dyadic comparison of squares), in both paths: the double ulp_error() can round
//    an error onto its bound (issue 13, item 6);
//  - kernel bounds: NormKernelBound computes the admissible interval from the enclosures and
//    says when it cannot (then it is computed from the exact values);
//  - statistics and the worst element: CertifiedTally (certified_tally.h) from certified bounds
//    of each element's ULP error, with exact errors only where a bin or the maximum needs them;
//  - regimes and the flush-to-zero tests compare doubles of exact values with thresholds:
//    decide_magnitude_below / decide_sign, else the exact value.
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "kc/props/certified_tally.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"
#include "kc/ref/certified.h"
#include "kc/ref/rmsnorm_fast.h"
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

using Regime = NormKernelBound::Regime;

struct Counters {
  std::atomic<std::int64_t> elements{0}, exact_rows{0}, row_exact{0}, exact_errors{0},
      exact_intervals{0}, exact_compares{0}, exact_signs{0}, exact_thresholds{0};
};
Counters& counters() {
  static Counters c;
  return c;
}
void count(std::atomic<std::int64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// The exact path's values lie within 2^-290 of the real ones, relative (approx_rel_error for
// hidden < 2^26); widening an enclosure by 2^-280 of its magnitude holds both.
constexpr double kExactPathRel = 0x1p-280;
// flush_admits' threshold: 2^-126 with a 2^-20 relative margin.
constexpr double kFlushThreshold = 0x1p-126 * (1 + 0x1p-20);

// One row's reference values: the fast path's, and exact values on demand. A row whose fast
// evaluation ran evaluate() (exact ties, unsupported rows) or any row in NormReferencePath::kExact
// holds evaluate()'s result and is compared from it alone (the exact path).
class RowRef {
 public:
  RowRef(ref::NormProfile p, const ref::NormRowInput& in, NormReferencePath path)
      : profile_(p), in_(in) {
    if (path == NormReferencePath::kExact) {
      exact_ = ref::evaluate(p, in);
    } else {
      ref::evaluate_fast(p, in, &fast_);
      if (fast_.exact) {
        exact_ = std::move(fast_.exact);
        count(counters().exact_rows);
      }
    }
  }

  const ref::NormRowInput& input() const { return in_; }
  // The exact path's result, for rows compared from it.
  const ref::NormRowResult* exact_result() const { return exact_ ? &*exact_ : nullptr; }
  const ref::FastNormRowResult& fast() const { return fast_; }

  std::uint32_t y_bits(std::int64_t i) const {
    return exact_ ? exact_->y_bits[k(i)] : fast_.y_bits[k(i)];
  }
  std::uint32_t residual_bits(std::int64_t i) const {
    return exact_ ? exact_->residual_bits[k(i)] : fast_.residual_bits[k(i)];
  }

  // A fast-path row whose R is NaN, 0 or +inf (every value special or zero, points).
  bool special_row() const { return !exact_ && fast_.path == ref::NormRowPath::kSpecialRow; }
  // An element the exact IEEE rules decide (NormKernelBound::exact_element on evaluate()'s
  // values; on the fast path a non-finite weight or y, whose enclosure is then a point).
  bool special_element(std::int64_t i) const {
    if (exact_) return NormKernelBound::exact_element(in_, *exact_, i);
    return special_row() || !std::isfinite(in_.weight[i]) || !std::isfinite(fast_.y[k(i)].mid);
  }

  // The exact path's values of element i (a point enclosure is the value itself).
  ref::Exact y_exact(std::int64_t i) {
    if (exact_) return exact_->y_exact[k(i)];
    if (fast_.y[k(i)].rad == 0) return ref::Exact(fast_.y[k(i)].mid);
    return row_exact().element(i).y_exact;
  }
  ref::Exact scaled_times_r(std::int64_t i) {
    if (exact_) return exact_->scaled_times_r[k(i)];
    if (fast_.scaled_times_r[k(i)].rad == 0) return ref::Exact(fast_.scaled_times_r[k(i)].mid);
    return row_exact().element(i).scaled_times_r;
  }
  ref::Exact residual_exact(std::int64_t i) const {
    return exact_ ? exact_->residual_exact[k(i)]
                  : ref::Exact(in_.x[i]) + ref::Exact(in_.residual[i]);  // exact: <= 278 bits
  }
  // The exact path's relative error of y_exact (0 where it is dyadic: cast before weight).
  ref::Exact y_rel_error(bool cast) {
    if (cast) return 0;
    return exact_ ? exact_->approx_rel_error : row_exact().approx_rel_error();
  }
  // Widened enclosures of y and u R (fast rows).
  ref::Enclosure y_enclosure(std::int64_t i) const {
    return ref::widen_relative(fast_.y[k(i)], kExactPathRel);
  }
  ref::Enclosure ur_enclosure(std::int64_t i) const {
    return ref::widen_relative(fast_.scaled_times_r[k(i)], kExactPathRel);
  }

  // The exact path's q, R: regime() and the kernel bound's row constants read them.
  ref::Exact mean_sq_plus_eps() {
    return exact_ ? exact_->mean_sq_plus_eps : row_exact().mean_sq_plus_eps();
  }

  // The exact sign of y_i - d (compare_y).
  int compare_y(std::int64_t i, const ref::Exact& d) { return row_exact().compare_y(i, d); }

  ref::NormRowExact& row_exact() {
    if (!row_exact_) {
      count(counters().row_exact);
      row_exact_ = std::make_unique<ref::NormRowExact>(profile_, in_);
    }
    return *row_exact_;
  }

 private:
  static std::size_t k(std::int64_t i) { return static_cast<std::size_t>(i); }
  ref::NormProfile profile_;
  ref::NormRowInput in_;
  ref::FastNormRowResult fast_;
  std::optional<ref::NormRowResult> exact_;
  std::unique_ptr<ref::NormRowExact> row_exact_;
};

// Element tags of the tally: (row, tensor, column), tensor 0 the output, 1 the residual output.
struct Tag {
  std::int64_t row;
  int tensor;
  std::int64_t col;
};

class NormExpectation : public Expectation {
 public:
  NormExpectation(const Case& c, const CaseBuffers& before, NormReferencePath path)
      : c_(c),
        op_(*find_op(c.op)),
        hidden_(norm_hidden(c)),
        profile_(norm_profile(c)),
        structure_(ref::profile_structure(profile_)),
        format_(format_of(c.dtype)),
        path_(path),
        kernel_(profile_, c.dtype, hidden_) {
    data_ = capture_norm_rows(op_, c, before);
    rows_.reserve(data_.size());
    for (const NormRowData& d : data_) {
      rows_.push_back(std::make_unique<RowRef>(profile_, norm_row_input(c, d), path_));
    }
    // A fast row is special when its R is (kSpecialRow); otherwise its inputs are finite and
    // its q finite and positive, as the exact regime() checks, and only its elements can be.
    for (const auto& row : rows_) {
      if (const ref::NormRowResult* want = row->exact_result()) {
        std::string why;
        special_ = special_ || kernel_.regime(row->input(), *want, &why) == Regime::kSpecial;
      }
      special_ = special_ || row->special_row();
      for (std::int64_t i = 0; i < hidden_ && !special_; ++i) special_ = row->special_element(i);
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
    const HostTensor& y = after.tensor(tensor_index(op_, "output"));
    const int ro_role = tensor_index(op_, "residual_out");
    CertifiedTally tally;
    regimes_.assign(rows_.size(), Regime::kBounded);
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      RowRef& row = *rows_[r];
      const auto rw = static_cast<std::int64_t>(r);
      const Regime regime = row_regime(row);
      regimes_[r] = regime;
      ++v->stats.rows;
      if (regime == Regime::kOutOfRange) {
        ++v->stats.out_of_range_rows;
        continue;
      }
      const bool special_row = regime == Regime::kSpecial;
      // Flush to zero: the row as a flushing subject reads it (subnormal inputs as zeros), when
      // it differs; its results are the other admissible outcome of each element.
      NormRowData flushed_data;
      const bool alt = ftz && flush_inputs(data_[r], &flushed_data);
      std::unique_ptr<RowRef> flushed;
      if (alt)
        flushed = std::make_unique<RowRef>(profile_, norm_row_input(c_, flushed_data), path_);
      // The stored residual is a single correct rounding in every profile and bound (a flush-
      // to-zero subject may store a zero for a sum below 2^-126: its fp32 add flushed it; or
      // the sum of the flushed inputs).
      if (ro_role >= 0) {
        const HostTensor& ro = after.tensor(ro_role);
        for (std::int64_t i = 0; i < hidden_; ++i) {
          const std::uint32_t got = ro.get(rw, i);
          const std::uint32_t exp = row.residual_bits(i);
          if (ftz && got != exp &&
              ((ref::is_zero(format_, got) && std::fabs(sum_double(row, i)) < 0x1p-126) ||
               (alt && kernel_.matches_exactly(flushed->residual_bits(i), got)))) {
            ++v->stats.flushed_elements;
            continue;
          }
          if (!kernel_.matches_exactly(exp, got)) {
            const double err = ref::ulp_error(format_, got, row.residual_exact(i));
            tally.offer_worst(ErrorBounds::exactly(err), true, tag_of({rw, 1, i}));
          }
        }
      }
      std::optional<NormKernelBound::RowThetas> thetas;
      for (std::int64_t i = 0; i < hidden_; ++i) {
        const std::uint32_t got = y.get(rw, i);
        const std::uint32_t exp = row.y_bits(i);
        const bool exact_rule = special_row || row.special_element(i);
        if (ftz && got != exp &&
            (flush_admits(row, i, got) ||
             (alt &&
              (kernel_.matches_exactly(flushed->y_bits(i), got) || flush_admits(*flushed, i, got) ||
               (spec.kind == BoundSpec::Kind::kUlps &&
                within_ulps(*flushed, i, got, spec.ulps)))))) {
          ++v->stats.flushed_elements;
          continue;
        }
        if (exact_rule) {
          if (mode == Mode::kSpecial && !kernel_.matches_exactly(exp, got)) {
            const double err = ref::ulp_error(format_, got, row.y_exact(i));
            tally.offer_worst(ErrorBounds::exactly(err), true, tag_of({rw, 0, i}));
          }
          ++v->stats.special_elements;
          continue;
        }
        if (mode == Mode::kSpecial) continue;
        // A finite correct rounding is within every bound of at least 0.5 ulp (its error is at
        // most 0.5) and inside every kernel interval (see NormKernelBound::admits): on the fast
        // path it needs no bound computed. The exact path computes every bound, as the
        // comparison always did, so the two paths' agreement also tests these facts.
        const bool shortcut =
            row.exact_result() == nullptr && got == exp && !ref::is_inf(format_, exp);
        bool ok;
        if (spec.kind == BoundSpec::Kind::kUlps) {
          ok = (shortcut && spec.ulps >= 0.5) || within_ulps(row, i, got, spec.ulps);
        } else if (shortcut) {
          ok = true;
        } else {
          if (!thetas) thetas = row_thetas(row);
          ok = kernel_.admits(interval(row, *thetas, i), got);
        }
        if (row.exact_result() == nullptr) count(counters().elements);
        const ErrorBounds eb = error_bounds(row, i, got);
        tally.add_stat(eb, got == exp, tag_of({rw, 0, i}));
        tally.offer_worst(eb, !ok, tag_of({rw, 0, i}));
      }
    }
    const CertifiedTally::Worst worst =
        tally.finish([&](std::int64_t t) { return exact_error(untag(t), y); }, &v->stats);
    if (worst.tag >= 0) report(untag(worst.tag), worst, spec, after, v);
  }

 private:
  std::int64_t tag_of(const Tag& t) const { return (t.row * 2 + t.tensor) * hidden_ + t.col; }
  Tag untag(std::int64_t tag) const {
    const std::int64_t rt = tag / hidden_;
    return {rt / 2, static_cast<int>(rt % 2), tag % hidden_};
  }

  // The row's regime (NormKernelBound::regime on the exact path's values). A fast row is
  // special when its R is; otherwise its thresholds on q are decided from the widened enclosure
  // of q (and of q n, whose double product adds at most a relative 2^-52), else from q itself.
  Regime row_regime(RowRef& row) const {
    std::string why;
    if (const ref::NormRowResult* want = row.exact_result()) {
      return kernel_.regime(row.input(), *want, &why);
    }
    if (row.special_row()) return Regime::kSpecial;
    const ref::Enclosure q = ref::widen_relative(row.fast().mean_sq_plus_eps, kExactPathRel);
    const double n = static_cast<double>(hidden_);
    const double qn = q.mid * n;
    const ref::Enclosure qn_e{
        qn, std::nextafter(q.rad * n * (1 + 0x1p-50) + std::fabs(qn) * (0x1p-52 + 0x1p-280),
                           std::numeric_limits<double>::infinity())};
    int above;
    int below;
    if (ref::decide_sign(qn_e, 0x1p126, &above) && ref::decide_sign(q, 0x1p-100, &below)) {
      return above > 0 || below < 0 ? Regime::kOutOfRange : Regime::kBounded;
    }
    count(counters().exact_thresholds);
    const ref::Exact qe = row.mean_sq_plus_eps();
    if (qe * hidden_ > boost::multiprecision::ldexp(ref::Exact(1), 126) ||
        qe < boost::multiprecision::ldexp(ref::Exact(1), -100)) {
      return Regime::kOutOfRange;
    }
    return Regime::kBounded;
  }

  NormKernelBound::RowThetas row_thetas(RowRef& row) const {
    NormKernelBound::RowThetas t;
    if (row.exact_result() == nullptr &&
        kernel_.row_thetas(ref::widen_relative(row.fast().mean_sq_plus_eps, kExactPathRel), &t)) {
      return t;
    }
    if (row.exact_result() == nullptr) count(counters().exact_thresholds);
    return kernel_.row_thetas(row.mean_sq_plus_eps().convert_to<double>());
  }

  Interval interval(RowRef& row, const NormKernelBound::RowThetas& t, std::int64_t i) const {
    Interval iv;
    if (row.exact_result() == nullptr &&
        kernel_.y_interval(t, row.input(), i, row.y_enclosure(i), row.ur_enclosure(i), &iv)) {
      return iv;
    }
    if (row.exact_result() == nullptr) count(counters().exact_intervals);
    return kernel_.y_interval(t, row.input(), i, row.y_exact(i), row.scaled_times_r(i));
  }

  // ulp_error(got, y_i) <= ulps, exactly.
  bool within_ulps(RowRef& row, std::int64_t i, std::uint32_t got, double ulps) const {
    const bool cast = structure_.cast_before_weight;
    auto exact = [&] {
      if (row.exact_result() == nullptr) count(counters().exact_compares);
      const ref::Exact v = row.y_exact(i);
      return ref::ExactValue{v, boost::multiprecision::abs(v) * row.y_rel_error(cast)};
    };
    bool signed_once = false;
    const ref::ExactSign sign = [&](const ref::Exact& d) {
      if (!signed_once) count(counters().exact_signs);
      signed_once = true;
      return row.compare_y(i, d);
    };
    ref::UlpCompare c;
    if (row.exact_result() != nullptr) {
      c = ref::compare_ulp_error(format_, got, exact(), ulps, sign);
    } else {
      c = ref::compare_ulp_error(format_, got, row.y_enclosure(i), ulps, exact, sign);
    }
    // Undecided only for an infinite output a 2^-290 fraction from its bound: never passed.
    return c == ref::UlpCompare::kWithin;
  }

  // Certified bounds of ulp_error(got, y_i): exact on the exact path and for exact (point)
  // enclosures, else from the widened enclosure.
  ErrorBounds error_bounds(RowRef& row, std::int64_t i, std::uint32_t got) const {
    if (const ref::NormRowResult* want = row.exact_result()) {
      return ErrorBounds::exactly(
          ref::ulp_error(format_, got, want->y_exact[static_cast<std::size_t>(i)]));
    }
    const ref::Enclosure& e = row.fast().y[static_cast<std::size_t>(i)];
    if (e.rad == 0) return ErrorBounds::exactly(ref::ulp_error_of_double(format_, got, e.mid));
    const ref::UlpErrorBounds b = ref::ulp_error_bounds(format_, got, row.y_enclosure(i));
    return {b.lo, b.hi};
  }

  // The exact error of a tagged element (an output: residual errors are always offered exact).
  // Elements of a row with the same inputs and output have the same error: computed once.
  double exact_error(const Tag& t, const HostTensor& y) const {
    RowRef& row = *rows_[static_cast<std::size_t>(t.row)];
    const ref::NormRowInput& in = row.input();
    const std::uint32_t got = y.get(t.row, t.col);
    auto bits = [](float f) {
      std::uint32_t b;
      std::memcpy(&b, &f, sizeof b);
      return b;
    };
    const auto key = std::make_tuple(t.row, bits(in.x[t.col]),
                                     in.residual != nullptr ? bits(in.residual[t.col]) : 0u,
                                     bits(in.weight[t.col]), got);
    const auto it = errors_.find(key);
    if (it != errors_.end()) return it->second;
    count(counters().exact_errors);
    const double e = ref::ulp_error(format_, got, row.y_exact(t.col));
    errors_.emplace(key, e);
    return e;
  }

  // The worst element's evidence, from the exact path's values.
  void report(const Tag& t, const CertifiedTally::Worst& worst, const BoundSpec& spec,
              const CaseBuffers& after, Verdict* v) const {
    RowRef& row = *rows_[static_cast<std::size_t>(t.row)];
    ElementReport& w = v->worst;
    const char* tensor = t.tensor == 1 ? "residual_out" : "output";
    const HostTensor& out = after.tensor(tensor_index(op_, tensor));
    const std::uint32_t got = out.get(t.row, t.col);
    ref::Exact exact;
    std::uint32_t expected;
    double bound;
    std::string admissible;
    if (t.tensor == 1) {
      exact = row.residual_exact(t.col);
      expected = row.residual_bits(t.col);
      bound = 0.5;
      admissible = "the correct rounding of x + r";
    } else {
      exact = row.y_exact(t.col);
      expected = row.y_bits(t.col);
      const bool exact_rule = regimes_[static_cast<std::size_t>(t.row)] == Regime::kSpecial ||
                              row.special_element(t.col);
      if (exact_rule) {
        bound = 0;
        admissible = "exactly (IEEE special-value rule)";
      } else if (spec.kind == BoundSpec::Kind::kUlps) {
        bound = spec.ulps;
        admissible = "<= " + std::to_string(spec.ulps) + " ulp";
      } else {
        const Interval iv = interval(row, row_thetas(row), t.col);
        bound = kernel_.interval_ulps(iv, exact);
        admissible = "[" + ref::describe_bits(format_, iv.lo) + ", " +
                     ref::describe_bits(format_, iv.hi) + "]";
      }
    }
    if (worst.failed) {
      v->kind = Verdict::Kind::kFail;
      v->message = std::string(tensor) + " outside the subject's bound of " + c_.profile;
    }
    w.tensor = tensor;
    w.row = t.row;
    w.col = t.col;
    w.expected_exact = ref::to_decimal(exact, 30);
    w.expected_rounded = ref::describe_bits(format_, expected);
    w.observed = ref::describe_bits(format_, got);
    w.admissible = admissible;
    w.ulp_error = worst.err;
    w.bound = bound;
  }

  // The double nearest to the exact sum s = x + r (convert_to<double> of the exact path's
  // residual_exact): two_sum's high part, which the fast path keeps as the enclosure's mid.
  static double sum_double(const RowRef& row, std::int64_t i) {
    if (const ref::NormRowResult* want = row.exact_result()) {
      return want->residual_exact[static_cast<std::size_t>(i)].convert_to<double>();
    }
    return row.fast().residual[static_cast<std::size_t>(i)].mid;
  }

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
  // The doubles of z R and of the output are the exact path's, decided from the enclosures.
  bool flush_admits(RowRef& row, std::int64_t i, std::uint32_t got) const {
    const ref::NormRowInput& in = row.input();
    const auto k = static_cast<std::size_t>(i);
    if (!(ref::is_zero(format_, got) || (ref::is_nan(format_, got) && std::isinf(in.weight[k])))) {
      return false;
    }
    const double t = kFlushThreshold;
    double z = 0;
    switch (structure_.scaled) {
      case ref::NormSource::kX:
        z = in.x[k];
        break;
      case ref::NormSource::kSum:
        z = sum_double(row, i);
        break;
      case ref::NormSource::kRoundedSum:
        z = ref::decode_double(format_, row.residual_bits(i));
        break;
    }
    // A Gemma weight enters as fl(1 + w): flushing a tiny w changes that by less than 2^-126.
    if (std::fabs(z) < t || (!structure_.weight_offset_one && std::fabs(in.weight[k]) < t)) {
      return true;
    }
    return magnitude_below(row, i, false, t) || magnitude_below(row, i, true, t);
  }

  // |double(u R)| < t (y: |double(y)| < t) for the exact path's value.
  bool magnitude_below(RowRef& row, std::int64_t i, bool of_y, double t) const {
    if (const ref::NormRowResult* want = row.exact_result()) {
      const ref::Exact& v = of_y ? want->y_exact[static_cast<std::size_t>(i)]
                                 : want->scaled_times_r[static_cast<std::size_t>(i)];
      return std::fabs(v.convert_to<double>()) < t;
    }
    bool below;
    if (ref::decide_magnitude_below(of_y ? row.y_enclosure(i) : row.ur_enclosure(i), t, &below)) {
      return below;
    }
    count(counters().exact_thresholds);
    const ref::Exact v = of_y ? row.y_exact(i) : row.scaled_times_r(i);
    return std::fabs(v.convert_to<double>()) < t;
  }

  Case c_;
  const OpSpec& op_;
  std::int64_t hidden_;
  ref::NormProfile profile_;
  ref::NormStructure structure_;
  ref::Format format_;
  NormReferencePath path_;
  NormKernelBound kernel_;
  std::vector<NormRowData> data_;
  // Exact values are computed on demand during compare(), which is const to its callers.
  mutable std::vector<std::unique_ptr<RowRef>> rows_;
  mutable std::vector<Regime> regimes_;
  mutable std::map<
      std::tuple<std::int64_t, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t>, double>
      errors_;
  bool special_ = false;
};

}  // namespace

NormComparisonCounts norm_comparison_counts() {
  const Counters& c = counters();
  NormComparisonCounts n;
  n.elements = c.elements.load();
  n.exact_rows = c.exact_rows.load();
  n.row_exact = c.row_exact.load();
  n.exact_errors = c.exact_errors.load();
  n.exact_intervals = c.exact_intervals.load();
  n.exact_compares = c.exact_compares.load();
  n.exact_signs = c.exact_signs.load();
  n.exact_thresholds = c.exact_thresholds.load();
  return n;
}

std::unique_ptr<Expectation> norm_expectation(const Case& c, const CaseBuffers& before,
                                              NormReferencePath path) {
  return std::make_unique<NormExpectation>(c, before, path);
}

}  // namespace kc::props

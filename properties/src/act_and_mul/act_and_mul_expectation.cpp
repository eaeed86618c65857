// The act_and_mul family's expectations: every output element against the exact profile
// (reference/include/kc/ref/act_and_mul.h) and the subject's bound; elements whose value IEEE
// rules fix (a NaN or infinite gate or up, an overflowing product) by the exact rules; the bound
// rules of fast-math peers (act_and_mul_family.h).
//
// The bound of kconform's kernels (BoundSpec::kDerivedByFamily), from their arithmetic
// (kernels/src/act_and_mul/act_and_mul_row.h; u = 2^-24, p the format's precision):
//  - act(g) is computed as a float-float with relative error below 2^-28 (accurate path), or in
//    fp32 and used only when its measured error window decides the 16-bit rounding (fast path).
//  - torch, fp16/bf16: a = rn(act(g)) is the correct rounding for every 16-bit gate (asserted
//    exhaustively by kernels/tests/act_and_mul and properties/tests/act_and_mul), and a u is
//    exact in fp32 (two 16-bit significands) or rounded once from the exact value: y is the
//    profile's bits. Bound 0.5 ulp.
//  - single, fp16/bf16: y = rn(P) with P the float-float product of act(g) and u, |P - act u| <=
//    (2^-28 + 2^-44) |act u|, so |y - v| <= ulp(v)/2 + 2 |P - v| <= (0.5 + 2^(p - 27)) ulp(v)
//    (|v| < 2^p ulp(v)): 0.5 + 2^-19 (bf16), 0.5 + 2^-16 (fp16). Bound 0.50002.
//  - single, fp32: the same with p = 24: 0.5 + 2^-3 = 0.625.
//  - torch, fp32: a = the fp32 rounding of a float-float within 2^-28 of act, so a is rn32(act)
//    or its neighbour when act lies within 2^-28 relative of an fp32 midpoint: |a - rn32(act)| <=
//    ulp(rn32(act)) <= 2^-23 |rn32(act)|; y = rn32(a u), v = rn32(act) u exactly, so |y - v| <=
//    ulp(v)/2 + 2^-23 |v| (1 + 2^-24) <= (0.5 + 2^-23 2^24 (1 + 2^-24)) ulp(v) = 2.5 ulp (plus
//    2^-23, taken as 2.5001).
#include <cmath>
#include <cstdlib>
#include <memory>

#include "act_and_mul_family.h"
#include "kc/props/evidence.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"
#include "kc/ref/certified.h"

namespace kc::props {
namespace {

namespace mp = boost::multiprecision;
using ref::Exact;

double kernel_bound_ulps(ref::ActRounding r, DType d) {
  if (r == ref::ActRounding::kTorch) return d == DType::kFp32 ? 2.5001 : 0.5;
  return d == DType::kFp32 ? 0.625 : 0.50002;
}

class ActExpectation : public Expectation {
 public:
  ActExpectation(const Case& c, const CaseBuffers& before)
      : c_(c), profile_(act_profile(c)), format_(format_of(c.dtype)), d_(act_d(c)) {
    const HostTensor& in = before.tensor(ActAndMulTensors::kInput);
    rows_.resize(static_cast<std::size_t>(c.num_tokens));
    results_.reserve(rows_.size());
    for (std::int64_t r = 0; r < c.num_tokens; ++r) {
      rows_[static_cast<std::size_t>(r)] = row_values(c, in, r);
      const std::vector<float>& x = rows_[static_cast<std::size_t>(r)];
      ref::ActRowInput ri;
      ri.format = format_;
      ri.d = d_;
      ri.gate = x.data();
      ri.up = x.data() + d_;
      results_.push_back(ref::evaluate(profile_, ri));
      for (std::int64_t j = 0; j < d_ && !special_; ++j) special_ = special_element(r, j);
    }
  }

  bool has_special() const override { return special_; }

  void compare(const Subject& s, const CaseBuffers& after, Mode mode, Verdict* v) const override {
    const BoundSpec spec = s.bound_for(c_.dtype);
    bool tail_rule = false;
    double absolute = 0;  // 2^-N of the absolute rule, 0 when not named
    for (const std::string& rule : spec.rules) {
      if (rule == kActTailRule) {
        tail_rule = true;
      } else if (rule.rfind(kActAbsoluteRulePrefix, 0) == 0) {
        const std::string n = rule.substr(std::string(kActAbsoluteRulePrefix).size());
        char* end = nullptr;
        const long k = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || k < 1 || k > 60) {
          v->kind = Verdict::Kind::kFail;
          v->message = "the subject's bound names rule '" + rule + "': N must be in [1, 60]";
          return;
        }
        absolute = std::ldexp(1.0, static_cast<int>(-k));
      } else {
        v->kind = Verdict::Kind::kFail;
        v->message = "the subject's bound names rule '" + rule +
                     "', which the act_and_mul family does not define (it knows: " + kActTailRule +
                     ", " + kActAbsoluteRulePrefix + "N)";
        return;
      }
    }
    const double ulps = spec.kind == BoundSpec::Kind::kUlps
                            ? spec.ulps
                            : kernel_bound_ulps(profile_.rounding, c_.dtype);
    const HostTensor& y = after.tensor(ActAndMulTensors::kOutput);
    Evidence ev(v, format_, c_.profile);
    for (std::int64_t r = 0; r < c_.num_tokens; ++r) {
      const ref::ActRowResult& want = results_[static_cast<std::size_t>(r)];
      const std::vector<float>& x = rows_[static_cast<std::size_t>(r)];
      ++v->stats.rows;
      for (std::int64_t j = 0; j < d_; ++j) {
        const auto k = static_cast<std::size_t>(j);
        const std::uint32_t got = y.get(r, j);
        const std::uint32_t exp = want.y_bits[k];
        const Exact& exact = want.y_exact[k];
        if (special_element(r, j)) {
          ++v->stats.special_elements;
          // An activation the formula may lose to zero (the tail rule's flush or overflow, or
          // the absolute rule's cancellation) times an infinite up is 0 * inf = NaN where the
          // exact profile gives an infinity.
          const float g = x[k];
          if (mode == Mode::kSpecial && ref::is_nan(format_, got) &&
              std::isinf(x[k + static_cast<std::size_t>(d_)]) && std::isfinite(g) &&
              ((tail_rule && lost_activation(g, want.act_exact[k])) ||
               cancelled_activation(g, want.act_exact[k], absolute))) {
            ++v->stats.flushed_elements;
            continue;
          }
          if (mode == Mode::kSpecial && !matches_exactly(exp, got)) {
            ev.note("output", r, j, exact, exp, got, 0, "exactly (IEEE special-value rule)", true);
          }
          continue;
        }
        if (mode == Mode::kSpecial) continue;
        const float g = x[k];
        const float u = x[k + static_cast<std::size_t>(d_)];
        if (tail_rule && got != exp && tail_admits(g, want.act_exact[k], exact, got)) {
          ++v->stats.flushed_elements;
          continue;
        }
        bool ok = ref::ulp_error_within(format_, got, exact, ulps);
        std::string admissible = "<= " + std::to_string(ulps) + " ulp";
        if (!ok && absolute > 0) {
          // |y - v| <= ulps ulp(v) + 2^-N |g u|, decided in Exact.
          const Exact yv = ref::decode(format_, got);
          const Exact lim = Exact(ulps) * ref::ulp(format_, exact) +
                            Exact(absolute) * mp::abs(Exact(g) * Exact(u));
          ok = !ref::is_nan(format_, got) && mp::abs(yv - exact) <= lim;
          admissible += " + 2^-N |g u|";
        }
        const double err = ref::ulp_error(format_, got, exact);
        v->stats.add(err, got == exp);
        ev.note("output", r, j, exact, exp, got, ulps, admissible, !ok, err);
      }
    }
  }

 private:
  // Elements the IEEE rules decide exactly: a non-finite gate or up, or an exact value that is
  // not finite (an overflowing product, 0 * inf).
  bool special_element(std::int64_t r, std::int64_t j) const {
    const std::vector<float>& x = rows_[static_cast<std::size_t>(r)];
    const float g = x[static_cast<std::size_t>(j)];
    const float u = x[static_cast<std::size_t>(j + d_)];
    if (!std::isfinite(g) || !std::isfinite(u)) return true;
    const ref::ActRowResult& w = results_[static_cast<std::size_t>(r)];
    return !mp::isfinite(w.y_exact[static_cast<std::size_t>(j)]) ||
           ref::is_inf(format_, w.y_bits[static_cast<std::size_t>(j)]);
  }

  bool matches_exactly(std::uint32_t expected, std::uint32_t observed) const {
    if (ref::is_nan(format_, expected)) return ref::is_nan(format_, observed);
    return expected == observed;
  }

  // Whether the tail rule lets the formula lose act(g) itself: act(g) below fp32's normal range
  // (2^-126, with a 2^-20 margin: flushed under -ftz), or silu's 1 + e^-g overflowing fp32
  // (g < -88.72).
  bool lost_activation(float g, const Exact& act) const {
    const bool tiny = mp::abs(act) < Exact(0x1p-126 * (1 + 0x1p-20));
    const bool overflow = profile_.function == ref::ActFunction::kSilu && g < -88.72f;
    return tiny || overflow;
  }

  // Whether the absolute rule lets the formula's fp32 activation be zero. 2^-N bounds twice
  // the formula's absolute error coefficient alpha (the final rounding doubles it:
  // flashinfer_act_bound.h), and the fp32 activation a satisfies |a - act| <= theta |act| +
  // alpha |g| with theta < 2^-20, so a = 0 is possible only where |act| (1 - theta) <= alpha |g|
  // <= 2^-(N+1) |g|: |act| <= 2^-(N+1) |g| (1 + 2^-19). Where 1 + erf(.) or 1 + tanh(.) rounds
  // to zero (gelu below about -5.5, gelu_tanh below about -9) |act| is far below that.
  static bool cancelled_activation(float g, const Exact& act, double absolute) {
    if (absolute <= 0) return false;
    return mp::abs(act) <= Exact(absolute / 2 * (1 + 0x1p-19)) * mp::abs(Exact(g));
  }

  // The tail rule: a zero of the exact value's sign where the formula lost act(g), or where the
  // exact product act(g) u lies below 2^-126 (with the same margin), which an fp32 product
  // flushes to zero under -ftz even when act(g) is normal.
  bool tail_admits(float g, const Exact& act, const Exact& value, std::uint32_t got) const {
    if (!ref::is_zero(format_, got)) return false;
    const bool negative = value < 0 || (value == 0 && mp::signbit(value));
    if (ref::sign_bit(format_, got) != negative) return false;
    return lost_activation(g, act) || mp::abs(value) < Exact(0x1p-126 * (1 + 0x1p-20));
  }

  Case c_;
  ref::ActProfile profile_;
  ref::Format format_;
  std::int64_t d_;
  std::vector<std::vector<float>> rows_;
  std::vector<ref::ActRowResult> results_;
  bool special_ = false;
};

}  // namespace

std::unique_ptr<Expectation> act_expectation(const Case& c, const CaseBuffers& before) {
  return std::make_unique<ActExpectation>(c, before);
}

}  // namespace kc::props

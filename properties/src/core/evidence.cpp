// Recording judged elements (evidence.h).
#include "kc/props/evidence.h"

#include <cmath>

namespace kc::props {

void Evidence::note(const char* tensor, std::int64_t row, std::int64_t col, const ref::Exact& exact,
                    std::uint32_t expected, std::uint32_t got, double bound,
                    const std::string& admissible, bool failed, double err) {
  if (err < 0) err = ref::ulp_error(f_, got, exact);
  const double key = std::isnan(err) ? 1e308 : err;
  auto fill = [&] {
    ElementReport& w = v_->worst;
    w.tensor = tensor;
    w.row = row;
    w.col = col;
    w.expected_exact = ref::to_decimal(exact, 30);
    w.expected_rounded = ref::describe_bits(f_, expected);
    w.observed = ref::describe_bits(f_, got);
    w.admissible = admissible;
    w.ulp_error = err;
    w.bound = bound;
  };
  if (failed) {
    if (v_->kind != Verdict::Kind::kFail || key > worst_fail_) {
      worst_fail_ = key;
      v_->kind = Verdict::Kind::kFail;
      v_->message = std::string(tensor) + " outside the subject's bound of " + profile_;
      fill();
    }
  } else if (v_->kind != Verdict::Kind::kFail && key > worst_pass_) {
    worst_pass_ = key;
    fill();
  }
}

}  // namespace kc::props

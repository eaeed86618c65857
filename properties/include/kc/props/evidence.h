// Recording the elements a family's comparison judges into a Verdict: the worst failing element
// (or, while nothing fails, the worst passing one) with its exact value, expected and observed
// bits, ULP error and the bound there. Shared by every family's expectation.
#pragma once

#include <cstdint>
#include <string>

#include "kc/props/property.h"
#include "kc/ref/exact.h"
#include "kc/ref/format.h"

namespace kc::props {

class Evidence {
 public:
  // `profile` names what the elements are judged against (the failure message says so).
  Evidence(Verdict* v, const ref::Format& f, std::string profile)
      : v_(v), f_(f), profile_(std::move(profile)) {}

  // One judged element. A failure replaces a smaller failure; a pass replaces a smaller pass only
  // while nothing has failed. err < 0: computed here from the exact value.
  void note(const char* tensor, std::int64_t row, std::int64_t col, const ref::Exact& exact,
            std::uint32_t expected, std::uint32_t got, double bound, const std::string& admissible,
            bool failed, double err = -1);

 private:
  Verdict* v_;
  ref::Format f_;
  std::string profile_;
  double worst_fail_ = -1;
  double worst_pass_ = -1;
};

}  // namespace kc::props

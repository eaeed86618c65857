// What the host and the GPU calibration mutants (rmsnorm_mutants.cpp, rmsnorm_mutants_gpu.cu)
// share as subjects: the op of their profile, the bound they claim, and the support check, which
// for Defect::kCheckAcceptsTooLarge accepts hidden sizes up to twice the maximum.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "kc/props/mutants.h"
#include "kc/props/rmsnorm_family.h"

namespace kc::props {

class NormMutantSubject : public Subject {
 public:
  NormMutantSubject(Defect d, std::string profile) : d_(d), profile_(std::move(profile)) {}
  std::string op() const override {
    return profile_.rfind("fused_add_rmsnorm", 0) == 0 ? "fused_add_rmsnorm" : "rmsnorm";
  }
  std::string profile() const override { return profile_; }
  BoundSpec bound() const override {
    BoundSpec b;
    b.derivation = "claims kconform's kernel bound (NormKernelBound)";
    return b;
  }
  Status check(const Case& c) const override {
    if (d_ == Defect::kCheckAcceptsTooLarge && c.hidden > kMaxHidden &&
        c.hidden <= 2 * kMaxHidden) {
      Case smaller = c;
      smaller.hidden = kMaxHidden;
      for (TensorLayout& t : smaller.tensors) t.row_stride = std::max(t.row_stride, smaller.hidden);
      return check(smaller);  // "supported" as far as this check can tell
    }
    const std::vector<void*> p = placeholder_pointers(c);
    return op() == "rmsnorm" ? rmsnorm_check(rmsnorm_args(c, p))
                             : fused_add_rmsnorm_check(fused_add_rmsnorm_args(c, p));
  }

 protected:
  Defect d_;
  std::string profile_;
};

}  // namespace kc::props

// What the host and the GPU calibration mutants (rmsnorm_mutants.cpp, rmsnorm_mutants_gpu.cu)
// share as subjects: the op of their profile, the bound they claim, and the support check, which
// for Defect::kCheckAcceptsTooLarge accepts hidden sizes up to twice the maximum.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"
#include "rmsnorm_mutants.h"

namespace kc::props {

class NormMutantSubject : public Subject {
 public:
  NormMutantSubject(Defect d, std::string profile) : d_(d), profile_(std::move(profile)) {}
  std::string op() const override {
    const OpSpec* op = nullptr;
    return find_profile(profile_, nullptr, &op) ? op->name : "";
  }
  std::string profile() const override { return profile_; }
  // The reduction-order defect from 3000 tokens is held to fp32 (its bits change with the order
  // for every row of random values; 16-bit outputs round most of such changes away).
  std::vector<DType> dtypes() const override {
    if (d_ == Defect::kBatchDependentLanesFrom3000) return {DType::kFp32};
    return Subject::dtypes();
  }
  BoundSpec bound() const override {
    BoundSpec b;
    b.kind = BoundSpec::Kind::kDerivedByFamily;
    b.derivation = "claims kconform's kernel bound (NormKernelBound)";
    return b;
  }
  Calibration calibration() const override { return defect_calibration(d_); }
  Status check(const Case& c) const override {
    const std::int64_t hidden = norm_hidden(c);
    if (d_ == Defect::kCheckAcceptsTooLarge && hidden > kMaxHidden && hidden <= 2 * kMaxHidden) {
      Case smaller = c;
      set_norm_hidden(smaller, kMaxHidden);
      for (TensorLayout& t : smaller.tensors) t.row_stride = std::max(t.row_stride, kMaxHidden);
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

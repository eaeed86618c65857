// The act_and_mul family's calibration mutants (DESIGN.md section 7, property 9): kconform's own
// act_and_mul twin or kernel wrong in one realistic way each, registered with the property that
// must catch it and the derived case limit (act_defect_calibration); and the controls, the same
// code without a defect, one per profile, which must pass everything. The calibration test
// (properties/tests/core/calibration_test.cpp) holds every registered mutant of every family to
// its limit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kc/props/subject.h"

namespace kc::props {

enum class ActDefect : std::uint8_t {
  kNone,                 // the control: must pass everything
  kTorchAsSingle,        // rn(rn(act) u) (PyTorch, HF, vLLM) while claiming single rn(act u)
  kSingleAsTorch,        // rn(act u) (FlashInfer, sgl-kernel) while claiming torch
  kFastExp,              // silu as g / (1 + e^-g) with an __expf-like exp (ex2 of rn32(x log2 e))
  kTanhFormAsErf,        // the tanh-form GELU while claiming the erf GELU
  kTailCancellation,     // GELU as 0.5 g (1 + erf(g / sqrt 2)) in fp32 (the engines' formula:
                         // cancels to -0 from g ~ -5.5) while claiming kconform's bound
  kMissingTail,          // the last d % 8 outputs of each row never written (vector path only)
  kOutputStrideIgnored,  // uses d as the output row stride
  kGateUpSwapped,        // act(up) * gate: the halves of the input row read the other way round
  kFtzGates,             // fp32-subnormal gates flushed to zero (a -ftz / fast-math build)
  kCheckAcceptsZeroD,    // the check's divisibility test lets d == 0 through; the run rejects it
  kZeroBlockLaunch,      // GPU: num_tokens == 0 launches a grid of zero blocks (a CUDA error)
};

const char* act_defect_name(ActDefect d);
// The property that must catch a defect and within how many cases (derived: see the .cpp).
Calibration act_defect_calibration(ActDefect d);
// The profile each mutant claims (the defect is relative to it).
std::string act_defect_profile(ActDefect d);

inline constexpr ActDefect kActHostDefects[] = {
    ActDefect::kTorchAsSingle,       ActDefect::kSingleAsTorch,    ActDefect::kFastExp,
    ActDefect::kTanhFormAsErf,       ActDefect::kTailCancellation, ActDefect::kMissingTail,
    ActDefect::kOutputStrideIgnored, ActDefect::kGateUpSwapped,    ActDefect::kFtzGates,
    ActDefect::kCheckAcceptsZeroD};
// GPU mutants: the real CUDA kernel launched wrongly (act_and_mul_mutants_gpu.cu, which
// registers them as "mutant.gpu.act.<defect>").
inline constexpr ActDefect kActGpuDefects[] = {ActDefect::kZeroBlockLaunch, ActDefect::kMissingTail,
                                               ActDefect::kOutputStrideIgnored,
                                               ActDefect::kCheckAcceptsZeroD};

// What host and GPU mutants share: the claimed profile and bound, the calibration, the check.
class ActMutantSubject : public Subject {
 public:
  explicit ActMutantSubject(ActDefect d, std::string profile)
      : d_(d), profile_(std::move(profile)) {}
  std::string op() const override { return "act_and_mul"; }
  std::string profile() const override { return profile_; }
  BoundSpec bound() const override;
  Calibration calibration() const override { return act_defect_calibration(d_); }
  std::string defect() const override { return d_ == ActDefect::kNone ? "" : act_defect_name(d_); }
  bool control() const override { return d_ == ActDefect::kNone; }
  Status check(const Case& c) const override;

 protected:
  ActDefect d_;
  std::string profile_;
};

}  // namespace kc::props

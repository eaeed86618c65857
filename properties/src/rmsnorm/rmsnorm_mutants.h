// The norm family's calibration mutants: small subjects that are kconform's own norm kernel
// wrong in one realistic way (DESIGN.md section 7, property 9), each registered with the
// property that must catch it and the derived case limit (defect_calibration); and the controls,
// the same code without a defect, one per profile, which must pass everything. The calibration
// test (properties/tests/core/calibration_test.cpp) holds every registered mutant of every family
// to its limit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kc/props/subject.h"

namespace kc::props {

enum class Defect : std::uint8_t {
  kNone,                  // the control: must pass everything
  kFp16Accumulation,      // lane sums of squares rounded to fp16 at every step
  kEpsOutsideSqrt,        // r = 1 / (sqrt(mean) + eps)
  kLegacyMixedAsFp32Sum,  // variance of the fp32 sum, scale of the rounded sum (FlashInfer < 587)
  kRoundedSumAsFp32Sum,   // normalises rn(x + r) while claiming the fp32 sum
  kSingleRoundingAsHf,    // rn(x r w) while claiming HF's rn(w rn(x r))
  kMissingTail,           // the last hidden % 8 elements of each output row never written
  kRowStrideIgnored,      // uses hidden as every row stride
  kBatchDependentLanes,   // half the lanes (another reduction order) from 256 tokens on
  kNoopAtHidden256,       // returns success without doing anything when hidden == 256
  kCheckAcceptsTooLarge,  // the check accepts hidden up to 2 kMaxHidden, the run cannot
  kOutOfBoundsWrite,      // writes one element past the end of every output row
  kLastElementAbove8000,  // the last element of each row negated, only when hidden > 8000
  // Threshold classes of the generators' coverage (README, "Coverage"):
  kRowsPast4096Unwritten,        // a grid capped at 4096 rows: rows from 4096 on never written
  kBatchDependentLanesFrom3000,  // half the lanes from 3000 tokens on (a launch heuristic)
  kNoopAboveHidden32768,         // returns success without doing anything when hidden > 32768
};

const char* defect_name(Defect d);
// The property that must catch a defect and within how many cases (derived: see the .cpp).
Calibration defect_calibration(Defect d);
// The profile each mutant claims (the defect is relative to it).
std::string defect_profile(Defect d);
inline constexpr Defect kAllDefects[] = {
    Defect::kFp16Accumulation,      Defect::kEpsOutsideSqrt,
    Defect::kLegacyMixedAsFp32Sum,  Defect::kRoundedSumAsFp32Sum,
    Defect::kSingleRoundingAsHf,    Defect::kMissingTail,
    Defect::kRowStrideIgnored,      Defect::kBatchDependentLanes,
    Defect::kNoopAtHidden256,       Defect::kCheckAcceptsTooLarge,
    Defect::kOutOfBoundsWrite,      Defect::kLastElementAbove8000,
    Defect::kRowsPast4096Unwritten, Defect::kBatchDependentLanesFrom3000,
    Defect::kNoopAboveHidden32768};

// A host mutant (registered as "mutant.<defect>").
std::unique_ptr<Subject> make_host_mutant(Defect d);
// The same code without a defect, claiming `profile` (registered as "control.<profile>" for
// every profile a kernel of ours implements; the calibration test runs them to show that
// catching a mutant is the defect's doing, not the harness's).
std::unique_ptr<Subject> make_control(const std::string& profile);
// GPU mutants (registered as "mutant.gpu.<defect>"): the defects that concern memory, launch
// shape and support, built around the real kernels.
inline constexpr Defect kGpuDefects[] = {
    Defect::kMissingTail,           Defect::kRowStrideIgnored,
    Defect::kBatchDependentLanes,   Defect::kNoopAtHidden256,
    Defect::kCheckAcceptsTooLarge,  Defect::kOutOfBoundsWrite,
    Defect::kRowsPast4096Unwritten, Defect::kBatchDependentLanesFrom3000,
    Defect::kNoopAboveHidden32768};

}  // namespace kc::props

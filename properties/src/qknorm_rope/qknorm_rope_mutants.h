// The qknorm_rope family's calibration mutants (DESIGN.md section 7, property 9; issue 16 item
// 8): kconform's qknorm_rope twin wrong in one realistic way each (the ways the engines differ
// from the exact profile, and the bugs they shipped), registered with the property that must
// catch it and the derived case limit (qk_defect_calibration); and the control, the same code
// without a defect, which must pass everything. The calibration test
// (properties/tests/core/calibration_test.cpp) holds every registered mutant to its limit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kc/props/subject.h"

namespace kc::props {

enum class QkDefect : std::uint8_t {
  kNone,                   // the control: must pass everything
  kSincosfReduction,       // __sincosf-style: theta = rn32(rn32(p) rn32(f)), turn =
                           // RZ32(theta * 0x3E22F983) (the rounded 1/2pi), sin/cos of that turn
  kPowfFrequency,          // __powf-style: f = 2^rn32(rn32(log2 b) rn32(-2j/rd)) (the rest exact)
  kBf16CosSin,             // cos and sin rounded to bf16 (a model-dtype cache) claiming exact
  kNormRoundedFirst,       // the normed head rounded to the storage format before the rotation
  kPairingSwapped,         // NeoX and interleaved swapped
  kRotaryDimIgnored,       // every element rotated (rotary_dim taken as head_dim; ROCm #43676)
  kPassthroughScaled,      // pass-through elements multiplied by the attention factor
  kKWithQWeight,           // k heads normalised with q's weight
  kPositionsThroughFp32,   // positions converted through fp32 (wrong above 2^24)
  kCheckAcceptsOddRotary,  // the check lets an odd rotary_dim through; the run rejects it
};

const char* qk_defect_name(QkDefect d);
// The property that must catch a defect and within how many cases (derived: see the .cpp).
Calibration qk_defect_calibration(QkDefect d);

inline constexpr QkDefect kQkHostDefects[] = {
    QkDefect::kSincosfReduction,     QkDefect::kPowfFrequency,  QkDefect::kBf16CosSin,
    QkDefect::kNormRoundedFirst,     QkDefect::kPairingSwapped, QkDefect::kRotaryDimIgnored,
    QkDefect::kPassthroughScaled,    QkDefect::kKWithQWeight,   QkDefect::kPositionsThroughFp32,
    QkDefect::kCheckAcceptsOddRotary};

}  // namespace kc::props

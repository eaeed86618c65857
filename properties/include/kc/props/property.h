// The properties of DESIGN.md section 7, generic over op families and subjects: each runs one
// case and gives a verdict. They see tensors, roles, rows and the family's expectation, never a
// family parameter. The RapidCheck driver that runs many cases is check.h.
#pragma once

#include <cstdint>
#include <string>

#include "kc/props/case.h"
#include "kc/props/subject.h"
#include "kc/results/precision.h"

namespace kc::props {

using results::PrecisionStats;

enum class PropertyId : std::uint8_t {
  kBoundedError,     // every output within the subject's bound of its claimed profile
  kTwinBitwise,      // GPU output == twin output, every byte of every arena
  kBatchInvariant,   // a row's bits do not change with num_tokens, position or neighbours
  kDeterministic,    // two runs give identical bits; a captured CUDA graph gives the same
  kLayoutInvariant,  // padded strides, base offsets, in place vs out of place: same bits
  kSupportAgrees,    // check and run agree; supported: all written; rejected: nothing touched
  kEmptyBatch,       // num_tokens == 0 succeeds, launches nothing, touches nothing
  kSpecialValues,    // NaN / inf / overflow rows follow the profile's IEEE rules exactly
  kCount
};
inline constexpr int kPropertyCount = static_cast<int>(PropertyId::kCount);

const char* property_name(PropertyId p);
bool property_from_name(const std::string& name, PropertyId* out);
// Whether a property applies to a subject at all (promises, backend, twin); *why when not.
bool property_applies(PropertyId p, const Subject& s, std::string* why);
// The properties that compare with a profile (the reference is evaluated).
inline bool reference_property(PropertyId p) {
  return p == PropertyId::kBoundedError || p == PropertyId::kSpecialValues;
}

// The evidence of a failing element, printed like a test framework would and saved in repros.
struct ElementReport {
  std::string tensor;
  std::int64_t row = -1;
  std::int64_t col = -1;
  std::string expected_exact;    // decimal, 30 digits
  std::string expected_rounded;  // "0x3e27 (0.16309)"
  std::string observed;
  std::string admissible;  // "[lo, hi]" of the bound, or "<= 0.5 ulp"
  double ulp_error = 0;
  double bound = 0;  // the largest ULP error the bound admits there
};

struct Verdict {
  enum class Kind : std::uint8_t { kPass, kFail, kNotApplicable } kind = Kind::kPass;
  std::string message;  // why it failed, or why it did not apply
  ElementReport worst;  // the failing (or worst passing) element, when there is one
  PrecisionStats stats;
  bool failed() const { return kind == Kind::kFail; }
};

// One case. Never throws; a subject's crash is the subject's. `judged` names the profile the
// reference properties compare with; empty: the subject's claimed profile (classification
// judges a subject against every profile of its op).
Verdict run_property(PropertyId p, const Subject& s, const Case& c, const std::string& judged = "");

// One line per failure, the way a test framework prints it (used by CLI, ctest, repro replay).
std::string describe_failure(const Subject& s, PropertyId p, const Case& c, const Verdict& v);

}  // namespace kc::props

// The properties of DESIGN.md section 7, generic over ops and subjects, and the RapidCheck driver
// that runs one (subject, property) pair with a budget, shrinks a failure under a wall-clock cap
// and writes the shrunk case as a replayable JSON repro.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/case.h"
#include "kc/props/subject.h"

namespace kc::props {

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

// ULP-error statistics of compared elements (bounded_error), mergeable across cases.
struct PrecisionStats {
  // Bins: 1/64 ULP wide up to 8 ULPs, then one per power of two up to 2^24, then the rest.
  static constexpr int kLinearBins = 512;
  static constexpr int kBins = kLinearBins + 22;
  std::int64_t elements = 0;
  std::int64_t exact = 0;             // equal to the profile's correct rounding
  std::int64_t special_elements = 0;  // checked by the exact IEEE rules instead
  std::int64_t flushed_elements = 0;  // zeros admitted by a flush-to-zero bound (BoundSpec)
  std::int64_t rows = 0;
  std::int64_t out_of_range_rows = 0;
  double max_ulp = 0;
  std::array<std::int64_t, kBins> hist{};

  void add(double ulp, bool is_exact);
  void merge(const PrecisionStats& o);
  // Upper edge of the histogram bin holding the q-quantile (0 when empty).
  double quantile(double q) const;
};

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

// One case. Never throws; a subject's crash is the subject's.
Verdict run_property(PropertyId p, const Subject& s, const Case& c);

// Per-op reference expectations (the norm family implements them in rmsnorm_family.cpp).
class Expectation {
 public:
  virtual ~Expectation() = default;
  // kBounded: in-range rows within the subject's bound; kSpecial: rows whose outputs IEEE rules
  // fix exactly (NaN, infinities, zero or infinite R) must match the profile's bits.
  enum class Mode : std::uint8_t { kBounded, kSpecial };
  virtual void compare(const Subject& s, const CaseBuffers& after, Mode mode, Verdict* v) const = 0;
  // Whether the case holds any row or element the special-value rules decide.
  virtual bool has_special() const = 0;
};
class Family {
 public:
  virtual ~Family() = default;
  virtual bool handles(const std::string& op) const = 0;
  // Expected results, from the inputs as they are before a run.
  virtual std::unique_ptr<Expectation> expect(const Case& c, const CaseBuffers& before) const = 0;
  // Copies logical input row `from` of `src` into row `to` of `dst` (every input tensor with rows).
  virtual void copy_input_row(const Case& c, const CaseBuffers& src, std::int64_t from,
                              CaseBuffers& dst, std::int64_t to) const = 0;
};
const Family* family_for(const std::string& op);
void register_family(const Family* f);

// Case counts and sizes of a (subject, property) run.
struct Budget {
  int cases = 100;
  int max_size = 100;
  double shrink_seconds = 30;
  std::int64_t max_elements = std::int64_t{1} << 16;
};
// The budget of a property at a level: "quick" (default ctest) or "soak".
Budget budget_for(PropertyId p, const Subject& s, const std::string& level);

struct CheckConfig {
  Budget budget;
  std::uint64_t seed = 0;  // 0: a fresh seed (printed)
  std::string repro_dir = ".";
  bool verbose = false;  // print the case distribution (RC_TAG / RC_CLASSIFY)
  bool write_repro = true;
};

struct CheckResult {
  bool passed = true;
  int cases = 0;           // cases run (before any failure)
  int not_applicable = 0;  // of which the property did not apply (counted, never dropped)
  double seconds = 0;
  double shrink_seconds = 0;
  std::uint64_t seed = 0;
  std::optional<Case> counterexample;  // shrunk
  Verdict failure;                     // of the shrunk case
  std::string repro_path;
  PrecisionStats stats;  // over the passing cases
  // The same per (dtype, hidden bucket), keyed "bf16 hidden<=1024" (reports break them out).
  std::vector<std::pair<std::string, PrecisionStats>> buckets;
  std::vector<std::pair<std::string, int>> distribution;  // tag line -> count
};

CheckResult check_property(PropertyId p, const Subject& s, const CheckConfig& cfg);

// One line per failure, the way a test framework prints it (used by CLI, ctest, repro replay).
std::string describe_failure(const Subject& s, PropertyId p, const Case& c, const Verdict& v);

}  // namespace kc::props

// The RapidCheck driver: runs one (subject, property) pair over generated cases with a budget,
// shrinks a failure under a wall-clock cap and writes the shrunk case as a replayable repro.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kc/props/case.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"
#include "kc/results/result_set.h"

namespace kc::props {

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
  std::uint64_t seed = 0;     // 0: a fresh seed (printed)
  std::vector<DType> dtypes;  // only cases of these dtypes (empty: every dtype of the subject)
  std::string judged;         // compare with this profile instead of the claimed one
  std::string repro_dir = ".";
  bool verbose = false;  // record the case distribution (RC_TAG / RC_CLASSIFY)
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
  // The same per (dtype, the family's precision bucket), keyed "bf16 hidden<=1024".
  std::vector<std::pair<std::string, PrecisionStats>> buckets;
  std::vector<std::pair<std::string, int>> distribution;  // tag line -> count
};

CheckResult check_property(PropertyId p, const Subject& s, const CheckConfig& cfg);

// The result of a pair as a record of the results schema (kc::results).
results::PairRecord pair_record(const Subject& s, PropertyId p, const CheckResult& r);

}  // namespace kc::props

// The RapidCheck driver: runs one (subject, property) pair over generated cases with a budget,
// shrinks a failure under a wall-clock cap and writes the shrunk case as a replayable repro.
//
// Isolation (the command line's default): the pair runs in a forked child process, so that a
// subject that crashes (a wild write faults in the guard zones around its arenas, buffers.h),
// hangs, calls exit, or loses the CUDA context (a sticky error such as an illegal address) fails
// its pair instead of ending the run. The child announces every case before running it (in
// memory shared with the parent); when the child dies, the parent knows the case, replays the
// pair's RapidCheck search from that case with every case and shrink candidate in a fresh child
// (so the crash shrinks where it reproduces), and writes the result as a repro like any failure.
// The parent never runs subject code and never initialises CUDA (device.h, gpu_available).
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

// Where check_property runs the subject's code.
enum class Isolation : std::uint8_t {
  kInProcess,     // in this process (tests, debuggers): a crashing subject takes it down
  kChildProcess,  // in forked children (above): a crash, a hang or a lost CUDA context fails the
                  // pair; needs a process that has not initialised CUDA (else runs in process)
};

struct CheckConfig {
  Budget budget;
  std::uint64_t seed = 0;     // 0: a fresh seed (printed)
  std::vector<DType> dtypes;  // only cases of these dtypes (empty: every dtype of the subject)
  std::string judged;         // compare with this profile instead of the claimed one
  std::string repro_dir = ".";
  bool verbose = false;  // record the case distribution (RC_TAG / RC_CLASSIFY)
  bool write_repro = true;
  Isolation isolation = Isolation::kInProcess;
  // Isolated runs: a case (or shrink candidate) still running after this many seconds is a hang;
  // the child is killed and the pair fails with that case.
  double case_seconds = 60;
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
  // Isolated runs: how the child running the pair ended when it did not finish ("" when it did):
  // "crashed: SIGSEGV ...", "hung: ...", "lost the CUDA context: ...", "exited ...".
  std::string crash;
};

CheckResult check_property(PropertyId p, const Subject& s, const CheckConfig& cfg);

// One case of a property in a fresh child process (replay): the case's verdict, or a failure
// saying how the child ended (crashed, hung past case_seconds, exited without a verdict).
Verdict run_property_isolated(PropertyId p, const Subject& s, const Case& c,
                              const std::string& judged, double case_seconds);

// The result of a pair as a record of the results schema (kc::results).
results::PairRecord pair_record(const Subject& s, PropertyId p, const CheckResult& r);

}  // namespace kc::props

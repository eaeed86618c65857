// The report generator (kconform_report; `kconform report` runs it): a report directory with
// env.json, precision.json, perf.json and summary.md (tables, gnuplot plots, the families'
// performance targets met or missed, and with a baseline every regression beyond noise marked
// REGRESSION), built from the JSON of check, fuzz and bench through the results schema
// (kc::results) alone: the report never includes the harness. Axes, profiles and targets come
// from the families' descriptions carried in those files. Schema and thresholds: README,
// "Results and reports".
#pragma once

#include <string>
#include <vector>

namespace kc::reports {

struct ReportInputs {
  std::vector<std::string> check_files;  // kconform check / fuzz --json outputs
  std::vector<std::string> perf_files;   // kconform bench outputs
  std::string env_file;                  // an env.json to use instead of this machine's
  std::string baseline_dir;              // a previous report to compare with
  std::string notes_file;                // Markdown: why targets are missed (after the list)
  std::string commit;                    // names the report (default: from env or results)
  std::string out_dir;
  bool plots = true;
};

struct ReportOutcome {
  bool ok = true;
  std::string error;
  int regressions = 0;    // against the baseline
  int target_misses = 0;  // performance targets not met
  std::string summary_path;
};

ReportOutcome write_report(const ReportInputs& in);

// This machine and build: GPU, driver, toolkit, compiler, flags, commit (env.json).
std::string environment_json(const std::string& commit);

// Noise thresholds of the baseline diff.
inline constexpr double kBandwidthNoise = 0.03;  // GB/s may drop 3% before it is a regression
inline constexpr double kDecodeNoise = 0.05;     // us per call may grow 5%
inline constexpr double kUlpNoise = 1e-3;        // max ULP error may grow 0.001 ulp
inline constexpr double kExactNoise = 0.01;      // the exact-match fraction may drop 1 point

}  // namespace kc::reports

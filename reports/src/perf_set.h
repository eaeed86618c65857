// The benchmark rows of a report: every kconform row of the given Google Benchmark files (their
// structured labels, kc/results/perf.h), the copy ceiling and empty-node floor of the same run,
// and the families' descriptions the files carry.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "kc/results/family_report.h"
#include "kc/results/perf.h"

namespace kc::reports {

struct PerfSet {
  double copy_gbps = 0;
  double empty_us = 0;      // an empty kernel's graph node, PDL off
  double empty_pdl_us = 0;  // the same with PDL
  std::string device;
  std::vector<results::PerfRow> rows;  // kinds "bandwidth" and "decode" only
  std::vector<results::FamilyReport> families;
  boost::json::object merged;  // the merged input, written as perf.json

  bool load(const std::vector<std::string>& paths, std::string* error);

  // The row of exactly this key (nullptr when absent or failed before timing).
  const results::PerfRow* find(const results::PerfKey& k) const;
  // The fastest row of any source but kconform at the shape of `ours` (same family, op, profile,
  // dtype, kind, shape) timed with the same PDL setting; nullptr when no peer was timed there.
  const results::PerfRow* best_peer(const results::PerfKey& ours) const;
  double pct_copy(double gbps) const { return copy_gbps > 0 ? 100 * gbps / copy_gbps : 0; }
};

}  // namespace kc::reports

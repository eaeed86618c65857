// Benchmark rows as structured data. Every row kconform's benchmarks and its peer scripts write
// (Google Benchmark JSON) carries its identity as a JSON object in its "label": source, family,
// op, profile, dtype, kind, PDL, and the shape as named integer parameters. This file writes
// those labels (bench/ uses it) and reads rows back (the report uses it), so no label is ever
// parsed with a format string.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kc::results {

struct PerfKey {
  std::string source;   // "kconform", "torch eager", "torch.compile static", "flashinfer", "copy"
  std::string family;   // "rmsnorm"
  std::string op;       // "fused_add_rmsnorm"
  std::string profile;  // "fused_add_rmsnorm.hf"
  std::string dtype;    // "bf16"
  std::string kind;     // "bandwidth", "decode", "copy", "empty"
  bool pdl = false;     // programmatic dependent launch between the timed launches
  std::vector<std::pair<std::string, std::int64_t>> shape;  // ("tokens", 1), ("hidden", 4096)

  std::int64_t param(const std::string& name, std::int64_t fallback = -1) const;
  // The same row in two runs (source, family, op, profile, dtype, kind, pdl, shape).
  std::string id() const;
};

// The label text of a row: a JSON object.
std::string perf_label(const PerfKey& k);

struct PerfRow {
  PerfKey key;
  double us = 0;        // per call (decode) or per launch (bandwidth)
  double gbps = 0;      // bytes each input read once + each output written once, per second
  double pct_copy = 0;  // of the copy ceiling measured in the same run
  std::string error;    // a row that failed its check before timing (never timed)
};

// Reads one entry of a Google Benchmark "benchmarks" array; false when its label is not a
// kconform row (rows of other tools are left out, never guessed at).
bool perf_row_from_json(const boost::json::object& entry, PerfRow* out);

}  // namespace kc::results

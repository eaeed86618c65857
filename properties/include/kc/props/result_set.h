// Results of `kconform check` / `kconform fuzz` (--json) read back and merged by
// (subject, property): fuzz --merge and report use them. Schema: README, "Results and reports".
#pragma once

#include <string>
#include <vector>

#include "kc/props/property.h"

namespace kc::props {

struct BucketRecord {
  std::string dtype;
  std::string bucket;
  props::PrecisionStats stats;
};

struct PairRecord {
  std::string subject, op, profile, backend, defect, property;
  bool passed = true;
  long long cases = 0;
  long long not_applicable = 0;
  double seconds = 0;
  std::vector<std::string> seeds;
  std::vector<std::string> repros;
  std::string failure;
  std::vector<BucketRecord> precision;
};

class ResultSet {
 public:
  // Reads check/fuzz --json files, merging pairs with the same (subject, property).
  bool load(const std::vector<std::string>& paths, std::string* error);
  bool write(const std::string& path) const;
  const std::vector<PairRecord>& pairs() const { return pairs_; }
  long long total_cases() const;
  int failed_pairs() const;
  const std::string& commit() const { return commit_; }
  bool gpu() const { return gpu_; }

 private:
  std::vector<PairRecord> pairs_;
  std::string commit_ = "unknown";
  bool gpu_ = false;
};

}  // namespace kc::props

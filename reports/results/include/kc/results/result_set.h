// Results of `kconform check` / `kconform fuzz` (--json): written by the command line, read back
// and merged by (subject, property) by `fuzz --merge` and by the report generator. This file owns
// the schema (README, "Results and reports"); version 2 names precision buckets generically and
// carries the families' report descriptions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/results/family_report.h"
#include "kc/results/precision.h"

namespace kc::results {

inline constexpr int kCheckSchemaVersion = 2;

struct BucketRecord {
  std::string dtype;
  std::string bucket;  // the family's precision bucket, e.g. "hidden<=1024"
  PrecisionStats stats;
};

struct FailureRecord {
  std::string message;
  std::string observed;
  std::string expected_rounded;
  double ulp_error = 0;
  double bound = 0;
  std::string case_text;  // the shrunk case in one line
};

struct PairRecord {
  std::string subject, family, op, profile, backend, defect, property;
  bool passed = true;
  long long cases = 0;
  long long not_applicable = 0;
  double seconds = 0;
  std::vector<std::string> seeds;
  std::vector<std::string> repros;
  bool has_failure = false;
  FailureRecord failure;
  std::vector<BucketRecord> precision;

  // Another run of the same pair folded in: cases and precision add up, the first failure stays.
  void merge(const PairRecord& o);
};

struct Summary {
  int pairs = 0;
  int failed = 0;
  bool timed_out = false;
  double seconds = 0;
};

struct FuzzInfo {
  int shard = 0;
  int shards = 1;
  int rounds = 0;
  std::string seed;
};

class ResultSet {
 public:
  void add(PairRecord r);  // merged with a record of the same (subject, property)
  void set_commit(std::string c) { commit_ = std::move(c); }
  void set_gpu(bool g) { gpu_ = g; }
  void set_summary(const Summary& s) {
    summary_ = s;
    has_summary_ = true;
  }
  void set_fuzz(const FuzzInfo& f) {
    fuzz_ = f;
    has_fuzz_ = true;
  }
  void add_families(const std::vector<FamilyReport>& fs);

  // Reads check/fuzz --json files, merging them.
  bool load(const std::vector<std::string>& paths, std::string* error);
  bool write(const std::string& path) const;

  const std::vector<PairRecord>& pairs() const { return pairs_; }
  const std::vector<FamilyReport>& families() const { return families_; }
  long long total_cases() const;
  int failed_pairs() const;
  const std::string& commit() const { return commit_; }
  bool gpu() const { return gpu_; }

 private:
  std::vector<PairRecord> pairs_;
  std::vector<FamilyReport> families_;
  std::string commit_ = "unknown";
  bool gpu_ = false;
  Summary summary_;
  bool has_summary_ = false;
  FuzzInfo fuzz_;
  bool has_fuzz_ = false;
};

}  // namespace kc::results

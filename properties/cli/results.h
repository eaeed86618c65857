// Selections of (subject, property) pairs, accumulation over fuzz rounds, and result files of
// check/fuzz read back and merged (fuzz --merge, report).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "kc/props/property.h"
#include "kc/props/result_set.h"

namespace kc::cli {

using props::BucketRecord;
using props::PairRecord;
using props::ResultSet;

struct Pair {
  const props::Subject* subject;
  props::PropertyId property;
};

struct Selection {
  std::vector<Pair> pairs;
  int gpu_skipped = 0;                                 // GPU pairs left out: no GPU
  std::vector<std::unique_ptr<props::Subject>> owned;  // --dtype restrictions
};

// --subject/--op/--profile/--property/--dtype/--backend/--mutants (kconform check --help).
bool select_pairs(const Args& a, Selection* out, std::string* error);

// Several CheckResults of one pair merged (cases, precision; the first failure kept).
struct Accumulated {
  props::CheckResult result;
  int runs = 0;
  void add(const props::CheckResult& r);
};

}  // namespace kc::cli

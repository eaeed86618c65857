// Shared pieces of the kconform command line: argument parsing and validation, selections of
// (subject, property) pairs, and the commands.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kc/props/check.h"
#include "kc/props/property.h"
#include "kc/props/subject.h"

namespace kc::cli {

// --name value, --name=value, bare flags, positional arguments. A command states its flags
// (options without a value) and its options (validate); anything else is a usage error naming
// the option.
class Args {
 public:
  Args(int argc, char** argv, const std::set<std::string>& flags);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  bool flag(const std::string& name) const { return has(name); }
  std::string value(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> values(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The first problem ("" when none): an option without its value, an unknown option, a flag
  // given a value.
  std::string validate(const std::set<std::string>& options) const;

  // Typed values of options; false with *error naming the option, the value and the rule.
  bool int_value(const std::string& name, long long lo, long long hi, long long fallback,
                 long long* out, std::string* error) const;
  bool uint_value(const std::string& name, std::uint64_t fallback, std::uint64_t* out,
                  std::string* error) const;
  bool seconds_value(const std::string& name, double fallback, double* out,
                     std::string* error) const;

 private:
  std::set<std::string> flags_;
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;  // from parsing
};

int usage_error(const std::string& msg);
bool parse_shard(const std::string& text, int* index, int* count);
double now_seconds();
std::string git_short_sha();  // "unknown" outside a git checkout (KC_COMMIT names it)
// Creates a directory (and its parents) when missing; false with *error otherwise.
bool ensure_dir(const std::string& dir, std::string* error);
// Whether `path` can be written (opened for appending, so an existing file is kept until the
// results replace it): checked before a run, so a bad --json fails in seconds, not at the end.
bool writable_file(const std::string& path, std::string* error);
// --in-process: subjects run in this process; otherwise each pair (and each replayed case) in a
// child process (check.h, Isolation).
props::Isolation isolation(const Args& a);
// --case-seconds T (default 60): seconds in (0, 1e6].
bool case_seconds_value(const Args& a, double* out, std::string* error);

struct Pair {
  const props::Subject* subject;
  props::PropertyId property;
};

struct Selection {
  std::vector<Pair> pairs;
  int gpu_skipped = 0;        // GPU pairs left out: no GPU
  std::vector<DType> dtypes;  // --dtype: only cases of these (empty: all)
};

// The options select_pairs reads (each command that selects pairs accepts them).
extern const std::set<std::string> kSelectionOptions;
// --subject (exact names, or globs with * ? [..]) / --op / --profile / --property / --dtype /
// --backend / --mutants (kconform check --help).
bool select_pairs(const Args& a, Selection* out, std::string* error);

// A results file header for this run (commit, GPU, the families' report descriptions).
results::ResultSet new_result_set();

int cmd_fuzz(const Args& a);
int cmd_bench(const Args& a);
int cmd_report(const Args& a);
int cmd_classify(const Args& a);

}  // namespace kc::cli

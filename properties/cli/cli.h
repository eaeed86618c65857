// Shared pieces of the kconform command line: argument parsing, JSON results, the commands.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kc/props/property.h"

namespace kc::cli {

// --name value, --name=value, bare flags, positional arguments.
class Args {
 public:
  Args(int argc, char** argv);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  bool flag(const std::string& name) const { return has(name); }
  std::string value(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> values(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& error() const { return error_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

int usage_error(const std::string& msg);
bool parse_shard(const std::string& text, int* index, int* count);
double now_seconds();
std::string git_short_sha();  // "unknown" outside a git checkout

// `check --json` results (schema in the README, "Results and reports").
class Results {
 public:
  explicit Results(std::string path) : path_(std::move(path)) {}
  void add(const props::Subject& s, props::PropertyId p, const props::CheckResult& r);
  void set_summary(int pairs, int failed, bool timed_out, double seconds);
  void set_fuzz(int shard, int shards, int rounds, std::uint64_t seed);
  bool write() const;  // true when no path was given

 private:
  std::string path_;
  std::vector<std::string> entries_;
  std::string summary_;
  std::string fuzz_;
};

int cmd_fuzz(const Args& a);
int cmd_bench(const Args& a);
int cmd_report(const Args& a);

}  // namespace kc::cli

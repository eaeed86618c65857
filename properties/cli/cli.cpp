// Argument parsing and JSON results of the command line.
#include "cli.h"

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "kc/props/device.h"
#include "kc/props/repro.h"

namespace kc::cli {
namespace json = boost::json;

namespace {
// Options that take no value.
const std::set<std::string> kFlags = {"help",  "mutants", "verbose", "quiet", "no-peers",
                                      "quick", "list",    "plots",   "strict"};
}  // namespace

Args::Args(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    a = a.substr(2);
    const std::size_t eq = a.find('=');
    if (eq != std::string::npos) {
      values_.emplace(a.substr(0, eq), a.substr(eq + 1));
    } else if (kFlags.count(a)) {
      values_.emplace(a, "1");
    } else if (i + 1 < argc) {
      values_.emplace(a, argv[++i]);
    } else {
      error_ = "option --" + a + " needs a value";
    }
  }
}

std::string Args::value(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::values(const std::string& name) const {
  std::vector<std::string> v;
  const auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) v.push_back(it->second);
  return v;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "kconform: %s (kconform --help)\n", msg.c_str());
  return 2;
}

bool parse_shard(const std::string& text, int* index, int* count) {
  return std::sscanf(text.c_str(), "%d/%d", index, count) == 2 && *count > 0 && *index >= 0 &&
         *index < *count;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string git_short_sha() {
  // KC_COMMIT names the commit where the tree has no .git (a copy sent to a GPU host).
  if (const char* given = std::getenv("KC_COMMIT"); given != nullptr && *given != '\0') {
    return given;
  }
  FILE* p = popen("git rev-parse --short HEAD 2>/dev/null", "r");
  if (p == nullptr) return "unknown";
  char buf[64] = {0};
  const bool ok = std::fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  std::string s = ok ? buf : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "unknown" : s;
}

namespace {
double finite_or(double v, double f) { return std::isfinite(v) ? v : f; }
}  // namespace

void Results::add(const props::Subject& s, props::PropertyId p, const props::CheckResult& r) {
  json::object o;
  o["subject"] = s.name();
  o["op"] = s.op();
  o["profile"] = s.profile();
  o["backend"] = s.backend() == props::Backend::kGpu ? "gpu" : "host";
  o["defect"] = s.defect();
  o["property"] = props::property_name(p);
  o["passed"] = r.passed;
  o["cases"] = r.cases;
  o["not_applicable"] = r.not_applicable;
  o["seed"] = std::to_string(r.seed);
  o["seconds"] = r.seconds;
  o["repro"] = r.repro_path;
  if (!r.passed) {
    json::object f;
    f["message"] = r.failure.message;
    f["observed"] = r.failure.worst.observed;
    f["expected_rounded"] = r.failure.worst.expected_rounded;
    f["ulp_error"] = finite_or(r.failure.worst.ulp_error, 1e308);
    f["bound"] = r.failure.worst.bound;
    if (r.counterexample) f["case"] = props::describe(*r.counterexample);
    o["failure"] = std::move(f);
  }
  json::array buckets;
  for (const auto& [key, st] : r.buckets) {
    json::object b;
    const std::size_t sp = key.find(' ');
    b["dtype"] = key.substr(0, sp);
    b["hidden_bucket"] = key.substr(sp + 1);
    b["elements"] = st.elements;
    b["exact"] = st.exact;
    b["max_ulp"] = finite_or(st.max_ulp, 1e308);
    b["p99_ulp"] = finite_or(st.quantile(0.99), 1e308);
    b["special_elements"] = st.special_elements;
    b["flushed_elements"] = st.flushed_elements;
    b["rows"] = st.rows;
    b["out_of_range_rows"] = st.out_of_range_rows;
    json::array hist;
    for (std::int64_t h : st.hist) hist.push_back(h);
    b["histogram"] = std::move(hist);
    buckets.push_back(std::move(b));
  }
  o["precision"] = std::move(buckets);
  entries_.push_back(json::serialize(o));
}

void Results::set_summary(int pairs, int failed, bool timed_out, double seconds) {
  json::object o;
  o["pairs"] = pairs;
  o["failed"] = failed;
  o["timed_out"] = timed_out;
  o["seconds"] = seconds;
  summary_ = json::serialize(o);
}

void Results::set_fuzz(int shard, int shards, int rounds, std::uint64_t seed) {
  json::object o;
  o["shard"] = shard;
  o["shards"] = shards;
  o["rounds"] = rounds;
  o["seed"] = std::to_string(seed);
  fuzz_ = json::serialize(o);
}

bool Results::write() const {
  if (path_.empty()) return true;
  std::ofstream out(path_);
  out << "{\n  \"kconform_check\": 1,\n  \"commit\": \"" << git_short_sha()
      << "\",\n  \"gpu\": " << (props::gpu_available() ? "true" : "false")
      << ",\n  \"summary\": " << summary_
      << (fuzz_.empty() ? std::string() : ",\n  \"fuzz\": " + fuzz_) << ",\n  \"results\": [\n";
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    out << "    " << entries_[i] << (i + 1 < entries_.size() ? ",\n" : "\n");
  }
  out << "  ]\n}\n";
  return static_cast<bool>(out);
}

}  // namespace kc::cli

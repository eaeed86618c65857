// Argument parsing and validation, and the helpers every command shares (cli.h).
#include "cli.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "kc/props/device.h"
#include "kc/props/family.h"

namespace kc::cli {

Args::Args(int argc, char** argv, const std::set<std::string>& flags) : flags_(flags) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      positional_.push_back(a);
      continue;
    }
    a = a.substr(2);
    const std::size_t eq = a.find('=');
    if (eq != std::string::npos) {
      const std::string name = a.substr(0, eq);
      if (flags_.count(name) && error_.empty()) {
        error_ = "option --" + name + " takes no value (given '" + a.substr(eq + 1) + "')";
      }
      values_.emplace(name, a.substr(eq + 1));
    } else if (flags_.count(a)) {
      values_.emplace(a, "1");
    } else if (i + 1 < argc) {
      values_.emplace(a, argv[++i]);
    } else {
      if (error_.empty()) error_ = "option --" + a + " needs a value";
      values_.emplace(a, "");
    }
  }
}

std::string Args::validate(const std::set<std::string>& options) const {
  if (!error_.empty()) return error_;
  for (const auto& [name, v] : values_) {
    if (!flags_.count(name) && !options.count(name)) return "unknown option --" + name;
  }
  return "";
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

bool Args::int_value(const std::string& name, long long lo, long long hi, long long fallback,
                     long long* out, std::string* error) const {
  if (!has(name)) {
    *out = fallback;
    return true;
  }
  const std::string s = value(name, "");
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    *error = "--" + name + " " + s + ": want an integer in [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "]";
    return false;
  }
  *out = v;
  return true;
}

bool Args::uint_value(const std::string& name, std::uint64_t fallback, std::uint64_t* out,
                      std::string* error) const {
  if (!has(name)) {
    *out = fallback;
    return true;
  }
  const std::string s = value(name, "");
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0) {
    *error = "--" + name + " " + s + ": want an unsigned 64-bit integer (decimal or 0x hex)";
    return false;
  }
  *out = v;
  return true;
}

bool Args::seconds_value(const std::string& name, double fallback, double* out,
                         std::string* error) const {
  if (!has(name)) {
    *out = fallback;
    return true;
  }
  const std::string s = value(name, "");
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1e7) {
    *error = "--" + name + " " + s + ": want a number of seconds in [0, 1e7]";
    return false;
  }
  *out = v;
  return true;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "kconform: %s (kconform --help)\n", msg.c_str());
  return 2;
}

bool parse_shard(const std::string& text, int* index, int* count) {
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  const std::string a = text.substr(0, slash);
  const std::string b = text.substr(slash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(a) || !digits(b)) return false;
  *index = std::stoi(a);
  *count = std::stoi(b);
  return *count > 0 && *index < *count;
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

bool ensure_dir(const std::string& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    *error = "cannot create directory " + dir + (ec ? ": " + ec.message() : "");
    return false;
  }
  return true;
}

bool writable_file(const std::string& path, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fclose(f);
  return true;
}

props::Isolation isolation(const Args& a) {
  return a.flag("in-process") ? props::Isolation::kInProcess : props::Isolation::kChildProcess;
}

bool case_seconds_value(const Args& a, double* out, std::string* error) {
  if (!a.seconds_value("case-seconds", 60, out, error)) return false;
  if (*out <= 0 || *out > 1e6) {
    *error = "--case-seconds " + a.value("case-seconds", "") + ": want seconds in (0, 1e6]";
    return false;
  }
  return true;
}

results::ResultSet new_result_set() {
  results::ResultSet set;
  set.set_commit(git_short_sha());
  set.set_gpu(props::gpu_available());
  set.add_families(props::family_reports());
  return set;
}

}  // namespace kc::cli

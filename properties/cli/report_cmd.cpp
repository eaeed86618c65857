// kconform report: runs the report generator (reports/, kconform_report), which reads the JSON
// of check, fuzz and bench; the harness and the report share only the results schema.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"

#ifndef KC_REPORT_EXE
#define KC_REPORT_EXE "kconform_report"
#endif

namespace kc::cli {

int cmd_report(const Args& a) {
  if (const std::string e =
          a.validate({"out", "check", "perf", "env", "baseline", "notes", "commit"});
      !e.empty()) {
    return usage_error(e);
  }
  std::vector<std::string> argv = {KC_REPORT_EXE};
  if (a.flag("help")) argv.push_back("--help");
  if (a.flag("strict")) argv.push_back("--strict");
  for (const char* name : {"out", "check", "perf", "env", "baseline", "notes", "commit"}) {
    for (const std::string& v : a.values(name)) {
      argv.push_back(std::string("--") + name);
      argv.push_back(v);
    }
  }
  if (!a.has("commit")) {
    argv.push_back("--commit");
    argv.push_back(git_short_sha());
  }
  for (const std::string& p : a.positional()) argv.push_back(p);
  std::vector<char*> raw;
  for (std::string& s : argv) raw.push_back(s.data());
  raw.push_back(nullptr);
  std::fflush(stdout);
  execv(KC_REPORT_EXE, raw.data());
  std::fprintf(stderr, "kconform report: cannot run %s\n", KC_REPORT_EXE);
  return 2;
}

}  // namespace kc::cli

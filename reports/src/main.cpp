// kconform_report: the report generator's command line (`kconform report` runs it).
#include <cstdio>
#include <cstring>
#include <string>

#include "report.h"

namespace {

const char* kHelp =
    "usage: kconform report [options]\n"
    "\n"
    "Writes a report directory: env.json (GPU, driver, toolkit, compiler, flags), precision.json\n"
    "(per subject x profile x dtype x the family's precision bucket: max and p99 ULP error,\n"
    "exact-match fraction, cases, seeds; and every pair's pass/fail), perf.json (kconform bench\n"
    "results, peers included) and summary.md (tables and plots per family, the families'\n"
    "performance targets, and with --baseline every regression beyond noise marked REGRESSION).\n"
    "\n"
    "  --out DIR          report directory (default out/reports/<commit>: generated reports are\n"
    "                     build output; CI keeps them as artifacts)\n"
    "  --check FILE       a check or fuzz --json result file; repeatable (merged)\n"
    "  --perf FILE        a kconform bench result file; repeatable\n"
    "  --env FILE         an env.json to use instead of this machine's\n"
    "  --baseline DIR     a previous report to compare with (reports/baseline is the last GPU\n"
    "                     host report kept in the tree)\n"
    "  --notes FILE       Markdown placed after the targets: why each miss happens\n"
    "  --commit SHA       the commit the report is of (default: from the inputs)\n"
    "  --strict           exit 1 when the baseline diff finds a regression\n"
    "exit status: 0 written, 1 regressions under --strict, 2 usage or input error.\n";

int usage(const std::string& msg) {
  std::fprintf(stderr, "kconform report: %s (kconform report --help)\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  kc::reports::ReportInputs in;
  bool strict = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (a == "--strict") {
      strict = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return usage("unexpected argument '" + a + "'");
    if (i + 1 >= argc) return usage("option " + a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--out") {
      in.out_dir = v;
    } else if (a == "--check") {
      in.check_files.push_back(v);
    } else if (a == "--perf") {
      in.perf_files.push_back(v);
    } else if (a == "--env") {
      in.env_file = v;
    } else if (a == "--baseline") {
      in.baseline_dir = v;
    } else if (a == "--notes") {
      in.notes_file = v;
    } else if (a == "--commit") {
      in.commit = v;
    } else {
      return usage("unknown option " + a);
    }
  }
  if (in.out_dir.empty()) in.out_dir = "out/reports/" + (in.commit.empty() ? "unknown" : in.commit);
  const kc::reports::ReportOutcome r = kc::reports::write_report(in);
  if (!r.ok) return usage(r.error);
  std::printf("report: %s (%d target misses, %d regressions)\n", r.summary_path.c_str(),
              r.target_misses, r.regressions);
  return strict && r.regressions > 0 ? 1 : 0;
}

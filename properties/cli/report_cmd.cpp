// kconform report: writes reports/<short-sha>/ from check/fuzz and bench results.
#include <cstdio>
#include <string>

#include "cli.h"
#include "kc/reports/report.h"

namespace kc::cli {
namespace {

const char* kReportHelp =
    "usage: kconform report [options]\n"
    "\n"
    "Writes a per-commit report: env.json (GPU, driver, toolkit, compiler, flags), precision.json\n"
    "(per subject x profile x dtype x hidden bucket: max and p99 ULP error, exact-match fraction,\n"
    "cases, seeds; and every pair's pass/fail), perf.json (kconform bench results, peers\n"
    "included) and summary.md (tables, plots rendered with gnuplot, the performance targets, and\n"
    "with --baseline every regression beyond noise marked REGRESSION).\n"
    "\n"
    "  --out DIR          report directory (default reports/<short sha>)\n"
    "  --check FILE       a check or fuzz --json result file; repeatable (merged)\n"
    "  --perf FILE        a kconform bench result file; repeatable\n"
    "  --env FILE         an env.json to use instead of this machine's\n"
    "  --baseline DIR     a previous report to compare with\n"
    "  --notes FILE       Markdown placed after the target list: why each miss happens\n"
    "  --strict           exit 1 when the baseline diff finds a regression\n"
    "exit status: 0 written, 1 regressions under --strict, 2 usage or input error.\n";

}  // namespace

int cmd_report(const Args& a) {
  if (a.flag("help")) {
    std::fputs(kReportHelp, stdout);
    return 0;
  }
  reports::ReportInputs in;
  in.check_files = a.values("check");
  in.perf_files = a.values("perf");
  in.env_file = a.value("env", "");
  in.baseline_dir = a.value("baseline", "");
  in.notes_file = a.value("notes", "");
  in.out_dir = a.value("out", "reports/" + git_short_sha());
  const reports::ReportOutcome r = reports::write_report(in);
  if (!r.ok) return usage_error(r.error);
  std::printf("report: %s (%d target misses, %d regressions)\n", r.summary_path.c_str(),
              r.target_misses, r.regressions);
  return a.flag("strict") && r.regressions > 0 ? 1 : 0;
}

}  // namespace kc::cli

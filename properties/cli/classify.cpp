// kconform classify: which semantics does a kernel implement (DESIGN.md section 4)? Runs the
// reference properties (bounded_error, special_values) of one subject against every profile of
// its op, per dtype, with the subject's own bound, and prints the matrix: conforms or not, the
// exact-match fraction, the largest ULP error seen, and the first failing case.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "kc/props/check.h"
#include "kc/props/device.h"
#include "kc/props/family.h"

namespace kc::cli {
namespace {

const char* kClassifyHelp =
    "usage: kconform classify --subject NAME [options]\n"
    "\n"
    "Judges the subject's outputs against every profile of its op (not only the one it claims),\n"
    "with the bound the subject states, per dtype: bounded_error and special_values. A profile\n"
    "the subject conforms to in every dtype is what it implements; a subject that conforms to\n"
    "none is a finding.\n"
    "\n"
    "  --subject NAME     the subject (exact name)\n"
    "  --dtype D          only this dtype; repeatable (default: every dtype of the subject)\n"
    "  --cases N          cases per (profile, dtype, property) (default 60)\n"
    "  --seed S           RapidCheck seed (default: fixed per subject)\n"
    "  --json FILE        the matrix as results (one pair per profile, dtype and property)\n"
    "  --case-seconds T   a case still running after T seconds is a hang (default 60)\n"
    "  --in-process       run the subject in this process (default: each cell in a child\n"
    "                     process, so a crash fails the cell and the matrix goes on)\n"
    "  --quiet            only the matrix\n"
    "exit status: 0 the subject conforms to its claimed profile, 1 it does not, 2 usage error,\n"
    "77 a GPU subject and no GPU.\n";

}  // namespace

int cmd_classify(const Args& a) {
  if (const std::string e =
          a.validate({"subject", "dtype", "cases", "seed", "json", "case-seconds"});
      !e.empty()) {
    return usage_error(e);
  }
  if (a.flag("help")) {
    std::fputs(kClassifyHelp, stdout);
    return 0;
  }
  const std::vector<std::string> names = a.values("subject");
  if (names.size() != 1) return usage_error("classify wants exactly one --subject NAME");
  const props::Subject* s = props::find_subject(names[0]);
  if (s == nullptr) return usage_error("--subject " + names[0] + ": no such subject");
  std::string err;
  long long cases = 60;
  std::uint64_t seed = 0;
  if (!a.int_value("cases", 1, 10000000, 60, &cases, &err) ||
      !a.uint_value("seed", 0, &seed, &err)) {
    return usage_error(err);
  }
  double case_seconds = 60;
  if (!case_seconds_value(a, &case_seconds, &err)) return usage_error(err);
  if (a.has("json") && !writable_file(a.value("json", ""), &err)) {
    return usage_error("--json: " + err);
  }
  std::vector<DType> dtypes;
  for (const std::string& d : a.values("dtype")) {
    DType t;
    if (!dtype_from_name(d.c_str(), &t))
      return usage_error("--dtype " + d + ": want fp32, fp16 or bf16");
    dtypes.push_back(t);
  }
  if (dtypes.empty()) dtypes = s->dtypes();
  if (s->backend() == props::Backend::kGpu && !props::gpu_available()) {
    std::printf("no usable GPU: %s not classified\n", s->name().c_str());
    return 77;
  }
  const props::OpSpec* op = props::find_op(s->op());
  if (op == nullptr) return usage_error("subject " + s->name() + " names an op no family defines");
  results::ResultSet out = new_result_set();
  std::printf("%s (claims %s), %lld cases per cell, bound: %s\n\n", s->name().c_str(),
              s->profile().c_str(), cases, s->bound().derivation.c_str());
  std::printf("%-36s %-5s %-9s %-9s %8s %10s  %s\n", "profile", "dtype", "bounded", "special",
              "exact %", "max ulp", "first failing case");
  std::vector<std::string> implemented;
  bool claimed_ok = true;
  for (const std::string& profile : op->profiles) {
    bool all = true;
    for (DType d : dtypes) {
      bool ok[2] = {true, true};
      std::string first;
      double max_ulp = 0;
      std::int64_t elements = 0, exact = 0;
      int k = 0;
      for (props::PropertyId p :
           {props::PropertyId::kBoundedError, props::PropertyId::kSpecialValues}) {
        props::CheckConfig cfg;
        cfg.budget = props::budget_for(p, *s, "quick");
        cfg.budget.cases = static_cast<int>(cases);
        cfg.budget.shrink_seconds = 5;
        cfg.seed = seed != 0 ? seed : 20261125;
        cfg.dtypes = {d};
        cfg.judged = profile;
        cfg.write_repro = false;
        cfg.isolation = isolation(a);
        cfg.case_seconds = case_seconds;
        const props::CheckResult r = props::check_property(p, *s, cfg);
        // Not applicable everywhere (no special values drawn) is no evidence against a profile.
        const bool vacuous = !r.passed && !r.counterexample && r.not_applicable == r.cases;
        ok[k] = r.passed || vacuous;
        if (!ok[k] && first.empty()) {
          first = r.counterexample ? props::describe(*r.counterexample) + ": " + r.failure.message
                                   : r.failure.message;
          // A crash or a hang first: it is the finding, whatever the case.
          if (!r.crash.empty()) first = r.crash + "; " + first;
          max_ulp = std::max(max_ulp, r.failure.worst.ulp_error);
        }
        max_ulp = std::max(max_ulp, r.stats.max_ulp);
        elements += r.stats.elements;
        exact += r.stats.exact;
        results::PairRecord rec = props::pair_record(*s, p, r);
        rec.property = std::string(props::property_name(p)) + "@" + profile + "/" + dtype_name(d);
        out.add(std::move(rec));
        ++k;
      }
      const bool conforms = ok[0] && ok[1];
      all = all && conforms;
      if (profile == s->profile()) claimed_ok = claimed_ok && conforms;
      std::printf(
          "%-36s %-5s %-9s %-9s %8.2f %10.4g  %.100s\n", profile.c_str(), dtype_name(d),
          ok[0] ? "conforms" : "FAILS", ok[1] ? "conforms" : "FAILS",
          elements > 0 ? 100.0 * static_cast<double>(exact) / static_cast<double>(elements) : 0.0,
          max_ulp, first.c_str());
      std::fflush(stdout);
    }
    if (all) implemented.push_back(profile);
  }
  std::printf("\n%s implements: ", s->name().c_str());
  if (implemented.empty()) std::printf("no profile of %s (a finding)", op->name.c_str());
  for (std::size_t i = 0; i < implemented.size(); ++i) {
    std::printf("%s%s", i ? ", " : "", implemented[i].c_str());
  }
  std::printf("\n");
  const std::string json_path = a.value("json", "");
  if (!json_path.empty() && !out.write(json_path)) {
    std::fprintf(stderr, "kconform: cannot write --json %s\n", json_path.c_str());
  }
  return claimed_ok ? 0 : 1;
}

}  // namespace kc::cli

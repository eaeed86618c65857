// kconform: the command-line front end of the harness.
//
//   kconform list                      families, ops, profiles, subjects and what they support
//   kconform check [filters] [budget]  runs the property suite, exit 0 only when all conforms
//   kconform classify --subject S      which profiles of its op a subject conforms to
//   kconform replay FILE...            replays repros written by check
//   kconform fuzz ...                  seed-sharded GPU/twin campaign (see --help)
//   kconform bench ...                 the GPU benchmark suite and its peers
//   kconform report ...                per-commit precision/performance report
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "kc/props/check.h"
#include "kc/props/device.h"
#include "kc/props/family.h"
#include "kc/props/property.h"
#include "kc/props/repro.h"
#include "kc/results/family_report.h"

namespace kc::cli {
namespace {

using props::Backend;
using props::PropertyId;
using props::Subject;

const char* kUsage =
    "usage: kconform <command> [options]\n"
    "\n"
    "commands:\n"
    "  list      families, ops, profiles, subjects, their dtypes, bounds and promises\n"
    "  check     run the property suite (exit 0 only when every selected pair conforms)\n"
    "  classify  which profiles of its op a subject conforms to (a matrix)\n"
    "  replay    replay repro files written by check or fuzz\n"
    "  fuzz      a timed, seed-sharded campaign over all subjects; JSON results merge\n"
    "  bench     run the GPU benchmarks (and the PyTorch peers when python3 has torch)\n"
    "  report    write a report (precision, performance, environment, summary)\n"
    "\n"
    "kconform <command> --help describes each command.\n";

const char* kCheckHelp =
    "usage: kconform check [options]\n"
    "\n"
    "Runs every selected (subject, property) pair: generated cases, shrinking on failure to a\n"
    "minimal JSON repro, a one-line replay command. Backend `auto` (the default) runs the GPU\n"
    "subjects when a GPU is present and the host twins otherwise.\n"
    "\n"
    "selection:\n"
    "  --subject NAME     an exact subject name, or a glob (* ? [..]) matching several;\n"
    "                     repeatable (peers such as flashinfer.* run only when named)\n"
    "  --op OP            e.g. rmsnorm, fused_add_rmsnorm (kconform list)\n"
    "  --profile P        e.g. rmsnorm.hf\n"
    "  --property P       bounded_error twin_bitwise batch_invariant deterministic\n"
    "                     layout_invariant support_agrees empty_batch special_values; repeatable\n"
    "  --dtype D          fp32 | fp16 | bf16: only cases of this dtype; repeatable\n"
    "  --backend B        auto | host | gpu | all\n"
    "  --mutants          include the calibration mutants and controls (mutants fail)\n"
    "budget:\n"
    "  --level L          quick (default) | soak: per-property case counts and sizes\n"
    "  --cases N          cases per pair, 1..10000000 (overrides the level)\n"
    "  --seed S           RapidCheck seed (default: fixed per pair at quick level, fresh at soak)\n"
    "  --seconds T        stop starting new pairs after T seconds (the result says so)\n"
    "  --shard I/N        run only the pairs with index % N == I\n"
    "robustness:\n"
    "  --case-seconds T   a case still running after T seconds is a hang (default 60)\n"
    "  --in-process       run subjects in this process (a debugger); by default each pair runs\n"
    "                     in a child process, so a subject that crashes, hangs or loses the CUDA\n"
    "                     context fails its pair (with a repro) and the run goes on\n"
    "output:\n"
    "  --repro-dir DIR    where failing repros go (default ./repros, created when needed)\n"
    "  --json FILE        machine-readable results (reports read these)\n"
    "  --verbose          print each pair's case distribution (RC_TAG / RC_CLASSIFY)\n"
    "  --quiet            no progress lines\n"
    "exit status: 0 all pass, 1 a failure, 2 usage error, 77 nothing ran (GPU subjects, no GPU).\n";

const char* kReplayHelp =
    "usage: kconform replay [--backend host|gpu|all] [--upgrade] [--case-seconds T]\n"
    "                       [--in-process] FILE...\n"
    "\n"
    "Runs each repro's property once on its subject and case, in a child process (a crash or a\n"
    "hang past --case-seconds, default 60, is the failure; --in-process runs it here). Prints\n"
    "the failure as check did; says whether the observed value is bit for bit the one recorded.\n"
    "GPU repros are skipped where there is no GPU. --upgrade rewrites each file read in the\n"
    "current repro version (the same case; version 1 files carry the norm family's parameters\n"
    "at the top level).\n"
    "Exit 0 when every replayed repro passes, 1 when any still fails, 2 when a file cannot be\n"
    "read or describes no valid case, 77 when every repro needed a GPU that is not there.\n";

const char* kListHelp =
    "usage: kconform list [--mutants] [--ctest FILE --repro-dir DIR] [--families FILE]\n"
    "Families with their ops and profiles; subjects with backend, claimed profile, dtypes, bound\n"
    "and promises. --ctest writes the ctest registrations of every (subject, property) pair\n"
    "(the build runs it after linking kconform); --families writes the families' report\n"
    "descriptions (profiles, axes, performance targets) as JSON.\n";

bool gpu_present() {
  static const bool present = props::gpu_available();
  return present;
}

std::uint64_t name_seed(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h | 1u;
}

// ctest registrations of every (subject, property) pair: one test each, at the quick level with
// the pair's fixed seed; labels cpu or gpu, peer for peers.
int write_ctest_file(const std::string& path, const std::string& exe,
                     const std::string& repro_dir) {
  std::ofstream out(path);
  out << "# Generated by kconform list --ctest: one test per (subject, property).\n";
  for (const auto& s : props::subjects()) {
    if (props::calibration_subject(*s)) continue;
    for (int i = 0; i < props::kPropertyCount; ++i) {
      const auto p = static_cast<PropertyId>(i);
      std::string why;
      if (!props::property_applies(p, *s, &why)) continue;
      const std::string name = "prop/" + s->name() + "/" + props::property_name(p);
      std::string labels = s->backend() == Backend::kGpu ? "gpu;quick" : "cpu;quick";
      if (s->peer()) labels += ";peer";
      out << "add_test(\"" << name << "\" \"" << exe << "\" check --subject \"" << s->name()
          << "\" --property " << props::property_name(p) << " --quiet --repro-dir \"" << repro_dir
          << "\")\n"
          << "set_tests_properties(\"" << name << "\" PROPERTIES LABELS \"" << labels
          << "\" SKIP_RETURN_CODE 77 TIMEOUT 900)\n";
    }
  }
  return out ? 0 : 1;
}

int cmd_list(const Args& a, const std::string& exe) {
  if (const std::string e = a.validate({"ctest", "repro-dir", "families"}); !e.empty()) {
    return usage_error(e);
  }
  if (a.flag("help")) {
    std::fputs(kListHelp, stdout);
    return 0;
  }
  if (a.has("ctest")) {
    return write_ctest_file(a.value("ctest", ""), exe, a.value("repro-dir", "repros"));
  }
  if (a.has("families")) {
    std::ofstream out(a.value("families", ""));
    out << boost::json::serialize(results::to_json(props::family_reports())) << "\n";
    return out ? 0 : usage_error("cannot write " + a.value("families", ""));
  }
  const bool mutants = a.flag("mutants");
  std::printf("families, ops and profiles:\n");
  for (const auto& f : props::families()) {
    for (const props::OpSpec& op : f->ops()) {
      std::printf("  %-12s %-18s", f->name().c_str(), op.name.c_str());
      for (const std::string& p : op.profiles) std::printf(" %s", p.c_str());
      std::printf("\n");
    }
  }
  std::printf("\n%-44s %-4s %-34s %-16s %s\n", "subject", "on", "claims", "dtypes",
              "promises / bound");
  for (const auto& s : props::subjects()) {
    if (props::calibration_subject(*s) && !mutants) continue;
    std::string dts;
    for (DType d : s->dtypes()) dts += std::string(dts.empty() ? "" : ",") + dtype_name(d);
    const props::Promises p = s->promises();
    std::string pr;
    if (!s->twin().empty()) pr += "bitwise=" + s->twin() + " ";
    if (p.batch_invariant) pr += "batch ";
    if (p.deterministic) pr += "deterministic ";
    if (p.layout_invariant) pr += "layout ";
    if (p.empty_batch) pr += "empty ";
    const props::BoundSpec b = s->bound();
    if (b.kind == props::BoundSpec::Kind::kUlps) {
      char ulps[32];
      std::snprintf(ulps, sizeof ulps, "%.4g", b.ulps);
      pr += std::string("| <= ") + ulps + " ulp";
    } else {
      pr += "| derived by the family";
    }
    for (const std::string& r : b.rules) pr += ", " + r;
    if (!s->defect().empty()) pr += " | DEFECT: " + s->defect();
    if (s->control()) pr += " | control";
    if (s->peer()) pr += " | peer: checked when named (--subject)";
    std::printf("%-44s %-4s %-34s %-16s %s\n", s->name().c_str(),
                s->backend() == Backend::kGpu ? "gpu" : "host", s->profile().c_str(), dts.c_str(),
                pr.c_str());
  }
  if (!mutants) std::printf("\n(calibration mutants and controls hidden; --mutants lists them)\n");
  return 0;
}

int cmd_check(const Args& a) {
  std::set<std::string> options = kSelectionOptions;
  options.insert(
      {"level", "cases", "seed", "seconds", "shard", "repro-dir", "json", "case-seconds"});
  if (const std::string e = a.validate(options); !e.empty()) return usage_error(e);
  if (a.flag("help")) {
    std::fputs(kCheckHelp, stdout);
    return 0;
  }
  if (!a.positional().empty())
    return usage_error("check takes no file '" + a.positional()[0] + "'");
  const std::string level = a.value("level", "quick");
  if (level != "quick" && level != "soak")
    return usage_error("--level " + level + ": want quick or soak");
  int shard = 0;
  int shards = 1;
  if (a.has("shard") && !parse_shard(a.value("shard", ""), &shard, &shards)) {
    return usage_error("--shard " + a.value("shard", "") + ": want I/N with 0 <= I < N");
  }
  std::string err;
  long long cases = 0;
  std::uint64_t seed = 0;
  double seconds = 0;
  double case_seconds = 60;
  if (!a.int_value("cases", 1, 10000000, 0, &cases, &err) ||
      !a.uint_value("seed", 0, &seed, &err) || !a.seconds_value("seconds", 0, &seconds, &err) ||
      !case_seconds_value(a, &case_seconds, &err)) {
    return usage_error(err);
  }
  if (a.has("seed") && seed == 0) return usage_error("--seed 0: want a nonzero seed");
  const std::string repro_dir = a.value("repro-dir", "repros");
  if (!ensure_dir(repro_dir, &err)) return usage_error("--repro-dir " + repro_dir + ": " + err);
  if (a.has("json") && !writable_file(a.value("json", ""), &err)) {
    return usage_error("--json: " + err);
  }
  Selection sel;
  if (!select_pairs(a, &sel, &err)) return usage_error(err);
  std::vector<Pair> mine;
  for (std::size_t i = 0; i < sel.pairs.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shards)) == shard) {
      mine.push_back(sel.pairs[i]);
    }
  }
  if (mine.empty()) {
    if (sel.gpu_skipped > 0) {
      std::printf("no usable GPU: %d GPU subject/property pairs skipped\n", sel.gpu_skipped);
      return 77;
    }
    return usage_error("no (subject, property) pair matches the selection");
  }
  const bool quiet = a.flag("quiet");
  const std::string json_path = a.value("json", "");
  const auto start = now_seconds();
  results::ResultSet results = new_result_set();
  int failed = 0;
  int ran = 0;
  bool timed_out = false;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (seconds > 0 && now_seconds() - start > seconds) {
      timed_out = true;
      break;
    }
    const Subject& s = *mine[i].subject;
    const PropertyId p = mine[i].property;
    props::CheckConfig cfg;
    cfg.budget = props::budget_for(p, s, level);
    if (a.has("cases")) cfg.budget.cases = static_cast<int>(cases);
    cfg.seed = a.has("seed") ? seed : level == "quick" ? name_seed(s.name() + property_name(p)) : 0;
    cfg.dtypes = sel.dtypes;
    cfg.repro_dir = repro_dir;
    cfg.verbose = a.flag("verbose");
    cfg.write_repro = ensure_dir(repro_dir, &err);
    cfg.isolation = isolation(a);
    cfg.case_seconds = case_seconds;
    const props::CheckResult r = props::check_property(p, s, cfg);
    ++ran;
    results.add(props::pair_record(s, p, r));
    if (!r.passed) ++failed;
    if (!quiet || !r.passed) {
      std::fprintf(stderr, "[%zu/%zu] %-44s %-16s %s  %d cases (%d n/a), %.1f s, seed %llu\n",
                   i + 1, mine.size(), s.name().c_str(), props::property_name(p),
                   r.passed          ? "ok"
                   : r.crash.empty() ? "FAILED"
                                     : "FAILED (the subject's process "
                                       "did not survive it)",
                   r.cases, r.not_applicable, r.seconds, static_cast<unsigned long long>(r.seed));
    }
    if (cfg.verbose) {
      for (const auto& [line, n] : r.distribution) {
        std::fprintf(stderr, "      %6d  %s\n", n, line.c_str());
      }
    }
    if (!r.passed) {
      if (!r.crash.empty()) {
        std::printf(
            "%s %s: the pair's process %s (after %d cases); the case that did it, shrunk "
            "in fresh processes:\n",
            s.name().c_str(), props::property_name(p), r.crash.c_str(), r.cases);
      }
      if (r.counterexample) {
        std::fputs(props::describe_failure(s, p, *r.counterexample, r.failure).c_str(), stdout);
        if (r.repro_path.empty()) {
          std::printf("  shrunk in %.1f s; repro NOT written (%s)\n", r.shrink_seconds,
                      cfg.write_repro ? ("cannot write into " + repro_dir).c_str() : err.c_str());
        } else {
          std::printf("  shrunk in %.1f s; repro: %s\n  replay: %s\n", r.shrink_seconds,
                      r.repro_path.c_str(), props::replay_command(r.repro_path).c_str());
        }
      } else {
        std::printf("%s %s FAILED: %s\n", s.name().c_str(), props::property_name(p),
                    r.failure.message.c_str());
      }
    }
    std::fflush(stdout);
  }
  results::Summary summary;
  summary.pairs = ran;
  summary.failed = failed;
  summary.timed_out = timed_out;
  summary.seconds = now_seconds() - start;
  results.set_summary(summary);
  if (!json_path.empty() && !results.write(json_path)) {
    std::fprintf(stderr, "kconform: cannot write --json %s\n", json_path.c_str());
  }
  std::printf("kconform check: %d pairs, %d passed, %d failed%s (%.1f s)\n", ran, ran - failed,
              failed, timed_out ? ", stopped at --seconds" : "", now_seconds() - start);
  return failed == 0 ? 0 : 1;
}

int cmd_replay(const Args& a) {
  if (const std::string e = a.validate({"backend", "case-seconds"}); !e.empty()) {
    return usage_error(e);
  }
  if (a.flag("help") || a.positional().empty()) {
    std::fputs(kReplayHelp, a.flag("help") ? stdout : stderr);
    return a.flag("help") ? 0 : 2;
  }
  const std::string only = a.value("backend", "all");
  if (only != "all" && only != "host" && only != "gpu") {
    return usage_error("--backend " + only + ": want host, gpu or all");
  }
  double case_seconds = 60;
  std::string option_error;
  if (!case_seconds_value(a, &case_seconds, &option_error)) return usage_error(option_error);
  int still = 0;
  int skipped = 0;
  int replayed = 0;
  for (const std::string& path : a.positional()) {
    props::Repro rp;
    std::string err;
    if (!props::read_repro(path, &rp, &err)) {
      std::fprintf(stderr, "kconform replay: invalid repro: %s\n", err.c_str());
      return 2;
    }
    const Subject* s = props::find_subject(rp.subject);
    PropertyId p;
    if (s == nullptr || !props::property_from_name(rp.property, &p)) {
      std::fprintf(stderr,
                   "kconform replay: invalid repro: %s: unknown subject '%s' or property '%s'\n",
                   path.c_str(), rp.subject.c_str(), rp.property.c_str());
      return 2;
    }
    if (s->op() != rp.c.op) {
      std::fprintf(stderr,
                   "kconform replay: invalid repro: %s: subject %s runs op %s, the case is %s\n",
                   path.c_str(), s->name().c_str(), s->op().c_str(), rp.c.op.c_str());
      return 2;
    }
    if (a.flag("upgrade") && rp.version != props::kReproVersion) {
      if (!props::rewrite_repro(rp, path, &err)) {
        std::fprintf(stderr, "kconform replay: %s\n", err.c_str());
        return 2;
      }
      std::printf("%s: rewritten as repro version %d\n", path.c_str(), props::kReproVersion);
    }
    const bool gpu = s->backend() == Backend::kGpu;
    if ((only == "host" && gpu) || (only == "gpu" && !gpu)) continue;
    if (gpu && !gpu_present()) {
      std::printf("%s: skipped, needs a GPU (subject %s)\n", path.c_str(), s->name().c_str());
      ++skipped;
      continue;
    }
    ++replayed;
    const props::Verdict v = isolation(a) == props::Isolation::kChildProcess
                                 ? props::run_property_isolated(p, *s, rp.c, "", case_seconds)
                                 : props::run_property(p, *s, rp.c);
    if (v.failed()) {
      ++still;
      std::fputs(props::describe_failure(*s, p, rp.c, v).c_str(), stdout);
      const bool same = v.worst.observed == rp.failure.observed && v.worst.row == rp.failure.row &&
                        v.worst.col == rp.failure.col && v.message == rp.message;
      std::printf("  %s\n", same ? "reproduced bit for bit (same element, same observed bits)"
                                 : "fails differently from the recorded failure");
    } else {
      std::printf("%s: %s %s passes now (%s)\n", path.c_str(), s->name().c_str(),
                  rp.property.c_str(),
                  v.kind == props::Verdict::Kind::kNotApplicable ? v.message.c_str() : "ok");
    }
    std::fflush(stdout);
  }
  std::printf("kconform replay: %d replayed, %d still failing, %d skipped\n", replayed, still,
              skipped);
  if (still > 0) return 1;
  return replayed == 0 && skipped > 0 ? 77 : 0;
}

}  // namespace
}  // namespace kc::cli

int main(int argc, char** argv) {
  using namespace kc::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  // Each command's flags (options without a value); validate() rejects the others.
  const std::map<std::string, std::set<std::string>> flags = {
      {"list", {"help", "mutants"}},
      {"check", {"help", "mutants", "verbose", "quiet", "in-process"}},
      {"classify", {"help", "quiet", "in-process"}},
      {"replay", {"help", "upgrade", "in-process"}},
      {"fuzz", {"help", "mutants", "quiet", "in-process"}},
      {"bench", {"help", "no-peers", "quick"}},
      {"report", {"help", "strict"}}};
  const auto it = flags.find(cmd);
  if (it == flags.end()) return usage_error("unknown command '" + cmd + "'");
  Args args(argc - 2, argv + 2, it->second);
  if (cmd == "list") return cmd_list(args, argv[0]);
  if (cmd == "check") return cmd_check(args);
  if (cmd == "classify") return cmd_classify(args);
  if (cmd == "replay") return cmd_replay(args);
  if (cmd == "fuzz") return cmd_fuzz(args);
  if (cmd == "bench") return cmd_bench(args);
  return cmd_report(args);
}

// kconform: the command-line front end of the harness.
//
//   kconform list                      ops, profiles, subjects and what they support
//   kconform check [filters] [budget]  runs the property suite, exit 0 only when all conforms
//   kconform replay FILE...            replays repros written by check
//   kconform fuzz ...                  seed-sharded GPU/twin campaign (see --help)
//   kconform bench ...                 the GPU benchmark suite and its peers
//   kconform report ...                per-commit precision/performance report
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"
#include "kc/kernels/rmsnorm.h"
#include "kc/props/device.h"
#include "kc/props/mutants.h"
#include "kc/props/op.h"
#include "kc/props/property.h"
#include "kc/props/repro.h"
#include "kc/ref/rmsnorm.h"
#include "results.h"

namespace kc::cli {
namespace {

using props::Backend;
using props::PropertyId;
using props::Subject;

const char* kUsage =
    "usage: kconform <command> [options]\n"
    "\n"
    "commands:\n"
    "  list      ops, profiles, subjects, their dtypes, bounds and promises\n"
    "  check     run the property suite (exit 0 only when every selected pair conforms)\n"
    "  replay    replay repro files written by check or fuzz\n"
    "  fuzz      a timed, seed-sharded campaign over all subjects; JSON results merge\n"
    "  bench     run the GPU benchmarks (and the PyTorch peers when python3 has torch)\n"
    "  report    write reports/<sha>/ (precision, performance, environment, summary)\n"
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
    "  --subject NAME     exact subject name or a substring; repeatable (peers such as\n"
    "                     flashinfer.* run only when named)\n"
    "  --op OP            rmsnorm | fused_add_rmsnorm\n"
    "  --profile P        e.g. rmsnorm.hf\n"
    "  --property P       bounded_error twin_bitwise batch_invariant deterministic\n"
    "                     layout_invariant support_agrees empty_batch special_values; repeatable\n"
    "  --dtype D          fp32 | fp16 | bf16: only cases of this dtype; repeatable\n"
    "  --backend B        auto | host | gpu | all\n"
    "  --mutants          include the calibration mutants (they are expected to fail)\n"
    "budget:\n"
    "  --level L          quick (default) | soak: per-property case counts and sizes\n"
    "  --cases N          cases per pair (overrides the level)\n"
    "  --seed S           RapidCheck seed (default: fixed per pair at quick level, fresh at soak)\n"
    "  --seconds T        stop starting new pairs after T seconds (the result says so)\n"
    "  --shard I/N        run only the pairs with index % N == I\n"
    "output:\n"
    "  --repro-dir DIR    where failing repros go (default .)\n"
    "  --json FILE        machine-readable results (reports read these)\n"
    "  --verbose          print each pair's case distribution (RC_TAG / RC_CLASSIFY)\n"
    "  --quiet            no progress lines\n"
    "exit status: 0 all pass, 1 a failure, 2 usage error, 77 nothing ran (GPU subjects, no GPU).\n";

const char* kReplayHelp =
    "usage: kconform replay [--backend host|gpu|all] FILE...\n"
    "\n"
    "Runs each repro's property once on its subject and case. Prints the failure as check did;\n"
    "says whether the observed value is bit for bit the one recorded. GPU repros are skipped\n"
    "where there is no GPU. Exit 0 when every replayed repro passes, 1 when any still fails,\n"
    "2 when a file cannot be read, 77 when every repro needed a GPU that is not there.\n";

const char* kListHelp =
    "usage: kconform list [--mutants]\n"
    "Ops with their profiles; subjects with backend, claimed profile, dtypes, bound and\n"
    "promises; the support limits of kconform's kernels.\n";

bool gpu_present() {
  static const bool present = props::gpu_available();
  return present;
}

std::uint64_t name_seed(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h | 1u;
}

int cmd_list(const Args& a) {
  if (a.flag("help")) {
    std::fputs(kListHelp, stdout);
    return 0;
  }
  const bool mutants = a.flag("mutants");
  std::printf("ops and profiles:\n");
  for (const props::OpInfo& op : props::all_ops()) {
    std::printf("  %-18s", op.name.c_str());
    for (const std::string& p : op.profiles) std::printf(" %s", p.c_str());
    std::printf("\n");
  }
  std::printf(
      "\nsupport of kconform's kernels: dtypes fp32 fp16 bf16 (one per call); hidden 1..%lld;"
      " any row stride >= hidden; any element-aligned base; num_tokens 0..2^63 with\n"
      "64-bit addressing; in place when output == input exactly. Profiles: all but "
      "fused_add_rmsnorm.legacy_mixed.\n\n",
      static_cast<long long>(kMaxHidden));
  std::printf("%-44s %-4s %-34s %-16s %s\n", "subject", "on", "claims", "dtypes",
              "promises / bound");
  for (const auto& s : props::subjects()) {
    if (!s->defect().empty() && !mutants) continue;
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
      pr += std::string("| <= ") + ulps + " ulp" + (b.flush_to_zero ? ", ftz" : "");
    } else {
      pr += "| kernel bound";
    }
    if (!s->defect().empty()) pr += " | DEFECT: " + s->defect();
    if (s->peer()) pr += " | peer: checked when named (--subject)";
    std::printf("%-44s %-4s %-34s %-16s %s\n", s->name().c_str(),
                s->backend() == Backend::kGpu ? "gpu" : "host", s->profile().c_str(), dts.c_str(),
                pr.c_str());
  }
  if (!mutants) std::printf("\n(%s)\n", "calibration mutants hidden; --mutants lists them");
  return 0;
}

int cmd_check(const Args& a) {
  if (a.flag("help")) {
    std::fputs(kCheckHelp, stdout);
    return 0;
  }
  const std::string level = a.value("level", "quick");
  int shard = 0;
  int shards = 1;
  if (a.has("shard") && !parse_shard(a.value("shard", ""), &shard, &shards)) {
    return usage_error("--shard wants I/N with 0 <= I < N");
  }
  Selection sel;
  std::string err;
  if (!select_pairs(a, &sel, &err)) return usage_error(err);
  const std::vector<Pair>& pairs = sel.pairs;
  const int gpu_skipped = sel.gpu_skipped;
  std::vector<Pair> mine;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shards)) == shard) mine.push_back(pairs[i]);
  }
  if (mine.empty()) {
    if (gpu_skipped > 0) {
      std::printf("no usable GPU: %d GPU subject/property pairs skipped\n", gpu_skipped);
      return 77;
    }
    return usage_error("no (subject, property) pair matches the selection");
  }

  const double seconds = std::atof(a.value("seconds", "0").c_str());
  const bool quiet = a.flag("quiet");
  const auto start = now_seconds();
  Results results(a.value("json", ""));
  int failed = 0;
  int ran = 0;
  bool timed_out = false;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (seconds > 0 && now_seconds() - start > seconds) {
      timed_out = true;
      break;
    }
    const Subject& base = *mine[i].subject;
    const PropertyId p = mine[i].property;
    props::CheckConfig cfg;
    cfg.budget = props::budget_for(p, base, level);
    if (a.has("cases")) cfg.budget.cases = std::atoi(a.value("cases", "100").c_str());
    cfg.seed = a.has("seed")      ? std::strtoull(a.value("seed", "1").c_str(), nullptr, 0)
               : level == "quick" ? name_seed(base.name() + property_name(p))
                                  : 0;
    cfg.repro_dir = a.value("repro-dir", ".");
    cfg.verbose = a.flag("verbose");
    const props::CheckResult r = props::check_property(p, base, cfg);
    ++ran;
    results.add(base, p, r);
    if (!r.passed) ++failed;
    if (!quiet || !r.passed) {
      std::fprintf(stderr, "[%zu/%zu] %-44s %-16s %s  %d cases (%d n/a), %.1f s, seed %llu\n",
                   i + 1, mine.size(), base.name().c_str(), props::property_name(p),
                   r.passed ? "ok" : "FAILED", r.cases, r.not_applicable, r.seconds,
                   static_cast<unsigned long long>(r.seed));
    }
    if (cfg.verbose) {
      for (const auto& [line, n] : r.distribution)
        std::fprintf(stderr, "      %6d  %s\n", n, line.c_str());
    }
    if (!r.passed) {
      if (r.counterexample) {
        std::fputs(props::describe_failure(base, p, *r.counterexample, r.failure).c_str(), stdout);
        std::printf("  shrunk in %.1f s; repro: %s\n  replay: %s\n", r.shrink_seconds,
                    r.repro_path.empty() ? "(not written)" : r.repro_path.c_str(),
                    props::replay_command(r.repro_path).c_str());
      } else {
        std::printf("%s %s FAILED: %s\n", base.name().c_str(), props::property_name(p),
                    r.failure.message.c_str());
      }
    }
  }
  results.set_summary(ran, failed, timed_out, now_seconds() - start);
  if (!results.write()) std::fprintf(stderr, "could not write --json file\n");
  std::printf("kconform check: %d pairs, %d passed, %d failed%s (%.1f s)\n", ran, ran - failed,
              failed, timed_out ? ", stopped at --seconds" : "", now_seconds() - start);
  return failed == 0 ? 0 : 1;
}

int cmd_replay(const Args& a) {
  if (a.flag("help") || a.positional().empty()) {
    std::fputs(kReplayHelp, a.flag("help") ? stdout : stderr);
    return a.flag("help") ? 0 : 2;
  }
  int still = 0;
  int skipped = 0;
  int replayed = 0;
  for (const std::string& path : a.positional()) {
    props::Repro rp;
    std::string err;
    if (!props::read_repro(path, &rp, &err)) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 2;
    }
    const Subject* s = props::find_subject(rp.subject);
    PropertyId p;
    if (s == nullptr || !props::property_from_name(rp.property, &p)) {
      std::fprintf(stderr, "%s: unknown subject '%s' or property '%s'\n", path.c_str(),
                   rp.subject.c_str(), rp.property.c_str());
      return 2;
    }
    const std::string only = a.value("backend", "all");
    const bool gpu = s->backend() == Backend::kGpu;
    if ((only == "host" && gpu) || (only == "gpu" && !gpu)) continue;
    if (gpu && !gpu_present()) {
      std::printf("%s: skipped, needs a GPU (subject %s)\n", path.c_str(), s->name().c_str());
      ++skipped;
      continue;
    }
    ++replayed;
    const props::Verdict v = props::run_property(p, *s, rp.c);
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
  Args args(argc - 2, argv + 2);
  if (!args.error().empty()) return usage_error(args.error());
  if (cmd == "list") return cmd_list(args);
  if (cmd == "check") return cmd_check(args);
  if (cmd == "replay") return cmd_replay(args);
  if (cmd == "fuzz") return cmd_fuzz(args);
  if (cmd == "bench") return cmd_bench(args);
  if (cmd == "report") return cmd_report(args);
  return usage_error("unknown command '" + cmd + "'");
}

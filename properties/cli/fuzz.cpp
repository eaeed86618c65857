// kconform fuzz: a timed campaign. Rounds go over every selected (subject, property) pair, each
// round with fresh seeds derived from (--seed, --shard, round, pair), until --seconds have passed.
// Shards are independent (seed-sharded), so N processes with --shard 0/N .. N-1/N cover N times
// the cases; their --json outputs merge with `kconform fuzz --merge a.json b.json --json all.json`
// (and `kconform report` reads them directly).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.h"
#include "kc/props/check.h"
#include "kc/props/device.h"

namespace kc::cli {
namespace {

const char* kFuzzHelp =
    "usage: kconform fuzz [options]\n"
    "       kconform fuzz --merge FILE... --json OUT\n"
    "\n"
    "A campaign over every selected (subject, property) pair, in rounds of --round-cases cases\n"
    "with fresh seeds, until --seconds have passed; on the best backend present (GPU subjects\n"
    "when a GPU is there, twins otherwise). A failure is shrunk and written as a repro; the\n"
    "campaign goes on with the other pairs.\n"
    "\n"
    "  --seconds T        campaign length (default 60)\n"
    "  --shard I/N        this process is shard I of N: seeds never overlap between shards\n"
    "  --seed S           base seed (default 1); the same seed and shard give the same cases\n"
    "  --round-cases N    cases per pair per round (default 50)\n"
    "  --subject, --op, --profile, --property, --dtype, --backend, --mutants: as for check\n"
    "  --repro-dir DIR    where repros go (default ./repros, created when needed)\n"
    "  --case-seconds T   a case still running after T seconds is a hang (default 60)\n"
    "  --in-process       run subjects in this process (default: each pair in a child process,\n"
    "                     so a crash or a hang fails the pair and the campaign goes on)\n"
    "  --json FILE        results (the schema of check --json, with a \"fuzz\" section)\n"
    "  --merge FILE...    merge results of several shards (or checks) into --json\n"
    "exit status: 0 no failure, 1 a failure, 2 usage error, 77 nothing ran (no GPU).\n"
    "\n"
    "Spreading shards: on one host with several GPUs, register one ctest per shard with\n"
    "RESOURCE_GROUPS gpus:1 and run ctest --resource-spec-file (each test then sees its GPU in\n"
    "CTEST_RESOURCE_GROUP_0_GPUS; pass it through CUDA_VISIBLE_DEVICES); across hosts, a Slurm\n"
    "job array or a CI matrix runs --shard $TASK_ID/$TASK_COUNT. The README shows both.\n";

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) | 1u;
}

}  // namespace

int cmd_fuzz(const Args& a) {
  std::set<std::string> options = kSelectionOptions;
  options.insert(
      {"seconds", "shard", "seed", "round-cases", "repro-dir", "json", "merge", "case-seconds"});
  if (const std::string e = a.validate(options); !e.empty()) return usage_error(e);
  if (a.flag("help")) {
    std::fputs(kFuzzHelp, stdout);
    return 0;
  }
  if (a.has("merge")) {
    std::vector<std::string> inputs = a.values("merge");
    for (const std::string& p : a.positional()) inputs.push_back(p);
    const std::string out = a.value("json", "");
    if (out.empty()) return usage_error("--merge needs --json OUT");
    std::string err;
    results::ResultSet set;
    if (!set.load(inputs, &err)) return usage_error(err);
    if (!set.write(out)) return usage_error("cannot write " + out);
    std::printf("merged %zu files: %zu pairs, %lld cases, %d failing pairs -> %s\n", inputs.size(),
                set.pairs().size(), static_cast<long long>(set.total_cases()), set.failed_pairs(),
                out.c_str());
    return set.failed_pairs() == 0 ? 0 : 1;
  }
  if (!a.positional().empty()) return usage_error("fuzz takes no file '" + a.positional()[0] + "'");
  int shard = 0;
  int shards = 1;
  if (a.has("shard") && !parse_shard(a.value("shard", ""), &shard, &shards)) {
    return usage_error("--shard " + a.value("shard", "") + ": want I/N with 0 <= I < N");
  }
  std::string err;
  double seconds = 60;
  long long round_cases = 50;
  std::uint64_t base = 1;
  if (!a.seconds_value("seconds", 60, &seconds, &err) ||
      !a.int_value("round-cases", 1, 1000000, 50, &round_cases, &err) ||
      !a.uint_value("seed", 1, &base, &err)) {
    return usage_error(err);
  }
  double case_seconds = 60;
  if (!case_seconds_value(a, &case_seconds, &err)) return usage_error(err);
  Selection sel;
  if (!select_pairs(a, &sel, &err)) return usage_error(err);
  if (sel.pairs.empty()) {
    if (sel.gpu_skipped > 0) {
      std::printf("no usable GPU: %d GPU pairs skipped\n", sel.gpu_skipped);
      return 77;
    }
    return usage_error("no (subject, property) pair matches the selection");
  }
  const std::string repro_dir = a.value("repro-dir", "repros");
  const bool can_write = ensure_dir(repro_dir, &err);
  if (!can_write) return usage_error("--repro-dir " + repro_dir + ": " + err);
  if (a.has("json") && !writable_file(a.value("json", ""), &err)) {
    return usage_error("--json: " + err);
  }
  results::ResultSet results = new_result_set();
  const double start = now_seconds();
  double last_progress = start;
  int round = 0;
  int failures = 0;
  long long cases = 0;
  while (now_seconds() - start < seconds) {
    for (std::size_t i = 0; i < sel.pairs.size() && now_seconds() - start < seconds; ++i) {
      const props::Subject& s = *sel.pairs[i].subject;
      const props::PropertyId p = sel.pairs[i].property;
      props::CheckConfig cfg;
      cfg.budget = props::budget_for(p, s, "soak");
      cfg.budget.cases = static_cast<int>(round_cases);
      cfg.seed = mix(mix(base, static_cast<std::uint64_t>(shard) * 1000003u +
                                   static_cast<std::uint64_t>(round)),
                     i);
      cfg.dtypes = sel.dtypes;
      cfg.repro_dir = repro_dir;
      cfg.write_repro = can_write;
      cfg.isolation = isolation(a);
      cfg.case_seconds = case_seconds;
      const props::CheckResult r = props::check_property(p, s, cfg);
      results.add(props::pair_record(s, p, r));
      cases += r.cases;
      if (!r.passed) {
        ++failures;
        std::printf("%s %s FAILED (round %d, seed %llu): %s\n  repro: %s\n", s.name().c_str(),
                    props::property_name(p), round, static_cast<unsigned long long>(r.seed),
                    r.failure.message.c_str(), r.repro_path.c_str());
        std::fflush(stdout);
      }
      if (!a.flag("quiet") && now_seconds() - last_progress > 10) {
        last_progress = now_seconds();
        std::fprintf(stderr, "[fuzz %d/%d] %.0f s, round %d: %lld cases, %d failures\n", shard,
                     shards, now_seconds() - start, round, cases, failures);
      }
    }
    ++round;
  }
  results::Summary summary;
  summary.pairs = static_cast<int>(sel.pairs.size());
  summary.failed = results.failed_pairs();
  summary.seconds = now_seconds() - start;
  results.set_summary(summary);
  results.set_fuzz({shard, shards, round, std::to_string(base)});
  const std::string json_path = a.value("json", "");
  if (!json_path.empty() && !results.write(json_path)) {
    std::fprintf(stderr, "kconform: cannot write --json %s\n", json_path.c_str());
  }
  std::printf(
      "kconform fuzz shard %d/%d: %d rounds, %lld cases over %zu pairs, %d failures "
      "(%.0f s)\n",
      shard, shards, round, cases, sel.pairs.size(), failures, now_seconds() - start);
  return failures == 0 ? 0 : 1;
}

}  // namespace kc::cli

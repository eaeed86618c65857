// kconform bench: every family's GPU benchmark binary (bench/<family>_bench) and, when python3
// has PyTorch with CUDA, the peers (bench/torch_peers.py), merged into one Google Benchmark JSON
// file whose context carries the families' report descriptions (axes, targets).
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli.h"
#include "kc/props/device.h"
#include "kc/props/family.h"
#include "kc/results/json_file.h"

#ifndef KC_BENCH_DIR
#define KC_BENCH_DIR "bench"
#endif
#ifndef KC_TORCH_PEERS
#define KC_TORCH_PEERS "bench/torch_peers.py"
#endif

namespace kc::cli {
namespace json = boost::json;
namespace {

const char* kBenchHelp =
    "usage: kconform bench [options]\n"
    "\n"
    "Runs the GPU benchmarks of every family (bench/<family>_bench): the device-to-device copy\n"
    "ceiling, every profile and dtype at bandwidth shapes (1 GiB moved, L2 flushed) and decode\n"
    "shapes (CUDA-graph replay, PDL off and on); each configuration checked against the twin\n"
    "before it is timed. Then the PyTorch peers (eager, torch.compile static and dynamic) when\n"
    "python3 has torch with CUDA.\n"
    "\n"
    "  --out FILE         merged results (default perf.json)\n"
    "  --family F         only this family's benchmarks; repeatable (default: all)\n"
    "  --filter REGEX     Google Benchmark filter over our rows (default: all)\n"
    "  --min-time T       per-row minimum time, Google Benchmark syntax (default 0.05s)\n"
    "  --no-peers         skip the PyTorch peers\n"
    "  --quick            peers: bf16 only, three sizes\n"
    "  --bench-dir DIR    where the benchmark binaries are (default: this build's bench/)\n"
    "exit status: 0 done, 1 a benchmark failed, 2 usage error, 77 no GPU.\n";

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

int cmd_bench(const Args& a) {
  if (const std::string e = a.validate({"out", "family", "filter", "min-time", "bench-dir"});
      !e.empty()) {
    return usage_error(e);
  }
  if (a.flag("help")) {
    std::fputs(kBenchHelp, stdout);
    return 0;
  }
  std::vector<std::string> families = a.values("family");
  for (const std::string& f : families) {
    bool known = false;
    for (const auto& fam : props::families()) known = known || fam->name() == f;
    if (!known) return usage_error("--family " + f + ": no such family (kconform list)");
  }
  if (families.empty()) {
    for (const auto& fam : props::families()) families.push_back(fam->name());
  }
  if (!props::gpu_available()) {
    std::printf("no usable GPU: benchmarks not run\n");
    return 77;
  }
  const std::string out = a.value("out", "perf.json");
  const std::string dir = a.value("bench-dir", KC_BENCH_DIR);
  json::object merged;
  json::array rows;
  int our_rows = 0;
  for (const std::string& f : families) {
    const std::string exe = dir + "/" + f + "_bench";
    if (!std::filesystem::exists(exe)) {
      std::printf("family %s has no benchmark binary (%s)\n", f.c_str(), exe.c_str());
      continue;
    }
    const std::string part = out + "." + f + ".json";
    const std::string cmd = quote(exe) + " --benchmark_filter=" + quote(a.value("filter", ".")) +
                            " --benchmark_min_time=" + a.value("min-time", "0.05s") +
                            " --benchmark_out=" + quote(part) + " --benchmark_out_format=json";
    std::printf("running %s\n", exe.c_str());
    std::fflush(stdout);
    const int rc = std::system(cmd.c_str());
    json::value mine;
    std::string error;
    if (rc != 0 || !results::read_json_object(part, &mine, &error)) {
      std::fprintf(stderr, "kconform bench: %s failed (status %d)\n", exe.c_str(), rc);
      return 1;
    }
    if (merged.empty()) merged["context"] = mine.as_object().at("context");
    for (const json::value& r : mine.as_object().at("benchmarks").as_array()) {
      rows.push_back(r);
      ++our_rows;
    }
  }
  int peer_rows = 0;
  if (!a.flag("no-peers")) {
    const std::string peers = out + ".torch.json";
    const int has_torch = std::system(
        "python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' "
        ">/dev/null 2>&1");
    if (has_torch == 0) {
      std::string fams;
      for (const std::string& f : families) fams += " " + quote(f);
      const std::string pcmd = "python3 " + quote(KC_TORCH_PEERS) + " --out " + quote(peers) +
                               " --families" + fams + (a.flag("quick") ? " --quick" : "");
      std::printf("running the PyTorch peers\n");
      std::fflush(stdout);
      json::value theirs;
      std::string error;
      if (std::system(pcmd.c_str()) == 0 && results::read_json_object(peers, &theirs, &error)) {
        for (const json::value& r : theirs.as_object().at("benchmarks").as_array()) {
          rows.push_back(r);
          ++peer_rows;
        }
        if (merged.contains("context")) {
          merged["context"].as_object()["peers"] = theirs.as_object().at("context");
        }
      } else {
        std::fprintf(stderr, "kconform bench: the PyTorch peers failed; see %s\n", peers.c_str());
      }
    } else {
      std::printf("python3 has no PyTorch with CUDA: peers not run\n");
    }
  }
  if (!merged.contains("context")) merged["context"] = json::object();
  merged["context"].as_object()["families"] = results::to_json(props::family_reports());
  merged["benchmarks"] = std::move(rows);
  std::ofstream f(out);
  f << json::serialize(merged) << "\n";
  std::printf("kconform bench: %d kconform rows, %d peer rows -> %s\n", our_rows, peer_rows,
              out.c_str());
  return f ? 0 : 1;
}

}  // namespace kc::cli

// kconform bench: the GPU benchmark suite (bench/rmsnorm_bench) and, when python3 has PyTorch
// with CUDA, its peers (bench/torch_peers.py), merged into one Google Benchmark JSON file.
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cli.h"
#include "kc/props/device.h"
#include "kc/props/json_file.h"

#ifndef KC_BENCH_EXE
#define KC_BENCH_EXE "rmsnorm_bench"
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
    "Runs the GPU benchmarks: the device-to-device copy ceiling, every norm profile and dtype at\n"
    "bandwidth shapes (1 GiB moved, L2 flushed) and decode shapes (1..256 tokens, CUDA-graph\n"
    "replay); each configuration checked bit for bit against the twin before it is timed. Then\n"
    "the PyTorch peers (eager, torch.compile) when python3 has torch with CUDA.\n"
    "\n"
    "  --out FILE         merged results (default perf.json)\n"
    "  --filter REGEX     Google Benchmark filter over our rows (default: all)\n"
    "  --min-time T       per-row minimum time, Google Benchmark syntax (default 0.05s)\n"
    "  --no-peers         skip the PyTorch peers\n"
    "  --quick            peers: bf16 only, three hidden sizes\n"
    "  --bench-exe PATH   the benchmark binary (default: the one built with this kconform)\n"
    "exit status: 0 done, 1 a benchmark failed, 77 no GPU.\n";

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

int cmd_bench(const Args& a) {
  if (a.flag("help")) {
    std::fputs(kBenchHelp, stdout);
    return 0;
  }
  if (!props::gpu_available()) {
    std::printf("no usable GPU: benchmarks not run\n");
    return 77;
  }
  const std::string out = a.value("out", "perf.json");
  const std::string ours = out + ".kconform.json";
  const std::string peers = out + ".torch.json";
  const std::string exe = a.value("bench-exe", KC_BENCH_EXE);
  const std::string cmd = quote(exe) + " --benchmark_filter=" + quote(a.value("filter", ".")) +
                          " --benchmark_min_time=" + a.value("min-time", "0.05s") +
                          " --benchmark_out=" + quote(ours) + " --benchmark_out_format=json";
  std::printf("running %s\n", exe.c_str());
  std::fflush(stdout);
  const int rc = std::system(cmd.c_str());
  json::value mine;
  std::string error;  // not printed: the message below covers a failed run and a bad file
  if (rc != 0 || !props::read_json_object(ours, &mine, &error)) {
    std::fprintf(stderr, "kconform bench: the benchmark run failed (status %d)\n", rc);
    return 1;
  }
  json::object merged = mine.as_object();
  int peer_rows = 0;
  if (!a.flag("no-peers")) {
    const int has_torch = std::system(
        "python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' "
        ">/dev/null 2>&1");
    if (has_torch == 0) {
      const std::string pcmd = "python3 " + quote(KC_TORCH_PEERS) + " --out " + quote(peers) +
                               (a.flag("quick") ? " --quick" : "");
      std::printf("running the PyTorch peers\n");
      std::fflush(stdout);
      json::value theirs;
      if (std::system(pcmd.c_str()) == 0 && props::read_json_object(peers, &theirs, &error)) {
        json::array& rows = merged["benchmarks"].as_array();
        for (const json::value& r : theirs.as_object().at("benchmarks").as_array()) {
          rows.push_back(r);
          ++peer_rows;
        }
        merged["context"].as_object()["peers"] = theirs.as_object().at("context");
      } else {
        std::fprintf(stderr, "kconform bench: the PyTorch peers failed; see %s\n", peers.c_str());
      }
    } else {
      std::printf("python3 has no PyTorch with CUDA: peers not run\n");
    }
  }
  std::ofstream f(out);
  f << json::serialize(merged) << "\n";
  std::printf("kconform bench: %zu kconform rows, %d peer rows -> %s\n",
              mine.as_object().at("benchmarks").as_array().size(), peer_rows, out.c_str());
  return f ? 0 : 1;
}

}  // namespace kc::cli

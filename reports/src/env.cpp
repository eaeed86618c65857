// env.json: the machine and build a report describes (report.h, environment_json).
#include <cuda_runtime_api.h>

#include <boost/json.hpp>
#include <boost/version.hpp>
#include <cstdio>
#include <ctime>
#include <string>

#include "report.h"

#ifndef KC_BUILD_FLAGS
#define KC_BUILD_FLAGS "unknown"
#endif

namespace kc::reports {
namespace json = boost::json;
namespace {

std::string run_command(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

std::string environment_json(const std::string& commit) {
  json::object o;
  o["commit"] = commit.empty() ? "unknown" : commit;
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  o["date"] = date;
  o["cpu"] = run_command("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'");
  o["cores"] = run_command("nproc");
  int runtime = 0, driver = 0, count = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  json::object cuda;
  cuda["runtime"] = runtime;
  cuda["driver"] = driver;
  cuda["nvcc"] = run_command("nvcc --version 2>/dev/null | tail -1");
  o["cuda"] = cuda;
  if (cudaGetDeviceCount(&count) == cudaSuccess && count > 0) {
    cudaDeviceProp p{};
    cudaGetDeviceProperties(&p, 0);
    json::object g;
    g["name"] = p.name;
    g["compute_capability"] = std::to_string(p.major) + "." + std::to_string(p.minor);
    g["multiprocessors"] = p.multiProcessorCount;
    g["memory_bytes"] = static_cast<std::uint64_t>(p.totalGlobalMem);
    g["l2_bytes"] = p.l2CacheSize;
    g["driver_version"] = run_command(
        "nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1");
    g["clocks"] = run_command(
        "nvidia-smi --query-gpu=clocks.sm,clocks.mem --format=csv,noheader 2>/dev/null | head -1");
    o["gpu"] = g;
  } else {
    (void)cudaGetLastError();
    o["gpu"] = nullptr;
  }
  o["compiler"] = __VERSION__;
  o["build_flags"] = KC_BUILD_FLAGS;
  o["boost"] = BOOST_LIB_VERSION;
  return json::serialize(o);
}

}  // namespace kc::reports

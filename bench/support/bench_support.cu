// Shared benchmark support (bench_support.h) and the main() of every family's benchmark.
#include "bench_support.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace kc::bench {
void BM_Copy(benchmark::State& st);
void BM_EmptyKernel(benchmark::State& st);
namespace {

struct Shared {
  void* flush = nullptr;
  void* a = nullptr;
  void* b = nullptr;
  double copy_gbps = 0;
};
Shared& shared() {
  static Shared s;
  return s;
}

constexpr std::size_t kCopyBytes = std::size_t{512} << 20;  // 1 GiB moved

void* flush_buffer(benchmark::State& st) {
  Shared& s = shared();
  if (s.flush == nullptr && !check(cudaMalloc(&s.flush, kFlushBytes), st, "cudaMalloc")) {
    return nullptr;
  }
  return s.flush;
}

}  // namespace

void BM_Copy(benchmark::State& st) {
  Shared& s = shared();
  if ((s.a == nullptr && !check(cudaMalloc(&s.a, kCopyBytes), st, "cudaMalloc")) ||
      (s.b == nullptr && !check(cudaMalloc(&s.b, kCopyBytes), st, "cudaMalloc")) ||
      !check(cudaMemset(s.a, 1, kCopyBytes), st, "cudaMemset")) {
    return;
  }
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double best = 0;
  for (auto _ : st) {
    cudaEventRecord(a);
    cudaMemcpyAsync(s.b, s.a, kCopyBytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    st.SetIterationTime(ms / 1e3);
    best = std::max(best, 2.0 * kCopyBytes / (ms / 1e3) / 1e9);
  }
  s.copy_gbps = std::max(s.copy_gbps, best);
  st.counters["GBps"] = best;
  st.counters["bytes"] = 2.0 * kCopyBytes;
  results::PerfKey k;
  k.source = "kconform";
  k.kind = "copy";
  k.shape = {{"bytes", static_cast<std::int64_t>(2 * kCopyBytes)}};
  set_label(st, k);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  // The copy's buffers are not needed again: give the families their memory.
  cudaFree(s.a);
  cudaFree(s.b);
  s.a = s.b = nullptr;
}

namespace {
__global__ void empty_kernel(int pdl) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (pdl) {
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  }
#endif
}

}  // namespace

// The floor of a graph node on this GPU: an empty one-block kernel, with and without PDL.
void BM_EmptyKernel(benchmark::State& st) {
  const int pdl = static_cast<int>(st.range(0));
  const double t = graph_time(st, [&](cudaStream_t s) {
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = dim3(1);
    cfg.blockDim = dim3(32);
    cfg.stream = s;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    if (pdl) {
      cfg.attrs = attr;
      cfg.numAttrs = 1;
    }
    (void)cudaLaunchKernelEx(&cfg, empty_kernel, pdl);
  });
  st.counters["us_per_call"] = t * 1e6;
  results::PerfKey k;
  k.source = "kconform";
  k.kind = "empty";
  k.pdl = pdl != 0;
  set_label(st, k);
}

double copy_gbps() { return shared().copy_gbps; }

bool check(cudaError_t e, benchmark::State& st, const char* what) {
  if (e == cudaSuccess) return true;
  st.SkipWithError((std::string(what) + ": " + cudaGetErrorString(e)).c_str());
  return false;
}

double flushed_time(benchmark::State& st, const std::function<void()>& launch) {
  void* flush = flush_buffer(st);
  if (flush == nullptr) return 0;
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double total = 0;
  for (auto _ : st) {
    cudaMemsetAsync(flush, static_cast<int>(st.iterations() & 0xff), kFlushBytes);
    cudaEventRecord(a);
    launch();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    st.SetIterationTime(ms / 1e3);
    total += ms / 1e3;
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return total / static_cast<double>(std::max<benchmark::IterationCount>(st.iterations(), 1));
}

double graph_time(benchmark::State& st, const std::function<void(cudaStream_t)>& launch) {
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  for (int i = 0; i < kGraphReps; ++i) launch(s);
  if (!check(cudaStreamEndCapture(s, &graph), st, "capture") ||
      !check(cudaGraphInstantiate(&exec, graph, 0), st, "instantiate")) {
    cudaStreamDestroy(s);
    return 0;
  }
  for (int i = 0; i < 3; ++i) cudaGraphLaunch(exec, s);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double total = 0;
  for (auto _ : st) {
    cudaEventRecord(a, s);
    cudaGraphLaunch(exec, s);
    cudaEventRecord(b, s);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    st.SetIterationTime(ms / 1e3);
    total += ms / 1e3 / kGraphReps;
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaStreamDestroy(s);
  return total / static_cast<double>(std::max<benchmark::IterationCount>(st.iterations(), 1));
}

void set_counters(benchmark::State& st, double bytes, double seconds_per_call) {
  const double gbps = bytes / seconds_per_call / 1e9;
  st.counters["GBps"] = gbps;
  st.counters["us_per_call"] = seconds_per_call * 1e6;
  st.counters["pct_copy"] = copy_gbps() > 0 ? 100.0 * gbps / copy_gbps() : 0.0;
  st.counters["bytes"] = bytes;
}

void set_label(benchmark::State& st, const results::PerfKey& key) {
  st.SetLabel(results::perf_label(key));
}

}  // namespace kc::bench

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::printf("no CUDA device: GPU benchmarks not run\n");
    return 77;
  }
  using namespace kc::bench;
  benchmark::RegisterBenchmark("BM_Copy", BM_Copy)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(0.2);
  benchmark::RegisterBenchmark("BM_EmptyKernel", BM_EmptyKernel)
      ->Arg(0)
      ->Arg(1)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  register_family_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

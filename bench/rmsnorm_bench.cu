// GPU benchmarks of the norm kernels, beside the copy ceiling measured in the same run.
//
//  - BM_Copy: device-to-device cudaMemcpyAsync of 512 MiB (1 GiB moved); GB/s counts bytes read
//    + written.
//    Its best result is the ceiling every other row's "pct_copy" refers to.
//  - BM_Bandwidth (many tokens, 1 GiB moved): L2 flushed (a 256 MiB memset) before every
//    timed launch, CUDA events around the launch alone.
//  - BM_Decode (1..256 tokens): a CUDA graph of kGraphReps back-to-back launches (PDL edges on
//    sm_90), replayed; time per call = replay time / kGraphReps; warm L2, as a serving engine
//    sees it. BM_EmptyKernel gives the floor of a graph node; BM_Decode with a last argument of
//    0 turns PDL off.
// Bytes: every input element read once and every output element written once (the weight
// once): rmsnorm 2 N H + H elements, fused_add_rmsnorm 4 N H + H.
// Every configuration is checked against the host twin (bit for bit, first and last row)
// before it is timed; a mismatch or a rejected call ends that row with SkipWithError.
//
// FlashInfer (built with KC_FLASHINFER_INCLUDE): flashinfer/<profile>/<dtype>/<N>x<H>/<kind>
// rows, the same shapes and timing for RMSNorm, GemmaRMSNorm and FusedAddRMSNorm (which works
// in place: it runs on device copies of the inputs, so the shared inputs stay as uploaded;
// repeated timed calls keep updating those copies, which changes values, not the work done).
// Checked before timing against the twin of the profile it claims: outputs within one step of
// the twin's bits (both lie within 0.52 ulp of the exact value: properties/peers/
// flashinfer_subjects.cpp and rmsnorm_bound.h), the stored residual bit for bit.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/scalar.h"
#include "kc/kernels/rmsnorm.h"
#ifdef KC_HAVE_FLASHINFER
#include "flashinfer_norm.h"
#endif

namespace {

using kc::DType;

constexpr std::size_t kTensorBytes = std::size_t{512} << 20;  // per tensor
constexpr std::size_t kFlushBytes = std::size_t{256} << 20;   // > 5x the 50 MB L2
constexpr int kGraphReps = 20;

const char* const kProfiles[] = {"rmsnorm.fp32",           "rmsnorm.hf",
                                 "rmsnorm.gemma",          "fused_add_rmsnorm.fp32_sum",
                                 "fused_add_rmsnorm.hf",   "fused_add_rmsnorm.fp32_sum_hf_cast",
                                 "fused_add_rmsnorm.gemma"};

struct Modes {
  bool fused;
  kc::ResidualSum sum;
  kc::OutputRounding rounding;
  kc::WeightOffset offset;
};
Modes modes_of(int profile) {
  using R = kc::ResidualSum;
  using O = kc::OutputRounding;
  using W = kc::WeightOffset;
  switch (profile) {
    case 0:
      return {false, R::kFp32, O::kSingle, W::kZero};
    case 1:
      return {false, R::kFp32, O::kCastBeforeWeight, W::kZero};
    case 2:
      return {false, R::kFp32, O::kSingle, W::kOne};
    case 3:
      return {true, R::kFp32, O::kSingle, W::kZero};
    case 4:
      return {true, R::kRounded, O::kCastBeforeWeight, W::kZero};
    case 5:
      return {true, R::kFp32, O::kCastBeforeWeight, W::kZero};
    default:
      return {true, R::kRounded, O::kSingle, W::kOne};
  }
}

// Device tensors shared by every benchmark, filled once per dtype with normal data.
struct Device {
  void* x = nullptr;
  void* r = nullptr;
  void* y = nullptr;
  void* ro = nullptr;
  void* w = nullptr;
  void* flush = nullptr;
  DType filled = DType::kFp32;
  bool ready = false;
  std::vector<std::uint8_t> hx, hr, hw;  // host copies of the inputs (first 2 rows + weight)
  double copy_gbps = 0;
};
Device& dev() {
  static Device d;
  return d;
}

std::uint32_t quantize(DType d, float v) {
  return d == DType::kFp32   ? kc::detail::float_bits(v)
         : d == DType::kFp16 ? kc::detail::float_to_fp16(v)
                             : kc::detail::float_to_bf16(v);
}

bool check(cudaError_t e, benchmark::State& st, const char* what) {
  if (e == cudaSuccess) return true;
  st.SkipWithError((std::string(what) + ": " + cudaGetErrorString(e)).c_str());
  return false;
}

// Fills x, r (whole capacity) and w with normal data of dtype d; keeps host copies.
bool prepare(DType d, benchmark::State& st) {
  Device& g = dev();
  if (!g.ready) {
    for (void** p : {&g.x, &g.r, &g.y, &g.ro}) {
      if (!check(cudaMalloc(p, kTensorBytes), st, "cudaMalloc")) return false;
    }
    if (!check(cudaMalloc(&g.w, 65536 * 4), st, "cudaMalloc")) return false;
    if (!check(cudaMalloc(&g.flush, kFlushBytes), st, "cudaMalloc")) return false;
    g.ready = true;
    g.filled = static_cast<DType>(255);
  }
  if (g.filled == d) return true;
  const std::size_t es = kc::dtype_size(d);
  const std::size_t n = kTensorBytes / es;
  std::vector<std::uint8_t> hx(kTensorBytes), hr(kTensorBytes), hw(65536 * es);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 1);
  auto put = [&](std::vector<std::uint8_t>& v, std::size_t i, std::uint32_t bits) {
    std::memcpy(v.data() + i * es, &bits, es);
  };
  // One 64K-element random block, repeated (fast to generate, not constant).
  std::vector<std::uint32_t> blk(65536), blk2(65536);
  for (std::size_t i = 0; i < blk.size(); ++i) {
    blk[i] = quantize(d, normal(rng));
    blk2[i] = quantize(d, normal(rng) * 0.5f);
  }
  for (std::size_t i = 0; i < n; ++i) {
    put(hx, i, blk[(i * 7919) % blk.size()]);
    put(hr, i, blk2[(i * 104729) % blk2.size()]);
  }
  for (std::size_t i = 0; i < 65536; ++i) put(hw, i, quantize(d, 1 + normal(rng) * 0.1f));
  if (!check(cudaMemcpy(g.x, hx.data(), kTensorBytes, cudaMemcpyHostToDevice), st, "upload") ||
      !check(cudaMemcpy(g.r, hr.data(), kTensorBytes, cudaMemcpyHostToDevice), st, "upload") ||
      !check(cudaMemcpy(g.w, hw.data(), hw.size(), cudaMemcpyHostToDevice), st, "upload")) {
    return false;
  }
  g.hx = std::move(hx);
  g.hr = std::move(hr);
  g.hw = std::move(hw);
  g.filled = d;
  return true;
}

struct Call {
  Modes m;
  kc::RmsNormArgs norm;
  kc::FusedAddRmsNormArgs fused;
  kc::Status launch(cudaStream_t s) const {
    return m.fused ? kc::fused_add_rmsnorm(fused, s) : kc::rmsnorm(norm, s);
  }
};

// Out of place (x -> y, r -> ro) so every timed call sees the same inputs.
Call make_call(int profile, DType d, std::int64_t tokens, std::int64_t hidden, void* x, void* r,
               void* w, void* y, void* ro) {
  Call c;
  c.m = modes_of(profile);
  c.norm.num_tokens = c.fused.num_tokens = tokens;
  c.norm.hidden = c.fused.hidden = hidden;
  c.norm.input = c.fused.input = kc::ConstRows{x, d, hidden};
  c.fused.residual = kc::ConstRows{r, d, hidden};
  c.norm.weight = c.fused.weight = kc::ConstVector{w, d};
  c.norm.output = c.fused.output = kc::Rows{y, d, hidden};
  c.fused.residual_out = kc::Rows{ro, d, hidden};
  c.norm.output_rounding = c.fused.output_rounding = c.m.rounding;
  c.norm.weight_offset = c.fused.weight_offset = c.m.offset;
  c.fused.residual_sum = c.m.sum;
  return c;
}

// Runs the call once and compares rows 0 and tokens-1 of every output with the twin.
bool validate(const Call& gpu, DType d, std::int64_t tokens, std::int64_t hidden,
              benchmark::State& st) {
  const kc::Status s = gpu.launch(nullptr);
  if (!s.is_ok()) {
    st.SkipWithError(s.to_string().c_str());
    return false;
  }
  if (!check(cudaDeviceSynchronize(), st, "kernel")) return false;
  const std::size_t es = kc::dtype_size(d);
  const std::size_t row = static_cast<std::size_t>(hidden) * es;
  Device& g = dev();
  for (std::int64_t r : {std::int64_t{0}, tokens - 1}) {
    std::vector<std::uint8_t> x(g.hx.begin() + r * row, g.hx.begin() + (r + 1) * row);
    std::vector<std::uint8_t> res(g.hr.begin() + r * row, g.hr.begin() + (r + 1) * row);
    std::vector<std::uint8_t> y(row), ro(row), gy(row), gro(row);
    Call twin = make_call(0, d, 1, hidden, x.data(), res.data(), g.hw.data(), y.data(), ro.data());
    twin.m = gpu.m;
    twin.norm.output_rounding = twin.fused.output_rounding = gpu.m.rounding;
    twin.norm.weight_offset = twin.fused.weight_offset = gpu.m.offset;
    twin.fused.residual_sum = gpu.m.sum;
    const kc::Status ts =
        twin.m.fused ? kc::fused_add_rmsnorm_twin(twin.fused) : kc::rmsnorm_twin(twin.norm);
    if (!ts.is_ok()) {
      st.SkipWithError(("twin: " + ts.to_string()).c_str());
      return false;
    }
    if (!check(
            cudaMemcpy(gy.data(), static_cast<char*>(g.y) + r * row, row, cudaMemcpyDeviceToHost),
            st, "download")) {
      return false;
    }
    bool same = gy == y;
    if (gpu.m.fused) {
      if (!check(cudaMemcpy(gro.data(), static_cast<char*>(g.ro) + r * row, row,
                            cudaMemcpyDeviceToHost),
                 st, "download")) {
        return false;
      }
      same = same && gro == ro;
    }
    if (!same) {
      st.SkipWithError("GPU result differs from the twin: not timed");
      return false;
    }
  }
  return true;
}

void set_counters(benchmark::State& st, double bytes, double seconds_per_call) {
  const double gbps = bytes / seconds_per_call / 1e9;
  st.counters["GBps"] = gbps;
  st.counters["us_per_call"] = seconds_per_call * 1e6;
  st.counters["pct_copy"] = dev().copy_gbps > 0 ? 100.0 * gbps / dev().copy_gbps : 0.0;
  st.counters["bytes"] = bytes;
}

std::string label(int profile, DType d, std::int64_t tokens, std::int64_t hidden) {
  return std::string(kProfiles[profile]) + " " + kc::dtype_name(d) + " " + std::to_string(tokens) +
         "x" + std::to_string(hidden);
}

void BM_Copy(benchmark::State& st) {
  if (!prepare(DType::kFp32, st)) return;
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double best = 0;
  for (auto _ : st) {
    cudaEventRecord(a);
    cudaMemcpyAsync(dev().y, dev().x, kTensorBytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    st.SetIterationTime(ms / 1e3);
    best = std::max(best, 2.0 * kTensorBytes / (ms / 1e3) / 1e9);
  }
  dev().copy_gbps = std::max(dev().copy_gbps, best);
  st.counters["GBps"] = best;
  st.counters["bytes"] = 2.0 * kTensorBytes;
  st.SetLabel("device-to-device copy, 512 MiB");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}

// Bandwidth shapes: 1 GiB moved per call (as the copy), within the tensor capacity.
std::int64_t bandwidth_tokens(bool fused, std::int64_t hidden, std::size_t es) {
  return std::min<std::int64_t>(
      static_cast<std::int64_t>((std::size_t{1} << 30) / ((fused ? 4 : 2) * hidden * es)),
      static_cast<std::int64_t>(kTensorBytes / (hidden * es)));
}

// Bytes a call moves (see the header comment).
double moved_bytes(bool fused, std::int64_t tokens, std::int64_t hidden, std::size_t es) {
  return static_cast<double>(((fused ? 4 : 2) * tokens + 1) * hidden * es);
}

// Times `launch` alone between CUDA events, the L2 flushed before each; seconds per call.
template <typename F>
double flushed_time(benchmark::State& st, F&& launch) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double total = 0;
  for (auto _ : st) {
    cudaMemsetAsync(dev().flush, static_cast<int>(st.iterations() & 0xff), kFlushBytes);
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
  return total / static_cast<double>(st.iterations());
}

void BM_Bandwidth(benchmark::State& st) {
  const int profile = static_cast<int>(st.range(0));
  const DType d = static_cast<DType>(st.range(1));
  const std::int64_t hidden = st.range(2);
  const std::size_t es = kc::dtype_size(d);
  const Modes m = modes_of(profile);
  const std::int64_t tokens = bandwidth_tokens(m.fused, hidden, es);
  if (!prepare(d, st)) return;
  Device& g = dev();
  const Call call = make_call(profile, d, tokens, hidden, g.x, g.r, g.w, g.y, g.ro);
  if (!validate(call, d, tokens, hidden, st)) return;
  const double t = flushed_time(st, [&] { (void)call.launch(nullptr); });
  set_counters(st, moved_bytes(m.fused, tokens, hidden, es), t);
  st.SetLabel(label(profile, d, tokens, hidden));
}

// Times kGraphReps launches of `launch` captured in one graph; returns seconds per launch.
template <typename F>
double graph_time(benchmark::State& st, F&& launch) {
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  for (int i = 0; i < kGraphReps; ++i) launch(s);
  if (!check(cudaStreamEndCapture(s, &graph), st, "capture") ||
      !check(cudaGraphInstantiate(&exec, graph, 0), st, "instantiate")) {
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
    // The iteration is the whole replay (so --benchmark_min_time counts real GPU time, not a
    // twentieth of it); the per-call figure is the us_per_call counter.
    st.SetIterationTime(ms / 1e3);
    total += ms / 1e3 / kGraphReps;
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaStreamDestroy(s);
  return total / static_cast<double>(st.iterations());
}

__global__ void empty_kernel(int pdl) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (pdl) {
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  }
#endif
}

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
  st.SetLabel(pdl ? "empty kernel, PDL, graph" : "empty kernel, graph");
}

void BM_Decode(benchmark::State& st) {
  const int profile = static_cast<int>(st.range(0));
  const DType d = static_cast<DType>(st.range(1));
  const std::int64_t tokens = st.range(2);
  const std::int64_t hidden = st.range(3);
  const bool pdl = st.range(4) != 0;
  const std::size_t es = kc::dtype_size(d);
  if (!prepare(d, st)) return;
  Device& g = dev();
  Call call = make_call(profile, d, tokens, hidden, g.x, g.r, g.w, g.y, g.ro);
  call.norm.pdl = call.fused.pdl = pdl ? kc::Pdl::kAuto : kc::Pdl::kOff;
  if (!validate(call, d, tokens, hidden, st)) return;
  const double t = graph_time(st, [&](cudaStream_t s) { (void)call.launch(s); });
  set_counters(st, moved_bytes(modes_of(profile).fused, tokens, hidden, es), t);
  st.SetLabel(label(profile, d, tokens, hidden) + (pdl ? " graph" : " graph, no PDL"));
}

// dtype outermost: the 512 MiB inputs are regenerated only when the dtype changes.
void bandwidth_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {  // bf16, fp16, fp32
    for (int p = 0; p < 7; ++p) {
      for (int h : {1024, 2048, 4096, 8192, 16384}) b->Args({p, d, h});
    }
  }
}
void decode_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {
    for (int p = 0; p < 7; ++p) {
      for (int t : {1, 16, 64, 128, 256}) {
        for (int h : {1024, 2048, 4096, 8192, 16384}) b->Args({p, d, t, h, 1});
      }
    }
  }
}

#ifdef KC_HAVE_FLASHINFER
struct FlashInferOp {
  kc::peers::FlashInferNorm op;
  int profile;  // the profile it claims (kProfiles index)
};
const FlashInferOp kFlashInferOps[] = {{kc::peers::FlashInferNorm::kRmsNorm, 0},
                                       {kc::peers::FlashInferNorm::kGemmaRmsNorm, 2},
                                       {kc::peers::FlashInferNorm::kFusedAddRmsNorm, 3}};

// Rmsnorm variants read x and write y; the fused one updates y (input) and ro (residual) in place.
cudaError_t flashinfer_launch(const FlashInferOp& f, DType d, std::int64_t tokens,
                              std::int64_t hidden, bool pdl, cudaStream_t s) {
  Device& g = dev();
  const bool fused = modes_of(f.profile).fused;
  const auto h = static_cast<std::uint32_t>(hidden);
  return kc::peers::flashinfer_norm(f.op, d, fused ? g.y : g.x, fused ? g.ro : g.y, g.w,
                                    static_cast<std::uint32_t>(tokens), h, h, h,
                                    kc::RmsNormArgs{}.eps, pdl, s);
}

// Sign-magnitude order of 16-bit patterns: neighbours differ by one.
int ordered16(std::uint16_t b) { return (b & 0x8000) ? -(b & 0x7fff) : (b & 0x7fff); }

// Runs FlashInfer once on fresh copies of the inputs and compares rows 0 and tokens-1 with the
// twin of the claimed profile (see the header comment for the tolerance).
bool flashinfer_validate(const FlashInferOp& f, DType d, std::int64_t tokens, std::int64_t hidden,
                         benchmark::State& st) {
  Device& g = dev();
  const Modes m = modes_of(f.profile);
  const std::size_t es = kc::dtype_size(d);
  const std::size_t row = static_cast<std::size_t>(hidden) * es;
  const std::size_t all = row * static_cast<std::size_t>(tokens);
  if (m.fused && (!check(cudaMemcpy(g.y, g.x, all, cudaMemcpyDeviceToDevice), st, "copy") ||
                  !check(cudaMemcpy(g.ro, g.r, all, cudaMemcpyDeviceToDevice), st, "copy"))) {
    return false;
  }
  if (!check(flashinfer_launch(f, d, tokens, hidden, false, nullptr), st, "FlashInfer") ||
      !check(cudaDeviceSynchronize(), st, "FlashInfer kernel")) {
    return false;
  }
  for (std::int64_t r : {std::int64_t{0}, tokens - 1}) {
    std::vector<std::uint8_t> x(g.hx.begin() + r * row, g.hx.begin() + (r + 1) * row);
    std::vector<std::uint8_t> res(g.hr.begin() + r * row, g.hr.begin() + (r + 1) * row);
    std::vector<std::uint8_t> y(row), ro(row), gy(row), gro(row);
    const Call twin =
        make_call(f.profile, d, 1, hidden, x.data(), res.data(), g.hw.data(), y.data(), ro.data());
    const kc::Status ts =
        m.fused ? kc::fused_add_rmsnorm_twin(twin.fused) : kc::rmsnorm_twin(twin.norm);
    if (!ts.is_ok()) {
      st.SkipWithError(("twin: " + ts.to_string()).c_str());
      return false;
    }
    if (!check(
            cudaMemcpy(gy.data(), static_cast<char*>(g.y) + r * row, row, cudaMemcpyDeviceToHost),
            st, "download") ||
        (m.fused && !check(cudaMemcpy(gro.data(), static_cast<char*>(g.ro) + r * row, row,
                                      cudaMemcpyDeviceToHost),
                           st, "download"))) {
      return false;
    }
    for (std::int64_t i = 0; i < hidden; ++i) {
      std::uint16_t a, b;
      std::memcpy(&a, gy.data() + i * 2, 2);
      std::memcpy(&b, y.data() + i * 2, 2);
      if (std::abs(ordered16(a) - ordered16(b)) > 1) {
        st.SkipWithError("FlashInfer output more than one step from the twin: not timed");
        return false;
      }
    }
    if (m.fused && gro != ro) {
      st.SkipWithError("FlashInfer residual differs from the correctly rounded sum: not timed");
      return false;
    }
  }
  return true;
}

void BM_FlashInferBandwidth(benchmark::State& st, FlashInferOp f, DType d, std::int64_t tokens,
                            std::int64_t hidden) {
  if (!prepare(d, st)) return;
  if (!flashinfer_validate(f, d, tokens, hidden, st)) return;
  const double t =
      flushed_time(st, [&] { (void)flashinfer_launch(f, d, tokens, hidden, false, nullptr); });
  set_counters(st, moved_bytes(modes_of(f.profile).fused, tokens, hidden, kc::dtype_size(d)), t);
  st.SetLabel("FlashInfer " + std::string(kc::peers::flashinfer_version()) + " " +
              label(f.profile, d, tokens, hidden));
}

void BM_FlashInferDecode(benchmark::State& st, FlashInferOp f, DType d, std::int64_t tokens,
                         std::int64_t hidden) {
  if (!prepare(d, st)) return;
  if (!flashinfer_validate(f, d, tokens, hidden, st)) return;
  // PDL on, as FlashInfer's Python API enables it on sm_90 (enable_pdl = device_support_pdl).
  const double t = graph_time(
      st, [&](cudaStream_t s) { (void)flashinfer_launch(f, d, tokens, hidden, true, s); });
  set_counters(st, moved_bytes(modes_of(f.profile).fused, tokens, hidden, kc::dtype_size(d)), t);
  st.SetLabel("FlashInfer " + std::string(kc::peers::flashinfer_version()) + " " +
              label(f.profile, d, tokens, hidden) + " graph");
}

// Named flashinfer/<profile>/<dtype>/<tokens>x<hidden>/<kind>, as the PyTorch peer rows are.
void register_flashinfer() {
  for (DType d : {DType::kBf16, DType::kFp16}) {
    for (const FlashInferOp& f : kFlashInferOps) {
      const std::size_t es = kc::dtype_size(d);
      const bool fused = modes_of(f.profile).fused;
      auto name = [&](std::int64_t t, std::int64_t h, const char* kind) {
        return std::string("flashinfer/") + kProfiles[f.profile] + "/" + kc::dtype_name(d) + "/" +
               std::to_string(t) + "x" + std::to_string(h) + "/" + kind;
      };
      for (std::int64_t h : {1024, 2048, 4096, 8192, 16384}) {
        const std::int64_t tokens = bandwidth_tokens(fused, h, es);
        benchmark::RegisterBenchmark(name(tokens, h, "bandwidth").c_str(), BM_FlashInferBandwidth,
                                     f, d, tokens, h)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
      for (std::int64_t t : {1, 16, 64, 128, 256}) {
        for (std::int64_t h : {1024, 2048, 4096, 8192, 16384}) {
          benchmark::RegisterBenchmark(name(t, h, "decode").c_str(), BM_FlashInferDecode, f, d, t,
                                       h)
              ->UseManualTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
}
#endif

BENCHMARK(BM_Copy)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(0.2);
BENCHMARK(BM_Bandwidth)->Apply(bandwidth_args)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Decode)->Apply(decode_args)->UseManualTime()->Unit(benchmark::kMicrosecond);
// Decode without PDL, on a few shapes: what programmatic dependent launch buys.
BENCHMARK(BM_Decode)
    ->ArgsProduct({{0, 3}, {2}, {1, 64, 256}, {1024, 4096, 16384}, {0}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EmptyKernel)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::printf("no CUDA device: GPU benchmarks not run\n");
    return 77;
  }
#ifdef KC_HAVE_FLASHINFER
  register_flashinfer();
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// GPU benchmarks of the norm family's kernels (the method and the shared timers:
// support/bench_support.h).
//
//  - Bandwidth rows (many tokens, about 1 GiB moved), every profile the kernels implement and
//    dtype, hidden 1024..16384.
//  - Decode rows (1..256 tokens x hidden 1024..16384): PDL off (the headline) and on.
// Bytes: every input element read once and every output element written once (the weight
// once): rmsnorm 2 N H + H elements, fused_add_rmsnorm 4 N H + H.
// Every configuration is checked against the host twin (bit for bit, first and last row)
// before it is timed; a mismatch or a rejected call ends that row with SkipWithError.
//
// FlashInfer (built with KC_FLASHINFER_INCLUDE): the same shapes and timing for RMSNorm,
// GemmaRMSNorm and FusedAddRMSNorm (which works in place: it runs on device copies of the
// inputs, so the shared inputs stay as uploaded; repeated timed calls keep updating those
// copies, which changes values, not the work done), decode with PDL off and on. Checked before
// timing against the twin of the profile it claims: outputs within one step of the twin's bits
// (both lie within 0.52 ulp of the exact value: properties/peers/flashinfer_subjects.cpp and
// properties/src/rmsnorm/rmsnorm_bound.h), the stored residual bit for bit.
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
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"
#include "support/bench_support.h"
#ifdef KC_HAVE_FLASHINFER
#include "flashinfer_norm.h"
#endif

namespace {

using kc::DType;

using kc::bench::check;

constexpr std::size_t kTensorBytes = std::size_t{512} << 20;  // per tensor

// The profiles the kernels implement, in the family table's order (kc/props/rmsnorm.h).
const std::vector<std::string>& profiles() {
  static const std::vector<std::string> p = kc::props::norm_kernel_profiles();
  return p;
}

struct Modes {
  bool fused;
  kc::ResidualSum sum;
  kc::OutputRounding rounding;
  kc::WeightOffset offset;
};
Modes modes_of(int profile) {
  Modes m{};
  const std::string& name = profiles()[static_cast<std::size_t>(profile)];
  kc::props::norm_modes(name, &m.sum, &m.rounding, &m.offset);
  const kc::props::OpSpec* op = nullptr;
  kc::props::find_profile(name, nullptr, &op);
  m.fused = op != nullptr && op->name == "fused_add_rmsnorm";
  return m;
}

// Device tensors shared by every benchmark, filled once per dtype with normal data.
struct Device {
  void* x = nullptr;
  void* r = nullptr;
  void* y = nullptr;
  void* ro = nullptr;
  void* w = nullptr;
  DType filled = DType::kFp32;
  bool ready = false;
  std::vector<std::uint8_t> hx, hr, hw;  // host copies of the inputs (first 2 rows + weight)
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

// Fills x, r (whole capacity) and w with normal data of dtype d; keeps host copies.
bool prepare(DType d, benchmark::State& st) {
  Device& g = dev();
  if (!g.ready) {
    for (void** p : {&g.x, &g.r, &g.y, &g.ro}) {
      if (!check(cudaMalloc(p, kTensorBytes), st, "cudaMalloc")) return false;
    }
    if (!check(cudaMalloc(&g.w, 65536 * 4), st, "cudaMalloc")) return false;
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

// The row's identity (the report reads it): source, family, op, profile, dtype, kind, PDL, shape.
kc::results::PerfKey key(const std::string& source, int profile, DType d, const char* kind,
                         std::int64_t tokens, std::int64_t hidden, bool pdl) {
  kc::results::PerfKey k;
  k.source = source;
  k.family = kc::props::kNormFamily;
  k.op = modes_of(profile).fused ? "fused_add_rmsnorm" : "rmsnorm";
  k.profile = profiles()[static_cast<std::size_t>(profile)];
  k.dtype = kc::dtype_name(d);
  k.kind = kind;
  k.pdl = pdl;
  k.shape = {{"tokens", tokens}, {"hidden", hidden}};
  return k;
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
  const double t = kc::bench::flushed_time(st, [&] { (void)call.launch(nullptr); });
  kc::bench::set_counters(st, moved_bytes(m.fused, tokens, hidden, es), t);
  kc::bench::set_label(st, key("kconform", profile, d, "bandwidth", tokens, hidden, false));
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
  const double t = kc::bench::graph_time(st, [&](cudaStream_t s) { (void)call.launch(s); });
  kc::bench::set_counters(st, moved_bytes(modes_of(profile).fused, tokens, hidden, es), t);
  kc::bench::set_label(st, key("kconform", profile, d, "decode", tokens, hidden, pdl));
}

// dtype outermost: the 512 MiB inputs are regenerated only when the dtype changes.
void bandwidth_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {  // bf16, fp16, fp32
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (int h : {1024, 2048, 4096, 8192, 16384}) b->Args({p, d, h});
    }
  }
}
// PDL off (the headline) and on, every shape.
void decode_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (int t : {1, 16, 64, 128, 256}) {
        for (int h : {1024, 2048, 4096, 8192, 16384}) {
          for (int pdl : {0, 1}) b->Args({p, d, t, h, pdl});
        }
      }
    }
  }
}

#ifdef KC_HAVE_FLASHINFER
struct FlashInferOp {
  kc::peers::FlashInferNorm op;
  int profile;  // the profile it claims (index into profiles())
};
int profile_index(const std::string& name) {
  for (std::size_t i = 0; i < profiles().size(); ++i) {
    if (profiles()[i] == name) return static_cast<int>(i);
  }
  return 0;
}
// The profile each FlashInfer kernel claims (properties/peers/flashinfer_subjects.cpp).
std::vector<FlashInferOp> flashinfer_ops() {
  return {
      {kc::peers::FlashInferNorm::kRmsNorm, profile_index("rmsnorm.fp32")},
      {kc::peers::FlashInferNorm::kGemmaRmsNorm, profile_index("rmsnorm.gemma")},
      {kc::peers::FlashInferNorm::kFusedAddRmsNorm, profile_index("fused_add_rmsnorm.fp32_sum")}};
}

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
  const double t = kc::bench::flushed_time(
      st, [&] { (void)flashinfer_launch(f, d, tokens, hidden, false, nullptr); });
  kc::bench::set_counters(
      st, moved_bytes(modes_of(f.profile).fused, tokens, hidden, kc::dtype_size(d)), t);
  kc::bench::set_label(st, key("flashinfer", f.profile, d, "bandwidth", tokens, hidden, false));
}

// PDL off (the headline, like ours) and on (as FlashInfer's Python API enables it on sm_90:
// enable_pdl = device_support_pdl).
void BM_FlashInferDecode(benchmark::State& st, FlashInferOp f, DType d, std::int64_t tokens,
                         std::int64_t hidden, bool pdl) {
  if (!prepare(d, st)) return;
  if (!flashinfer_validate(f, d, tokens, hidden, st)) return;
  const double t = kc::bench::graph_time(
      st, [&](cudaStream_t s) { (void)flashinfer_launch(f, d, tokens, hidden, pdl, s); });
  kc::bench::set_counters(
      st, moved_bytes(modes_of(f.profile).fused, tokens, hidden, kc::dtype_size(d)), t);
  kc::bench::set_label(st, key("flashinfer", f.profile, d, "decode", tokens, hidden, pdl));
}

void register_flashinfer() {
  for (DType d : {DType::kBf16, DType::kFp16}) {
    for (const FlashInferOp& f : flashinfer_ops()) {
      const std::size_t es = kc::dtype_size(d);
      const bool fused = modes_of(f.profile).fused;
      auto name = [&](std::int64_t t, std::int64_t h, const char* kind) {
        return std::string("flashinfer/") + profiles()[static_cast<std::size_t>(f.profile)] + "/" +
               kc::dtype_name(d) + "/" + std::to_string(t) + "x" + std::to_string(h) + "/" + kind;
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
          for (bool pdl : {false, true}) {
            benchmark::RegisterBenchmark(name(t, h, pdl ? "decode_pdl" : "decode").c_str(),
                                         BM_FlashInferDecode, f, d, t, h, pdl)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
}
#endif

}  // namespace

void kc::bench::register_family_benchmarks() {
  benchmark::RegisterBenchmark("BM_Bandwidth", BM_Bandwidth)
      ->Apply(bandwidth_args)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Decode", BM_Decode)
      ->Apply(decode_args)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
#ifdef KC_HAVE_FLASHINFER
  register_flashinfer();
#endif
}

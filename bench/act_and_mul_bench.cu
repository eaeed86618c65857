// GPU benchmarks of the act_and_mul family's kernels (the method and the shared timers:
// support/bench_support.h).
//
//  - Bandwidth rows, every profile the kernels implement and dtype: tokens x d = 8192 x {2048,
//    4096, 11008, 14336} and 32768 x 8192 (16-bit only: the fp32 input would not fit the 1 GiB
//    buffer); 100 MB (8192 x 2048 bf16) to 1.5 GB moved, all above the 50 MB L2.
//  - Decode rows (1, 16, 64, 128, 256 tokens x d 1024, 4096, 11008, 14336, 28672): PDL off (the
//    headline) and on.
// Bytes: the input read once (2d per row) and the output written once (d per row): 3 N d
// elements.
// Every configuration is checked against the host twin (bit for bit, first and last row) before
// it is timed; a mismatch or a rejected call ends that row with SkipWithError.
//
// FlashInfer (built with KC_FLASHINFER_INCLUDE): its act_and_mul kernel with its own launch
// configuration (properties/peers/flashinfer_act.h), the same shapes and timing, fp16 and bf16
// (its binding's dtypes), decode with PDL off and on. Each configuration is checked before
// timing against the twin of the profile it claims (act_and_mul.<act>.single): both lie within
// the bounds of properties/peers/flashinfer_act_bound.h and act_and_mul_expectation.cpp (each
// below 0.5025 ULP), so outside the absolute term they are at most one step apart; inside it
// (the cancelling tails) they may differ by 2^-N |g u| each, 2^-(N-1) |g u| together.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/scalar.h"
#include "kc/kernels/act_and_mul.h"
#include "kc/props/act_and_mul.h"
#include "support/bench_support.h"
#ifdef KC_HAVE_FLASHINFER
#include "flashinfer_act.h"
#include "flashinfer_act_bound.h"
#endif

namespace {

using kc::DType;

using kc::bench::check;

constexpr std::size_t kInputBytes = std::size_t{1} << 30;
constexpr std::size_t kOutputBytes = std::size_t{1} << 29;

// The profiles the kernels implement, in the family table's order (kc/props/act_and_mul.h).
const std::vector<std::string>& profiles() {
  static const std::vector<std::string> p = kc::props::act_kernel_profiles();
  return p;
}

struct Device {
  void* in = nullptr;
  void* out = nullptr;
  DType filled = DType::kFp32;
  bool ready = false;
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
// Fills the input buffer with N(0, 2) values of dtype d (gates and ups alike): a 4 MiB random
// block uploaded once and tiled on the device (fast, not constant).
bool prepare(DType d, benchmark::State& st) {
  Device& g = dev();
  if (!g.ready) {
    if (!check(cudaMalloc(&g.in, kInputBytes), st, "cudaMalloc") ||
        !check(cudaMalloc(&g.out, kOutputBytes), st, "cudaMalloc")) {
      return false;
    }
    g.ready = true;
    g.filled = static_cast<DType>(255);
  }
  if (g.filled == d) return true;
  const std::size_t es = kc::dtype_size(d);
  constexpr std::size_t kBlockBytes = std::size_t{4} << 20;
  std::vector<std::uint8_t> blk(kBlockBytes);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 2);
  for (std::size_t i = 0; i < kBlockBytes / es; ++i) {
    const std::uint32_t b = quantize(d, normal(rng));
    std::memcpy(blk.data() + i * es, &b, es);
  }
  for (std::size_t off = 0; off < kInputBytes; off += kBlockBytes) {
    if (!check(cudaMemcpy(static_cast<char*>(g.in) + off, blk.data(), kBlockBytes,
                          cudaMemcpyHostToDevice),
               st, "upload")) {
      return false;
    }
  }
  g.filled = d;
  return true;
}

kc::ActAndMulArgs make_args(int profile, DType d, std::int64_t tokens, std::int64_t dim,
                            const void* in, void* out) {
  kc::ActAndMulArgs a;
  kc::props::act_modes(profiles()[static_cast<std::size_t>(profile)], &a.act, &a.rounding);
  a.num_tokens = tokens;
  a.d = dim;
  a.input = kc::ConstRows{in, d, 2 * dim};
  a.output = kc::Rows{out, d, dim};
  return a;
}

// Rows 0 and tokens-1 of the input and output, downloaded; the twin's output for those rows.
struct Sample {
  std::vector<std::uint8_t> in, got, twin;
};
bool sample(const kc::ActAndMulArgs& a, DType d, std::int64_t row, Sample* s,
            benchmark::State& st) {
  const std::size_t es = kc::dtype_size(d);
  const std::size_t in_row = static_cast<std::size_t>(2 * a.d) * es;
  const std::size_t out_row = static_cast<std::size_t>(a.d) * es;
  s->in.resize(in_row);
  s->got.resize(out_row);
  s->twin.resize(out_row);
  if (!check(cudaMemcpy(s->in.data(), static_cast<const char*>(dev().in) + row * in_row, in_row,
                        cudaMemcpyDeviceToHost),
             st, "download") ||
      !check(cudaMemcpy(s->got.data(), static_cast<const char*>(dev().out) + row * out_row, out_row,
                        cudaMemcpyDeviceToHost),
             st, "download")) {
    return false;
  }
  kc::ActAndMulArgs t = a;
  t.num_tokens = 1;
  t.input.data = s->in.data();
  t.output.data = s->twin.data();
  const kc::Status ts = kc::act_and_mul_twin(t);
  if (!ts.is_ok()) {
    st.SkipWithError(("twin: " + ts.to_string()).c_str());
    return false;
  }
  return true;
}

// Runs the call once and compares rows 0 and tokens-1 with the twin, bit for bit.
bool validate(const kc::ActAndMulArgs& a, DType d, benchmark::State& st) {
  const kc::Status s = kc::act_and_mul(a, nullptr);
  if (!s.is_ok()) {
    st.SkipWithError(s.to_string().c_str());
    return false;
  }
  if (!check(cudaDeviceSynchronize(), st, "kernel")) return false;
  for (std::int64_t r : {std::int64_t{0}, a.num_tokens - 1}) {
    Sample smp;
    if (!sample(a, d, r, &smp, st)) return false;
    if (smp.got != smp.twin) {
      st.SkipWithError("GPU result differs from the twin: not timed");
      return false;
    }
  }
  return true;
}

// The row's identity (the report reads it): source, family, op, profile, dtype, kind, PDL, shape.
kc::results::PerfKey key(const std::string& source, const std::string& profile, DType d,
                         const char* kind, std::int64_t tokens, std::int64_t dim, bool pdl) {
  kc::results::PerfKey k;
  k.source = source;
  k.family = kc::props::kActFamily;
  k.op = "act_and_mul";
  k.profile = profile;
  k.dtype = kc::dtype_name(d);
  k.kind = kind;
  k.pdl = pdl;
  k.shape = {{"tokens", tokens}, {"d", dim}};
  return k;
}

double moved_bytes(std::int64_t tokens, std::int64_t dim, DType d) {
  return 3.0 * static_cast<double>(tokens) * static_cast<double>(dim) *
         static_cast<double>(kc::dtype_size(d));
}

bool fits(std::int64_t tokens, std::int64_t dim, DType d) {
  const auto bytes = static_cast<std::size_t>(tokens * dim) * kc::dtype_size(d);
  return 2 * bytes <= kInputBytes && bytes <= kOutputBytes;
}

void BM_Bandwidth(benchmark::State& st) {
  const int profile = static_cast<int>(st.range(0));
  const DType d = static_cast<DType>(st.range(1));
  const std::int64_t tokens = st.range(2);
  const std::int64_t dim = st.range(3);
  if (!prepare(d, st)) return;
  const kc::ActAndMulArgs a = make_args(profile, d, tokens, dim, dev().in, dev().out);
  kc::ActAndMulArgs timed = a;
  timed.pdl = kc::Pdl::kOff;
  if (!validate(timed, d, st)) return;
  const double t = kc::bench::flushed_time(st, [&] { (void)kc::act_and_mul(timed, nullptr); });
  kc::bench::set_counters(st, moved_bytes(tokens, dim, d), t);
  kc::bench::set_label(st, key("kconform", profiles()[static_cast<std::size_t>(profile)], d,
                               "bandwidth", tokens, dim, false));
}

void BM_Decode(benchmark::State& st) {
  const int profile = static_cast<int>(st.range(0));
  const DType d = static_cast<DType>(st.range(1));
  const std::int64_t tokens = st.range(2);
  const std::int64_t dim = st.range(3);
  const bool pdl = st.range(4) != 0;
  if (!prepare(d, st)) return;
  kc::ActAndMulArgs a = make_args(profile, d, tokens, dim, dev().in, dev().out);
  a.pdl = pdl ? kc::Pdl::kAuto : kc::Pdl::kOff;
  if (!validate(a, d, st)) return;
  const double t = kc::bench::graph_time(st, [&](cudaStream_t s) { (void)kc::act_and_mul(a, s); });
  kc::bench::set_counters(st, moved_bytes(tokens, dim, d), t);
  kc::bench::set_label(st, key("kconform", profiles()[static_cast<std::size_t>(profile)], d,
                               "decode", tokens, dim, pdl));
}

// The bandwidth shapes (tokens, d) that fit dtype d.
std::vector<std::pair<std::int64_t, std::int64_t>> bandwidth_shapes(DType d) {
  std::vector<std::pair<std::int64_t, std::int64_t>> s;
  for (std::int64_t dim : {2048, 4096, 11008, 14336}) s.push_back({8192, dim});
  s.push_back({32768, 8192});
  s.erase(std::remove_if(s.begin(), s.end(),
                         [&](const auto& p) { return !fits(p.first, p.second, d); }),
          s.end());
  return s;
}
const std::int64_t kDecodeTokens[] = {1, 16, 64, 128, 256};
const std::int64_t kDecodeD[] = {1024, 4096, 11008, 14336, 28672};

// dtype outermost: the 1 GiB input is refilled only when the dtype changes.
void bandwidth_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {  // bf16, fp16, fp32
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (const auto& [t, dim] : bandwidth_shapes(static_cast<DType>(d))) b->Args({p, d, t, dim});
    }
  }
}
// PDL off (the headline) and on, every shape.
void decode_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1, 0}) {
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (std::int64_t t : kDecodeTokens) {
        for (std::int64_t dim : kDecodeD) {
          for (int pdl : {0, 1}) b->Args({p, d, t, dim, pdl});
        }
      }
    }
  }
}

#ifdef KC_HAVE_FLASHINFER
// The value of a dtype's bit pattern (the FlashInfer rows' comparison with the twin).
float value(DType d, std::uint32_t b) {
  if (d == DType::kFp32) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  return d == DType::kFp16 ? kc::detail::fp16_to_float(static_cast<std::uint16_t>(b))
                           : kc::detail::bf16_to_float(static_cast<std::uint16_t>(b));
}

struct FlashInferOp {
  kc::peers::FlashInferAct act;
  int profile;  // the profile it claims (index into profiles())
};
int profile_index(const std::string& name) {
  for (std::size_t i = 0; i < profiles().size(); ++i) {
    if (profiles()[i] == name) return static_cast<int>(i);
  }
  return 0;
}
// The profile each FlashInfer kernel claims (properties/peers/flashinfer_act_subjects.cpp).
std::vector<FlashInferOp> flashinfer_ops() {
  return {{kc::peers::FlashInferAct::kSilu, profile_index("act_and_mul.silu.single")},
          {kc::peers::FlashInferAct::kGelu, profile_index("act_and_mul.gelu.single")},
          {kc::peers::FlashInferAct::kGeluTanh, profile_index("act_and_mul.gelu_tanh.single")}};
}

cudaError_t flashinfer_launch(const FlashInferOp& f, DType d, std::int64_t tokens, std::int64_t dim,
                              bool pdl, cudaStream_t s) {
  return kc::peers::flashinfer_act_and_mul(f.act, d, dev().out, dev().in, tokens, dim,
                                           pdl ? kc::Pdl::kAuto : kc::Pdl::kOff, s);
}

// Sign-magnitude order of 16-bit patterns: neighbours differ by one.
int ordered16(std::uint16_t b) { return (b & 0x8000) ? -(b & 0x7fff) : (b & 0x7fff); }

// Runs FlashInfer once and compares rows 0 and tokens-1 with the twin of the claimed profile
// (see the header comment for the tolerance).
bool flashinfer_validate(const FlashInferOp& f, DType d, std::int64_t tokens, std::int64_t dim,
                         benchmark::State& st) {
  if (!check(flashinfer_launch(f, d, tokens, dim, false, nullptr), st, "FlashInfer") ||
      !check(cudaDeviceSynchronize(), st, "FlashInfer kernel")) {
    return false;
  }
  const kc::ActAndMulArgs a = make_args(f.profile, d, tokens, dim, dev().in, dev().out);
  const double absolute = std::ldexp(1.0, 1 - kc::peers::flashinfer_act_absolute_n(f.act));
  for (std::int64_t r : {std::int64_t{0}, tokens - 1}) {
    Sample smp;
    if (!sample(a, d, r, &smp, st)) return false;
    for (std::int64_t i = 0; i < dim; ++i) {
      std::uint16_t x, y, g, u;
      std::memcpy(&x, smp.got.data() + i * 2, 2);
      std::memcpy(&y, smp.twin.data() + i * 2, 2);
      std::memcpy(&g, smp.in.data() + i * 2, 2);
      std::memcpy(&u, smp.in.data() + (dim + i) * 2, 2);
      if (std::abs(ordered16(x) - ordered16(y)) <= 1) continue;
      const double diff = std::fabs(static_cast<double>(value(d, x)) - value(d, y));
      if (diff <= absolute * std::fabs(static_cast<double>(value(d, g)) * value(d, u))) continue;
      st.SkipWithError("FlashInfer output outside the bounds from the twin: not timed");
      return false;
    }
  }
  return true;
}

void BM_FlashInferBandwidth(benchmark::State& st, FlashInferOp f, DType d, std::int64_t tokens,
                            std::int64_t dim) {
  if (!prepare(d, st)) return;
  if (!flashinfer_validate(f, d, tokens, dim, st)) return;
  const double t = kc::bench::flushed_time(
      st, [&] { (void)flashinfer_launch(f, d, tokens, dim, false, nullptr); });
  kc::bench::set_counters(st, moved_bytes(tokens, dim, d), t);
  kc::bench::set_label(st, key("flashinfer", profiles()[static_cast<std::size_t>(f.profile)], d,
                               "bandwidth", tokens, dim, false));
}

// PDL off (the headline, like ours) and on (as FlashInfer's Python API enables it on sm_90:
// enable_pdl = device_support_pdl).
void BM_FlashInferDecode(benchmark::State& st, FlashInferOp f, DType d, std::int64_t tokens,
                         std::int64_t dim, bool pdl) {
  if (!prepare(d, st)) return;
  if (!flashinfer_validate(f, d, tokens, dim, st)) return;
  const double t = kc::bench::graph_time(
      st, [&](cudaStream_t s) { (void)flashinfer_launch(f, d, tokens, dim, pdl, s); });
  kc::bench::set_counters(st, moved_bytes(tokens, dim, d), t);
  kc::bench::set_label(st, key("flashinfer", profiles()[static_cast<std::size_t>(f.profile)], d,
                               "decode", tokens, dim, pdl));
}

void register_flashinfer() {
  for (DType d : {DType::kBf16, DType::kFp16}) {
    for (const FlashInferOp& f : flashinfer_ops()) {
      auto name = [&](std::int64_t t, std::int64_t dim, const char* kind) {
        return std::string("flashinfer/") + profiles()[static_cast<std::size_t>(f.profile)] + "/" +
               kc::dtype_name(d) + "/" + std::to_string(t) + "x" + std::to_string(dim) + "/" + kind;
      };
      for (const auto& [t, dim] : bandwidth_shapes(d)) {
        benchmark::RegisterBenchmark(name(t, dim, "bandwidth").c_str(), BM_FlashInferBandwidth, f,
                                     d, t, dim)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
      for (std::int64_t t : kDecodeTokens) {
        for (std::int64_t dim : kDecodeD) {
          for (bool pdl : {false, true}) {
            benchmark::RegisterBenchmark(name(t, dim, pdl ? "decode_pdl" : "decode").c_str(),
                                         BM_FlashInferDecode, f, d, t, dim, pdl)
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

// GPU benchmarks of the qknorm_rope family's kernels (the method and the shared timers:
// support/bench_support.h).
//
// Every row: the profiles the kernels implement (this revision: qknorm_rope.exact), bf16 and
// fp16, in place on the qkv tensor (as the engines call it), head_dim 128, NeoX pairing, full
// rotary (rotary_dim = head_dim), base 1e6, int64 positions. Two models' head counts:
// Qwen3-8B (nq, nk, nv = 32, 8, 8) and Qwen3-235B-A22B (64, 4, 4).
//
//  - Bandwidth rows: 8192 and 32768 tokens of each model, L2 flushed: 84 MB (Qwen3-8B, 8192
//    tokens) to 1.1 GB (Qwen3-235B, 32768 tokens) of q and k heads read and written, the
//    smallest already reading more than the 50 MB L2 holds.
//  - Decode rows: 1, 16, 64, 128, 256 tokens of each model, CUDA-graph replay, PDL off (the
//    headline) and on.
// Bytes: the q and k heads read once and written once, 2 T (nq + nk) head_dim elements (the
// weights, 2 head_dim elements, and the positions are left out: a few KB a launch); v heads are
// untouched in place and not counted. pct_copy is of the copy measured in the same run.
//
// Positions (the shape's "pos_max", the largest drawn): uniform in [0, 2^17) (pos_max 131071),
// and a second set uniform in [2^24 - 2^17, 2^24 + 2^17) (pos_max 16908287), where the fp32
// angle of the engines breaks down and the exact reduction's integer products are widest; both
// sets are drawn once and each row's tokens take the first T of a set.
//
// The rows are in place, so every timed call rewrites the q and k heads; a head's values stay
// of the order of its weight (each call normalises it), which changes values, never the work.
// Every configuration is checked before it is timed: the first and the last row are downloaded
// before one call and after it, the twin is run on the copies taken before, and the rows must
// agree bit for bit (q and k heads rewritten, v heads unchanged); a mismatch or a rejected call
// ends that row with SkipWithError.
//
// Labels (kc/results/perf.h): shape tokens, nq, nk, nv, head_dim, pos_max, as the family's
// report() declares them (properties/src/qknorm_rope/qknorm_rope_family.cpp): bandwidth tables
// along tokens with one line per (nq, nk, nv, pos_max), decode tables along tokens.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/scalar.h"
#include "kc/kernels/qknorm_rope.h"
#include "kc/props/qknorm_rope.h"
#include "support/bench_support.h"

namespace {

using kc::DType;

using kc::bench::check;

constexpr std::int64_t kHeadDim = 128;
constexpr double kBase = 1e6;
constexpr float kEps = 1e-6f;
constexpr std::int64_t kMaxTokens = 32768;
// The largest qkv tensor: Qwen3-235B at 32768 tokens, 72 heads of 128 16-bit values (604 MB).
constexpr std::size_t kQkvBytes = std::size_t{640} << 20;

struct Model {
  const char* name;
  std::int64_t nq, nk, nv;
};
const Model kModels[] = {{"Qwen3-8B", 32, 8, 8}, {"Qwen3-235B", 64, 4, 4}};

// The position sets: [lo, lo + span) uniform; pos_max = lo + span - 1 names the set in labels.
struct PositionSet {
  std::int64_t lo, span;
  std::int64_t pos_max() const { return lo + span - 1; }
};
const PositionSet kPositionSets[] = {
    {0, std::int64_t{1} << 17},
    {(std::int64_t{1} << 24) - (std::int64_t{1} << 17), std::int64_t{1} << 18}};
constexpr int kNumPositionSets = 2;

const std::vector<std::string>& profiles() {
  static const std::vector<std::string> p = kc::props::qk_kernel_profiles();
  return p;
}

struct Device {
  void* qkv = nullptr;
  void* q_weight = nullptr;
  void* k_weight = nullptr;
  std::int64_t* positions = nullptr;  // kNumPositionSets sets of kMaxTokens
  std::vector<std::int64_t> host_positions;
  DType filled = DType::kFp32;
  bool ready = false;
};
Device& dev() {
  static Device d;
  return d;
}

std::uint16_t quantize(DType d, float v) {
  return d == DType::kFp16 ? kc::detail::float_to_fp16(v) : kc::detail::float_to_bf16(v);
}

bool upload(void* dst, const void* src, std::size_t bytes, benchmark::State& st) {
  return check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), st, "upload");
}

// Allocates once (the positions uploaded then); fills qkv with N(0, 1) values and both weights
// with N(1, 0.3) values (Qwen3's trained q_norm / k_norm are of this kind) of dtype d when the
// dtype changes: a 4 MiB random block tiled over the tensor.
bool prepare(DType d, benchmark::State& st) {
  Device& g = dev();
  if (!g.ready) {
    if (!check(cudaMalloc(&g.qkv, kQkvBytes), st, "cudaMalloc") ||
        !check(cudaMalloc(&g.q_weight, kHeadDim * 2), st, "cudaMalloc") ||
        !check(cudaMalloc(&g.k_weight, kHeadDim * 2), st, "cudaMalloc") ||
        !check(cudaMalloc(reinterpret_cast<void**>(&g.positions),
                          kNumPositionSets * kMaxTokens * sizeof(std::int64_t)),
               st, "cudaMalloc")) {
      return false;
    }
    std::mt19937_64 rng(11);
    g.host_positions.resize(kNumPositionSets * kMaxTokens);
    for (int s = 0; s < kNumPositionSets; ++s) {
      std::uniform_int_distribution<std::int64_t> u(0, kPositionSets[s].span - 1);
      for (std::int64_t i = 0; i < kMaxTokens; ++i) {
        g.host_positions[static_cast<std::size_t>(s * kMaxTokens + i)] =
            kPositionSets[s].lo + u(rng);
      }
    }
    if (!upload(g.positions, g.host_positions.data(),
                g.host_positions.size() * sizeof(std::int64_t), st)) {
      return false;
    }
    g.ready = true;
    g.filled = DType::kFp32;  // no 16-bit fill yet
  }
  if (g.filled == d) return true;
  constexpr std::size_t kBlockBytes = std::size_t{4} << 20;
  std::vector<std::uint16_t> blk(kBlockBytes / 2);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 1);
  for (std::uint16_t& b : blk) b = quantize(d, normal(rng));
  for (std::size_t off = 0; off < kQkvBytes; off += kBlockBytes) {
    if (!upload(static_cast<char*>(g.qkv) + off, blk.data(), kBlockBytes, st)) return false;
  }
  std::normal_distribution<float> weight(1, 0.3f);
  std::vector<std::uint16_t> qw(kHeadDim), kw(kHeadDim);
  for (std::uint16_t& b : qw) b = quantize(d, weight(rng));
  for (std::uint16_t& b : kw) b = quantize(d, weight(rng));
  if (!upload(g.q_weight, qw.data(), kHeadDim * 2, st) ||
      !upload(g.k_weight, kw.data(), kHeadDim * 2, st)) {
    return false;
  }
  g.filled = d;
  return true;
}

// The in-place call over the device buffers: tokens rows of the model, positions of set ps.
kc::QkNormRopeArgs make_args(int profile, DType d, const Model& m, std::int64_t tokens, int ps,
                             bool pdl) {
  kc::QkNormRopeArgs a;
  kc::props::qk_kernel_profile(profiles()[static_cast<std::size_t>(profile)], &a.profile);
  a.dtype = d;
  a.num_tokens = tokens;
  a.head_dim = kHeadDim;
  a.num_q_heads = m.nq;
  a.num_k_heads = m.nk;
  a.num_v_heads = m.nv;
  a.rotary_dim = kHeadDim;
  a.pairing = kc::RopePairing::kNeox;
  a.base = kBase;
  a.eps = kEps;
  a.positions = dev().positions + ps * kMaxTokens;
  a.position_type = kc::PositionType::kInt64;
  a.qkv = dev().qkv;
  a.qkv_stride = (m.nq + m.nk + m.nv) * kHeadDim;
  a.output = nullptr;  // in place
  a.q_weight = dev().q_weight;
  a.k_weight = dev().k_weight;
  a.pdl = pdl ? kc::Pdl::kAuto : kc::Pdl::kOff;
  return a;
}

bool download_row(const kc::QkNormRopeArgs& a, std::int64_t row, std::vector<std::uint16_t>* out,
                  benchmark::State& st) {
  out->resize(static_cast<std::size_t>(a.qkv_stride));
  return check(
      cudaMemcpy(out->data(), static_cast<const std::uint16_t*>(a.qkv) + row * a.qkv_stride,
                 out->size() * 2, cudaMemcpyDeviceToHost),
      st, "download");
}

// Runs the call once and compares its first and last rows with the twin run on those rows as
// they were before the call, bit for bit.
bool validate(const kc::QkNormRopeArgs& a, int ps, benchmark::State& st) {
  const std::int64_t rows[2] = {0, a.num_tokens - 1};
  std::vector<std::uint16_t> twin[2], after[2];  // twin: the rows before the call, then the
                                                 // twin's result (it runs in place on them)
  for (int i = 0; i < 2; ++i) {
    if (!download_row(a, rows[i], &twin[i], st)) return false;
  }
  const kc::Status s = kc::qknorm_rope(a, nullptr);
  if (!s.is_ok()) {
    st.SkipWithError(s.to_string().c_str());
    return false;
  }
  if (!check(cudaDeviceSynchronize(), st, "kernel")) return false;
  std::vector<std::uint16_t> qw(kHeadDim), kw(kHeadDim);
  if (!check(cudaMemcpy(qw.data(), a.q_weight, kHeadDim * 2, cudaMemcpyDeviceToHost), st,
             "download") ||
      !check(cudaMemcpy(kw.data(), a.k_weight, kHeadDim * 2, cudaMemcpyDeviceToHost), st,
             "download")) {
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    if (!download_row(a, rows[i], &after[i], st)) return false;
    kc::QkNormRopeArgs t = a;
    t.num_tokens = 1;
    t.positions = &dev().host_positions[static_cast<std::size_t>(ps * kMaxTokens + rows[i])];
    t.qkv = twin[i].data();
    t.output = nullptr;
    t.q_weight = qw.data();
    t.k_weight = kw.data();
    const kc::Status ts = kc::qknorm_rope_twin(t);
    if (!ts.is_ok()) {
      st.SkipWithError(("twin: " + ts.to_string()).c_str());
      return false;
    }
    if (twin[i] != after[i]) {
      st.SkipWithError("GPU result differs from the twin: not timed");
      return false;
    }
  }
  return true;
}

// The row's identity (the report reads it): source, family, op, profile, dtype, kind, PDL, shape.
kc::results::PerfKey key(const std::string& profile, DType d, const char* kind, const Model& m,
                         std::int64_t tokens, int ps, bool pdl) {
  kc::results::PerfKey k;
  k.source = "kconform";
  k.family = kc::props::kQkFamily;
  k.op = kc::props::kQkFamily;
  k.profile = profile;
  k.dtype = kc::dtype_name(d);
  k.kind = kind;
  k.pdl = pdl;
  k.shape = {{"tokens", tokens}, {"nq", m.nq},           {"nk", m.nk},
             {"nv", m.nv},       {"head_dim", kHeadDim}, {"pos_max", kPositionSets[ps].pos_max()}};
  return k;
}

// The q and k heads read once and written once.
double moved_bytes(const Model& m, std::int64_t tokens, DType d) {
  return 2.0 * static_cast<double>(tokens) * static_cast<double>((m.nq + m.nk) * kHeadDim) *
         static_cast<double>(kc::dtype_size(d));
}

// Arguments of both kinds: profile, dtype, model, tokens, position set (, PDL for decode).
struct Row {
  int profile;
  DType d;
  const Model& m;
  std::int64_t tokens;
  int ps;
};
Row row_of(const benchmark::State& st) {
  return {static_cast<int>(st.range(0)), static_cast<DType>(st.range(1)), kModels[st.range(2)],
          st.range(3), static_cast<int>(st.range(4))};
}

void BM_Bandwidth(benchmark::State& st) {
  const Row r = row_of(st);
  if (!prepare(r.d, st)) return;
  const kc::QkNormRopeArgs a = make_args(r.profile, r.d, r.m, r.tokens, r.ps, false);
  if (!validate(a, r.ps, st)) return;
  const double t = kc::bench::flushed_time(st, [&] { (void)kc::qknorm_rope(a, nullptr); });
  kc::bench::set_counters(st, moved_bytes(r.m, r.tokens, r.d), t);
  kc::bench::set_label(st, key(profiles()[static_cast<std::size_t>(r.profile)], r.d, "bandwidth",
                               r.m, r.tokens, r.ps, false));
}

void BM_Decode(benchmark::State& st) {
  const Row r = row_of(st);
  const bool pdl = st.range(5) != 0;
  if (!prepare(r.d, st)) return;
  const kc::QkNormRopeArgs a = make_args(r.profile, r.d, r.m, r.tokens, r.ps, pdl);
  if (!validate(a, r.ps, st)) return;
  const double t = kc::bench::graph_time(st, [&](cudaStream_t s) { (void)kc::qknorm_rope(a, s); });
  kc::bench::set_counters(st, moved_bytes(r.m, r.tokens, r.d), t);
  kc::bench::set_label(st, key(profiles()[static_cast<std::size_t>(r.profile)], r.d, "decode", r.m,
                               r.tokens, r.ps, pdl));
}

const std::int64_t kBandwidthTokens[] = {8192, kMaxTokens};
const std::int64_t kDecodeTokens[] = {1, 16, 64, 128, 256};
constexpr int kNumModels = static_cast<int>(sizeof(kModels) / sizeof(kModels[0]));

// dtype outermost: qkv is refilled only when the dtype changes.
void bandwidth_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1}) {  // bf16, fp16
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (int m = 0; m < kNumModels; ++m) {
        for (std::int64_t t : kBandwidthTokens) {
          for (int ps = 0; ps < kNumPositionSets; ++ps) b->Args({p, d, m, t, ps});
        }
      }
    }
  }
}
// PDL off (the headline) and on, every shape.
void decode_args(benchmark::internal::Benchmark* b) {
  for (int d : {2, 1}) {
    for (int p = 0; p < static_cast<int>(profiles().size()); ++p) {
      for (int m = 0; m < kNumModels; ++m) {
        for (std::int64_t t : kDecodeTokens) {
          for (int ps = 0; ps < kNumPositionSets; ++ps) {
            for (int pdl : {0, 1}) b->Args({p, d, m, t, ps, pdl});
          }
        }
      }
    }
  }
}

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
}

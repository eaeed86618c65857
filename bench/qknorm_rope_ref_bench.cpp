// Throughput of the exact QK-norm + RoPE profiles on one CPU core, for the README's reference
// section: Qwen3-8B attention rows (32 q, 8 k, 8 v heads of 128, NeoX, base 1e6, bf16) at
// positions around 2^20. Items are the row's elements (6144, v heads included); rows/s is
// items/s / 6144.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kc/ref/qknorm_rope.h"

namespace {

using kc::ref::QkNormRopeProfile;

void BM_QkNormRopeRow(benchmark::State& state) {
  const auto profile = static_cast<QkNormRopeProfile>(state.range(0));
  kc::ref::QkNormRopeParams p;
  p.head_dim = 128;
  p.num_q_heads = 32;
  p.num_k_heads = 8;
  p.num_v_heads = 8;
  p.rotary_dim = 128;
  p.base = 1e6;
  p.eps = 1e-6f;
  const kc::ref::Format f = kc::ref::kBf16;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 1);
  auto value = [&](float v) {
    return kc::ref::decode(f, kc::ref::round_to(f, kc::ref::Exact(v))).convert_to<float>();
  };
  const std::int64_t n = (p.num_q_heads + p.num_k_heads + p.num_v_heads) * p.head_dim;
  std::vector<float> row(n), qw(p.head_dim), kw(p.head_dim);
  for (float& v : row) v = value(normal(rng) * 2);
  for (float& v : qw) v = value(1 + normal(rng) / 8);
  for (float& v : kw) v = value(1 + normal(rng) / 8);
  kc::ref::QkNormRopeTokenInput in;
  in.format = f;
  in.row = row.data();
  in.q_weight = qw.data();
  in.k_weight = kw.data();
  std::int64_t position = (1 << 20) - 1000;
  for (auto _ : state) {
    in.position = position++;  // a new angle per row, as in a sequence
    kc::ref::QkNormRopeResult res = kc::ref::evaluate(profile, p, in);
    if (res.status != kc::ref::QkNormRopeStatus::kOk) {
      state.SkipWithError(res.message.c_str());
      break;
    }
    benchmark::DoNotOptimize(res.y_bits.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kc::ref::qknorm_rope_profile_name(profile));
}

BENCHMARK(BM_QkNormRopeRow)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

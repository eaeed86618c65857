// Throughput of the exact norm profiles on one CPU core (elements per second), for the README's
// precision section: rows of 4096 and 16384, normal data, every profile structure.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kc/ref/rmsnorm.h"

namespace {

using kc::ref::NormProfile;

void BM_ReferenceRow(benchmark::State& state) {
  const auto profile = static_cast<NormProfile>(state.range(0));
  const std::int64_t n = state.range(1);
  const kc::ref::Format f = state.range(2) == 0 ? kc::ref::kFp32 : kc::ref::kBf16;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(n), r(n), w(n);
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] =
        kc::ref::decode(f, kc::ref::round_to(f, kc::ref::Exact(normal(rng)))).convert_to<float>();
    r[i] =
        kc::ref::decode(f, kc::ref::round_to(f, kc::ref::Exact(normal(rng)))).convert_to<float>();
    w[i] = kc::ref::decode(f, kc::ref::round_to(f, kc::ref::Exact(1 + normal(rng) / 8)))
               .convert_to<float>();
  }
  kc::ref::NormRowInput in;
  in.format = f;
  in.hidden = n;
  in.x = x.data();
  in.residual = r.data();
  in.weight = w.data();
  in.eps = 1e-6f;
  for (auto _ : state) {
    kc::ref::NormRowResult res = kc::ref::evaluate(profile, in);
    benchmark::DoNotOptimize(res.y_bits.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(std::string(kc::ref::profile_name(profile)) + " " + f.name);
}

BENCHMARK(BM_ReferenceRow)
    ->ArgsProduct(
        {{static_cast<int>(NormProfile::kRmsNormFp32), static_cast<int>(NormProfile::kRmsNormHf),
          static_cast<int>(NormProfile::kFusedFp32Sum), static_cast<int>(NormProfile::kFusedHf)},
         {4096, 16384},
         {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

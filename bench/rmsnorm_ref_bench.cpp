// Throughput of the norm references on one CPU core (elements per second), for the README's
// precision section: rows of 4096 and 16384, normal data.
//  BM_ReferenceRow: the exact evaluate() (320-bit), four profile structures.
//  BM_FastRow: the certified fast path evaluate_fast() (rmsnorm_fast.h), every profile and
//  dtype; counters: fallback = elements per row that the double path left undecided,
//  exact_fallback = of those, how many needed evaluate() (both as rates per element).
// Inputs are quantised to the dtype; weights are 1 + N(0, 1/8) (gemma: N(0, 1/8), its w' is
// 1 + w). Validate before timing: BM_FastRow checks its row against evaluate() once.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kc/ref/rmsnorm.h"
#include "kc/ref/rmsnorm_fast.h"

namespace {

using kc::ref::NormProfile;

kc::ref::Format format_arg(std::int64_t v) {
  return v == 0 ? kc::ref::kFp32 : v == 1 ? kc::ref::kFp16 : kc::ref::kBf16;
}

struct RowData {
  std::vector<float> x, r, w;
  kc::ref::NormRowInput in;
};

RowData make_row(NormProfile profile, const kc::ref::Format& f, std::int64_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0, 1);
  auto quantise = [&](float v) {
    return kc::ref::decode_double(f, kc::ref::round_double(f, static_cast<double>(v)));
  };
  const bool gemma = kc::ref::profile_structure(profile).weight_offset_one;
  RowData d;
  d.x.resize(n);
  d.r.resize(n);
  d.w.resize(n);
  for (std::int64_t i = 0; i < n; ++i) {
    d.x[i] = static_cast<float>(quantise(normal(rng)));
    d.r[i] = static_cast<float>(quantise(normal(rng)));
    d.w[i] = static_cast<float>(quantise((gemma ? 0 : 1) + normal(rng) / 8));
  }
  d.in.format = f;
  d.in.hidden = n;
  d.in.x = d.x.data();
  d.in.residual = d.r.data();
  d.in.weight = d.w.data();
  d.in.eps = 1e-6f;
  return d;
}

void BM_ReferenceRow(benchmark::State& state) {
  const auto profile = static_cast<NormProfile>(state.range(0));
  const std::int64_t n = state.range(1);
  const kc::ref::Format f = format_arg(state.range(2));
  const RowData d = make_row(profile, f, n);
  for (auto _ : state) {
    kc::ref::NormRowResult res = kc::ref::evaluate(profile, d.in);
    benchmark::DoNotOptimize(res.y_bits.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(std::string(kc::ref::profile_name(profile)) + " " + f.name);
}

void BM_FastRow(benchmark::State& state) {
  const auto profile = static_cast<NormProfile>(state.range(0));
  const std::int64_t n = state.range(1);
  const kc::ref::Format f = format_arg(state.range(2));
  const RowData d = make_row(profile, f, n);
  kc::ref::FastNormRowResult res;
  kc::ref::evaluate_fast(profile, d.in, &res);
  const kc::ref::NormRowResult want = kc::ref::evaluate(profile, d.in);
  if (res.y_bits != want.y_bits || res.residual_bits != want.residual_bits) {
    state.SkipWithError("evaluate_fast disagrees with evaluate on the benchmark row");
    return;
  }
  double fallback = 0;
  double exact_fallback = 0;
  for (auto _ : state) {
    kc::ref::evaluate_fast(profile, d.in, &res);
    benchmark::DoNotOptimize(res.y_bits.data());
    fallback += static_cast<double>(res.fallback);
    exact_fallback += static_cast<double>(res.exact_fallback);
  }
  const double elements = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["fallback"] = fallback / elements;
  state.counters["exact_fallback"] = exact_fallback / elements;
  state.SetLabel(std::string(kc::ref::profile_name(profile)) + " " + f.name);
}

BENCHMARK(BM_ReferenceRow)
    ->ArgsProduct(
        {{static_cast<int>(NormProfile::kRmsNormFp32), static_cast<int>(NormProfile::kRmsNormHf),
          static_cast<int>(NormProfile::kFusedFp32Sum), static_cast<int>(NormProfile::kFusedHf)},
         {4096, 16384},
         {0, 2}})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_FastRow)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7}, {4096, 16384}, {0, 1, 2}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

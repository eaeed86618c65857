// Throughput of the norm references on one CPU core (elements per second), for the README's
// precision section: rows of 4096 and 16384, normal data.
//  BM_ReferenceRow: the exact evaluate() (320-bit), four profile structures.
//  BM_FastRow: the certified fast path evaluate_fast() (rmsnorm_fast.h), every profile and
//  dtype; counters: fallback = elements per row that the double path left undecided,
//  exact_fallback = of those, how many needed evaluate() (both as rates per element).
//  BM_CompareRow: the reference as bounded_error uses it: the norm family's expectation of a
//  one-row case built and compared with the twin's outputs under the kernel bound, on the fast
//  path (path 0) and on the exact path (path 1, every row by evaluate()), every kernel profile
//  and dtype. Validated first: both paths give the same verdict and statistics.
// Inputs are quantised to the dtype; weights are 1 + N(0, 1/8) (gemma: N(0, 1/8), its w' is
// 1 + w). Validate before timing: BM_FastRow checks its row against evaluate() once.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/property.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"
#include "kc/ref/rmsnorm.h"
#include "kc/ref/rmsnorm_fast.h"
#include "rmsnorm/rmsnorm_family.h"

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

void BM_CompareRow(benchmark::State& state) {
  using kc::props::NormReferencePath;
  const auto profile = static_cast<NormProfile>(state.range(0));
  const std::int64_t n = state.range(1);
  const auto dtype = state.range(2) == 0   ? kc::DType::kFp32
                     : state.range(2) == 1 ? kc::DType::kFp16
                                           : kc::DType::kBf16;
  const auto path = state.range(3) == 0 ? NormReferencePath::kFast : NormReferencePath::kExact;
  const std::string name = kc::ref::profile_name(profile);
  const kc::props::Subject* twin = kc::props::find_subject("kc.twin." + name);
  if (twin == nullptr) {
    state.SkipWithError("no kernel implements this profile");
    return;
  }
  const kc::ref::Format f = kc::props::format_of(dtype);
  const RowData d = make_row(profile, f, n);
  const kc::props::Case c = kc::props::norm_case(name, dtype, 1, n, 1e-6f, 1);
  kc::props::CaseBuffers before = kc::props::materialize(c);
  const bool fused = kc::ref::is_fused(profile);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    before.tensor(0).set(0, i, kc::props::quantize(dtype, d.x[k]));
    if (fused) before.tensor(1).set(0, i, kc::props::quantize(dtype, d.r[k]));
    before.tensor(fused ? 2 : 1).set(0, i, kc::props::quantize(dtype, d.w[k]));
  }
  kc::props::CaseBuffers after = before;
  std::vector<void*> ptrs;
  for (std::size_t t = 0; t < c.tensors.size(); ++t) {
    ptrs.push_back(after.tensor(static_cast<int>(t)).data());
  }
  if (!twin->run(c, ptrs, nullptr).is_ok()) {
    state.SkipWithError("the twin rejected the benchmark case");
    return;
  }
  auto judge = [&](NormReferencePath p) {
    kc::props::Verdict v;
    kc::props::norm_expectation(c, before, p)
        ->compare(*twin, after, kc::props::Expectation::Mode::kBounded, &v);
    return v;
  };
  const kc::props::Verdict vf = judge(NormReferencePath::kFast);
  const kc::props::Verdict ve = judge(NormReferencePath::kExact);
  if (vf.failed() || ve.failed() || vf.stats.max_ulp != ve.stats.max_ulp ||
      vf.stats.hist != ve.stats.hist || vf.worst.expected_exact != ve.worst.expected_exact) {
    state.SkipWithError("the fast and exact comparisons disagree on the benchmark row");
    return;
  }
  const kc::props::NormComparisonCounts c0 = kc::props::norm_comparison_counts();
  for (auto _ : state) {
    const kc::props::Verdict v = judge(path);
    benchmark::DoNotOptimize(v.stats.max_ulp);
  }
  const kc::props::NormComparisonCounts c1 = kc::props::norm_comparison_counts();
  const double it = static_cast<double>(state.iterations());
  // Exact values the fast path needed, per comparison of the row.
  state.counters["exact_errors"] = static_cast<double>(c1.exact_errors - c0.exact_errors) / it;
  state.counters["exact_intervals"] =
      static_cast<double>(c1.exact_intervals - c0.exact_intervals) / it;
  state.counters["row_exact"] = static_cast<double>(c1.row_exact - c0.row_exact) / it;
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(name + " " + f.name + (path == NormReferencePath::kFast ? " fast" : " exact"));
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

BENCHMARK(BM_CompareRow)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6}, {4096, 16384}, {0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

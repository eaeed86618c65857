// Throughput of the exact act_and_mul profiles on one CPU core (elements per second).
//  - BM_ActColdTable: the first use of a 16-bit table: every one of its 65536 gates computed
//    once (one iteration; it must run before anything else warms that table in the process).
//  - BM_ActRow16: rows of 4096 bf16/fp16 elements with the table warm (the target is >= 1e6
//    elements per second per core).
//  - BM_ActRowFp32: rows of 1024 fp32 elements (no table: every element evaluates act).
// Data: gates N(0, 2), ups N(0, 1), rounded to the format.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kc/ref/act_and_mul.h"

namespace {

using kc::ref::ActFunction;
using kc::ref::ActProfile;
using kc::ref::ActRounding;

const kc::ref::Format& format_of(std::int64_t i) {
  return i == 0 ? kc::ref::kBf16 : i == 1 ? kc::ref::kFp16 : kc::ref::kFp32;
}

struct Rows {
  std::vector<float> g, u;
  kc::ref::ActRowInput input(const kc::ref::Format& f) const {
    kc::ref::ActRowInput in;
    in.format = f;
    in.d = static_cast<std::int64_t>(g.size());
    in.gate = g.data();
    in.up = u.data();
    return in;
  }
};

Rows make_rows(const kc::ref::Format& f, std::int64_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> gate(0, 2);
  std::normal_distribution<float> up(0, 1);
  auto q = [&](float v) {
    return kc::ref::decode_float(f, kc::ref::round_to(f, kc::ref::Exact(v)));
  };
  Rows r;
  for (std::int64_t i = 0; i < n; ++i) {
    r.g.push_back(q(gate(rng)));
    r.u.push_back(q(up(rng)));
  }
  return r;
}

void BM_ActColdTable(benchmark::State& state) {
  const auto act = static_cast<ActFunction>(state.range(0));
  const kc::ref::Format& f = format_of(state.range(1));
  for (auto _ : state) {
    for (std::uint32_t b = 0; b < 65536; ++b) {
      benchmark::DoNotOptimize(kc::ref::act_value(act, f, kc::ref::decode_float(f, b)).bits);
    }
  }
  state.SetItemsProcessed(state.iterations() * 65536);
  state.SetLabel(std::string(kc::ref::act_function_name(act)) + " " + f.name + " (cold)");
}

void BM_ActRow16(benchmark::State& state) {
  const ActProfile p{static_cast<ActFunction>(state.range(0) / 2),
                     static_cast<ActRounding>(state.range(0) % 2)};
  const kc::ref::Format& f = format_of(state.range(1));
  const Rows rows = make_rows(f, 4096);
  (void)kc::ref::evaluate(p, rows.input(f));  // warm the table for this data
  for (auto _ : state) {
    kc::ref::ActRowResult res = kc::ref::evaluate(p, rows.input(f));
    benchmark::DoNotOptimize(res.y_bits.data());
  }
  state.SetItemsProcessed(state.iterations() * 4096);
  state.SetLabel(std::string(kc::ref::act_profile_name(p)) + " " + f.name + " (warm)");
}

void BM_ActRowFp32(benchmark::State& state) {
  const ActProfile p{static_cast<ActFunction>(state.range(0) / 2),
                     static_cast<ActRounding>(state.range(0) % 2)};
  const Rows rows = make_rows(kc::ref::kFp32, 1024);
  for (auto _ : state) {
    kc::ref::ActRowResult res = kc::ref::evaluate(p, rows.input(kc::ref::kFp32));
    benchmark::DoNotOptimize(res.y_bits.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetLabel(std::string(kc::ref::act_profile_name(p)) + " fp32");
}

BENCHMARK(BM_ActColdTable)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ActRow16)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ActRowFp32)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

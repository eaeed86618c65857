// Host twins of the norm kernels against the exact profiles they implement: every hidden size
// 1..1024, a stratified sample up to 65536, random row strides and base offsets, in place and
// out of place, a rotation of value and weight classes. Every output element must lie in the
// admissible interval of NormKernelBound (derivation in rmsnorm_bound.h); the residual output
// must be the correct rounding. Prints, per profile, the worst observed ULP error, the worst
// interval bound met, the closed-form bound, and the exact-match fraction.
//
// Run one dtype per ctest (--gtest_filter=*fp32* etc.) so the two CI cores share the work.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "rmsnorm/rmsnorm_bound.h"
#include "rmsnorm/rmsnorm_family.h"

namespace kc::props {
namespace {

std::vector<std::int64_t> sweep_sizes() {
  std::vector<std::int64_t> s;
  for (std::int64_t h = 1; h <= 1024; ++h) s.push_back(h);
  // Powers of two and their neighbours, multiples of 8 +- 4, model sizes, the maximum.
  for (std::int64_t h :
       {1025,  1028,  1536,  2047,  2048,  2049,  2052,  3072,  3584,  4092,  4095,  4096,
        4097,  5120,  6144,  7168,  8188,  8191,  8192,  8193,  12288, 14336, 16383, 16384,
        16385, 18432, 24576, 32767, 32768, 32769, 49152, 65532, 65535, 65536}) {
    s.push_back(h);
  }
  return s;
}

// Classes whose rows stay inside the bound's domain (all of them do for eps > 0 except the
// deliberately degenerate zero rows, which still are: q = eps).
const NormRowClass kRowClasses[] = {
    NormRowClass::kNormal,      NormRowClass::kTiny,         NormRowClass::kHuge,
    NormRowClass::kSubnormal,   NormRowClass::kConstant,     NormRowClass::kOneHot,
    NormRowClass::kAlternating, NormRowClass::kEpsDominated, NormRowClass::kZero};

struct Stats {
  double worst_observed = 0;
  double worst_interval = 0;
  double closed_form = 0;
  std::int64_t elements = 0;
  std::int64_t exact = 0;
  std::int64_t rows = 0;
  std::int64_t special = 0;       // elements checked by the exact IEEE rules
  std::int64_t out_of_range = 0;  // rows outside the bound's range (counted, not checked)
};

class TwinVsReference : public ::testing::TestWithParam<DType> {};

TEST_P(TwinVsReference, EveryProfileAndHiddenSize) {
  const DType dtype = GetParam();
  const ref::Format f = format_of(dtype);
  std::mt19937_64 rng(0x6b63 + static_cast<int>(dtype));
  const std::vector<std::int64_t> sizes = sweep_sizes();
  std::printf("%-36s %5s %10s %10s %10s %10s %8s %8s\n", "profile", "dtype", "worst_ulp",
              "interval", "closed", "exact%", "rows", "special");
  for (const std::string& profile : norm_kernel_profiles()) {
    const OpSpec* found = nullptr;
    ASSERT_TRUE(find_profile(profile, nullptr, &found)) << profile;
    const OpSpec& op = *found;
    const bool fused = op.name == "fused_add_rmsnorm";
    Stats st;
    std::size_t k = 0;
    for (std::int64_t hidden : sizes) {
      ++k;
      const float eps = k % 3 == 0 ? 1e-5f : k % 3 == 1 ? 1e-6f : 0x1p-7f;
      Case c = norm_case(profile, dtype, hidden <= 1024 ? 2 : 1, hidden, eps, rng());
      set_norm_classes(
          c,
          {kRowClasses[k % std::size(kRowClasses)], kRowClasses[(k / 3) % std::size(kRowClasses)]},
          k % 4 == 0   ? NormWeightClass::kNearMinusOne
          : k % 4 == 1 ? NormWeightClass::kWide
          : k % 4 == 2 ? NormWeightClass::kNormal
                       : NormWeightClass::kOnes);
      const bool in_place = k % 2 == 0;
      c.tensors.clear();
      for (std::size_t t = 0; t < op.tensors.size(); ++t) {
        TensorLayout l;
        l.row_stride = hidden + static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 19 : 0);
        l.offset = static_cast<std::int64_t>(rng() % 16);
        l.in_place = op.tensors[t].output() && in_place;
        c.tensors.push_back(l);
      }
      CaseBuffers b = materialize(c);
      const std::vector<NormRowData> rows = capture_norm_rows(op, c, b);
      std::vector<void*> ptr = host_pointers(b, op.tensors.size());
      const Status s = fused ? fused_add_rmsnorm_twin(fused_add_rmsnorm_args(c, ptr))
                             : rmsnorm_twin(rmsnorm_args(c, ptr));
      ASSERT_TRUE(s.is_ok()) << s.to_string() << "\n" << describe(c);
      ASSERT_EQ(unwritten_elements(op, c, b), 0) << describe(c);
      ASSERT_TRUE(canary_damage(op, b).empty()) << describe(c);

      const NormKernelBound bound(norm_profile(c), dtype, hidden);
      st.closed_form = std::max(st.closed_form, bound.worst_case_ulps());
      const HostTensor& y = b.tensor(tensor_index(op, "output"));
      for (std::int64_t r = 0; r < c.num_tokens; ++r) {
        const ref::NormRowInput in = norm_row_input(c, rows[static_cast<std::size_t>(r)]);
        const ref::NormRowResult want = ref::evaluate(norm_profile(c), in);
        std::string why;
        ++st.rows;
        const NormKernelBound::Regime regime = bound.regime(in, want, &why);
        if (regime == NormKernelBound::Regime::kOutOfRange) {
          ++st.out_of_range;
          continue;
        }
        for (std::int64_t i = 0; i < hidden; ++i) {
          const std::uint32_t got = y.get(r, i);
          const std::uint32_t expected = want.y_bits[static_cast<std::size_t>(i)];
          if (regime == NormKernelBound::Regime::kSpecial ||
              NormKernelBound::exact_element(in, want, i)) {
            ASSERT_TRUE(bound.matches_exactly(expected, got))
                << profile << " special row " << r << " element " << i << ": observed "
                << ref::describe_bits(f, got) << ", expected " << ref::describe_bits(f, expected)
                << "\n"
                << describe(c);
            ++st.special;
            continue;
          }
          const Interval iv = bound.y_interval(in, want, i);
          const ref::Exact& v = want.y_exact[static_cast<std::size_t>(i)];
          const double err = ref::ulp_error(f, got, v);
          ASSERT_TRUE(bound.admits(iv, got))
              << profile << " " << dtype_name(dtype) << " row " << r << " element " << i
              << ": observed " << ref::describe_bits(f, got) << ", expected "
              << ref::describe_bits(f, expected) << " (exact " << ref::to_decimal(v, 25)
              << "), admissible [" << ref::describe_bits(f, iv.lo) << ", "
              << ref::describe_bits(f, iv.hi) << "], ulp error " << err << "\n"
              << describe(c);
          st.worst_observed = std::max(st.worst_observed, err);
          st.worst_interval = std::max(st.worst_interval, bound.interval_ulps(iv, v));
          st.exact += got == expected;
          ++st.elements;
        }
        if (fused) {
          const HostTensor& ro = b.tensor(tensor_index(op, "residual_out"));
          for (std::int64_t i = 0; i < hidden; ++i) {
            ASSERT_EQ(ro.get(r, i), want.residual_bits[static_cast<std::size_t>(i)])
                << profile << " residual_out row " << r << " element " << i << "\n"
                << describe(c);
          }
        }
      }
    }
    std::printf("%-36s %5s %10.4f %10.4f %10.4f %10.3f %8lld %8lld\n", profile.c_str(),
                dtype_name(dtype), st.worst_observed, st.worst_interval, st.closed_form,
                100.0 * static_cast<double>(st.exact) / static_cast<double>(st.elements),
                static_cast<long long>(st.rows), static_cast<long long>(st.special));
    EXPECT_LE(st.worst_observed, st.closed_form) << profile;
    // The sweep's classes keep every finite row inside the bound's range.
    EXPECT_EQ(st.out_of_range, 0) << profile;
  }
}

// NormKernelBound's intervals from enclosures (the fast comparison) against the same intervals
// from exact values: whenever y_interval() says it decided from an enclosure, the interval is the
// exact path's for values at both ends and the middle of that enclosure; and the row constants
// decided from an enclosure of q are those of every double in it. Values are drawn near format
// values and midpoints, weights of few bits (products that land on boundaries), zeros, tiny and
// huge magnitudes; radii from 2^-52 (the fast path's) to 2^-24 relative, so that both decided and
// undecided enclosures occur.
TEST(KernelIntervalTest, FastIntervalsAreTheExactOnes) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  std::int64_t decided = 0;
  std::int64_t undecided = 0;
  std::int64_t theta_decided = 0;
  for (const DType dtype : {DType::kFp32, DType::kFp16, DType::kBf16}) {
    const ref::Format f = format_of(dtype);
    for (const std::string& profile : norm_kernel_profiles()) {
      const NormKernelBound bound(norm_profile(norm_case(profile, dtype, 1, 8)), dtype, 4096);
      for (int trial = 0; trial < 4000; ++trial) {
        // Row constants: q from tiny (where the underflow term matters) to large.
        const double q = std::ldexp(1 + unit(rng), static_cast<int>(rng() % 140) - 110);
        const double qrad = q * std::ldexp(1.0, -20 - static_cast<int>(rng() % 33));
        NormKernelBound::RowThetas t;
        if (bound.row_thetas(ref::Enclosure{q, qrad}, &t)) {
          ++theta_decided;
          for (const double qq :
               {q, std::nextafter(q + qrad, 0.0), std::nextafter(q - qrad, INFINITY)}) {
            ASSERT_TRUE(bound.row_thetas(qq) == t) << profile << " q " << q;
          }
        } else {
          t = bound.row_thetas(q);
        }
        // One element: weight, value and u R.
        const std::uint32_t wb =
            static_cast<std::uint32_t>(rng()) & (dtype == DType::kFp32 ? 0x3f87ffffu : 0x3f87u);
        float w =
            value_of(dtype, wb & (dtype == DType::kFp32 ? 0x00ffffffu | 0x3f000000u : 0x3fffu));
        if (trial % 5 == 0) w = static_cast<float>(static_cast<int>(rng() % 17) - 8) / 4;
        if (trial % 7 == 0) w = 1;
        std::vector<float> x = {1.0f}, r = {0.0f}, wv = {w};
        ref::NormRowInput in;
        in.format = f;
        in.hidden = 1;
        in.x = x.data();
        in.residual = r.data();
        in.weight = wv.data();
        in.eps = 1e-6f;
        const std::uint32_t near =
            static_cast<std::uint32_t>(rng() % f.max_finite()) | (rng() % 2 ? f.sign_mask() : 0u);
        double v = ref::decode_double(f, near);
        if (trial % 3 == 0) v = ref::midpoint_above(f, near & ~f.sign_mask()).convert_to<double>();
        if (trial % 11 == 0) v = 0;
        v *= 1 + (unit(rng) - 0.5) * std::ldexp(1.0, -20 - static_cast<int>(rng() % 30));
        const double rad = std::fabs(v) * std::ldexp(1.0, -24 - static_cast<int>(rng() % 29));
        const ref::Enclosure e{v, rad};
        Interval fast;
        if (!bound.y_interval(t, in, 0, e, e, &fast)) {
          ++undecided;
          continue;
        }
        ++decided;
        for (const ref::Exact& ev :
             {ref::Exact(v), ref::Exact(v) - ref::Exact(rad), ref::Exact(v) + ref::Exact(rad)}) {
          const Interval exact = bound.y_interval(t, in, 0, ev, ev);
          ASSERT_EQ(fast.lo, exact.lo) << profile << " " << dtype_name(dtype) << std::hexfloat
                                       << " v " << v << " rad " << rad << " w " << w;
          ASSERT_EQ(fast.hi, exact.hi) << profile << " " << dtype_name(dtype) << std::hexfloat
                                       << " v " << v << " rad " << rad << " w " << w;
        }
      }
    }
  }
  std::printf(
      "[ interval ] %lld decided from enclosures (each equal to the exact path's), %lld "
      "undecided; row constants decided for %lld enclosures of q\n",
      static_cast<long long>(decided), static_cast<long long>(undecided),
      static_cast<long long>(theta_decided));
  EXPECT_GT(decided, 10 * undecided);
  EXPECT_GT(undecided, 100);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, TwinVsReference,
                         ::testing::Values(DType::kFp32, DType::kFp16, DType::kBf16),
                         [](const ::testing::TestParamInfo<DType>& i) {
                           return std::string(dtype_name(i.param));
                         });

}  // namespace
}  // namespace kc::props

// Norm profiles against hand-derived rows, special-value rules, exact ties, and a precision
// cross-check of every rounding decision against an independent 1024-bit evaluation.
//
// Expected values: scripts/derive_norm_examples.py derives each one with exact rationals and
// 80-digit square roots (no code shared with the library); the key numbers are repeated in the
// comments so a reader can follow them by hand.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kc/ref/rmsnorm.h"

namespace kc::ref {
namespace mp = boost::multiprecision;
namespace {

struct Row {
  Format format;
  std::vector<float> x, r, w;
  float eps;
  NormRowInput input() const {
    NormRowInput in;
    in.format = format;
    in.hidden = static_cast<std::int64_t>(x.size());
    in.x = x.data();
    in.residual = r.empty() ? nullptr : r.data();
    in.weight = w.data();
    in.eps = eps;
    return in;
  }
};

std::vector<std::uint32_t> outputs(NormProfile p, const Row& row) {
  return evaluate(p, row.input()).y_bits;
}

// mean((1, 7)^2) = 25, R = 1/5 exactly.
//  fp32:  0.2 * 1.5 = 0.3 -> bf16 0x3e9a (0.30078125); 1.4 * 1.0234375 = 1.4328125 -> 0x3fb7
//  hf:    rn(0.2) = 0.2001953125, * 1.5 = 0.30029296875 -> 0x3e9a; rn(1.4) = 1.3984375,
//         * 1.0234375 = 1.43121337890625 -> 0x3fb7
//  gemma: 0.2 * 2.5 = 0.5 -> 0x3f00; 1.4 * 2.0234375 = 2.8328125 -> 0x4035 (2.828125)
TEST(RmsNormProfileTest, RationalInverseRms) {
  const Row row{kBf16, {1, 7}, {}, {1.5f, 1.0234375f}, 0.0f};
  EXPECT_EQ(outputs(NormProfile::kRmsNormFp32, row), (std::vector<std::uint32_t>{0x3e9a, 0x3fb7}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormHf, row), (std::vector<std::uint32_t>{0x3e9a, 0x3fb7}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormGemma, row), (std::vector<std::uint32_t>{0x3f00, 0x4035}));
  const NormRowResult res = rmsnorm_fp32(row.input());
  EXPECT_EQ(res.mean_sq_plus_eps, Exact(25));
  // The exact value 0.3 is not dyadic: it is carried to within 2^-300 relative.
  EXPECT_LT(mp::abs(res.y_exact[0] - Exact(3) / 10), mp::ldexp(Exact(1), -300));
}

// mean((1,3,5,7)^2) = 21, R = 0.21821789023599238126...; w = 1.0234375.
//  x0: x R w = 0.2233323720 -> 0x3e65 (0.2236328125); rn(x R) = 0.2177734375,
//      * w = 0.22287750244140625 -> 0x3e64 (0.22265625): hf and fp32 differ.
//  x3: x R w = 1.5633266043 -> 0x3fc8 (1.5625); rn(x R) = 1.53125, * w = 1.567138671875
//      -> 0x3fc9 (1.5703125): differ again.
TEST(RmsNormProfileTest, HfAndFp32Differ) {
  const float w = 1.0234375f;
  const Row row{kBf16, {1, 3, 5, 7}, {}, {w, w, w, w}, 0.0f};
  EXPECT_EQ(outputs(NormProfile::kRmsNormFp32, row),
            (std::vector<std::uint32_t>{0x3e65, 0x3f2c, 0x3f8f, 0x3fc8}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormHf, row),
            (std::vector<std::uint32_t>{0x3e64, 0x3f2c, 0x3f8f, 0x3fc9}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormGemma, row),
            (std::vector<std::uint32_t>{0x3ee2, 0x3faa, 0x400d, 0x4046}));
  // The exact value of hf is dyadic: w * rn(x0 R) = 1.0234375 * 0.2177734375.
  const NormRowResult hf = rmsnorm_hf(row.input());
  EXPECT_EQ(hf.y_exact[0], Exact(1.0234375) * Exact(0.2177734375));
}

// Gemma with w = -0.99609375: 1 + w = 2^-8 exactly; R = 0.49999993750001171874756...
//  y0 = 2 R 2^-8 = 0.0039062495117188415527 -> bf16 0x3b80 (0.00390625); y1 = -y0 -> 0xbb80.
TEST(RmsNormProfileTest, GemmaWeightsNearMinusOne) {
  const float w = -0.99609375f;
  const Row row{kBf16, {2, -2}, {}, {w, w}, 1e-6f};
  EXPECT_EQ(outputs(NormProfile::kRmsNormGemma, row), (std::vector<std::uint32_t>{0x3b80, 0xbb80}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormFp32, row), (std::vector<std::uint32_t>{0xbf7f, 0x3f7f}));
}

// eps-dominated: mean(x^2) = 2^-20, eps = 2^-7, R = 11.313018028232600257...
//  x R = 0.011047869168195898689 -> fp32 0x3c35021f; gemma doubles it -> 0x3cb5021f.
TEST(RmsNormProfileTest, EpsDominatedRow) {
  const float t = 1.0f / 1024;
  const Row row{kFp32, {t, -t}, {}, {1, 1}, 1.0f / 128};
  EXPECT_EQ(outputs(NormProfile::kRmsNormFp32, row),
            (std::vector<std::uint32_t>{0x3c35021f, 0xbc35021f}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormHf, row),
            (std::vector<std::uint32_t>{0x3c35021f, 0xbc35021f}));
  EXPECT_EQ(outputs(NormProfile::kRmsNormGemma, row),
            (std::vector<std::uint32_t>{0x3cb5021f, 0xbcb5021f}));
}

// Residual sums that need more than 8 bits: s = (549.5, -177.5), rn(s) = (548, -178).
//  R(s) = 0.0024490373249256378448, R(rn(s)) = 0.0024544478262607438161.
//  Element 1 separates four profiles:
//   fp32_sum          s R w           = -0.4381002512 -> 0xbee0 (-0.4375)
//   hf                w rn(rn(s) R)   = -0.44091796875 -> 0xbee2 (-0.44140625)
//   fp32_sum_hf_cast  w rn(s R)       = -0.4389495849609375 -> 0xbee1 (-0.439453125)
//   legacy_mixed      rn(s) R(s) w    = -0.4393343364 -> 0xbee1
//  Element 0: legacy_mixed 2.5059009103 -> 0x4020, the others 0x4021.
TEST(RmsNormProfileTest, FusedProfilesSeparateOnWideSums) {
  const Row row{kBf16, {548, -178}, {1.5f, 0.5f}, {1.8671875f, 1.0078125f}, 0.0f};
  using V = std::vector<std::uint32_t>;
  EXPECT_EQ(outputs(NormProfile::kFusedFp32Sum, row), (V{0x4021, 0xbee0}));
  EXPECT_EQ(outputs(NormProfile::kFusedHf, row), (V{0x4021, 0xbee2}));
  EXPECT_EQ(outputs(NormProfile::kFusedFp32SumHfCast, row), (V{0x4021, 0xbee1}));
  EXPECT_EQ(outputs(NormProfile::kFusedLegacyMixed, row), (V{0x4020, 0xbee1}));
  EXPECT_EQ(outputs(NormProfile::kFusedGemma, row), (V{0x4077, 0xbf61}));
  for (NormProfile p : kAllNormProfiles) {
    if (!is_fused(p)) continue;
    const NormRowResult res = evaluate(p, row.input());
    EXPECT_EQ(res.residual_bits, (V{0x4409, 0xc332})) << profile_name(p);  // 548, -178
    EXPECT_EQ(res.residual_exact[0], Exact(549.5)) << profile_name(p);
  }
}

// x = (3, 0), eps = 11.5: mean + eps = 16, R = 1/4 exactly, and 3/4 * w lands exactly on a bf16
// midpoint: 3/4 * 129/128 = 387/512, between 0x3f41 (193/256) and 0x3f42 (194/256): ties to
// the even 0x3f42; 3/4 * 131/128 = 393/512 ties to 0x3f44. The 320-bit approximation cannot
// settle a tie; the exact comparison must.
TEST(RmsNormProfileTest, ExactTiesAreDecidedExactly) {
  const Row row{kBf16, {3, 0}, {}, {129.0f / 128, 131.0f / 128}, 11.5f};
  const NormRowResult res = rmsnorm_fp32(row.input());
  EXPECT_EQ(res.y_bits[0], 0x3f42u);
  EXPECT_GE(res.exact_decisions, 1);
  const Row row2{kBf16, {3, 0}, {}, {131.0f / 128, 1}, 11.5f};
  EXPECT_EQ(rmsnorm_fp32(row2.input()).y_bits[0], 0x3f44u);
  // The same row in fp32: 387/512 is representable, no tie, no exact path needed for it.
  const Row row3{kFp32, {3, 0}, {}, {129.0f / 128, 1}, 11.5f};
  const NormRowResult r3 = rmsnorm_fp32(row3.input());
  EXPECT_EQ(decode(kFp32, r3.y_bits[0]), Exact(387) / 512);
}

TEST(RmsNormProfileTest, NanRowIsAllNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Row row{kFp16, {1, nan, 2}, {}, {1, 1, 1}, 1e-6f};
  for (NormProfile p :
       {NormProfile::kRmsNormFp32, NormProfile::kRmsNormHf, NormProfile::kRmsNormGemma}) {
    for (std::uint32_t b : outputs(p, row)) EXPECT_TRUE(is_nan(kFp16, b)) << profile_name(p);
  }
}

// An infinity makes R = 0: finite elements give signed zeros (sign of x w), inf * 0 = NaN.
TEST(RmsNormProfileTest, InfinityRowGivesZerosAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const Row row{kBf16, {1, -inf, -2}, {}, {2, 1, 3}, 1e-6f};
  for (NormProfile p : {NormProfile::kRmsNormFp32, NormProfile::kRmsNormHf}) {
    const std::vector<std::uint32_t> y = outputs(p, row);
    EXPECT_EQ(y[0], 0x0000u) << profile_name(p);
    EXPECT_TRUE(is_nan(kBf16, y[1])) << profile_name(p);
    EXPECT_EQ(y[2], 0x8000u) << profile_name(p);
  }
}

TEST(RmsNormProfileTest, ZeroRowWithZeroEpsIsNan) {
  const Row row{kFp32, {0, 0}, {}, {1, 1}, 0.0f};
  for (std::uint32_t b : outputs(NormProfile::kRmsNormFp32, row)) EXPECT_TRUE(is_nan(kFp32, b));
  // With eps > 0 the zero row normalises to zeros.
  const Row row2{kFp32, {0, -0.0f}, {}, {1, 1}, 1e-6f};
  EXPECT_EQ(outputs(NormProfile::kRmsNormFp32, row2), (std::vector<std::uint32_t>{0, 0x80000000u}));
}

// fp16: 60000 + 10000 = 70000 overflows the residual (rn = inf). Profiles that normalise the
// rounded sum see an infinity (zeros and a NaN); fp32_sum normalises the finite exact sum.
TEST(RmsNormProfileTest, Fp16ResidualOverflow) {
  const Row row{kFp16, {60000, 1}, {10000, 1}, {1, 1}, 1e-6f};
  const NormRowResult hf = fused_add_rmsnorm_hf(row.input());
  EXPECT_EQ(hf.residual_bits[0], 0x7c00u);  // +inf
  EXPECT_TRUE(is_nan(kFp16, hf.y_bits[0]));
  EXPECT_EQ(hf.y_bits[1], 0x0000u);
  const NormRowResult fs = fused_add_rmsnorm_fp32_sum(row.input());
  EXPECT_EQ(fs.residual_bits[0], 0x7c00u);
  // s = (70000, 2): R = 1/sqrt(2450000002 + 1e-6) ~ 2.0203e-5, y0 = 70000 R = 1.41421... ->
  // fp16 0x3da8 (1.4140625); y1 = 2 R = 4.0406e-5 -> fp16 subnormal 0x02a6.
  EXPECT_EQ(fs.y_bits[0], 0x3da8u);
  EXPECT_EQ(fs.y_bits[1], 0x02a6u);
}

// Precision check: every rounding the 320-bit certified path makes equals the rounding of an
// independent 1024-bit evaluation of the same expression (whose own error, < 2^-1000
// relative, cannot move a rounding unless the value is within that of a boundary).
using Wide =
    mp::number<mp::backends::cpp_bin_float<1024, mp::backends::digit_base_2, void, std::int32_t>,
               mp::et_off>;

Exact to_exact(const Wide& v) {
  // Round 1024 -> 320 bits is harmless here: round_to of the 1024-bit value is compared
  // through this conversion only after confirming it is far from a boundary.
  return Exact(v);
}

TEST(RmsNormProfileTest, CertifiedRoundingMatchesWideEvaluation) {
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const Format f = trial % 3 == 0 ? kFp32 : trial % 3 == 1 ? kFp16 : kBf16;
    const int n = 1 + static_cast<int>(rng() % 300);
    Row row{f, {}, {}, {}, 1e-5f};
    auto quantise = [&](float v) { return decode(f, round_to(f, Exact(v))).convert_to<float>(); };
    for (int i = 0; i < n; ++i) {
      row.x.push_back(quantise(normal(rng) * 3));
      row.r.push_back(quantise(normal(rng)));
      row.w.push_back(quantise(1 + normal(rng) * 0.1f));
    }
    for (NormProfile p : kAllNormProfiles) {
      const NormStructure st = profile_structure(p);
      const NormRowResult res = evaluate(p, row.input());
      // Independent wide evaluation of the same structure.
      std::vector<Wide> zs(n), us(n);
      for (int i = 0; i < n; ++i) {
        const Wide s = is_fused(p) ? Wide(row.x[i]) + Wide(row.r[i]) : Wide(row.x[i]);
        const Wide rs = Wide(decode(f, round_to(f, Exact(s))));
        auto pick = [&](NormSource src) { return src == NormSource::kRoundedSum ? rs : s; };
        zs[i] = pick(st.ss_from);
        us[i] = pick(st.scaled);
      }
      Wide sum = 0;
      for (const Wide& z : zs) sum += z * z;
      const Wide r = 1 / mp::sqrt(sum / n + Wide(row.eps));
      for (int i = 0; i < n; ++i) {
        Wide v;
        if (st.cast_before_weight) {
          const std::uint32_t inner = round_to(f, to_exact(us[i] * r));
          v = Wide(row.w[i]) * Wide(decode(f, inner));
        } else {
          const Wide wp = st.weight_offset_one ? Wide(1) + Wide(row.w[i]) : Wide(row.w[i]);
          v = us[i] * r * wp;
        }
        Exact dist;
        const std::uint32_t want = round_to(f, to_exact(v), &dist);
        // An irrational value must be far from a boundary for the wide rounding to be trusted;
        // w rn(u R) is dyadic and exact in both types, so its ties are real and rounded exactly.
        if (!st.cast_before_weight) {
          ASSERT_GT(dist, mp::abs(to_exact(v)) * mp::ldexp(Exact(1), -250));
        }
        ASSERT_EQ(res.y_bits[i], want) << profile_name(p) << " " << f.name << " i=" << i;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

}  // namespace
}  // namespace kc::ref

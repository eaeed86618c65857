// FlashInfer's act_and_mul peer on the CPU: the vector width its launcher picks (the support
// predicate's alignment rule depends on it) and the derived bound's numbers, re-derived by hand
// here from the premises (properties/peers/flashinfer_act_bound.h states the derivation):
//   silu:      theta = EDIV + E2 + 2u = 10u (+ 2^-30 slack); 2 alpha = 2 * 0.22388 * 1.2240u
//              = 0.548u, so N = 24;
//   gelu:      theta = 3u; 2 alpha = EERF + 0.48395 * 1.2871u = 4.623u, so N = 21 (2^-21 = 8u);
//   gelu_tanh: theta = 3u; 2 alpha = 2^-16 + 0.44775 * 6.057u = 2^-16 (1 + 0.0106), so N = 15.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "flashinfer_act.h"
#include "flashinfer_act_bound.h"

namespace {

using kc::DType;
using kc::peers::FlashInferAct;

TEST(FlashInferActVec, WidestOfFlashInfersLadderThatDividesD) {
  for (DType d : {DType::kFp32, DType::kFp16, DType::kBf16}) {
    const std::int64_t widest = 16 / static_cast<std::int64_t>(kc::dtype_size(d));
    for (std::int64_t dim = 1; dim <= 5000; ++dim) {
      const std::int64_t v = kc::peers::flashinfer_act_vec(d, dim);
      ASSERT_EQ(dim % v, 0) << dim;
      ASSERT_LE(v * static_cast<std::int64_t>(kc::dtype_size(d)), 16);
      for (std::int64_t w : {widest, std::int64_t{4}, std::int64_t{2}}) {
        if (w > v && dim % w == 0) FAIL() << "d " << dim << ": " << w << " divides, got " << v;
      }
    }
  }
  EXPECT_EQ(kc::peers::flashinfer_act_vec(DType::kBf16, 3420), 4);  // d % 8 == 4
  EXPECT_EQ(kc::peers::flashinfer_act_vec(DType::kBf16, 4096), 8);
  EXPECT_EQ(kc::peers::flashinfer_act_vec(DType::kFp32, 4096), 4);
  EXPECT_EQ(kc::peers::flashinfer_act_vec(DType::kFp16, 4098), 2);
  EXPECT_EQ(kc::peers::flashinfer_act_vec(DType::kFp16, 7), 1);
}

TEST(FlashInferActBound, NumbersMatchTheHandDerivation) {
  const double u = 0x1p-24;
  const auto silu = kc::peers::flashinfer_act_bound(FlashInferAct::kSilu);
  const auto gelu = kc::peers::flashinfer_act_bound(FlashInferAct::kGelu);
  const auto tanh = kc::peers::flashinfer_act_bound(FlashInferAct::kGeluTanh);
  EXPECT_DOUBLE_EQ(silu.theta, 10 * u + 0x1p-30);
  EXPECT_DOUBLE_EQ(gelu.theta, 3 * u + 0x1p-30);
  EXPECT_DOUBLE_EQ(tanh.theta, 3 * u + 0x1p-30);
  EXPECT_NEAR(2 * silu.alpha / u, 0.548, 0.001);
  EXPECT_NEAR(2 * gelu.alpha / u, 4.623, 0.001);
  EXPECT_NEAR(2 * tanh.alpha / 0x1p-16, 1.0106, 0.0002);
  EXPECT_EQ(kc::peers::flashinfer_act_absolute_n(FlashInferAct::kSilu), 24);
  EXPECT_EQ(kc::peers::flashinfer_act_absolute_n(FlashInferAct::kGelu), 21);
  EXPECT_EQ(kc::peers::flashinfer_act_absolute_n(FlashInferAct::kGeluTanh), 15);
  // Flat ULPs: 0.5 + 2 theta 2^p (p = 8 bf16, 11 fp16), theta with the 2^-30 slack.
  const double slack8 = 2 * 0x1p-30 * 256, slack11 = 2 * 0x1p-30 * 2048;
  EXPECT_NEAR(kc::peers::flashinfer_act_flat_ulps(FlashInferAct::kSilu, 8),
              0.5 + 20 * 0x1p-16 + slack8, 1e-12);
  EXPECT_NEAR(kc::peers::flashinfer_act_flat_ulps(FlashInferAct::kSilu, 11),
              0.5 + 20 * 0x1p-13 + slack11, 1e-12);
  EXPECT_NEAR(kc::peers::flashinfer_act_flat_ulps(FlashInferAct::kGelu, 8),
              0.5 + 6 * 0x1p-16 + slack8, 1e-12);
  EXPECT_NEAR(kc::peers::flashinfer_act_flat_ulps(FlashInferAct::kGeluTanh, 11),
              0.5 + 6 * 0x1p-13 + slack11, 1e-12);
  // Every bound is below one ULP, so a profile one rounding away (torch) is not admitted.
  for (FlashInferAct a : {FlashInferAct::kSilu, FlashInferAct::kGelu, FlashInferAct::kGeluTanh}) {
    EXPECT_LT(kc::peers::flashinfer_act_flat_ulps(a, 11), 0.51);
  }
}

}  // namespace

// round_to(fp16 / bf16, fp32 value) agrees with the CUDA toolkit's host-side conversions
// __float2half_rn and __float2bfloat16_rn: an independent implementation of the same rounding.
// Inputs: 2 million random fp32 patterns per format, every fp32 within +-8 ulps of every
// 16-bit value and of every midpoint between neighbours, and the overflow/underflow edges.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kc/ref/format.h"

namespace kc::ref {
namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float float_of(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
std::uint32_t cuda_round(const Format& f, float x) {
  std::uint16_t b;
  if (f == kFp16) {
    const __half h = __float2half_rn(x);
    std::memcpy(&b, &h, 2);
  } else {
    const __nv_bfloat16 h = __float2bfloat16_rn(x);
    std::memcpy(&b, &h, 2);
  }
  return b;
}

std::vector<std::uint32_t> test_inputs(const Format& f) {
  std::vector<std::uint32_t> in;
  std::mt19937 rng(f.precision);
  for (int i = 0; i < 2000000; ++i) in.push_back(rng());
  for (std::uint32_t mag = 0; mag <= f.max_finite(); ++mag) {
    for (std::uint32_t sign : {0u, f.sign_mask()}) {
      const std::uint32_t b16 = sign | mag;
      const float value = decode(f, b16).convert_to<float>();
      const float mid = midpoint_above(f, b16).convert_to<float>();  // exact in fp32
      for (int d = -8; d <= 8; ++d) {
        in.push_back(bits_of(value) + static_cast<std::uint32_t>(d));
        in.push_back(bits_of(mid) + static_cast<std::uint32_t>(d));
      }
    }
  }
  return in;
}

void check_format(const Format& f) {
  std::size_t checked = 0;
  for (std::uint32_t b : test_inputs(f)) {
    const float x = float_of(b);
    const std::uint32_t want = cuda_round(f, x);
    const std::uint32_t got = round_to(f, exact_of(x));
    if (std::isnan(x)) {
      ASSERT_TRUE(is_nan(f, got) && is_nan(f, want));
    } else {
      ASSERT_EQ(got, want) << f.name << " input " << describe_bits(kFp32, b)
                           << " cuda=" << describe_bits(f, want)
                           << " reference=" << describe_bits(f, got);
    }
    ++checked;
  }
  EXPECT_GT(checked, 4000000u);
}

TEST(CudaConversionTest, Fp16) { check_format(kFp16); }
TEST(CudaConversionTest, Bf16) { check_format(kBf16); }

}  // namespace
}  // namespace kc::ref

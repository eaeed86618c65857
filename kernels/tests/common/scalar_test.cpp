// The twins' host conversions (kernels/src/scalar.h) against the CUDA toolkit's host
// conversions: exact fp16/bf16 -> fp32 for all 2^16 patterns, and fp32 -> fp16/bf16 rounding on
// every fp32 whose low bits sit at or next to a rounding decision (all 2^19 sign/exponent/top
// patterns x 24 tails for fp16, 2^16 x 24 for bf16). The soak label runs all 2^32 inputs.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/scalar.h"

namespace kc::detail {
namespace {

std::uint16_t cuda_half(float f) {
  const __half h = __float2half_rn(f);
  std::uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
}
std::uint16_t cuda_bf16(float f) {
  const __nv_bfloat16 h = __float2bfloat16_rn(f);
  std::uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
}

// Both sides agree, with every NaN canonical on ours.
void expect_same(std::uint32_t bits) {
  const float f = bits_float(bits);
  if (std::isnan(f)) {
    ASSERT_EQ(float_to_fp16(f), kCanonicalNan16);
    ASSERT_EQ(float_to_bf16(f), kCanonicalNan16);
    return;
  }
  ASSERT_EQ(float_to_fp16(f), cuda_half(f)) << std::hex << bits;
  ASSERT_EQ(float_to_bf16(f), cuda_bf16(f)) << std::hex << bits;
}

TEST(ScalarTest, SixteenBitToFloatIsExactForAllPatterns) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto h = static_cast<std::uint16_t>(b);
    __half_raw raw;
    raw.x = h;
    const float want = __half2float(__half(raw));
    const float got = fp16_to_float(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(float_bits(got), float_bits(want)) << std::hex << b;
    }
    ASSERT_EQ(float_bits(bf16_to_float(h)), b << 16);
  }
}

TEST(ScalarTest, RoundingDecisionsAgreeWithCuda) {
  // fp16 decides on the low 13 bits (more in its subnormal range), bf16 on the low 16: tails
  // around both halfway points and the extremes.
  const std::uint32_t tails[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x0800,
                                 0x7fff, 0x8000, 0x8001, 0xffff, 0x17ff, 0x1800, 0x1801, 0x3000,
                                 0x4000, 0x4001, 0x3fff, 0x6000, 0xc000, 0xbfff, 0x0400, 0x0200};
  for (std::uint32_t top = 0; top < (1u << 19); ++top) {
    for (std::uint32_t tail : tails) expect_same((top << 13) | (tail & 0x1fffu));
  }
  for (std::uint32_t top = 0; top < (1u << 16); ++top) {
    for (std::uint32_t tail : tails) expect_same((top << 16) | tail);
  }
}

// Registered only under the soak label (about a minute on one core).
TEST(ScalarTest, AllFloatsAgreeWithCudaSoak) {
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); ++b) {
    expect_same(static_cast<std::uint32_t>(b));
  }
}

}  // namespace
}  // namespace kc::detail

// inv_rms's cheaper forms (rmsnorm_row.h) against the operations they stand for, on the host:
// rn(sum * 2^-k) for rn(sum / 2^k) when hidden = 2^k, and rn(1 / a) by reciprocal. The twin and
// the kernels share inv_rms, so this pins it to the profile's r = 1 / sqrt(sum / hidden + eps)
// with a correctly rounded divide, square root and divide.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "common/scalar.h"
#include "rmsnorm/rmsnorm_job.h"
#include "rmsnorm/rmsnorm_row.h"

namespace kc::detail {
namespace {

float reference_inv_rms(float sum, std::int64_t hidden, float eps) {
  const float mean = fdiv(sum, static_cast<float>(hidden));
  return fdiv(1.0f, fsqrt(fadd(mean, eps)));
}

TEST(RowMathTest, InverseOfPowerOfTwoIsExactElseZero) {
  for (std::int64_t h = 1; h <= (std::int64_t{1} << 40); h *= 2) {
    const float inv = exact_inverse_pow2(h);
    ASSERT_EQ(fmul(inv, static_cast<float>(h)), 1.0f) << h;
  }
  for (std::int64_t h : {0, -4, 3, 5, 6, 7, 12, 1000, 1023, 1025, 3072, 5120, 65535}) {
    ASSERT_EQ(exact_inverse_pow2(h), 0.0f) << h;
  }
}

// Sums over the whole fp32 range (subnormal and overflowing means included), hidden powers of
// two and not, eps zero and typical: the same bits as the plain divide-sqrt-divide.
TEST(RowMathTest, InvRmsEqualsDivideSqrtDivide) {
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<std::uint32_t> bits(0u, 0x7f7fffffu);  // +0 .. max finite
  const float eps_values[] = {0.0f, 1e-6f, 1e-5f, 1e-12f, 1.0f};
  const std::int64_t hiddens[] = {1,    2,    8,    64,    1000,  1024,  2048,    3072,
                                  4096, 5120, 8192, 16384, 65536, 65537, 1 << 20, 7};
  long checked = 0;
  for (const std::int64_t hidden : hiddens) {
    NormJob j{};
    j.hidden = hidden;
    for (const float eps : eps_values) {
      j.eps = eps;
      const RowMath m = row_math(j);
      for (int i = 0; i < 20000; ++i) {
        const float sum = bits_float(i < 64 ? static_cast<std::uint32_t>(i) : bits(rng));
        const float got = inv_rms(sum, m);
        const float want = reference_inv_rms(sum, hidden, eps);
        ASSERT_EQ(float_bits(got), float_bits(want))
            << "sum bits " << float_bits(sum) << " hidden " << hidden << " eps " << eps;
        ++checked;
      }
      // Specials: +inf and NaN sums.
      EXPECT_EQ(float_bits(inv_rms(bits_float(0x7f800000u), m)),
                float_bits(reference_inv_rms(bits_float(0x7f800000u), hidden, eps)));
      EXPECT_TRUE(is_nan(inv_rms(bits_float(0x7fc00000u), m)));
    }
  }
  EXPECT_EQ(checked, 16L * 5 * 20000);
}

}  // namespace
}  // namespace kc::detail

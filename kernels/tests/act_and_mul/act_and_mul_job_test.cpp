// The launch shape of act_and_mul (act_and_mul_job.h): for every layout the launcher can meet,
// a simulation of the kernel's two grid-stride loops covers every (row, unit) exactly once;
// blocks are whole warps of at most 256 threads within CUDA's grid limits.
#include <gtest/gtest.h>

#include <vector>

#include "act_and_mul/act_and_mul_job.h"

namespace kc::detail {
namespace {

void expect_covers(std::int64_t rows, std::int64_t d, DType dt, bool aligned, int sms) {
  const ActLaunchShape s = act_launch_shape(rows, d, dt, aligned, sms);
  ASSERT_EQ(s.vectors, aligned ? d / act_vec(dt) : d);
  ASSERT_EQ(s.tx * s.ty, 256) << "a block of 256 threads, whole warps";
  ASSERT_GE(s.tx, 32);
  ASSERT_GE(s.gx, 1);
  ASSERT_GE(s.gy, 1);
  ASSERT_LE(s.gy, 65535);
  ASSERT_LE(s.gx, 0x7fffffff);
  std::vector<int> seen(static_cast<std::size_t>(rows * s.vectors), 0);
  for (std::int64_t by = 0; by < s.gy; ++by) {
    for (std::int64_t ty = 0; ty < s.ty; ++ty) {
      for (std::int64_t row = by * s.ty + ty; row < rows; row += s.gy * s.ty) {
        for (std::int64_t bx = 0; bx < s.gx; ++bx) {
          for (std::int64_t tx = 0; tx < s.tx; ++tx) {
            for (std::int64_t u = bx * s.tx + tx; u < s.vectors; u += s.gx * s.tx) {
              ++seen[static_cast<std::size_t>(row * s.vectors + u)];
            }
          }
        }
      }
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], 1) << "unit " << i << " rows " << rows << " d " << d << " sms " << sms;
  }
}

TEST(ActLaunchShapeTest, EveryUnitExactlyOnce) {
  for (int sms : {1, 2, 132}) {
    for (std::int64_t rows : {1, 2, 3, 7, 31, 33, 257}) {
      for (std::int64_t d : {1, 7, 8, 9, 31, 64, 255, 256, 257, 1000, 2048, 3420}) {
        expect_covers(rows, d, DType::kBf16, false, sms);
        if (d % 8 == 0) expect_covers(rows, d, DType::kBf16, true, sms);
        if (d % 4 == 0) expect_covers(rows, d, DType::kFp32, true, sms);
      }
    }
  }
}

TEST(ActLaunchShapeTest, DecodeRowsSpreadAcrossBlocks) {
  // One token of d = 14336 bf16: 1792 vectors over several blocks, not one.
  const ActLaunchShape s = act_launch_shape(1, 14336, DType::kBf16, true, 132);
  EXPECT_EQ(s.tx, 256);
  EXPECT_EQ(s.gx, 7);
  EXPECT_EQ(s.gy, 1);
  // Many short rows share blocks: d = 64 bf16 is 8 vectors, 32 threads a row, 8 rows a block.
  const ActLaunchShape t = act_launch_shape(4096, 64, DType::kBf16, true, 132);
  EXPECT_EQ(t.tx, 32);
  EXPECT_EQ(t.ty, 8);
  EXPECT_EQ(t.gy, 512);
}

}  // namespace
}  // namespace kc::detail

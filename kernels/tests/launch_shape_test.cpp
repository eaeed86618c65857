// The launch shape rule (rmsnorm_job.h) on the CPU: every block is a whole number of warps, the
// held-weight path's 512-thread bound holds, and decode launches spread rows over the SMs.
#include <gtest/gtest.h>

#include <cstdint>

#include "rmsnorm_job.h"

namespace kc::detail {
namespace {

TEST(LaunchShapeTest, BlocksAreWholeWarpsAndWithinBounds) {
  for (int sms : {1, 2, 7, 66, 114, 132, 144}) {
    for (int lanes = 1; lanes <= 1024; lanes *= 2) {
      const int bw_rows = lanes >= 256 ? 1 : 256 / lanes;
      // Every row count up to a few bandwidth waves, then a sparse sample further out.
      for (std::int64_t rows = 1; rows <= 4LL * sms * bw_rows + 64;
           rows += (rows < 4096 ? 1 : 997)) {
        const LaunchShape s = launch_shape(lanes, rows, sms);
        const std::int64_t threads = std::int64_t{lanes} * s.rows_per_block;
        ASSERT_EQ(threads % 32, 0) << "lanes " << lanes << " rows " << rows << " sms " << sms;
        ASSERT_LE(threads, s.decode && lanes <= 512 ? 512 : 1024)
            << "lanes " << lanes << " rows " << rows << " sms " << sms;
        ASSERT_GE(s.rows_per_block, 1);
        if (s.decode) {
          // The fewest rows a block that keep the grid within one block an SM, rounded up to
          // whole warps only: no more rows a block than that needs.
          const std::int64_t need = (rows + sms - 1) / sms;
          const int warp_rows = lanes >= 32 ? 1 : 32 / lanes;
          ASSERT_GE(s.rows_per_block, need) << "lanes " << lanes << " rows " << rows;
          ASSERT_LT(s.rows_per_block - warp_rows, need) << "lanes " << lanes << " rows " << rows;
        } else {
          ASSERT_EQ(s.rows_per_block, bw_rows);
        }
      }
    }
  }
}

// The case the first rule got wrong: 4 lanes, 9 rows a block (36 threads, a partial warp whose
// shuffles named threads that do not exist).
TEST(LaunchShapeTest, PartialWarpCase) {
  const LaunchShape s = launch_shape(4, 8 * 132 + 1, 132);
  EXPECT_TRUE(s.decode);
  EXPECT_EQ(s.rows_per_block, 16);
}

}  // namespace
}  // namespace kc::detail

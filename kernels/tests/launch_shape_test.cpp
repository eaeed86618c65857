// The launch shape rule (rmsnorm_job.h) on the CPU: every block is a whole number of warps,
// the thread bounds of the kernels' launch bounds and row_sum's shared memory hold, and decode
// launches run a lane a thread and spread rows over the SMs.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "rmsnorm_job.h"

namespace kc::detail {
namespace {

TEST(LaunchShapeTest, BlocksAreWholeWarpsAndWithinBounds) {
  for (int sms : {1, 2, 7, 66, 114, 132, 144}) {
    for (int lanes = 1; lanes <= 1024; lanes *= 2) {
      // lanes_per_thread: 1 (rows of two vectors a lane, streamed rows), 2 (one vector a lane:
      // a bandwidth thread holds two lanes).
      for (int lanes_per_thread = 1; lanes_per_thread <= 2 && lanes_per_thread <= lanes;
           ++lanes_per_thread) {
        const int bw_threads = lanes / lanes_per_thread;
        const int bw_rows = bw_threads >= 256 ? 1 : 256 / bw_threads;
        // Every row count up to a few bandwidth waves, then a sparse sample further out.
        for (std::int64_t rows = 1; rows <= 4LL * sms * bw_rows + 64;
             rows += (rows < 4096 ? 1 : 997)) {
          const LaunchShape s = launch_shape(bw_threads, lanes, rows, sms);
          const std::int64_t threads = std::int64_t{s.threads_per_row} * s.rows_per_block;
          const std::string where = "lanes " + std::to_string(lanes) + "/" +
                                    std::to_string(lanes_per_thread) + " rows " +
                                    std::to_string(rows) + " sms " + std::to_string(sms);
          ASSERT_EQ(threads % 32, 0) << where;
          ASSERT_GE(s.rows_per_block, 1) << where;
          // row_sum's shared memory: 32 slots a block, lanes / 32 a row when a row spans warps.
          if (s.threads_per_row > 32) {
            ASSERT_LE(s.rows_per_block * (lanes / 32), 32) << where;
          }
          if (s.decode) {
            // One lane a thread; the fewest rows a block that keep the grid within one block an
            // SM, rounded up to whole warps only: no more rows a block than that needs.
            ASSERT_EQ(s.threads_per_row, lanes) << where;
            ASSERT_LE(threads, lanes > 512 ? lanes : 512) << where;
            const std::int64_t need = (rows + sms - 1) / sms;
            const int warp_rows = lanes >= 32 ? 1 : 32 / lanes;
            ASSERT_GE(s.rows_per_block, need) << where;
            ASSERT_LT(s.rows_per_block - warp_rows, need) << where;
          } else {
            ASSERT_EQ(s.threads_per_row, bw_threads) << where;
            ASSERT_EQ(s.rows_per_block, bw_rows) << where;
            ASSERT_LE(threads, bw_threads > 256 ? bw_threads : 256) << where;
          }
        }
      }
    }
  }
}

// The case the first rule got wrong: 4 lanes, 9 rows a block (36 threads, a partial warp whose
// shuffles named threads that do not exist).
TEST(LaunchShapeTest, PartialWarpCase) {
  const LaunchShape s = launch_shape(4, 4, 8 * 132 + 1, 132);
  EXPECT_TRUE(s.decode);
  EXPECT_EQ(s.rows_per_block, 16);
}

}  // namespace
}  // namespace kc::detail

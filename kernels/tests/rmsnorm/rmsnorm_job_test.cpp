// The launch shape rule (rmsnorm_job.h) on the CPU, over every layout the kernels see: every
// block is a whole number of warps within its instance's launch bounds, every lane of the
// layout is run by exactly one thread's chain, a thread holds at most kRegisterVectors vectors,
// row_sum's shared memory holds, and decode launches spread the rows over the SMs.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rmsnorm/rmsnorm_job.h"

namespace kc::detail {
namespace {

// A layout of each lane count and vectors a lane the kernels see (16-bit and fp32 rows).
std::vector<RowLayout> layouts() {
  std::vector<RowLayout> out;
  for (int vec : {4, 8}) {
    for (std::int64_t hidden = 1; hidden <= 4LL * 1024 * vec; hidden *= 2) {
      for (std::int64_t h : {hidden, hidden + 1, hidden * 3 / 2}) out.push_back(row_layout(vec, h));
    }
  }
  return out;
}

bool register_path(RowPath p) { return p != RowPath::kStreamed; }
bool held_weight(RowPath p) {
  return p == RowPath::kRegisterHeldWeight || p == RowPath::kRegisterLanesHeldWeight;
}

TEST(LaunchShapeTest, BlocksAreWholeWarpsAndEveryLaneRunsOnce) {
  for (int sms : {1, 2, 7, 66, 114, 132, 144}) {
    for (const RowLayout& l : layouts()) {
      const bool one_vector = !l.streamed && l.per_lane == 1 && l.lanes >= kRegisterVectors;
      const int bw_threads = one_vector ? l.lanes / kRegisterVectors : l.lanes;
      const int bw_rows = bw_threads >= 256 ? 1 : 256 / bw_threads;
      // Decode below kDecodeWaves waves only for rows of one vector a lane and one row a
      // bandwidth block; one wave otherwise.
      const int waves = one_vector && bw_rows == 1 ? kDecodeWaves : 1;
      ASSERT_EQ(decode_waves(l), waves);
      for (bool aligned : {true, false}) {
        // Every row count up to a few bandwidth waves, then a sparse sample further out.
        for (std::int64_t rows = 1; rows <= 4LL * waves * sms * bw_rows + 64;
             rows += (rows < 4096 ? 1 : 997)) {
          const LaunchShape s = launch_shape(l, aligned, rows, sms);
          const int t = s.threads_per_row;
          const int chains = lanes_per_thread(s.path);
          const std::int64_t threads = std::int64_t{t} * s.rows_per_block;
          const std::string where =
              "vectors " + std::to_string(l.vectors) + " lanes " + std::to_string(l.lanes) +
              (aligned ? "" : " unaligned") + " rows " + std::to_string(rows) + " sms " +
              std::to_string(sms) + " path " + std::to_string(static_cast<int>(s.path));
          ASSERT_EQ(threads % 32, 0) << where;
          ASSERT_GE(s.rows_per_block, 1) << where;
          ASSERT_LE(threads, max_threads(s.path, aligned)) << where;
          // The layout's arithmetic: lane i is chain i / t of thread i % t, and a register
          // path holds every vector of its lanes (at most kRegisterVectors a thread).
          ASSERT_EQ(t * chains, l.lanes) << where;
          if (register_path(s.path)) {
            ASSERT_FALSE(l.streamed) << where;
            ASSERT_LE(l.per_lane * chains, kRegisterVectors) << where;
          } else {
            ASSERT_TRUE(l.streamed || (!aligned && t > 512)) << where;
          }
          // row_sum's shared memory: 32 slots a block, chains * t / 32 a row.
          if (t > 32) {
            ASSERT_LE(s.rows_per_block * chains * (t / 32), 32) << where;
          }
          if (s.decode) {
            ASSERT_TRUE(held_weight(s.path) || s.path == RowPath::kStreamed) << where;
            // One lane a thread, two past kDecodeMaxThreads threads (rows of one vector a lane).
            ASSERT_EQ(chains == 2,
                      one_vector && l.lanes > kDecodeMaxThreads && s.path != RowPath::kStreamed)
                << where;
            ASSERT_LT((rows + bw_rows - 1) / bw_rows, std::int64_t{waves} * sms) << where;
            if (waves == 1) {
              // The fewest rows a block that keep the grid within one block an SM, rounded up
              // to whole warps only.
              const std::int64_t need = (rows + sms - 1) / sms;
              const int warp_rows = t >= 32 ? 1 : 32 / t;
              ASSERT_GE(s.rows_per_block, need) << where;
              ASSERT_LT(s.rows_per_block - warp_rows, need) << where;
            } else {
              ASSERT_EQ(s.rows_per_block, 1) << where;  // one row a block, as in bandwidth
            }
          } else {
            ASSERT_FALSE(held_weight(s.path)) << where;
            ASSERT_EQ(s.rows_per_block, bw_rows) << where;
            ASSERT_EQ(s.path == RowPath::kRegisterLanes, one_vector) << where;
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
  const RowLayout l = row_layout(8, 32);  // 4 vectors, 4 lanes of one vector
  ASSERT_EQ(l.lanes, 4);
  const LaunchShape s = launch_shape(l, true, 8 * 132 + 1, 132);
  EXPECT_TRUE(s.decode);
  EXPECT_EQ(s.path, RowPath::kRegisterHeldWeight);
  EXPECT_EQ(s.threads_per_row, 4);
  EXPECT_EQ(s.rows_per_block, 16);
}

// Rows of 1024 lanes (bf16 hidden 8192) in decode: 512 threads of two lanes, one row a block
// (32 shared-memory slots); unaligned, the same (512 threads are within the element-wise bound).
TEST(LaunchShapeTest, WideDecodeRowsHoldTwoLanesAThread) {
  const RowLayout l = row_layout(8, 8192);
  ASSERT_EQ(l.lanes, 1024);
  for (bool aligned : {true, false}) {
    const LaunchShape s = launch_shape(l, aligned, 1, 132);
    EXPECT_TRUE(s.decode);
    EXPECT_EQ(s.path, RowPath::kRegisterLanesHeldWeight);
    EXPECT_EQ(s.threads_per_row, 512);
    EXPECT_EQ(s.rows_per_block, 1);
  }
}

// 256 tokens: bf16 rows of 8192 (one vector a lane) take the decode path below two waves, rows
// of 16384 (two vectors a lane: held-weight blocks of 1024 threads fit one an SM) do not.
TEST(LaunchShapeTest, DecodeWavesByLayout) {
  const LaunchShape a = launch_shape(row_layout(8, 8192), true, 256, 132);
  EXPECT_EQ(a.decode, kDecodeWaves >= 2);
  const LaunchShape b = launch_shape(row_layout(8, 16384), true, 256, 132);
  EXPECT_FALSE(b.decode);
  EXPECT_EQ(b.path, RowPath::kRegister);
  const LaunchShape c = launch_shape(row_layout(8, 1024), true, 600, 132);  // 4 rows a block
  EXPECT_FALSE(c.decode);
  EXPECT_EQ(c.path, RowPath::kRegisterLanes);
}

}  // namespace
}  // namespace kc::detail

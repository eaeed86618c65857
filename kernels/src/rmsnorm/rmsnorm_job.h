// One description of a norm-family call, shared by the checks, the launcher and the twin.
#pragma once

#include <cstdint>

#include "kc/kernels/rmsnorm.h"
#include "rmsnorm/rmsnorm_row.h"

namespace kc::detail {

struct NormJob {
  const char* op = "rmsnorm";
  std::int64_t rows = 0;
  std::int64_t hidden = 0;
  float eps = 0.0f;
  DType dtype = DType::kBf16;
  NormKind kind = NormKind::kRmsNorm;
  bool cast_before_weight = false;
  bool weight_offset_one = false;
  Pdl pdl = Pdl::kAuto;
  const void* x = nullptr;
  std::int64_t x_stride = 0;
  const void* res = nullptr;  // fused only
  std::int64_t res_stride = 0;
  const void* w = nullptr;
  void* y = nullptr;
  std::int64_t y_stride = 0;
  void* res_out = nullptr;  // fused only
  std::int64_t res_out_stride = 0;
};

NormJob job_of(const RmsNormArgs& a);
NormJob job_of(const FusedAddRmsNormArgs& a);

// Shape, dtype, eps, profile, pointer and aliasing rules for a job (rmsnorm.h contracts).
Status check_job(const RmsNormArgs& a, const NormJob& j);
Status check_job(const FusedAddRmsNormArgs& a, const NormJob& j);

inline RowMath row_math(const NormJob& j) {
  return RowMath{static_cast<int>(j.hidden), j.eps, exact_inverse_pow2(j.hidden)};
}

inline OutMode out_mode(const NormJob& j) {
  return j.cast_before_weight  ? OutMode::kCast
         : j.weight_offset_one ? OutMode::kSingleOffset
                               : OutMode::kSingle;
}

// Launch-shape constants (they pick which threads run which lanes and when the weight is held,
// never a bit of a row's result; the measurements behind them: bench/notes/rmsnorm_perf.md):
//  - kDecodeMaxThreads: decode launches of rows of one vector a lane run one lane a thread up to
//    this many threads a row, two lanes a thread beyond.
//  - kDecodeWaves: rows of one vector a lane and one row a bandwidth block (at least 512 lanes:
//    16-bit hidden 4097-8192, fp32 2049-4096) take the decode path while their bandwidth blocks
//    would fill fewer than this many waves of one block an SM (their held-weight blocks of 512
//    threads fit two an SM). Other rows: one wave (the held-weight blocks of two-vector rows,
//    1024 threads of up to 64 registers, fit one an SM).
inline constexpr int kDecodeMaxThreads = 512;
inline constexpr int kDecodeWaves = 2;

// How a kernel instance keeps a row (chosen by launch_shape; the arithmetic is the same):
//  kRegisterHeldWeight (decode launches, one lane a thread): z and the lane's weight vectors
//    stay in registers; the weight is loaded with the first input vectors, so a short batch
//    pays one memory round trip instead of two.
//  kRegisterLanesHeldWeight (decode launches of rows of one vector a lane with more lanes than
//    kDecodeMaxThreads): as kRegisterHeldWeight, with kRegisterVectors lanes a thread.
//  kRegister (bandwidth launches of rows with 2 vectors a lane): z in registers, the weight
//    re-read per row from L1/L2.
//  kRegisterLanes (bandwidth launches of rows with 1 vector a lane): as kRegister, but a thread
//    holds kRegisterVectors lanes (t, t + tpr, ...), each its own sum (row_sum<kChains>): the
//    memory pattern of kRegister with the decode path's short per-lane chains.
//  kStreamed: more than 2 vectors a lane (or an unaligned row of more than 512 threads); the
//    row is read twice.
enum class RowPath : int {
  kRegisterHeldWeight,
  kRegisterLanesHeldWeight,
  kRegister,
  kRegisterLanes,
  kStreamed
};

// Lanes a thread of the path holds (each with its own sum in row_sum).
KC_HD constexpr int lanes_per_thread(RowPath path) {
  return path == RowPath::kRegisterLanes || path == RowPath::kRegisterLanesHeldWeight
             ? kRegisterVectors
             : 1;
}

// Launch bounds: element-wise (unaligned) register instances and the instances of several lanes
// a thread run at most 512 threads a block (their extra index registers would spill at 1024),
// the others 1024.
KC_HD constexpr int max_threads(RowPath path, bool vector) {
  return path == RowPath::kStreamed || (vector && lanes_per_thread(path) == 1) ? 1024 : 512;
}

// Blocks an SM a kernel is compiled for (ptxas caps its registers to fit them): two 1024-thread
// rows for the rmsnorm instances of kRegister (32 registers with their loads first; without the
// bound ptxas takes more and leaves one row an SM); 0, no bound, for the others.
KC_HD constexpr int min_blocks(RowPath path, NormKind kind) {
  return path == RowPath::kRegister && kind == NormKind::kRmsNorm ? 2 : 0;
}

// A row of one vector a lane whose lanes a thread can hold kRegisterVectors of (the lanes
// paths).
inline bool one_vector_a_lane(const RowLayout& l) {
  return !l.streamed && l.per_lane == 1 && l.lanes >= kRegisterVectors;
}

// Waves of one bandwidth block an SM below which a launch takes the decode path
// (kDecodeWaves).
inline int decode_waves(const RowLayout& l) {
  return one_vector_a_lane(l) && l.lanes / kRegisterVectors >= 256 ? kDecodeWaves : 1;
}

// Launch shape of a job (never its arithmetic): the path, threads a row, rows per block and
// whether the few-rows (decode) path is taken.
//  - Bandwidth: T threads a row, T = lanes / kRegisterVectors for rows of one vector a lane (a
//    thread holds that many lanes) and lanes otherwise; 256-thread blocks of 256 / T rows (one
//    row when T >= 256).
//  - Decode (fewer such blocks than decode_waves waves of one block an SM): one lane a thread
//    (two when a row of one vector a lane has more lanes than kDecodeMaxThreads), the weight
//    held, and ceil(rows / sms) rows a block rounded up to a whole number of warps (the
//    kernels' shuffles name all 32 lanes of a warp), at most 512 threads a block or one row.
//  - An unaligned row of more than 512 threads takes the streamed path (one lane a thread).
struct LaunchShape {
  RowPath path = RowPath::kStreamed;
  bool decode = false;
  int rows_per_block = 1;
  int threads_per_row = 1;
};
inline LaunchShape launch_shape(const RowLayout& l, bool aligned, std::int64_t rows, int sms) {
  LaunchShape s;
  const int lanes = l.lanes;
  const bool one_vector = one_vector_a_lane(l);
  const int bw_threads = one_vector ? lanes / kRegisterVectors : lanes;
  const int bw_rows = bw_threads >= 256 ? 1 : 256 / bw_threads;
  s.decode = (rows + bw_rows - 1) / bw_rows < std::int64_t{decode_waves(l)} * sms;
  if (!s.decode) {
    s.path = l.streamed   ? RowPath::kStreamed
             : one_vector ? RowPath::kRegisterLanes
                          : RowPath::kRegister;
    s.threads_per_row = bw_threads;
    s.rows_per_block = bw_rows;
  } else {
    const bool two = one_vector && lanes > kDecodeMaxThreads;
    s.path = l.streamed ? RowPath::kStreamed
             : two      ? RowPath::kRegisterLanesHeldWeight
                        : RowPath::kRegisterHeldWeight;
    s.threads_per_row = two ? lanes / kRegisterVectors : lanes;
    const int t = s.threads_per_row;
    const std::int64_t want = (rows + sms - 1) / sms;
    const int warp_rows = t >= 32 ? 1 : 32 / t;
    const int most = t >= 512 ? 1 : 512 / t;  // a whole number of warps too (t a power of 2)
    const std::int64_t r = (want + warp_rows - 1) / warp_rows * warp_rows;
    s.rows_per_block = static_cast<int>(r < most ? r : most);
  }
  if (!aligned && s.threads_per_row > max_threads(s.path, false)) {
    s.path = RowPath::kStreamed;  // one lane a thread already: threads_per_row == lanes
  }
  return s;
}

}  // namespace kc::detail

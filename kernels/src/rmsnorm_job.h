// One description of a norm-family call, shared by the checks, the launcher and the twin.
#pragma once

#include <cstdint>

#include "kc/kernels/rmsnorm.h"
#include "rmsnorm_row.h"

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

// Launch shape of a job (never its arithmetic): threads a row, rows per block and whether the
// few-rows (decode) path is taken. Bandwidth: 256-thread blocks of 256 / bw_threads rows (one
// row when bw_threads >= 256), bw_threads being the threads a row of bandwidth launches (a
// thread may hold several lanes there). Decode (fewer such blocks than SMs): decode_threads a
// row (one lane a thread, the most threads the row allows) and ceil(rows / sms) rows a block,
// rounded up to a whole number of warps (the kernels' shuffles name all 32 lanes of a warp).
// Threads a block: at most 256 in bandwidth launches; in decode launches at most 512, or
// decode_threads when that is more (one row a block).
struct LaunchShape {
  bool decode = false;
  int rows_per_block = 1;
  int threads_per_row = 1;
};
inline LaunchShape launch_shape(int bw_threads, int decode_threads, std::int64_t rows, int sms) {
  LaunchShape s;
  const int bw_rows = bw_threads >= 256 ? 1 : 256 / bw_threads;
  s.decode = (rows + bw_rows - 1) / bw_rows < sms;
  s.rows_per_block = bw_rows;
  s.threads_per_row = bw_threads;
  if (s.decode) {
    // want <= bw_rows, so want * decode_threads <= 256 * decode_threads / bw_threads.
    const std::int64_t want = (rows + sms - 1) / sms;
    const int warp_rows = decode_threads >= 32 ? 1 : 32 / decode_threads;
    s.rows_per_block = static_cast<int>((want + warp_rows - 1) / warp_rows * warp_rows);
    s.threads_per_row = decode_threads;
  }
  return s;
}

}  // namespace kc::detail

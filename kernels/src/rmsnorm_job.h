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

inline RowMath row_math(const NormJob& j) { return RowMath{static_cast<int>(j.hidden), j.eps}; }

inline OutMode out_mode(const NormJob& j) {
  return j.cast_before_weight  ? OutMode::kCast
         : j.weight_offset_one ? OutMode::kSingleOffset
                               : OutMode::kSingle;
}

}  // namespace kc::detail

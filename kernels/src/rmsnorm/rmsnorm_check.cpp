// Checks of the norm family: pure host code, no CUDA call. Each rejection names the op, the
// value and the rule (rmsnorm.h, "Contracts").
#include <cmath>
#include <cstdint>
#include <string>

#include "common/check.h"
#include "rmsnorm/rmsnorm_job.h"

namespace kc {
namespace detail {
namespace {

Status check_shape(const NormJob& j) {
  if (j.rows < 0) {
    return invalid(format("%s: num_tokens = %lld is negative; num_tokens must be >= 0", j.op,
                          static_cast<long long>(j.rows)));
  }
  if (j.hidden < 1) {
    return invalid(format("%s: hidden = %lld is not supported; hidden must be in [1, %lld]", j.op,
                          static_cast<long long>(j.hidden), static_cast<long long>(kMaxHidden)));
  }
  if (j.hidden > kMaxHidden) {
    return unsupported(format("%s: hidden = %lld is not supported; hidden must be in [1, %lld]",
                              j.op, static_cast<long long>(j.hidden),
                              static_cast<long long>(kMaxHidden)));
  }
  if (!std::isfinite(j.eps) || j.eps < 0.0f) {
    return invalid(format("%s: eps = %g is not allowed; eps must be finite and >= 0", j.op,
                          static_cast<double>(j.eps)));
  }
  return Status::ok();
}

Status check_stride(const NormJob& j, const char* name, std::int64_t stride) {
  return detail::check_stride(j.op, name, stride, j.hidden, "hidden", j.rows);
}

Status check_pointer(const NormJob& j, const char* name, const void* p) {
  return detail::check_pointer(j.op, name, p, j.dtype, j.rows);
}

Status check_profile(const NormJob& j) {
  if (j.cast_before_weight && j.weight_offset_one) {
    return unsupported(
        format("%s: output_rounding = cast_before_weight with weight_offset = one "
               "matches no profile; cast_before_weight needs weight_offset = zero",
               j.op));
  }
  if (j.kind == NormKind::kFusedRoundedSum && !j.cast_before_weight && !j.weight_offset_one) {
    return unsupported(
        format("%s: residual_sum = rounded with output_rounding = single and "
               "weight_offset = zero matches no profile (hf uses "
               "cast_before_weight, gemma uses weight_offset = one)",
               j.op));
  }
  if (j.kind == NormKind::kFusedFp32Sum && j.weight_offset_one) {
    return unsupported(
        format("%s: residual_sum = fp32 with weight_offset = one matches no "
               "profile (the gemma profile normalises the rounded sum)",
               j.op));
  }
  return Status::ok();
}

Extent extent(const NormJob& j, const char* name, const void* p, std::int64_t stride,
              std::int64_t rows) {
  return Extent{name,     reinterpret_cast<std::uintptr_t>(p),           stride, rows,
                j.hidden, static_cast<std::int64_t>(dtype_size(j.dtype))};
}

}  // namespace

NormJob job_of(const RmsNormArgs& a) {
  NormJob j;
  j.op = "rmsnorm";
  j.rows = a.num_tokens;
  j.hidden = a.hidden;
  j.eps = a.eps;
  j.dtype = a.input.dtype;
  j.kind = NormKind::kRmsNorm;
  j.cast_before_weight = a.output_rounding == OutputRounding::kCastBeforeWeight;
  j.weight_offset_one = a.weight_offset == WeightOffset::kOne;
  j.pdl = a.pdl;
  j.x = a.input.data;
  j.x_stride = a.input.row_stride;
  j.w = a.weight.data;
  j.y = a.output.data;
  j.y_stride = a.output.row_stride;
  return j;
}

NormJob job_of(const FusedAddRmsNormArgs& a) {
  NormJob j;
  j.op = "fused_add_rmsnorm";
  j.rows = a.num_tokens;
  j.hidden = a.hidden;
  j.eps = a.eps;
  j.dtype = a.input.dtype;
  j.kind =
      a.residual_sum == ResidualSum::kFp32 ? NormKind::kFusedFp32Sum : NormKind::kFusedRoundedSum;
  j.cast_before_weight = a.output_rounding == OutputRounding::kCastBeforeWeight;
  j.weight_offset_one = a.weight_offset == WeightOffset::kOne;
  j.pdl = a.pdl;
  j.x = a.input.data;
  j.x_stride = a.input.row_stride;
  j.res = a.residual.data;
  j.res_stride = a.residual.row_stride;
  j.w = a.weight.data;
  j.y = a.output.data;
  j.y_stride = a.output.row_stride;
  j.res_out = a.residual_out.data;
  j.res_out_stride = a.residual_out.row_stride;
  return j;
}

Status check_job(const RmsNormArgs& a, const NormJob& j) {
  KC_RETURN_IF_ERROR(check_shape(j));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "input", a.input.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "weight", a.weight.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "output", a.output.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_profile(j));
  KC_RETURN_IF_ERROR(check_stride(j, "input", j.x_stride));
  KC_RETURN_IF_ERROR(check_stride(j, "output", j.y_stride));
  if (j.rows == 0) return Status::ok();
  KC_RETURN_IF_ERROR(check_pointer(j, "input", j.x));
  KC_RETURN_IF_ERROR(check_pointer(j, "weight", j.w));
  KC_RETURN_IF_ERROR(check_pointer(j, "output", j.y));
  const Extent in[] = {extent(j, "input", j.x, j.x_stride, j.rows),
                       extent(j, "weight", j.w, j.hidden, 1)};
  const Extent out[] = {extent(j, "output", j.y, j.y_stride, j.rows)};
  const int own[] = {0};
  return check_aliasing(j.op, out, own, 1, in, 2);
}

Status check_job(const FusedAddRmsNormArgs& a, const NormJob& j) {
  KC_RETURN_IF_ERROR(check_shape(j));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "input", a.input.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "residual", a.residual.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "weight", a.weight.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "output", a.output.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(j.op, "residual_out", a.residual_out.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_profile(j));
  KC_RETURN_IF_ERROR(check_stride(j, "input", j.x_stride));
  KC_RETURN_IF_ERROR(check_stride(j, "residual", j.res_stride));
  KC_RETURN_IF_ERROR(check_stride(j, "output", j.y_stride));
  KC_RETURN_IF_ERROR(check_stride(j, "residual_out", j.res_out_stride));
  if (j.rows == 0) return Status::ok();
  KC_RETURN_IF_ERROR(check_pointer(j, "input", j.x));
  KC_RETURN_IF_ERROR(check_pointer(j, "residual", j.res));
  KC_RETURN_IF_ERROR(check_pointer(j, "weight", j.w));
  KC_RETURN_IF_ERROR(check_pointer(j, "output", j.y));
  KC_RETURN_IF_ERROR(check_pointer(j, "residual_out", j.res_out));
  const Extent in[] = {extent(j, "input", j.x, j.x_stride, j.rows),
                       extent(j, "residual", j.res, j.res_stride, j.rows),
                       extent(j, "weight", j.w, j.hidden, 1)};
  const Extent out[] = {extent(j, "output", j.y, j.y_stride, j.rows),
                        extent(j, "residual_out", j.res_out, j.res_out_stride, j.rows)};
  const int own[] = {0, 1};
  return check_aliasing(j.op, out, own, 2, in, 3);
}

}  // namespace detail

const char* residual_sum_name(ResidualSum v) {
  return v == ResidualSum::kFp32 ? "fp32" : v == ResidualSum::kRounded ? "rounded" : "?";
}
const char* output_rounding_name(OutputRounding v) {
  return v == OutputRounding::kSingle             ? "single"
         : v == OutputRounding::kCastBeforeWeight ? "cast_before_weight"
                                                  : "?";
}
const char* weight_offset_name(WeightOffset v) {
  return v == WeightOffset::kZero ? "zero" : v == WeightOffset::kOne ? "one" : "?";
}

RowLayout rmsnorm_layout(DType dtype, std::int64_t hidden) {
  if (hidden < 1 || hidden > kMaxHidden || !dtype_valid(dtype)) return RowLayout{};
  return detail::row_layout(dtype == DType::kFp32 ? 4 : 8, hidden);
}

Status rmsnorm_check(const RmsNormArgs& args) {
  return detail::check_job(args, detail::job_of(args));
}

Status fused_add_rmsnorm_check(const FusedAddRmsNormArgs& args) {
  return detail::check_job(args, detail::job_of(args));
}

FusedAddRmsNormArgs fused_add_rmsnorm_in_place(std::int64_t num_tokens, std::int64_t hidden,
                                               DType dtype, void* input, std::int64_t input_stride,
                                               void* residual, std::int64_t residual_stride,
                                               const void* weight, float eps) {
  FusedAddRmsNormArgs a;
  a.num_tokens = num_tokens;
  a.hidden = hidden;
  a.eps = eps;
  a.input = ConstRows{input, dtype, input_stride};
  a.residual = ConstRows{residual, dtype, residual_stride};
  a.weight = ConstVector{weight, dtype};
  a.output = Rows{input, dtype, input_stride};
  a.residual_out = Rows{residual, dtype, residual_stride};
  return a;
}

}  // namespace kc

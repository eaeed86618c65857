// Checks of the act_and_mul family: pure host code, no CUDA call. Each rejection names the op,
// the value and the rule (act_and_mul.h, "Contracts").
#include <cstdint>
#include <string>

#include "act_and_mul/act_and_mul_job.h"
#include "common/check.h"
#include "common/launch.h"

namespace kc {
namespace detail {
namespace {

constexpr const char* kOp = "act_and_mul";

}  // namespace

Status check_act_job(const ActAndMulArgs& a) {
  if (a.act != Activation::kSilu && a.act != Activation::kGelu && a.act != Activation::kGeluTanh) {
    return invalid(format("%s: act = %d is not an activation; use silu, gelu or gelu_tanh", kOp,
                          static_cast<int>(a.act)));
  }
  if (a.rounding != ActRounding::kSingle && a.rounding != ActRounding::kTorch) {
    return invalid(format("%s: rounding = %d is not a rounding; use single or torch", kOp,
                          static_cast<int>(a.rounding)));
  }
  if (a.num_tokens < 0) {
    return invalid(format("%s: num_tokens = %lld is negative; num_tokens must be >= 0", kOp,
                          static_cast<long long>(a.num_tokens)));
  }
  if (a.d < 1) {
    return invalid(format("%s: d = %lld is not supported; d must be in [1, %lld]", kOp,
                          static_cast<long long>(a.d), static_cast<long long>(kMaxActD)));
  }
  if (a.d > kMaxActD) {
    return unsupported(format("%s: d = %lld is not supported; d must be in [1, %lld]", kOp,
                              static_cast<long long>(a.d), static_cast<long long>(kMaxActD)));
  }
  KC_RETURN_IF_ERROR(check_dtype(kOp, "input", a.input.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_dtype(kOp, "output", a.output.dtype, a.input.dtype));
  KC_RETURN_IF_ERROR(check_stride(kOp, "input", a.input.row_stride, 2 * a.d, "2 d", a.num_tokens));
  KC_RETURN_IF_ERROR(check_stride(kOp, "output", a.output.row_stride, a.d, "d", a.num_tokens));
  if (a.num_tokens == 0) return Status::ok();
  const DType dt = a.input.dtype;
  KC_RETURN_IF_ERROR(check_pointer(kOp, "input", a.input.data, dt, a.num_tokens));
  KC_RETURN_IF_ERROR(check_pointer(kOp, "output", a.output.data, dt, a.num_tokens));
  const auto elem = static_cast<std::int64_t>(dtype_size(dt));
  const Extent in[] = {{"input", reinterpret_cast<std::uintptr_t>(a.input.data), a.input.row_stride,
                        a.num_tokens, 2 * a.d, elem}};
  const Extent out[] = {{"output", reinterpret_cast<std::uintptr_t>(a.output.data),
                         a.output.row_stride, a.num_tokens, a.d, elem}};
  const int own[] = {-1};
  return check_aliasing(kOp, out, own, 1, in, 1);
}

ActLaunchShape act_launch_shape(std::int64_t rows, std::int64_t d, DType dtype, bool aligned,
                                int sms) {
  ActLaunchShape s;
  s.vector = aligned;
  s.vectors = aligned ? d / act_vec(dtype) : d;
  int tx = 32;
  while (tx < 256 && tx < s.vectors) tx *= 2;
  s.tx = tx;
  s.ty = 256 / tx;
  const std::int64_t cap = static_cast<std::int64_t>(sms > 0 ? sms : 1) * 64;
  const std::int64_t across = (s.vectors + tx - 1) / tx;
  s.gx = across < cap ? across : cap;
  const std::int64_t down = (rows + s.ty - 1) / s.ty;
  std::int64_t gy = cap / s.gx;
  if (gy < 1) gy = 1;
  if (gy > down) gy = down;
  if (gy > 65535) gy = 65535;
  s.gy = gy < 1 ? 1 : gy;
  return s;
}

}  // namespace detail

const char* activation_name(Activation a) {
  return a == Activation::kSilu       ? "silu"
         : a == Activation::kGelu     ? "gelu"
         : a == Activation::kGeluTanh ? "gelu_tanh"
                                      : "?";
}
const char* act_rounding_name(ActRounding r) {
  return r == ActRounding::kSingle ? "single" : r == ActRounding::kTorch ? "torch" : "?";
}

Status act_and_mul_check(const ActAndMulArgs& args) { return detail::check_act_job(args); }

}  // namespace kc

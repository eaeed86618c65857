// Launchers of the act_and_mul family: check, pick the kernel instance and the launch shape
// (act_and_mul_job.h, a host function with a CPU test), launch; PDL on sm_90+ unless Pdl::kOff.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "act_and_mul/act_and_mul.cuh"
#include "act_and_mul/act_and_mul_job.h"
#include "common/launch.h"

namespace kc {
namespace detail {
namespace {

template <class Act, ActRounding R, DType D>
Status launch_typed(const ActAndMulArgs& a, cudaStream_t stream, const DeviceInfo& dev) {
  const std::size_t elem = dtype_size(D);
  const bool aligned =
      a.d % act_vec(D) == 0 && aligned16(a.input.data, a.input.row_stride, elem) &&
      aligned16(static_cast<const char*>(a.input.data) + a.d * elem, a.input.row_stride, elem) &&
      aligned16(a.output.data, a.output.row_stride, elem);
  const ActLaunchShape shape = act_launch_shape(a.num_tokens, a.d, D, aligned, dev.sms);
  ActParams p{a.input.data, a.input.row_stride, a.output.data, a.output.row_stride, a.num_tokens,
              a.d,          shape.vectors};
  const void* kernel = aligned
                           ? reinterpret_cast<const void*>(act_and_mul_kernel<Act, R, D, true>)
                           : reinterpret_cast<const void*>(act_and_mul_kernel<Act, R, D, false>);
  void* args[] = {&p};
  return launch_kernel("act_and_mul", kernel,
                       dim3(static_cast<unsigned>(shape.gx), static_cast<unsigned>(shape.gy)),
                       dim3(static_cast<unsigned>(shape.tx), static_cast<unsigned>(shape.ty)), 0,
                       stream, a.pdl, dev, args);
}

template <class Act, ActRounding R>
Status launch_dtype(const ActAndMulArgs& a, cudaStream_t stream, const DeviceInfo& dev) {
  switch (a.input.dtype) {
    case DType::kFp32:
      return launch_typed<Act, R, DType::kFp32>(a, stream, dev);
    case DType::kFp16:
      return launch_typed<Act, R, DType::kFp16>(a, stream, dev);
    case DType::kBf16:
      return launch_typed<Act, R, DType::kBf16>(a, stream, dev);
  }
  return Status(StatusCode::kInvalidArgument, "act_and_mul: unknown dtype");
}

template <class Act>
Status launch_rounding(const ActAndMulArgs& a, cudaStream_t stream, const DeviceInfo& dev) {
  if (a.rounding == ActRounding::kTorch) {
    return launch_dtype<Act, ActRounding::kTorch>(a, stream, dev);
  }
  return launch_dtype<Act, ActRounding::kSingle>(a, stream, dev);
}

}  // namespace
}  // namespace detail

Status act_and_mul(const ActAndMulArgs& args, cudaStream_t stream) {
  KC_RETURN_IF_ERROR(detail::check_act_job(args));
  if (args.num_tokens == 0) return Status::ok();  // an empty batch: no launch
  detail::DeviceInfo dev;
  KC_RETURN_IF_ERROR(detail::device_info("act_and_mul", &dev));
  switch (args.act) {
    case Activation::kSilu:
      return detail::launch_rounding<detail::Silu>(args, stream, dev);
    case Activation::kGelu:
      return detail::launch_rounding<detail::Gelu>(args, stream, dev);
    case Activation::kGeluTanh:
      return detail::launch_rounding<detail::GeluTanh>(args, stream, dev);
  }
  return Status(StatusCode::kInvalidArgument, "act_and_mul: unknown activation");
}

}  // namespace kc

// Launchers of the norm family: check, pick the kernel and the launch shape, launch.
//
// Launch shape (never a row's arithmetic, which rmsnorm_row.h fixes from dtype and hidden):
// launch_shape in rmsnorm_job.h (a host function with a CPU test) picks the path, the threads a
// row and the rows a block:
//  - Bandwidth path (many rows): one block per group of rows (the hardware keeps every SM full
//    and overlaps blocks' phases); rows of one vector a lane run two lanes a thread.
//  - Decode path (fewer such blocks than SMs, or than two waves of them for rows of one vector
//    a lane and one row a block): the weight held, one lane a thread up to 512 threads a row
//    (two lanes a thread for rows of 1024 lanes), few rows a block, so the rows spread over as
//    many SMs as possible and each thread's path is short.
// The alternatives measured against these choices are in bench/notes/rmsnorm_perf.md.
//  - PDL on sm_90+ unless Pdl::kOff.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "common/launch.h"
#include "rmsnorm/rmsnorm.cuh"
#include "rmsnorm/rmsnorm_job.h"

namespace kc {
namespace detail {
namespace {

template <DType D, NormKind K, OutMode M, bool kVector>
const void* kernel_for(RowPath path) {
  switch (path) {
    case RowPath::kRegisterHeldWeight:
      return reinterpret_cast<const void*>(
          norm_rows_kernel<D, K, M, RowPath::kRegisterHeldWeight, kVector>);
    case RowPath::kRegisterLanesHeldWeight:
      return reinterpret_cast<const void*>(
          norm_rows_kernel<D, K, M, RowPath::kRegisterLanesHeldWeight, kVector>);
    case RowPath::kRegister:
      return reinterpret_cast<const void*>(norm_rows_kernel<D, K, M, RowPath::kRegister, kVector>);
    case RowPath::kRegisterLanes:
      return reinterpret_cast<const void*>(
          norm_rows_kernel<D, K, M, RowPath::kRegisterLanes, kVector>);
    case RowPath::kStreamed:
      break;
  }
  return reinterpret_cast<const void*>(norm_rows_kernel<D, K, M, RowPath::kStreamed, kVector>);
}

template <DType D, NormKind K, OutMode M>
const void* kernel_for(RowPath path, bool vector) {
  return vector ? kernel_for<D, K, M, true>(path) : kernel_for<D, K, M, false>(path);
}

template <DType D, NormKind K, OutMode M>
Status launch_typed(const NormJob& j, cudaStream_t stream, const DeviceInfo& dev) {
  const std::size_t elem = dtype_size(D);
  NormParams p = norm_params(j, Storage<D>::kVec);
  p.aligned = aligned16(j.x, j.x_stride, elem) && aligned16(j.y, j.y_stride, elem) &&
              aligned16(j.w, 0, elem);
  if (K != NormKind::kRmsNorm) {
    p.aligned = p.aligned && aligned16(j.res, j.res_stride, elem) &&
                aligned16(j.res_out, j.res_out_stride, elem);
  }
  p.aligned = p.aligned && j.hidden % Storage<D>::kVec == 0;

  const LaunchShape shape = launch_shape(p.layout, p.aligned, j.rows, dev.sms);
  const void* kernel = kernel_for<D, K, M>(shape.path, p.aligned);
  // One block per row group; past 2^31 - 1 blocks the kernel's grid-stride loop takes the rest.
  const std::int64_t groups = (j.rows + shape.rows_per_block - 1) / shape.rows_per_block;
  const std::int64_t blocks = groups < kMaxGrid ? groups : kMaxGrid;

  void* args[] = {&p};
  return launch_kernel(j.op, kernel, dim3(static_cast<unsigned>(blocks)),
                       dim3(static_cast<unsigned>(shape.threads_per_row),
                            static_cast<unsigned>(shape.rows_per_block)),
                       0, stream, j.pdl, dev, args);
}

// Instantiates only the (kind, output mode) pairs that are profiles; the check has rejected
// the others before we get here.
template <DType D, NormKind K>
Status launch_mode(const NormJob& j, cudaStream_t stream, const DeviceInfo& dev) {
  switch (out_mode(j)) {
    case OutMode::kSingle:
      if constexpr (K != NormKind::kFusedRoundedSum) {
        return launch_typed<D, K, OutMode::kSingle>(j, stream, dev);
      }
      break;
    case OutMode::kSingleOffset:
      if constexpr (K != NormKind::kFusedFp32Sum) {
        return launch_typed<D, K, OutMode::kSingleOffset>(j, stream, dev);
      }
      break;
    case OutMode::kCast:
      return launch_typed<D, K, OutMode::kCast>(j, stream, dev);
  }
  return Status(StatusCode::kUnsupported, std::string(j.op) + ": no kernel for this profile");
}

template <DType D>
Status launch_kind(const NormJob& j, cudaStream_t stream, const DeviceInfo& dev) {
  switch (j.kind) {
    case NormKind::kRmsNorm:
      return launch_mode<D, NormKind::kRmsNorm>(j, stream, dev);
    case NormKind::kFusedFp32Sum:
      return launch_mode<D, NormKind::kFusedFp32Sum>(j, stream, dev);
    case NormKind::kFusedRoundedSum:
      return launch_mode<D, NormKind::kFusedRoundedSum>(j, stream, dev);
  }
  return Status(StatusCode::kInvalidArgument, std::string(j.op) + ": unknown kind");
}

Status launch(const NormJob& j, cudaStream_t stream) {
  if (j.rows == 0) return Status::ok();  // an empty batch is a successful no-op: no launch
  DeviceInfo dev;
  KC_RETURN_IF_ERROR(device_info(j.op, &dev));
  switch (j.dtype) {
    case DType::kFp32:
      return launch_kind<DType::kFp32>(j, stream, dev);
    case DType::kFp16:
      return launch_kind<DType::kFp16>(j, stream, dev);
    case DType::kBf16:
      return launch_kind<DType::kBf16>(j, stream, dev);
  }
  return Status(StatusCode::kInvalidArgument, std::string(j.op) + ": unknown dtype");
}

}  // namespace
}  // namespace detail

Status rmsnorm(const RmsNormArgs& args, cudaStream_t stream) {
  const detail::NormJob j = detail::job_of(args);
  KC_RETURN_IF_ERROR(detail::check_job(args, j));
  return detail::launch(j, stream);
}

Status fused_add_rmsnorm(const FusedAddRmsNormArgs& args, cudaStream_t stream) {
  const detail::NormJob j = detail::job_of(args);
  KC_RETURN_IF_ERROR(detail::check_job(args, j));
  return detail::launch(j, stream);
}

}  // namespace kc

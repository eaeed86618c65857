// Launchers of the qknorm_rope family: check, build the frequency table (qknorm_rope_table.cpp),
// pick the kernel instance and the launch shape (qknorm_rope_job.h, a host function with a CPU
// test), launch; PDL on sm_90+ unless Pdl::kOff.
#include <cuda_runtime.h>

#include <cstdint>

#include "common/launch.h"
#include "qknorm_rope/qknorm_rope.cuh"
#include "qknorm_rope/qknorm_rope_job.h"

namespace kc {
namespace detail {
namespace {

template <DType D>
Status launch_typed(const QkNormRopeArgs& a, cudaStream_t stream, const DeviceInfo& dev,
                    QkParams* p) {
  const std::size_t elem = dtype_size(D);
  const int n = static_cast<int>(a.head_dim);
  const std::size_t chunk_bytes = static_cast<std::size_t>(qk_chunk(n)) * elem;
  const std::size_t al = chunk_bytes < 16 ? chunk_bytes : 16;
  auto ok = [&](const void* ptr, std::int64_t stride) {
    return reinterpret_cast<std::uintptr_t>(ptr) % al == 0 &&
           (static_cast<std::uint64_t>(stride) * elem) % al == 0;
  };
  const bool aligned = ok(p->x, p->x_stride) && ok(p->y, p->y_stride);
  const QkLaunchShape shape = qk_launch_shape(a, aligned, dev.sms);
  p->groups = shape.groups;
  p->groups_per_token = shape.groups_per_token;
  const void* kernel = reinterpret_cast<const void*>(qknorm_rope_kernel<D, 0>);
  if (shape.vector) {
    kernel = n == 64    ? reinterpret_cast<const void*>(qknorm_rope_kernel<D, 2>)
             : n == 128 ? reinterpret_cast<const void*>(qknorm_rope_kernel<D, 4>)
                        : reinterpret_cast<const void*>(qknorm_rope_kernel<D, 8>);
  }
  const std::size_t smem = static_cast<std::size_t>(shape.warps_per_block) * n * sizeof(double);
  void* args[] = {p};
  return launch_kernel("qknorm_rope", kernel, dim3(static_cast<unsigned>(shape.blocks)),
                       dim3(static_cast<unsigned>(shape.warps_per_block * 32)), smem, stream, a.pdl,
                       dev, args);
}

}  // namespace
}  // namespace detail

Status qknorm_rope(const QkNormRopeArgs& args, cudaStream_t stream) {
  KC_RETURN_IF_ERROR(detail::check_qk_job(args));
  const bool oop = detail::qk_out_of_place(args);
  const std::int64_t heads = args.num_q_heads + args.num_k_heads + (oop ? args.num_v_heads : 0);
  if (args.num_tokens == 0 || heads == 0) return Status::ok();  // nothing to do: no launch
  detail::DeviceInfo dev;
  KC_RETURN_IF_ERROR(detail::device_info("qknorm_rope", &dev));
  detail::QkParams local{};  // about 4.2 KiB: the table travels in the parameter block
  local.x = args.qkv;
  local.x_stride = args.qkv_stride;
  local.y = oop ? args.output : const_cast<void*>(args.qkv);
  local.y_stride = oop ? args.output_stride : args.qkv_stride;
  local.q_weight = args.q_weight;
  local.k_weight = args.k_weight;
  local.positions = args.positions;
  local.heads = heads;
  local.qk_heads = static_cast<int>(args.num_q_heads + args.num_k_heads);
  local.nq = static_cast<int>(args.num_q_heads);
  local.head_dim = static_cast<int>(args.head_dim);
  local.rotary_dim = static_cast<int>(args.rotary_dim);
  local.pos64 = args.position_type == PositionType::kInt64 ? 1 : 0;
  local.pairing = args.pairing;
  local.math = detail::RowMath{local.head_dim, args.eps, detail::exact_inverse_pow2(args.head_dim)};
  local.af = static_cast<double>(args.yarn.attention_factor);
  detail::rope_table(args, &local.table);
  switch (args.dtype) {
    case DType::kFp32:
      return detail::launch_typed<DType::kFp32>(args, stream, dev, &local);
    case DType::kFp16:
      return detail::launch_typed<DType::kFp16>(args, stream, dev, &local);
    case DType::kBf16:
      return detail::launch_typed<DType::kBf16>(args, stream, dev, &local);
  }
  return Status(StatusCode::kInvalidArgument, "qknorm_rope: unknown dtype");
}

}  // namespace kc

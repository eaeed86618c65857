// Device-side compile check of act_and_mul/act_and_mul_row.h: each activation's fast and
// accurate forms, act_rounded and act_and_mul_value for every (activation, profile, dtype) in
// __global__ kernels of their own, built by nvcc with the project's flags (kc_fp_strict,
// kc_warnings; -Werror under KC_WERROR). Nothing runs them here; their PTX is what the operation
// counts in act_and_mul_row.h were read from.
#include <cstdint>

#include "act_and_mul/act_and_mul_row.h"

namespace kc::detail {

template <class A>
__global__ void act_fast(const float* g, float* y) {
  y[threadIdx.x] = A::fast(g[threadIdx.x]);
}
template <class A>
__global__ void act_accurate(const float* g, ScaledFf* y) {
  y[threadIdx.x] = A::accurate(g[threadIdx.x]);
}
template <class A, DType D>
__global__ void act_rounded_kernel(const typename Storage<D>::Type* g,
                                   typename Storage<D>::Type* y) {
  y[threadIdx.x] = act_rounded<A, D>(Storage<D>::load(g[threadIdx.x]));
}
template <class A, ActRounding R, DType D>
__global__ void act_and_mul_kernel(const typename Storage<D>::Type* x,
                                   typename Storage<D>::Type* y) {
  const float g = Storage<D>::load(x[threadIdx.x]);
  const float u = Storage<D>::load(x[blockDim.x + threadIdx.x]);
  y[threadIdx.x] = act_and_mul_value<A, R, D>(g, u);
}

#define KC_ACT_DEVICE_INSTANCES(A)                                                                 \
  template __global__ void act_fast<A>(const float*, float*);                                      \
  template __global__ void act_accurate<A>(const float*, ScaledFf*);                               \
  template __global__ void act_rounded_kernel<A, DType::kFp32>(const float*, float*);              \
  template __global__ void act_rounded_kernel<A, DType::kFp16>(const std::uint16_t*,               \
                                                               std::uint16_t*);                    \
  template __global__ void act_rounded_kernel<A, DType::kBf16>(const std::uint16_t*,               \
                                                               std::uint16_t*);                    \
  template __global__ void act_and_mul_kernel<A, ActRounding::kTorch, DType::kFp32>(const float*,  \
                                                                                    float*);       \
  template __global__ void act_and_mul_kernel<A, ActRounding::kTorch, DType::kFp16>(               \
      const std::uint16_t*, std::uint16_t*);                                                       \
  template __global__ void act_and_mul_kernel<A, ActRounding::kTorch, DType::kBf16>(               \
      const std::uint16_t*, std::uint16_t*);                                                       \
  template __global__ void act_and_mul_kernel<A, ActRounding::kSingle, DType::kFp32>(const float*, \
                                                                                     float*);      \
  template __global__ void act_and_mul_kernel<A, ActRounding::kSingle, DType::kFp16>(              \
      const std::uint16_t*, std::uint16_t*);                                                       \
  template __global__ void act_and_mul_kernel<A, ActRounding::kSingle, DType::kBf16>(              \
      const std::uint16_t*, std::uint16_t*);

KC_ACT_DEVICE_INSTANCES(Silu)
KC_ACT_DEVICE_INSTANCES(Gelu)
KC_ACT_DEVICE_INSTANCES(GeluTanh)

#undef KC_ACT_DEVICE_INSTANCES

}  // namespace kc::detail

// Device-side compile check of common/math.h: every function in a __global__ kernel of its own,
// built by nvcc with the project's flags (kc_fp_strict: --fmad=false -ftz=false -prec-div=true
// -prec-sqrt=true; kc_warnings with -Werror under KC_WERROR). Nothing runs it: it proves that
// the KC_HD code compiles for the device as written, and its PTX is what the operation counts
// in math.h were read from (nvcc -ptx; one kernel per function).
#include <cstdint>

#include "common/math.h"

namespace kc::detail {

__global__ void math_exp_fast(const float* x, float* y) {
  y[threadIdx.x] = exp_fast(x[threadIdx.x]);
}
__global__ void math_exp_fast_normal(const float* x, float* y) {
  y[threadIdx.x] = exp_fast_normal(x[threadIdx.x]);
}
__global__ void math_exp_f32(const float* x, float* y) { y[threadIdx.x] = exp_f32(x[threadIdx.x]); }
__global__ void math_exp_ff(const float* x, ScaledFf* y) {
  y[threadIdx.x] = exp_ff({x[threadIdx.x], x[threadIdx.x + 32]});
}
__global__ void math_normal_tail_fast(const float* x, float* y) {
  const float v = x[threadIdx.x];
  y[threadIdx.x] = normal_tail_fast(v, fmul(v, v));
}
__global__ void math_normal_tail_ff(const float* x, ScaledFf* y) {
  const float v = x[threadIdx.x];
  const Ff s = two_prod(v, v);
  y[threadIdx.x] = normal_tail_ff({v, 0.0f}, {fmul(s.hi, 0.5f), fmul(s.lo, 0.5f)});
}
__global__ void math_erfc_f32(const float* x, float* y) {
  y[threadIdx.x] = erfc_f32(x[threadIdx.x]);
}
__global__ void math_erf_f32(const float* x, float* y) { y[threadIdx.x] = erf_f32(x[threadIdx.x]); }
__global__ void math_tanh_f32(const float* x, float* y) {
  y[threadIdx.x] = tanh_f32(x[threadIdx.x]);
}
__global__ void math_round_to_odd(const float* x, float* y) {
  y[threadIdx.x] = round_to_odd(x[threadIdx.x], x[threadIdx.x + 32]);
}
__global__ void math_ff_ops(const float* x, Ff* y) {
  const Ff a{x[0], x[1]}, b{x[2], x[3]};
  y[0] = two_sum(x[0], x[2]);
  y[1] = ff_mul(a, b);
  y[2] = ff_div(a, b);
  y[3] = ff_mul_f(a, x[4]);
}

template <DType D>
__global__ void math_round_ff(const ScaledFf* x, typename Storage<D>::Type* y) {
  y[threadIdx.x] = round_ff<D>(x[threadIdx.x]);
}
template __global__ void math_round_ff<DType::kFp32>(const ScaledFf*, float*);
template __global__ void math_round_ff<DType::kFp16>(const ScaledFf*, std::uint16_t*);
template __global__ void math_round_ff<DType::kBf16>(const ScaledFf*, std::uint16_t*);

}  // namespace kc::detail

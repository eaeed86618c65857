// Host entry point of FlashInfer's act_and_mul peer (flashinfer_act.h). Compiled with
// -use_fast_math, as FlashInfer's JIT compiles its modules (flashinfer/jit/core.py adds
// -use_fast_math, -O3 and -DNDEBUG to every module unless asked not to).
//
// The activation functions. FlashInfer's JIT does not ship them in a header: it generates one
// CUDA source per activation from the template in flashinfer/jit/activation.py (read at
// FlashInfer 0.7.2.post1, the published wheel; the same text at the repository's v0.6.18 HEAD
// fb28d724, lines 77-96), each defining a `__device__ float f(const float&)` that the kernel
// takes as a template argument. What they compute, in the order that decides the bits:
//  - silu:      val / (1.0f + __expf(-val));
//  - gelu:      val * 0.5f * (1.0f + erf(val * kAlpha)), kAlpha = float(M_SQRT1_2), evaluated
//               left to right: (val * 0.5) * (1 + erf(.));
//  - gelu_tanh: val * cdf with cdf = 0.5f * (1.0f + math::tanh(0.7978845608028654f *
//               (val + 0.044715f * val * val * val))), math::tanh being FlashInfer's wrapper
//               of tanh.approx.f32 (include/flashinfer/math.cuh).
// The functions below are kconform's own code computing those expressions with the same
// operations in the same order (and the same constants, rounded to float the same way), so
// nvcc emits the same instructions: under fast math __expf is ex2.approx of x * log2(e), the
// division is a reciprocal approximation and a multiply, erff is unchanged (the libdevice
// polynomial), and every operation flushes subnormals.
//
// The launch (the template in flashinfer/jit/activation.py, 0.7.2.post1): d = last dimension / 2,
// grid = num_tokens, vec = the widest of 16 / sizeof(T), 4, 2, 1 that divides d (the fix for
// d % 8 == 4, FlashInfer PR 5013), block = min(d / vec, 256) threads (PR 4733 capped it at 256),
// no dynamic shared memory, cudaLaunchKernelEx with the programmatic-stream-serialization
// attribute set to enable_pdl, then cudaGetLastError().
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <flashinfer/activation.cuh>
#include <flashinfer/math.cuh>

#include "flashinfer_act.h"

namespace kc::peers {
namespace {

__device__ __forceinline__ float fi_silu(const float& x) { return x / (1.0f + __expf(-x)); }

__device__ __forceinline__ float fi_gelu(const float& x) {
  constexpr float kInvSqrt2 = static_cast<float>(0.70710678118654752440);  // float(M_SQRT1_2)
  return x * 0.5f * (1.0f + erff(x * kInvSqrt2));
}

__device__ __forceinline__ float fi_gelu_tanh(const float& x) {
  const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  const float cdf = 0.5f * (1.0f + flashinfer::math::tanh(inner));
  return x * cdf;
}

template <typename T, float (*Act)(const float&), std::uint32_t kVec>
cudaError_t launch_vec(T* out, const T* in, std::int64_t num_tokens, int d, Pdl pdl,
                       cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(num_tokens));
  config.blockDim = dim3(std::min(static_cast<unsigned>(d) / kVec, 256u));
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  cudaLaunchAttribute attrs[1];
  attrs[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attrs[0].val.programmaticStreamSerializationAllowed = pdl == Pdl::kAuto ? 1 : 0;
  config.numAttrs = 1;
  config.attrs = attrs;
  (void)cudaLaunchKernelEx(&config, flashinfer::activation::act_and_mul_kernel<T, Act, kVec>, out,
                           in, d);
  return cudaGetLastError();
}

template <typename T, float (*Act)(const float&)>
cudaError_t launch(void* out, const void* in, std::int64_t num_tokens, std::int64_t d, Pdl pdl,
                   cudaStream_t stream) {
  T* o = static_cast<T*>(out);
  const T* i = static_cast<const T*>(in);
  const int di = static_cast<int>(d);
  constexpr std::uint32_t kMaxVec = 16 / sizeof(T);
  if (d % kMaxVec == 0) return launch_vec<T, Act, kMaxVec>(o, i, num_tokens, di, pdl, stream);
  if (d % 4 == 0) return launch_vec<T, Act, 4>(o, i, num_tokens, di, pdl, stream);
  if (d % 2 == 0) return launch_vec<T, Act, 2>(o, i, num_tokens, di, pdl, stream);
  return launch_vec<T, Act, 1>(o, i, num_tokens, di, pdl, stream);
}

template <typename T>
cudaError_t launch_act(FlashInferAct act, void* out, const void* in, std::int64_t num_tokens,
                       std::int64_t d, Pdl pdl, cudaStream_t stream) {
  switch (act) {
    case FlashInferAct::kSilu:
      return launch<T, fi_silu>(out, in, num_tokens, d, pdl, stream);
    case FlashInferAct::kGelu:
      return launch<T, fi_gelu>(out, in, num_tokens, d, pdl, stream);
    case FlashInferAct::kGeluTanh:
      return launch<T, fi_gelu_tanh>(out, in, num_tokens, d, pdl, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int flashinfer_act_vec(DType dtype, std::int64_t d) {
  const std::int64_t widest = 16 / static_cast<std::int64_t>(dtype_size(dtype));
  for (std::int64_t v : {widest, std::int64_t{4}, std::int64_t{2}}) {
    if (d % v == 0) return static_cast<int>(v);
  }
  return 1;
}

cudaError_t flashinfer_act_and_mul(FlashInferAct act, DType dtype, void* output, const void* input,
                                   std::int64_t num_tokens, std::int64_t d, Pdl pdl,
                                   cudaStream_t stream) {
  switch (dtype) {
    case DType::kFp32:
      return launch_act<float>(act, output, input, num_tokens, d, pdl, stream);
    case DType::kFp16:
      return launch_act<half>(act, output, input, num_tokens, d, pdl, stream);
    case DType::kBf16:
      return launch_act<__nv_bfloat16>(act, output, input, num_tokens, d, pdl, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace kc::peers

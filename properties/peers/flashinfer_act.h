// FlashInfer's gated-activation kernel (include/flashinfer/activation.cuh, act_and_mul_kernel) as
// a peer (optional; present when KC_FLASHINFER_INCLUDE names a FlashInfer include directory at
// configure time). flashinfer_act.cu is the only file that includes that header; it is compiled
// with -use_fast_math like FlashInfer's JIT modules (flashinfer/jit/core.py), and launches the
// kernel with the configuration of FlashInfer's own launcher (the template in
// flashinfer/jit/activation.py), with activation functions that compute what the JIT's
// generated functors compute (flashinfer_act.cu cites each).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kc/kernels/dtype.h"
#include "kc/kernels/tensor.h"

namespace kc::peers {

enum class FlashInferAct : std::uint8_t {
  kSilu,      // silu_and_mul:      x / (1 + __expf(-x))
  kGelu,      // gelu_and_mul:      x * 0.5 * (1 + erf(x * M_SQRT1_2))
  kGeluTanh,  // gelu_tanh_and_mul: x * (0.5 * (1 + tanh.approx(b * (x + k * x * x * x))))
};

// The vector width FlashInfer's launcher picks for d and T (16 / sizeof(T) when it divides d,
// else 4, 2 or 1, whichever divides d first): every pointer the kernel is given must be aligned
// to vec * sizeof(T) bytes.
int flashinfer_act_vec(DType dtype, std::int64_t d);

// Launches act_and_mul_kernel<T, act, vec> on contiguous rows: input [num_tokens, 2d], output
// [num_tokens, d] (FlashInfer's kernel has no strides), grid num_tokens, block
// min(d / vec, 256), programmatic stream serialization as `pdl` says; returns
// cudaGetLastError() after the launch, as FlashInfer's launcher checks it. T = float (fp32; the
// kernel instantiates for it although FlashInfer's Python binding dispatches fp16 and bf16
// only), half or nv_bfloat16. Does not validate: callers check d >= 1, d < 2^31,
// num_tokens < 2^31 and the alignment (flashinfer_act_subjects.cpp). num_tokens == 0 is passed
// through as FlashInfer passes it (an empty grid, which CUDA refuses).
cudaError_t flashinfer_act_and_mul(FlashInferAct act, DType dtype, void* output, const void* input,
                                   std::int64_t num_tokens, std::int64_t d, Pdl pdl,
                                   cudaStream_t stream);

}  // namespace kc::peers

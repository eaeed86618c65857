// FlashInfer's norm kernels as a peer (optional; present when KC_FLASHINFER_INCLUDE names a
// FlashInfer include directory at configure time). flashinfer_norm.cu is the only file that
// includes FlashInfer's headers; it is compiled with the flags FlashInfer's JIT compiles its
// CUDA modules with (-use_fast_math, -O3; flashinfer/jit/core.py), so its numerics are the ones
// FlashInfer's Python users get, ftz and approximate division included.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kc/kernels/dtype.h"

namespace kc::peers {

enum class FlashInferNorm : std::uint8_t {
  kRmsNorm,          // flashinfer::norm::RMSNorm: y = x * rsqrt(ss / d + eps) * w
  kGemmaRmsNorm,     // flashinfer::norm::GemmaRMSNorm: the same with (1 + w)
  kFusedAddRmsNorm,  // flashinfer::norm::FusedAddRMSNorm: residual += input (stored rounded),
                     // input = norm of the fp32 sum (in place on both)
};

// The FlashInfer version the headers came from (KC_FLASHINFER_VERSION at configure time).
const char* flashinfer_version();

// Calls the FlashInfer launcher for `op` with T = half (fp16) or nv_bfloat16 (bf16) and returns
// what it returns. `second` is the residual (fused) or the output (the others); `second_stride`
// its row stride. FlashInfer's launchers take 32-bit sizes and strides and compute element
// offsets as 32-bit products (row * stride); callers check the ranges (flashinfer_subjects.cpp).
// Any other dtype: cudaErrorInvalidValue.
cudaError_t flashinfer_norm(FlashInferNorm op, DType dtype, void* input, void* second, void* weight,
                            std::uint32_t batch_size, std::uint32_t hidden,
                            std::uint32_t input_stride, std::uint32_t second_stride, float eps,
                            bool enable_pdl, cudaStream_t stream);

}  // namespace kc::peers

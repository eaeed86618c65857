// Host entry points of the FlashInfer peer (flashinfer_norm.h). Compiled with -use_fast_math.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <flashinfer/norm.cuh>

#include "flashinfer_norm.h"

#ifndef KC_FLASHINFER_VERSION
#define KC_FLASHINFER_VERSION "unknown"
#endif

namespace kc::peers {
namespace {

template <typename T>
cudaError_t launch(FlashInferNorm op, void* input, void* second, void* weight,
                   std::uint32_t batch_size, std::uint32_t hidden, std::uint32_t input_stride,
                   std::uint32_t second_stride, float eps, bool pdl, cudaStream_t stream) {
  T* x = static_cast<T*>(input);
  T* s = static_cast<T*>(second);
  T* w = static_cast<T*>(weight);
  switch (op) {
    case FlashInferNorm::kRmsNorm:
      return flashinfer::norm::RMSNorm<T>(x, w, s, batch_size, hidden, input_stride, second_stride,
                                          eps, pdl, stream);
    case FlashInferNorm::kGemmaRmsNorm:
      return flashinfer::norm::GemmaRMSNorm<T>(x, w, s, batch_size, hidden, input_stride,
                                               second_stride, eps, pdl, stream);
    case FlashInferNorm::kFusedAddRmsNorm:
      return flashinfer::norm::FusedAddRMSNorm<T>(x, s, w, batch_size, hidden, input_stride,
                                                  second_stride, eps, pdl, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

const char* flashinfer_version() { return KC_FLASHINFER_VERSION; }

cudaError_t flashinfer_norm(FlashInferNorm op, DType dtype, void* input, void* second, void* weight,
                            std::uint32_t batch_size, std::uint32_t hidden,
                            std::uint32_t input_stride, std::uint32_t second_stride, float eps,
                            bool enable_pdl, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFp16:
      return launch<half>(op, input, second, weight, batch_size, hidden, input_stride,
                          second_stride, eps, enable_pdl, stream);
    case DType::kBf16:
      return launch<__nv_bfloat16>(op, input, second, weight, batch_size, hidden, input_stride,
                                   second_stride, eps, enable_pdl, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace kc::peers

// Storage values for subjects (values.h): the twins' conversions (kernels/src/common/scalar.h).
#include "kc/props/values.h"

#include <cstring>

#include "common/scalar.h"

namespace kc::props {

float from_storage_bits(DType d, std::uint32_t bits) {
  switch (d) {
    case DType::kFp32:
      return detail::bits_float(bits);
    case DType::kFp16:
      return detail::fp16_to_float(static_cast<std::uint16_t>(bits));
    case DType::kBf16:
      return detail::bf16_to_float(static_cast<std::uint16_t>(bits));
  }
  return 0;
}

std::uint32_t to_storage_bits(DType d, float v) {
  switch (d) {
    case DType::kFp32:
      return detail::float_bits(detail::Storage<DType::kFp32>::store(v));
    case DType::kFp16:
      return detail::float_to_fp16(v);
    case DType::kBf16:
      return detail::float_to_bf16(v);
  }
  return 0;
}

float load_element(DType d, const void* p, std::int64_t i) {
  if (d == DType::kFp32) return static_cast<const float*>(p)[i];
  return from_storage_bits(d, static_cast<const std::uint16_t*>(p)[i]);
}

void store_element(DType d, void* p, std::int64_t i, float v) {
  const std::uint32_t bits = to_storage_bits(d, v);
  if (d == DType::kFp32) {
    std::memcpy(static_cast<float*>(p) + i, &bits, 4);
  } else {
    static_cast<std::uint16_t*>(p)[i] = static_cast<std::uint16_t>(bits);
  }
}

}  // namespace kc::props

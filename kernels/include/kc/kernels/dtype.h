// Storage dtypes of the kernels' tensors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kc {

enum class DType : std::uint8_t { kFp32 = 0, kFp16 = 1, kBf16 = 2 };

inline constexpr DType kAllDTypes[] = {DType::kFp32, DType::kFp16, DType::kBf16};

constexpr std::size_t dtype_size(DType d) { return d == DType::kFp32 ? 4 : 2; }
constexpr const char* dtype_name(DType d) {
  return d == DType::kFp32 ? "fp32" : d == DType::kFp16 ? "fp16" : d == DType::kBf16 ? "bf16" : "?";
}
constexpr bool dtype_valid(DType d) {
  return d == DType::kFp32 || d == DType::kFp16 || d == DType::kBf16;
}
// Parses "fp32" / "fp16" / "bf16"; false on anything else.
bool dtype_from_name(const char* name, DType* out);

}  // namespace kc

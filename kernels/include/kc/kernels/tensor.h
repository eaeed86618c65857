// Tensor arguments shared by every op family's public API: batches of rows and single vectors,
// each with its own dtype and row stride (in elements), and the launch option every launcher
// takes. Contracts about them (aliasing, alignment, what may be null) are each op's, in its
// header.
#pragma once

#include <cstdint>

#include "kc/kernels/dtype.h"

namespace kc {

// A batch of rows: data, dtype and the distance between rows in elements.
struct ConstRows {
  const void* data = nullptr;
  DType dtype = DType::kBf16;
  std::int64_t row_stride = 0;
};
struct Rows {
  void* data = nullptr;
  DType dtype = DType::kBf16;
  std::int64_t row_stride = 0;
};
// One contiguous vector (a weight).
struct ConstVector {
  const void* data = nullptr;
  DType dtype = DType::kBf16;
};

// Programmatic dependent launch: on sm_90 and later a launch may begin while the previous
// grid on the stream finishes (its kernels wait for that grid before their first global
// access). It never changes a result bit.
enum class Pdl : std::uint8_t {
  kAuto,  // programmatic dependent launch on sm_90 and later
  kOff,
};

}  // namespace kc

// A case: one generated input of an op. Structure (shape, strides, offsets, classes, injected
// special values) is what RapidCheck generates and shrinks; tensor data comes from `seed`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"

namespace kc::props {

// How the values of one row are drawn (per storage format; see values.cpp).
enum class ValueClass : std::uint8_t {
  kNormal,        // N(0, sigma), sigma drawn per row from {2^-4, 1, 2^4}
  kTiny,          // magnitudes 2^-24 .. 2^-12
  kHuge,          // large but in range: fp16 up to 2^15, bf16/fp32 up to 2^40
  kSubnormal,     // subnormals of the storage format (and zeros)
  kZero,          // +-0
  kConstant,      // one value repeated
  kOneHot,        // zeros and one nonzero element
  kAlternating,   // +c, -c, +c, ...
  kEpsDominated,  // mean(x^2) far below eps
  kCount
};
enum class WeightClass : std::uint8_t {
  kNormal,  // 1 + N(0, 0.1)
  kOnes,
  kNearMinusOne,  // -1 + small (Gemma's 1 + w near 0)
  kWide,          // N(0, 4): signs and magnitudes
  kCount
};
enum class Special : std::uint8_t { kNan, kPosInf, kNegInf, kCount };

const char* value_class_name(ValueClass c);
const char* weight_class_name(WeightClass c);
const char* special_name(Special s);

// A special value written over one element of an input tensor after the data is generated.
// row and col are reduced modulo the tensor's shape, so shrinking them keeps them valid.
struct Injection {
  int tensor = 0;
  std::int64_t row = 0;
  std::int64_t col = 0;
  Special kind = Special::kNan;
};

// Memory layout of one tensor: elements between rows, and the offset in elements of element
// (0, 0) from a 256-byte aligned base. An output with in_place set uses its own input's memory.
struct TensorLayout {
  std::int64_t row_stride = 0;
  std::int64_t offset = 0;
  bool in_place = false;
};

struct Case {
  std::string op;       // "rmsnorm", "fused_add_rmsnorm"
  std::string profile;  // the profile the subject under test claims
  DType dtype = DType::kBf16;
  std::int64_t num_tokens = 0;
  std::int64_t hidden = 0;
  float eps = 1e-6f;
  std::vector<TensorLayout> tensors;    // one per tensor role of the op (OpInfo)
  std::vector<ValueClass> row_classes;  // row i uses row_classes[i % size]; empty: kNormal
  WeightClass weight_class = WeightClass::kNormal;
  std::vector<Injection> injections;
  std::uint64_t seed = 0;

  ValueClass row_class(std::int64_t row) const {
    return row_classes.empty() ? ValueClass::kNormal
                               : row_classes[static_cast<std::size_t>(row) % row_classes.size()];
  }
};

// One line: "fused_add_rmsnorm.hf bf16 tokens=3 hidden=769 eps=1e-06 strides=[...] ...".
std::string describe(const Case& c);

}  // namespace kc::props

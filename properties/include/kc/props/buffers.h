// Host (and device) memory of a case: one arena per tensor, every byte that is not an element
// of the tensor filled with a canary pattern, outputs poisoned before a run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"
#include "kc/props/case.h"
#include "kc/props/op.h"

namespace kc::props {

// Bits <-> values of the storage dtypes (fp16/bf16 rounding is round-to-nearest-even).
std::uint32_t quantize(DType d, float v);
float value_of(DType d, std::uint32_t bits);
bool bits_are_nan(DType d, std::uint32_t bits);

inline constexpr std::uint8_t kPoisonByte = 0xff;  // 0xffff / 0xffffffff: a NaN no kernel stores
inline constexpr std::size_t kGuardBytes = 256;    // canary bytes before and after each tensor

struct HostTensor {
  std::vector<std::uint8_t> storage;  // guard + base alignment + data + guard
  std::size_t base = 0;               // byte index of the 256-byte aligned base in storage
  std::size_t begin = 0;              // byte index of element (0, 0)
  std::size_t end = 0;                // one past the last element byte
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;  // elements
  std::size_t elem = 0;
  std::vector<std::uint8_t> is_element;  // per storage byte: part of an element?

  std::uint8_t* data() { return storage.data() + begin; }
  const std::uint8_t* data() const { return storage.data() + begin; }
  std::uint32_t get(std::int64_t r, std::int64_t c) const;
  void set(std::int64_t r, std::int64_t c, std::uint32_t bits);
};

// The tensors of one case; aliased outputs share their input's HostTensor.
struct CaseBuffers {
  std::vector<HostTensor> owned;  // one per tensor role that owns memory
  std::vector<int> storage_of;    // tensor role -> index into owned
  HostTensor& tensor(int role) {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(role)])];
  }
  const HostTensor& tensor(int role) const {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(role)])];
  }
};

// Allocates every tensor, fills canaries, generates input data (value classes, seed), applies
// the injections and poisons the out-of-place outputs.
CaseBuffers materialize(const OpInfo& op, const Case& c);

// Canary bytes changed in any tensor (empty when intact): "tensor@offset" descriptions.
std::vector<std::string> canary_damage(const OpInfo& op, const CaseBuffers& b);

// Elements of out-of-place outputs still holding the poison pattern.
std::int64_t unwritten_elements(const OpInfo& op, const Case& c, const CaseBuffers& b);

// Row values of an input tensor as floats (exact).
std::vector<float> row_values(const Case& c, const HostTensor& t, std::int64_t row);

}  // namespace kc::props

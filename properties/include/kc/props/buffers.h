// Host (and device) memory of a case: one arena per tensor, every byte that is not an element
// of the tensor filled with a canary pattern, outputs poisoned before a run. Also the storage
// formats' bits <-> values and the data generator families fill their tensors with.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/dtype.h"
#include "kc/props/case.h"
#include "kc/ref/format.h"

namespace kc::props {

struct OpSpec;

// Bits <-> values of the storage dtypes (fp16/bf16 rounding is round-to-nearest-even; NaN is the
// canonical NaN). The same conversions the host twins use.
std::uint32_t quantize(DType d, float v);
float value_of(DType d, std::uint32_t bits);
bool bits_are_nan(DType d, std::uint32_t bits);
// The reference library's format of a storage dtype.
ref::Format format_of(DType d);
// The bits of a special value in a dtype.
std::uint32_t special_bits(DType d, Special s);

// The data generator of tensor rows (splitmix64): small, fast, and enough for test data. Seeded
// per (case seed, tensor, row), so a row's data never depends on the other rows.
struct DataRng {
  std::uint64_t s;
  explicit DataRng(std::uint64_t seed) : s(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
  double normal() {
    const double u1 = uniform() + 0x1p-60;
    const double u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  bool coin() { return next() & 1u; }
  // 2^e with e uniform in [lo_exp, hi_exp), as a float.
  float magnitude(double lo_exp, double hi_exp) {
    return static_cast<float>(std::exp2(lo_exp + (hi_exp - lo_exp) * uniform()));
  }
  // A subnormal (or zero) of the dtype, random sign.
  std::uint32_t subnormal_bits(DType d);
};

inline constexpr std::uint8_t kPoisonByte = 0xff;  // 0xffff / 0xffffffff: a NaN no kernel stores
inline constexpr std::size_t kGuardBytes = 256;    // canary bytes before and after each tensor

struct HostTensor {
  std::vector<std::uint8_t> storage;  // guard + base alignment + data + guard
  std::size_t base = 0;               // byte index of the 256-byte aligned base in storage
  std::size_t begin = 0;              // byte index of element (0, 0)
  std::size_t end = 0;                // one past the last element byte
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t stride = 0;               // elements
  std::size_t elem = 0;                  // bytes: 2, 4 or 8
  bool integer = false;                  // int32 / int64 elements (else the case's float dtype)
  std::vector<std::uint8_t> is_element;  // per storage byte: part of an element?

  std::uint8_t* data() { return storage.data() + begin; }
  const std::uint8_t* data() const { return storage.data() + begin; }
  // Elements of 2 or 4 bytes (the float dtypes, int32).
  std::uint32_t get(std::int64_t r, std::int64_t c) const;
  void set(std::int64_t r, std::int64_t c, std::uint32_t bits);
  // Elements of any width (int64 included), zero-extended.
  std::uint64_t get_any(std::int64_t r, std::int64_t c) const;
  void set_any(std::int64_t r, std::int64_t c, std::uint64_t bits);
};

// The tensors of one case; aliased outputs share their input's HostTensor.
struct CaseBuffers {
  std::vector<HostTensor> owned;  // one per tensor that owns memory
  std::vector<int> storage_of;    // tensor -> index into owned
  HostTensor& tensor(int t) {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(t)])];
  }
  const HostTensor& tensor(int t) const {
    return owned[static_cast<std::size_t>(storage_of[static_cast<std::size_t>(t)])];
  }
  // Whether tensor t owns its memory (false for an output aliasing its input).
  bool owns(std::size_t t) const;
};

// Allocates every tensor of the case's op, fills canaries, has the family generate input data
// (value classes, seed), applies the injections and poisons the out-of-place outputs.
CaseBuffers materialize(const Case& c);

// Canary bytes changed in any tensor (empty when intact): "tensor@offset" descriptions.
std::vector<std::string> canary_damage(const OpSpec& op, const CaseBuffers& b);

// Elements of out-of-place outputs still holding the poison pattern.
std::int64_t unwritten_elements(const OpSpec& op, const Case& c, const CaseBuffers& b);

// An element's bits as text: "0x3e27 (0.16309)" for the float dtypes, the integer otherwise.
std::string describe_element(const Case& c, const HostTensor& t, std::uint64_t bits);

// Row values of a float tensor (the case dtype) as floats (exact).
std::vector<float> row_values(const Case& c, const HostTensor& t, std::int64_t row);

// Host pointers of each tensor (aliased outputs repeat their input's pointer).
std::vector<void*> host_pointers(CaseBuffers& b, std::size_t tensors);

// Placeholder addresses laid out like the case (distinct 2^50-spaced bases, 256-byte aligned plus
// the case's offsets, in-place outputs sharing their input's base; null when num_tokens == 0):
// how a subject with a pure check answers "do you support this case" without memory.
std::vector<void*> placeholder_pointers(const Case& c);

}  // namespace kc::props

// Storage values for a subject's author: reading and writing elements of the case's dtype with
// the same conversions kconform's twins use (fp16/bf16 round to nearest even, overflow to
// infinity, subnormals kept; every NaN stored as the canonical NaN 0x7fff / 0x7fffffff, which is
// what the bitwise properties compare).
#pragma once

#include <cstdint>

#include "kc/kernels/dtype.h"

namespace kc::props {

// Element i (counted in elements from p) of a tensor of dtype d, as its exact float value.
float load_element(DType d, const void* p, std::int64_t i);
// Writes v rounded to dtype d (round to nearest even; NaN canonical) as element i.
void store_element(DType d, void* p, std::int64_t i, float v);
// The same on bit patterns: the storage bits of v, and the exact float of storage bits.
std::uint32_t to_storage_bits(DType d, float v);
float from_storage_bits(DType d, std::uint32_t bits);

}  // namespace kc::props

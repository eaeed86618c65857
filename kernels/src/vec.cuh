// The one 16-byte vector type for kernel loads, stores and register-resident rows. It is four
// 32-bit registers; elements are read and written through get/set with indices that unrolled
// loops make compile-time constants (a 16-bit element array would take a register per element).
// Kernels never reinterpret_cast memory themselves.
#pragma once

#include <cstdint>

namespace kc::detail {

template <typename T>
struct alignas(16) Vec16 {
  static constexpr int kSize = 16 / static_cast<int>(sizeof(T));
  static_assert(sizeof(T) == 2 || sizeof(T) == 4, "16- or 32-bit elements");
  std::uint32_t w[4];

  __device__ __forceinline__ T get(int e) const {
    if constexpr (sizeof(T) == 4) {
      return __uint_as_float(w[e]);
    } else {
      return static_cast<T>((w[e >> 1] >> ((e & 1) * 16)) & 0xffffu);
    }
  }
  __device__ __forceinline__ void set(int e, T v) {
    if constexpr (sizeof(T) == 4) {
      w[e] = __float_as_uint(v);
    } else {
      const int s = (e & 1) * 16;
      w[e >> 1] = (w[e >> 1] & ~(0xffffu << s)) | (static_cast<std::uint32_t>(v) << s);
    }
  }

  // Vector `index` of a row of `hidden` elements: one 16-byte access when the row is 16-byte
  // aligned and the vector is whole, element accesses otherwise (elements past the row are 0).
  __device__ __forceinline__ void load(const T* row, int index, int hidden, bool aligned) {
    const int first = index * kSize;
    if (aligned && first + kSize <= hidden) {
      const uint4 t = *reinterpret_cast<const uint4*>(row + first);
      w[0] = t.x;
      w[1] = t.y;
      w[2] = t.z;
      w[3] = t.w;
    } else {
      w[0] = w[1] = w[2] = w[3] = 0u;
#pragma unroll
      for (int e = 0; e < kSize; ++e) {
        if (first + e < hidden) set(e, row[first + e]);
      }
    }
  }
  __device__ __forceinline__ void store(T* row, int index, int hidden, bool aligned) const {
    const int first = index * kSize;
    if (aligned && first + kSize <= hidden) {
      *reinterpret_cast<uint4*>(row + first) = make_uint4(w[0], w[1], w[2], w[3]);
    } else {
#pragma unroll
      for (int e = 0; e < kSize; ++e) {
        if (first + e < hidden) row[first + e] = get(e);
      }
    }
  }
};

}  // namespace kc::detail

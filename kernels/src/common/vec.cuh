// The one 16-byte vector type for kernel loads, stores and register-resident rows: four 32-bit
// registers holding kVec elements of dtype D. Elements are read as exact fp32 values and written
// in pairs through the packed round-to-nearest conversions (cvt.rn.bf16x2.f32 /
// cvt.rn.f16x2.f32), which round each half exactly as the scalar conversions of scalar.h do,
// the canonical NaN 0x7fff included (the GPU tests compare them on all 2^32 inputs). Indices are
// compile-time constants after unrolling. Kernels never reinterpret_cast memory themselves.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "common/scalar.h"

namespace kc::detail {

template <DType D>
struct alignas(16) Vec16 {
  using S = Storage<D>;
  using T = typename S::Type;
  static constexpr int kSize = S::kVec;
  std::uint32_t w[4];

  // The exact fp32 value of element e.
  __device__ __forceinline__ float value(int e) const {
    if constexpr (D == DType::kFp32) {
      return __uint_as_float(w[e]);
    } else if constexpr (D == DType::kBf16) {
      return __uint_as_float((e & 1) ? (w[e >> 1] & 0xffff0000u) : (w[e >> 1] << 16));
    } else {
      const __half2 h = *reinterpret_cast<const __half2*>(&w[e >> 1]);
      return (e & 1) ? __high2float(h) : __low2float(h);
    }
  }
  // Elements 2p and 2p + 1 set to the storage roundings of a and b (NaN: the hardware's 0x7fff).
  __device__ __forceinline__ void set_pair(int p, float a, float b) {
    if constexpr (D == DType::kFp32) {
      w[2 * p] = __float_as_uint(S::store(a));
      w[2 * p + 1] = __float_as_uint(S::store(b));
    } else {
      std::uint32_t packed;
      if constexpr (D == DType::kBf16) {
        const __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
        packed = *reinterpret_cast<const std::uint32_t*>(&h);
      } else {
        const __half2 h = __floats2half2_rn(a, b);
        packed = *reinterpret_cast<const std::uint32_t*>(&h);
      }
      w[p] = packed;
    }
  }
  __device__ __forceinline__ T get(int e) const {
    if constexpr (D == DType::kFp32) {
      return __uint_as_float(w[e]);
    } else {
      return static_cast<T>((w[e >> 1] >> ((e & 1) * 16)) & 0xffffu);
    }
  }
  __device__ __forceinline__ void set(int e, T v) {
    if constexpr (D == DType::kFp32) {
      w[e] = __float_as_uint(v);
    } else {
      const int s = (e & 1) * 16;
      w[e >> 1] = (w[e >> 1] & ~(0xffffu << s)) | (static_cast<std::uint32_t>(v) << s);
    }
  }

  // Marks the registers as redefined here (no instruction is emitted), so that the compiler
  // computes nothing from them before this point. The held-weight kernels pin the weight before
  // the output pass: its unpacking is loop-invariant, and hoisted above the row loop it made
  // each thread wait for the weight load before issuing its row's loads, two memory round trips
  // instead of one (bench/notes/rmsnorm_perf.md, v10).
  __device__ __forceinline__ void pin() {
    asm volatile("" : "+r"(w[0]), "+r"(w[1]), "+r"(w[2]), "+r"(w[3]));
  }

  // Vector `index` of a row. kVector: one 16-byte access (the caller guarantees a 16-byte
  // aligned, whole vector). Otherwise element accesses, those past `hidden` reading as +0.
  template <bool kVector>
  __device__ __forceinline__ void load(const T* row, int index, int hidden) {
    const int first = index * kSize;
    if constexpr (kVector) {
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
  template <bool kVector>
  __device__ __forceinline__ void store(T* row, int index, int hidden) const {
    const int first = index * kSize;
    if constexpr (kVector) {
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

// Scalar fp32 arithmetic and storage conversions shared by the CUDA kernels and their host
// twins. Compiled by nvcc (device and host passes) and by the host compiler; on both sides
// every operation is one correctly rounded IEEE fp32 operation:
//  - add/mul/div/rcp/sqrt/fma: device intrinsics with explicit round-to-nearest (__fadd_rn, ...,
//    which the compiler never contracts or approximates); host operators under
//    -ffp-contract=off, and std::fma for the one fused operation we write.
//  - fp16/bf16 -> fp32 is exact. fp32 -> fp16/bf16 is round-to-nearest-even with overflow to
//    inf and subnormals; NaN becomes the canonical NaN 0x7fff. The device uses the bare
//    hardware conversion (cvt.rn.{bf16,f16}{,x2}.f32, which already returns 0x7fff for every
//    NaN), the host the bit-level code below; a GPU test compares the two over all 2^32 inputs
//    (RmsNormGpuTest.DeviceConversionsEqualSoftwareOnAllInputs), so a device that returned
//    another NaN would fail it rather than break the twin promise silently.
//  - fp32 results that are NaN are stored as the canonical NaN 0x7fffffff on both sides (the
//    hardware and the host compiler differ on NaN payloads and signs otherwise).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define KC_HD __host__ __device__ __forceinline__
#else
#include <cmath>
#define KC_HD inline
#endif

#include "kc/kernels/dtype.h"

namespace kc::detail {

KC_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
KC_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
KC_HD float fdiv(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
// rn(1 / a): the same correctly rounded quotient as fdiv(1, a), from the cheaper reciprocal.
KC_HD float frcp(float a) {
#if defined(__CUDA_ARCH__)
  return __frcp_rn(a);
#else
  return 1.0f / a;
#endif
}
KC_HD float fsqrt(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
KC_HD float ffma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

KC_HD std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
#endif
}
KC_HD float bits_float(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#else
  float f;
  std::memcpy(&f, &b, 4);
  return f;
#endif
}

inline constexpr std::uint32_t kCanonicalNanF32 = 0x7fffffffu;
inline constexpr std::uint16_t kCanonicalNan16 = 0x7fffu;

KC_HD bool is_nan(float f) { return (float_bits(f) & 0x7fffffffu) > 0x7f800000u; }

// --- software conversions: integer code, the same bits on any compiler ------------------
KC_HD float bf16_to_float(std::uint16_t h) {
  return bits_float(static_cast<std::uint32_t>(h) << 16);
}

KC_HD std::uint16_t float_to_bf16_soft(float f) {
  if (is_nan(f)) return kCanonicalNan16;
  const std::uint32_t x = float_bits(f);
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

KC_HD float fp16_to_float_soft(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    // man * 2^-24: exact (man < 2^10, a power-of-two scale).
    const float mag = static_cast<float>(man) * 5.9604644775390625e-08f;
    return sign ? -mag : mag;
  }
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

KC_HD std::uint16_t float_to_fp16_soft(float f) {
  if (is_nan(f)) return kCanonicalNan16;
  const std::uint32_t x = float_bits(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 (max + half ulp): inf
  if (ax < 0x38800000u) {                        // below 2^-14: fp16 subnormal or zero
    if (ax <= 0x33000000u) return sign;          // <= 2^-25: half the smallest subnormal or less
    const std::uint32_t e = ax >> 23;            // 102..112
    const std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - e;  // value / 2^-24 = m / 2^shift, shift in [14, 24]
    std::uint32_t q = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<std::uint16_t>(sign | q);
  }
  const std::uint32_t u = ax - 0x38000000u;  // rebias 127 -> 15
  std::uint32_t q = u >> 13;
  const std::uint32_t rem = u & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;
  return static_cast<std::uint16_t>(sign | q);
}

// --- the conversions kernels and twins use: hardware on the device, software on the host ---
KC_HD std::uint16_t float_to_bf16(float f) {
#if defined(__CUDA_ARCH__)
  return __bfloat16_as_ushort(__float2bfloat16_rn(f));
#else
  return float_to_bf16_soft(f);
#endif
}

KC_HD float fp16_to_float(std::uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  return fp16_to_float_soft(h);
#endif
}

KC_HD std::uint16_t float_to_fp16(float f) {
#if defined(__CUDA_ARCH__)
  return __half_as_ushort(__float2half_rn(f));
#else
  return float_to_fp16_soft(f);
#endif
}

// --- per-dtype storage ---------------------------------------------------------------------
template <DType D>
struct Storage;

template <>
struct Storage<DType::kFp32> {
  using Type = float;
  static constexpr int kVec = 4;  // elements per 16-byte vector
  KC_HD static float load(float s) { return s; }
  KC_HD static float store(float f) { return is_nan(f) ? bits_float(kCanonicalNanF32) : f; }
};
template <>
struct Storage<DType::kBf16> {
  using Type = std::uint16_t;
  static constexpr int kVec = 8;
  KC_HD static float load(std::uint16_t s) { return bf16_to_float(s); }
  KC_HD static std::uint16_t store(float f) { return float_to_bf16(f); }
};
template <>
struct Storage<DType::kFp16> {
  using Type = std::uint16_t;
  static constexpr int kVec = 8;
  KC_HD static float load(std::uint16_t s) { return fp16_to_float(s); }
  KC_HD static std::uint16_t store(float f) { return float_to_fp16(f); }
};

}  // namespace kc::detail

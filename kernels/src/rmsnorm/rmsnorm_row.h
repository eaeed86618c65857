// Per-row arithmetic of the norm family, shared bit for bit by the CUDA kernels (rmsnorm.cuh)
// and the host twins (rmsnorm_twin.cpp). Everything a row's result depends on is here:
//
//  1. Layout (row_layout): the row is cut into 16-byte vectors of `vec` elements; lane t of
//     `lanes` owns vectors t, t + lanes, ... . lanes = next_pow2(vectors) clamped to [1, 1024],
//     so a lane owns one vector up to 1024 vectors (bf16/fp16 hidden <= 8192, fp32 <= 4096),
//     two up to 2048 (hidden <= 16384 / 8192), and beyond that the row is streamed twice
//     instead of held. It depends on (dtype, hidden) only, never on the number of rows (batch
//     invariance). Which thread runs which lane is the launcher's choice (launch_shape in
//     rmsnorm_job.h) and never changes a bit: one lane a thread, or two, each with its own sum.
//     (Why one vector a lane rather than two or a floor on the lanes: bench/notes/
//     rmsnorm_perf.md, where each layout tried is measured.)
//  2. Normalised input z_i: x_i (rmsnorm); fp32 s_i = x_i + r_i (ResidualSum::kFp32); or
//     rn(s_i) read back as fp32 (ResidualSum::kRounded).
//  3. Sum of squares: each lane runs acc = fma(z, z, acc) from 0 over its elements in order
//     (vector by vector, element by element); then a pairwise tree over lanes 0..lanes-1 in
//     natural order: ((l0 + l1) + (l2 + l3)) + ... . On the GPU this is the xor-butterfly over
//     shuffles (bitwise the same: IEEE addition is commutative), then over warps.
//  4. r = 1 / sqrt(sum / hidden + eps), each step correctly rounded (inv_rms).
//  5. Output: kSingle: y = rn((z * r) * w'), w' = w or (1 + w); kCastBeforeWeight:
//     y = rn(w * rn(z * r)). fp32 order as written, one rounding per operation; the final rn
//     (and the fused residual's rn) is the storage conversion the caller applies.
#pragma once

#include <cstdint>

#include "common/scalar.h"
#include "kc/kernels/rmsnorm.h"

namespace kc::detail {

inline constexpr int kMaxLanes = 1024;
inline constexpr int kRegisterVectors = 2;  // vectors a lane holds in registers (else streamed)

KC_HD int next_pow2(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return p;
}

KC_HD RowLayout row_layout(int vec, std::int64_t hidden) {
  RowLayout l;
  l.vec = vec;
  l.vectors = static_cast<int>((hidden + vec - 1) / vec);
  int lanes = next_pow2(l.vectors);
  if (lanes > kMaxLanes) lanes = kMaxLanes;
  l.lanes = lanes;
  l.per_lane = (l.vectors + lanes - 1) / lanes;
  l.streamed = l.per_lane > kRegisterVectors;
  return l;
}

// How a row is normalised: which ops run and in what rounding.
enum class NormKind : std::uint8_t { kRmsNorm, kFusedFp32Sum, kFusedRoundedSum };

// How the output is formed (the profile's output rounding and weight offset).
enum class OutMode : std::uint8_t {
  kSingle,        // rn((z r) w)
  kSingleOffset,  // rn((z r)(1 + w))           Gemma
  kCast,          // rn(w rn(z r))              HF cast before weight
};

struct RowMath {
  int hidden;
  float eps;
  float inv_hidden;  // 2^-k when hidden = 2^k, else 0 (row_math)
};

// 2^-k when hidden = 2^k (exact in fp32 for every int hidden), else 0.
inline float exact_inverse_pow2(std::int64_t hidden) {
  if (hidden <= 0 || (hidden & (hidden - 1)) != 0) return 0.0f;
  float inv = 1.0f;
  for (std::int64_t h = hidden; h > 1; h >>= 1) inv *= 0.5f;  // exact: a power of two >= 2^-62
  return inv;
}

// r = 1 / sqrt(sum / hidden + eps), each step correctly rounded. Two cheaper forms give the
// same bits: when hidden = 2^k, sum * 2^-k is the same real number as sum / 2^k, so its one
// rounding is the same (subnormal results included); and rn(1 / a) is rn(1 / a) whether a
// divide or the correctly rounded reciprocal computes it.
KC_HD float inv_rms(float sum_sq, const RowMath& m) {
  const float mean = m.inv_hidden != 0.0f ? fmul(sum_sq, m.inv_hidden)
                                          : fdiv(sum_sq, static_cast<float>(m.hidden));
  return frcp(fsqrt(fadd(mean, m.eps)));
}

// The fp32 sum of a fused row's element (the fused kinds' residual before its rounding).
KC_HD float residual_sum(float x, float res) { return fadd(x, res); }

// The normalised input of one element from x, r and the stored residual rn(x + r) read back.
template <NormKind K>
KC_HD float norm_input(float x, float sum, float stored_sum) {
  if constexpr (K == NormKind::kRmsNorm) {
    (void)sum;
    (void)stored_sum;
    return x;
  } else if constexpr (K == NormKind::kFusedFp32Sum) {
    (void)stored_sum;
    return sum;
  } else {
    (void)sum;
    return stored_sum;
  }
}

// The output value of one element before its final rounding to the storage dtype, from its
// normalised input z, r and its weight w. (The caller rounds: Storage<D>::store on the host,
// the packed conversion of Vec16 on the GPU; both are the same correctly rounded conversion.)
template <DType D, OutMode M>
KC_HD float norm_value(float z, float r, float w) {
  const float zr = fmul(z, r);
  if constexpr (M == OutMode::kCast) {
    return fmul(w, Storage<D>::load(Storage<D>::store(zr)));
  } else if constexpr (M == OutMode::kSingleOffset) {
    return fmul(zr, fadd(1.0f, w));
  } else {
    return fmul(zr, w);
  }
}

}  // namespace kc::detail

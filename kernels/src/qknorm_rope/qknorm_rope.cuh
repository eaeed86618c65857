// CUDA kernels of the qknorm_rope family (profile qknorm_rope.exact, kc/kernels/qknorm_rope.h):
// one instance per (dtype, chunk), chunk kE = 2, 4, 8 elements a lane for head_dim 64, 128, 256
// with vector accesses (every lane chunk aligned), kE = 0 for the element path of every even
// head_dim. All arithmetic is qknorm_rope_row.h's and the twin's; only the data movement is
// GPU-specific:
//  - One block a group (up to eight heads of one token), grid-stride over the groups: the
//    block's threads first compute the sine and cosine of every pair for the token (shared
//    memory, once for all its heads instead of once per element of every head), then one warp a
//    unit (one head of one token): lane l loads its chunk
//    [l E, l E + E), sums its squares, the xor butterfly gives every lane the head's sum (the
//    twin's pairwise tree), R, then v_i = (z_i R) w_i goes to the warp's shared-memory slice so
//    that each lane can read its elements' rotation partners (any rotary_dim, either pairing,
//    without lane-dependent shuffles); every lane loads before any lane stores (in place safe).
//  - v heads: copied element by element when out of place (in place they are not units).
//  - The frequency table travels in the parameter block (__grid_constant__: read in place, never
//    copied to local memory).
//  - PDL (sm_90+): wait for the previous grid before the first global access, then let the next
//    grid launch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/pdl.cuh"
#include "qknorm_rope/qknorm_rope_job.h"

namespace kc::detail {

struct QkParams {
  const void* x;
  std::int64_t x_stride;  // elements
  void* y;
  std::int64_t y_stride;
  const void* q_weight;
  const void* k_weight;
  const void* positions;
  std::int64_t groups;            // tokens * groups_per_token
  std::int64_t groups_per_token;  // ceil(heads / warps a block)
  std::int64_t heads;             // units a token
  int qk_heads;                   // q + k heads a token (units h >= qk_heads are v copies)
  int nq;
  int head_dim;
  int rotary_dim;
  int pos64;
  RopePairing pairing;
  RowMath math;
  double af;
  RopeTable table;
};

inline constexpr int kMaxQkChunk = static_cast<int>(kMaxQkHeadDim / 32);

// kE elements of dtype D as 32-bit words, one or two vector accesses.
template <DType D, int kE>
struct Chunk {
  static constexpr int kWords = kE * static_cast<int>(dtype_size(D)) / 4;
  std::uint32_t w[kWords];
  __device__ __forceinline__ void load(const void* p) {
    if constexpr (kWords == 1) {
      w[0] = *static_cast<const std::uint32_t*>(p);
    } else if constexpr (kWords == 2) {
      const uint2 t = *static_cast<const uint2*>(p);
      w[0] = t.x;
      w[1] = t.y;
    } else {
#pragma unroll
      for (int k = 0; k < kWords / 4; ++k) {
        const uint4 t = static_cast<const uint4*>(p)[k];
        w[4 * k] = t.x;
        w[4 * k + 1] = t.y;
        w[4 * k + 2] = t.z;
        w[4 * k + 3] = t.w;
      }
    }
  }
  __device__ __forceinline__ void store(void* p) const {
    if constexpr (kWords == 1) {
      *static_cast<std::uint32_t*>(p) = w[0];
    } else if constexpr (kWords == 2) {
      *static_cast<uint2*>(p) = make_uint2(w[0], w[1]);
    } else {
#pragma unroll
      for (int k = 0; k < kWords / 4; ++k) {
        static_cast<uint4*>(p)[k] = make_uint4(w[4 * k], w[4 * k + 1], w[4 * k + 2], w[4 * k + 3]);
      }
    }
  }
  __device__ __forceinline__ float value(int e) const {
    if constexpr (D == DType::kFp32) {
      return __uint_as_float(w[e]);
    } else {
      return Storage<D>::load(static_cast<std::uint16_t>((w[e >> 1] >> ((e & 1) * 16)) & 0xffffu));
    }
  }
  __device__ __forceinline__ void set(int e, typename Storage<D>::Type v) {
    if constexpr (D == DType::kFp32) {
      w[e] = __float_as_uint(v);
    } else {
      const int s = (e & 1) * 16;
      w[e >> 1] = (w[e >> 1] & ~(0xffffu << s)) | (static_cast<std::uint32_t>(v) << s);
    }
  }
};

// The unrounded output of element i of a head whose v values are in vs; sc holds the sine and
// cosine of every pair j of the unit's token.
__device__ __forceinline__ double qk_output(const QkParams& p, const double* vs, const SinCos* sc,
                                            int i) {
  if (i >= p.rotary_dim) return vs[i];
  const PairOf po = pair_of(i, p.rotary_dim, p.pairing);
  return rotated(vs[i], vs[po.partner], sc[po.j], p.af, po.first);
}

// One entry of the token's table. Not inlined: its registers (the 64-bit turn, two
// polynomials in double) would otherwise count against every thread of the kernel, and only the
// first rotary_dim / 2 threads of a block call it, once a group.
__device__ __noinline__ SinCos qk_table_entry(std::int64_t pos, RopeConst c) {
  return sincos_turn(rope_turn(pos, c));
}

// Four blocks an SM (at most 64 registers; the table entry is a call): memory parallelism comes
// from resident warps, each with one head's loads in flight.
template <DType D, int kE>
__global__ void __launch_bounds__(256, 4) qknorm_rope_kernel(const __grid_constant__ QkParams p) {
  using S = Storage<D>;
  using T = typename S::Type;
  extern __shared__ double qk_smem[];
  __shared__ SinCos sc[kMaxRopePairs];  // the token's sin and cos per pair, shared by its heads
  constexpr int kMax = kE > 0 ? kE : kMaxQkChunk;
  const int n = p.head_dim;
  const int chunk = kE > 0 ? kE : qk_chunk(n);
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int warps = static_cast<int>(blockDim.x) >> 5;
  const int pairs = p.rotary_dim / 2;
  double* vs = qk_smem + static_cast<std::int64_t>(warp) * n;
  const int first = lane * chunk;
  pdl_wait();
  // Grid-stride over the groups (warps heads of one token): the trip count is the block's, so
  // every thread reaches both barriers. Token t and group-in-token k of group g advance without
  // a division in the loop.
  const std::int64_t gpt = p.groups_per_token;
  const std::int64_t step_t = static_cast<std::int64_t>(gridDim.x) / gpt;
  const std::int64_t step_k = static_cast<std::int64_t>(gridDim.x) - step_t * gpt;
  std::int64_t t = static_cast<std::int64_t>(blockIdx.x) / gpt;
  std::int64_t k = static_cast<std::int64_t>(blockIdx.x) - t * gpt;
  for (std::int64_t g = blockIdx.x; g < p.groups; g += gridDim.x) {
    const int h = static_cast<int>(k) * warps + warp;
    const bool qk = h < p.qk_heads;
    const T* x = static_cast<const T*>(p.x) + t * p.x_stride + static_cast<std::int64_t>(h) * n;
    T* y = static_cast<T*>(p.y) + t * p.y_stride + static_cast<std::int64_t>(h) * n;
    // 1. The head's loads first, so that they are in flight during the table.
    float z[kMax];
    float wv[kMax];
    if (qk) {
      const T* w = static_cast<const T*>(h < p.nq ? p.q_weight : p.k_weight);
      if constexpr (kE > 0) {
        Chunk<D, kE> c;
        c.load(x + first);
#pragma unroll
        for (int e = 0; e < kE; ++e) z[e] = c.value(e);
      } else {
#pragma unroll
        for (int e = 0; e < kMax; ++e)
          z[e] = (e < chunk && first + e < n) ? S::load(x[first + e]) : 0.0f;
      }
#pragma unroll
      for (int e = 0; e < kMax; ++e)
        wv[e] = (e < chunk && first + e < n) ? S::load(w[first + e]) : 0.0f;
    }
    // 2. The token's table.
    const std::int64_t pos =
        p.pos64 ? static_cast<const std::int64_t*>(p.positions)[t]
                : static_cast<std::int64_t>(static_cast<const std::int32_t*>(p.positions)[t]);
    for (int j = static_cast<int>(threadIdx.x); j < pairs; j += static_cast<int>(blockDim.x)) {
      sc[j] = qk_table_entry(pos, p.table.c[j]);
    }
    // 3. The norm (or a v head's copy) while the table is written.
    if (qk) {
      float acc = 0.0f;
#pragma unroll
      for (int e = 0; e < kMax; ++e) {
        if (e < chunk && first + e < n) acc = ffma(z[e], z[e], acc);
      }
#pragma unroll
      for (int m = 1; m < 32; m <<= 1) acc = fadd(acc, __shfl_xor_sync(0xffffffffu, acc, m));
      const float r = inv_rms(acc, p.math);
#pragma unroll
      for (int e = 0; e < kMax; ++e) {
        if (e < chunk && first + e < n) vs[first + e] = head_value(z[e], r, wv[e]);
      }
    } else if (h < p.heads) {  // a v head out of place: copy (uniform across the warp)
      for (int i = lane; i < n; i += 32) y[i] = x[i];
    }
    __syncthreads();  // the table is complete; each warp's slice too
    // 4. The rotation and the rounding.
    if (qk) {
      if constexpr (kE > 0) {
        Chunk<D, kE> o;
#pragma unroll
        for (int e = 0; e < kE; ++e) o.set(e, round_double<D>(qk_output(p, vs, sc, first + e)));
        o.store(y + first);
      } else {
#pragma unroll 1
        for (int e = 0; e < chunk; ++e) {
          const int i = first + e;
          if (i >= n) break;
          y[i] = round_double<D>(qk_output(p, vs, sc, i));
        }
      }
    }
    __syncthreads();  // the table and the slices are rewritten by the next group
    t += step_t;
    k += step_k;
    if (k >= gpt) {
      k -= gpt;
      ++t;
    }
  }
  pdl_launch_dependents();
}

}  // namespace kc::detail

// CUDA kernels of the norm family (rmsnorm and fused_add_rmsnorm, every profile of rmsnorm.h).
//
// One kernel template per (dtype, NormKind, OutMode, RowPath): the seven profiles of each dtype
// in the data paths of RowPath (rmsnorm_job.h), each instance holding only its own code. A block
// holds blockDim.y rows of blockDim.x threads each (layout.lanes, or layout.lanes / 2 where a
// thread holds two lanes; blockDim.x * blockDim.y is a multiple of 32) and walks the rows
// grid-stride, so the launcher may pick any grid. All arithmetic comes from rmsnorm_row.h and is
// the twin's; only the data movement is GPU-specific:
//  - kVector instances: every row of every tensor 16-byte aligned and hidden a multiple of the
//    vector: pure 16-byte loads and stores, no element code. Other instances access elements
//    one by one: same values, same order, same arithmetic.
//  - Register paths: a thread keeps its <= 2 vectors of z in registers between the reduction
//    and the output pass, so each input byte is read once; it issues all its loads before its
//    arithmetic (one memory round trip; in kRegister only where that costs no occupancy, see
//    there). Streamed path (hidden too large for that): the output pass re-reads x (and r) and
//    recomputes z bit for bit.
//  - Reduction (row_sum): xor-butterfly over each 32-lane group within a warp, then the group
//    totals through shared memory and a butterfly over them: the pairwise tree of the twin.
//  - PDL (sm_90+): wait for the previous grid before the first global access, then let the next
//    grid launch (it waits in turn for this one to complete).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/pdl.cuh"
#include "common/reduce.cuh"
#include "common/vec.cuh"
#include "rmsnorm/rmsnorm_job.h"
#include "rmsnorm/rmsnorm_row.h"

namespace kc::detail {

struct NormParams {
  const void* x;
  std::int64_t x_stride;
  const void* res;
  std::int64_t res_stride;
  const void* w;
  void* y;
  std::int64_t y_stride;
  void* res_out;
  std::int64_t res_out_stride;
  std::int64_t rows;
  RowLayout layout;
  RowMath math;
  bool aligned;  // (launcher) every row 16-byte aligned and hidden a multiple of vec
};

// The kernel parameters of a job: its tensors, rows, row layout and row math. `aligned` is
// left false: the launcher decides it from the pointers.
inline NormParams norm_params(const NormJob& j, int vec) {
  NormParams p{};
  p.x = j.x;
  p.x_stride = j.x_stride;
  p.res = j.res;
  p.res_stride = j.res_stride;
  p.w = j.w;
  p.y = j.y;
  p.y_stride = j.y_stride;
  p.res_out = j.res_out;
  p.res_out_stride = j.res_out_stride;
  p.rows = j.rows;
  p.layout = row_layout(vec, j.hidden);
  p.math = row_math(j);
  p.aligned = false;
  return p;
}

// The paths (RowPath), launch bounds and launch shapes are rmsnorm_job.h's.
template <DType D, NormKind K, OutMode M, RowPath kPath, bool kVector>
__global__ void __launch_bounds__(max_threads(kPath, kVector), min_blocks(kPath, K))
    norm_rows_kernel(const NormParams p) {
  constexpr bool kStreamed = kPath == RowPath::kStreamed;
  constexpr bool kHeldWeight =
      kPath == RowPath::kRegisterHeldWeight || kPath == RowPath::kRegisterLanesHeldWeight;
  constexpr int kChains = lanes_per_thread(kPath);
  using S = Storage<D>;
  using T = typename S::Type;
  using Vec = Vec16<D>;
  constexpr int V = Vec::kSize;
  constexpr bool kFused = K != NormKind::kRmsNorm;
  __shared__ float warp_total[2][32];  // double-buffered: one barrier per row group

  // Threads a row (tpr): the row's lanes, or lanes / kRegisterVectors (the lanes paths). Thread
  // t handles vectors t + k * tpr either way (one lane's, or k lanes' one each).
  const int tpr = static_cast<int>(blockDim.x);
  const int t = threadIdx.x;
  const int vectors = p.layout.vectors;
  const int hidden = p.math.hidden;
  const T* w = static_cast<const T*>(p.w);

  pdl_wait();
  // The next kernel in the stream may launch now: it waits (griddepcontrol.wait) until this
  // grid has completed and its writes are visible, so only its launch latency overlaps ours.
  pdl_launch_dependents();
  Vec held_w[kHeldWeight ? kRegisterVectors : 1];
  if constexpr (kHeldWeight) {
#pragma unroll
    for (int k = 0; k < kRegisterVectors; ++k) {
      const int v = t + k * tpr;
      if (v < vectors) held_w[k].template load<kVector>(w, v, hidden);
    }
  }
  int buf = 0;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.y;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.y; base < p.rows;
       base += step, buf ^= 1) {
    const std::int64_t row = base + threadIdx.y;
    const bool active = row < p.rows;
    const std::int64_t r0 = active ? row : 0;
    const T* x = static_cast<const T*>(p.x) + r0 * p.x_stride;
    const T* res = kFused ? static_cast<const T*>(p.res) + r0 * p.res_stride : nullptr;
    T* y = static_cast<T*>(p.y) + r0 * p.y_stride;
    T* res_out = kFused ? static_cast<T*>(p.res_out) + r0 * p.res_out_stride : nullptr;

    // z of a vector from its loaded x (and r); fused kinds also form the stored residual ro.
    auto normalised = [&](const Vec& xv, const Vec& rv, float(&z)[V], Vec& ro) {
#pragma unroll
      for (int q = 0; q < V / 2; ++q) {
        const float x0 = xv.value(2 * q);
        const float x1 = xv.value(2 * q + 1);
        float s0 = 0.0f;
        float s1 = 0.0f;
        if constexpr (kFused) {
          s0 = residual_sum(x0, rv.value(2 * q));
          s1 = residual_sum(x1, rv.value(2 * q + 1));
          ro.set_pair(q, s0, s1);
        }
        z[2 * q] = norm_input<K>(x0, s0, kFused ? ro.value(2 * q) : 0.0f);
        z[2 * q + 1] = norm_input<K>(x1, s1, kFused ? ro.value(2 * q + 1) : 0.0f);
      }
    };
    // Loads vector v of x (and r).
    auto load_inputs = [&](int v, Vec& xv, Vec& rv) {
      xv.template load<kVector>(x, v, hidden);
      if constexpr (kFused) rv.template load<kVector>(res, v, hidden);
    };
    // Loads vector v of x (and r) and forms z (and the fused kinds' stored residual ro).
    auto load_normalised = [&](int v, Vec& xv, Vec& rv, float(&z)[V], Vec& ro) {
      load_inputs(v, xv, rv);
      normalised(xv, rv, z, ro);
    };
    // Elements past the row were loaded as +0, so they add fma(0, 0, acc) = acc exactly (acc is
    // never -0): the same bits as the twin, which skips them.
    auto accumulate = [&](const float(&z)[V], float acc) {
#pragma unroll
      for (int e = 0; e < V; ++e) acc = ffma(z[e], z[e], acc);
      return acc;
    };
    auto write_output = [&](int v, const float(&z)[V], float r, const Vec* held) {
      Vec wv;
      Vec yv;
      if (held != nullptr) {
        wv = *held;
        wv.pin();
      } else {
        wv.template load<kVector>(w, v, hidden);
      }
#pragma unroll
      for (int q = 0; q < V / 2; ++q) {
        yv.set_pair(q, norm_value<D, M>(z[2 * q], r, wv.value(2 * q)),
                    norm_value<D, M>(z[2 * q + 1], r, wv.value(2 * q + 1)));
      }
      yv.template store<kVector>(y, v, hidden);
    };

    float acc[kChains];
#pragma unroll
    for (int c = 0; c < kChains; ++c) acc[c] = 0.0f;
    if constexpr (!kStreamed) {
      // A thread keeps its vectors in their narrowest exact form and rebuilds z from it in the
      // output pass (bitwise the same): x for rmsnorm, rn(s) for the rounded sum, x and r for
      // the fp32 sum of 16-bit rows (s is recomputed), z itself for fp32 rows.
      constexpr bool kKeepZ = D == DType::kFp32 && K == NormKind::kFusedFp32Sum;
      constexpr bool kKeepR = !kKeepZ && K == NormKind::kFusedFp32Sum;
      Vec held[kRegisterVectors];
      Vec held_r[kKeepR ? kRegisterVectors : 1];
      float held_z[kKeepZ ? kRegisterVectors : 1][V];
      // Every load of the thread's vectors first, then their arithmetic, so that the loads are
      // in flight together: one memory round trip instead of one per vector. In kRegister
      // (bandwidth launches of 1024-thread rows) only where that keeps the rows an SM: the
      // rmsnorm instances, held to 32 registers by min_blocks, and the 16-bit fp32-sum ones (one
      // row an SM either way). The other fused instances need more registers with their loads
      // first and would fit one row an SM instead of two (measured: bench/notes/rmsnorm_perf.md).
      constexpr bool kLoadsFirst = kPath != RowPath::kRegister || K == NormKind::kRmsNorm ||
                                   (K == NormKind::kFusedFp32Sum && D != DType::kFp32);
      Vec xs[kRegisterVectors];
      Vec rs[kFused ? kRegisterVectors : 1];
#pragma unroll
      for (int k = 0; k < kRegisterVectors; ++k) {
        const int v = t + k * tpr;
        if (kLoadsFirst && active && v < vectors) load_inputs(v, xs[k], rs[kFused ? k : 0]);
      }
#pragma unroll
      for (int k = 0; k < kRegisterVectors; ++k) {
        const int v = t + k * tpr;
        if (active && v < vectors) {
          if (!kLoadsFirst) load_inputs(v, xs[k], rs[kFused ? k : 0]);
          const Vec& xv = xs[k];
          const Vec& rv = rs[kFused ? k : 0];
          Vec ro;
          float z[V];
          normalised(xv, rv, z, ro);
          if constexpr (kFused) ro.template store<kVector>(res_out, v, hidden);
          const int c = kChains == 1 ? 0 : k;
          acc[c] = accumulate(z, acc[c]);
          if constexpr (kKeepZ) {
#pragma unroll
            for (int e = 0; e < V; ++e) held_z[k][e] = z[e];
          } else if constexpr (K == NormKind::kFusedRoundedSum) {
            held[k] = ro;
          } else {
            held[k] = xv;
            if constexpr (kKeepR) held_r[k] = rv;
          }
        }
      }
      const float r = inv_rms(row_sum<kChains>(acc, tpr, warp_total, buf), p.math);
#pragma unroll
      for (int k = 0; k < kRegisterVectors; ++k) {
        const int v = t + k * tpr;
        if (active && v < vectors) {
          float z[V];
#pragma unroll
          for (int e = 0; e < V; ++e) {
            if constexpr (kKeepZ) {
              z[e] = held_z[k][e];
            } else if constexpr (kKeepR) {
              z[e] = residual_sum(held[k].value(e), held_r[k].value(e));  // s again
            } else {
              z[e] = held[k].value(e);  // x, or rn(s) read back
            }
          }
          write_output(v, z, r, kHeldWeight ? &held_w[k] : nullptr);
        }
      }
    } else {
      if (active) {
        for (int v = t; v < vectors; v += tpr) {
          Vec xv;
          Vec rv;
          Vec ro;
          float z[V];
          load_normalised(v, xv, rv, z, ro);
          acc[0] = accumulate(z, acc[0]);
        }
      }
      const float r = inv_rms(row_sum<kChains>(acc, tpr, warp_total, buf), p.math);
      if (active) {
        // Second pass: re-read x (and r), rebuild z bit for bit, write both outputs. Nothing
        // was written in the first pass, so this is also right in place.
        for (int v = t; v < vectors; v += tpr) {
          Vec xv;
          Vec rv;
          Vec ro;
          float z[V];
          load_normalised(v, xv, rv, z, ro);
          if constexpr (kFused) ro.template store<kVector>(res_out, v, hidden);
          write_output(v, z, r, nullptr);
        }
      }
    }
  }
}

}  // namespace kc::detail

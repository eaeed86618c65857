// Reductions across the threads of a row, for every family's kernels. A block holds
// blockDim.y rows of blockDim.x threads each (a row's threads are consecutive lanes of its
// warps); the reduction is the pairwise tree over lane partial sums in natural lane order that a
// host twin writes as a loop (rmsnorm/rmsnorm_row.h describes the tree), done with
// xor-butterflies (IEEE addition is commutative, so the butterfly gives the tree's bits).
#pragma once

#include "common/scalar.h"

namespace kc::detail {

// Sum of the lane partial sums of one row (the pairwise tree of rmsnorm_row.h in natural lane
// order). A row has `tpr` threads; thread t holds kChains lane sums acc[c], of lanes t + c * tpr
// (kChains == 1: one lane a thread). Each chain's 32-lane groups are butterflied within the
// warp (consecutive lanes: the tree's lower levels); with more than one warp a row, the warp
// totals go to shared memory in lane order (chain by chain) and a butterfly over them gives the
// upper levels; with one warp or less, the chains' totals are added as the top levels.
// Every thread of the block must call it the same number of times (it may synchronise).
template <int kChains>
__device__ __forceinline__ float row_sum(float (&acc)[kChains], int tpr, float (&warp_total)[2][32],
                                         int buf) {
  // Unrolled over the five possible steps, each taken when the row spans it (uniform across
  // the warp): no loop counter on the row's critical path. The shuffles name the whole warp:
  // for m < width (powers of two dividing 32), lane ^ m stays in the lane's aligned group of
  // width lanes, so the partner is the one a width-wide shuffle names, and the shuffle takes
  // its lane bound as an immediate instead of computing it each step.
  const int width = tpr < 32 ? tpr : 32;
#pragma unroll
  for (int m = 1; m < 32; m <<= 1) {
    if (m < width) {
#pragma unroll
      for (int c = 0; c < kChains; ++c) {
        acc[c] = fadd(acc[c], __shfl_xor_sync(0xffffffffu, acc[c], m));
      }
    }
  }
  if (tpr <= 32) {
    // Chains are adjacent groups of tpr lanes: add them pairwise, in order.
#pragma unroll
    for (int span = 1; span < kChains; span <<= 1) {
#pragma unroll
      for (int c = 0; c + span < kChains; c += 2 * span) acc[c] = fadd(acc[c], acc[c + span]);
    }
    return acc[0];
  }
  const int nw = tpr / 32;         // warps a row
  const int slots = kChains * nw;  // 32-lane groups a row (<= 32)
  const int lane = threadIdx.x;
  const int base = threadIdx.y * slots;  // this row's slots
  if ((lane & 31) == 0) {
#pragma unroll
    for (int c = 0; c < kChains; ++c) warp_total[buf][base + c * nw + lane / 32] = acc[c];
  }
  __syncthreads();
  // Every group of `slots` lanes (a power of two) reads the row's slots and runs the same
  // butterfly, so every lane ends with the total, in the same order (no broadcast).
  float t = warp_total[buf][base + (lane & (slots - 1))];
#pragma unroll
  for (int m = 1; m < 32; m <<= 1) {
    if (m < slots) t = fadd(t, __shfl_xor_sync(0xffffffffu, t, m));
  }
  return t;
}

}  // namespace kc::detail

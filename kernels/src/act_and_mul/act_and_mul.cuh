// CUDA kernels of the act_and_mul family (every profile of act_and_mul.h): one instance per
// (activation, rounding, dtype, vector path). All arithmetic is act_and_mul_row.h's and the
// twin's; only the data movement is GPU-specific:
//  - kVector instances (every row of the gate, up and output halves 16-byte aligned, d a
//    multiple of the vector): a thread loads one 16-byte vector of gates and one of ups, runs the
//    fast step on all its elements, the accurate step on the few the fast one leaves undecided
//    (about 2W of 2^16 bf16 and 2W of 2^13 fp16 gates; always for fp32), and stores one 16-byte
//    vector. Other instances: one element a thread, act_and_mul_value.
//  - The launch shape (act_and_mul_job.h) walks rows and units grid-stride in two dimensions:
//    no division on the element's path, 64-bit offsets.
//  - PDL (sm_90+): wait for the previous grid before the first global access, then let the next
//    grid launch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "act_and_mul/act_and_mul_job.h"
#include "act_and_mul/act_and_mul_row.h"
#include "common/pdl.cuh"
#include "common/vec.cuh"

namespace kc::detail {

struct ActParams {
  const void* x;
  std::int64_t x_stride;  // elements
  void* y;
  std::int64_t y_stride;
  std::int64_t rows;
  std::int64_t d;
  std::int64_t vectors;  // units a row
};

template <class Act, ActRounding R, DType D, bool kVector>
__global__ void __launch_bounds__(256) act_and_mul_kernel(const ActParams p) {
  using S = Storage<D>;
  using T = typename S::Type;
  using Vec = Vec16<D>;
  pdl_wait();
  const std::int64_t row_step = static_cast<std::int64_t>(gridDim.y) * blockDim.y;
  const std::int64_t unit_step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t row = static_cast<std::int64_t>(blockIdx.y) * blockDim.y + threadIdx.y;
       row < p.rows; row += row_step) {
    const T* x = static_cast<const T*>(p.x) + row * p.x_stride;
    T* y = static_cast<T*>(p.y) + row * p.y_stride;
    for (std::int64_t u = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         u < p.vectors; u += unit_step) {
      if constexpr (kVector) {
        const int v = static_cast<int>(u);  // d <= kMaxActD: a row's vectors fit an int
        Vec g, up, out;
        g.template load<true>(x, v, 0);
        up.template load<true>(x + p.d, v, 0);
        unsigned undecided = 0;
#pragma unroll
        for (int e = 0; e < Vec::kSize; ++e) {
          T r;
          if (act_and_mul_fast<Act, R, D>(g.value(e), up.value(e), &r)) {
            out.set(e, r);
          } else {
            undecided |= 1u << e;
          }
        }
        if (undecided != 0) {
#pragma unroll 1
          for (int e = 0; e < Vec::kSize; ++e) {
            if ((undecided >> e) & 1u) {
              out.set(e, act_and_mul_accurate<Act, R, D>(g.value(e), up.value(e)));
            }
          }
        }
        out.template store<true>(y, v, 0);
      } else {
        y[u] = act_and_mul_value<Act, R, D>(S::load(x[u]), S::load(x[p.d + u]));
      }
    }
  }
  pdl_launch_dependents();
}

}  // namespace kc::detail

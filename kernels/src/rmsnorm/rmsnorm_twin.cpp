// Host twins of the norm kernels: the same fp32 operations in the same order as rmsnorm.cuh,
// from the shared row arithmetic in rmsnorm_row.h. Conforms to the profile the arguments select
// (rmsnorm.h) and equals the GPU result bit for bit.
//
// The GPU holds a row on chip (or re-reads it) and writes each element after every read of the
// row; the twin reads the whole row into a buffer first, so in-place calls behave the same.
#include <vector>

#include "rmsnorm/rmsnorm_job.h"

namespace kc {
namespace detail {
namespace {

template <DType D, NormKind K, OutMode M>
void twin_rows(const NormJob& j) {
  using S = Storage<D>;
  using T = typename S::Type;
  const RowLayout layout = row_layout(S::kVec, j.hidden);
  const RowMath math = row_math(j);
  const std::int64_t n = j.hidden;
  std::vector<float> z(static_cast<std::size_t>(n));
  std::vector<T> res_out(static_cast<std::size_t>(n));
  std::vector<float> lane_sum(static_cast<std::size_t>(layout.lanes));
  const T* w = static_cast<const T*>(j.w);

  for (std::int64_t row = 0; row < j.rows; ++row) {
    const T* x = static_cast<const T*>(j.x) + row * j.x_stride;
    const T* res =
        K == NormKind::kRmsNorm ? nullptr : static_cast<const T*>(j.res) + row * j.res_stride;
    for (std::int64_t i = 0; i < n; ++i) {
      const float xv = S::load(x[i]);
      float sum = 0.0f;
      float stored = 0.0f;
      if (res != nullptr) {
        sum = residual_sum(xv, S::load(res[i]));
        res_out[i] = S::store(sum);
        stored = S::load(res_out[i]);
      }
      z[i] = norm_input<K>(xv, sum, stored);
    }
    // Per-lane fma chains over the fixed layout, then the pairwise tree over lanes.
    for (int t = 0; t < layout.lanes; ++t) {
      float acc = 0.0f;
      for (int v = t; v < layout.vectors; v += layout.lanes) {
        for (int e = 0; e < layout.vec; ++e) {
          const std::int64_t i = static_cast<std::int64_t>(v) * layout.vec + e;
          if (i < n) acc = ffma(z[i], z[i], acc);
        }
      }
      lane_sum[t] = acc;
    }
    for (int m = 1; m < layout.lanes; m <<= 1) {
      for (int t = 0; t < layout.lanes; t += 2 * m)
        lane_sum[t] = fadd(lane_sum[t], lane_sum[t + m]);
    }
    const float r = inv_rms(lane_sum[0], math);

    T* y = static_cast<T*>(j.y) + row * j.y_stride;
    T* ro = K == NormKind::kRmsNorm ? nullptr : static_cast<T*>(j.res_out) + row * j.res_out_stride;
    for (std::int64_t i = 0; i < n; ++i) {
      y[i] = S::store(norm_value<D, M>(z[i], r, S::load(w[i])));
      if (ro) ro[i] = res_out[i];
    }
  }
}

template <DType D, NormKind K>
void twin_dispatch_mode(const NormJob& j) {
  switch (out_mode(j)) {
    case OutMode::kSingle:
      return twin_rows<D, K, OutMode::kSingle>(j);
    case OutMode::kSingleOffset:
      return twin_rows<D, K, OutMode::kSingleOffset>(j);
    case OutMode::kCast:
      return twin_rows<D, K, OutMode::kCast>(j);
  }
}

template <DType D>
void twin_dispatch_kind(const NormJob& j) {
  switch (j.kind) {
    case NormKind::kRmsNorm:
      return twin_dispatch_mode<D, NormKind::kRmsNorm>(j);
    case NormKind::kFusedFp32Sum:
      return twin_dispatch_mode<D, NormKind::kFusedFp32Sum>(j);
    case NormKind::kFusedRoundedSum:
      return twin_dispatch_mode<D, NormKind::kFusedRoundedSum>(j);
  }
}

void run_twin(const NormJob& j) {
  switch (j.dtype) {
    case DType::kFp32:
      return twin_dispatch_kind<DType::kFp32>(j);
    case DType::kFp16:
      return twin_dispatch_kind<DType::kFp16>(j);
    case DType::kBf16:
      return twin_dispatch_kind<DType::kBf16>(j);
  }
}

}  // namespace
}  // namespace detail

Status rmsnorm_twin(const RmsNormArgs& args) {
  const detail::NormJob j = detail::job_of(args);
  KC_RETURN_IF_ERROR(detail::check_job(args, j));
  if (j.rows > 0) detail::run_twin(j);
  return Status::ok();
}

Status fused_add_rmsnorm_twin(const FusedAddRmsNormArgs& args) {
  const detail::NormJob j = detail::job_of(args);
  KC_RETURN_IF_ERROR(detail::check_job(args, j));
  if (j.rows > 0) detail::run_twin(j);
  return Status::ok();
}

}  // namespace kc

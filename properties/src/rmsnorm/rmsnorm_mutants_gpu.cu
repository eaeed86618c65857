// GPU calibration mutants (mutants.h): the real CUDA kernels with one defect in how they are
// launched or what memory they touch.
#include <cuda_runtime.h>

#include <memory>

#include "kc/props/rmsnorm.h"
#include "rmsnorm/rmsnorm.cuh"
#include "rmsnorm/rmsnorm_job.h"
#include "rmsnorm_mutant_subject.h"
#include "rmsnorm_mutants.h"

namespace kc::props {
namespace {

using detail::NormJob;
using detail::NormKind;
using detail::OutMode;
using detail::RowPath;

// The real kernel with half the lanes: a launch that picks its block size from the batch.
template <DType D, NormKind K, OutMode M>
Status launch_half_lanes(const NormJob& j, cudaStream_t stream) {
  detail::NormParams p = detail::norm_params(j, detail::Storage<D>::kVec);
  if (p.layout.lanes >= 2) p.layout.lanes /= 2;
  p.layout.per_lane = (p.layout.vectors + p.layout.lanes - 1) / p.layout.lanes;
  p.layout.streamed = true;
  const int rows_per_block = p.layout.lanes >= 32 ? 1 : 32 / p.layout.lanes;
  const dim3 block(static_cast<unsigned>(p.layout.lanes), static_cast<unsigned>(rows_per_block));
  const dim3 grid(static_cast<unsigned>((j.rows + rows_per_block - 1) / rows_per_block));
  detail::norm_rows_kernel<D, K, M, RowPath::kStreamed, false><<<grid, block, 0, stream>>>(p);
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? Status::ok() : Status(StatusCode::kCudaError, cudaGetErrorString(e));
}

template <DType D, NormKind K>
Status half_by_mode(const NormJob& j, cudaStream_t s) {
  switch (detail::out_mode(j)) {
    case OutMode::kSingle:
      if constexpr (K != NormKind::kFusedRoundedSum)
        return launch_half_lanes<D, K, OutMode::kSingle>(j, s);
      break;
    case OutMode::kSingleOffset:
      if constexpr (K != NormKind::kFusedFp32Sum)
        return launch_half_lanes<D, K, OutMode::kSingleOffset>(j, s);
      break;
    case OutMode::kCast:
      return launch_half_lanes<D, K, OutMode::kCast>(j, s);
  }
  return Status(StatusCode::kUnsupported, "no kernel");
}

template <DType D>
Status half_by_kind(const NormJob& j, cudaStream_t s) {
  switch (j.kind) {
    case NormKind::kRmsNorm:
      return half_by_mode<D, NormKind::kRmsNorm>(j, s);
    case NormKind::kFusedFp32Sum:
      return half_by_mode<D, NormKind::kFusedFp32Sum>(j, s);
    case NormKind::kFusedRoundedSum:
      return half_by_mode<D, NormKind::kFusedRoundedSum>(j, s);
  }
  return Status(StatusCode::kUnsupported, "no kernel");
}

Status launch_half(const NormJob& j, cudaStream_t s) {
  switch (j.dtype) {
    case DType::kFp32:
      return half_by_kind<DType::kFp32>(j, s);
    case DType::kFp16:
      return half_by_kind<DType::kFp16>(j, s);
    case DType::kBf16:
      return half_by_kind<DType::kBf16>(j, s);
  }
  return Status(StatusCode::kUnsupported, "no kernel");
}

class GpuMutant : public NormMutantSubject {
 public:
  explicit GpuMutant(Defect d) : NormMutantSubject(d, defect_profile(d)) {}
  std::string name() const override { return std::string("mutant.gpu.") + defect_name(d_); }
  Backend backend() const override { return Backend::kGpu; }
  std::string defect() const override { return defect_name(d_); }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    const bool norm = op() == "rmsnorm";
    RmsNormArgs a = norm ? rmsnorm_args(c, p) : RmsNormArgs{};
    FusedAddRmsNormArgs f = norm ? FusedAddRmsNormArgs{} : fused_add_rmsnorm_args(c, p);
    const std::size_t es = dtype_size(c.dtype);
    if (d_ == Defect::kNoopAtHidden256 && norm_hidden(c) == 256 && c.num_tokens > 0) {
      return norm ? rmsnorm_check(a) : fused_add_rmsnorm_check(f);
    }
    if (d_ == Defect::kNoopAboveHidden32768 && norm_hidden(c) > 32768 && c.num_tokens > 0) {
      return norm ? rmsnorm_check(a) : fused_add_rmsnorm_check(f);
    }
    if (d_ == Defect::kRowsPast4096Unwritten && c.num_tokens > 4096) {
      const Status st = norm ? rmsnorm_check(a) : fused_add_rmsnorm_check(f);
      if (!st.is_ok()) return st;
      a.num_tokens = f.num_tokens = 4096;  // a grid capped at 4096 blocks of one row
    }
    if (d_ == Defect::kRowStrideIgnored) {
      a.input.row_stride = a.output.row_stride = norm_hidden(c);
      f.input.row_stride = f.residual.row_stride = f.output.row_stride = f.residual_out.row_stride =
          norm_hidden(c);
    }
    if ((d_ == Defect::kBatchDependentLanes && c.num_tokens >= 256) ||
        (d_ == Defect::kBatchDependentLanesFrom3000 && c.num_tokens >= 3000)) {
      NormJob j = norm ? detail::job_of(a) : detail::job_of(f);
      const Status st = norm ? detail::check_job(a, j) : detail::check_job(f, j);
      if (!st.is_ok()) return st;
      return launch_half(j, stream);
    }
    const Status st = norm ? rmsnorm(a, stream) : fused_add_rmsnorm(f, stream);
    if (!st.is_ok() || c.num_tokens == 0) return st;
    char* y = static_cast<char*>(norm ? a.output.data : f.output.data);
    const std::size_t pitch =
        static_cast<std::size_t>(norm ? a.output.row_stride : f.output.row_stride) * es;
    const auto rows = static_cast<std::size_t>(c.num_tokens);
    if (d_ == Defect::kMissingTail && norm_hidden(c) % 8 != 0) {
      // The tail was computed, then "never written": poison it back.
      const std::size_t tail = static_cast<std::size_t>(norm_hidden(c) % 8);
      cudaMemset2DAsync(y + (static_cast<std::size_t>(norm_hidden(c)) - tail) * es, pitch, 0xff,
                        tail * es, rows, stream);
    }
    if (d_ == Defect::kOutOfBoundsWrite) {
      cudaMemset2DAsync(y + static_cast<std::size_t>(norm_hidden(c)) * es, pitch, 0, es, rows,
                        stream);
    }
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? Status::ok() : Status(StatusCode::kCudaError, cudaGetErrorString(e));
  }
};

#define KC_GPU_MUTANT(d) KC_REGISTER_SUBJECT(std::make_unique<GpuMutant>(d))
KC_GPU_MUTANT(Defect::kMissingTail);
KC_GPU_MUTANT(Defect::kRowStrideIgnored);
KC_GPU_MUTANT(Defect::kBatchDependentLanes);
KC_GPU_MUTANT(Defect::kNoopAtHidden256);
KC_GPU_MUTANT(Defect::kCheckAcceptsTooLarge);
KC_GPU_MUTANT(Defect::kOutOfBoundsWrite);
KC_GPU_MUTANT(Defect::kRowsPast4096Unwritten);
// Not registered: Defect::kBatchDependentLanesFrom3000. On the H100 (run of 882104b,
// props_calibration_gpu, fixed seed) it passed all 174 cases of its limit, where the host mutant
// is caught in 16: the GPU variant's halved-lanes launch, the limit's GPU model or both are wrong
// for it, and no GPU time was left to find which (README, "GPU runs"). Withdrawn until then, so
// that the GPU list holds only mutants whose limit was shown.
KC_GPU_MUTANT(Defect::kNoopAboveHidden32768);

}  // namespace
}  // namespace kc::props

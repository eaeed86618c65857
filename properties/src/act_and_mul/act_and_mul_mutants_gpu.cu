// GPU calibration mutants of the act_and_mul family (act_and_mul_mutants.h): the real CUDA kernel
// with one defect in how it is launched or what memory it touches.
#include <cuda_runtime.h>

#include <memory>

#include "act_and_mul/act_and_mul.cuh"
#include "act_and_mul/act_and_mul_job.h"
#include "act_and_mul_mutants.h"
#include "common/launch.h"
#include "kc/props/act_and_mul.h"

namespace kc::props {
namespace {

using detail::ActParams;

// The element-path kernel over `units` elements of each row (units < d: the tail is dropped), or
// a launch of zero blocks for an empty batch.
template <DType D>
Status launch_silu_elements(const ActAndMulArgs& a, std::int64_t units, cudaStream_t stream) {
  int dev = 0, sms = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  const detail::ActLaunchShape shape = detail::act_launch_shape(a.num_tokens, a.d, D, false, sms);
  const ActParams p{
      a.input.data, a.input.row_stride, a.output.data, a.output.row_stride, a.num_tokens, a.d,
      units};
  const dim3 grid(static_cast<unsigned>(shape.gx),
                  a.num_tokens == 0 ? 0u : static_cast<unsigned>(shape.gy));
  const dim3 block(static_cast<unsigned>(shape.tx), static_cast<unsigned>(shape.ty));
  detail::act_and_mul_kernel<detail::Silu, ActRounding::kSingle, D, false>
      <<<grid, block, 0, stream>>>(p);
  return Status::ok();  // the defect: the launch's error is neither read nor returned
}

class GpuActMutant : public ActMutantSubject {
 public:
  GpuActMutant(ActDefect d, std::string profile) : ActMutantSubject(d, std::move(profile)) {}
  std::string name() const override { return std::string("mutant.gpu.act.") + act_defect_name(d_); }
  Backend backend() const override { return Backend::kGpu; }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    ActAndMulArgs a = act_and_mul_args(c, p);
    switch (d_) {
      case ActDefect::kZeroBlockLaunch:
        if (a.num_tokens != 0) return act_and_mul(a, stream);
        return launch_typed(a, a.d, stream);
      case ActDefect::kMissingTail:
        KC_RETURN_IF_ERROR(act_and_mul_check(a));
        if (a.num_tokens == 0) return Status::ok();
        return launch_typed(a, a.d - a.d % 8, stream);
      case ActDefect::kOutputStrideIgnored:
        KC_RETURN_IF_ERROR(act_and_mul_check(a));
        a.output.row_stride = a.d;
        return act_and_mul(a, stream);
      default:
        return act_and_mul(a, stream);
    }
  }

 private:
  static Status launch_typed(const ActAndMulArgs& a, std::int64_t units, cudaStream_t s) {
    switch (a.input.dtype) {
      case DType::kFp32:
        return launch_silu_elements<DType::kFp32>(a, units, s);
      case DType::kFp16:
        return launch_silu_elements<DType::kFp16>(a, units, s);
      case DType::kBf16:
        break;
    }
    return launch_silu_elements<DType::kBf16>(a, units, s);
  }
};

const struct Registrar {
  Registrar() {
    for (ActDefect d : kActGpuDefects) {
      register_subject(std::make_unique<GpuActMutant>(d, act_defect_profile(d)));
    }
  }
} kRegistrar;

}  // namespace

}  // namespace kc::props

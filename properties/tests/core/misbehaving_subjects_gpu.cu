// GPU subjects that misbehave, for the isolation tests on a GPU: kconform's rmsnorm.fp32 kernel
// followed by a kernel that writes past the output arena (into the device canary zone, or far
// away: an illegal address, a sticky error that destroys the CUDA context), or that never ends.
// Registered only into the test-only executable kconform_misbehaving, never into kconform.
#include <cuda_runtime.h>

#include <cstdint>

#include "kc/props/buffers.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

__global__ void poke(unsigned char* p) { *p = 0; }

__device__ unsigned g_release = 0;  // never set: spin_forever never returns
__global__ void spin_forever() {
  while (*static_cast<volatile unsigned*>(&g_release) == 0) {
  }
}

enum class GpuMisbehaviour : std::uint8_t {
  kZoneWrite,  // from 3 tokens on: one byte 64 KiB past the output's elements (canary zone)
  kFarWrite,   // from 3 tokens on: one byte 64 GiB past them (an illegal address)
  kHang,       // from 2 tokens of 2 elements on: a kernel that never ends
};

class GpuMisbehaving : public Subject {
 public:
  GpuMisbehaving(GpuMisbehaviour m, const char* name) : m_(m), name_(name) {}
  std::string name() const override { return name_; }
  std::string op() const override { return "rmsnorm"; }
  std::string profile() const override { return "rmsnorm.fp32"; }
  Backend backend() const override { return Backend::kGpu; }
  Promises promises() const override {
    Promises p;
    p.empty_batch = false;
    return p;
  }
  BoundSpec bound() const override {
    BoundSpec b;
    b.derivation = "kconform's kernel (NormKernelBound)";
    return b;
  }
  Status check(const Case& c) const override {
    return rmsnorm_check(rmsnorm_args(c, placeholder_pointers(c)));
  }
  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    const RmsNormArgs a = rmsnorm_args(c, p);
    const Status st = rmsnorm(a, stream);
    if (!st.is_ok() || c.num_tokens == 0) return st;
    const std::size_t span =
        static_cast<std::size_t>((c.num_tokens - 1) * a.output.row_stride + a.hidden) *
        dtype_size(c.dtype);
    auto* out = static_cast<unsigned char*>(a.output.data);
    switch (m_) {
      case GpuMisbehaviour::kZoneWrite:
        if (c.num_tokens >= 3) poke<<<1, 1, 0, stream>>>(out + span + (std::size_t{64} << 10));
        break;
      case GpuMisbehaviour::kFarWrite:
        if (c.num_tokens >= 3) poke<<<1, 1, 0, stream>>>(out + span + (std::size_t{64} << 30));
        break;
      case GpuMisbehaviour::kHang:
        if (c.num_tokens >= 2 && a.hidden >= 2) spin_forever<<<1, 1, 0, stream>>>();
        break;
    }
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? Status::ok() : Status(StatusCode::kCudaError, cudaGetErrorString(e));
  }

 private:
  GpuMisbehaviour m_;
  const char* name_;
};

KC_REGISTER_SUBJECT(std::make_unique<GpuMisbehaving>(GpuMisbehaviour::kZoneWrite,
                                                     "test.gpu.zone_write"));
KC_REGISTER_SUBJECT(std::make_unique<GpuMisbehaving>(GpuMisbehaviour::kFarWrite,
                                                     "test.gpu.far_write"));
KC_REGISTER_SUBJECT(std::make_unique<GpuMisbehaving>(GpuMisbehaviour::kHang, "test.gpu.hang"));

}  // namespace
}  // namespace kc::props

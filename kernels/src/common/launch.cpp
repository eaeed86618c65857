// Host-side launch helpers (launch.h).
#include "common/launch.h"

#include <cuda_runtime.h>

#include <atomic>
#include <string>

namespace kc::detail {

Status device_info(const char* op, DeviceInfo* out) {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> sms[kMaxDevices];
  static std::atomic<int> major[kMaxDevices];
  int dev = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess && (dev < 0 || dev >= kMaxDevices)) e = cudaErrorInvalidDevice;
  if (e == cudaSuccess && sms[dev].load() == 0) {
    int s = 0;
    int m = 0;
    e = cudaDeviceGetAttribute(&s, cudaDevAttrMultiProcessorCount, dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&m, cudaDevAttrComputeCapabilityMajor, dev);
    if (e == cudaSuccess) {
      major[dev].store(m);
      sms[dev].store(s);
    }
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return Status(StatusCode::kCudaError,
                  std::string(op) + ": cannot query the current device: " + cudaGetErrorString(e));
  }
  out->sms = sms[dev].load();
  out->major = major[dev].load();
  return Status::ok();
}

Status launch_kernel(const char* op, const void* kernel, dim3 grid, dim3 block,
                     std::size_t smem_bytes, cudaStream_t stream, Pdl pdl, const DeviceInfo& dev,
                     void** args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem_bytes;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  if (pdl == Pdl::kAuto && dev.major >= 9) {
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
  }
  const cudaError_t e = cudaLaunchKernelExC(&cfg, kernel, args);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // launch-configuration errors are not sticky: clear them
    return Status(StatusCode::kCudaError,
                  std::string(op) + ": kernel launch failed: " + cudaGetErrorString(e));
  }
  return Status::ok();
}

}  // namespace kc::detail

// Device mirrors of case arenas.
#include "kc/props/device.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace kc::props {

bool gpu_available() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) (void)cudaGetLastError();
  return e == cudaSuccess && n > 0;
}

DeviceCase::~DeviceCase() {
  for (void* p : raw_) (void)cudaFree(p);
}

bool DeviceCase::upload(const CaseBuffers& host, std::string* error) {
  for (const HostTensor& t : host.owned) {
    void* raw = nullptr;
    cudaError_t e = cudaMalloc(&raw, t.storage.size() + 256);
    if (e != cudaSuccess) {
      *error = std::string("cudaMalloc: ") + cudaGetErrorString(e);
      return false;
    }
    raw_.push_back(raw);
    // Put host storage byte `base` (256-byte aligned on the host) on a 256-byte device boundary.
    const auto want = reinterpret_cast<std::uintptr_t>(raw) + t.base;
    const std::uintptr_t aligned = (want + 255) / 256 * 256;
    char* origin = reinterpret_cast<char*>(aligned - t.base);
    origin_.push_back(origin);
    e = cudaMemcpy(origin, t.storage.data(), t.storage.size(), cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
      *error = std::string("cudaMemcpy to device: ") + cudaGetErrorString(e);
      return false;
    }
  }
  // A copy from pageable memory may return before its DMA has landed, and the subjects run on
  // non-blocking streams that do not wait for the legacy stream: without this wait a kernel can
  // read inputs half uploaded and the canaries can land on top of its outputs (seen on the
  // H100: unwritten and nondeterministic elements in every property).
  const cudaError_t e = cudaStreamSynchronize(cudaStreamLegacy);
  if (e != cudaSuccess) {
    *error = std::string("upload: ") + cudaGetErrorString(e);
    return false;
  }
  return true;
}

std::vector<void*> DeviceCase::pointers(const CaseBuffers& host, std::size_t roles) const {
  std::vector<void*> p(roles);
  for (std::size_t r = 0; r < roles; ++r) {
    const auto idx = static_cast<std::size_t>(host.storage_of[r]);
    p[r] = origin_[idx] + host.owned[idx].begin;
  }
  return p;
}

bool DeviceCase::download(CaseBuffers& host, std::string* error) const {
  for (std::size_t i = 0; i < host.owned.size(); ++i) {
    HostTensor& t = host.owned[i];
    const cudaError_t e =
        cudaMemcpy(t.storage.data(), origin_[i], t.storage.size(), cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
      *error = std::string("cudaMemcpy to host: ") + cudaGetErrorString(e);
      return false;
    }
  }
  return true;
}

}  // namespace kc::props

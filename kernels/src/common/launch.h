// Host-side launch helpers shared by every op family's launcher: the device's properties (read
// once per device), the 16-byte alignment test of a batch of rows, and one kernel launch with
// programmatic dependent launch (PDL) when asked and available, whose failure becomes a Status
// and leaves no CUDA error pending.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kc/kernels/status.h"
#include "kc/kernels/tensor.h"

namespace kc::detail {

struct DeviceInfo {
  int sms = 0;
  int major = 0;
};

// The current device's SM count and compute capability major, read once per device. A failed
// query is a kCudaError Status naming `op` (and clears the error).
Status device_info(const char* op, DeviceInfo* out);

inline constexpr std::int64_t kMaxGrid = 0x7fffffff;  // gridDim.x limit

// Every row of a batch starts on a 16-byte boundary: the base and the row stride in bytes.
inline bool aligned16(const void* p, std::int64_t stride, std::size_t elem) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 &&
         (static_cast<std::uint64_t>(stride) * elem) % 16 == 0;
}

// Launches `kernel` (a __global__ function's address) with the given shape on `stream`, with the
// PDL attribute when pdl == Pdl::kAuto and the device is sm_90 or later. A launch-configuration
// error (not sticky) is cleared and returned as kCudaError naming `op`.
Status launch_kernel(const char* op, const void* kernel, dim3 grid, dim3 block,
                     std::size_t smem_bytes, cudaStream_t stream, Pdl pdl, const DeviceInfo& dev,
                     void** args);

}  // namespace kc::detail

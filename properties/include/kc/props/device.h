// Device copies of a case's host arenas, byte for byte and with the same alignment classes, so a
// GPU run can be compared with a twin run over whole arenas (data, canaries and padding). Each
// device arena sits between wide canary zones of its own (kDeviceZoneBytes): a kernel's write
// beyond the host canaries lands there and is reported with its offset, instead of landing
// silently in another allocation.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <vector>

#include "kc/props/buffers.h"

namespace kc::props {

// True when a usable CUDA device is present (cached). Where this process has not initialised
// CUDA yet, the answer comes from a forked child, so that this process stays free of CUDA state
// and can fork children that use the GPU (check.h, Isolation): a CUDA runtime initialised before
// fork() is unusable in the child.
bool gpu_available();
// Whether this process has initialised CUDA (it holds the driver's device files open).
bool cuda_initialized_here();
// Whether a sticky CUDA error (an illegal address, a kernel fault) has destroyed this process's
// CUDA context: every later CUDA call fails, so no later case can run here.
bool cuda_context_lost();
void set_cuda_context_lost();

inline constexpr std::size_t kDeviceZoneBytes = std::size_t{128} << 10;
inline constexpr unsigned char kDeviceZoneByte = 0x5a;

class DeviceCase {
 public:
  DeviceCase() = default;
  DeviceCase(const DeviceCase&) = delete;
  DeviceCase& operator=(const DeviceCase&) = delete;
  ~DeviceCase();

  // Allocates and uploads every owned arena of `host`, between canary zones; returns once the
  // data is on the device (visible to any stream). False (with *error) on a CUDA failure.
  bool upload(const CaseBuffers& host, std::string* error);
  // Device pointers of each tensor role, at the same element offsets as the host's.
  std::vector<void*> pointers(const CaseBuffers& host, std::size_t roles) const;
  // Copies every arena back over the host's.
  bool download(CaseBuffers& host, std::string* error) const;
  // Canary-zone bytes a run changed: "output@byte70000" (from the tensor's element (0, 0)), at
  // most 8; empty when intact. False (with *error) on a CUDA failure.
  bool zone_damage(const CaseBuffers& host, std::vector<std::string>* damage,
                   std::string* error) const;

 private:
  std::vector<void*> raw_;          // cudaMalloc results
  std::vector<std::size_t> bytes_;  // their sizes
  std::vector<char*> origin_;       // device address of host storage byte 0, per arena
};

}  // namespace kc::props

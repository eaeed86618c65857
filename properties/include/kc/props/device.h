// Device copies of a case's host arenas, byte for byte and with the same alignment classes, so a
// GPU run can be compared with a twin run over whole arenas (data, canaries and padding).
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "kc/props/buffers.h"

namespace kc::props {

// True when a usable CUDA device is present.
bool gpu_available();

class DeviceCase {
 public:
  DeviceCase() = default;
  DeviceCase(const DeviceCase&) = delete;
  DeviceCase& operator=(const DeviceCase&) = delete;
  ~DeviceCase();

  // Allocates and uploads every owned arena of `host`; returns once the data is on the device
  // (visible to any stream). False (with *error) on a CUDA failure.
  bool upload(const CaseBuffers& host, std::string* error);
  // Device pointers of each tensor role, at the same element offsets as the host's.
  std::vector<void*> pointers(const CaseBuffers& host, std::size_t roles) const;
  // Copies every arena back over the host's.
  bool download(CaseBuffers& host, std::string* error) const;

 private:
  std::vector<void*> raw_;     // cudaMalloc results
  std::vector<char*> origin_;  // device address of host storage byte 0, per arena
};

}  // namespace kc::props

// Device mirrors of case arenas, GPU detection without CUDA in this process, and the state of
// this process's CUDA context (device.h).
#include "kc/props/device.h"

#include <cuda_runtime.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace kc::props {
namespace {

std::atomic<bool> g_context_lost{false};

bool probe_in_process() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) (void)cudaGetLastError();
  return e == cudaSuccess && n > 0;
}

// The probe in a child process (exit status 0: a device is there). Where fork fails, here.
bool probe_in_child() {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return probe_in_process();
  if (pid == 0) _exit(probe_in_process() ? 0 : 1);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

bool cuda_initialized_here() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = readdir(d)) {
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    char target[256];
    const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::strncmp(target, "/dev/nvidia", 11) == 0) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

bool gpu_available() {
  static const bool present = cuda_initialized_here() ? probe_in_process() : probe_in_child();
  return present;
}

bool cuda_context_lost() { return g_context_lost.load(); }
void set_cuda_context_lost() { g_context_lost.store(true); }

DeviceCase::~DeviceCase() {
  for (void* p : raw_) (void)cudaFree(p);
}

bool DeviceCase::upload(const CaseBuffers& host, std::string* error) {
  for (const HostTensor& t : host.owned) {
    void* raw = nullptr;
    const std::size_t bytes = t.storage.size() + 256 + 2 * kDeviceZoneBytes;
    cudaError_t e = cudaMalloc(&raw, bytes);
    if (e != cudaSuccess) {
      *error = std::string("cudaMalloc: ") + cudaGetErrorString(e);
      return false;
    }
    raw_.push_back(raw);
    bytes_.push_back(bytes);
    // Put host storage byte `base` (256-byte aligned on the host) on a 256-byte device boundary,
    // after a canary zone of at least kDeviceZoneBytes.
    const auto want = reinterpret_cast<std::uintptr_t>(raw) + kDeviceZoneBytes + t.base;
    const std::uintptr_t aligned = (want + 255) / 256 * 256;
    char* origin = reinterpret_cast<char*>(aligned - t.base);
    origin_.push_back(origin);
    e = cudaMemset(raw, kDeviceZoneByte, bytes);
    if (e == cudaSuccess) {
      e = cudaMemcpy(origin, t.storage.data(), t.storage.size(), cudaMemcpyHostToDevice);
    }
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

bool DeviceCase::zone_damage(const CaseBuffers& host, std::vector<std::string>* damage,
                             std::string* error) const {
  std::vector<unsigned char> zone;
  static const std::vector<unsigned char> intact(2 * kDeviceZoneBytes + 512, kDeviceZoneByte);
  for (std::size_t i = 0; i < host.owned.size(); ++i) {
    const HostTensor& t = host.owned[i];
    char* raw = static_cast<char*>(raw_[i]);
    char* after = origin_[i] + t.storage.size();
    const struct {
      char* from;
      std::size_t bytes;
    } zones[] = {{raw, static_cast<std::size_t>(origin_[i] - raw)},
                 {after, static_cast<std::size_t>(raw + bytes_[i] - after)}};
    for (const auto& z : zones) {
      zone.resize(z.bytes);
      const cudaError_t e = cudaMemcpy(zone.data(), z.from, z.bytes, cudaMemcpyDeviceToHost);
      if (e != cudaSuccess) {
        *error = std::string("cudaMemcpy of a canary zone: ") + cudaGetErrorString(e);
        return false;
      }
      if (z.bytes <= intact.size() && std::memcmp(zone.data(), intact.data(), z.bytes) == 0) {
        continue;
      }
      for (std::size_t k = 0; k < z.bytes; ++k) {
        if (zone[k] == kDeviceZoneByte) continue;
        const long long rel = static_cast<long long>((z.from + k) - (origin_[i] + t.begin));
        damage->push_back(std::string(t.name) + "@byte" + std::to_string(rel));
        if (damage->size() >= 8) return true;
        break;  // the first changed byte of each zone
      }
    }
  }
  return true;
}

}  // namespace kc::props

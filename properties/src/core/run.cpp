// Running a subject on a case (run.h).
#include "run.h"

#include <cuda_runtime.h>

#include "kc/props/device.h"
#include "kc/props/family.h"

namespace kc::props {
namespace {

cudaStream_t harness_stream() {
  thread_local cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    if (cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) != cudaSuccess) {
      (void)cudaGetLastError();
      st = nullptr;
    }
    return st;
  }();
  return s;
}

}  // namespace

RunOutcome execute(const Subject& s, const Case& c, CaseBuffers& b, bool null_pointers,
                   bool graph) {
  RunOutcome out;
  const std::size_t tensors = find_op(c.op)->tensors.size();
  if (s.backend() == Backend::kHost) {
    std::vector<void*> ptr =
        null_pointers ? std::vector<void*>(tensors, nullptr) : host_pointers(b, tensors);
    label_guard_zones(b);  // a wild access faults in a guard zone named after its tensor
    out.status = s.run(c, ptr, nullptr);
    return out;
  }
  if (!gpu_available()) {
    out.infra_error = "no usable CUDA device";
    return out;
  }
  if (cuda_context_lost()) {
    out.infra_error = "the CUDA context was lost by an earlier case (a sticky error)";
    return out;
  }
  DeviceCase dev;
  if (!dev.upload(b, &out.infra_error)) return out;
  std::vector<void*> ptr =
      null_pointers ? std::vector<void*>(tensors, nullptr) : dev.pointers(b, tensors);
  cudaStream_t stream = harness_stream();
  if (graph) {
    cudaGraph_t g = nullptr;
    if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
      out.infra_error = "cudaStreamBeginCapture failed";
      (void)cudaGetLastError();
      return out;
    }
    out.status = s.run(c, ptr, stream);
    const cudaError_t e = cudaStreamEndCapture(stream, &g);
    if (e != cudaSuccess) {
      out.cuda_error = std::string("stream capture: ") + cudaGetErrorString(e);
      (void)cudaGetLastError();
      return out;
    }
    std::size_t nodes = 0;
    cudaGraphGetNodes(g, nullptr, &nodes);
    out.graph_nodes = static_cast<long>(nodes);
    if (nodes > 0) {
      cudaGraphExec_t ex = nullptr;
      if (cudaGraphInstantiate(&ex, g, 0) == cudaSuccess) {
        cudaGraphLaunch(ex, stream);
        cudaGraphExecDestroy(ex);
      }
    }
    cudaGraphDestroy(g);
  } else {
    out.status = s.run(c, ptr, stream);
  }
  cudaError_t e = cudaStreamSynchronize(stream);
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e != cudaSuccess) {
    out.cuda_error = cudaGetErrorString(e);
    // A sticky error (illegal address, a kernel fault) survives clearing: every later call
    // fails with it, and only a new process has a usable context.
    (void)cudaGetLastError();
    if (cudaDeviceSynchronize() != cudaSuccess) {
      out.context_lost = true;
      set_cuda_context_lost();
      out.cuda_error += " (a sticky error: the CUDA context is lost)";
      return out;
    }
  }
  if (!dev.download(b, &out.infra_error)) return out;
  if (!dev.zone_damage(b, &out.zone_damage, &out.infra_error)) return out;
  return out;
}

std::string run_problem(const RunOutcome& r) {
  if (!r.infra_error.empty()) return "harness: " + r.infra_error;
  if (!r.cuda_error.empty()) return "CUDA error after the run: " + r.cuda_error;
  if (!r.zone_damage.empty()) {
    return "wrote outside its tensors: " + r.zone_damage.front() +
           " (in the device canary zone around its arena)";
  }
  return "";
}

}  // namespace kc::props

// Device side of programmatic dependent launch (sm_90+), for every family's kernels: a kernel
// waits for the previous grid on its stream before its first global access, then lets the next
// grid launch (which waits in turn for this one to complete). No-ops below sm_90.
#pragma once

namespace kc::detail {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

}  // namespace kc::detail

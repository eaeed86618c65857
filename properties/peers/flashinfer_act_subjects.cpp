// FlashInfer's gated activations as peer subjects (compiled in when KC_FLASHINFER_INCLUDE is set):
//
//   flashinfer.act_and_mul.silu       silu_and_mul       claims act_and_mul.silu.single
//   flashinfer.act_and_mul.gelu       gelu_and_mul       claims act_and_mul.gelu.single
//   flashinfer.act_and_mul.gelu_tanh  gelu_tanh_and_mul  claims act_and_mul.gelu_tanh.single
//
// What each computes (flashinfer_act.cu cites the sources): per element, in fp32 built with
// -use_fast_math, a = act32(g), y = T(a * u): one rounding to the storage type, hence `single`.
// act32 is an fp32 formula with approximate operations, so the claim is bounded error, not bits.
//
// Bound: BoundSpec::kUlps, the flat ULPs and N of the rules "act_tail_to_zero" and
// "act_absolute_2^-N" derived in flashinfer_act_bound.h (silu 0.50031 bf16 / 0.50244 fp16 ULP and
// N = 24; gelu 0.50009 / 0.50073, N = 21; gelu_tanh 0.50009 / 0.50073, N = 15).
//
// Supported calls (check): FlashInfer's kernel takes contiguous rows (input [T, 2d], output
// [T, d], no strides; a single row may have any stride), pointers aligned to its vector width
// (flashinfer_act_vec: 16 / sizeof(T), 4, 2 or 1 elements, whichever divides d first), fp16 and
// bf16 (its binding dispatches those two only), 1 <= d < 2^31 (d is an int in its launcher),
// 1 <= num_tokens < 2^31 (one block per row). num_tokens == 0 is rejected and not promised
// (Promises::empty_batch): FlashInfer launches an empty grid, which CUDA refuses, and its launcher
// raises on the launch error (cudaGetLastError, TVM_FFI_ICHECK); props_flashinfer_act asserts the
// refusal on the GPU.
#include <cmath>
#include <cstdint>
#include <string>

#include "flashinfer_act.h"
#include "flashinfer_act_bound.h"
#include "flashinfer_norm.h"
#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

using peers::FlashInferAct;

const char* act_name(FlashInferAct a) {
  switch (a) {
    case FlashInferAct::kSilu:
      return "silu";
    case FlashInferAct::kGelu:
      return "gelu";
    case FlashInferAct::kGeluTanh:
      break;
  }
  return "gelu_tanh";
}

class FlashInferActSubject : public Subject {
 public:
  explicit FlashInferActSubject(FlashInferAct act) : act_(act) {}
  std::string name() const override {
    return std::string("flashinfer.act_and_mul.") + act_name(act_);
  }
  std::string op() const override { return kActFamily; }
  std::string profile() const override {
    return std::string("act_and_mul.") + act_name(act_) + ".single";
  }
  Backend backend() const override { return Backend::kGpu; }
  std::vector<DType> dtypes() const override { return {DType::kFp16, DType::kBf16}; }
  bool peer() const override { return true; }
  // Contiguous, aligned layouts only: about a fifth of the generated cases apply.
  int budget_scale() const override { return 4; }
  Promises promises() const override {
    Promises p;
    p.empty_batch = false;  // see the header comment
    return p;
  }
  BoundSpec bound() const override { return bound_for(DType::kFp16); }
  BoundSpec bound_for(DType d) const override {
    const int n = peers::flashinfer_act_absolute_n(act_);
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = peers::flashinfer_act_flat_ulps(act_, d == DType::kFp16 ? 11 : 8);
    b.rules = {kActTailRuleName, std::string(kActAbsolutePrefix) + std::to_string(n)};
    b.derivation = std::string("FlashInfer ") + peers::flashinfer_version() +
                   ", -use_fast_math: fp32 formula with approximate exp/division/tanh, one "
                   "rounding, subnormals flushed (properties/peers/flashinfer_act_subjects.cpp)";
    return b;
  }

  Status check(const Case& c) const override { return check_layout(c, placeholder_pointers(c)); }

  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    KC_RETURN_IF_ERROR(check_layout(c, p));
    const cudaError_t e = peers::flashinfer_act_and_mul(act_, c.dtype, p[ActAndMulTensors::kOutput],
                                                        p[ActAndMulTensors::kInput], c.num_tokens,
                                                        act_d(c), Pdl::kOff, stream);
    if (e != cudaSuccess) {
      return Status(StatusCode::kCudaError, name() + ": FlashInfer's launch returned " +
                                                cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                                                ")");
    }
    return Status::ok();
  }

 private:
  // The family's rule names (properties/src/act_and_mul/act_and_mul_family.h, kept in step).
  static constexpr const char* kActTailRuleName = "act_tail_to_zero";
  static constexpr const char* kActAbsolutePrefix = "act_absolute_2^-";

  Status unsupported(const std::string& what) const {
    return Status(StatusCode::kUnsupported, name() + ": " + what);
  }
  Status invalid(const std::string& what) const {
    return Status(StatusCode::kInvalidArgument, name() + ": " + what);
  }

  Status check_layout(const Case& c, const std::vector<void*>& p) const {
    const std::int64_t d = act_d(c);
    if (c.dtype != DType::kFp16 && c.dtype != DType::kBf16) {
      return unsupported(std::string("dtype ") + dtype_name(c.dtype) +
                         "; FlashInfer's act_and_mul binding dispatches fp16 and bf16 only");
    }
    if (d < 1) return invalid("d = " + std::to_string(d) + "; d must be >= 1");
    if (d > 0x7fffffff) {
      return unsupported("d = " + std::to_string(d) + "; FlashInfer's launcher holds d in an int");
    }
    if (c.num_tokens < 0) {
      return invalid("num_tokens = " + std::to_string(c.num_tokens) + " is negative");
    }
    if (c.num_tokens == 0) {
      return unsupported(
          "num_tokens = 0; FlashInfer launches an empty grid, which CUDA refuses (its launcher "
          "raises)");
    }
    if (c.num_tokens > 0x7fffffff) {
      return unsupported("num_tokens = " + std::to_string(c.num_tokens) +
                         "; FlashInfer launches one block per row (gridDim.x < 2^31)");
    }
    const std::int64_t want[2] = {2 * d, d};
    const char* names[2] = {"input", "output"};
    const std::int64_t vec = peers::flashinfer_act_vec(c.dtype, d);
    const std::int64_t align = vec * static_cast<std::int64_t>(dtype_size(c.dtype));
    for (int t = 0; t < 2; ++t) {
      const std::int64_t stride = c.tensors[static_cast<std::size_t>(t)].row_stride;
      if (stride < want[t]) {
        return invalid(std::string(names[t]) + " row stride " + std::to_string(stride) + " < " +
                       std::to_string(want[t]));
      }
      if (c.num_tokens > 1 && stride != want[t]) {
        return unsupported(std::string(names[t]) + " row stride " + std::to_string(stride) +
                           " != " + std::to_string(want[t]) +
                           "; FlashInfer's kernel takes contiguous rows (no stride)");
      }
      if (reinterpret_cast<std::uintptr_t>(p[static_cast<std::size_t>(t)]) %
              static_cast<std::uintptr_t>(align) !=
          0) {
        return unsupported(std::string(names[t]) + " address not a multiple of " +
                           std::to_string(align) + " bytes; FlashInfer loads " +
                           std::to_string(vec) + "-element vectors for d = " + std::to_string(d));
      }
    }
    return Status::ok();
  }

  FlashInferAct act_;
};

KC_REGISTER_SUBJECT(std::make_unique<FlashInferActSubject>(FlashInferAct::kSilu));
KC_REGISTER_SUBJECT(std::make_unique<FlashInferActSubject>(FlashInferAct::kGelu));
KC_REGISTER_SUBJECT(std::make_unique<FlashInferActSubject>(FlashInferAct::kGeluTanh));

}  // namespace
}  // namespace kc::props

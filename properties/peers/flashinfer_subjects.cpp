// FlashInfer's norm kernels as peer subjects (compiled in when KC_FLASHINFER_INCLUDE is set):
//
//   flashinfer.rmsnorm            flashinfer::norm::RMSNorm          claims rmsnorm.fp32
//   flashinfer.gemma_rmsnorm      flashinfer::norm::GemmaRMSNorm     claims rmsnorm.gemma
//   flashinfer.fused_add_rmsnorm  flashinfer::norm::FusedAddRMSNorm  claims
//   fused_add_rmsnorm.fp32_sum
//
// What each computes (read from include/flashinfer/norm.cuh; ../shared background notes 2.5):
// one CTA per row, vec = gcd(8, d) elements per vector access, min(1024, d / vec) threads;
// ss = sum of squares in fp32 (each thread sequentially over its vectors, then a warp butterfly,
// then a butterfly over the per-warp sums); r = rsqrt.approx.ftz(ss / d + eps);
// y = T(x r (bias + w)) with bias 0 or 1. The fused kernel forms x = fp32(input) + fp32(residual),
// stores T(x) to residual and normalises the fp32 x (kept in shared memory). FlashInfer's JIT
// compiles this with -use_fast_math, and so does kconform (flashinfer_norm.h): the division is
// approximate and every fp32 operation flushes subnormals.
//
// Bound (BoundSpec::kUlps with the norm family's "flush_to_zero" rule), derived like
// NormKernelBound (properties/src/rmsnorm/rmsnorm_bound.h);
// u = 2^-24, gamma(k) = k u / (1 - k u), compose(a, b) = a + b + a b:
//  1. z: x exactly; for the fused kernel fl(x + r): theta_z = u, theta_z^2 = 2u + u^2.
//  2. Sum of squares: a thread adds at most vec * ceil(d / (vec * 1024)) <= d / 1024 + 8 <= 72
//     terms (d <= 65536) in sequence (fma, one rounding each), then 5 + 5 butterfly levels:
//     theta_ss = gamma(82). Flushed squares and partial sums lose < 2^-126 each, at most 2n of
//     them, against n q >= n 2^-100 in the bounded regime: 2^-25 more on q.
//  3. q = fl(div(ss, d) + eps): the fast-math division is within 2 ulp (relative 2^-22, CUDA
//     Programming Guide, intrinsic functions table: __fdividef/x/y under -prec-div=false),
//     theta_q = compose(theta_ss, theta_z^2, 2^-22, u) + 2^-25.
//  4. r = rsqrt.approx.ftz(q): 2 ulp (relative 2^-22; rsqrtf's documented maximum, which
//     props_flashinfer_math measures exhaustively on the GPU): theta_r =
//     compose(1 / sqrt(1 - theta_q) - 1, 2^-22).
//  5. b = fl(fl(z r) w'), w' = w or fl(1 + w): theta_b = compose(theta_z, theta_r, u, u, [u]).
//  6. y = rn_T(b): |y - v| <= ulp(v)/2 + 2 |b - v| <= (0.5 + 2 theta_b 2^p) ulp(v), p = 11 for
//     fp16, 8 for bf16: 0.513 ulp (fp16), 0.502 ulp (bf16) at the largest theta_b.
//  7. Flush to zero: any value of the path below 2^-126 may become a zero (the norm family's
//     flush_to_zero rule, properties/src/rmsnorm/rmsnorm_family.h); bf16 subnormal inputs and
//     weights are the visible case (fp16 subnormals are normal fp32 numbers).
//
// Supported calls (check): every rule below is FlashInfer's, read from its launchers, except
// the eps rule, which keeps the calls inside the profiles' domain (FlashInfer does not check
// eps). num_tokens == 0 is rejected here and not promised (Promises::empty_batch): FlashInfer
// launches an empty grid, which CUDA refuses, leaving the error pending and invalidating a
// stream capture; props_flashinfer_peer (KnownDefects) asserts exactly that on the GPU.
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>

#include "flashinfer_norm.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/rmsnorm.h"
#include "kc/props/subject.h"

namespace kc::props {
namespace {

using peers::FlashInferNorm;

constexpr double kU = 0x1p-24;
double gamma(double k) { return k * kU / (1 - k * kU); }
double compose(double a, double b) { return a + b + a * b; }

// Shared memory of FusedAddRMSNorm, and the most a block may opt into on sm_90 (227 KiB).
constexpr std::int64_t kMaxDynamicSmem = 227 * 1024;

class FlashInferSubject : public Subject {
 public:
  explicit FlashInferSubject(FlashInferNorm op) : op_(op) {}
  std::string name() const override {
    switch (op_) {
      case FlashInferNorm::kRmsNorm:
        return "flashinfer.rmsnorm";
      case FlashInferNorm::kGemmaRmsNorm:
        return "flashinfer.gemma_rmsnorm";
      case FlashInferNorm::kFusedAddRmsNorm:
        break;
    }
    return "flashinfer.fused_add_rmsnorm";
  }
  std::string op() const override { return fused() ? "fused_add_rmsnorm" : "rmsnorm"; }
  std::string profile() const override {
    switch (op_) {
      case FlashInferNorm::kRmsNorm:
        return "rmsnorm.fp32";
      case FlashInferNorm::kGemmaRmsNorm:
        return "rmsnorm.gemma";
      case FlashInferNorm::kFusedAddRmsNorm:
        break;
    }
    return "fused_add_rmsnorm.fp32_sum";
  }
  Backend backend() const override { return Backend::kGpu; }
  std::vector<DType> dtypes() const override { return {DType::kFp16, DType::kBf16}; }
  bool peer() const override { return true; }
  // FlashInfer supports fewer of the generated layouts (aligned vectors; the fused kernel in
  // place only): about a quarter to a half of the cases apply, so four times the cases.
  int budget_scale() const override { return 4; }
  Promises promises() const override {
    Promises p;
    p.empty_batch = false;  // see the header comment
    return p;
  }
  BoundSpec bound() const override { return bound_for(DType::kFp16); }
  BoundSpec bound_for(DType d) const override {
    const double theta_z = fused() ? kU : 0.0;
    const double theta_z2 = fused() ? 2 * kU + kU * kU : 0.0;
    const double div = 0x1p-22;
    const double rsqrt = 0x1p-22;
    const double theta_q = compose(compose(compose(gamma(82), theta_z2), div), kU) + 0x1p-25;
    const double theta_r = compose(1 / std::sqrt(1 - theta_q) - 1, rsqrt);
    double theta_b = compose(compose(compose(theta_z, theta_r), kU), kU);
    if (op_ == FlashInferNorm::kGemmaRmsNorm) theta_b = compose(theta_b, kU);
    const int p = d == DType::kFp16 ? 11 : 8;
    BoundSpec b;
    b.kind = BoundSpec::Kind::kUlps;
    b.ulps = 0.5 + 2 * theta_b * std::ldexp(1.0, p);
    b.rules = {"flush_to_zero"};
    b.derivation = std::string("FlashInfer ") + peers::flashinfer_version() +
                   ", -use_fast_math: fp32 sum of squares, approximate division and rsqrt, "
                   "subnormals flushed (properties/peers/flashinfer_subjects.cpp)";
    return b;
  }

  Status check(const Case& c) const override { return check_layout(c, placeholder_pointers(c)); }

  Status run(const Case& c, const std::vector<void*>& p, cudaStream_t stream) const override {
    KC_RETURN_IF_ERROR(check_layout(c, p));
    // Tensors: rmsnorm 0 input, 1 weight, 2 output; fused 0 input, 1 residual, 2 weight
    // (outputs in place). The second row tensor is the output (rmsnorm) or the residual.
    const int second = fused() ? 1 : 2;
    const std::int64_t second_stride = (!fused() && c.tensors[2].in_place)
                                           ? c.tensors[0].row_stride
                                           : c.tensors[static_cast<std::size_t>(second)].row_stride;
    const cudaError_t e = peers::flashinfer_norm(
        op_, c.dtype, p[0], p[static_cast<std::size_t>(second)], p[fused() ? 2 : 1],
        static_cast<std::uint32_t>(c.num_tokens), static_cast<std::uint32_t>(norm_hidden(c)),
        static_cast<std::uint32_t>(c.tensors[0].row_stride),
        static_cast<std::uint32_t>(second_stride), norm_eps(c), /*enable_pdl=*/false, stream);
    if (e != cudaSuccess) {
      return Status(StatusCode::kCudaError, name() + ": FlashInfer returned " +
                                                cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                                                ")");
    }
    return Status::ok();
  }

 private:
  bool fused() const { return op_ == FlashInferNorm::kFusedAddRmsNorm; }

  Status unsupported(const std::string& what) const {
    return Status(StatusCode::kUnsupported, name() + ": " + what);
  }
  Status invalid(const std::string& what) const {
    return Status(StatusCode::kInvalidArgument, name() + ": " + what);
  }

  Status check_layout(const Case& c, const std::vector<void*>& p) const {
    if (c.dtype != DType::kFp16 && c.dtype != DType::kBf16) {
      return unsupported(std::string("dtype ") + dtype_name(c.dtype) +
                         "; FlashInfer's norm bindings dispatch fp16 and bf16 only");
    }
    if (norm_hidden(c) < 1) {
      return invalid("hidden = " + std::to_string(norm_hidden(c)) + "; hidden must be >= 1");
    }
    if (norm_hidden(c) > 65536) {
      return unsupported("hidden = " + std::to_string(norm_hidden(c)) +
                         "; kconform's bound for FlashInfer is derived for hidden <= 65536");
    }
    if (c.num_tokens < 0) {
      return invalid("num_tokens = " + std::to_string(c.num_tokens) + " is negative");
    }
    if (c.num_tokens == 0) {
      return unsupported(
          "num_tokens = 0; FlashInfer launches an empty grid, which CUDA refuses "
          "(cudaErrorInvalidValue, left pending)");
    }
    if (c.num_tokens > 0x7fffffff) {
      return unsupported("num_tokens = " + std::to_string(c.num_tokens) +
                         "; FlashInfer launches one block per row (gridDim.x < 2^31)");
    }
    if (!std::isfinite(norm_eps(c)) || norm_eps(c) < 0.0f) {
      return invalid("eps = " + std::to_string(norm_eps(c)) +
                     "; the profiles need eps finite and >= 0 (FlashInfer does not check it)");
    }
    if (fused()) {
      if (!c.tensors[3].in_place || !c.tensors[4].in_place) {
        return unsupported(
            "output or residual_out not in place; FusedAddRMSNorm writes the output over "
            "input and the rounded sum over residual");
      }
      const std::int64_t vec = std::gcd<std::int64_t>(8, norm_hidden(c));
      const std::int64_t warps = (std::min<std::int64_t>(1024, norm_hidden(c) / vec) + 31) / 32;
      const std::int64_t smem = ((warps + 3) / 4 * 4 + norm_hidden(c)) * 4;
      if (smem > kMaxDynamicSmem) {
        return unsupported("hidden = " + std::to_string(norm_hidden(c)) + " needs " +
                           std::to_string(smem) +
                           " bytes of shared memory (one fp32 per element); sm_90 allows " +
                           std::to_string(kMaxDynamicSmem));
      }
    }
    // Vector accesses of vec elements: every base address and row stride must be a multiple.
    const std::int64_t vec = std::gcd<std::int64_t>(8, norm_hidden(c));
    const std::int64_t align = vec * 2;
    const OpSpec& op = *find_op(c.op);
    for (std::size_t t = 0; t < op.tensors.size(); ++t) {
      const TensorSpec& role = op.tensors[t];
      if (role.output() && c.tensors[t].in_place) continue;
      const std::string tensor = role.name;
      if (reinterpret_cast<std::uintptr_t>(p[t]) % static_cast<std::uintptr_t>(align) != 0) {
        return unsupported(tensor + " address not a multiple of " + std::to_string(align) +
                           " bytes; FlashInfer loads " + std::to_string(vec) +
                           "-element vectors (vec = gcd(8, hidden))");
      }
      if (!role.rows) continue;
      const std::int64_t stride = c.tensors[t].row_stride;
      if (stride < norm_hidden(c)) {
        return invalid(tensor + " row stride " + std::to_string(stride) + " < hidden " +
                       std::to_string(norm_hidden(c)));
      }
      if (stride % vec != 0) {
        return unsupported(tensor + " row stride " + std::to_string(stride) +
                           " not a multiple of vec = gcd(8, hidden) = " + std::to_string(vec));
      }
      // Element offsets are 32-bit products in FlashInfer (bx * stride + column, uint32_t).
      if ((c.num_tokens - 1) * stride + norm_hidden(c) > 0xffffffffLL) {
        return unsupported(tensor + " spans " +
                           std::to_string((c.num_tokens - 1) * stride + norm_hidden(c)) +
                           " elements; FlashInfer computes element offsets in 32 bits");
      }
    }
    return Status::ok();
  }

  FlashInferNorm op_;
};

KC_REGISTER_SUBJECT(std::make_unique<FlashInferSubject>(FlashInferNorm::kRmsNorm));
KC_REGISTER_SUBJECT(std::make_unique<FlashInferSubject>(FlashInferNorm::kGemmaRmsNorm));
KC_REGISTER_SUBJECT(std::make_unique<FlashInferSubject>(FlashInferNorm::kFusedAddRmsNorm));

}  // namespace
}  // namespace kc::props

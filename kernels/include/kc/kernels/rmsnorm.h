// RMSNorm and fused residual-add + RMSNorm: public host API of kconform's production kernels.
//
// Profiles (DESIGN.md section 4; x input, r residual, w weight, s = x + r, rn = round to the
// storage dtype, R(z) = 1 / sqrt(mean(z^2) + eps)):
//
//   profile (op.mode)                   residual_sum  output_rounding    weight_offset
//   rmsnorm.fp32                        -             kSingle            kZero
//   rmsnorm.hf                          -             kCastBeforeWeight  kZero
//   rmsnorm.gemma                       -             kSingle            kOne
//   fused_add_rmsnorm.fp32_sum          kFp32         kSingle            kZero
//   fused_add_rmsnorm.hf                kRounded      kCastBeforeWeight  kZero
//   fused_add_rmsnorm.fp32_sum_hf_cast  kFp32         kCastBeforeWeight  kZero
//   fused_add_rmsnorm.gemma             kRounded      kSingle            kOne
//
// Their outputs: rmsnorm.fp32 rn(x R(x) w); rmsnorm.hf rn(w rn(x R(x))); rmsnorm.gemma
// rn(x R(x) (1 + w)); fused_add_rmsnorm.fp32_sum rn(s R(s) w); .hf rn(w rn(rn(s) R(rn(s))));
// .fp32_sum_hf_cast rn(w rn(s R(s))); .gemma rn(rn(s) R(rn(s)) (1 + w)).
//
// Every other combination matches no profile and is rejected by the check (kUnsupported). The
// fused kernels always write residual_out = rn(s).
//
// Contracts, for every entry point below:
//  - Shapes: num_tokens rows of `hidden` elements; 1 <= hidden <= kMaxHidden; each tensor has
//    its own row stride (in elements) >= hidden; the weight is one contiguous row. All tensors
//    share one dtype (fp32, fp16 or bf16). num_tokens == 0 succeeds and launches nothing.
//  - Alignment: any element-aligned base pointer and any stride. Rows whose every tensor starts
//    on a 16-byte boundary take 16-byte vector loads; otherwise the same arithmetic runs with
//    scalar accesses. Results are bitwise identical either way.
//  - Aliasing: output may alias input exactly (same pointer and stride: in place); residual_out
//    may alias residual exactly. Any other overlap between an output and any tensor is rejected.
//  - Bitwise promise: the GPU result equals the host twin (`*_twin`) bit for bit for every
//    supported case, and a row's result depends only on its own data, hidden, dtype and profile:
//    never on num_tokens, the row's position, strides, alignment, or in-place vs out-of-place.
//    Determinism: identical bits on every launch. NaN results are the canonical NaN
//    (0x7fffffff fp32, 0x7fff fp16/bf16).
//  - Arithmetic (shared by kernel and twin, kernels/src/rmsnorm_row.h): fp32 throughout; the sum
//    of squares is a per-lane fma chain over a fixed element-to-lane layout (rmsnorm_layout)
//    followed by a pairwise tree over the lanes; r = 1 / sqrt(sum / hidden + eps) with correctly
//    rounded divide and sqrt (no rsqrt approximation); no fast math.
//  - Errors: the check is pure (no CUDA call). A rejected call returns a Status naming the op,
//    the value and the rule, writes nothing and leaves no CUDA error pending. Pointers must be
//    device-accessible for the GPU entry points and host-accessible for the twins.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"
#include "kc/kernels/tensor.h"

namespace kc {

inline constexpr std::int64_t kMaxHidden = 65536;

enum class ResidualSum : std::uint8_t {
  kFp32,     // normalise the fp32 sum x + r (FlashInfer >= PR 587, SGLang native)
  kRounded,  // normalise rn(x + r), the residual as stored (HF decoder layer, vLLM CUDA)
};
enum class OutputRounding : std::uint8_t {
  kSingle,            // y = rn(z * r * w'): one rounding
  kCastBeforeWeight,  // y = rn(w * rn(z * r)): HF "cast before mul"
};
enum class WeightOffset : std::uint8_t {
  kZero,  // w' = w
  kOne,   // w' = 1 + w (Gemma)
};

const char* residual_sum_name(ResidualSum v);
const char* output_rounding_name(OutputRounding v);
const char* weight_offset_name(WeightOffset v);

struct RmsNormArgs {
  std::int64_t num_tokens = 0;
  std::int64_t hidden = 0;
  float eps = 1e-6f;
  ConstRows input;
  ConstVector weight;
  Rows output;  // may alias input exactly (in place)
  OutputRounding output_rounding = OutputRounding::kSingle;
  WeightOffset weight_offset = WeightOffset::kZero;
  Pdl pdl = Pdl::kAuto;
};

struct FusedAddRmsNormArgs {
  std::int64_t num_tokens = 0;
  std::int64_t hidden = 0;
  float eps = 1e-6f;
  ConstRows input;
  ConstRows residual;
  ConstVector weight;
  Rows output;        // y; may alias input exactly (engines run it in place: input <- y)
  Rows residual_out;  // rn(x + r); may alias residual exactly (residual <- rn(x + r))
  ResidualSum residual_sum = ResidualSum::kFp32;
  OutputRounding output_rounding = OutputRounding::kSingle;
  WeightOffset weight_offset = WeightOffset::kZero;
  Pdl pdl = Pdl::kAuto;
};

// In-place fused add as engines call it: input <- y, residual <- rn(input + residual).
FusedAddRmsNormArgs fused_add_rmsnorm_in_place(std::int64_t num_tokens, std::int64_t hidden,
                                               DType dtype, void* input, std::int64_t input_stride,
                                               void* residual, std::int64_t residual_stride,
                                               const void* weight, float eps);

// The fixed element-to-lane layout of one row: lane t (0 <= t < lanes) owns the 16-byte vectors
// t, t + lanes, t + 2 lanes, ... (vec elements each; the last may be partial). It depends only
// on (dtype, hidden): this is what makes results batch-, stride- and alignment-invariant.
struct RowLayout {
  int vec = 0;            // elements per 16-byte vector: 4 (fp32) or 8 (fp16, bf16)
  int vectors = 0;        // ceil(hidden / vec)
  int lanes = 0;          // power of two in [1, 1024]
  int per_lane = 0;       // ceil(vectors / lanes): vectors owned by a lane
  bool streamed = false;  // per_lane > 2: the row is read twice instead of held in registers
};
RowLayout rmsnorm_layout(DType dtype, std::int64_t hidden);

// Checks (pure; no CUDA call).
Status rmsnorm_check(const RmsNormArgs& args);
Status fused_add_rmsnorm_check(const FusedAddRmsNormArgs& args);

// GPU launches (run the check first; device pointers).
Status rmsnorm(const RmsNormArgs& args, cudaStream_t stream);
Status fused_add_rmsnorm(const FusedAddRmsNormArgs& args, cudaStream_t stream);

// Host twins: the same fp32 operations in the same order on the CPU (host pointers).
Status rmsnorm_twin(const RmsNormArgs& args);
Status fused_add_rmsnorm_twin(const FusedAddRmsNormArgs& args);

}  // namespace kc

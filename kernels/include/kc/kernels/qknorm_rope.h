// Per-head QK-norm + RoPE (qknorm_rope): public host API of kconform's production kernels.
//
// A token's row holds nq + nk + nv heads of head_dim values: q heads, then k heads, then v
// heads. Every q head and every k head z (weight w = q_weight or k_weight) is RMS-normalised,
// R = 1 / sqrt(mean(z^2) + eps), and its first rotary_dim values are rotated in pairs (a, b):
// (j, j + rotary_dim / 2) for kNeox (rotate-half), (2j, 2j + 1) for kInterleaved (GPT-J), by
// the angle theta_j = p f_j of the token's position p, f_j = base^(-2j / rotary_dim) g_j (g_j the
// YaRN blend, 1 when yarn.factor == 1). v heads pass through.
//
//   profile   reference profile            output of pair (a, b), t = z w
//   kExact    qknorm_rope.exact            y_a = rn(af R (t_a cos th - t_b sin th)),
//                                          y_b = rn(af R (t_b cos th + t_a sin th)),
//                                          passthrough (i >= rotary_dim) y_i = rn(R t_i)
// (reference/include/kc/ref/qknorm_rope.h states the profiles; af = yarn.attention_factor.)
// kHf and kVllmCache (the engines' fp32-angle profiles with cos/sin rounded to the dtype) are
// named in the API; this revision rejects them as kUnsupported.
//
// Contracts, for every entry point below:
//  - Shapes: num_tokens >= 0 rows; head_dim even in [2, kMaxQkHeadDim]; nq, nk, nv >= 0 (any
//    may be 0); rotary_dim even in [0, head_dim]; rows of (nq + nk + nv) head_dim elements with
//    any row stride >= that; one dtype (fp32, fp16, bf16) for qkv, output and both weights.
//    num_tokens == 0, or no q/k/v head at all, succeeds and launches nothing.
//  - Positions: one a token, int32 or int64, any value (negative positions rotate backwards,
//    as the reference's math does). The kernel reads them from device memory, so it could not
//    reject a value without a synchronisation; none needs rejecting.
//  - Parameters: base finite in [1, 2^127]; eps finite and >= 0; YaRN: factor finite and >= 1
//    (1 turns the blend off), low and high finite with high != low when factor != 1 (after
//    SGLang's guard high' = high + 0.001 when |low - high| <= 1e-6), attention_factor finite.
//  - In place (output.data == nullptr, or output equal to qkv: same pointer and stride): q and k
//    heads are overwritten, v heads are untouched. Out of place: output must not overlap qkv
//    (rejected); v heads are copied.
//  - Alignment: any element-aligned base and stride. head_dim 64, 128 and 256 take vector
//    accesses when every row is aligned to the lane's chunk; results are identical either way.
//  - Addressing: 64-bit offsets.
//  - Bitwise promise: the GPU result equals the host twin (qknorm_rope_twin) bit for bit for
//    every supported case; a head's outputs depend only on its values, its weight, its token's
//    position and the parameters (never on num_tokens, the other tokens, strides or alignment).
//    NaN results are the canonical NaN.
//  - Accuracy (kExact; derivation in kernels/src/qknorm_rope/qknorm_rope_row.h): the angle is
//    reduced exactly (a 128-bit fixed-point frequency constant, the reduced turn known to 2^-61
//    for |p| < 2^31 and to 2^-29.5 for every int64), cos and sin are kconform's own polynomials
//    in double (no libdevice, no fast-math intrinsic), the norm is the norm family's fp32 R,
//    and the rotation is done in double with one final rounding. Error below
//    0.5 ulp + 2^-20.3 |y| / ulp(y) for 16-bit outputs with no catastrophic cancellation
//    (measured: kernels/tests/qknorm_rope).
//  - Errors: the check is pure (no CUDA call). A rejected call returns a Status naming the op,
//    the value and the rule, writes nothing and leaves no CUDA error pending. Pointers must be
//    device-accessible for the GPU entry point and host-accessible for the twin.
//  - Kernel parameters: the per-pair frequency table travels in the kernel's parameter block
//    (up to 4 KiB of it), which needs CUDA 12.1 or later (32 KiB kernel parameters).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"
#include "kc/kernels/tensor.h"

namespace kc {

inline constexpr std::int64_t kMaxQkHeadDim = 512;

enum class QkNormRopeProfile : std::uint8_t { kExact, kHf, kVllmCache };
enum class RopePairing : std::uint8_t {
  kNeox,         // (j, j + rotary_dim / 2)
  kInterleaved,  // (2j, 2j + 1)
};
enum class PositionType : std::uint8_t { kInt32, kInt64 };

const char* qknorm_rope_profile_name(QkNormRopeProfile p);  // "exact", "hf", "vllm_cache"
const char* rope_pairing_name(RopePairing p);               // "neox", "interleaved"

// YaRN as SGLang's fused kernel receives it; factor == 1 turns the frequency blend off, and
// attention_factor multiplies the rotated elements only, in every case.
struct QkRopeYarn {
  float factor = 1.0f;
  float low = 0.0f;
  float high = 0.0f;
  float attention_factor = 1.0f;
};

struct QkNormRopeArgs {
  QkNormRopeProfile profile = QkNormRopeProfile::kExact;
  DType dtype = DType::kBf16;  // of qkv, output and both weights
  std::int64_t num_tokens = 0;
  std::int64_t head_dim = 128;
  std::int64_t num_q_heads = 0;
  std::int64_t num_k_heads = 0;
  std::int64_t num_v_heads = 0;
  std::int64_t rotary_dim = 128;
  RopePairing pairing = RopePairing::kNeox;
  double base = 10000.0;
  float eps = 1e-6f;
  QkRopeYarn yarn;
  const void* positions = nullptr;  // num_tokens values
  PositionType position_type = PositionType::kInt64;
  const void* qkv = nullptr;  // [num_tokens, (nq + nk + nv) head_dim], row stride qkv_stride
  std::int64_t qkv_stride = 0;
  void* output = nullptr;  // nullptr or qkv: in place; else [num_tokens, ...] out of place
  std::int64_t output_stride = 0;
  const void* q_weight = nullptr;  // [head_dim] (read when nq > 0)
  const void* k_weight = nullptr;  // [head_dim] (read when nk > 0)
  Pdl pdl = Pdl::kAuto;
};

// Check (pure; no CUDA call).
Status qknorm_rope_check(const QkNormRopeArgs& args);
// GPU launch (runs the check first; device pointers).
Status qknorm_rope(const QkNormRopeArgs& args, cudaStream_t stream);
// Host twin: the same operations in the same order on the CPU (host pointers).
Status qknorm_rope_twin(const QkNormRopeArgs& args);

}  // namespace kc

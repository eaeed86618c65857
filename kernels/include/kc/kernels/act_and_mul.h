// Gated activations act_and_mul: public host API of kconform's production kernels.
//
// For each of num_tokens rows, with g = input[t, j] (the gate, the first d elements of the row)
// and u = input[t, d + j] (the up projection, the next d), j < d:
//
//   rounding  profile                          output
//   kSingle   act_and_mul.<act>.single         out[t, j] = rn(act(g) u)        (one rounding)
//   kTorch    act_and_mul.<act>.torch          out[t, j] = rn(rn(act(g)) u)    (PyTorch, HF, vLLM)
//
// act is the mathematical function: silu(x) = x / (1 + e^-x), gelu(x) = x Phi(x) with the true
// erf, gelu_tanh(x) = (x/2)(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) with the true tanh; rn is
// round to nearest even in the storage dtype (reference/include/kc/ref/act_and_mul.h states the
// profiles and their special values).
//
// Contracts, for every entry point below:
//  - Shapes: num_tokens rows; 1 <= d <= kMaxActD; input rows of 2d elements with row stride
//    >= 2d, output rows of d elements with row stride >= d; one dtype for both (fp32, fp16, bf16).
//    num_tokens == 0 succeeds and launches nothing.
//  - Alignment: any element-aligned base pointer and any stride. Rows whose gate, up and output
//    all start on 16-byte boundaries take 16-byte vector accesses; the others run the same
//    arithmetic element by element. Results are bitwise identical either way.
//  - Aliasing: the output must not overlap the input (rejected).
//  - Addressing: 64-bit offsets (rows past 2^31 elements are fine).
//  - Bitwise promise: the GPU result equals the host twin (act_and_mul_twin) bit for bit for every
//    supported case; each element depends only on its own g and u (never on num_tokens, d, the
//    position, strides or alignment). Determinism: identical bits on every launch. NaN results
//    are the canonical NaN (0x7fffffff fp32, 0x7fff fp16/bf16).
//  - Arithmetic (shared by kernel and twin, kernels/src/act_and_mul/act_and_mul_row.h): kconform's
//    own exp, normal tail and tanh built from correctly rounded fp32 operations (no libdevice, no
//    fast-math intrinsic), accurate in the negative tails where fp32 formulas cancel; rn(act(g))
//    correctly rounded for every fp16 and bf16 gate.
//  - Errors: the check is pure (no CUDA call). A rejected call returns a Status naming the op,
//    the value and the rule, writes nothing and leaves no CUDA error pending. Pointers must be
//    device-accessible for the GPU entry point and host-accessible for the twin.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kc/kernels/dtype.h"
#include "kc/kernels/status.h"
#include "kc/kernels/tensor.h"

namespace kc {

// The largest d (elements of each half of an input row).
inline constexpr std::int64_t kMaxActD = std::int64_t{1} << 20;

enum class Activation : std::uint8_t {
  kSilu,      // x / (1 + e^-x)
  kGelu,      // x Phi(x), the true erf
  kGeluTanh,  // (x/2)(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))
};
enum class ActRounding : std::uint8_t {
  kSingle,  // rn(act(g) u)
  kTorch,   // rn(rn(act(g)) u)
};

const char* activation_name(Activation a);
const char* act_rounding_name(ActRounding r);

struct ActAndMulArgs {
  Activation act = Activation::kSilu;
  ActRounding rounding = ActRounding::kSingle;
  std::int64_t num_tokens = 0;
  std::int64_t d = 0;
  ConstRows input;  // [num_tokens, 2d]: gate then up
  Rows output;      // [num_tokens, d]
  Pdl pdl = Pdl::kAuto;
};

// Check (pure; no CUDA call).
Status act_and_mul_check(const ActAndMulArgs& args);
// GPU launch (runs the check first; device pointers).
Status act_and_mul(const ActAndMulArgs& args, cudaStream_t stream);
// Host twin: the same fp32 operations in the same order on the CPU (host pointers).
Status act_and_mul_twin(const ActAndMulArgs& args);

}  // namespace kc

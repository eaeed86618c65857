// Exact semantics ("profiles") of the gated activation act_and_mul.
//
// For each row of 2d values, g = the first half (gate), u = the second half (up), j < d:
//   single: y_j = rn(act(g_j) * u_j)        FlashInfer, sgl-kernel, SGLang JIT (current)
//   torch:  y_j = rn(rn(act(g_j)) * u_j)    PyTorch eager, HF, vLLM
// rn = round to nearest even to the storage format (inputs and outputs share one format); the
// inputs are the exact values of their storage bit patterns. rn(act(g)) * u is a product of two
// format values, a dyadic number held exactly, so `torch` has two roundings of exact values.
//
// act is the MATHEMATICAL function (no fp32 formula, no approximation):
//   silu(x)      = x / (1 + e^-x)
//   gelu(x)      = x Phi(x) = (x/2) (1 + erf(x / sqrt 2))               (the true erf)
//   gelu_tanh(x) = (x/2) (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))     (the true tanh; sqrt(2/pi)
//                  and 0.044715 = 44715/10^6 are the exact real constants)
// Evaluated as silu(x) = x / (1 + e^-x), gelu(x) = (x/2) erfc(-x/sqrt 2), gelu_tanh(x) =
// x / (1 + e^(-2z)) with z = sqrt(2/pi) (x + 0.044715 x^3): (1 + tanh z)/2 = 1/(1 + e^(-2z))
// exactly, and these forms have no cancellation anywhere.
//
// Special values: IEEE rules applied to the exact expressions as written above.
//  - act(NaN) = NaN; act(+-0) = +-0 (x times a positive number keeps the sign of zero).
//  - silu(+inf) = +inf / 1 = +inf; silu(-inf) = -inf / (1 + inf) = NaN. gelu(+inf) = +inf * 1 =
//    +inf; gelu(-inf) = -inf * 0 = NaN. gelu_tanh likewise: +inf, NaN.
//  - The product act * u follows IEEE: 0 * inf = NaN, finite nonzero * inf = signed inf, NaN
//    propagates, zero signs by the sign rule. act(g) is nonzero for every finite nonzero g (even
//    when it would round to zero), so single gives act(g) * inf = +-inf where torch, whose
//    rn(act(g)) may be -0, gives -0 * inf = NaN: the profiles differ there by definition.
//  - rn overflows to +-inf past the format's threshold; |act(g)| < |g| for g != 0, so
//    rn(act(g)) itself never overflows, the product may.
//
// Exact ties and certification. act(g) is computed with a rigorous error bound (elementary.h)
// and each rounding is decided when the enclosure holds no rounding boundary (Ziv: 128, 320,
// 1024 bits). The loop ends at 1024 bits; whether it always decides before that is a question
// about act(g) being a dyadic rational (then act(g) * u, or act(g), could sit exactly on a
// boundary):
//  - silu: for finite dyadic g != 0, silu(g) = q rational would make e^-g = g/q - 1 rational,
//    but e^a is transcendental for every algebraic a != 0 (Hermite-Lindemann, the one-term case
//    of Lindemann-Weierstrass). So silu(g) is irrational (indeed transcendental): no tie exists,
//    and the loop ends as soon as the precision exceeds the distance to the nearest boundary.
//  - gelu_tanh: rational iff e^(-2 sqrt(2/pi) w) is rational for the rational w = g (1 + 0.044715
//    g^2) != 0. Whether e^(c / sqrt(pi)) can be rational for rational c != 0 is not settled by
//    Lindemann-Weierstrass (the exponent is transcendental); it would follow from Schanuel's
//    conjecture. We do not know a proof.
//  - gelu: rational iff erf(g / sqrt 2) is. The Siegel-Shidlovskii theorem makes
//    sqrt(pi) erf(a) / 2 transcendental for algebraic a != 0, which says nothing about erf(a)
//    itself (the factor sqrt(pi) is transcendental too). We do not know a proof.
// So a tie is impossible for silu and unproven-but-unseen for the others. An element whose
// rounding is still undecided at 1024 bits (its value within about 2^-1000 relative of a
// boundary) is never guessed silently: its index is listed in ActRowResult::undecided, and its
// y_bits is the rounding of the 1024-bit approximation. No such element has been found (the
// exhaustive 16-bit tests count them).
//
// Extremes, decided by cheap rigorous bounds without series: with X = g or X = g/2 (exact),
//  - large positive g (silu >= 80, gelu >= 13, gelu_tanh >= 10): act(g) = g (1 - delta) with
//    0 < delta < 2^-110;
//  - subnormal g, |g| < 2^-126 (bf16, fp32): act(g) = (g/2)(1 + T) with T of the sign of g,
//    |T| <= |g| (T = tanh(g/2), erf(g/sqrt 2), tanh(z));
// then X * u has at most 48 significant bits and every rounding boundary other than X u itself
// is more than |X u| 2^-48 away from it (both are multiples of 2^(floor(log2|X u|) - 47)), so the
// rounding is that of X u moved by an infinitesimal in the known direction, which the code takes
// as X u (1 -+ 2^-100), exact in Exact. Negative tails: |silu(g)| < |g| e^g, |gelu(g)| <
// phi(g) < e^(-g^2/2) (Mills' ratio), |gelu_tanh(g)| < |g| e^(-2|z|); when that bound times |u|
// is below half the smallest subnormal the result is a signed zero (no series is evaluated for
// the decision).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/ref/elementary.h"
#include "kc/ref/format.h"

namespace kc::ref {

enum class ActFunction : std::uint8_t { kSilu, kGelu, kGeluTanh };
enum class ActRounding : std::uint8_t { kSingle, kTorch };

struct ActProfile {
  ActFunction function;
  ActRounding rounding;
};
constexpr bool operator==(const ActProfile& a, const ActProfile& b) {
  return a.function == b.function && a.rounding == b.rounding;
}
constexpr bool operator!=(const ActProfile& a, const ActProfile& b) { return !(a == b); }

inline constexpr ActProfile kAllActProfiles[] = {
    {ActFunction::kSilu, ActRounding::kSingle},     {ActFunction::kSilu, ActRounding::kTorch},
    {ActFunction::kGelu, ActRounding::kSingle},     {ActFunction::kGelu, ActRounding::kTorch},
    {ActFunction::kGeluTanh, ActRounding::kSingle}, {ActFunction::kGeluTanh, ActRounding::kTorch}};

// "silu", "gelu", "gelu_tanh".
const char* act_function_name(ActFunction f);
// "act_and_mul.silu.single", "act_and_mul.gelu.torch", ...
const char* act_profile_name(ActProfile p);
bool act_profile_from_name(const std::string& name, ActProfile* out);

// One row: d gates and d ups (the two halves of the input row). The values are the exact values
// of the storage patterns in `format` (every fp16/bf16/fp32 value is a float). d <= 0 or a null
// pointer gives an empty result.
struct ActRowInput {
  Format format = kBf16;
  std::int64_t d = 0;
  const float* gate = nullptr;
  const float* up = nullptr;
};

// Relative error bound of the high-precision values y_exact and act_exact: |exact - v| <=
// 2^kActExactRelErrorLog2 |exact| for every finite nonzero value of magnitude >= 2^-1048576.
// Smaller magnitudes (silu/gelu/gelu_tanh of gates beyond about -7.3e5, -1205, -217, which round
// to zero after any product with a format value) are reported as a zero of the right sign.
// Zeros, infinities and NaN are exact; torch's y_exact = rn(act) * u is exact.
inline constexpr int kActExactRelErrorLog2 = -100;

struct ActRowResult {
  std::vector<std::uint32_t> y_bits;    // the profile's output
  std::vector<Exact> y_exact;           // value before the final rounding (single: act(g) u,
                                        // torch: rn(act(g)) u exactly)
  std::vector<std::uint32_t> act_bits;  // rn(act(g)): torch's intermediate (filled for both)
  std::vector<Exact> act_exact;         // act(g)
  // Certified decisions of this row (act_bits, and single's product roundings) that needed more
  // than the first precision level (128 bits). Independent of what is cached.
  int widened = 0;
  // Elements whose y_bits or act_bits rounding was still undecided at 1024 bits (see above).
  std::vector<std::int64_t> undecided;
};

// act_and_mul.silu.single: y_j = rn(silu(g_j) u_j), silu(x) = x / (1 + e^-x), one rounding.
// FlashInfer, sgl-kernel, SGLang JIT (current).
ActRowResult act_and_mul_silu_single(const ActRowInput& in);
// act_and_mul.silu.torch: y_j = rn(rn(silu(g_j)) u_j), the activation rounded to the storage
// format first, then the exact product rounded. PyTorch eager, HF, vLLM.
ActRowResult act_and_mul_silu_torch(const ActRowInput& in);
// act_and_mul.gelu.single: y_j = rn(gelu(g_j) u_j), gelu(x) = (x/2)(1 + erf(x/sqrt 2)).
// FlashInfer, sgl-kernel, SGLang JIT (current).
ActRowResult act_and_mul_gelu_single(const ActRowInput& in);
// act_and_mul.gelu.torch: y_j = rn(rn(gelu(g_j)) u_j). PyTorch eager, HF, vLLM.
ActRowResult act_and_mul_gelu_torch(const ActRowInput& in);
// act_and_mul.gelu_tanh.single: y_j = rn(gelu_tanh(g_j) u_j), gelu_tanh(x) = (x/2)(1 +
// tanh(sqrt(2/pi)(x + 0.044715 x^3))) with exact constants. FlashInfer, sgl-kernel, SGLang JIT.
ActRowResult act_and_mul_gelu_tanh_single(const ActRowInput& in);
// act_and_mul.gelu_tanh.torch: y_j = rn(rn(gelu_tanh(g_j)) u_j). PyTorch eager, HF, vLLM.
ActRowResult act_and_mul_gelu_tanh_torch(const ActRowInput& in);

// Dispatch by profile.
ActRowResult evaluate(ActProfile p, const ActRowInput& in);

// act alone for one gate (the exhaustive kernel-accuracy tests): its certified rounding to
// `format` and its high-precision value (relative error as kActExactRelErrorLog2). For fp16 and
// bf16 the result comes from the per-process table (see act_and_mul.cpp).
struct ActValue {
  std::uint32_t bits = 0;
  Exact exact;
  bool widened = false;    // the rounding needed more than 128 bits
  bool undecided = false;  // still undecided at 1024 bits (bits = rounding of the approximation)
};
ActValue act_value(ActFunction f, const Format& format, float g);

// The certified approximation of act(g) at precision level P (128, 320 or 1024), for a finite
// g != 0 whose |act(g)| is not below 2^-1048576 (err = +inf otherwise, and where the level
// cannot bound it). Exposed for the cross-level tests and for error models.
template <unsigned P>
Approx<P> act_approx(ActFunction f, float g);

extern template Approx<128> act_approx<128>(ActFunction, float);
extern template Approx<320> act_approx<320>(ActFunction, float);
extern template Approx<1024> act_approx<1024>(ActFunction, float);

}  // namespace kc::ref

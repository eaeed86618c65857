// Exact semantics ("profiles") of per-head QK-norm + RoPE (SGLang's fused_qk_norm_rope,
// Qwen3-style attention).
//
// A token's row holds nq + nk + nv heads of head_dim values: q heads, then k heads, then v heads.
// Every q head and every k head is RMS-normalised over its head_dim values with its own weight
// (q_weight or k_weight), then its first rotary_dim values are rotated; v heads pass through.
//
// Notation: for one q/k head, z its values, w its weight, n = head_dim, R = 1/sqrt(mean(z^2) +
// eps) (eps inside the square root, as in the norm family), t_i = z_i w_i (exact), af the YaRN
// attention factor, rn = round to the storage format, rn32 = round to fp32, rd = rotary_dim.
// Pairs j = 0 .. rd/2 - 1 rotate elements (a, b) = (j, j + rd/2) (kNeox, rotate-half) or
// (2j, 2j + 1) (kInterleaved, GPT-J), both by the angle theta_j of pair j. Everything not inside
// rn is exact real arithmetic; inputs, weights and parameters are the exact values of their
// bit patterns.
//
// Angles:
//  - exact angle: theta_j = p f_j with f_j = base^(-2j/rd) g_j, g_j = 1 when YaRN is off
//    (factor == 1), else g_j = ramp_j / factor + (1 - ramp_j), ramp_j = clamp((j - low) /
//    (high' - low), 0, 1): SGLang's blend interp (1 - ef) + extrap ef with interp = extrap /
//    factor, ef = 1 - ramp. high' = rn32(high + 0.001f) when rn32(|low - high|) <= 1e-6f, else
//    high (SGLang's guard against a zero denominator, in its fp32 operations). base is the exact
//    double; factor, low, high, af the exact fp32 values the kernel receives.
//  - fp32 angle: theta_j = rn32(rn32(p) * F_j), the angle every engine forms in fp32:
//      b = rn32(base); e_j = rn32(2j / rd); W_j = rn32(b^e_j) (the correctly rounded power:
//      torch's pow is not correctly rounded, this is its ideal); F_j = rn32(1 / W_j)
//    (torch: 1.0 / (base ** (arange(0, rd, 2).float() / rd)), as HF, vLLM and SGLang's
//    RotaryEmbedding build inv_freq; torch rounds the scalar base to fp32 and divides on the CPU
//    - on the GPU it multiplies by rn32(1/rd), aten/src/ATen/native/cuda/BinaryDivTrueKernel.cu,
//    the same for power-of-two rd). SGLang's fused kernel and its test reference form instead
//    rn32(b^-e_j) (powf(base, -2j/rd); test: base ** (-2.0 * arange / rd)), which differs in the
//    last bit for 25 of the 64 pairs at base 1e6, rd 128 (19 at 1e4; derive_rope_examples.py).
//    With YaRN on, SGLang's kernel's fp32 blend with every operation rounded:
//      I = rn32(F / factor); L = rn32(rn32(j - low) / rn32(high' - low));
//      ramp = min(max(L, 0), 1); ef = rn32(1 - ramp);
//      F_j = rn32(rn32(I * rn32(1 - ef)) + rn32(F * ef)).
//    rn32(p) is the int64 -> float conversion of the engines (round to nearest even: exact below
//    2^24, 2^24 + 1 -> 2^24, 2^40 + 3 -> 2^40).
//
// Profiles (y_a, y_b the outputs of pair (a, b); passthrough elements i >= rd):
//  - qknorm_rope.exact:      y_a = rn(af R (t_a cos th - t_b sin th)),
//                            y_b = rn(af R (t_b cos th + t_a sin th)), th the exact angle;
//                            passthrough y_i = rn(R t_i) (not scaled by af).
//  - qknorm_rope.fp32_angle: as exact with th the fp32 angle (SGLang's kernels and their test
//                            reference; fp32-angle kernels generally).
//  - qknorm_rope.hf:         zn_i = rn(w_i rn(z_i R)) (the rmsnorm.hf profile per head);
//                            c = rn(af cos th), s = rn(af sin th) of the fp32 angle;
//                            y_a = rn(rn(zn_a c) + rn(-zn_b s)), y_b = rn(rn(zn_b c) + rn(zn_a s));
//                            passthrough y_i = zn_i. HF Qwen3 (transformers models/qwen3/
//                            modeling_qwen3.py @000c33fd: Qwen3RMSNorm returns weight *
//                            h.to(input_dtype); the rotary embedding returns (cos *
//                            attention_scaling).to(x.dtype); q * cos + rotate_half(q) * sin in
//                            the model dtype). As for vllm_cache, HF's c is rn(rn32(torch cos))
//                            and the profile takes the single rounding. With YaRN the profile
//                            keeps SGLang's fp32 frequency (HF forms interp = 1 / (factor base^e)).
//  - qknorm_rope.vllm_cache: c, s = rn(af cos th), rn(af sin th) of the fp32 angle (the cos/sin
//                            cache in the model dtype); y_a = rn(R (t_a c - t_b s)),
//                            y_b = rn(R (t_b c + t_a s)) with ONE rounding; passthrough
//                            y_i = rn(R t_i). vLLM's fused kernel, idealised: vLLM builds the
//                            cache once (vllm/model_executor/layers/rotary_embedding/base.py
//                            @072d10a0: inv_freq as above but on the GPU, t = arange(max_pos)
//                            in fp32, freqs = einsum(t, inv_freq), cos = freqs.cos() in fp32
//                            (times mscale for YaRN), then cache.to(model dtype)), so its c is
//                            rn(rn32(torch cos(th))), a double rounding through a cos that is
//                            not correctly rounded; its kernel (csrc/libtorch_stable/
//                            fused_qknorm_rope_kernel.cu @02964ee1) computes e *= rms_rcp * w
//                            and e * cos + e2 * sin in fp32 (rsqrtf, fma contraction) and rounds
//                            once. The profile keeps the one thing that is not an fp32 rounding
//                            error, the cache's rounding to the model dtype, and makes it a
//                            single rounding of the exact af cos th (it differs from the double
//                            rounding only where cos th is within 2^-25 relative of a midpoint,
//                            inside the error of torch's cos itself).
//  - v heads: y = the input value (for every profile).
//
// Special values (IEEE rules applied to the exact expressions, as the norm family does):
//  - a NaN in a q/k head makes R NaN: all outputs of that head are NaN;
//  - otherwise an infinity in the head makes R = 0: finite elements become signed zeros and the
//    infinite ones (inf * 0) NaN, and rotated outputs combine those zeros/NaNs;
//  - mean(z^2) + eps = 0 gives R = +inf (0 * inf = NaN outputs); < 0 (negative eps) gives NaN;
//  - non-finite weights, and an fp32 angle that overflowed to infinity (only for a base far
//    below 1), follow the IEEE rules of the written expressions (cos and sin of an infinite
//    angle are NaN);
//  - zero results carry the IEEE sign of the written expression: products xor the signs; a sum
//    of two zeros is -0 only when both are -0; an exact cancellation of nonzero terms is +0.
//
// Certification (DESIGN.md section 4): every rounding is the correct rounding of its true value.
//  - Products with R alone (passthrough, the rotation at angle 0, hf's rn(z R), vllm_cache's
//    R times the dyadic t_a c - t_b s) may be exact ties (R can be rational): they are decided
//    by the 53-bit filter or at 192 bits when the ball excludes every rounding boundary, and
//    otherwise by exact integer comparison of squares, as rmsnorm.cpp does
//    (|d| R vs M <=> d^2 n vs M^2 (sum z^2 + n eps)).
//  - Values with cos or sin of a nonzero angle are never ties: th is a nonzero algebraic number
//    (p times a rational power of a rational, times a rational; or an fp32 value), so e^(i th)
//    is transcendental (Lindemann-Weierstrass); A cos th - B sin th = C with rational A, B not
//    both 0 and algebraic C would make e^(i th) a root of (A + iB) X^2 - 2C X + (A - iB), so
//    R (A cos th - B sin th) is transcendental or 0 (A = B = 0: handled exactly), never a dyadic
//    midpoint. They are decided by Ziv's strategy: a 53-bit filter (double arithmetic with a
//    rigorous radius over the 192-bit cos, sin and R), then 192, 384 and 1024 bits
//    (kc/ref/trig.h). A value that stays undecided at 1024 bits (none is known; it would need
//    an angle beyond about 2^980 or a value within 2^-900 of a boundary) is reported, never
//    guessed (QkNormRopeStatus::kUndecided).
//  - The reduction of th mod pi/2 loses about log2|th| bits: |th| <= |p| max f_j < 2^63 for
//    int64 positions and base >= 1, so at 192 bits the reduced angle keeps >= 120 correct bits,
//    enough for all but the rare values within 2^-100 of a boundary (then 384 bits decide).
//  - fp32 operations of the fp32 angle are IEEE operations of the host (correctly rounded; the
//    library is built with -ffp-contract=off, no fast math); only the power is certified.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/ref/format.h"

namespace kc::ref {

enum class QkNormRopeProfile : std::uint8_t { kExact, kFp32Angle, kHf, kVllmCache };

inline constexpr QkNormRopeProfile kAllQkNormRopeProfiles[] = {
    QkNormRopeProfile::kExact, QkNormRopeProfile::kFp32Angle, QkNormRopeProfile::kHf,
    QkNormRopeProfile::kVllmCache};

// "qknorm_rope.exact", "qknorm_rope.fp32_angle", "qknorm_rope.hf", "qknorm_rope.vllm_cache".
const char* qknorm_rope_profile_name(QkNormRopeProfile p);
bool qknorm_rope_profile_from_name(const std::string& name, QkNormRopeProfile* out);

enum class RopeStyle : std::uint8_t { kNeox, kInterleaved };

// YaRN as SGLang's fused kernel receives it (fp32 values): python/sglang/jit_kernel/
// fused_qknorm_rope.py @4c8d356b (factor, low, high, attention_factor) and the kernel's
// compute_freq_yarn (csrc/elementwise/fused_qknorm_rope.cuh @1889b0b7). factor == 1 turns the
// frequency blend off; attention_factor multiplies the rotated elements only, in every case.
struct YarnParams {
  float factor = 1.0f;
  float low = 0.0f;
  float high = 0.0f;
  float attention_factor = 1.0f;
};

// How low and high are derived from a model config (yarn_find_correction_range, SGLang
// python/sglang/srt/layers/rotary_embedding/yarn.py @0b1fd02d, called by
// _compute_yarn_from_rope_params in srt/models/mellum.py @bc47ace9 with dim = head_dim):
//   d(r) = dim ln(original_max_position / (2 pi r)) / (2 ln base), in double (Python floats),
//   low = max(floor(d(beta_fast)), 0), high = min(ceil(d(beta_slow)), dim - 1) (kTruncate; without
//   truncation the unrounded values are clamped the same way).
enum class YarnTruncate : std::uint8_t { kTruncate, kNoTruncate };
struct YarnConfig {
  double factor = 1.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::int64_t dim = 128;
  double base = 10000.0;
  double original_max_position = 4096.0;
  double attention_factor = 1.0;
  YarnTruncate truncate = YarnTruncate::kTruncate;
};
YarnParams yarn_params_from_config(const YarnConfig& c);

struct QkNormRopeParams {
  std::int64_t head_dim = 128;  // even, 2..512
  std::int64_t num_q_heads = 0;
  std::int64_t num_k_heads = 0;
  std::int64_t num_v_heads = 0;
  std::int64_t rotary_dim = 128;  // even, 0..head_dim (0: norm only)
  RopeStyle style = RopeStyle::kNeox;
  double base = 10000.0;  // > 0, finite, with rn32(base) in [2^-126, 2^128) (a normal fp32)
  float eps = 1e-6f;
  YarnParams yarn;
};

// One token. Values are the exact values of the storage patterns (each row, weight value must be
// a value of `format`; the reference does not check it).
struct QkNormRopeTokenInput {
  Format format = kBf16;            // of the row, the weights and the outputs
  const float* row = nullptr;       // (nq + nk + nv) * head_dim values
  const float* q_weight = nullptr;  // head_dim values (read when nq > 0)
  const float* k_weight = nullptr;  // head_dim values (read when nk > 0)
  std::int64_t position = 0;        // any int64 (negative allowed: the math is the same)
};

enum class QkNormRopeStatus : std::uint8_t {
  kOk,
  kInvalidArgument,  // message names the parameter and the rule; no outputs
  kUndecided,        // some rounding stayed undecided at 1024 bits; y_bits holds its best guess
};

// Every decision starts at the 53-bit filter and 192 bits (kLowest) or directly at 1024 bits
// (kHighest: for cross-checking the lower levels; much slower).
enum class ZivStart : std::uint8_t { kLowest, kHighest };
struct QkNormRopeOptions {
  ZivStart start = ZivStart::kLowest;
};

struct QkNormRopeResult {
  QkNormRopeStatus status = QkNormRopeStatus::kOk;
  std::string message;
  // The whole row (v heads included), the profile's final roundings.
  std::vector<std::uint32_t> y_bits;
  // The value before the final rounding: exact where the profile makes it dyadic (hf's
  // rn(zn c) + rn(-zn' s)), otherwise the midpoint of the enclosure that decided the rounding
  // (relative error below 2^-50: the 53-bit filter; below 2^-180 when a wider level decided);
  // NaN/inf/signed zero where the rules give them.
  std::vector<Exact> y_exact;
  // Per q/k head (q heads first): R.
  std::vector<Exact> inv_rms;
  // Per pair j: the frequency f_j (exact profile) or F_j (fp32 profiles), the angle, and its
  // exact cos and sin (to 320 bits).
  std::vector<Exact> freq;
  std::vector<Exact> theta;
  std::vector<Exact> cos_theta;
  std::vector<Exact> sin_theta;
  // hf and vllm_cache: the rounded cache values c = rn(af cos th), s = rn(af sin th) per pair.
  std::vector<std::uint32_t> cos_bits;
  std::vector<std::uint32_t> sin_bits;
  int widened_decisions = 0;  // roundings decided only at 384 or 1024 bits
  int exact_decisions = 0;    // roundings decided by exact integer comparison (ties)
  int undecided = 0;          // roundings undecided at 1024 bits (status kUndecided)
};

// Empty when the parameters and input are valid, else one sentence naming the value and rule.
std::string qknorm_rope_check(const QkNormRopeParams& params, const QkNormRopeTokenInput& in);

// qknorm_rope.exact: y_a = rn(af R (t_a cos th - t_b sin th)), y_b = rn(af R (t_b cos th +
// t_a sin th)) at the exact angle th = p base^(-2j/rd) g_j; passthrough rn(R t_i); v unchanged.
// The semantics every engine approximates.
QkNormRopeResult qknorm_rope_exact(const QkNormRopeParams& params, const QkNormRopeTokenInput& in,
                                   const QkNormRopeOptions& options = {});
// qknorm_rope.fp32_angle: as exact, at the fp32 angle th = rn32(rn32(p) F_j). SGLang's fused
// kernel's semantics and its test reference; fp32-angle kernels.
QkNormRopeResult qknorm_rope_fp32_angle(const QkNormRopeParams& params,
                                        const QkNormRopeTokenInput& in,
                                        const QkNormRopeOptions& options = {});
// qknorm_rope.hf: zn = rn(w rn(z R)); c, s = rn(af cos th), rn(af sin th) (fp32 angle);
// y_a = rn(rn(zn_a c) + rn(-zn_b s)), y_b = rn(rn(zn_b c) + rn(zn_a s)); passthrough zn.
// HF Qwen3 (modeling_qwen3.py: Qwen3RMSNorm, Qwen3RotaryEmbedding, apply_rotary_pos_emb).
QkNormRopeResult qknorm_rope_hf(const QkNormRopeParams& params, const QkNormRopeTokenInput& in,
                                const QkNormRopeOptions& options = {});
// qknorm_rope.vllm_cache: c, s = rn(af cos th), rn(af sin th) (fp32 angle; the model-dtype
// cache); y_a = rn(R (t_a c - t_b s)), y_b = rn(R (t_b c + t_a s)); passthrough rn(R t_i).
// vLLM's fused_qk_norm_rope reading its cos_sin_cache.
QkNormRopeResult qknorm_rope_vllm_cache(const QkNormRopeParams& params,
                                        const QkNormRopeTokenInput& in,
                                        const QkNormRopeOptions& options = {});

// Dispatch by profile.
QkNormRopeResult evaluate(QkNormRopeProfile p, const QkNormRopeParams& params,
                          const QkNormRopeTokenInput& in, const QkNormRopeOptions& options = {});

// The fp32 angle's pieces (see the header comment), for subjects that form the same angle:
// F_j (YaRN included) and theta_j = rn32(rn32(p) F_j). False when the parameters fail the check
// or pair is not in 0 .. rd/2 - 1.
bool rope_fp32_frequency(const QkNormRopeParams& params, std::int64_t pair, float* out);
bool rope_fp32_angle(const QkNormRopeParams& params, std::int64_t position, std::int64_t pair,
                     float* out);

}  // namespace kc::ref

// Exact semantics ("profiles") of RMSNorm and fused residual-add + RMSNorm.
//
// Notation: x input row, r residual row, w weight, s = x + r (exact), n = hidden, rn = round to
// the storage format (round_to), R(z) = 1 / sqrt(mean(z^2) + eps) with mean(z^2) = sum z_i^2 / n.
// Everything not inside rn is exact real arithmetic; eps is inside the square root; eps, the
// inputs and the weights are the exact values of their storage bit patterns.
//
// Special values, identical for every profile (IEEE rules applied to the exact expressions):
//  - a NaN among the z that R is taken over makes R NaN, so every output of the row is NaN;
//  - otherwise an infinite z makes mean(z^2) infinite and R = 0: finite elements give a signed
//    zero, the infinite ones (inf * 0) give NaN;
//  - mean(z^2) + eps = 0 (an all-zero row with eps = 0) gives R = +inf and 0 * inf = NaN;
//  - rn overflows to +-inf past the format's overflow threshold; the residual output rn(s) of
//    the fused profiles may overflow (fp16) and then enters the norm as an infinity.
//
// Certification: products with R are irrational in general. They are evaluated with Exact
// (320 bits) and a tracked relative error; a rounding whose boundary lies within that error is
// decided by exact integer comparison of squares (d R vs M <=> d^2 n vs M^2 (sum z^2 + n eps)),
// so every returned rounding is the correct one, ties included (NormRowResult::exact_decisions
// counts how often the exact path ran).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kc/ref/format.h"

namespace kc::ref {

enum class NormProfile : std::uint8_t {
  kRmsNormFp32,
  kRmsNormHf,
  kRmsNormGemma,
  kFusedFp32Sum,
  kFusedHf,
  kFusedFp32SumHfCast,
  kFusedGemma,
  kFusedLegacyMixed,
};

inline constexpr NormProfile kAllNormProfiles[] = {
    NormProfile::kRmsNormFp32,  NormProfile::kRmsNormHf,       NormProfile::kRmsNormGemma,
    NormProfile::kFusedFp32Sum, NormProfile::kFusedHf,         NormProfile::kFusedFp32SumHfCast,
    NormProfile::kFusedGemma,   NormProfile::kFusedLegacyMixed};

// "rmsnorm.fp32", "fused_add_rmsnorm.hf", ...
const char* profile_name(NormProfile p);
bool profile_from_name(const std::string& name, NormProfile* out);
bool is_fused(NormProfile p);
// Where the pieces of a profile come from (the profile table of DESIGN.md section 4).
enum class NormSource : std::uint8_t { kX, kSum, kRoundedSum };
struct NormStructure {
  NormSource ss_from;       // what R is taken over
  NormSource scaled;        // what R multiplies
  bool cast_before_weight;  // y = rn(w rn(u R)) instead of rn(u R w')
  bool weight_offset_one;   // w' = 1 + w
};
NormStructure profile_structure(NormProfile p);

// One row. Values are the exact values of the storage patterns (every fp16/bf16/fp32 value is a
// float). `residual` is read by fused profiles only.
struct NormRowInput {
  Format format = kBf16;  // of inputs, weight and outputs
  std::int64_t hidden = 0;
  const float* x = nullptr;
  const float* residual = nullptr;
  const float* weight = nullptr;
  float eps = 0.0f;
};

struct NormRowResult {
  // Output y: the exact value before the profile's final rounding (for kSingle u R w', for
  // cast-before-weight w rn(u R), which is dyadic and exact), and its correct rounding.
  std::vector<Exact> y_exact;
  std::vector<std::uint32_t> y_bits;
  // Fused profiles: the exact sum s and rn(s).
  std::vector<Exact> residual_exact;
  std::vector<std::uint32_t> residual_bits;
  // Intermediates, for error models: u R per element (u the scaled source), the exact
  // mean(z^2) + eps of the row (approximate, relative error < 2^-290), R itself.
  std::vector<Exact> scaled_times_r;
  Exact mean_sq_plus_eps;
  Exact inv_rms;
  // Bound on the relative error of every approximated (irrational) value above: inv_rms,
  // mean_sq_plus_eps, scaled_times_r, and y_exact where there is no cast before the weight
  // (a cast-before-weight y_exact is dyadic and exact; so are the residual values, and the
  // NaN / infinite / zero values of special rows). Below 2^-290 for hidden < 2^26. An
  // ULP-error decision closer than this to its bound is undecidable from these values
  // (compare_ulp_error in certified.h returns kUndecided for it).
  Exact approx_rel_error;
  int exact_decisions = 0;  // roundings that needed the exact integer comparison
};

// rmsnorm.fp32: y_i = rn(x_i R(x) w_i). FlashInfer, SGLang default.
NormRowResult rmsnorm_fp32(const NormRowInput& in);
// rmsnorm.hf: y_i = rn(w_i rn(x_i R(x))). HF Llama/Qwen, vLLM, SGLang cast_x_before_out_mul.
NormRowResult rmsnorm_hf(const NormRowInput& in);
// rmsnorm.gemma: y_i = rn(x_i R(x) (1 + w_i)). HF Gemma.
NormRowResult rmsnorm_gemma(const NormRowInput& in);
// fused_add_rmsnorm.fp32_sum: res_i = rn(s_i); y_i = rn(s_i R(s) w_i). FlashInfer >= PR 587.
NormRowResult fused_add_rmsnorm_fp32_sum(const NormRowInput& in);
// fused_add_rmsnorm.hf: res_i = rn(s_i); y_i = rn(w_i rn(rn(s_i) R(rn(s)))). HF decoder layer,
// vLLM CUDA.
NormRowResult fused_add_rmsnorm_hf(const NormRowInput& in);
// fused_add_rmsnorm.fp32_sum_hf_cast: res_i = rn(s_i); y_i = rn(w_i rn(s_i R(s))). SGLang
// cast_x_before_out_mul.
NormRowResult fused_add_rmsnorm_fp32_sum_hf_cast(const NormRowInput& in);
// fused_add_rmsnorm.gemma: res_i = rn(s_i); y_i = rn(rn(s_i) R(rn(s)) (1 + w_i)). HF Gemma.
NormRowResult fused_add_rmsnorm_gemma(const NormRowInput& in);
// fused_add_rmsnorm.legacy_mixed: res_i = rn(s_i); y_i = rn(rn(s_i) R(s) w_i): the variance of
// the fp32 sum, the scale of the rounded sum. Known-bad (FlashInfer <= 0.1.6, fixed by its
// PR 587); kept to classify subjects.
NormRowResult fused_add_rmsnorm_legacy_mixed(const NormRowInput& in);

// Dispatch by profile.
NormRowResult evaluate(NormProfile p, const NormRowInput& in);

// Exact values of single elements of a row, bit for bit the ones evaluate() returns, without
// evaluating the whole row at 320 bits: for comparisons that need exact values only here and
// there (the worst element of a case, elements near their bound; rmsnorm_fast.h gives the rest).
//
// evaluate() sums the squares with 320-bit additions; when every square and partial sum fits in
// 320 bits (all of them are multiples of 2^m, m the lowest set bit of any square, and at most the
// total S: S < 2^(m + 320) suffices), that sum is the exact S. Here S is formed exactly with a
// fixed-point accumulator (a few nanoseconds an element) and the condition checked; R, q and each
// element then come from evaluate()'s own code (InvRms, evaluate_element in rmsnorm.cpp) applied
// to the same values, so every Exact is the same number. Rows that fail the condition (squares
// spanning more than 320 bits), special rows (NaN or infinite inputs, an overflowed rn(s) the
// profile uses) and hidden < 1 are evaluated whole by evaluate() once, at construction.
// The input's arrays must outlive the object. Not thread-safe (values are computed lazily).
class NormRowExact {
 public:
  NormRowExact(NormProfile p, const NormRowInput& in);
  NormRowExact(const NormRowExact&) = delete;
  NormRowExact& operator=(const NormRowExact&) = delete;
  ~NormRowExact();

  // evaluate() ran for the whole row (see the class comment).
  bool evaluated_whole_row() const;
  // NormRowResult's fields of the same names.
  const Exact& mean_sq_plus_eps() const;
  const Exact& inv_rms() const;
  const Exact& approx_rel_error() const;

  struct Element {
    Exact y_exact;
    Exact scaled_times_r;
    std::uint32_t y_bits = 0;
  };
  // Element i (0 <= i < hidden), as evaluate() returns it.
  Element element(std::int64_t i);
  // The exact sum s = x + r of a fused profile's element i (residual_exact).
  Exact residual_exact(std::int64_t i) const;

  // The exact sign (-1, 0, 1) of y - d, y the exact real value of element i before its final
  // rounding (u R w', or w rn(u R)) and d finite: decided with the dyadic comparison of squares
  // (rmsnorm.h's certification), so also where the 320-bit y_exact cannot tell. Where R is not
  // finite and nonzero (special rows) y_exact is the exact IEEE result and is compared as such.
  int compare_y(std::int64_t i, const Exact& d);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kc::ref

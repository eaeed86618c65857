// The norm family (rmsnorm, fused_add_rmsnorm) as a subject's author sees its cases: the two
// ops' tensors in order, the family's case parameters and value classes, and kconform's kernel
// arguments built from a case. The family itself (generation, reference comparison, bounds,
// reports) is properties/src/rmsnorm/.
//
// Tensors (the order of the pointers a subject's run() receives):
//   rmsnorm:            0 input [T, hidden], 1 weight [hidden], 2 output [T, hidden]
//   fused_add_rmsnorm:  0 input, 1 residual, 2 weight [hidden], 3 output, 4 residual_out
// An in-place output (TensorLayout::in_place) is its input's memory: the same pointer, and the
// input's row stride applies (the output's own row_stride is then unused).
// Parameters: "hidden" (int) and "eps" (fp32). The family claims hidden up to kMaxHidden (65536)
// and num_tokens up to 2^31 (Family::claims); a subject that supports other sizes states them
// (Subject::claims: {"hidden", N}), and the generators reach them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "kc/kernels/rmsnorm.h"
#include "kc/props/case.h"

namespace kc::props {

inline constexpr const char* kNormFamily = "rmsnorm";

// Tensor indices.
struct RmsNormTensors {
  static constexpr int kInput = 0, kWeight = 1, kOutput = 2;
};
struct FusedAddRmsNormTensors {
  static constexpr int kInput = 0, kResidual = 1, kWeight = 2, kOutput = 3, kResidualOut = 4;
};

inline std::int64_t norm_hidden(const Case& c) { return c.param_int("hidden"); }
inline float norm_eps(const Case& c) { return c.param_fp32("eps"); }
inline void set_norm_hidden(Case& c, std::int64_t h) { c.set_int("hidden", h); }
inline void set_norm_eps(Case& c, float e) { c.set_fp32("eps", e); }

// How the values of one row are drawn (the family's row-class table, in this order).
enum class NormRowClass : std::uint8_t {
  kNormal,        // N(0, sigma), sigma drawn per row from {2^-4, 1, 2^4}
  kTiny,          // magnitudes 2^-24 .. 2^-12
  kHuge,          // large but in range: fp16 up to 2^15, bf16/fp32 up to 2^40
  kSubnormal,     // subnormals of the storage format (and zeros)
  kZero,          // +-0
  kConstant,      // one value repeated
  kOneHot,        // zeros and one nonzero element
  kAlternating,   // +c, -c, +c, ...
  kEpsDominated,  // mean(x^2) far below eps
  kCount
};
// How the weight is drawn (the family's weight-class table, in this order).
enum class NormWeightClass : std::uint8_t {
  kNormal,        // 1 + N(0, 0.1)
  kOnes,          //
  kNearMinusOne,  // -1 + small (Gemma's 1 + w near 0)
  kWide,          // N(0, 4): signs and magnitudes
  kCount
};
inline void set_norm_classes(Case& c, std::initializer_list<NormRowClass> rows,
                             NormWeightClass weight) {
  c.row_classes.clear();
  for (NormRowClass k : rows) c.row_classes.push_back(static_cast<std::uint8_t>(k));
  c.weight_class = static_cast<std::uint8_t>(weight);
}

// A norm case with every field the family needs: the op of `profile`, `tokens` rows of `hidden`
// elements, contiguous rows (stride = hidden), out of place, normal rows and weights.
Case norm_case(const std::string& profile, DType dtype, std::int64_t tokens, std::int64_t hidden,
               float eps = 1e-6f, std::uint64_t seed = 1);

// The kernel enums that implement a profile; false for profiles no kernel of ours implements
// (fused_add_rmsnorm.legacy_mixed) and for unknown names.
bool norm_modes(const std::string& profile, ResidualSum* sum, OutputRounding* rounding,
                WeightOffset* offset);

// The profiles kconform's kernels implement (the family's table where kernel modes exist: all but
// legacy_mixed), in the table's order.
std::vector<std::string> norm_kernel_profiles();

// kconform's kernel arguments over the given per-tensor pointers (host or device), as laid out by
// the case, for the case's claimed profile.
RmsNormArgs rmsnorm_args(const Case& c, const std::vector<void*>& ptrs);
FusedAddRmsNormArgs fused_add_rmsnorm_args(const Case& c, const std::vector<void*>& ptrs);

}  // namespace kc::props

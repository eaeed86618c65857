// The qknorm_rope family (fused per-head QK-norm + RoPE) as a subject's author sees its cases:
// the op's tensors in order, the family's case parameters and value classes, and kconform's
// kernel arguments built from a case. The family itself (generation, reference comparison,
// reports) is properties/src/qknorm_rope/.
//
// Tensors (the order of the pointers a subject's run() receives):
//   qknorm_rope:  0 qkv [T, (nq + nk + nv) head_dim] (q heads, then k heads, then v heads),
//                 1 positions [T] (int32 or int64 as the case's "position_type" says; packed: one
//                   value a token, never padded),
//                 2 q_weight [head_dim] (one row), 3 k_weight [head_dim] (one row),
//                 4 output [T, (nq + nk + nv) head_dim]: in place (aliasing qkv: q and k heads
//                   overwritten, v heads untouched) or out of place (v heads copied).
// Parameters: "head_dim", "nq", "nk", "nv", "rotary_dim", "pairing" (RopePairing), "base" (fp64),
// "eps" (fp32), "yarn_factor", "yarn_low", "yarn_high", "attention_factor" (fp32; factor 1 turns
// the YaRN blend off), "position_type" (PositionType), "pos_mode" (QkPositionMode), "pos_max"
// (the largest position magnitude the case draws; the precision bucket).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kc/kernels/qknorm_rope.h"
#include "kc/props/case.h"

namespace kc::props {

inline constexpr const char* kQkFamily = "qknorm_rope";

struct QkNormRopeTensors {
  static constexpr int kQkv = 0, kPositions = 1, kQWeight = 2, kKWeight = 3, kOutput = 4;
};

// How the positions of a case's tokens are drawn from pos_max (a token's position depends only
// on its row, num_tokens and the case: batch_invariant copies positions with their rows).
enum class QkPositionMode : std::uint8_t {
  kRandom,    // uniform in [0, pos_max], or (half the tokens) within 255 below pos_max
  kArange,    // consecutive: max(pos_max - T + 1, 0) + row (a prefill chunk)
  kShuffled,  // the same set as kArange in a shuffled order (a bijection of the rows)
  kRepeated,  // pos_max - row / 3: every position three times (several sequences, one step)
  kNegative,  // -(uniform in [0, pos_max]) (the math rotates backwards; kernels must agree)
  kCount
};

// How the values of one row of qkv are drawn (the family's row-class table, in this order).
enum class QkRowClass : std::uint8_t {
  kNormal,     // N(0, sigma), sigma per row from {1/4, 1, 4}
  kLarge,      // magnitudes 2^3 .. 2^12, both signs (sums of squares far from overflow)
  kTiny,       // magnitudes 2^-14 .. 2^-8 (R large)
  kSubnormal,  // subnormals of the storage format and zeros (eps dominates)
  kZero,       // zeros (signed) and normal values mixed; whole zero heads at times
  kOutlier,    // N(0, 1) with one element a head of magnitude 2^6 .. 2^10
  kHuge,       // magnitudes near the top of the format (the fp32 sum of squares overflows)
  kMixed,      // every element from any of the above but huge
  kCount
};

// Weight classes (one class for both weights of a case).
enum class QkWeightClass : std::uint8_t {
  kNormal,  // N(1, 0.3): Qwen3's trained q_norm / k_norm weights are of this kind
  kOnes,    // exactly 1 (upstream tests use only these)
  kWide,    // N(0, 2) (signs and magnitudes vary)
  kSmall,   // magnitudes 2^-8 .. 2^-2
  kCount
};

inline std::int64_t qk_head_dim(const Case& c) { return c.param_int("head_dim"); }
inline std::int64_t qk_nq(const Case& c) { return c.param_int("nq"); }
inline std::int64_t qk_nk(const Case& c) { return c.param_int("nk"); }
inline std::int64_t qk_nv(const Case& c) { return c.param_int("nv"); }
inline std::int64_t qk_rotary_dim(const Case& c) { return c.param_int("rotary_dim"); }
inline RopePairing qk_pairing(const Case& c) {
  return static_cast<RopePairing>(c.param_int("pairing"));
}
inline PositionType qk_position_type(const Case& c) {
  return static_cast<PositionType>(c.param_int("position_type"));
}
inline QkPositionMode qk_pos_mode(const Case& c) {
  return static_cast<QkPositionMode>(c.param_int("pos_mode"));
}
inline std::int64_t qk_pos_max(const Case& c) { return c.param_int("pos_max"); }
// Elements of a token's row: (nq + nk + nv) head_dim (0 for negative counts).
std::int64_t qk_hidden(const Case& c);
// The YaRN parameters of a case.
QkRopeYarn qk_yarn(const Case& c);

// The shape of a case qk_case builds (the parameters not listed take the defaults below).
struct QkShape {
  std::int64_t head_dim = 128;
  std::int64_t nq = 2;
  std::int64_t nk = 1;
  std::int64_t nv = 1;
  std::int64_t rotary_dim = 128;
  RopePairing pairing = RopePairing::kNeox;
  double base = 1e6;
  float eps = 1e-6f;
  QkRopeYarn yarn;
  PositionType position_type = PositionType::kInt64;
  QkPositionMode pos_mode = QkPositionMode::kRandom;
  std::int64_t pos_max = 131071;
};

// A case with every field the family needs: `tokens` rows of the shape, contiguous rows, out of
// place, normal rows, normal weights.
Case qk_case(const std::string& profile, DType dtype, std::int64_t tokens, const QkShape& shape,
             std::uint64_t seed = 1);

// The kernel profile of a family profile ("qknorm_rope.exact" -> kExact); false for profiles
// the kernels do not name (fp32_angle) and other names.
bool qk_kernel_profile(const std::string& profile, QkNormRopeProfile* out);

// The profiles kconform's kernels implement (this revision: qknorm_rope.exact).
std::vector<std::string> qk_kernel_profiles();

// Position of token `row` from the case's parameters and a draw of the row's data generator
// (the value the family writes into the positions tensor).
std::int64_t qk_position(const Case& c, std::int64_t row, std::uint64_t draw);

// kconform's kernel arguments over the given per-tensor pointers, as laid out by the case.
QkNormRopeArgs qknorm_rope_args(const Case& c, const std::vector<void*>& ptrs);

// What a subject with kconform's API supports beyond the kernel's check: the positions tensor
// packed (stride 1: the API takes a flat array). kUnsupported naming the rule, else ok.
Status qk_layout_check(const Case& c);

}  // namespace kc::props

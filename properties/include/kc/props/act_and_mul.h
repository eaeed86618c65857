// The act_and_mul family (gated activations) as a subject's author sees its cases: the op's
// tensors in order, the family's case parameter and value classes, and kconform's kernel
// arguments built from a case. The family itself (generation, reference comparison, bound rules,
// reports) is properties/src/act_and_mul/.
//
// Tensors (the order of the pointers a subject's run() receives):
//   act_and_mul:  0 input [T, 2d] (gate = the first d elements of a row, up = the next d),
//                 1 output [T, d]
// Each has its own row stride (input >= 2d, output >= d). The output never aliases the input.
// Parameter: "d" (int).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "kc/kernels/act_and_mul.h"
#include "kc/props/case.h"

namespace kc::props {

inline constexpr const char* kActFamily = "act_and_mul";

struct ActAndMulTensors {
  static constexpr int kInput = 0, kOutput = 1;
};

inline std::int64_t act_d(const Case& c) { return c.param_int("d"); }
inline void set_act_d(Case& c, std::int64_t d) { c.set_int("d", d); }

// How the values of one row are drawn (the family's row-class table, in this order). The gate
// half and the up half of a row are drawn separately as each class says.
enum class ActRowClass : std::uint8_t {
  kNormal,     // gates N(0, sigma), sigma per row from {1/4, 1, 4}; ups N(0, 1)
  kTail,       // gates in the activation's negative tail (silu [-110, -80], gelu [-14, -4],
               // gelu_tanh [-11, -3]), where fp32 formulas cancel or overflow; ups N(0, 1)
  kLarge,      // gates of magnitude 2^3 .. 2^14 (act(g) = g or 0 to the last bit), both signs
  kSubnormal,  // subnormal gates of the storage format (and zeros); ups N(0, 1)
  kTiny,       // gates of magnitude 2^-24 .. 2^-12; ups N(0, 1)
  kHuge,       // gates and ups near the top of the format (products overflow)
  kZero,       // zero gates or zero ups (signed zeros)
  kMixed,      // every element from any of the above
  kCount
};

// A case with every field the family needs: `tokens` rows, d from the argument, contiguous rows
// (strides 2d and d), normal rows.
Case act_case(const std::string& profile, DType dtype, std::int64_t tokens, std::int64_t d,
              std::uint64_t seed = 1);

// The kernel modes of a profile ("act_and_mul.silu.torch" -> kSilu, kTorch); false for other
// names.
bool act_modes(const std::string& profile, Activation* act, ActRounding* rounding);

// Every profile of the family (all six have kernels), in the family table's order.
std::vector<std::string> act_kernel_profiles();

// kconform's kernel arguments over the given per-tensor pointers, as laid out by the case.
ActAndMulArgs act_and_mul_args(const Case& c, const std::vector<void*>& ptrs);

}  // namespace kc::props

// One description of a qknorm_rope call, shared by the check, the launcher and the twin: the
// argument check, the per-pair frequency constants the host computes once a call (computed in
// qknorm_rope_table.cpp, used by kernel and twin alike, so they cannot differ), and the launch
// shape (a host function with a CPU test).
#pragma once

#include <cstdint>

#include "kc/kernels/qknorm_rope.h"
#include "qknorm_rope/qknorm_rope_row.h"

namespace kc::detail {

inline constexpr int kMaxRopePairs = static_cast<int>(kMaxQkHeadDim / 2);

// Checks the arguments (qknorm_rope.h, "Contracts"): a Status naming the op, the value and the
// rule; ok for a supported call.
Status check_qk_job(const QkNormRopeArgs& a);

// True when the call writes to a separate output (v heads copied).
inline bool qk_out_of_place(const QkNormRopeArgs& a) {
  return a.output != nullptr && !(a.output == a.qkv && a.output_stride == a.qkv_stride);
}

// c_j = f_j / (2 pi) mod 1 for every pair j < rotary_dim / 2, f_j = base^(-2j / rd) g_j (g_j the
// YaRN blend), to 2^-95 relative (double-double evaluation; derivation in
// qknorm_rope_table.cpp). Only for checked arguments.
struct RopeTable {
  RopeConst c[kMaxRopePairs];
};
void rope_table(const QkNormRopeArgs& a, RopeTable* out);

// How a launch covers the work (never the arithmetic): one warp a unit, a unit one head of one
// token (q, k and, out of place, v heads; in place only q and k heads); one block a group of
// warps_per_block consecutive heads of one token (groups numbered token by token), so that the
// block computes the token's sines and cosines once for all its heads. A grid of at most eight
// waves of blocks (the blocks loop grid-stride over the groups), at most kMaxGrid blocks.
struct QkLaunchShape {
  std::int64_t units = 0;
  int warps_per_block = 8;
  std::int64_t groups_per_token = 0;  // ceil(heads / warps_per_block)
  std::int64_t groups = 0;            // num_tokens * groups_per_token
  std::int64_t blocks = 1;
  bool vector = false;  // head_dim 64/128/256 with every chunk aligned to its byte size
};
QkLaunchShape qk_launch_shape(const QkNormRopeArgs& a, bool aligned, int sms);

}  // namespace kc::detail

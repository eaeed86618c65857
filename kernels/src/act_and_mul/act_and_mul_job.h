// One description of an act_and_mul call, shared by the check, the launcher and the twin; the
// launch shape of a job (a host function: kernels/tests/act_and_mul tests it).
#pragma once

#include <cstdint>

#include "kc/kernels/act_and_mul.h"

namespace kc::detail {

// Checks the arguments (act_and_mul.h, "Contracts"): a Status naming the op, the value and the
// rule; ok for a supported call.
Status check_act_job(const ActAndMulArgs& a);

// Elements of a 16-byte vector in dtype d.
constexpr int act_vec(DType d) { return d == DType::kFp32 ? 4 : 8; }

// How a launch covers the work (never the arithmetic: every element's bits are
// act_and_mul_value's, whatever the shape). A row has `vectors` units (16-byte vectors on the
// vector path, elements otherwise). Blocks are tx x ty threads: tx = the units of a row rounded
// up to a power of two (at least 32, at most 256), ty = 256 / tx rows of the block. The grid is
// gx x gy: gx blocks across a row's units, gy blocks down the rows (at most 65535); both loop
// grid-stride, so any grid covers every unit exactly once, and the grid is capped at about
// eight waves of eight blocks an SM (a longer job reuses its blocks instead of adding launch
// overhead).
struct ActLaunchShape {
  bool vector = false;
  std::int64_t vectors = 0;
  int tx = 32;
  int ty = 1;
  std::int64_t gx = 1;
  std::int64_t gy = 1;
};
// `aligned`: every row of the gate, up and output halves starts on a 16-byte boundary and d is a
// multiple of the vector. `sms`: the device's multiprocessors.
ActLaunchShape act_launch_shape(std::int64_t rows, std::int64_t d, DType dtype, bool aligned,
                                int sms);

}  // namespace kc::detail

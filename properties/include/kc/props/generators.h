// RapidCheck generators of cases (DESIGN.md section 6). Structure is generated and shrinks:
// dtype, hidden, num_tokens, strides, offsets, in place, eps, value and weight classes, special
// value injections. Tensor data comes from the case's seed, which never shrinks. Sizes grow
// with RapidCheck's size, so small cases come first and shrinking is fast.
#pragma once

#include <rapidcheck.h>

#include <cstdint>

#include "kc/props/case.h"
#include "kc/props/subject.h"

namespace kc::props {

struct GenOptions {
  std::int64_t max_elements = std::int64_t{1} << 16;  // num_tokens * hidden cap (CPU reference)
  std::int64_t max_hidden = 16384;                    // largest supported hidden generated
  bool unsupported = true;    // sometimes generate cases outside every subject's support
  bool specials = false;      // bias toward special values (NaN/inf injections, overflow rows)
  bool empty_batches = true;  // num_tokens == 0 now and then
};

// Hidden sizes weighted toward edges: powers of two and +-1, multiples of 8 +- 4, model sizes,
// plus uniform sizes; with `unsupported`, now and then 0 or kMaxHidden + 1.
rc::Gen<std::int64_t> gen_hidden(std::int64_t cap, bool unsupported);
// Token counts: 0, 1, small, the launch-heuristic edges (127..133 SMs, 255/256/257), larger;
// scaled so that tokens * hidden stays under max_elements.
rc::Gen<std::int64_t> gen_tokens(std::int64_t hidden, std::int64_t max_elements, bool empty);
// A case for a subject.
rc::Gen<Case> gen_case(const Subject& s, const GenOptions& o);

}  // namespace kc::props

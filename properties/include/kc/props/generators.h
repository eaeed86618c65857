// RapidCheck generators of cases (DESIGN.md section 6). The core generates what every family
// shares: dtype, num_tokens, one layout per tensor (strides, offsets, in place), value classes,
// special-value injections and the data seed; the op's family generates its own parameters
// (Family::gen_params). Structure is generated and shrinks; tensor data comes from the case's
// seed, which never shrinks. Sizes grow with RapidCheck's size, so small cases come first and
// shrinking is fast.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "kc/props/case.h"
#include "kc/props/subject.h"

namespace kc::props {

struct GenOptions {
  std::int64_t max_elements = std::int64_t{1} << 16;  // num_tokens x token elements (reference)
  bool unsupported = true;    // sometimes generate cases outside every subject's support
  bool specials = false;      // bias toward special values (NaN/inf injections, overflow rows)
  bool empty_batches = true;  // num_tokens == 0 now and then
  std::vector<DType> dtypes;  // only these dtypes (intersected with the subject's; empty: all)
};

// One of several generators, picked with the given weights (zero allowed); shrinks toward the
// first choice.
template <typename T>
rc::Gen<T> weighted(std::vector<std::pair<std::size_t, rc::Gen<T>>> choices) {
  std::size_t total = 0;
  for (const auto& c : choices) total += c.first;
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, total), [choices](std::size_t k) {
    for (const auto& c : choices) {
      if (k < c.first) return c.second;
      k -= c.first;
    }
    return choices.back().second;
  });
}

// Token counts: 0, 1, small, the launch-heuristic edges (127..133 SMs, 255/256/257), larger;
// scaled so that tokens * token_elements stays under max_elements.
rc::Gen<std::int64_t> gen_tokens(std::int64_t token_elements, std::int64_t max_elements,
                                 bool empty);
// A case for a subject: its op and claimed profile, a dtype it supports (within o.dtypes).
rc::Gen<Case> gen_case(const Subject& s, const GenOptions& o);

}  // namespace kc::props

// RapidCheck generators of cases (DESIGN.md section 6). The core generates what every family
// shares: dtype, num_tokens, one layout per tensor (strides, offsets, in place), value classes,
// special-value injections and the data seed; the op's family generates its own parameters
// (Family::gen_params). Structure is generated and shrinks; tensor data comes from the case's
// seed, which never shrinks. Sizes grow with RapidCheck's size, so small cases come first and
// shrinking is fast.
//
// Shapes: a case is drawn rows first (the family's parameters, then a token count that fits the
// element budget) or, one case in four, batch first: a big batch 2^e + {-1, 0, 1} tokens
// (e from 7 up to log2 of the budget or the subject's claimed max_tokens), then the family's
// parameters within the elements per token that leaves (small rows). Every size a subject claims
// is reached at the quick level; scripts/calibration_limits.py derives by how many cases each
// power-of-two threshold of tokens and of the family's sizes is crossed (README, "Coverage").
//
// Shrinking: sizes (num_tokens, and the families' sizes that use shrink_size) shrink toward the
// smallest failing value: candidates are the small values, the powers of two and their
// neighbours, and a binary search toward the smallest, tried smallest first; injections shrink by
// removing any subset of them, then by moving each toward element (0, 0).
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

// The shrink candidates of a size v >= lo (smallest first): lo and lo + 1, the powers of two
// below v and their neighbours, and the binary search from lo toward v.
std::vector<std::int64_t> size_shrinks(std::int64_t v, std::int64_t lo);
// A size drawn by `g` (its own shrinking dropped) that shrinks by size_shrinks toward `lo`.
rc::Gen<std::int64_t> shrink_size(rc::Gen<std::int64_t> g, std::int64_t lo);

// The largest supported num_tokens the generators draw for a subject's claims: its max_tokens,
// or kDefaultMaxTokens when it claims none.
inline constexpr std::int64_t kDefaultMaxTokens = std::int64_t{1} << 31;
std::int64_t claimed_max_tokens(const SizeClaims& claims);

// Token counts: 0, 1, small, the launch-heuristic edges (127..133 SMs, 255/256/257), powers of
// two and their neighbours, uniform; at most max_tokens and such that tokens * token_elements
// stays under max_elements (one token always fits). Shrinks by shrink_size.
rc::Gen<std::int64_t> gen_tokens(std::int64_t token_elements, std::int64_t max_elements, bool empty,
                                 std::int64_t max_tokens = kDefaultMaxTokens);
// A case for a subject: its op and claimed profile, a dtype it supports (within o.dtypes).
rc::Gen<Case> gen_case(const Subject& s, const GenOptions& o);

}  // namespace kc::props

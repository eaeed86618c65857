// Internals of the act_and_mul family shared by its files: the profile in the reference's
// terms, the bound rules of peers built with fast math, and the expectation.
#pragma once

#include <memory>

#include "kc/props/act_and_mul.h"
#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/ref/act_and_mul.h"

namespace kc::props {

ref::ActProfile act_profile(const Case& c);  // the case's profile (claimed or judged)

// Bound rules a flat-ULP subject may name (BoundSpec::rules), for fp32 formulas of act built
// with fast math (FlashInfer, sgl-kernel on sm_90). Each widens what the comparison admits for
// the elements it names, and nothing else:
//  - "act_tail_to_zero": where the exact act(g) lies below 2^-126 in magnitude, or the gate is
//    below the formula's overflow point (silu: g < -88.72, where 1 + e^-g overflows fp32 and
//    x / inf gives -0), the output may be a zero of the exact value's sign (the formula lost the
//    value: a flushed or overflowed intermediate); likewise where the exact product act(g) u
//    lies below 2^-126 (an fp32 product flushed under -ftz); and, for an infinite up times an
//    activation the formula lost, NaN (0 * inf) where the profile gives an infinity. Counted as
//    flushed, not in the statistics.
//  - "act_absolute_2^-N" (N an integer, e.g. act_absolute_2^-22): the output may be off by at
//    most 2^-N |g u| beyond the flat bound: the absolute error of a formula that forms
//    1 + erf(.), 1 + tanh(.) or 1 / (1 + e^-x) in fp32 (cancellation near -1 leaves an
//    absolute, not relative, error in the factor multiplying g). The subject derives N. Where
//    that absolute error can reach act(g) itself (|act(g)| <= 2^-(N+1) |g|, up to a 2^-19
//    margin), the formula's activation may be zero, so an infinite up may give NaN (0 * inf)
//    where the profile gives an infinity.
inline constexpr const char* kActTailRule = "act_tail_to_zero";
inline constexpr const char* kActAbsoluteRulePrefix = "act_absolute_2^-";

std::unique_ptr<Expectation> act_expectation(const Case& c, const CaseBuffers& before);

}  // namespace kc::props

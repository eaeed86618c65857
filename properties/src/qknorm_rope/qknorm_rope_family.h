// Internals of the qknorm_rope family shared by its files: the profile and parameters in the
// reference's terms, a token's position as stored, and the expectation.
#pragma once

#include <memory>

#include "kc/props/buffers.h"
#include "kc/props/family.h"
#include "kc/props/qknorm_rope.h"
#include "kc/ref/qknorm_rope.h"

namespace kc::props {

ref::QkNormRopeProfile qk_profile(const Case& c);  // the case's profile (claimed or judged)
ref::QkNormRopeParams qk_ref_params(const Case& c);
// The position of token `row` as the positions tensor holds it (int32 sign-extended).
std::int64_t qk_stored_position(const Case& c, const HostTensor& positions, std::int64_t row);

// The precision bucket of a position magnitude: "pos<2^10", "pos<2^17", "pos<2^24", "pos>=2^24".
std::string qk_position_bucket(std::int64_t pos_max);

std::unique_ptr<Expectation> qk_expectation(const Case& c, const CaseBuffers& before);

}  // namespace kc::props

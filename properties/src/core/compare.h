// Byte and element comparisons between materialisations of cases, for the properties that
// compare two runs (bitwise, batch, layout, determinism, support). Messages name the tensor,
// the row and element, and both values.
#pragma once

#include <cstdint>
#include <string>

#include "kc/props/buffers.h"
#include "kc/props/family.h"

namespace kc::props {

// The first byte that differs between two materialisations of the same case ("" when none).
std::string first_difference(const OpSpec& op, const Case& c, const CaseBuffers& a,
                             const CaseBuffers& b, const char* what_a, const char* what_b);

// Input tensors (not aliased by an output) whose bytes changed ("" when none).
std::string changed_inputs(const OpSpec& op, const Case& c, const CaseBuffers& before,
                           const CaseBuffers& after);

// Output rows of every output tensor equal between two runs (row ra of a, rb of b); "" when so.
std::string compare_output_rows(const OpSpec& op, const Case& ca, const CaseBuffers& a,
                                std::int64_t ra, const Case& cb, const CaseBuffers& b,
                                std::int64_t rb);

}  // namespace kc::props

// The norm family in harness terms: profile <-> kernel modes, case -> kernel Args, row inputs
// for the reference.
#pragma once

#include <string>
#include <vector>

#include "kc/kernels/rmsnorm.h"
#include "kc/props/buffers.h"
#include "kc/props/case.h"
#include "kc/ref/rmsnorm.h"

namespace kc::props {

// The kernel enums that implement a profile; false for profiles no kernel of ours implements
// (fused_add_rmsnorm.legacy_mixed) and for unknown names.
bool norm_modes(const std::string& profile, ResidualSum* sum, OutputRounding* rounding,
                WeightOffset* offset);
ref::NormProfile norm_profile(const Case& c);  // the case's claimed profile

// Args over the given per-role base pointers (host or device), as laid out by the case.
RmsNormArgs rmsnorm_args(const Case& c, const std::vector<void*>& role_ptrs);
FusedAddRmsNormArgs fused_add_rmsnorm_args(const Case& c, const std::vector<void*>& role_ptrs);

// Placeholder addresses laid out like the case, for the pure checks (rmsnorm_subjects.cpp).
std::vector<void*> placeholder_pointers(const Case& c);

// Host pointers of each tensor role (aliased outputs repeat their input's pointer).
std::vector<void*> host_pointers(CaseBuffers& b, std::size_t roles);

// One row's inputs, captured before a run (in-place runs overwrite them).
struct NormRowData {
  std::vector<float> x, residual, weight;
};
std::vector<NormRowData> capture_norm_rows(const OpInfo& op, const Case& c, const CaseBuffers& b);

ref::NormRowInput norm_row_input(const Case& c, const NormRowData& d);

class Family;
// The norm family's reference expectations (property.h).
const Family& norm_family();

}  // namespace kc::props
